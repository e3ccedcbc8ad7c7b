package bench

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Origin is the backend the caching and balancing scenarios share, so that
// Strata and its peers sit in front of exactly the same server. It answers
// every path with a cacheable body and counts the requests it served, which
// is how the harness measures hit ratios and coalescing for any cache.
type Origin struct {
	// Size is the body size in bytes for paths without ?size=N.
	Size int
	// SlowDelay delays answers for paths under /slow/, to open a window in
	// which concurrent misses for one key can be coalesced.
	SlowDelay time.Duration

	served atomic.Uint64
	body   []byte
}

// CountPath answers the number of requests served so far (not cacheable,
// not counted).
const CountPath = "/_bench/count"

const maxOriginBody = 1 << 20

func (o *Origin) handle(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	if string(path) == CountPath {
		ctx.Response.Header.Set("Cache-Control", "no-store")
		ctx.SetBodyString(strconv.FormatUint(o.served.Load(), 10))
		return
	}
	o.served.Add(1)
	size := o.Size
	if v := ctx.QueryArgs().GetUintOrZero("size"); v > 0 && v <= maxOriginBody {
		size = v
	}
	if strings.HasPrefix(string(path), "/slow/") && o.SlowDelay > 0 {
		time.Sleep(o.SlowDelay)
	}
	ctx.Response.Header.Set("Cache-Control", "public, max-age=3600")
	ctx.Response.Header.SetContentType("application/octet-stream")
	ctx.SetBody(o.body[:size])
}

// Serve listens on every address and serves until ctx is cancelled.
func (o *Origin) Serve(ctx context.Context, addrs []string) error {
	if o.Size <= 0 || o.Size > maxOriginBody {
		return fmt.Errorf("origin body size %d out of range (1..%d)", o.Size, maxOriginBody)
	}
	o.body = make([]byte, maxOriginBody)
	for i := range o.body {
		o.body[i] = 'a' + byte(i%26)
	}
	return serveAll(ctx, addrs, o.handle)
}

// serveAll runs one fasthttp server per address until ctx ends.
func serveAll(ctx context.Context, addrs []string, h fasthttp.RequestHandler) error {
	if len(addrs) == 0 {
		return fmt.Errorf("no --listen address")
	}
	errs := make(chan error, len(addrs))
	var servers []*fasthttp.Server
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, s := range servers {
				_ = s.Shutdown()
			}
			return fmt.Errorf("listen %s: %w", a, err)
		}
		s := &fasthttp.Server{Handler: h, Name: "strata-bench", ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
		servers = append(servers, s)
		go func() { errs <- s.Serve(ln) }()
	}
	select {
	case <-ctx.Done():
	case err := <-errs:
		for _, s := range servers {
			_ = s.Shutdown()
		}
		return fmt.Errorf("serve: %w", err)
	}
	for _, s := range servers {
		_ = s.ShutdownWithContext(context.Background())
	}
	return nil
}

// OriginCount asks an origin at addr how many requests it has served.
func OriginCount(addr string) (uint64, error) {
	status, body, err := fasthttp.GetTimeout(nil, "http://"+addr+CountPath, 5*time.Second)
	if err != nil {
		return 0, fmt.Errorf("origin count: %w", err)
	}
	if status != fasthttp.StatusOK {
		return 0, fmt.Errorf("origin count: status %d", status)
	}
	n, err := strconv.ParseUint(string(body), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("origin count: %w", err)
	}
	return n, nil
}
