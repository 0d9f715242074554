package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestDeployRegionPreflight: with --plan flex, deploy.sh asks which custom
// runtimes Flex Consumption offers in the region before it changes
// anything, and stops with advice when 1.0 is not among them.
func TestDeployRegionPreflight(t *testing.T) {
	golden := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	check := "az functionapp list-flexconsumption-runtimes --location westeurope --runtime custom --query '[].version' --output tsv"
	flex := golden("deploy-flex")
	if i, j := strings.Index(flex, check), strings.Index(flex, "az group create"); i < 0 || i > j {
		t.Errorf("the flex dry run does not show the region check before the first change:\n%s", flex)
	}
	if strings.Contains(golden("deploy-premium-func"), "list-flexconsumption-runtimes") {
		t.Error("the premium dry run checks Flex Consumption runtimes")
	}

	args := []string{"--resource-group", "rg-invitegate", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience, "--publisher", "az"}
	signedIn := []fakeRule{
		{Match: []string{"version"}, Stdout: "2.67.0\n"},
		{Match: []string{"account show --query name"}, Stdout: "Test subscription\n"},
		{Match: []string{"account show"}},
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the deploy script checks that go is installed: go must be on PATH")
	}
	for _, tt := range []struct {
		name  string
		rules []fakeRule
	}{
		{"not offered", []fakeRule{{Match: []string{"list-flexconsumption-runtimes --location westeurope --runtime custom"}, Stdout: "\n"}}},
		{"another version only", []fakeRule{{Match: []string{"list-flexconsumption-runtimes"}, Stdout: "2.0\n"}}},
		{"no Flex in the region", []fakeRule{{Match: []string{"list-flexconsumption-runtimes"}, Exit: 1,
			Stderr: "ERROR: Location is invalid. Use: az functionapp list-flexconsumption-locations\n"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			calls, r := runWithFakeAz(t, append(tt.rules, signedIn...), "scripts/deploy.sh", args, filepath.Dir(goBin))
			if r.code != 1 || !strings.Contains(r.stderr, "does not offer runtime custom 1.0 in westeurope") || !strings.Contains(r.stderr, "use --plan premium") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and advice to use --plan premium", r.code, r.stderr)
			}
			for _, c := range calls {
				if !slices.Contains([]string{"account", "version"}, c[0]) && !slices.Contains(c, "list-flexconsumption-runtimes") {
					t.Errorf("az %q ran although the region does not offer the runtime", c)
				}
			}
		})
	}
}

// TestDeployUploadDeadline: when az's zip upload does not return (its Flex
// status poll can loop forever), deploy.sh stops it at --upload-timeout,
// does not retry it, and goes on to check that the app lists its functions.
func TestDeployUploadDeadline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the handler")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go must be on PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	log, pidFile := filepath.Join(dir, "calls"), filepath.Join(dir, "upload.pid")
	// A fake az that hangs in config-zip, as azure-cli does when the Flex
	// host's status never settles.
	script := `#!/bin/sh
echo "$*" >>` + strconv.Quote(log) + `
case "$*" in
version*) echo 2.67.0 ;;
"account show --query name"*) echo "Test subscription" ;;
"account show"*) ;;
*list-flexconsumption-runtimes*) echo 1.0 ;;
"group create"*) ;;
"deployment group create"*) printf '%s\n' invgate-func ` + host + ` https://` + host + `/api/attributeStart https://` + host + `/api/attributeSubmit ;;
*config-zip*) echo $$ >` + strconv.Quote(pidFile) + `; exec sleep 300 ;;
"functionapp function list"*) printf '%s\n' invgate-func/attributeStart invgate-func/attributeSubmit ;;
*) echo "fake az: no answer for: $*" >&2; exit 97 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	path := bin + string(os.PathListSeparator) + toolsDir(t) + string(os.PathListSeparator) + filepath.Dir(goBin)
	env := scriptEnv(path, "INVITEGATE_ZIP="+filepath.Join(dir, "invitegate.zip"), "INVITEGATE_RETRY_DELAY=0")
	r := runScript(t, env, "scripts/deploy.sh", "--resource-group", "rg-invitegate", "--location", "westeurope",
		"--name", "invgate", "--tenant-id", tenantID, "--audience", audience, "--publisher", "az", "--upload-timeout", "2")
	if r.code != 0 || !strings.Contains(r.stdout, "INVITEGATE_FUNCTION_APP=invgate-func\n") {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "the upload did not finish within 2 s") {
		t.Errorf("no word of the stopped upload in stderr:\n%s", r.stderr)
	}
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	calls := string(raw)
	if n := strings.Count(calls, "config-zip"); n != 1 {
		t.Errorf("config-zip ran %d times, want once (a stopped upload is not retried)", n)
	}
	if !strings.Contains(calls[strings.Index(calls, "config-zip"):], "functionapp function list") {
		t.Errorf("the app was not checked after the stopped upload:\n%s", calls)
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if n > 0 && syscall.Kill(n, 0) == nil {
		syscall.Kill(n, syscall.SIGKILL)
		t.Errorf("the hanging upload (pid %d) was left running", n)
	}
}

// TestDeployOptionErrors: the monitoring and upload options are checked
// before anything runs.
func TestDeployOptionErrors(t *testing.T) {
	base := []string{"--resource-group", "rg", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience, "--dry-run"}
	tools := toolsDir(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--timeout-ms", "150"}, "--timeout-ms 150: Entra takes 200 to 2000"},
		{[]string{"--timeout-ms", "2001"}, "--timeout-ms 2001: Entra takes 200 to 2000"},
		{[]string{"--timeout-ms", "1e3"}, "--timeout-ms 1e3"},
		{[]string{"--timeout-ms", "0999"}, "--timeout-ms 0999: Entra takes 200 to 2000"},
		{[]string{"--alert-email", "ops"}, "--alert-email ops: expected an email address"},
		{[]string{"--alert-email", "o'ps@example.org"}, "expected an email address"},
		{[]string{"--upload-timeout", "0"}, "--upload-timeout 0: expected seconds"},
		{[]string{"--name", "a--b-"}, "--name a--b-"},
	} {
		r := runScript(t, scriptEnv(tools), "scripts/deploy.sh", append(slices.Clone(base), tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	r := runScript(t, scriptEnv(tools), "scripts/deploy.sh", append(slices.Clone(base), "--alert-email", "ops@example.org", "--timeout-ms", "2000")...)
	if r.code != 0 || !strings.Contains(r.stdout, "entraTimeoutMs=2000 alertEmail=ops@example.org") {
		t.Errorf("exit %d, the plan lacks the alert parameters:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
