package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// workflowJobs splits a workflow into its jobs' text, by the two-space
// indented keys under "jobs:" (the workflows here are plain block YAML).
func workflowJobs(t *testing.T, wf string) map[string]string {
	t.Helper()
	_, jobs, ok := strings.Cut(wf, "\njobs:\n")
	if !ok {
		t.Fatal("no jobs:")
	}
	out := map[string]string{}
	var name string
	key := regexp.MustCompile(`^  ([A-Za-z0-9_-]+):\s*$`)
	for _, line := range strings.Split(jobs, "\n") {
		if m := key.FindStringSubmatch(line); m != nil {
			name = m[1]
			continue
		}
		if name != "" {
			out[name] += line + "\n"
		}
	}
	return out
}

var pinnedUse = regexp.MustCompile(`^\s*(- )?uses: [A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$`)

// TestWorkflowsPinActions: every action is pinned to a commit SHA, with the
// tag it stands for as a comment.
func TestWorkflowsPinActions(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	if len(files) < 2 {
		t.Fatalf("workflows: %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.Contains(line, "uses:") && !pinnedUse.MatchString(line) {
				t.Errorf("%s:%d: not pinned to a commit SHA with its tag: %s", filepath.Base(f), i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestReleaseWorkflowKeepsCredentialsFromTests: in deploy.yml the tests run in
// a job that cannot mint the OIDC token, and the job that can (in the
// protected production environment) runs no tests, installs nothing beyond
// the Go build, restores no cache, and comes after the tests.
func TestReleaseWorkflowKeepsCredentialsFromTests(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".github", "workflows", "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	wf := string(raw)
	head, _, _ := strings.Cut(wf, "\njobs:\n")
	if regexp.MustCompile(`(?m)^[^#]*id-token`).MatchString(head) {
		t.Error("id-token is granted to the whole workflow; grant it to the deploy job only")
	}
	jobs := workflowJobs(t, wf)
	var testJobs, credJobs []string
	for name, job := range jobs {
		runsTests := strings.Contains(job, "scripts/test.sh") || strings.Contains(job, "go test")
		if runsTests {
			testJobs = append(testJobs, name)
		}
		if !strings.Contains(job, "id-token: write") {
			continue
		}
		credJobs = append(credJobs, name)
		if runsTests {
			t.Errorf("job %s has id-token: write and runs tests", name)
		}
		for _, banned := range []string{"npm ", "setup-node", "pip ", "go install", "go get", "actions/cache", "download-artifact"} {
			if strings.Contains(job, banned) {
				t.Errorf("job %s has id-token: write and installs or restores something (%s)", name, banned)
			}
		}
		if !strings.Contains(job, "cache: false") {
			t.Errorf("job %s: setup-go must not restore a cache another job wrote (cache: false)", name)
		}
		if !strings.Contains(job, "environment: production") {
			t.Errorf("job %s: the OIDC token must come from the protected production environment", name)
		}
		if !strings.Contains(job, "uses: azure/login@") || !strings.Contains(job, "uses: Azure/functions-action@") {
			t.Errorf("job %s should be the one that signs in and deploys", name)
		}
	}
	if len(testJobs) != 1 || len(credJobs) != 1 {
		t.Fatalf("want one test job and one job with id-token: write, got %v and %v", testJobs, credJobs)
	}
	if !strings.Contains(jobs[credJobs[0]], "needs: "+testJobs[0]) {
		t.Errorf("job %s must need %s, so nothing deploys untested", credJobs[0], testJobs[0])
	}
	if !strings.Contains(jobs[testJobs[0]], "npm ci --ignore-scripts") {
		t.Error("the test job must install Azurite with lifecycle scripts off (npm ci --ignore-scripts)")
	}
}

// TestReleaseDocsRequireProtectedEnvironment: docs/deploy.md tells how to
// protect the production environment the deploy job runs in.
func TestReleaseDocsRequireProtectedEnvironment(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, want := range []string{"Required reviewers", "Deployment branches and tags", "`v*`", "repo:<owner>/<repo>:environment:production"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/deploy.md lacks %q", want)
		}
	}
}
