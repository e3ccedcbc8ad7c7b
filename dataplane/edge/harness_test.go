package edge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// reply is what the scripted origin answers.
type reply struct {
	status  int
	headers []string // "Name: value" lines; Date defaults to the test clock
	body    string
	delay   time.Duration
	noDate  bool
}

// script decides the origin's answer to its n-th request (1-based).
type script func(n int, r *http.Request) reply

// bed is one edge in front of one scripted origin, sharing a fake clock.
type bed struct {
	t         *testing.T
	edge      *edge.Edge
	addr      string
	clock     atomic.Int64
	hits      atomic.Int64
	mu        sync.Mutex
	script    script
	last      *http.Request // the origin's last request
	lastBody  string        // and its body
	client    *http.Client
	originSrv *http.Server
}

func newBed(t *testing.T, cfg edge.Config, s script) *bed {
	t.Helper()
	b := &bed{t: t, script: s}
	b.clock.Store(time.Now().Unix())
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	osrv := &http.Server{Handler: http.HandlerFunc(b.serveOrigin)}
	go osrv.Serve(oln)
	t.Cleanup(func() { osrv.Close() })

	cfg.Origin = "http://" + oln.Addr().String()
	if cfg.OriginTimeout == 0 {
		cfg.OriginTimeout = 2 * time.Second
	}
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = 16 << 20
	}
	e, err := edge.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.SetClock(func() int64 { return b.clock.Load() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	b.edge, b.addr, b.originSrv = e, ln.Addr().String(), osrv
	b.client = &http.Client{
		Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	t.Cleanup(b.client.CloseIdleConnections)
	return b
}

func (b *bed) serveOrigin(w http.ResponseWriter, r *http.Request) {
	n := int(b.hits.Add(1))
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.last, b.lastBody = r, string(body)
	s := b.script
	b.mu.Unlock()
	rp := s(n, r)
	if rp.delay > 0 {
		time.Sleep(rp.delay)
	}
	if !rp.noDate {
		w.Header().Set("Date", httpDate(b.clock.Load()))
	} else {
		w.Header()["Date"] = nil
	}
	for _, h := range rp.headers {
		k, v, _ := strings.Cut(h, ":")
		w.Header().Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if rp.status == 0 {
		rp.status = 200
	}
	w.WriteHeader(rp.status)
	io.WriteString(w, rp.body)
}

func (b *bed) lastOriginRequest() *http.Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

func (b *bed) lastOriginBody() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastBody
}

func httpDate(unix int64) string { return time.Unix(unix, 0).UTC().Format(http.TimeFormat) }

// do sends one request to the edge; headers are "Name: value" lines.
func (b *bed) do(method, path string, headers ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, "http://"+b.addr+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Add(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, string(body)
}

// raw sends bytes on a fresh connection and returns everything the edge
// answers until it closes or a second passes quietly.
func (b *bed) raw(payload string) string {
	b.t.Helper()
	c, err := net.Dial("tcp", b.addr)
	if err != nil {
		b.t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(payload))
	c.SetReadDeadline(time.Now().Add(time.Second))
	out, _ := io.ReadAll(bufio.NewReader(c))
	return string(out)
}

func (b *bed) advance(sec int64) { b.clock.Add(sec) }

func (b *bed) wantHits(n int64) {
	b.t.Helper()
	if got := b.hits.Load(); got != n {
		b.t.Fatalf("origin hits = %d, want %d", got, n)
	}
}

func fmtHeader(h http.Header) string {
	var sb strings.Builder
	for k, v := range h {
		fmt.Fprintf(&sb, "%s: %s\n", k, strings.Join(v, ", "))
	}
	return sb.String()
}
