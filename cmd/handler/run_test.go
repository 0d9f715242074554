package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/invitegate/invitegate/internal/invite"
	"github.com/invitegate/invitegate/internal/tablestore"
	"github.com/invitegate/invitegate/internal/testutil/azurite"
	"github.com/invitegate/invitegate/internal/testutil/fixtures"
	"github.com/invitegate/invitegate/internal/testutil/logbuf"
)

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// seedTable creates a fresh table with the invitations the fixtures expect
// (fixtures.Invitations) and returns its name.
func seedTable(t *testing.T, conn string) string {
	t.Helper()
	table := fmt.Sprintf("e2e%d", time.Now().UnixNano()%1e12)
	s, err := tablestore.Open(tablestore.Settings{Connection: conn, Table: table}, tablestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Init(ctx); err != nil {
		t.Fatal(err)
	}
	for _, inv := range fixtures.Invitations() {
		if err := s.Put(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	return table
}

// startRun calls run on a free port and returns its base URL, its logs
// and a stop function that cancels it and returns run's error.
func startRun(t *testing.T, env map[string]string) (base string, logs *logbuf.Buffer, stop func() error) {
	t.Helper()
	env["FUNCTIONS_CUSTOMHANDLER_PORT"] = "0"
	logs = &logbuf.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, envFunc(env), logs, io.Discard) }()
	deadline := time.Now().Add(10 * time.Second)
	for base == "" && time.Now().Before(deadline) {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var line struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "listening" {
				base = "http://" + line.Addr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, logs)
		case <-time.After(5 * time.Millisecond):
		}
	}
	if base == "" {
		t.Fatalf("the handler did not start:\n%s", logs)
	}
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(15 * time.Second):
				runErr = fmt.Errorf("run did not return after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { stop() })
	return base, logs, stop
}

func post(t *testing.T, url, fixture string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(fixtures.Request(t, fixture)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: content-type %q", fixture, ct)
	}
	return resp.StatusCode, b
}

// TestEndToEnd runs the gate as the Functions host drives it — port from
// FUNCTIONS_CUSTOMHANDLER_PORT, readiness on GET /, forwarded paths under
// /api — against Azurite, and compares each sign-up's answer with the
// golden files the server's unit tests use.
func TestEndToEnd(t *testing.T) {
	conn := azurite.Connection(t)
	table := seedTable(t, conn)
	base, logs, stop := startRun(t, map[string]string{
		"INVITATIONS_CONNECTION": conn, "INVITATIONS_TABLE": table, "ENTRA_AUTH": "off",
	})

	resp, err := http.Get(base + "/")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readiness GET / = %v, %v", resp, err)
	}
	resp.Body.Close()

	for _, tc := range []struct{ route, fixture string }{
		{"attributeStart", "start-email-otp.json"},
		{"attributeStart", "start-email-password.json"},
		{"attributeStart", "start-google.json"},
		{"attributeStart", "start-not-invited.json"},
		{"attributeStart", "start-no-email.json"},
		{"attributeSubmit", "submit-no-identities.json"},
		{"attributeSubmit", "submit-email-password.json"},
		{"attributeSubmit", "submit-not-invited.json"},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			status, got := post(t, base+"/api/"+tc.route, tc.fixture)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, got)
			}
			want, err := os.ReadFile(filepath.Join("..", "..", "internal", "server", "testdata", "golden", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			json.Unmarshal(got, &g)
			json.Unmarshal(want, &w)
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if !bytes.Equal(gb, wb) {
				t.Errorf("answer differs from the golden file:\n got %s\nwant %s", gb, wb)
			}
		})
	}

	// The submit was recorded in the real table.
	s, _ := tablestore.Open(tablestore.Settings{Connection: conn, Table: table}, tablestore.Options{})
	inv, err := s.Get(context.Background(), invite.Key{Subject: "jo.bloggs@example.org", App: invite.AnyApp})
	if err != nil || inv.Count != 1 || inv.Status != invite.StatusRedeemed {
		t.Fatalf("redemption not recorded: %+v, %v", inv, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
	out := logs.String()
	for _, want := range []string{`"message":"decision"`, `"correlation_id":"e4f5a6b7-5555-4e6f-9a0b-4d5e6f708192"`, `"message":"stopped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, leak := range []string{"jo.bloggs@example.org", "sam@partner.example", "alex.doe@gmail.com"} {
		if strings.Contains(out, leak) {
			t.Errorf("logs carry a raw email address %s", leak)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no store", map[string]string{"ENTRA_AUTH": "off"}, "INVITATIONS_TABLE_SERVICE_URL"},
		{"both stores", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "INVITATIONS_TABLE_SERVICE_URL": "https://a.table.core.windows.net"}, "set only one"},
		{"bad table", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "INVITATIONS_TABLE": "in-vites"}, "INVITATIONS_TABLE"},
		{"bad port", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "FUNCTIONS_CUSTOMHANDLER_PORT": "http"}, "FUNCTIONS_CUSTOMHANDLER_PORT"},
		{"timeout beyond Entra's limit", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "INVITE_STORE_TIMEOUT": "3s"}, "INVITE_STORE_TIMEOUT"},
		{"timeout not a duration", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "INVITE_STORE_TIMEOUT": "700"}, "INVITE_STORE_TIMEOUT"},
		{"auth off in Azure", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "UseDevelopmentStorage=true", "WEBSITE_INSTANCE_ID": "abc"}, "WEBSITE_INSTANCE_ID"},
		{"jwt is the default and needs a tenant", map[string]string{"INVITATIONS_CONNECTION": "UseDevelopmentStorage=true"}, "ENTRA_TENANT_ID"},
		{"connection string garbage", map[string]string{"ENTRA_AUTH": "off", "INVITATIONS_CONNECTION": "hello"}, "INVITATIONS_CONNECTION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env["FUNCTIONS_CUSTOMHANDLER_PORT"] == "" {
				env["FUNCTIONS_CUSTOMHANDLER_PORT"] = "0"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := run(ctx, nil, envFunc(env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want a refusal naming %s", err, tc.want)
			}
		})
	}
}

func TestDevelopmentStorageExpands(t *testing.T) {
	s, err := tablestore.SettingsFromEnv(envFunc(map[string]string{"INVITATIONS_CONNECTION": "UseDevelopmentStorage=true"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Connection != tablestore.DevelopmentConnection || s.Table != "invitations" {
		t.Fatalf("settings = %+v", s)
	}
}
