package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/deploytest/armeval"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/settings"
)

// The template writes the handler's settings, and deploy.sh checks the
// values it passes to the template. These tests hold both to the rules the
// handler itself applies at start (internal/settings), so that neither can
// deploy an app that refuses to start.

// appSettings returns the app settings of the evaluated site: name → value,
// for the values known before deployment (reference() and listKeys() stay
// opaque). A name written twice is an error.
func appSettings(t *testing.T, res *armeval.Result) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range res.Resources {
		if !strings.EqualFold(r.Type, "Microsoft.Web/sites") {
			continue
		}
		props, _ := r.Body["properties"].(map[string]any)
		site, _ := props["siteConfig"].(map[string]any)
		list, ok := site["appSettings"].([]any)
		if !ok {
			t.Fatalf("site %s: appSettings is %T, want a list", r.Name, site["appSettings"])
		}
		seen := map[string]bool{}
		for _, s := range list {
			m := s.(map[string]any)
			name := m["name"].(string)
			if seen[name] {
				t.Errorf("app setting %s is written twice", name)
			}
			seen[name] = true
			if v, ok := m["value"].(string); ok {
				out[name] = v
			}
		}
		return out
	}
	t.Fatal("no Microsoft.Web/sites resource")
	return nil
}

// TestTemplateAppSettingsPassHandlerChecks evaluates main.json for every
// deployment and starts the handler's settings check (settings.FromEnv)
// on the app settings it would write, with the variables the platform adds:
// each must pass. It also checks the handler's optional settings: the email
// issuers and the sign-up window always written, with the template's
// defaults when not given; the log hash key written only when given.
func TestTemplateAppSettingsPassHandlerChecks(t *testing.T) {
	raw := readMainJSON(t)
	tmpl := readJSONTemplate(t)
	params := tmpl["parameters"].(map[string]any)
	def := func(name string) string { return params[name].(map[string]any)["defaultValue"].(string) }
	withKey := 0
	for _, d := range deployments() {
		res := evaluate(t, raw, d)
		env := appSettings(t, res)
		sku := "FlexConsumption"
		if d.params["plan"] == "premium" {
			sku = "ElasticPremium"
		}
		platform := map[string]string{"WEBSITE_SITE_NAME": res.Variables["functionAppName"].(string), "WEBSITE_SKU": sku}
		getenv := func(name string) string {
			if v, ok := env[name]; ok {
				return resolvedByPlatform(v)
			}
			return platform[name]
		}
		h, err := settings.FromEnv(getenv)
		if err != nil {
			t.Errorf("%s: the handler would refuse to start: %v", d.name, err)
			continue
		}

		given := func(name string) string {
			if v, ok := d.params[name].(string); ok {
				return v
			}
			return def(name)
		}
		if got, want := env["INVITE_EMAIL_ISSUERS"], given("emailIssuers"); got != want {
			t.Errorf("%s: INVITE_EMAIL_ISSUERS = %q, want %q", d.name, got, want)
		}
		if got, want := env["INVITE_SIGNUP_WINDOW"], given("signupWindow"); got != want {
			t.Errorf("%s: INVITE_SIGNUP_WINDOW = %q, want %q", d.name, got, want)
		}
		key, _ := d.params["logHashKey"].(string)
		got, written := env["INVITE_LOG_HASH_KEY"]
		switch {
		case key == "" && written:
			t.Errorf("%s: INVITE_LOG_HASH_KEY is written (%d characters) without a logHashKey", d.name, len(got))
		case key != "" && got != key:
			t.Errorf("%s: INVITE_LOG_HASH_KEY is not the logHashKey given (written: %v)", d.name, written)
		case h.Hasher.Enabled() != (key != ""):
			t.Errorf("%s: email digests enabled = %v, want %v", d.name, h.Hasher.Enabled(), key != "")
		}
		if key != "" {
			withKey++
		}
	}
	if withKey == 0 {
		t.Error("no deployment gives a logHashKey: the conditional setting is untested")
	}

	// The defaults are the handler's own.
	if h, err := settings.EmailIssuers(func(string) string { return def("emailIssuers") }); err != nil || !slices.Equal(h, settings.DefaultEmailIssuers) {
		t.Errorf("emailIssuers default %q reads as %q (%v), want the handler's default %q", def("emailIssuers"), h, err, settings.DefaultEmailIssuers)
	}
	if d, err := time.ParseDuration(def("signupWindow")); err != nil || d != server.DefaultSignupWindow {
		t.Errorf("signupWindow default %q, want the handler's default %s", def("signupWindow"), server.DefaultSignupWindow)
	}

	// The key is a secret: a secure parameter, never in an output.
	if typ := params["logHashKey"].(map[string]any)["type"]; typ != "securestring" {
		t.Errorf("logHashKey is a %v, want a securestring (@secure() in main.bicep)", typ)
	}
	outputs, _ := json.Marshal(tmpl["outputs"])
	if strings.Contains(string(outputs), "logHashKey") || strings.Contains(string(outputs), "logHashKeySettings") {
		t.Error("an output reads the log hash key")
	}
}

// TestSignupWindowPattern: the pattern main.json documents for signupWindow
// is the one deploy.sh checks, and what it accepts within 1m-24h the handler
// reads as the same duration.
func TestSignupWindowPattern(t *testing.T) {
	tmpl := readJSONTemplate(t)
	meta := tmpl["parameters"].(map[string]any)["signupWindow"].(map[string]any)["metadata"].(map[string]any)
	pattern, _ := meta["pattern"].(string)
	re := regexp.MustCompile(pattern)
	deploy, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(deploy), "[[ $signup_window =~ "+pattern+" ]]") {
		t.Errorf("scripts/deploy.sh does not check --signup-window against the template's pattern %s", pattern)
	}
	for _, v := range []string{"30m", "1m", "24h", "1h30m", "90s", "0h1m0s", "08m", "86400s", "99999h"} {
		if !re.MatchString(v) {
			t.Errorf("the signupWindow pattern refuses %q", v)
		}
		if _, err := time.ParseDuration(v); err != nil {
			t.Errorf("the signupWindow pattern accepts %q, which Go cannot parse: %v", v, err)
		}
	}
	for _, v := range []string{"30", "1d", "30M", "-30m", "1.5h", "30m1h", "100000s", " 30m"} {
		if re.MatchString(v) {
			t.Errorf("the signupWindow pattern accepts %q", v)
		}
	}
}

// TestDeployHandlerSettingsAgreeWithHandler runs deploy.sh --dry-run with
// values of --email-issuers, --signup-window and --log-hash-key-file, and
// compares its verdict with the handler's (internal/settings): what the
// script passes, the handler must accept, and reads the same; what the
// script refuses, the handler must refuse too, unless the case says why the
// script is stricter.
func TestDeployHandlerSettingsAgreeWithHandler(t *testing.T) {
	base := []string{"--resource-group", "rg", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience, "--publisher", "az", "--dry-run"}
	tools := toolsDir(t)
	plan := regexp.MustCompile(`--parameters (.*) --query`)
	type handlerRule func(getenv func(string) string) (any, error)
	issuers := func(getenv func(string) string) (any, error) { return settings.EmailIssuers(getenv) }
	window := func(getenv func(string) string) (any, error) {
		return settings.Duration(getenv, "INVITE_SIGNUP_WINDOW", server.DefaultSignupWindow, settings.MinSignupWindow, settings.MaxSignupWindow, "")
	}
	hasher := func(getenv func(string) string) (any, error) {
		h, err := settings.LogHasher(getenv)
		return h.Enabled(), err
	}
	tests := []struct {
		option   string
		value    string // for --log-hash-key-file: the file's content
		stricter string // why the script refuses what the handler accepts
	}{
		{option: "--email-issuers", value: "google.com"},
		{option: "--email-issuers", value: "none"},
		{option: "--email-issuers", value: " NONE "},
		{option: "--email-issuers", value: "google.com,facebook.com"},
		{option: "--email-issuers", value: " google.com , facebook.com,"},
		{option: "--email-issuers", value: "google.com,,https://login.partner.example/tenant/v2.0"},
		{option: "--email-issuers", value: ","},
		{option: "--email-issuers", value: "mail"},
		{option: "--email-issuers", value: "google.com,Phone"},
		{option: "--email-issuers", value: "google.com facebook.com"},
		{option: "--email-issuers", value: "google.com,\tfacebook.com x"},
		{option: "--email-issuers", value: "google.com\nfacebook.com"},
		{option: "--email-issuers", value: "none,google.com", stricter: "the handler would trust an issuer named none"},
		{option: "--signup-window", value: "30m"},
		{option: "--signup-window", value: "1m"},
		{option: "--signup-window", value: "24h"},
		{option: "--signup-window", value: "1h30m"},
		{option: "--signup-window", value: "60s"},
		{option: "--signup-window", value: "86400s"},
		{option: "--signup-window", value: "08m"},
		{option: "--signup-window", value: "0h1m0s"},
		{option: "--signup-window", value: "59s"},
		{option: "--signup-window", value: "86401s"},
		{option: "--signup-window", value: "24h1s"},
		{option: "--signup-window", value: "99999h"},
		{option: "--signup-window", value: "30"},
		{option: "--signup-window", value: "1d"},
		{option: "--signup-window", value: "-30m"},
		{option: "--signup-window", value: "30M"},
		{option: "--signup-window", value: "1.5h", stricter: "whole units only, the template's pattern"},
		{option: "--signup-window", value: "3600000ms", stricter: "whole units only, the template's pattern"},
		{option: "--signup-window", value: "000001m", stricter: "at most 5 digits a unit, the template's pattern"},
		{option: "--log-hash-key-file", value: "0123456789abcdef"},
		{option: "--log-hash-key-file", value: strings.Repeat("a1", 32) + "\n"},
		{option: "--log-hash-key-file", value: "  0123456789abcdef \n\n"},
		{option: "--log-hash-key-file", value: `key with "quotes" and \backslashes\`},
		{option: "--log-hash-key-file", value: "@Microsoft.KeyVault(SecretUri=https://kv-invgate.vault.azure.net/secrets/log-hash-key/)\n"},
		{option: "--log-hash-key-file", value: "0123456789abcde"},
		{option: "--log-hash-key-file", value: "  0123456789abcde  \n"},
		{option: "--log-hash-key-file", value: "\n", stricter: "an empty key file is a mistake; leave the option out for no digest"},
		{option: "--log-hash-key-file", value: "01234567\n89abcdef", stricter: "a key of two lines is a mistake"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %q", tt.option, tt.value), func(t *testing.T) {
			dir := t.TempDir()
			var setting string
			var rule handlerRule
			arg := tt.value
			switch tt.option {
			case "--email-issuers":
				setting, rule = "INVITE_EMAIL_ISSUERS", issuers
			case "--signup-window":
				setting, rule = "INVITE_SIGNUP_WINDOW", window
			case "--log-hash-key-file":
				setting, rule, arg = "INVITE_LOG_HASH_KEY", hasher, "key.txt"
				if err := os.WriteFile(filepath.Join(dir, arg), []byte(tt.value), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, handlerErr := rule(func(name string) string {
				if name == setting {
					return resolvedByPlatform(tt.value)
				}
				return ""
			})
			r := runScriptIn(t, dir, scriptEnv(tools), "scripts/deploy.sh", append(slices.Clone(base), tt.option, arg)...)
			switch {
			case r.code == 0 && handlerErr != nil:
				t.Errorf("deploy.sh passes what the handler refuses at start (%v); plan:\n%s", handlerErr, r.stdout)
			case r.code == 0:
				// The value the plan passes reads as the value given.
				m := plan.FindStringSubmatch(r.stdout)
				if m == nil {
					t.Fatalf("no deployment in the plan:\n%s", r.stdout)
				}
				if tt.option == "--log-hash-key-file" {
					if !strings.Contains(m[1], "'logHashKey=<from key.txt>'") || strings.Contains(r.stdout, strings.TrimSpace(tt.value)) {
						t.Errorf("the plan does not show logHashKey=<from key.txt>, or shows the key: %s", m[1])
					}
					return
				}
				param := map[string]string{"--email-issuers": "emailIssuers=", "--signup-window": "signupWindow="}[tt.option]
				var passed string
				for _, word := range strings.Fields(m[1]) {
					if v, ok := strings.CutPrefix(word, param); ok {
						passed = v
					}
				}
				got, err := rule(func(name string) string {
					if name == setting {
						return passed
					}
					return ""
				})
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("deploy.sh passes %s%s, which the handler reads as %v (%v), but %q as %v", param, passed, got, err, tt.value, want)
				}
			case r.code != 2 || !strings.Contains(r.stderr, tt.option) || r.stdout != "":
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 2 and a message naming %s", r.code, r.stdout, r.stderr, tt.option)
			case handlerErr == nil && tt.stricter == "":
				t.Errorf("deploy.sh refuses what the handler accepts (as %v): %s", want, firstLine(r.stderr))
			case handlerErr != nil && tt.stricter != "":
				t.Errorf("the case says deploy.sh is stricter, but the handler refuses it too: %v", handlerErr)
			default:
				t.Logf("refused: %s", firstLine(r.stderr))
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// keyFakeAz is a fake az for the runs of deploy.sh with a log hash key, in
// a folder of its own: it logs its arguments (calls); on the deployment it
// lists the processes whose command line holds the key (seen), and keeps
// the @FILE parameters file's path (where), mode (mode) and a copy (copied),
// then runs then (shell code) and returns no outputs.
type keyFakeAz struct {
	key, keyFile, path                     string
	calls, seen, where, mode, copied, then string
}

func newKeyFakeAz(t *testing.T, then string) *keyFakeAz {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("the deploy script checks that go is installed: go must be on PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	f := &keyFakeAz{
		key:     fmt.Sprintf(`k3y-"quoted"\back-%d-0123456789`, time.Now().UnixNano()),
		keyFile: filepath.Join(dir, "log-hash.key"),
		calls:   filepath.Join(dir, "calls"), seen: filepath.Join(dir, "seen"), where: filepath.Join(dir, "where"),
		mode: filepath.Join(dir, "mode"), copied: filepath.Join(dir, "params.json"), then: then,
	}
	if err := os.WriteFile(f.keyFile, []byte(f.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tool := func(name string) string {
		p, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("the fake az needs %s: %v", name, err)
		}
		return p
	}
	q := func(s string) string { return "'" + s + "'" }
	// /proc/*/cmdline is every process's command line on Linux; grep reads
	// the key from the key file, so its own command line does not hold it.
	script := `#!/bin/sh
printf '%s\n' "$*" >>` + q(f.calls) + `
case "$*" in
"account show --query name"*) echo "Test subscription" ;;
"account show"*) ;;
"group create"*) ;;
"deployment group create"*)
  if [ -r /proc/self/cmdline ]; then ` + q(tool("grep")) + ` -lF -f ` + q(f.keyFile) + ` /proc/[0-9]*/cmdline >` + q(f.seen) + ` 2>/dev/null; fi
  for a in "$@"; do
    case $a in
      @*) p=${a#@}; echo "$p" >` + q(f.where) + `; ` + q(tool("stat")) + ` -c %a "$p" >` + q(f.mode) + `; ` + q(tool("cp")) + ` "$p" ` + q(f.copied) + ` ;;
    esac
  done
  ` + then + ` ;;
*) echo "fake az: no answer for: $*" >&2; exit 97 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	f.path = bin + string(os.PathListSeparator) + toolsDir(t) + string(os.PathListSeparator) + filepath.Dir(goBin)
	return f
}

// args are deploy.sh's arguments, with the key file.
func (f *keyFakeAz) args() []string {
	return []string{"--resource-group", "rg-invitegate", "--location", "westeurope", "--name", "invgate",
		"--tenant-id", tenantID, "--audience", audience, "--plan", "premium", "--publisher", "az", "--log-hash-key-file", f.keyFile}
}

// checkFileGone fails unless az got a parameters file and it no longer exists.
func (f *keyFakeAz) checkFileGone(t *testing.T) {
	t.Helper()
	w, err := os.ReadFile(f.where)
	if err != nil {
		t.Fatalf("az got no @parameters file: %v", err)
	}
	if _, err := os.Stat(strings.TrimSpace(string(w))); !os.IsNotExist(err) {
		t.Errorf("the parameters file %s was left behind (%v)", strings.TrimSpace(string(w)), err)
	}
}

// TestDeployLogHashKeyOffCommandLines runs deploy.sh for real against a fake
// az, with a log hash key that holds JSON's special characters. While az
// runs, no process's command line on this machine holds the key; az gets it
// in a parameters file that only its owner can read, which holds exactly
// the key, and which is gone when the script ends (here with an error,
// because the fake deployment returns no outputs).
func TestDeployLogHashKeyOffCommandLines(t *testing.T) {
	f := newKeyFakeAz(t, ":")
	r := runScript(t, scriptEnv(f.path), "scripts/deploy.sh", f.args()...)
	if r.code != 1 || !strings.Contains(r.stderr, "expected 4 outputs from the deployment") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the fake deployment's missing outputs to stop the script", r.code, r.stderr)
	}
	calls, err := os.ReadFile(f.calls)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"az's arguments": string(calls), "stdout": r.stdout, "stderr": r.stderr} {
		if strings.Contains(text, f.key) || strings.Contains(text, "logHashKey=") {
			t.Errorf("%s hold the key or a logHashKey= argument:\n%s", name, text)
		}
	}
	if _, err := os.Stat("/proc/self/cmdline"); err == nil {
		found, err := os.ReadFile(f.seen)
		if err != nil {
			t.Fatalf("the fake az did not look at the process list: %v", err)
		}
		if len(strings.TrimSpace(string(found))) > 0 {
			t.Errorf("while az ran, the key was on the command line of: %s", found)
		}
	} else {
		t.Log("no /proc: the process list was not searched")
	}

	m, err := os.ReadFile(f.mode)
	if err != nil {
		t.Fatalf("az got no @parameters file: %v\ncalls:\n%s", err, calls)
	}
	if got := strings.TrimSpace(string(m)); got != "600" {
		t.Errorf("the parameters file has mode %s, want 600 (owner only)", got)
	}
	raw, err := os.ReadFile(f.copied)
	if err != nil {
		t.Fatal(err)
	}
	// azure-cli reads a parameters file's "parameters" object (resource
	// module, _process_parameters).
	var file struct {
		Parameters map[string]struct {
			Value any `json:"value"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("the parameters file is not JSON: %v", err)
	}
	if len(file.Parameters) != 1 || file.Parameters["logHashKey"].Value != f.key {
		t.Errorf("the parameters file holds %d parameters, logHashKey %s; want exactly the key",
			len(file.Parameters), map[bool]string{true: "right", false: "wrong"}[file.Parameters["logHashKey"].Value == f.key])
	}
	f.checkFileGone(t)
}

// TestDeployLogHashKeyFileRemovedOnSignal: when the script is stopped while
// az deploys (Ctrl-C, a cancelled CI job: the signal goes to the whole
// process group), it ends through exit with 128+signal, so that its EXIT
// trap runs, and the parameters file with the key is gone.
func TestDeployLogHashKeyFileRemovedOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			ready := filepath.Join(t.TempDir(), "ready")
			f := newKeyFakeAz(t, ": >'"+ready+"'; exec sleep 60")
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, append([]string{filepath.Join(repoRoot(t), "scripts", "deploy.sh")}, f.args()...)...)
			cmd.Dir, cmd.Env = t.TempDir(), scriptEnv(f.path)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			for i := 0; ; i++ {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				if i == 600 {
					t.Fatal("the fake deployment did not start within 60 s")
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := syscall.Kill(-cmd.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 128+int(sig) {
				t.Errorf("the script ended with %v, want exit %d", err, 128+int(sig))
			}
			f.checkFileGone(t)
		})
	}
}

// resolvedByPlatform is what the handler reads for an app setting value:
// App Service replaces a Key Vault reference with the secret before the
// process starts (here, a stand-in secret). An unresolved reference would
// reach the handler as its text, which the handler refuses.
func resolvedByPlatform(v string) string {
	if strings.HasPrefix(strings.ToLower(v), "@microsoft.keyvault(") {
		return "secret-from-key-vault-0123456789abcdef"
	}
	return v
}
