package edge_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/dataplane/edge"
)

func TestCoalescing(t *testing.T) {
	big := strings.Repeat("B", 200000)
	tests := []struct {
		name     string
		headers  []string
		body     string
		wantHits int64
	}{
		{"cacheable misses share one origin request", []string{"Cache-Control: max-age=60"}, "slow", 1},
		{"waiters read a large body as it arrives", []string{"Cache-Control: max-age=60"}, big, 1},
		{"private responses are not shared", []string{"Cache-Control: private, max-age=60"}, "slow", 8},
		{"Set-Cookie responses are not shared", []string{"Cache-Control: max-age=60", "Set-Cookie: id=1"}, "slow", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBed(t, edge.Config{}, func(int, *http.Request) reply {
				return reply{body: tt.body, delay: 300 * time.Millisecond, headers: tt.headers}
			})
			var wg sync.WaitGroup
			statuses := make([]string, 8)
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, body := b.do("GET", "/c")
					if body != tt.body {
						t.Errorf("waiter %d got %d bytes, want %d", i, len(body), len(tt.body))
					}
					statuses[i] = resp.Header.Get("Cache-Status")
				}()
			}
			wg.Wait()
			b.wantHits(tt.wantHits)
			if tt.wantHits == 1 && !strings.Contains(strings.Join(statuses, "|"), "collapsed") {
				t.Fatalf("no response says collapsed: %v", statuses)
			}
		})
	}
}

// TestPassSkipsCoalescing: once a URL answered privately, concurrent
// requests for it go to the origin side by side instead of queueing.
func TestPassSkipsCoalescing(t *testing.T) {
	b := newBed(t, edge.Config{}, func(int, *http.Request) reply {
		return reply{body: "mine", delay: 100 * time.Millisecond, headers: []string{"Cache-Control: private"}}
	})
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	b.do("GET", "/cart")
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.do("GET", "/cart")
		}()
	}
	wg.Wait()
	b.wantHits(7)
	if v := gatherValue(t, reg, "strata_edge_coalesced_waiters_total"); v != 0 {
		t.Fatalf("%v requests waited behind a private response", v)
	}
}

func gatherValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestStaleIfErrorWhenOriginUnreachable(t *testing.T) {
	tests := []struct {
		name       string
		cc         string
		wantStatus int
		wantCS     string
	}{
		{"stale-if-error serves the stored response", "max-age=1, stale-if-error=300", 200, "detail=stale-if-error"},
		{"without it the client gets 502", "max-age=1", 502, "detail=origin-error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBed(t, edge.Config{}, fixed(200, "keep me", "Cache-Control: "+tt.cc))
			b.do("GET", "/s")
			b.originSrv.Close() // connection refused from now on
			b.advance(10)
			resp, _ := b.do("GET", "/s")
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Header.Get("Cache-Status"), tt.wantCS) {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Cache-Status"))
			}
		})
	}
}

func TestRawProtocolSafety(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    []string // substrings of the raw answer, in order
		hits    int64
	}{
		{"conflicting Content-Length and Transfer-Encoding rejected",
			"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			[]string{"HTTP/1.1 400", "conflicting-framing", "Connection: close"}, 0},
		{"header over the size limit is 431",
			"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 5000) + "\r\n\r\n",
			[]string{"HTTP/1.1 431"}, 0},
		{"too many header fields is 431",
			"GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-F: 1\r\n", 40) + "\r\n",
			[]string{"HTTP/1.1 431", "too-many-fields"}, 0},
		{"garbage is 400", "NOT HTTP\r\n\r\n", []string{"HTTP/1.1 400"}, 0},
		{"HTTP/1.1 without Host is 400", "GET / HTTP/1.1\r\n\r\n", []string{"HTTP/1.1 400"}, 0},
		{"pipelined requests answered in order",
			"GET /p1 HTTP/1.1\r\nHost: a\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a\r\n\r\nGET /p1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			[]string{"body=/p1", "body=/p2", "strata; hit", "body=/p1"}, 2},
		{"HTTP/1.0 keep-alive is honoured",
			"GET /k HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			[]string{"Connection: keep-alive"}, 1},
		{"HTTP/1.0 without keep-alive is closed", "GET /k HTTP/1.0\r\n\r\n", []string{"HTTP/1.1 200", "Connection: close"}, 1},
		{"Expect: 100-continue",
			"POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
			[]string{"HTTP/1.1 100 Continue", "HTTP/1.1 200"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBed(t, edge.Config{MaxHeaderBytes: 4096, MaxHeaderCount: 30}, func(_ int, r *http.Request) reply {
				return reply{body: "body=" + r.URL.Path, headers: []string{"Cache-Control: max-age=60"}}
			})
			out := b.raw(tt.payload)
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("answer lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			b.wantHits(tt.hits)
		})
	}
}

func TestShutdownFinishesInFlight(t *testing.T) {
	b := newBed(t, edge.Config{}, func(int, *http.Request) reply {
		return reply{body: "done", delay: 500 * time.Millisecond}
	})
	got := make(chan string, 1)
	go func() {
		_, body := b.do("GET", "/slow")
		got <- body
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.edge.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if body := <-got; body != "done" {
		t.Fatalf("in-flight request got %q", body)
	}
	if _, err := net.DialTimeout("tcp", b.addr, time.Second); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestPurgeAPIAndTags(t *testing.T) {
	b := newBed(t, edge.Config{}, func(_ int, r *http.Request) reply {
		tag := "Surrogate-Key: all " + strings.TrimPrefix(r.URL.Path, "/")
		if r.URL.Path == "/c" {
			tag = "Cache-Tag: other"
		}
		return reply{body: r.URL.Path, headers: []string{"Cache-Control: max-age=60", "ETag: \"x\"", tag}}
	})
	for _, p := range []string{"/a", "/b", "/c"} {
		b.do("GET", p)
	}
	admin := httptest.NewServer(b.edge.AdminHandler())
	t.Cleanup(admin.Close)
	tests := []struct {
		name, query string
		status      int
		want        string
		hitsAfter   map[string]bool // path -> still a hit
	}{
		{"GET is refused", "", http.StatusMethodNotAllowed, "", nil},
		{"soft purge by tag keeps entries but stales them", "tag=b&soft=1", 200, `{"purged":1,"soft":true}`, map[string]bool{"/a": true}},
		{"purge by tag", "tag=all", 200, `{"purged":2,"soft":false}`, map[string]bool{"/c": true}},
		{"purge by url", "url=http://" + "HOST/c", 200, `{"purged":1,"soft":false}`, nil},
		{"bad url", "url=/relative", 400, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := strings.ReplaceAll(tt.query, "HOST", b.addr)
			method := http.MethodPost
			if tt.query == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, admin.URL+"/purge?"+q, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, 256)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || (tt.want != "" && strings.TrimSpace(string(body[:n])) != tt.want) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body[:n], tt.status, tt.want)
			}
			for p, hit := range tt.hitsAfter {
				resp, _ := b.do("GET", p)
				if got := strings.Contains(resp.Header.Get("Cache-Status"), "hit"); got != hit {
					t.Fatalf("%s hit=%v (%s), want %v", p, got, resp.Header.Get("Cache-Status"), hit)
				}
			}
		})
	}
}

func TestMetricsRegistered(t *testing.T) {
	b := newBed(t, edge.Config{}, fixed(200, "m", "Cache-Control: max-age=60"))
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	b.do("GET", "/m")
	b.do("GET", "/m")
	b.do("PURGE", "/m")
	for name, want := range map[string]float64{
		"strata_edge_hits_total":             1,
		"strata_edge_misses_total":           1,
		"strata_edge_purged_objects_total":   1,
		"strata_edge_stored_objects":         0,
		"strata_edge_evicted_objects_total":  0,
		"strata_edge_purge_duration_seconds": 0,
	} {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			found = true
			m := mf.GetMetric()[0]
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount()) - 1 // one purge observed
			}
			if v != want {
				t.Errorf("%s = %v, want %v", name, v, want)
			}
		}
		if !found {
			t.Errorf("metric %s not registered", name)
		}
	}
}

// TestMemoryBound fills an edge far beyond --memory: the store stays within
// its budget and evicts.
func TestMemoryBound(t *testing.T) {
	const memory = 1 << 20
	b := newBed(t, edge.Config{MemoryBytes: memory}, func(_ int, r *http.Request) reply {
		return reply{body: strings.Repeat("m", 8000), headers: []string{"Cache-Control: max-age=600"}}
	})
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	for i := range 400 { // about 3 MiB of bodies
		b.do("GET", "/m/"+strings.Repeat("k", i%7)+string(rune('a'+i%26))+"/"+time.Duration(i).String())
		if used := gatherValue(t, reg, "strata_edge_stored_bytes"); used > memory {
			t.Fatalf("stored bytes %v over the %d budget", used, memory)
		}
	}
	if ev := gatherValue(t, reg, "strata_edge_evicted_objects_total"); ev == 0 {
		t.Fatal("nothing was evicted")
	}
}
