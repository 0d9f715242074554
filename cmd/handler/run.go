package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/invitegate/invitegate/internal/entraauth"
	"github.com/invitegate/invitegate/internal/server"
	"github.com/invitegate/invitegate/internal/tablestore"
)

// config is every setting the handler reads, checked.
type config struct {
	addr          string
	store         tablestore.Settings
	storeTimeout  time.Duration
	domainRefresh time.Duration
	messages      server.Messages
	logLevel      zerolog.Level
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		messages: server.Messages{
			NotInvited:  getenv("INVITE_BLOCK_MESSAGE"),
			Expired:     getenv("INVITE_EXPIRED_MESSAGE"),
			Unavailable: getenv("INVITE_UNAVAILABLE_MESSAGE"),
			NoEmail:     getenv("INVITE_NO_EMAIL_MESSAGE"),
		},
	}
	port := strings.TrimSpace(getenv("FUNCTIONS_CUSTOMHANDLER_PORT"))
	if port == "" {
		port = "8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return c, fmt.Errorf("FUNCTIONS_CUSTOMHANDLER_PORT %q is not a port number", port)
	}
	c.addr = net.JoinHostPort("127.0.0.1", port)

	var err error
	if c.store, err = tablestore.SettingsFromEnv(getenv); err != nil {
		return c, err
	}
	if c.storeTimeout, err = server.StoreTimeoutFromEnv(getenv); err != nil {
		return c, err
	}
	if c.domainRefresh, err = server.EnvDuration(getenv, "INVITE_DOMAIN_REFRESH", 30*time.Second, time.Second, time.Hour, ""); err != nil {
		return c, err
	}
	c.logLevel = zerolog.InfoLevel
	if lv := strings.TrimSpace(getenv("INVITE_LOG_LEVEL")); lv != "" {
		if c.logLevel, err = zerolog.ParseLevel(strings.ToLower(lv)); err != nil || lv == "" {
			return c, fmt.Errorf("INVITE_LOG_LEVEL %q is not a level: use debug, info, warn or error", lv)
		}
	}
	return c, nil
}

// run starts the gate and serves until ctx is done, then shuts down
// gracefully: in-flight requests finish first.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	_ = args
	started := time.Now()
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stdout, stderr, cfg.logLevel)

	store, err := tablestore.Open(cfg.store, tablestore.Options{DomainRefresh: cfg.domainRefresh})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	auth, err := entraauth.New(ctx, entraauth.Options{Getenv: getenv, Logger: log, MaxWait: cfg.storeTimeout})
	if err != nil {
		return err
	}
	if auth.Mode() == entraauth.ModeOff {
		log.Warn().Msg("ENTRA_AUTH=off: requests are NOT authenticated. Anyone who can reach this endpoint can probe who is invited. Use this only for local development.")
	}

	go store.RefreshDomains(ctx, func(err error) {
		log.Error().Err(err).Msg("domain invitations not reloaded; decisions that need them fail closed once the copy is too old")
	})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %v (set FUNCTIONS_CUSTOMHANDLER_PORT to a free port)", cfg.addr, err)
	}
	srv := &http.Server{
		Handler: server.New(server.Deps{
			Store:        store,
			Auth:         auth,
			Log:          log,
			Messages:     cfg.messages,
			StoreTimeout: cfg.storeTimeout,
		}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          serverErrorLog(log),
	}
	log.Info().Str("addr", ln.Addr().String()).Str("store", cfg.store.Where()).Str("auth", string(auth.Mode())).
		Dur("store_timeout", cfg.storeTimeout).Dur("domain_refresh", cfg.domainRefresh).
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
