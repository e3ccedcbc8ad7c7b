package edge

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// fixedNow is the response time of every decision test: 2015-01-01 12:00 UTC.
const fixedNow = 1420113600

// decide runs an origin response (status line and fields separated by |)
// through everything that decides caching, as fetch does.
func decide(e *Edge, line string, reqAuth bool) (*object, string, error) {
	o, reason, _, err := decideHeader(e, line, reqAuth)
	return o, reason, err
}

func decideHeader(e *Edge, line string, reqAuth bool) (*object, string, *fasthttp.ResponseHeader, error) {
	raw := strings.ReplaceAll(line, "|", "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
	rh := &fasthttp.ResponseHeader{}
	rh.SetNoDefaultContentType(true)
	if err := rh.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		return nil, "", nil, err
	}
	if !validStatus(rh.StatusCode()) {
		return nil, "", nil, errBadStatus
	}
	var req fasthttp.Request
	req.Header.SetRequestURI("/x")
	req.Header.SetHost("h.test")
	if reqAuth {
		req.Header.Set("Authorization", "Bearer t")
	}
	var rcc cachecontrol.Directives
	rcc.Reset()
	p := parseResponse(rh, fixedNow)
	reason := storeReason(&req, &rcc, p, 0, 1<<20, false)
	return e.buildObject(p, nil, fixedNow, fixedNow, &req), reason, rh, nil
}

func testEdge(tb testing.TB) *Edge {
	tb.Helper()
	e, err := New(Config{Origin: "http://127.0.0.1:1", MemoryBytes: 8 << 20, Keep: -1}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func describe(o *object, reason string) string {
	return fmt.Sprintf("reason=%q lifetime=%d age=%d swr=%d sie=%d no-cache=%t must-revalidate=%t vary=%v tags=%v",
		reason, o.lifetime, o.initialAge, o.swr, o.sie, o.noCache, o.mustRevalidate, o.varyNames, o.tags)
}

// TestDecisionGolden pins the caching decision for each response in
// testdata/responses.txt (rewrite with -update after a deliberate change).
func TestDecisionGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "responses.txt"))
	if err != nil {
		t.Fatal(err)
	}
	e := testEdge(t)
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		o, reason, err := decide(e, line, false)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		fmt.Fprintf(&out, "%s\n\t%s\n", line, describe(o, reason))
	}
	golden := filepath.Join("testdata", "decisions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != out.String() {
		t.Fatalf("decisions changed; got:\n%s", out.String())
	}
}

// FuzzResponseDecision feeds arbitrary origin headers through the caching
// decision and checks the invariants a shared cache must keep.
func FuzzResponseDecision(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join("testdata", "responses.txt"))
	for _, line := range strings.Split(string(data), "\n") {
		f.Add(line, false)
		f.Add(line, true)
	}
	e := testEdge(f)
	f.Fuzz(func(t *testing.T, line string, auth bool) {
		o, reason, rh, err := decideHeader(e, line, auth)
		if err != nil {
			return // fasthttp rejected the header: the edge answers 502
		}
		if o.lifetime < 0 || o.initialAge < 0 || o.retain < 0 {
			t.Fatalf("negative time in %s", describe(o, reason))
		}
		cookie, directives := false, ""
		for k, v := range rh.All() {
			switch strings.ToLower(string(k)) {
			case "set-cookie":
				cookie = true
			case "cache-control", "cdn-cache-control", "surrogate-control":
				directives += strings.ToLower(string(v)) + ","
			}
		}
		if reason == "" {
			if cookie {
				t.Fatalf("stored a Set-Cookie response: %q", line)
			}
			if auth && !strings.Contains(directives, "public") && !strings.Contains(directives, "s-maxage") && !strings.Contains(directives, "must-revalidate") {
				t.Fatalf("stored an authorized response without permission: %q", line)
			}
		}
		// The stored head must be a well-formed response that parses back
		// and carries no hop-by-hop field.
		var back fasthttp.ResponseHeader
		head := append(append([]byte{}, o.head...), "\r\n\r\n"...)
		if err := back.Read(bufio.NewReader(bytes.NewReader(head))); err != nil {
			t.Fatalf("stored head does not parse (%v): %q", err, head)
		}
		for _, h := range []string{"Transfer-Encoding", "Keep-Alive", "Surrogate-Control", "Surrogate-Key"} {
			if len(back.Peek(h)) > 0 {
				t.Fatalf("stored head keeps %s: %q", h, head)
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=3-", "bytes=1-0", "bytes=0-1,3-4", "items=1-2", "bytes=99999999999999999999-"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, v string, n int64) {
		if n < 0 || n > 1<<40 {
			return
		}
		start, end, ok := parseRange([]byte(v), n)
		if ok && (start < 0 || end >= n || start > end) {
			t.Fatalf("parseRange(%q, %d) = %d-%d", v, n, start, end)
		}
	})
}

func FuzzETagMatch(f *testing.F) {
	f.Add(`"a", W/"b"`, `"b"`)
	f.Add(`*`, ``)
	f.Fuzz(func(t *testing.T, list, etag string) {
		if etagMatchWeak([]byte(list), []byte(etag)) && etag != "" && !strings.Contains(list, strings.TrimPrefix(etag, "W/")) && strings.TrimSpace(list) != "*" {
			t.Fatalf("%q matched %q", list, etag)
		}
	})
}
