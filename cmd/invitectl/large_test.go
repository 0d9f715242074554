package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// testLarge imports, lists, exports and re-imports 20,000 rows (2,000
// with -short).
func testLarge(t *testing.T, c *ctl) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	f := bulkFigures(t, c, n)
	t.Logf("%d rows: import %.0f rows/s (%v), re-import %.0f rows/s, list %v with heap in use at most %.1f MiB above the start (%.1f MiB in all), export %v",
		n, f.importRate, f.importTook, f.reimportRate, f.listTook, mib(f.listHeapGrowth), mib(f.listHeapPeak), f.exportTook)
}

// BenchmarkBulk measures importing 20,000 rows into a fresh table of a
// local Azurite, and the heap while listing them:
//
//	go test -run X -bench Bulk -benchtime 1x ./cmd/invitectl/
func BenchmarkBulk(b *testing.B) {
	conn := azurite.Connection(b)
	for b.Loop() {
		c := newCtlOn(b, conn)
		c.mustRun("init")
		f := bulkFigures(b, c, 20000)
		b.ReportMetric(f.importRate, "import-rows/s")
		b.ReportMetric(f.reimportRate, "reimport-rows/s")
		b.ReportMetric(mib(f.listHeapGrowth), "list-heap-MiB")
	}
}

type figures struct {
	importTook, listTook, exportTook time.Duration
	importRate, reimportRate         float64
	listHeapPeak, listHeapGrowth     uint64
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

func bulkFigures(tb testing.TB, c *ctl, n int) figures {
	tb.Helper()
	var f figures
	dir := tb.TempDir()
	in := filepath.Join(dir, "large.csv")
	writeLargeCSV(tb, in, n)

	start := time.Now()
	out := c.mustRun("import", in)
	f.importTook = time.Since(start)
	f.importRate = float64(n) / f.importTook.Seconds()
	if want := fmt.Sprintf("imported %d rows: %d new, 0 updated, 0 unchanged\n", n, n); out != want {
		tb.Fatalf("import said %q, want %q", out, want)
	}

	// List into a sink that keeps only the rows checked, so the heap
	// measured is the command's own.
	sink := &lineSink{keep: []string{`"email":"user00040@d040.example"`, fmt.Sprintf(`"email":"user%05d@`, n-1)}}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	peak, stop := sampleHeap()
	start = time.Now()
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"list", "--output", "json"}, func(k string) string { return c.env[k] }, nil, sink, &errOut)
	f.listTook = time.Since(start)
	stop()
	if code != exitOK {
		tb.Fatalf("list: exit %d: %s", code, errOut.String())
	}
	f.listHeapPeak = *peak
	if *peak > base.HeapInuse {
		f.listHeapGrowth = *peak - base.HeapInuse
	}
	if sink.lines != n || len(sink.kept) != 2 {
		tb.Fatalf("list printed %d lines (want %d), found %d of the 2 rows checked", sink.lines, n, len(sink.kept))
	}
	if want := `{"email":"user00040@d040.example","app":"` + appA + `","status":"pending","expires":"2099-01-01T00:00:00Z","note":"row 40, \"quoted\"","created":`; !strings.HasPrefix(sink.kept[0], want) ||
		!strings.HasSuffix(sink.kept[0], `"redemptions":0,"prefill":{"givenName":"User 40"},"set":{"companyName":"Example 40"}}`) {
		tb.Fatalf("list row 40:\n%s\nwant it to start %s", sink.kept[0], want)
	}

	exported := filepath.Join(dir, "export.csv")
	start = time.Now()
	c.mustRun("export", exported)
	f.exportTook = time.Since(start)
	lines, found := scanFile(tb, exported, "user00040@d040.example,"+appA+",2099-01-01T00:00:00Z,\"row 40, \"\"quoted\"\"\",pending,")
	if lines != n+1 || !strings.HasSuffix(found, ",,0,0,,,User 40,Example 40") {
		tb.Fatalf("export: %d lines (want %d), row 40: %q", lines, n+1, found)
	}

	start = time.Now()
	out = c.mustRun("import", in)
	f.reimportRate = float64(n) / time.Since(start).Seconds()
	if want := fmt.Sprintf("imported %d rows: 0 new, 0 updated, %d unchanged\n", n, n); out != want {
		tb.Fatalf("re-import said %q, want %q", out, want)
	}
	return f
}

// writeLargeCSV writes n rows over 100 domains, a quarter for one app,
// every tenth with a set value.
func writeLargeCSV(tb testing.TB, path string, n int) {
	tb.Helper()
	file, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(file)
	fmt.Fprintln(w, "email,app,expires,note,prefill.givenName,set.companyName")
	for i := range n {
		app, company := "", ""
		if i%4 == 0 {
			app = appA
		}
		if i%10 == 0 {
			company = fmt.Sprintf("Example %d", i)
		}
		fmt.Fprintf(w, "user%05d@d%03d.example,%s,2099-01-01T00:00:00Z,\"row %d, \"\"quoted\"\"\",User %d,%s\n", i, i%100, app, i, i, company)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	file.Close()
}

// sampleHeap records the largest HeapInuse until stop is called.
func sampleHeap() (peak *uint64, stop func()) {
	peak = new(uint64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return peak, func() { close(done); wg.Wait() }
}

// lineSink counts lines and keeps those containing one of keep.
type lineSink struct {
	keep    []string
	partial []byte
	lines   int
	kept    []string
}

func (s *lineSink) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.partial = append(s.partial, p...)
			break
		}
		line := append(s.partial, p[:i]...)
		for _, k := range s.keep {
			if bytes.Contains(line, []byte(k)) {
				s.kept = append(s.kept, string(line))
			}
		}
		s.partial, p = s.partial[:0], p[i+1:]
		s.lines++
	}
	return n, nil
}

// scanFile counts a file's lines and returns the first that starts with
// prefix.
func scanFile(tb testing.TB, path, prefix string) (lines int, found string) {
	tb.Helper()
	file, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		lines++
		if found == "" && strings.HasPrefix(sc.Text(), prefix) {
			found = sc.Text()
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines, found
}
