package sample

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// errOriginNotFound marks a product the origin does not have; it is not
// cached, so a product added later appears at once.
var errOriginNotFound = errors.New("sample: origin has no such product")

// maxIDLen bounds product ids.
const maxIDLen = 32

func validID(id []byte) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// product serves GET /api/products/{id} cache-aside: the state tier first,
// the origin on a miss (one loader per key per node, a lease across nodes).
func (s *app) product(c *facade.Ctx) error {
	id := c.Param("id")
	if !validID(id) {
		return facade.Errorf(fasthttp.StatusBadRequest, "product id must be 1-%d letters, digits, - or _", maxIDLen)
	}
	key := append([]byte("product:"), id...)
	// The loader runs, if at all, inside this call (singleflight runs it on
	// the caller's goroutine), so id is still valid there; the origin URL is
	// only built on a miss.
	body, src, err := s.cache.GetOrLoad(c.Context(), key, s.cfg.ProductTTL, func(ctx context.Context) ([]byte, error) {
		return s.fetch(ctx, s.origin+"/products/"+string(id))
	})
	switch {
	case errors.Is(err, errOriginNotFound):
		return facade.Errorf(fasthttp.StatusNotFound, "no product %q", id)
	case err != nil:
		return err
	}
	c.SetCacheControl(s.maxAge)
	c.SetHeader("X-Strata-Source", src.String())
	c.Write(fasthttp.StatusOK, "application/json", body)
	return nil
}

// fetch GETs url from the origin by ctx's deadline.
func (s *app) fetch(ctx context.Context, url string) ([]byte, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(s.cfg.RequiredTimeout)
	}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	if err := s.client.DoDeadline(req, resp, deadline); err != nil {
		if errors.Is(err, fasthttp.ErrTimeout) {
			return nil, fmt.Errorf("origin %s: %w", url, facade.ErrDeadline)
		}
		return nil, facade.Errorf(fasthttp.StatusBadGateway, "origin unreachable")
	}
	switch st := resp.StatusCode(); {
	case st == fasthttp.StatusNotFound:
		return nil, errOriginNotFound
	case st != fasthttp.StatusOK:
		return nil, facade.Errorf(fasthttp.StatusBadGateway, "origin answered %d", st)
	}
	return append([]byte(nil), resp.Body()...), nil
}
