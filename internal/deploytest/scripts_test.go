package deploytest

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the scripts' dry-run output")

// TestMain doubles as a fake az: the scripts under test find a wrapper named az
// on their PATH that runs this test binary with DEPLOYTEST_FAKE_AZ set.
func TestMain(m *testing.M) {
	if scenario := os.Getenv("DEPLOYTEST_FAKE_AZ"); scenario != "" {
		os.Exit(fakeAz(scenario, os.Args[1:], os.Stdout, os.Stderr))
	}
	if state := os.Getenv("DEPLOYTEST_FAKE_GRAPH"); state != "" {
		os.Exit(fakeGraphAz(state, os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The sample configuration of the golden files.
const (
	tenantID = "11111111-1111-1111-1111-111111111111"
	audience = "22222222-2222-2222-2222-222222222222"
	subID    = "33333333-3333-3333-3333-333333333333"
	host     = "invgate-func.azurewebsites.net"
)

// TestGoldenDryRun runs the scripts with --dry-run on a PATH that holds no az,
// func or go, so a dry run that tried to call Azure or build would fail, and
// compares the plan with testdata/<name>.golden.
func TestGoldenDryRun(t *testing.T) {
	tests := []struct {
		name   string
		script string
		args   []string
		env    []string
		files  map[string]string // written to the folder the script runs in
	}{
		{
			name:   "deploy-flex",
			script: "scripts/deploy.sh",
			args: []string{"--resource-group", "rg-invitegate", "--location", "westeurope", "--name", "invgate",
				"--tenant-id", tenantID, "--audience", audience, "--publisher", "az", "--dry-run"},
		},
		{
			// Configured from the environment, as the usage says, with
			// the handler's settings.
			name:   "deploy-premium-func",
			script: "scripts/deploy.sh",
			env: []string{"AZURE_RESOURCE_GROUP=rg-invitegate", "AZURE_LOCATION=westeurope", "INVITEGATE_NAME=invgate",
				"ENTRA_TENANT_ID=" + tenantID, "ENTRA_AUDIENCE=" + audience, "INVITEGATE_PLAN=premium",
				"INVITEGATE_PUBLISHER=func", "AZURE_SUBSCRIPTION_ID=" + subID, "INVITEGATE_DRY_RUN=1",
				"INVITEGATE_EMAIL_ISSUERS=google.com, facebook.com", "INVITEGATE_SIGNUP_WINDOW=1h",
				"INVITEGATE_LOG_HASH_KEY_FILE=log-hash.key"},
			files: map[string]string{"log-hash.key": goldenLogHashKey + "\n"},
		},
		{
			name:   "register-entra",
			script: "scripts/register-entra.sh",
			args: []string{"--tenant-id", tenantID, "--function-host", host, "--user-flow", "Invited sign-up",
				"--set-app-settings", "--resource-group", "rg-invitegate", "--app", "invgate-func",
				"--subscription", subID, "--dry-run"},
		},
		{
			name:   "register-entra-detach",
			script: "scripts/register-entra.sh",
			args:   []string{"--tenant-id", tenantID, "--user-flow", "Invited sign-up", "--detach", "--dry-run"},
		},
		{
			name:   "register-entra-no-flow",
			script: "scripts/register-entra.sh",
			args: []string{"--tenant-id", tenantID, "--function-host", host, "--display-name", "Invitegate staging",
				"--timeout-ms", "1500", "--dry-run"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			r := runScriptIn(t, dir, scriptEnv(toolsDir(t), tt.env...), tt.script, tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, want 0 and no stderr\nstderr:\n%s", r.code, r.stderr)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("dry run differs from %s (run with -update if the change is intended)\n%s",
					golden, lineDiff(string(want), r.stdout))
			}
		})
	}
}

// TestDryRunPlans reads the plans for what matters most, so that an -update
// cannot quietly bless a broken one.
func TestDryRunPlans(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	flex := read("deploy-flex")
	for _, want := range []string{
		"az group create --name rg-invitegate --location westeurope --output none",
		"--template-file infra/main.json --parameters namePrefix=invgate plan=flex entraTenantId=" + tenantID + " entraAudience=" + audience,
		"bash scripts/package.sh dist/invitegate.zip",
		"az functionapp deployment source config-zip --resource-group rg-invitegate --name '<functionAppName>' --src dist/invitegate.zip",
		"ATTRIBUTE_START_URL=<attributeStartUrl>",
	} {
		if !strings.Contains(flex, want) {
			t.Errorf("deploy-flex plan lacks %s", want)
		}
	}
	premium := read("deploy-premium-func")
	for _, want := range []string{"plan=premium", "--subscription " + subID, "(cd dist/func-publish && func azure functionapp publish '<functionAppName>' --custom",
		"emailIssuers=google.com,facebook.com signupWindow=1h 'logHashKey=<from log-hash.key>' "} {
		if !strings.Contains(premium, want) {
			t.Errorf("deploy-premium-func plan lacks %s", want)
		}
	}
	for _, plan := range []string{flex, premium} {
		if strings.Contains(plan, goldenLogHashKey) {
			t.Error("a plan shows the log hash key")
		}
	}
	for _, setting := range []string{"emailIssuers", "signupWindow", "logHashKey"} {
		if strings.Contains(flex, setting) {
			t.Errorf("deploy-flex plan sets %s although no option asked for it: the template's default applies", setting)
		}
	}
}

// goldenLogHashKey is the log hash key of the golden plans, which must never show it.
const goldenLogHashKey = "golden-log-hash-key-0123456789abcdef"

// TestScriptUsageErrors: missing or malformed arguments exit 2 with the usage,
// before anything else happens.
func TestScriptUsageErrors(t *testing.T) {
	deployArgs := []string{"--resource-group", "rg", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience}
	registerArgs := []string{"--tenant-id", tenantID, "--function-host", host}
	with := func(base []string, extra ...string) []string { return append(slices.Clone(base), extra...) }
	tests := []struct {
		script string
		args   []string
		want   string
	}{
		{"scripts/deploy.sh", nil, "missing --resource-group --location --name --tenant-id --audience"},
		{"scripts/deploy.sh", deployArgs[2:], "missing --resource-group"},
		{"scripts/deploy.sh", with(deployArgs, "--plan", "consumption"), "--plan consumption: expected flex or premium"},
		{"scripts/deploy.sh", with(deployArgs, "--publisher", "kudu"), "expected auto, func or az"},
		{"scripts/deploy.sh", with(deployArgs, "--name", "Bad_Name"), "--name Bad_Name"},
		{"scripts/deploy.sh", with(deployArgs, "--audience", "api://x"), "application (client) ID"},
		{"scripts/deploy.sh", with(deployArgs, "--frobnicate"), "unknown argument: --frobnicate"},
		{"scripts/deploy.sh", with(deployArgs, "--location"), "--location needs a value"},
		{"scripts/deploy.sh", with(deployArgs, "--log-hash-key-file"), "--log-hash-key-file needs a value"},
		{"scripts/deploy.sh", with(deployArgs, "--log-hash-key-file", "no-such-file"), "--log-hash-key-file no-such-file: cannot read it"},
		{"scripts/deploy.sh", with(deployArgs, "--signup-window", "2d"), "--signup-window 2d: write a duration in whole hours, minutes and seconds"},
		{"scripts/deploy.sh", with(deployArgs, "--signup-window", "30s"), "--signup-window 30s is out of range: use 1m to 24h"},
		{"scripts/deploy.sh", with(deployArgs, "--email-issuers", "google.com,mail"), "--email-issuers lists mail: that is a local sign-in"},
		{"scripts/deploy.sh", with(deployArgs, "--email-issuers", "google.com facebook.com"), "separate issuers with commas"},
		{"scripts/register-entra.sh", nil, "missing --tenant-id --function-host"},
		{"scripts/register-entra.sh", with(registerArgs, "--set-app-settings"), "missing --resource-group --app"},
		{"scripts/register-entra.sh", with(registerArgs, "--function-host", "https://"+host), "no https://"},
		{"scripts/register-entra.sh", with(registerArgs, "--timeout-ms", "2500"), "200 to 2000"},
		{"scripts/register-entra.sh", with(registerArgs, "--timeout-ms", "150"), "200 to 2000"},
		{"scripts/register-entra.sh", with(registerArgs, "--display-name", "it's mine"), "--display-name"},
		{"scripts/register-entra.sh", with(registerArgs, "--user-flow", `say "hi"`), "without quotes"},
		{"scripts/register-entra.sh", with(registerArgs, "--tenant-id", "contoso"), "a GUID"},
		{"scripts/register-entra.sh", []string{"--tenant-id", tenantID, "--detach"}, "missing --user-flow"},
	}
	tools := toolsDir(t)
	for _, tt := range tests {
		t.Run(filepath.Base(tt.script)+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			r := runScript(t, scriptEnv(tools), tt.script, tt.args...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "Usage: "+tt.script) {
				t.Errorf("stderr lacks %q or the usage:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

// TestScriptsNeedAz: outside a dry run, a missing, signed-out, too old or
// wrongly signed-in az stops the scripts before any change, with a clear message.
func TestScriptsNeedAz(t *testing.T) {
	deployArgs := []string{"--resource-group", "rg", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience, "--publisher", "az"}
	registerArgs := []string{"--tenant-id", tenantID, "--function-host", host}
	signedIn := []fakeRule{
		{Match: []string{"account show --query tenantId"}, Stdout: tenantID + "\n"},
		{Match: []string{"account show"}},
	}
	tests := []struct {
		name   string
		script string
		args   []string
		rules  []fakeRule // nil: no az on PATH at all
		want   string
	}{
		{"deploy without az", "scripts/deploy.sh", deployArgs, nil, "az (Azure CLI) is not installed"},
		{"register without az", "scripts/register-entra.sh", registerArgs, nil, "az (Azure CLI) is not installed"},
		{"deploy signed out", "scripts/deploy.sh", deployArgs,
			[]fakeRule{{Match: []string{"account show"}, Exit: 1, Stderr: "Please run 'az login' to setup account.\n"}},
			"az is not signed in"},
		{"register signed out", "scripts/register-entra.sh", registerArgs,
			[]fakeRule{{Match: []string{"account show"}, Exit: 1}}, "az is not signed in"},
		{"deploy with an old az", "scripts/deploy.sh", deployArgs,
			append([]fakeRule{{Match: []string{"version"}, Stdout: "2.45.0\n"}}, signedIn...),
			"az 2.45.0 is too old: Flex Consumption needs 2.60.0"},
		{"register in another tenant", "scripts/register-entra.sh", registerArgs,
			[]fakeRule{{Match: []string{"account show --query tenantId"}, Stdout: "44444444-4444-4444-4444-444444444444\n"}, {Match: []string{"account show"}}},
			"az is signed in to tenant 44444444-4444-4444-4444-444444444444, not " + tenantID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := toolsDir(t)
			var log string
			env := scriptEnv(path)
			if tt.rules != nil {
				var bin string
				bin, log, env = fakeAzEnv(t, tt.rules)
				env = scriptEnv(bin+string(os.PathListSeparator)+path, env...)
			}
			r := runScript(t, env, tt.script, tt.args...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and %q", r.code, r.stderr, tt.want)
			}
			if log != "" {
				for _, call := range readCalls(t, log) {
					if !slices.Contains([]string{"account", "version"}, call[0]) {
						t.Errorf("az %q ran before the checks failed", call)
					}
				}
			}
		})
	}
}

// TestDeployAgainstFakeAz runs deploy.sh for real (package.sh builds the zip)
// against a fake az, and checks that it publishes that zip to the app the
// deployment created, retrying while the new role assignment is not active.
func TestDeployAgainstFakeAz(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	zip := filepath.Join(t.TempDir(), "invitegate.zip")
	rules := []fakeRule{
		{Match: []string{"functionapp list-flexconsumption-runtimes --location westeurope --runtime custom"}, Stdout: "1.0\n"},
		{Match: []string{"version"}, Stdout: "2.67.0\n"},
		{Match: []string{"account show --query name"}, Stdout: "Test subscription\n"},
		{Match: []string{"account show"}},
		{Match: []string{"group create --name rg-invitegate --location westeurope"}},
		{Match: []string{"deployment group create", "plan=flex", "entraAudience=" + audience}, Stdout: strings.Join([]string{
			"invgate-func", host, "https://" + host + "/api/attributeStart", "https://" + host + "/api/attributeSubmit"}, "\n") + "\n"},
		{Match: []string{"functionapp deployment source config-zip --resource-group rg-invitegate --name invgate-func --src " + zip},
			FailFirst: 2, Stderr: "Status Code: 403\n"},
		{Match: []string{"functionapp function list"}, Stdout: "invgate-func/attributeStart\ninvgate-func/attributeSubmit\n"},
	}
	calls, r := runWithFakeAz(t, rules, "scripts/deploy.sh", []string{"--resource-group", "rg-invitegate", "--location", "westeurope",
		"--name", "invgate", "--tenant-id", tenantID, "--audience", audience, "--publisher", "az"},
		filepath.Dir(goBin), "INVITEGATE_ZIP="+zip)
	wantOut := "INVITEGATE_FUNCTION_APP=invgate-func\nINVITEGATE_FUNCTION_HOST=" + host +
		"\nATTRIBUTE_START_URL=https://" + host + "/api/attributeStart\nATTRIBUTE_SUBMIT_URL=https://" + host + "/api/attributeSubmit\n"
	if r.code != 0 || r.stdout != wantOut {
		t.Fatalf("exit %d, stdout:\n%s\nwant 0 and:\n%s\nstderr:\n%s", r.code, r.stdout, wantOut, r.stderr)
	}
	if strings.Contains(r.stderr, "WARNING") {
		t.Errorf("warned although both functions are listed:\n%s", r.stderr)
	}
	var deploys int
	for _, c := range calls {
		if slices.Contains(c, "config-zip") {
			deploys++
		}
	}
	if deploys != 3 {
		t.Errorf("config-zip ran %d times, want 3 (two 403s, then success)", deploys)
	}
	if _, err := os.Stat(zip); err != nil {
		t.Errorf("the published zip was not built: %v", err)
	}
}

// fakeRule answers the az calls whose space-joined arguments contain every
// Match string. The first matching rule wins.
type fakeRule struct {
	Match     []string
	Stdout    string
	Stderr    string // printed when the call fails
	Exit      int
	FailFirst int // fail (exit 1) the first N matching calls, then answer
}

type fakeScenario struct {
	Log   string
	Rules []fakeRule
}

// fakeAzEnv writes a scenario and an az wrapper; it returns the wrapper's
// folder, the call log, and the environment that makes the wrapper use them.
func fakeAzEnv(t *testing.T, rules []fakeRule) (bin, log string, env []string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin = filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	log = filepath.Join(dir, "calls.jsonl")
	scenario, _ := json.Marshal(fakeScenario{Log: log, Rules: rules})
	scenarioFile := filepath.Join(dir, "scenario.json")
	if err := os.WriteFile(scenarioFile, scenario, 0o644); err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nexec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A -race test binary sleeps 1 s on exit unless told not to: it runs as az many times.
	return bin, log, []string{"DEPLOYTEST_FAKE_AZ=" + scenarioFile, "GORACE=atexit_sleep_ms=0"}
}

// runWithFakeAz runs a script with the fake az first on PATH, then the script
// tools and extraPath; extra holds NAME=value environment entries.
func runWithFakeAz(t *testing.T, rules []fakeRule, script string, args []string, extra ...string) ([][]string, result) {
	t.Helper()
	bin, log, env := fakeAzEnv(t, rules)
	path := bin + string(os.PathListSeparator) + toolsDir(t)
	for _, e := range extra {
		if strings.Contains(e, "=") {
			env = append(env, e)
		} else {
			path += string(os.PathListSeparator) + e
		}
	}
	env = append(env, "INVITEGATE_RETRY_DELAY=0")
	r := runScript(t, scriptEnv(path, env...), script, args...)
	return readCalls(t, log), r
}

// fakeAz is the fake az's main: it logs the call and answers from the scenario.
func fakeAz(scenarioFile string, args []string, stdout, stderr io.Writer) int {
	raw, err := os.ReadFile(scenarioFile)
	if err != nil {
		fmt.Fprintln(stderr, "fake az:", err)
		return 99
	}
	var sc fakeScenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		fmt.Fprintln(stderr, "fake az:", err)
		return 99
	}
	previous, _ := os.ReadFile(sc.Log)
	line, _ := json.Marshal(args)
	f, err := os.OpenFile(sc.Log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(stderr, "fake az:", err)
		return 99
	}
	fmt.Fprintf(f, "%s\n", line)
	f.Close()

	joined := strings.Join(args, " ")
	for _, rule := range sc.Rules {
		if !matches(joined, rule.Match) {
			continue
		}
		seen := 0
		for _, prev := range strings.Split(strings.TrimSpace(string(previous)), "\n") {
			var prevArgs []string
			if json.Unmarshal([]byte(prev), &prevArgs) == nil && matches(strings.Join(prevArgs, " "), rule.Match) {
				seen++
			}
		}
		if seen < rule.FailFirst {
			fmt.Fprint(stderr, rule.Stderr)
			return 1
		}
		fmt.Fprint(stdout, rule.Stdout)
		if rule.Exit != 0 {
			fmt.Fprint(stderr, rule.Stderr)
		}
		return rule.Exit
	}
	fmt.Fprintf(stderr, "fake az: no rule for: az %s\n", joined)
	return 97
}

func matches(joined string, match []string) bool {
	for _, m := range match {
		if !strings.Contains(joined, m) {
			return false
		}
	}
	return true
}

func readCalls(t *testing.T, log string) [][]string {
	t.Helper()
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var args []string
		if err := json.Unmarshal([]byte(line), &args); err != nil {
			t.Fatal(err)
		}
		calls = append(calls, args)
	}
	return calls
}

// lineDiff shows the lines of got that differ from want.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
