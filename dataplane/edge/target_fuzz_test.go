package edge

import (
	"bufio"
	"bytes"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// refRegName and refPort are RFC 3986's reg-name (without pct-encoded,
// which validHost refuses on purpose) and port (at least one digit).
var (
	refRegName = regexp.MustCompile(`^[A-Za-z0-9\-._~!$&'()*+,;=]+$`)
	refPort    = regexp.MustCompile(`^[0-9]{1,5}$`)
)

// refValidHost is the reference validHost is fuzzed against: the grammar
// written as regular expressions, IPv6 by net/netip.
func refValidHost(s string) bool {
	var port string
	hasPort := false
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return false
		}
		a, err := netip.ParseAddr(s[1:i])
		if err != nil || !a.Is6() || a.Zone() != "" || strings.Contains(s[1:i], "%") {
			return false
		}
		rest := s[i+1:]
		if rest != "" {
			if rest[0] != ':' {
				return false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		var host string
		host, port, hasPort = strings.Cut(s, ":")
		if !refRegName.MatchString(host) {
			return false
		}
	}
	if hasPort {
		n, err := strconv.Atoi(port)
		if !refPort.MatchString(port) || err != nil || n > 65535 {
			return false
		}
	}
	return true
}

// FuzzValidHost checks validHost against the reference, and that every
// host it accepts means the same to net/url and, through the request the
// edge builds, to the origin: the same host, no userinfo, the target
// untouched. Seeds are in testdata/fuzz/FuzzValidHost.
func FuzzValidHost(f *testing.F) {
	for _, s := range []string{"a.test", "a.test:80", "[::1]:8080", "a.test/account", "a.test@evil.test",
		"[fe80::1%25eth0]", "1.2.3.4", "[::ffff:1.2.3.4]", "a.test:", "%41"} {
		f.Add([]byte(s), []byte("/p?q=1"))
	}
	f.Fuzz(func(t *testing.T, host, target []byte) {
		got, want := validHost(host), refValidHost(string(host))
		if got != want {
			t.Fatalf("validHost(%q) = %v, reference says %v", host, got, want)
		}
		if !got {
			return
		}
		u, err := url.Parse("http://" + string(host) + "/p")
		if err != nil || u.User != nil || u.Host != string(host) || u.Path != "/p" {
			t.Fatalf("net/url reads http://%s/p as %#v (%v)", host, u, err)
		}
		if len(target) == 0 || target[0] != '/' || bytes.ContainsAny(target, "# \r\n\t\x00") {
			return
		}
		key, sentHost, sentTarget := sendThroughClient(t, host, target)
		if key == nil {
			return
		}
		if !bytes.EqualFold(sentHost, host) {
			t.Fatalf("Host %q, target %q reached the origin as Host %q", host, target, sentHost)
		}
		if sent := "http://" + string(lower(sentHost)) + string(sentTarget); sent != string(key) {
			t.Fatalf("Host %q, target %q: stored under %q, the origin was asked for %q", host, target, key, sent)
		}
	})
}

// sendThroughClient builds the origin request the edge builds for host and
// target and returns its cache key and the Host and target fasthttp's
// client writes; no key when the edge refuses the request.
func sendThroughClient(t *testing.T, host, target []byte) (key, sentHost, sentTarget []byte) {
	t.Helper()
	var in fasthttp.Request
	raw := "GET " + string(target) + " HTTP/1.1\r\nHost: " + string(host) + "\r\n\r\n"
	if err := in.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Skip("fasthttp does not parse it:", err)
	}
	if _, bad := scanRequest(in.Header.RawHeaders()); bad != "" || checkTarget(&in.Header) != "" {
		return nil, nil, nil
	}
	e := &Edge{originHost: "origin.test", originScheme: "http"}
	c := &conn{e: e}
	in.CopyTo(&c.req)
	var out fasthttp.Request
	e.originRequest(&out, c, true)
	out.URI().DisablePathNormalizing = true // as the HostClient sets it
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := out.Write(w); err != nil {
		t.Fatalf("writing the origin request: %v", err)
	}
	w.Flush()
	var back fasthttp.RequestHeader
	if err := back.Read(bufio.NewReader(&buf)); err != nil {
		t.Fatalf("reading back %q: %v", buf.String(), err)
	}
	return appendKey(nil, &in), append([]byte(nil), back.Host()...), append([]byte(nil), back.RequestURI()...)
}
