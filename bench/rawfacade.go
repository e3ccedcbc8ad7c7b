package bench

import (
	"context"

	"github.com/valyala/fasthttp"
)

// RawFacade is the facade scenario's peer: a plain fasthttp handler doing
// the same work as the sample application's route, with no router,
// middleware, admission control or metrics. The difference in throughput
// between it and `strata facade` is the framework's overhead.
type RawFacade struct {
	ID string
}

// Serve answers GET /whoami like a facade node until ctx is cancelled.
func (r *RawFacade) Serve(ctx context.Context, addrs []string) error {
	body := []byte(`{"node":"` + r.ID + `"}`)
	return serveAll(ctx, addrs, func(ctx *fasthttp.RequestCtx) {
		switch {
		case string(ctx.Path()) == "/whoami" && ctx.IsGet():
			ctx.Response.Header.Set("Cache-Control", "no-store")
			ctx.SetContentType("application/json")
			ctx.SetBody(body)
		default:
			ctx.Error("not found", fasthttp.StatusNotFound)
		}
	})
}
