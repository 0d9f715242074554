// Package deploytest tests what ships invitegate to Azure, without Azure:
//
//   - scripts/package.sh builds a zip the Functions host can run (package_test.go);
//   - infra/main.json is a well-formed ARM template that matches infra/main.bicep
//     and keeps the security settings the deployment promises (infra_test.go);
//   - scripts/deploy.sh and scripts/register-entra.sh print the plan recorded in
//     testdata/*.golden with --dry-run, refuse bad input, and take the right
//     branches against a fake az (scripts_test.go);
//   - the GitHub workflows pass actionlint (workflows_test.go).
//
// The package has no non-test code besides this comment. Refresh the golden
// files with: go test ./internal/deploytest/ -run Golden -update
package deploytest
