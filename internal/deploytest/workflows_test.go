package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// actionlint is pinned here; it is fetched through the Go module proxy on the
// first run and cached after that.
const actionlint = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"

// TestWorkflowsPassActionlint lints .github/workflows/*.yml (with shellcheck
// on their run: steps, when shellcheck is installed).
// INVITEGATE_SKIP_ACTIONLINT=1 skips it, e.g. offline.
func TestWorkflowsPassActionlint(t *testing.T) {
	if os.Getenv("INVITEGATE_SKIP_ACTIONLINT") == "1" {
		t.Skip("INVITEGATE_SKIP_ACTIONLINT=1")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	root := repoRoot(t)
	workflows, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	if err != nil || len(workflows) < 2 {
		t.Fatalf("want ci.yml and deploy.yml in .github/workflows, found %v (%v)", workflows, err)
	}
	args := []string{"run", actionlint, "-no-color"}
	for _, w := range workflows {
		rel, _ := filepath.Rel(root, w)
		args = append(args, rel)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestDeployWorkflow pins what the release workflow must keep: OIDC without
// stored secrets, the packaged zip deployed as it is to Flex Consumption.
func TestDeployWorkflow(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	wf := string(raw)
	for _, want := range []string{
		"tags: ['v*']",
		"id-token: write",
		"contents: read",
		"uses: azure/login@a457da9ea143d694b1b9c7c869ebb04ebe844ef5 # v2.3.0",
		"client-id: ${{ vars.AZURE_CLIENT_ID }}",
		"tenant-id: ${{ vars.AZURE_TENANT_ID }}",
		"subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}",
		"run: bash scripts/test.sh",
		"run: bash scripts/package.sh dist/invitegate.zip",
		"uses: Azure/functions-action@c5060b3b8bb1ebbcb531abd00c822ecbaa8ea656 # v1.5.7",
		"package: dist/invitegate.zip",
		"sku: flexconsumption",
		"remote-build: false",
	} {
		if !strings.Contains(wf, want) {
			t.Errorf("deploy.yml lacks %q", want)
		}
	}
	if strings.Contains(wf, "secrets.") {
		t.Error("deploy.yml reads a stored secret; it must sign in with OIDC only")
	}
}
