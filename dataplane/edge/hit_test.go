package edge

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// hitFixture is an edge holding one stored 1 KB object and a connection
// whose writer discards, so the hit path runs without sockets.
func hitFixture(tb testing.TB) (*Edge, *conn) {
	tb.Helper()
	return hitFixtureFor(tb, nil, "GET /obj HTTP/1.1\r\nHost: example.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
}

// hitFixtureFor stores a response with the extra fields and parses raw as
// the connection's current request.
func hitFixtureFor(tb testing.TB, fields []string, raw string) (*Edge, *conn) {
	tb.Helper()
	e, err := New(Config{Origin: "http://127.0.0.1:1", MemoryBytes: 8 << 20}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now().Unix()
	e.now = func() int64 { return now }
	var rh fasthttp.ResponseHeader
	rh.SetStatusCode(200)
	rh.Set("Cache-Control", "max-age=3600")
	rh.Set("Content-Type", "application/octet-stream")
	rh.Set("ETag", `"abc"`)
	for _, f := range fields {
		k, v, _ := strings.Cut(f, ": ")
		rh.Add(k, v)
	}
	p := parseResponse(&rh, now)
	var req fasthttp.Request
	if err := req.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		tb.Fatal(err)
	}
	o := e.buildObject(p, []byte(strings.Repeat("x", 1024)), now, now, &req)
	key := appendKey(nil, &req)
	if err := e.insert(key, &req, o); err != nil {
		tb.Fatal(err)
	}
	c1, c2 := net.Pipe()
	tb.Cleanup(func() { c1.Close(); c2.Close() })
	c := newConn(e, c1)
	c.bw = bufio.NewWriterSize(io.Discard, 16<<10)
	if err := c.req.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		tb.Fatal(err)
	}
	return e, c
}

func TestHitPathAllocatesNothing(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		raw    string
	}{
		{"GET", nil, "GET /obj HTTP/1.1\r\nHost: example.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"},
		{"HEAD", nil, "HEAD /obj HTTP/1.1\r\nHost: example.test\r\n\r\n"},
		{"Vary variant", []string{"Vary: Accept-Language"}, "GET /obj HTTP/1.1\r\nHost: example.test\r\nAccept-Language: de\r\n\r\n"},
		{"If-None-Match answered 304", nil, "GET /obj HTTP/1.1\r\nHost: example.test\r\nIf-None-Match: \"abc\"\r\n\r\n"},
		{"HTTP/1.0 keep-alive", nil, "GET /obj HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n"},
		// Host and target validation run on every hit.
		{"Host with port", nil, "GET /obj HTTP/1.1\r\nHost: Example.Test:8080\r\nUser-Agent: wrk\r\n\r\n"},
		{"IPv6 Host", nil, "GET /obj HTTP/1.1\r\nHost: [2001:db8::1.2.3.4]:80\r\n\r\n"},
		{"absolute-form", nil, "GET http://example.test/obj HTTP/1.1\r\nHost: other.test\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c := hitFixtureFor(t, tt.fields, tt.raw)
			before := e.store.Stats()
			n := testing.AllocsPerRun(1000, func() { e.handle(c) })
			if n != 0 {
				t.Fatalf("hit path allocates %v times per request", n)
			}
			if hits := testCounter(e.m.hits); hits < 1000 {
				t.Fatalf("hits counter = %v: the requests were not hits", hits)
			}
			if e.store.Stats().Objects != before.Objects {
				t.Fatal("a hit changed the store")
			}
		})
	}
}

// TestHitWritesStoredBytes checks what a hit puts on the wire.
func TestHitWritesStoredBytes(t *testing.T) {
	e, c := hitFixture(t)
	var sb strings.Builder
	c.bw = bufio.NewWriter(&sb)
	base := e.now()
	e.now = func() int64 { return base + 7 }
	e.handle(c)
	c.bw.Flush()
	out := sb.String()
	for _, want := range []string{"HTTP/1.1 200 OK\r\n", "\r\nAge: 7\r\n", "\r\nCache-Status: strata; hit; ttl=3593\r\n", "\r\nContent-Length: 1024\r\n", "\r\nVia: 1.1 strata\r\n", "\r\n\r\n" + strings.Repeat("x", 1024)} {
		if !strings.Contains(out, want) {
			t.Fatalf("hit response lacks %q:\n%s", want, out)
		}
	}
}

func BenchmarkHit(b *testing.B) {
	e, c := hitFixture(b)
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		e.handle(c)
	}
}

// BenchmarkHitParse includes parsing the request, as a connection does.
func BenchmarkHitParse(b *testing.B) {
	e, c := hitFixture(b)
	raw := []byte("GET /obj HTTP/1.1\r\nHost: example.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	rd := &repeatReader{data: raw}
	br := bufio.NewReaderSize(rd, 4096)
	b.ReportAllocs()
	for b.Loop() {
		c.req.Reset()
		if err := c.req.Header.Read(br); err != nil {
			b.Fatal(err)
		}
		e.handle(c)
	}
}

type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m := copy(p[n:], r.data[r.off:])
		n += m
		r.off = (r.off + m) % len(r.data)
	}
	return n, nil
}
