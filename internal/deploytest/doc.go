// Package deploytest tests what ships invitegate to Azure, without Azure:
//
//   - scripts/package.sh builds a zip the Functions host can run (package_test.go);
//   - infra/main.json is a well-formed ARM template that keeps the security
//     settings the deployment promises (infra_test.go), matches infra/main.bicep
//     declaration by declaration and value by value (parity_test.go, read with
//     the small Bicep reader in bicep_test.go), and, evaluated for every plan
//     and option (./armeval), passes the resource schemas Microsoft publishes
//     for its API versions and the Flex Consumption stack record
//     (armschema_test.go, flexstack_test.go, with ./armschema and the data
//     ./specgen trims into testdata/spec);
//   - the operator's queries (infra/queries) read fields, messages and values
//     the real handler writes, and the workbook and docs/operating.md carry
//     them unchanged (operating_test.go, workbook_test.go);
//   - scripts/deploy.sh and scripts/register-entra.sh print the plan recorded in
//     testdata/*.golden with --dry-run, refuse bad input, and take the right
//     branches against a fake az (scripts_test.go, deploy_test.go);
//   - register-entra.sh writes what it should, refuses what it should and
//     survives Graph's failures against a fake Graph (register_test.go,
//     fakegraph_test.go), and every Graph request it makes matches Graph's
//     v1.0 schema and documented rules (graphschema_test.go, with the schema
//     trimmed into testdata/graph-v1.0.csdl);
//   - the GitHub workflows pass actionlint, pin their actions, and keep the
//     release credentials away from test code (workflows_test.go,
//     releaseworkflow_test.go).
//
// Every checker has mutated inputs that it must reject. Refresh the golden
// files, infra/workbook.json and the files main.json embeds with:
// go test ./internal/deploytest/ -run 'Golden|Workbook|Embedded' -update
package deploytest
