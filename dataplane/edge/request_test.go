package edge_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// echoBed is an edge in front of a lenient origin that answers every
// request with its request line, Host and X-Forwarded-Host, cacheable for
// a minute. Lenient like many real origins: Go's net/http would refuse the
// malformed requests itself and hide what the edge let through.
func echoBed(t *testing.T) *bed {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{t: t}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go b.serveLenient(nc)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	e, err := edge.New(edge.Config{Origin: "http://" + ln.Addr().String(), MemoryBytes: 16 << 20, OriginTimeout: 2 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	eln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(eln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	b.edge, b.addr = e, eln.Addr().String()
	return b
}

// serveLenient reads request heads (GET, no body) and echoes them.
func (b *bed) serveLenient(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		reqLine, host, xfh := strings.TrimRight(line, "\r\n"), "", ""
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			k, v, _ := strings.Cut(l, ":")
			switch strings.ToLower(k) {
			case "host":
				host = strings.TrimSpace(v)
			case "x-forwarded-host":
				xfh = strings.TrimSpace(v)
			}
		}
		b.hits.Add(1)
		_, target, _ := strings.Cut(reqLine, " ")
		target, _, _ = strings.Cut(target, " ")
		body := "host=" + host + " target=" + target + " xfh=" + xfh
		fmt.Fprintf(nc, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nDate: %s\r\nContent-Length: %d\r\n\r\n%s",
			time.Now().UTC().Format(http.TimeFormat), len(body), body)
	}
}

func statusOf(raw string) string {
	line, _, _ := strings.Cut(raw, "\r\n")
	return line
}

// TestHostCannotPoisonAnotherURL is the attack of finding 7: a Host with a
// path in it reached the origin as another URL and was stored under the
// victim's key.
func TestHostCannotPoisonAnotherURL(t *testing.T) {
	b := echoBed(t)
	out := b.raw("GET /profile?z=1 HTTP/1.1\r\nHost: a.test/account\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 400") {
		t.Fatalf("attacker's request answered %q, want 400", statusOf(out))
	}
	b.wantHits(0)
	out = b.raw("GET /account/profile?z=1 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "host=a.test target=/account/profile?z=1") || strings.Contains(out, "; hit") {
		t.Fatalf("victim got:\n%s", out)
	}
}

func TestInvalidHostRefused(t *testing.T) {
	for _, host := range []string{
		"a.test/account", "a.test x", "a.test#x", "a.test?x", "a.test\tx", "a.test@evil.test", "u:p@a.test",
		"a.test:", "a.test:8o", "a.test:99999", ":80", "[::1", "[::1]x", "[fe80::1%25eth0]", "[v1.x]", "%61.test",
		"a.test:80:80", "a\\b", "a\"b", "[1.2.3.4]",
	} {
		t.Run(host, func(t *testing.T) {
			b := echoBed(t)
			out := b.raw("GET /p HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Fatalf("answered %q, want 400", statusOf(out))
			}
			b.wantHits(0)
		})
	}
}

func TestValidHostAccepted(t *testing.T) {
	for _, host := range []string{"a.test", "A.Test:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8080",
		"[2001:db8::ffff:1.2.3.4]", "xn--bcher-kva.example", "under_score.test", "a-b.test"} {
		t.Run(host, func(t *testing.T) {
			b := echoBed(t)
			out := b.raw("GET /p HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(strings.ToLower(out), "host="+strings.ToLower(host)+" target=/p") {
				t.Fatalf("answered:\n%s", out)
			}
		})
	}
}

// TestDoubleSlashTargetKeepsHost: fasthttp's client took origin-form
// "//x?u=http://y" for host x, so the origin served x's page for a.test's key.
func TestDoubleSlashTargetKeepsHost(t *testing.T) {
	b := echoBed(t)
	out := b.raw("GET //evil.test?u=http://evil.test/ HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "host=a.test target=//evil.test?u=http://evil.test/ ") {
		t.Fatalf("origin saw another request:\n%s", out)
	}
}

// TestAbsoluteFormWinsOverHost: RFC 9112 section 3.2.2, for the key, the
// origin's Host and X-Forwarded-Host alike.
func TestAbsoluteFormWinsOverHost(t *testing.T) {
	b := echoBed(t)
	out := b.raw("GET http://b.test/y?q HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "host=b.test target=/y?q xfh=b.test") {
		t.Fatalf("absolute form not used:\n%s", out)
	}
	out = b.raw("GET /y?q HTTP/1.1\r\nHost: B.test\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "strata; hit") {
		t.Fatalf("origin-form request for the same URL is not a hit:\n%s", out)
	}
	out = b.raw("GET http://b.test?q HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
	if !strings.Contains(out, "host=b.test target=/?q ") {
		t.Fatalf("absolute form without a path:\n%s", out)
	}
}

func TestBadTargetsRefused(t *testing.T) {
	for _, line := range []string{
		"GET https://a.test/ HTTP/1.1", "GET ftp://a.test/ HTTP/1.1", "GET http:///x HTTP/1.1",
		"GET http://u@a.test/ HTTP/1.1", "GET http://a.test/account@x HTTP/1.1\r\nHost: a.test@x",
		"GET /p#frag HTTP/1.1", "GET http://a.test/p#frag HTTP/1.1", "GET * HTTP/1.1", "GET a.test/p HTTP/1.1",
	} {
		t.Run(line, func(t *testing.T) {
			b := echoBed(t)
			out := b.raw(line + "\r\nHost: a.test\r\nConnection: close\r\n\r\n")
			if !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Fatalf("answered %q, want 400", statusOf(out))
			}
			b.wantHits(0)
		})
	}
}

func TestHostFieldCount(t *testing.T) {
	for name, payload := range map[string]string{
		"missing on HTTP/1.1": "GET /p HTTP/1.1\r\nConnection: close\r\n\r\n",
		"empty on HTTP/1.1":   "GET /p HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
		"two Host fields":     "GET /p HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
		"two, one empty":      "GET /p HTTP/1.1\r\nHost: a.test\r\nHost:\r\nConnection: close\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := echoBed(t)
			if out := b.raw(payload); !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Fatalf("answered %q, want 400", statusOf(out))
			}
			b.wantHits(0)
		})
	}
}

// TestFieldSyntaxRefused is finding 10: field lines a proxy must refuse
// (RFC 9112 sections 5.1, 5.2) were forwarded or silently joined.
func TestFieldSyntaxRefused(t *testing.T) {
	for name, fields := range map[string]string{
		"space in name":          "Content Length: 5\r\n",
		"obs-fold":               "X-A: 1\r\n continued\r\n",
		"obs-fold with tab":      "X-A: 1\r\n\tcontinued\r\n",
		"obs-fold into Host":     "X-A: 1\r\nAccept: */*\r\n\tX-B: 2\r\n",
		"parenthesis in name":    "X(A): 1\r\n",
		"at sign in name":        "X@A: 1\r\n",
		"slash in name":          "X/A: 1\r\n",
		"control char in value":  "X-A: a\x01b\r\n",
		"DEL in value":           "X-A: a\x7fb\r\n",
		"escape in value":        "X-A: \x1b[31m\r\n",
		"non-token byte in name": "X\xffA: 1\r\n",
		"NUL in value":           "X-A: a\x00b\r\n",
		"CR in value":            "X-A: a\rb\r\n",
		"empty name":             ": 1\r\n",
		"no colon":               "X-A 1\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := echoBed(t)
			out := b.raw("GET /p HTTP/1.1\r\nHost: a.test\r\n" + fields + "Connection: close\r\n\r\n")
			if !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Fatalf("answered %q, want 400:\n%s", statusOf(out), out)
			}
			b.wantHits(0)
		})
	}
	b := echoBed(t)
	out := b.raw("GET /p HTTP/1.1\r\nHost: a.test\r\nX-Tab: a\tb\r\nX-Odd: !#$%&'*+-.^_`|~\r\nX-Utf8: \xc3\xa9\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200") {
		t.Fatalf("valid fields refused: %q", statusOf(out))
	}
}

func TestAsteriskFormForOptions(t *testing.T) {
	b := echoBed(t)
	out := b.raw("OPTIONS * HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, "host=a.test target=* ") {
		t.Fatalf("OPTIONS * answered:\n%s", out)
	}
}
