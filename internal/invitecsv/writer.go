package invitecsv

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
)

// Timestamp renders a stored time as export writes it: RFC 3339 in UTC,
// with as many fractional digits as it has; "" for none.
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// writer writes invitations with a fixed set of attribute columns.
type writer struct {
	w       *csv.Writer
	prefill []string
	set     []string
}

func (o *writer) header() error {
	cols := append([]string{}, fixedColumns...)
	for _, n := range o.prefill {
		cols = append(cols, prefillPrefix+n)
	}
	for _, n := range o.set {
		cols = append(cols, setPrefix+n)
	}
	return o.w.Write(cols)
}

// row writes inv; an attribute that has no column is an error (the table
// changed between the passes that found the columns and wrote the rows).
func (o *writer) row(inv invite.Invitation) error {
	app := inv.App
	if app == invite.AnyApp {
		app = ""
	}
	rec := []string{inv.Subject, app, Timestamp(inv.Expires), inv.Note, string(inv.Status),
		Timestamp(inv.Created), Timestamp(inv.First), Timestamp(inv.Last), strconv.FormatInt(inv.Count, 10),
		strconv.FormatInt(inv.SentCount, 10), Timestamp(inv.FirstSent), Timestamp(inv.LastSent)}
	for _, kv := range []struct {
		prefix string
		cols   []string
		values map[string]string
	}{{prefillPrefix, o.prefill, inv.Prefill}, {setPrefix, o.set, inv.Set}} {
		for _, n := range kv.cols {
			rec = append(rec, kv.values[n])
		}
		if extra := len(kv.values) - countPresent(kv.values, kv.cols); extra > 0 {
			return fmt.Errorf("invitation %s gained a %s* attribute while exporting: run the export again", inv.Key, kv.prefix)
		}
	}
	for i, cell := range rec {
		rec[i] = neutralise(cell)
	}
	return o.w.Write(rec)
}

func countPresent(m map[string]string, cols []string) int {
	n := 0
	for _, c := range cols {
		if _, ok := m[c]; ok {
			n++
		}
	}
	return n
}

// Lister is the store Export reads.
type Lister interface {
	List(ctx context.Context, prefix string, fn func(invite.Invitation) error) error
}

// Export writes the invitations of s that keep selects to w, in key order,
// with a header row, and returns how many it wrote. The attribute columns
// must be known before the header is written, so it reads the table twice
// rather than hold it in memory: once for the attribute names, once for
// the rows.
func Export(ctx context.Context, s Lister, w io.Writer, keep func(invite.Invitation) bool) (int, error) {
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
		return 0, err
	}
	out := &writer{w: csv.NewWriter(w), prefill: sortedNames(prefill), set: sortedNames(set)}
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
		return n, err
	}
	out.w.Flush()
	return n, out.w.Error()
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
