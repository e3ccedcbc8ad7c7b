package bench

import (
	"context"
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// RawFacade is the facade scenario's peer: a plain fasthttp handler doing
// the same work as the sample application's GET /whoami (a JSON body
// encoded per request, the node header, Cache-Control: no-store), with no
// router, middleware, admission control or metrics. The difference in
// throughput between it and `strata facade` is the framework's overhead.
type RawFacade struct {
	ID string
}

type whoamiBody struct {
	Node string `json:"node"`
}

// Serve answers GET /whoami like a facade node until ctx is cancelled.
func (r *RawFacade) Serve(ctx context.Context, addrs []string) error {
	return serveAll(ctx, addrs, func(rc *fasthttp.RequestCtx) {
		if string(rc.Path()) != "/whoami" || !rc.IsGet() {
			rc.Error("not found", fasthttp.StatusNotFound)
			return
		}
		b, err := json.Marshal(whoamiBody{Node: r.ID})
		if err != nil {
			rc.Error(err.Error(), fasthttp.StatusInternalServerError)
			return
		}
		rc.Response.Header.Set("Cache-Control", "no-store")
		rc.Response.Header.Set("X-Strata-Node", r.ID)
		rc.SetContentType("application/json")
		rc.SetBody(b)
	})
}
