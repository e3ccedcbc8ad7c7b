package boundtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/boundtest"
)

// TestFacadeUnderBodyDeclarers runs `strata facade` (the sample
// application, with a real state node and origin) against the red team's
// attack of 1 Dec 2026: 1,000 connections that each declare a 1 MB
// request body (by Content-Length, or by a chunk size) and send none of
// it, reconnecting when closed, plus 50 that do send 1 MB bodies to the
// cart route, while a good client GETs /whoami every 20 ms. fasthttp's
// server allocated the declared length before calling the handler (the
// red team measured 23 MB to 1.04 GB); the facade must hold only what
// arrived. Bounds: peak RSS under 300 MiB, good-client p99 under 500 ms.
func TestFacadeUnderBodyDeclarers(t *testing.T) {
	raiseFileLimit(t, 4096)
	stateAddr, respAddr := boundtest.FreeAddr(t), boundtest.FreeAddr(t)
	st := boundtest.Start(t, "state", "--listen", stateAddr, "--resp", respAddr, "--memory", "64MiB", "--log-level", "warn")
	st.WaitTCP(t, stateAddr, 10*time.Second)
	originAddr := boundtest.FreeAddr(t)
	og := boundtest.Start(t, "origin", "--listen", originAddr, "--log-level", "warn")
	og.WaitTCP(t, originAddr, 10*time.Second)
	addr := boundtest.FreeAddr(t)
	p := boundtest.Start(t, "facade", "--listen", addr, "--state", stateAddr, "--origin", "http://"+originAddr, "--log-level", "warn")
	p.WaitTCP(t, addr, 10*time.Second)

	good := &http.Client{Timeout: 2 * time.Second}
	whoami := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/whoami", nil)
		resp, err := good.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /whoami: %d", resp.StatusCode)
		}
		return nil
	}
	if err := whoami(context.Background()); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	p.ResetPeak()

	ctx, stop := context.WithTimeout(context.Background(), 6*time.Second)
	defer stop()
	done := make(chan struct{}, 2)
	go func() {
		boundtest.Hold(ctx, 1000, func(ctx context.Context, i int) {
			head := "POST /api/cart HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000000\r\n\r\n"
			if i%2 == 1 {
				head = "POST /api/cart HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nf4240\r\n"
			}
			sendAndHold(ctx, addr, 2+i%4, head, "")
		})
		done <- struct{}{}
	}()
	go func() {
		boundtest.Hold(ctx, 50, func(ctx context.Context, _ int) {
			sendAndHold(ctx, addr, 6, "POST /api/cart HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1048576\r\n\r\n", strings.Repeat("x", 1<<20))
		})
		done <- struct{}{}
	}()
	time.Sleep(time.Second) // let the connections open
	l := boundtest.Good(ctx, 20*time.Millisecond, whoami)
	<-done
	<-done
	boundtest.Check(t, "facade", p, l, boundtest.Bound{MaxRSS: 300 << 20, MaxP99: 500 * time.Millisecond, MaxErrors: 3, MinCalls: 100})
}

// sendAndHold sends head and body on a connection from 127.0.0.host and
// waits for the facade to answer or close, again until ctx ends.
func sendAndHold(ctx context.Context, addr string, host int, head, body string) {
	for ctx.Err() == nil {
		c, err := dialFrom(ctx, addr, host)
		if err == nil {
			go func() { <-ctx.Done(); c.Close() }()
			c.Write([]byte(head + body))
			io.Copy(io.Discard, c) // returns when the facade closes it
			c.Close()
		}
		boundtest.Pause(ctx, 500*time.Millisecond)
	}
}
