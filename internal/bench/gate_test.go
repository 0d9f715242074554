package bench_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/bench"
	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
)

// BenchmarkGateOverAzurite serves sign-ups through the same parts that
// cmd/handler wires together (entraauth in jwt mode, tablestore, server),
// over a loopback HTTP server, against Azurite. It exists to be profiled,
// since the handler binary has no profiling endpoint:
//
//	go test -run '^$' -bench GateOverAzurite -cpuprofile cpu.prof ./internal/bench/
//	go tool pprof -top -focus 'server|tablestore|entraauth|graph|net/http.\(\*conn\)' cpu.prof
//
// The client runs in the same process, so the profile holds its work too.
func BenchmarkGateOverAzurite(b *testing.B) {
	conn := azurite.Connection(b)
	tenant, err := bench.StartTenant()
	if err != nil {
		b.Fatal(err)
	}
	defer tenant.Close()
	env := map[string]string{}
	for _, kv := range tenant.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	table := fmt.Sprintf("benchgate%d", time.Now().UnixNano()%1e9)
	store, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: table}, tablestore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Init(ctx); err != nil {
		b.Fatal(err)
	}
	const people = 200
	for i := 0; i < people; i++ {
		inv := invite.Invitation{Key: invite.Key{Subject: fmt.Sprintf("member%05d@example.org", i), App: invite.AnyApp}, Status: invite.StatusPending,
			Prefill: map[string]string{"givenName": "Member"}, Set: map[string]string{"companyName": "Example Ltd"}}
		if err := store.Put(ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
	go store.RefreshDomains(ctx, nil)
	authCfg, err := entraauth.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	auth, err := entraauth.New(ctx, authCfg, entraauth.Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	for !auth.Ready() {
		time.Sleep(time.Millisecond)
	}
	// The log goes somewhere real, as the handler's goes to a pipe.
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	h := server.New(server.Deps{Store: store, Auth: auth, Log: zerolog.New(devnull).With().Timestamp().Logger()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String()
	token, err := tenant.Token(0, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	client := bench.Client()

	for _, tc := range []struct {
		name   string
		submit bool
	}{{"start", false}, {"submit", true}} {
		b.Run(tc.name, func(b *testing.B) {
			var n atomic.Int64
			path := bench.StartPath
			if tc.submit {
				path = bench.SubmitPath
			}
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					body := bench.SignUpBody(tc.submit, fmt.Sprintf("member%05d@example.org", i%people), fmt.Sprintf("corr-%s-%d", tc.name, i))
					status, resp, err := bench.Post(ctx, client, url+path, token, body)
					if err != nil || status != http.StatusOK {
						b.Fatalf("%d %s %v", status, resp, err)
					}
				}
			})
		})
	}
}
