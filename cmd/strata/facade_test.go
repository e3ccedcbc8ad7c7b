package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/statetest"
)

func TestParseTrustPriority(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "[127.0.0.0/8 ::1/128]"},
		{[]string{"none"}, "[]"},
		{[]string{"198.18.0.1/32"}, "[198.18.0.1/32]"},
		{[]string{"10.0.0.0/8", "::1/128"}, "[10.0.0.0/8 ::1/128]"},
	} {
		got, err := parseTrustPriority(tc.in)
		if err != nil || fmt.Sprint(got) != tc.want {
			t.Fatalf("parseTrustPriority(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestFacadeAndOriginBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"facade without state", []string{"facade"}, "--state"},
		{"facade bad state address", []string{"facade", "--state", "nowhere"}, "--state"},
		{"facade zero inflight", []string{"facade", "--state", "127.0.0.1:1", "--max-inflight", "0"}, "--max-inflight"},
		{"facade bad queue time", []string{"facade", "--state", "127.0.0.1:1", "--max-queue-time", "0s"}, "--max-queue-time"},
		{"facade bad log level", []string{"facade", "--state", "127.0.0.1:1", "--log-level", "loud"}, "--log-level"},
		{"facade missing state secret", []string{"facade", "--state", "127.0.0.1:1", "--state-secret-file", "/nonexistent/secret"}, "--state-secret-file"},
		{"facade body buffer below the body limit", []string{"facade", "--state", "127.0.0.1:1", "--max-body-buffer", "64KiB"}, "--max-body-buffer"},
		{"facade bad trust-priority-from", []string{"facade", "--state", "127.0.0.1:1", "--trust-priority-from", "edge"}, "--trust-priority-from"},
		{"facade bad access log sample", []string{"facade", "--state", "127.0.0.1:1", "--access-log", "-", "--access-log-sample", "0"}, "--access-log-sample"},
		{"facade unwritable access log", []string{"facade", "--state", "127.0.0.1:1", "--access-log", "/nonexistent/dir/access.log"}, "--access-log"},
		{"origin bad latency", []string{"origin", "--latency", "fast"}, "--latency"},
		{"origin bad error rate", []string{"origin", "--error-rate", "2"}, "--error-rate"},
		{"origin bad route latency", []string{"origin", "--route-latency", "svc=1ms"}, "--route-latency"},
		{"origin bad route error rate", []string{"origin", "--route-error-rate", "/svc=x"}, "--route-error-rate"},
		{"origin negative workers", []string{"origin", "--workers", "-1"}, "--workers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != 2 || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, tt.mention) {
				t.Fatalf("exit %d, stderr %q; want 2 and one line naming %s", code, stderr, tt.mention)
			}
		})
	}
}

type httpAnswer struct {
	status int
	header http.Header
	body   string
}

func httpDo(t *testing.T, method, url, body string, hdr map[string]string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, resp.Header, string(b)}
}

// facadeProc is one strata facade process of a sample stack.
type facadeProc struct {
	url, metrics string
	*proc
}

// sampleStack runs a real state node (in-process), the sample origin and
// n facades as strata processes, and returns the facades and the origin's
// URL.
func sampleStack(t *testing.T, n int, originArgs ...string) ([]facadeProc, string) {
	t.Helper()
	state := statetest.Start(t)
	originAddr := freePort(t)
	strataProc(t, nil, append([]string{"origin", "--listen", originAddr}, originArgs...)...)
	waitServing(t, originAddr)
	var out []facadeProc
	for i := 0; i < n; i++ {
		addr, metrics := freePort(t), freePort(t)
		p := strataProc(t, nil, "facade", "--listen", addr, "--state", state.Addr, "--origin", "http://"+originAddr,
			"--node-id", "fac-"+string(rune('1'+i)), "--metrics", metrics, "--drain-delay", "0s")
		waitServing(t, addr)
		out = append(out, facadeProc{"http://" + addr, "http://" + metrics, p})
	}
	return out, "http://" + originAddr
}

// TestFacadeStatelessness: the cart a killed facade wrote is served by the
// others; a product loaded by one node is served from the state tier by
// another without a second origin hit.
func TestFacadeStatelessness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts strata processes; skipped in -short")
	}
	facades, origin := sampleStack(t, 3)
	urls := []string{facades[0].url, facades[1].url, facades[2].url}
	ct := map[string]string{"Content-Type": "application/json"}

	post := httpDo(t, "POST", urls[0]+"/api/cart", `{"product_id": "7", "quantity": 3}`, ct)
	if post.status != 200 || post.body != `{"items":[{"product_id":"7","quantity":3}]}` {
		t.Fatalf("POST /api/cart: %d %q", post.status, post.body)
	}
	cookie, _, _ := strings.Cut(post.header.Get("Set-Cookie"), ";")
	if !strings.HasPrefix(cookie, "strata_session=") {
		t.Fatalf("no session cookie: %q", post.header.Get("Set-Cookie"))
	}
	if err := facades[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	facades[0].cmd.Wait()

	withCookie := map[string]string{"Cookie": cookie}
	tests := []struct {
		name, method, url, body string
		hdr                     map[string]string
		wantStatus              int
		wantBody                string
		wantCacheControl        string
	}{
		{"node 2 reads the cart", "GET", urls[1] + "/api/cart", "", withCookie, 200, `{"items":[{"product_id":"7","quantity":3}]}`, "private, no-store"},
		{"node 3 adds to it", "POST", urls[2] + "/api/cart", `{"product_id": "7", "quantity": 1}`, withCookie, 200, `{"items":[{"product_id":"7","quantity":4}]}`, "private, no-store"},
		{"node 2 sees that", "GET", urls[1] + "/api/cart", "", withCookie, 200, `{"items":[{"product_id":"7","quantity":4}]}`, "private, no-store"},
		{"no cookie, empty cart", "GET", urls[1] + "/api/cart", "", nil, 200, `{"items":[]}`, "private, no-store"},
		{"bad cart item", "POST", urls[1] + "/api/cart", `{"product_id": "7", "quantity": 0}`, nil, 400, "quantity", "no-store"},
		{"unknown field", "POST", urls[1] + "/api/cart", `{"product": "7", "quantity": 1}`, nil, 400, "product", "no-store"},
		{"whoami names the node", "GET", urls[2] + "/whoami", "", nil, 200, `{"node":"fac-3"}`, "no-store"},
		{"product from the origin", "GET", urls[1] + "/api/products/5", "", nil, 200, `"id":"5"`, "public, max-age=30"},
		{"same product from the state tier on another node", "GET", urls[2] + "/api/products/5", "", nil, 200, `"id":"5"`, "public, max-age=30"},
		{"unknown product", "GET", urls[2] + "/api/products/99999", "", nil, 404, "no product", "no-store"},
		{"origin hit once for product 5, once for the unknown one", "GET", origin + "/stats", "", nil, 200, `"/products":2`, "no-store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := httpDo(t, tc.method, tc.url, tc.body, tc.hdr)
			if a.status != tc.wantStatus || !strings.Contains(a.body, tc.wantBody) {
				t.Fatalf("%d %q, want %d containing %q", a.status, a.body, tc.wantStatus, tc.wantBody)
			}
			if cc := a.header.Get("Cache-Control"); cc != tc.wantCacheControl {
				t.Fatalf("Cache-Control %q, want %q", cc, tc.wantCacheControl)
			}
		})
	}
}

// TestFacadeCatalogNamesHungPart: with the reviews service hung, the
// catalog still answers, without ratings, naming reviews as missing.
func TestFacadeCatalogNamesHungPart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts strata processes; skipped in -short")
	}
	facades, _ := sampleStack(t, 1, "--route-latency", "/svc/reviews=hang")
	start := time.Now()
	a := httpDo(t, "GET", facades[0].url+"/api/catalog", "", nil)
	elapsed := time.Since(start)
	var body struct {
		Products []map[string]any `json:"products"`
		Missing  []string         `json:"missing"`
		Partial  bool             `json:"partial"`
	}
	if err := json.Unmarshal([]byte(a.body), &body); err != nil || a.status != 200 {
		t.Fatalf("%d %q: %v", a.status, a.body, err)
	}
	if len(body.Missing) != 1 || body.Missing[0] != "reviews" || !body.Partial || len(body.Products) == 0 {
		t.Fatalf("catalog %+v", body)
	}
	if _, rated := body.Products[0]["rating"]; rated {
		t.Fatalf("product rated although reviews are missing: %v", body.Products[0])
	}
	if _, stocked := body.Products[0]["stock"]; !stocked {
		t.Fatalf("inventory missing from %v", body.Products[0])
	}
	if cc := a.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("partial catalog cacheable: %q", cc)
	}
	t.Logf("catalog with a hung optional part answered in %v (optional timeout 150ms, hang 1 minute)", elapsed)
}

// TestFacadeDrain: SIGTERM lets a request in flight finish, then the
// process exits 0.
func TestFacadeDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("starts strata processes; skipped in -short")
	}
	// A slow origin keeps a product request in flight (1.5 s of its 2 s
	// budget) while the node is told to stop.
	facades, _ := sampleStack(t, 1, "--route-latency", "/products=1500ms")
	f := facades[0]
	got := make(chan httpAnswer, 1)
	go func() { got <- httpDo(t, "GET", f.url+"/api/products/3", "", nil) }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if strings.Contains(httpDo(t, "GET", f.metrics+"/load", "", nil).body, `"inflight":1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the product request never showed in flight")
		}
	}
	if err := f.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if a := <-got; a.status != 200 {
		t.Fatalf("in-flight request during drain: %d %q", a.status, a.body)
	}
	if err := f.cmd.Wait(); err != nil {
		t.Fatalf("facade exit after SIGTERM: %v (stderr %s)", err, f.stderr)
	}
}
