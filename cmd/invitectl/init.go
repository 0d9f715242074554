package main

import (
	"flag"
	"fmt"
)

func initCommand() command {
	return command{
		name:     "init",
		summary:  "create the invitation table if it is missing",
		examples: []string{"invitectl init", "invitectl init --connection UseDevelopmentStorage=true"},
		run: func(c *cli, fs *flag.FlagSet) error {
			if _, err := args(fs, 0, 0, "no arguments"); err != nil {
				return err
			}
			s, err := c.open()
			if err != nil {
				return err
			}
			if err := s.Init(c.ctx); err != nil {
				return err
			}
			set, _ := c.settings()
			fmt.Fprintf(c.stdout, "table %s is ready\n", set.Where())
			return nil
		},
	}
}
