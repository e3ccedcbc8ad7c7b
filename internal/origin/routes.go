package origin

import (
	"math/rand/v2"
	"strconv"

	"github.com/valyala/fasthttp"
)

// The services of the catalog fan-out answer for the first catalogSize
// products.
const catalogSize = 10

func (s *Server) serve(rc *fasthttp.RequestCtx) {
	path := string(rc.Path())
	switch path {
	case "/stats":
		s.serveStats(rc)
		return
	case "/healthz":
		rc.SetBodyString("ok\n")
		return
	case "/admin/shape":
		s.serveShape(rc)
		return
	}
	if !rc.IsGet() && !rc.IsHead() {
		rc.Error(`{"error":"method not allowed"}`, fasthttp.StatusMethodNotAllowed)
		return
	}
	route := path
	if len(path) > len("/products/") && path[:len("/products/")] == "/products/" {
		route = "/products"
	}
	s.stats.hit(route)

	sh := s.shape(path)
	if s.workers != nil {
		select {
		case s.workers <- struct{}{}:
			defer func() { <-s.workers }()
		case <-s.done:
			rc.Error(`{"error":"stopping"}`, fasthttp.StatusServiceUnavailable)
			return
		}
	}
	s.stats.enter()
	defer s.stats.leave()
	if !s.delay(sh) {
		rc.Error(`{"error":"stopping"}`, fasthttp.StatusServiceUnavailable)
		return
	}
	if sh.ErrorRate > 0 && rand.Float64() < sh.ErrorRate {
		rc.Error(`{"error":"simulated failure"}`, fasthttp.StatusInternalServerError)
		return
	}
	rc.SetContentType("application/json")
	switch route {
	case "/products":
		s.serveProduct(rc, path[len("/products/"):])
	case "/svc/products":
		rc.SetBody(catalogJSON(func(dst []byte, id int) []byte {
			dst = append(dst, `{"id":"`...)
			dst = strconv.AppendInt(dst, int64(id), 10)
			dst = append(dst, `","name":"Product `...)
			dst = strconv.AppendInt(dst, int64(id), 10)
			return append(dst, `"}`...)
		}, `{"products":[`, `]}`))
	case "/svc/pricing":
		rc.SetBody(catalogMap(`{"price_cents":{`, func(dst []byte, id int) []byte {
			return strconv.AppendInt(dst, int64(priceCents(id)), 10)
		}))
	case "/svc/inventory":
		rc.SetBody(catalogMap(`{"stock":{`, func(dst []byte, id int) []byte {
			return strconv.AppendInt(dst, int64((id*37)%50), 10)
		}))
	case "/svc/reviews":
		rc.SetBody(catalogMap(`{"rating":{`, func(dst []byte, id int) []byte {
			return strconv.AppendFloat(dst, 3+float64(id%5)/2, 'f', 1, 64)
		}))
	default:
		rc.Error(`{"error":"not found"}`, fasthttp.StatusNotFound)
	}
}

func priceCents(id int) int { return 499 + (id*7919)%10000 }

func (s *Server) serveProduct(rc *fasthttp.RequestCtx, idStr string) {
	id, err := strconv.Atoi(idStr)
	if err != nil || id < 1 || id > s.products {
		rc.Error(`{"error":"no such product"}`, fasthttp.StatusNotFound)
		return
	}
	b := make([]byte, 0, 160)
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `","name":"Product `...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `","price_cents":`...)
	b = strconv.AppendInt(b, int64(priceCents(id)), 10)
	b = append(b, `,"currency":"EUR","description":"A sample product served by the Strata origin."}`...)
	rc.SetBody(b)
}

func catalogJSON(item func([]byte, int) []byte, open, close string) []byte {
	b := append(make([]byte, 0, 512), open...)
	for id := 1; id <= catalogSize; id++ {
		if id > 1 {
			b = append(b, ',')
		}
		b = item(b, id)
	}
	return append(b, close...)
}

func catalogMap(open string, value func([]byte, int) []byte) []byte {
	return catalogJSON(func(dst []byte, id int) []byte {
		dst = append(dst, '"')
		dst = strconv.AppendInt(dst, int64(id), 10)
		dst = append(dst, `":`...)
		return value(dst, id)
	}, open, "}}")
}

func (s *Server) serveStats(rc *fasthttp.RequestCtx) {
	rc.Response.Header.Set(fasthttp.HeaderCacheControl, "no-store")
	switch {
	case rc.IsGet():
		rc.SetContentType("application/json")
		rc.SetBody(s.stats.marshal())
	case rc.IsDelete():
		s.stats.reset()
		rc.SetStatusCode(fasthttp.StatusNoContent)
	default:
		rc.Error(`{"error":"GET or DELETE"}`, fasthttp.StatusMethodNotAllowed)
	}
}

// serveShape changes a route's shape: POST /admin/shape?route=/svc/reviews&latency=hang&error_rate=0
func (s *Server) serveShape(rc *fasthttp.RequestCtx) {
	if !rc.IsPost() {
		rc.Error(`{"error":"POST"}`, fasthttp.StatusMethodNotAllowed)
		return
	}
	args := rc.QueryArgs()
	d, err := ParseDist(string(args.Peek("latency")))
	if err != nil {
		rc.Error(err.Error(), fasthttp.StatusBadRequest)
		return
	}
	rate := 0.0
	if v := args.Peek("error_rate"); len(v) > 0 {
		if rate, err = strconv.ParseFloat(string(v), 64); err != nil {
			rc.Error("error_rate: "+err.Error(), fasthttp.StatusBadRequest)
			return
		}
	}
	if err := s.SetShape(string(args.Peek("route")), Shape{Latency: d, ErrorRate: rate}); err != nil {
		rc.Error(err.Error(), fasthttp.StatusBadRequest)
		return
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
}
