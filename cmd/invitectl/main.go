// Command invitectl manages the invitations of the invite-only gate: it
// creates the table, adds, shows, revokes and deletes invitations, imports
// and exports them as CSV, lists and counts them, using the same
// INVITATIONS_* settings and store package as the handler.
//
// Exit codes: 0 success, 1 failure (store errors, nothing found), 2 usage
// (bad arguments or input).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
