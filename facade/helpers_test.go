package facade

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// serveApp serves a on an ephemeral loopback port until the test ends and
// returns its base URL.
func serveApp(t *testing.T, a *App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ln) }()
	for deadline := time.Now().Add(5 * time.Second); !a.Load().Ready; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("app never became ready")
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// do sends one request and returns status, headers and body.
func do(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, *fasthttp.ResponseHeader, []byte) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(method)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.SetBody(body)
	}
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	h := new(fasthttp.ResponseHeader)
	resp.Header.CopyTo(h)
	return resp.StatusCode(), h, append([]byte(nil), resp.Body()...)
}

func newTestApp(t *testing.T, cfg Config) *App {
	t.Helper()
	if cfg.NodeID == "" {
		cfg.NodeID = "test-node"
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
