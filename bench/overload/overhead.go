package overload

import (
	"bytes"
	"sync/atomic"

	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// The work both handlers of the overhead pair do: take the item id from the
// path, answer a small JSON body naming it, with a request id header.
var itemPrefix = []byte("/api/items/")

// OverheadPath is a request path both handlers answer.
const OverheadPath = "/api/items/42"

// RawHandler is the baseline: a bare fasthttp handler doing the work.
func RawHandler() fasthttp.RequestHandler {
	var seq atomic.Uint64
	return func(rc *fasthttp.RequestCtx) {
		path := rc.Path()
		if !rc.IsGet() || !bytes.HasPrefix(path, itemPrefix) || len(path) == len(itemPrefix) {
			rc.SetStatusCode(fasthttp.StatusNotFound)
			return
		}
		n := seq.Add(1)
		var id [16]byte
		for i := range id {
			id[i] = "0123456789abcdef"[(n>>(60-4*i))&0xf]
		}
		rc.Response.Header.SetBytesV(facade.RequestIDHeader, id[:])
		writeItem(rc, path[len(itemPrefix):])
	}
}

func writeItem(rc *fasthttp.RequestCtx, id []byte) {
	rc.SetStatusCode(fasthttp.StatusOK)
	rc.SetContentType("application/json")
	body := rc.Response.BodyWriter()
	_, _ = body.Write([]byte(`{"id":"`))
	_, _ = body.Write(id)
	_, _ = body.Write([]byte(`"}`))
}

// FrameworkHandler is the same work as a facade route: GET
// /api/items/{id} behind routing, request ids, priority, admission control,
// metrics and load accounting. It returns the App so callers can inspect it.
func FrameworkHandler(cfg facade.Config) (fasthttp.RequestHandler, *facade.App, error) {
	if cfg.NodeID == "" {
		cfg.NodeID = "overhead"
	}
	a, err := facade.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	err = a.Handle("GET", "/api/items/{id}", func(c *facade.Ctx) error {
		writeItem(c.Raw(), c.Param("id"))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	h := a.Handler()
	return h, a, nil
}
