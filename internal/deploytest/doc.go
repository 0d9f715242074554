// Package deploytest tests what ships invitegate to Azure, without Azure:
//
//   - scripts/package.sh builds a zip the Functions host can run (package_test.go);
//   - infra/main.json is a well-formed ARM template that matches infra/main.bicep
//     and keeps the security settings the deployment promises (infra_test.go);
//   - scripts/deploy.sh and scripts/register-entra.sh print the plan recorded in
//     testdata/*.golden with --dry-run, refuse bad input, and take the right
//     branches against a fake az (scripts_test.go);
//   - register-entra.sh writes what it should, refuses what it should and
//     survives Graph's failures against a fake Graph (register_test.go,
//     fakegraph_test.go), and every Graph request it makes matches Graph's
//     v1.0 schema and documented rules (graphschema_test.go, with the schema
//     trimmed into testdata/graph-v1.0.csdl);
//   - the GitHub workflows pass actionlint, pin their actions, and keep the
//     release credentials away from test code (workflows_test.go,
//     releaseworkflow_test.go).
//
// The package has no non-test code besides this comment. Refresh the golden
// files with: go test ./internal/deploytest/ -run Golden -update
package deploytest
