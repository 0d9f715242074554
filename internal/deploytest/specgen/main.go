// Command specgen trims Microsoft's published schemas to what infra/main.json
// uses and writes them, each with a provenance header (source repository,
// path, commit, sha256), to internal/deploytest/testdata/spec. The tests read
// only those copies, so a fresh clone runs them without the sources.
//
//	go run ./internal/deploytest/specgen -shared ../shared/spec -bicep-types-az <checkout>
//
// -shared is the folder of unchanged source files (its README names them);
// -bicep-types-az is a checkout of Azure/bicep-types-az at the commit below,
// for the type files the shared folder does not hold. A file is taken from
// -shared when it is there, else from the checkout.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/invitegate/invitegate/internal/deploytest/armschema"
)

// bicepTypesCommit is the Azure/bicep-types-az commit every type file comes
// from (the one the shared folder's README names).
const bicepTypesCommit = "1f896de2db966ad91e8f7d7d981e11d32e4f5d8d"

// typeSources are the type files a template may draw on: the name the
// shared folder gives each, and its path in Azure/bicep-types-az.
var typeSources = []struct{ shared, path string }{
	{"microsoft.web-2024-04-01.types.json", "generated/web/microsoft.web/2024-04-01/types.json"},
	{"microsoft.storage-2023-05-01.types.json", "generated/storage/microsoft.storage/2023-05-01/types.json"},
	{"microsoft.operationalinsights-2023-09-01.types.json", "generated/operationalinsights/microsoft.operationalinsights/2023-09-01/types.json"},
	{"microsoft.insights-2020-02-02.types.json", "generated/applicationinsights/microsoft.insights/2020-02-02/types.json"},
	{"microsoft.authorization-2022-04-01.types.json", "generated/authorization/microsoft.authorization/2022-04-01/types.json"},
	{"microsoft.insights-2023-06-01.types.json", "generated/applicationinsights/microsoft.insights/2023-06-01/types.json"},
	{"microsoft.insights-2023-01-01.types.json", "generated/monitor_1/microsoft.insights/2023-01-01/types.json"},
	{"microsoft.insights-2023-12-01.types.json", "generated/monitor_1/microsoft.insights/2023-12-01/types.json"},
}

// stackSource is the Functions stack record for custom handlers.
var stackSource = struct{ shared, repo, path, commit, license string }{
	shared:  "arm/functions-stacks/flex-custom-eastasia.json",
	repo:    "Azure/azure-powershell",
	path:    "src/Functions/Functions.Autorest/custom/FunctionsStackFlexData/EastAsia/custom.json",
	commit:  "cf675e13fc739b0b8adda827031ba75d50253a5b",
	license: "Apache-2.0",
}

const regenerate = "regenerate: go run ./internal/deploytest/specgen -shared <shared/spec> -bicep-types-az <checkout of Azure/bicep-types-az at the commit>"

func main() {
	shared := flag.String("shared", "", "folder of the unchanged source files (shared/spec)")
	checkout := flag.String("bicep-types-az", "", "checkout of Azure/bicep-types-az at commit "+bicepTypesCommit)
	template := flag.String("template", "infra/main.json", "ARM template whose resource types to keep")
	out := flag.String("out", "internal/deploytest/testdata/spec", "output folder")
	flag.Parse()
	if err := run(*shared, *checkout, *template, *out); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(shared, checkout, template, out string) error {
	if shared == "" {
		return fmt.Errorf("-shared is required")
	}
	used, err := templateResources(template)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	covered := map[string]bool{}
	for _, src := range typeSources {
		raw, err := readSource(filepath.Join(shared, "arm", "bicep-types-az", src.shared), checkout, src.path)
		if err != nil {
			return err
		}
		all, err := armschema.Parse(strings.NewReader(string(raw)))
		if err != nil {
			return fmt.Errorf("%s: %v", src.path, err)
		}
		var keep []string
		for _, r := range all.Resources() {
			if used[strings.ToLower(r)] {
				keep = append(keep, r)
				covered[strings.ToLower(r)] = true
			}
		}
		if len(keep) == 0 {
			os.Remove(filepath.Join(out, src.shared))
			continue
		}
		trimmed, err := all.Trim(keep)
		if err != nil {
			return fmt.Errorf("%s: %v", src.path, err)
		}
		f := armschema.TypesFile{
			Provenance: armschema.Provenance{
				Repository: "Azure/bicep-types-az",
				Path:       src.path,
				Commit:     bicepTypesCommit,
				SHA256:     sha(raw),
				License:    "MIT (LICENSE-bicep-types-az in this folder)",
				Note: fmt.Sprintf("Trimmed to the records the resource types below reach (%d of %d), renumbered; nothing else changed. %s",
					len(trimmed.Records), len(all.Records), regenerate),
			},
			Resources: keep,
			Types:     trimmed.Records,
		}
		b, err := f.Encode()
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, src.shared), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %s\n", src.shared, strings.Join(keep, ", "))
	}
	var missing []string
	for r := range used {
		if !covered[r] {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("no type file for %s: add its bicep-types-az path to typeSources", strings.Join(missing, ", "))
	}

	license, err := os.ReadFile(filepath.Join(shared, "arm", "bicep-types-az", "LICENSE"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "LICENSE-bicep-types-az"), license, 0o644); err != nil {
		return err
	}

	stack, err := os.ReadFile(filepath.Join(shared, stackSource.shared))
	if err != nil {
		return err
	}
	if !json.Valid(stack) {
		return fmt.Errorf("%s is not JSON", stackSource.shared)
	}
	sf := armschema.StackFile{
		Provenance: armschema.Provenance{
			Repository: stackSource.repo,
			Path:       stackSource.path,
			Commit:     stackSource.commit,
			SHA256:     sha(stack),
			License:    stackSource.license,
			Note:       "The record as published, unchanged, under \"stack\". " + regenerate,
		},
		Stack: stack,
	}
	b, err := json.MarshalIndent(sf, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "flex-custom.stack.json"), append(b, '\n'), 0o644)
}

// templateResources returns the lower-cased "type@apiVersion" of every
// resource in an ARM template.
func templateResources(path string) (map[string]bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t struct {
		Resources []struct {
			Type       string `json:"type"`
			APIVersion string `json:"apiVersion"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	used := map[string]bool{}
	for _, r := range t.Resources {
		used[strings.ToLower(r.Type+"@"+r.APIVersion)] = true
	}
	return used, nil
}

// readSource reads a file from the shared folder, or else from the
// checkout.
func readSource(sharedPath, checkout, repoPath string) ([]byte, error) {
	if b, err := os.ReadFile(sharedPath); err == nil {
		return b, nil
	}
	if checkout == "" {
		return nil, fmt.Errorf("%s is not in the shared folder: give -bicep-types-az", repoPath)
	}
	return os.ReadFile(filepath.Join(checkout, repoPath))
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
