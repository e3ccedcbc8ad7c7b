package sample

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/facade"
	"github.com/strata-dp/strata/facade/statestore"
	"github.com/strata-dp/strata/internal/origin"
	"github.com/strata-dp/strata/internal/origin/origintest"
	"github.com/strata-dp/strata/internal/statetest"
	"github.com/valyala/fasthttp"
)

// start runs a real state node, the origin with cfg and one sample facade,
// all in-process on ephemeral ports, and returns the facade's and the
// origin's base URLs.
func start(t testing.TB, cfg origin.Config) (string, *origin.Server) {
	t.Helper()
	node := statetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	store, err := statestore.Dial(ctx, []string{node.Addr}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })

	osrv, obase := origintest.Start(t, cfg)

	app, err := facade.New(facade.Config{NodeID: "sample-test", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if err := Register(app, Config{Origin: obase}); err != nil {
		t.Fatal(err)
	}
	fln := listen(t)
	go app.Serve(fln)
	t.Cleanup(func() { stop(app.Shutdown) })
	return "http://" + fln.Addr().String(), osrv
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func stop(f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f(ctx)
}

func do(t *testing.T, method, url, body string, hdr map[string]string) (int, *fasthttp.ResponseHeader, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(method)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.SetBodyString(body)
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	h := new(fasthttp.ResponseHeader)
	resp.Header.CopyTo(h)
	return resp.StatusCode(), h, string(resp.Body())
}

func TestRoutesAgainstShapedOrigin(t *testing.T) {
	tests := []struct {
		name       string
		origin     origin.Config
		method     string
		path, body string
		hdr        map[string]string
		wantStatus int
		wantBody   string
		wantCC     string
	}{
		{"product", origin.Config{}, "GET", "/api/products/3", "", nil, 200, `"name":"Product 3"`, "public, max-age=30"},
		{"bad product id", origin.Config{}, "GET", "/api/products/a.b", "", nil, 400, "product id", "no-store"},
		{"origin failing", origin.Config{Default: origin.Shape{ErrorRate: 1}}, "GET", "/api/products/3", "", nil, 502, "origin answered 500", "no-store"},
		{"catalog whole", origin.Config{}, "GET", "/api/catalog", "", nil, 200, `"missing":[],"partial":false`, "public, max-age=5"},
		{"catalog without inventory", origin.Config{Routes: map[string]origin.Shape{"/svc/inventory": {ErrorRate: 1}}}, "GET", "/api/catalog", "", nil, 200, `"missing":["inventory"],"partial":true`, "no-store"},
		{"catalog without prices fails", origin.Config{Routes: map[string]origin.Shape{"/svc/pricing": {ErrorRate: 1}}}, "GET", "/api/catalog", "", nil, 502, "pricing", "no-store"},
		{"cart body too big", origin.Config{}, "POST", "/api/cart", `{"product_id":"` + strings.Repeat("1", 5000) + `","quantity":1}`, nil, 413, "larger", "no-store"},
		{"cart body not JSON", origin.Config{}, "POST", "/api/cart", `product=1`, nil, 400, "product_id", "no-store"},
		{"cart quantity too large", origin.Config{}, "POST", "/api/cart", `{"product_id":"1","quantity":1000}`, nil, 400, "quantity", "no-store"},
		{"whoami", origin.Config{}, "GET", "/whoami", "", nil, 200, `{"node":"sample-test"}`, "no-store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := start(t, tc.origin)
			status, hdr, body := do(t, tc.method, base+tc.path, tc.body, tc.hdr)
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("%d %q, want %d containing %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if cc := string(hdr.Peek("Cache-Control")); cc != tc.wantCC {
				t.Fatalf("Cache-Control %q, want %q", cc, tc.wantCC)
			}
		})
	}
}

// TestCartIdempotentPost: a retried POST with the same Idempotency-Key adds
// the item once, and the replay carries the new session's cookie.
func TestCartIdempotentPost(t *testing.T) {
	base, _ := start(t, origin.Config{})
	hdr := map[string]string{"Idempotency-Key": "order-1"}
	item := `{"product_id": "2", "quantity": 1}`
	_, h1, b1 := do(t, "POST", base+"/api/cart", item, hdr)
	status, h2, b2 := do(t, "POST", base+"/api/cart", item, hdr)
	if status != 200 || b1 != b2 || string(h2.Peek("Idempotent-Replayed")) != "true" {
		t.Fatalf("retry: %d %q (first %q), replayed %q", status, b2, b1, h2.Peek("Idempotent-Replayed"))
	}
	cookie := func(h *fasthttp.ResponseHeader) (c string) {
		for _, v := range h.Cookies() {
			c, _, _ = strings.Cut(string(v), ";")
		}
		return c
	}
	if cookie(h1) == "" || cookie(h1) != cookie(h2) {
		t.Fatalf("cookies %q and %q", cookie(h1), cookie(h2))
	}
	_, _, cart := do(t, "GET", base+"/api/cart", "", map[string]string{"Cookie": cookie(h1)})
	if cart != `{"items":[{"product_id":"2","quantity":1}]}` {
		t.Fatalf("cart after a retried POST: %q", cart)
	}
}

// TestProductLoadsOnce: concurrent first reads of one product hit the
// origin once (singleflight on the node, lease in the state tier).
func TestProductLoadsOnce(t *testing.T) {
	base, osrv := start(t, origin.Config{Default: origin.Shape{Latency: mustDist(t, "50ms")}})
	done := make(chan int, 20)
	for i := 0; i < cap(done); i++ {
		go func() {
			status, _, _ := do(t, "GET", base+"/api/products/9", "", nil)
			done <- status
		}()
	}
	for i := 0; i < cap(done); i++ {
		if s := <-done; s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	if hits := osrv.Hits("/products"); hits != 1 {
		t.Fatalf("origin hit %d times for one product", hits)
	}
}

func mustDist(t *testing.T, s string) origin.Dist {
	t.Helper()
	d, err := origin.ParseDist(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCartConcurrentAddsAllLand: many POSTs to one cart at once (as from
// several tabs through several nodes) all count.
func TestCartConcurrentAddsAllLand(t *testing.T) {
	base, _ := start(t, origin.Config{})
	_, h, _ := do(t, "POST", base+"/api/cart", `{"product_id": "4", "quantity": 1}`, nil)
	var cookie string
	for _, v := range h.Cookies() {
		cookie, _, _ = strings.Cut(string(v), ";")
	}
	const n = 16
	done := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			status, _, _ := do(t, "POST", base+"/api/cart", `{"product_id": "4", "quantity": 1}`, map[string]string{"Cookie": cookie})
			done <- status
		}()
	}
	for i := 0; i < n; i++ {
		if s := <-done; s != 200 {
			t.Fatalf("status %d", s)
		}
	}
	_, _, cart := do(t, "GET", base+"/api/cart", "", map[string]string{"Cookie": cookie})
	if want := `{"items":[{"product_id":"4","quantity":17}]}`; cart != want {
		t.Fatalf("cart %s, want %s", cart, want)
	}
}

// BenchmarkProductFromState: GET /api/products/{id} answered from the state
// tier (a cache-aside hit: one state Get per request), over loopback with
// keep-alive clients; compare with the origin's own cost to see what the
// state round trip adds.
func BenchmarkProductFromState(b *testing.B) {
	base, osrv := start(b, origin.Config{})
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(base, "http://"), MaxConns: 64}
	get := func(req *fasthttp.Request, resp *fasthttp.Response) {
		if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
			b.Fatalf("%v %d", err, resp.StatusCode())
		}
	}
	warm, wresp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	warm.SetRequestURI(base + "/api/products/1")
	get(warm, wresp)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI(base + "/api/products/1")
		for pb.Next() {
			get(req, resp)
		}
	})
	b.StopTimer()
	if hits := osrv.Hits("/products"); hits != 1 {
		b.Fatalf("origin hit %d times", hits)
	}
}
