package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/logsafe"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/settings"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// run starts the gate and serves until ctx is done, then shuts down
// gracefully: in-flight requests finish first.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = args
	started := time.Now()
	cfg, err := settings.FromEnv(getenv)
	if err != nil {
		return err
	}
	log := newLogger(logsafe.NewWriter(stdout), logsafe.NewWriter(stderr), cfg.LogLevel)

	store, err := tablestore.Open(cfg.Store, tablestore.Options{DomainRefresh: cfg.DomainRefresh})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	auth, err := entraauth.New(ctx, cfg.Auth, entraauth.Options{Logger: log, MaxWait: cfg.StoreTimeout})
	if err != nil {
		return err
	}
	if auth.Mode() == entraauth.ModeOff {
		log.Warn().Msg("ENTRA_AUTH=off: requests are NOT authenticated. Anyone who can reach this endpoint can probe who is invited. Use this only for local development.")
	}

	go store.RefreshDomains(ctx, func(err error) {
		log.Error().Err(err).Msg("domain invitations not reloaded; decisions that need them fail closed once the copy is too old")
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %v (set FUNCTIONS_CUSTOMHANDLER_PORT to a free port)", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler: server.New(server.Deps{
			Store:        store,
			Auth:         auth,
			Log:          log,
			Messages:     cfg.Messages,
			StoreTimeout: cfg.StoreTimeout,
			EmailIssuers: cfg.EmailIssuers,
			SignupWindow: cfg.SignupWindow,
			Hasher:       cfg.Hasher,
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          serverErrorLog(log),
	}
	log.Info().Str("addr", ln.Addr().String()).Str("store", cfg.Store.Where()).Str("auth", string(auth.Mode())).
		Dur("store_timeout", cfg.StoreTimeout).Dur("domain_refresh", cfg.DomainRefresh).
		Strs("email_issuers", cfg.EmailIssuers).Dur("signup_window", cfg.SignupWindow).Bool("email_hash", cfg.Hasher.Enabled()).
		Dur("startup", time.Since(started)).Msg("listening")

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: finishing in-flight requests")
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %v", err)
	}
	log.Info().Msg("stopped")
	return nil
}
