package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/valyala/fasthttp"
)

// RawFacade is the facade scenario's peer: plain fasthttp handlers doing the
// same work as the sample application's routes, with no router, middleware,
// admission control, loader deduplication or metrics. The difference in
// throughput between it and `strata facade` is the framework's overhead.
type RawFacade struct {
	ID string
	// State is a state node's binary address; with Origin it enables
	// GET /api/products/{id}, cache-aside like the sample application.
	State  string
	Origin string // http://HOST:PORT of the sample origin
}

type whoamiBody struct {
	Node string `json:"node"`
}

var productsPrefix = []byte("/api/products/")

// Product values stay in the state tier as long as the sample app keeps
// them, and the edge may cache them as long.
const (
	rawProductTTL    = 60 * time.Second
	rawProductMaxAge = "public, max-age=30"
)

// Serve answers until ctx is cancelled.
func (r *RawFacade) Serve(ctx context.Context, addrs []string) error {
	var state *client.Client
	if r.State != "" {
		var err error
		if state, err = client.Dial(ctx, []string{r.State}, client.Options{}); err != nil {
			return fmt.Errorf("raw facade: %w", err)
		}
		defer func() { _ = state.Close() }()
	}
	origin := &fasthttp.Client{MaxConnsPerHost: 512, ReadTimeout: 2 * time.Second}
	return serveAll(ctx, addrs, func(rc *fasthttp.RequestCtx) {
		path := rc.Path()
		switch {
		case !rc.IsGet():
			rc.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		case string(path) == "/whoami":
			b, err := json.Marshal(whoamiBody{Node: r.ID})
			if err != nil {
				rc.Error(err.Error(), fasthttp.StatusInternalServerError)
				return
			}
			rc.Response.Header.Set("Cache-Control", "no-store")
			rc.Response.Header.Set("X-Strata-Node", r.ID)
			rc.SetContentType("application/json")
			rc.SetBody(b)
		case state != nil && bytes.HasPrefix(path, productsPrefix) && len(path) > len(productsPrefix):
			r.product(rc, state, origin, path[len(productsPrefix):])
		default:
			rc.Error("not found", fasthttp.StatusNotFound)
		}
	})
}

// product is cache-aside by hand: the state tier, else the origin and a
// write back with a TTL.
func (r *RawFacade) product(rc *fasthttp.RequestCtx, state *client.Client, origin *fasthttp.Client, id []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	key := append([]byte("raw-product:"), id...)
	body, err := state.Get(ctx, key)
	src := "state"
	if errors.Is(err, client.ErrNotFound) {
		src = "origin"
		status, b, ferr := origin.GetTimeout(nil, r.Origin+"/products/"+string(id), time.Second)
		switch {
		case ferr != nil:
			rc.Error("origin unreachable", fasthttp.StatusBadGateway)
			return
		case status == fasthttp.StatusNotFound:
			rc.Error("no such product", fasthttp.StatusNotFound)
			return
		case status != fasthttp.StatusOK:
			rc.Error("origin failed", fasthttp.StatusBadGateway)
			return
		}
		body, err = b, state.Set(ctx, key, b, rawProductTTL)
	}
	if err != nil {
		rc.Error("state tier: "+err.Error(), fasthttp.StatusServiceUnavailable)
		return
	}
	rc.Response.Header.Set("Cache-Control", rawProductMaxAge)
	rc.Response.Header.Set("X-Strata-Source", src)
	rc.SetContentType("application/json")
	rc.SetBody(body)
}
