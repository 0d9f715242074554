package main

import (
	"flag"
	"io"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/invitecsv"
)

func exportCommand() command {
	return command{
		name:    "export",
		summary: "write every invitation as CSV, in the format import reads",
		usage:   "[FILE|-]",
		examples: []string{
			"invitectl export > invitations.csv",
			"invitectl export backup.csv                  (written whole, or not at all)",
			"invitectl list --status revoked --output csv (the same format, filtered)",
		},
		run: func(c *cli, fs *flag.FlagSet) error {
			a, err := args(fs, 0, 1, "at most one FILE (default: standard output)")
			if err != nil {
				return err
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			name := "-"
			if len(a) == 1 {
				name = a[0]
			}
			return writeOutput(c, name, func(w io.Writer) error {
				_, err := invitecsv.Export(c.ctx, s, w, func(invite.Invitation) bool { return true })
				return err
			})
		},
	}
}
