// Command handler is the invite-only gate: an Azure Functions custom
// handler that answers Microsoft Entra External ID's OnAttributeCollectionStart
// and OnAttributeCollectionSubmit events from an Azure Table Storage
// invitation table.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "handler: %v\n", err)
		os.Exit(1)
	}
}
