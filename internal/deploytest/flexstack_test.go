package deploytest

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/invitegate/invitegate/internal/deploytest/armeval"
	"github.com/invitegate/invitegate/internal/deploytest/armschema"
)

// The Flex Consumption settings of the template are checked against the
// Functions stack record for custom handlers (testdata/spec, from
// Azure/azure-powershell's FunctionsStackFlexData): the runtime name and
// version, the instance memory sizes, and the bounds of maximumInstanceCount.

func flexOffer(t *testing.T) armschema.FlexOffer {
	t.Helper()
	f, err := armschema.ReadStackFile(filepath.Join("testdata", "spec", "flex-custom.stack.json"))
	if err != nil {
		t.Fatal(err)
	}
	offer, err := armschema.ParseFlexOffer(f.Stack)
	if err != nil {
		t.Fatal(err)
	}
	return offer
}

// checkFlexStack returns how a template's Flex settings differ from offer.
func checkFlexStack(raw []byte, offer armschema.FlexOffer) []string {
	var out []string
	tmpl, err := decodeTemplate(raw)
	if err != nil {
		return []string{err.Error()}
	}
	params := tmpl["parameters"].(map[string]any)
	mem := params["instanceMemoryMB"].(map[string]any)
	var allowed []int
	for _, v := range mem["allowedValues"].([]any) {
		allowed = append(allowed, int(toInt(v)))
	}
	slices.Sort(allowed)
	sizes := slices.Sorted(slices.Values(offer.MemoryMB))
	if !slices.Equal(allowed, sizes) {
		out = append(out, fmt.Sprintf("instanceMemoryMB allows %v, the stack offers %v", allowed, sizes))
	}
	if d := int(toInt(mem["defaultValue"])); d != offer.DefaultMemoryMB {
		out = append(out, fmt.Sprintf("instanceMemoryMB defaults to %d, the stack to %d", d, offer.DefaultMemoryMB))
	}
	max := params["maximumInstanceCount"].(map[string]any)
	lo, hi, def := toInt(max["minValue"]), toInt(max["maxValue"]), toInt(max["defaultValue"])
	if lo != int64(offer.LowestMaxInstances) || hi != int64(offer.HighestMaxInstances) {
		out = append(out, fmt.Sprintf("maximumInstanceCount takes %d to %d, the stack %d to %d", lo, hi, offer.LowestMaxInstances, offer.HighestMaxInstances))
	}
	if def < int64(offer.LowestMaxInstances) || def > int64(offer.HighestMaxInstances) {
		out = append(out, fmt.Sprintf("maximumInstanceCount defaults to %d, outside the stack's %d to %d", def, offer.LowestMaxInstances, offer.HighestMaxInstances))
	}
	// The evaluated site, at the bounds.
	for _, d := range []deployment{
		{"flex", map[string]any{"namePrefix": "invgate", "entraTenantId": "t", "entraAudience": "a"}},
		{"flex lowest", map[string]any{"namePrefix": "invgate", "entraTenantId": "t", "entraAudience": "a", "maximumInstanceCount": lo, "instanceMemoryMB": int64(allowed[0])}},
		{"flex highest", map[string]any{"namePrefix": "invgate", "entraTenantId": "t", "entraAudience": "a", "maximumInstanceCount": hi, "instanceMemoryMB": int64(allowed[len(allowed)-1])}},
	} {
		res, err := armeval.Evaluate(raw, deployCtx, d.params)
		if err != nil {
			out = append(out, d.name+": "+err.Error())
			continue
		}
		found := false
		for _, r := range res.Resources {
			if !strings.EqualFold(r.Type, "Microsoft.Web/sites") {
				continue
			}
			found = true
			cfg, _ := r.Body["properties"].(map[string]any)["functionAppConfig"].(map[string]any)
			rt, _ := cfg["runtime"].(map[string]any)
			if rt["name"] != offer.Runtime || rt["version"] != offer.Version {
				out = append(out, fmt.Sprintf("%s: runtime %v %v, the stack offers %s %s", d.name, rt["name"], rt["version"], offer.Runtime, offer.Version))
			}
			sc, _ := cfg["scaleAndConcurrency"].(map[string]any)
			if m := int(toInt(sc["instanceMemoryMB"])); !slices.Contains(offer.MemoryMB, m) {
				out = append(out, fmt.Sprintf("%s: instanceMemoryMB %d is not offered", d.name, m))
			}
			if n := toInt(sc["maximumInstanceCount"]); n < int64(offer.LowestMaxInstances) || n > int64(offer.HighestMaxInstances) {
				out = append(out, fmt.Sprintf("%s: maximumInstanceCount %d outside %d to %d", d.name, n, offer.LowestMaxInstances, offer.HighestMaxInstances))
			}
		}
		if !found {
			out = append(out, d.name+": no Microsoft.Web/sites resource")
		}
	}
	return out
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	case interface{ Int64() (int64, error) }:
		n, _ := x.Int64()
		return n
	}
	return -1
}

func TestFlexMatchesStack(t *testing.T) {
	offer := flexOffer(t)
	if offer.Runtime != "custom" || offer.Version == "" || len(offer.MemoryMB) == 0 || offer.LowestMaxInstances <= 0 {
		t.Fatalf("the stack record reads as %+v", offer)
	}
	for _, problem := range checkFlexStack(readMainJSON(t), offer) {
		t.Error(problem)
	}
	// A maximumInstanceCount below the stack's lowest is refused before
	// deployment, as Resource Manager refuses a parameter out of its range.
	_, err := armeval.Evaluate(readMainJSON(t), deployCtx, map[string]any{"namePrefix": "invgate", "entraTenantId": "t", "entraAudience": "a",
		"maximumInstanceCount": int64(offer.LowestMaxInstances - 1)})
	if err == nil || !strings.Contains(err.Error(), "maximumInstanceCount") {
		t.Errorf("maximumInstanceCount %d was accepted: %v", offer.LowestMaxInstances-1, err)
	}
}

// TestFlexStackCheckCanFail: the stack check reports each kind of drift.
func TestFlexStackCheckCanFail(t *testing.T) {
	offer := flexOffer(t)
	raw := string(readMainJSON(t))
	tests := []struct{ name, old, new, want string }{
		{"runtime version", `"version": "1.0"`, `"version": "1"`, "runtime custom 1, the stack offers custom 1.0"},
		{"runtime name", `"name": "custom",
        "version": "1.0"`, `"name": "go",
        "version": "1.0"`, "runtime go 1.0"},
		{"memory size not offered", "        512,\n", "        1024,\n", "instanceMemoryMB allows [1024 2048 4096]"},
		{"lowest maximum", `"minValue": 40,`, `"minValue": 1,`, "maximumInstanceCount takes 1 to 1000, the stack 40 to 1000"},
		{"highest maximum", `"maxValue": 1000,`, `"maxValue": 2000,`, "maximumInstanceCount takes 40 to 2000"},
		{"default memory", `"defaultValue": 2048,`, `"defaultValue": 4096,`, "instanceMemoryMB defaults to 4096, the stack to 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := strings.Count(raw, tt.old); n != 1 {
				t.Fatalf("the edit applies %d times to main.json, want once: update the mutation", n)
			}
			problems := checkFlexStack([]byte(strings.Replace(raw, tt.old, tt.new, 1)), offer)
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("the stack check missed it; want %q, got %q", tt.want, problems)
		})
	}
	// And a stack record that is not what it should be is refused.
	if _, err := armschema.ParseFlexOffer([]byte(`{"properties":{"majorVersions":[]}}`)); err == nil {
		t.Error("a stack record without an FC1 entry was accepted")
	}
}
