package main

import (
	"errors"
	"flag"
	"time"

	"github.com/invitegate/invitegate/internal/doctor"
)

func doctorCommand() command {
	var timeout time.Duration
	return command{
		name:    "doctor",
		summary: "check the store, the Entra settings and keys, and the clock, as the Function App would; and the SMTP server send uses",
		usage:   "[--timeout 10s]",
		examples: []string{
			"invitectl doctor",
			"ENTRA_TENANT_ID=… ENTRA_AUDIENCE=… INVITATIONS_TABLE_SERVICE_URL=https://acct.table.core.windows.net invitectl doctor",
		},
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.DurationVar(&timeout, "timeout", 10*time.Second, "how long each network check may take")
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			if _, err := args(fs, 0, 0, "no arguments"); err != nil {
				return err
			}
			// The doctor reads exactly the handler's settings; the store
			// flags override them as for every command.
			if c.connection != "" || c.serviceURL != "" || c.table != "" {
				if _, err := c.settings(); err != nil {
					return err
				}
			}
			results := doctor.Run(c.ctx, doctor.Options{Getenv: c.env, Now: c.now, Timeout: timeout}, c.stdout)
			results = append(results, doctor.RunSMTP(c.ctx, doctor.Options{Getenv: c.getenv, Timeout: timeout}, c.stdout)...)
			if doctor.Failed(results) {
				return errors.New("some checks failed; see the fixes above")
			}
			return nil
		},
	}
}
