// Package origintest starts a real sample origin (internal/origin) for tests
// of the tiers in front of it, on an ephemeral loopback port, and stops it
// when the test ends.
package origintest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/origin"
)

// Start runs an origin with cfg until the test ends and returns it with its
// base URL (http://127.0.0.1:PORT).
func Start(tb testing.TB, cfg origin.Config) (*origin.Server, string) {
	tb.Helper()
	srv, err := origin.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; err != nil {
			tb.Log("origin:", err)
		}
	})
	return srv, "http://" + ln.Addr().String()
}
