package edge

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/accesslog"
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
			al := discardLog(t)
			e.cfg.AccessLog = al
			before := e.store.Stats()
			// As the connection loop does: account, answer, flush, then
			// count, observe the duration and log.
			n := testing.AllocsPerRun(1000, func() {
				c.begin()
				e.handle(c)
				c.bw.Flush()
				c.finish()
			})
			if n != 0 {
				t.Fatalf("hit path allocates %v times per request", n)
			}
			if hits := testCounter(e.m.hits); hits < 1000 {
				t.Fatalf("hits counter = %v: the requests were not hits", hits)
			}
			status := 2
			if strings.Contains(tt.raw, "If-None-Match") {
				status = 3
			}
			if n := testCounter(e.m.requests[outcomeHit][status]); n < 1000 {
				t.Fatalf("requests_total{outcome=hit} = %v, want at least 1000", n)
			}
			al.Close()
			if al.Written()+al.Dropped() < 1000 {
				t.Fatalf("access log took %d entries (%d dropped), want 1000", al.Written(), al.Dropped())
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

// BenchmarkHitAccounted adds what the connection loop does around a hit:
// the clock, the counters, the duration histogram and, with -log, a
// sampled access log entry.
func BenchmarkHitAccounted(b *testing.B) {
	for _, logged := range []bool{false, true} {
		name := "metrics"
		if logged {
			name = "metrics+accesslog"
		}
		b.Run(name, func(b *testing.B) {
			e, c := hitFixture(b)
			if logged {
				e.cfg.AccessLog = discardLog(b)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.begin()
				e.handle(c)
				c.bw.Flush()
				c.finish()
			}
		})
	}
}

// discardLog is an access log writing to io.Discard.
func discardLog(tb testing.TB) *accesslog.Writer {
	tb.Helper()
	al, err := accesslog.New(io.Discard, accesslog.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { al.Close() })
	return al
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
