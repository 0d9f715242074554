package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/invitegate/invitegate/internal/invite"
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
				_, err := exportCSV(c.ctx, s, w, func(invite.Invitation) bool { return true })
				return err
			})
		},
	}
}

// exportCSV writes the invitations keep selects, in key order. The
// attribute columns must be known before the header is written, so it
// reads the table twice rather than hold it in memory: once for the
// attribute names, once for the rows. It returns the number of rows.
func exportCSV(ctx context.Context, s invite.Store, w io.Writer, keep func(invite.Invitation) bool) (int, error) {
	prefill, set := map[string]bool{}, map[string]bool{}
	err := s.List(ctx, "", func(inv invite.Invitation) error {
		if keep(inv) {
			for n := range inv.Prefill {
				prefill[n] = true
			}
			for n := range inv.Set {
				set[n] = true
			}
		}
		return nil
	})
	if err != nil {
		return 0, storeError(err)
	}
	out := newCSVOut(w, prefill, set)
	if err := out.header(); err != nil {
		return 0, err
	}
	n := 0
	err = s.List(ctx, "", func(inv invite.Invitation) error {
		if !keep(inv) {
			return nil
		}
		n++
		return out.row(inv)
	})
	if err != nil {
		return n, storeError(err)
	}
	out.w.Flush()
	return n, out.w.Error()
}

// writeOutput runs write on standard output ("-") or on FILE. A file is
// written under a temporary name and renamed when complete, so a failed
// export never leaves a truncated file that looks whole.
func writeOutput(c *cli, name string, write func(io.Writer) error) error {
	if name == "-" {
		bw := bufio.NewWriterSize(c.stdout, 64<<10)
		if err := write(bw); err != nil {
			bw.Flush()
			return err
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("cannot write %s: %v", name, err)
	}
	return nil
}
