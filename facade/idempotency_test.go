package facade

import (
	"github.com/valyala/fasthttp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestIdempotency(t *testing.T) {
	store, _ := newStateStore(t)
	var runs atomic.Int64
	newNode := func() string {
		a := newTestApp(t, Config{Store: store})
		m, err := NewIdempotency(store, IdempotencyConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Use(m); err != nil {
			t.Fatal(err)
		}
		mustHandle(t, a, "POST", "/orders", func(c *Ctx) error {
			n := runs.Add(1)
			c.SetHeader("Set-Cookie", "k=v; Path=/")
			c.SetCacheControl("private, no-store")
			c.Write(201, "application/json", []byte(`{"order":`+string(rune('0'+n))+`}`))
			return nil
		})
		mustHandle(t, a, "POST", "/fail", func(c *Ctx) error {
			runs.Add(1)
			return Errorf(503, "try later")
		})
		return serveApp(t, a)
	}
	node1, node2 := newNode(), newNode()
	key := func(k string) map[string]string { return map[string]string{IdempotencyHeader: k} }

	tests := []struct {
		name, base, path, body string
		hdr                    map[string]string
		wantStatus             int
		wantBody               string
		wantReplayed           bool
		wantRuns               int64 // total handler runs after this step
	}{
		{"first request runs", node1, "/orders", "a", key("k1"), 201, `{"order":1}`, false, 1},
		{"same key replays", node1, "/orders", "a", key("k1"), 201, `{"order":1}`, true, 1},
		{"same key on another node replays", node2, "/orders", "a", key("k1"), 201, `{"order":1}`, true, 1},
		{"same key, other body", node2, "/orders", "b", key("k1"), 422, "different body", false, 1},
		{"new key runs", node2, "/orders", "a", key("k2"), 201, `{"order":2}`, false, 2},
		{"no key always runs", node1, "/orders", "a", nil, 201, `{"order":3}`, false, 3},
		{"bad key", node1, "/orders", "a", key("a b"), 400, "Idempotency-Key", false, 3},
		{"key too long", node1, "/orders", "a", key(strings.Repeat("k", 129)), 400, "Idempotency-Key", false, 3},
		{"long key is fine", node1, "/orders", "a", key(strings.Repeat("k", 128)), 201, `{"order":4}`, false, 4},
		{"failures are not kept", node1, "/fail", "a", key("k3"), 503, "try later", false, 5},
		{"so a retry runs again", node1, "/fail", "a", key("k3"), 503, "try later", false, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, "POST", tc.base+tc.path, []byte(tc.body), tc.hdr)
			if status != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("%d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if replayed := string(hdr.Peek("Idempotent-Replayed")) == "true"; replayed != tc.wantReplayed {
				t.Fatalf("replayed %v, want %v", replayed, tc.wantReplayed)
			}
			if tc.wantReplayed {
				var cookie string
				for _, v := range hdr.Cookies() {
					cookie = string(v)
				}
				if !strings.HasPrefix(cookie, "k=v") || string(hdr.Peek("Cache-Control")) != "private, no-store" {
					t.Fatalf("replay lost headers: cookie %q cache-control %q", cookie, hdr.Peek("Cache-Control"))
				}
			}
			if got := runs.Load(); got != tc.wantRuns {
				t.Fatalf("%d runs, want %d", got, tc.wantRuns)
			}
		})
	}
}

func FuzzDecodeAnswer(f *testing.F) {
	for _, b := range [][]byte{{}, {0, 200, 0}, {0, 200, 1, 0, 1, 'a', 0, 1, 'b'}, {0, 201, 1, 0, 10}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r fasthttp.Response
		if err := decodeAnswer(b, &r); err == nil && len(b) >= 3 && r.StatusCode() == 0 {
			t.Fatalf("decoded %x without a status", b)
		}
	})
}
