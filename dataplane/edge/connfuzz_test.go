package edge_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// The connection state machine under pipelining: requests split at any
// byte must each get exactly one response, in order, and each response
// must arrive before the client sends the bytes after its request (so
// that nothing is held back by what follows); garbage gets a 4xx and a
// close; no input hangs the connection or panics the edge.

// pipeReq is one request of a generated pipeline.
type pipeReq struct {
	method, path string
	bodyLen      int
	wire         string
	close        bool
}

// buildPipeline turns plan bytes, two per request, into at most eight
// requests: GET, HEAD, POST with a body, GET after an empty line, GET with
// Connection: close (which ends the pipeline), GET with a long head.
func buildPipeline(plan []byte) []pipeReq {
	var reqs []pipeReq
	for i := 0; i+1 < len(plan) && len(reqs) < 8; i += 2 {
		kind, arg := plan[i]%6, plan[i+1]
		r := pipeReq{method: "GET", path: "/p" + strconv.Itoa(int(arg%8))}
		if arg >= 128 {
			r.path += "?q=" + strconv.Itoa(int(arg%16))
		}
		lead, fields, body := "", "Host: fuzz.test\r\n", ""
		switch kind {
		case 1:
			r.method = "HEAD"
		case 2:
			r.method, r.bodyLen = "POST", int(arg%32)
			body = strings.Repeat("b", r.bodyLen)
			fields += "Content-Length: " + strconv.Itoa(r.bodyLen) + "\r\n"
		case 3:
			lead = "\r\n" // RFC 9112 section 2.2
		case 4:
			r.close = true
			fields += "Connection: close\r\n"
		case 5:
			fields += "Accept: */*\r\nX-Pad: " + strings.Repeat("x", int(arg)*4) + "\r\n"
		}
		r.wire = lead + r.method + " " + r.path + " HTTP/1.1\r\n" + fields + "\r\n" + body
		reqs = append(reqs, r)
		if r.close {
			break
		}
	}
	return reqs
}

// pipelineEdge is one edge and origin shared by all runs of a test, and
// returns the edge's socket path: the origin names the request in X-Path
// and its body, and lets GETs be stored.
func pipelineEdge(tb testing.TB) string {
	tb.Helper()
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	osrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Path", r.URL.RequestURI())
		if r.Method == "GET" {
			w.Header().Set("Cache-Control", "max-age=3600")
		}
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.RequestURI(), n)
	})}
	go osrv.Serve(oln)
	tb.Cleanup(func() { osrv.Close() })
	e, err := edge.New(edge.Config{
		Origin: "http://" + oln.Addr().String(), MemoryBytes: 4 << 20,
		IdleTimeout: time.Hour, HeaderTimeout: time.Hour, MaxConnsPerIP: -1,
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	// A unix socket: a real connection through the kernel, without the
	// ephemeral ports and TIME_WAIT entries that thousands of fuzzed TCP
	// connections a second would use up.
	ln, err := net.Listen("unix", filepath.Join(tb.TempDir(), "edge.sock"))
	if err != nil {
		tb.Fatal(err)
	}
	go e.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// runPipeline sends reqs (then 0x01, garbage and an empty line, when
// garbage is not nil) cut at the given offsets, and checks the responses
// after each piece.
func runPipeline(t *testing.T, addr string, reqs []pipeReq, garbage []byte, cuts []int) {
	t.Helper()
	var stream []byte
	var ends []int
	for _, r := range reqs {
		stream = append(stream, r.wire...)
		ends = append(ends, len(stream))
	}
	valid := len(stream)
	closes := len(reqs) > 0 && reqs[len(reqs)-1].close
	if garbage != nil && !closes {
		stream = append(append(append(stream, 0x01), garbage...), "\r\n\r\n"...)
	}
	nc, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	cuts = append(slices.Clone(cuts), len(stream))
	slices.Sort(cuts)
	next, prev := 0, 0
	for _, cut := range cuts {
		if cut <= prev || cut > len(stream) {
			continue
		}
		if _, err := nc.Write(stream[prev:cut]); err != nil && cut <= valid {
			t.Fatalf("write of bytes %d-%d: %v", prev, cut, err)
		}
		prev = cut
		for next < len(reqs) && ends[next] <= cut {
			r := reqs[next]
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(br, &http.Request{Method: r.method})
			if err != nil {
				t.Fatalf("request %d (%s %s), complete at byte %d of %d sent: no response: %v\nstream %q",
					next, r.method, r.path, ends[next], cut, err, stream)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("request %d: body: %v", next, err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("X-Path") != r.path {
				t.Fatalf("request %d (%s %s): got %d for %q, out of order or wrong\nstream %q",
					next, r.method, r.path, resp.StatusCode, resp.Header.Get("X-Path"), stream)
			}
			if r.method == "POST" && string(body) != fmt.Sprintf("POST %s %d", r.path, r.bodyLen) {
				t.Fatalf("request %d: POST body relayed as %q", next, body)
			}
			next++
		}
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if garbage != nil && !closes {
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("garbage after %d requests: no response: %v\nstream %q", len(reqs), err, stream)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != 400 && resp.StatusCode != 431 || !resp.Close {
			t.Fatalf("garbage: %d (close %v), want 400 or 431 and a close", resp.StatusCode, resp.Close)
		}
	}
	if garbage != nil || closes {
		if n, err := io.Copy(io.Discard, br); n != 0 || err != nil {
			t.Fatalf("after the last response: %d more bytes, %v; want a close", n, err)
		}
	}
}

// TestPipelineSplitAtEveryByte cuts one pipeline of every kind of request
// at each byte in turn.
func TestPipelineSplitAtEveryByte(t *testing.T) {
	addr := pipelineEdge(t)
	reqs := buildPipeline([]byte{0, 1, 1, 1, 2, 9, 3, 2, 5, 3, 0, 200, 4, 4})
	var n int
	for _, r := range reqs {
		n += len(r.wire)
	}
	for cut := 1; cut < n; cut++ {
		runPipeline(t, addr, reqs, nil, []int{cut})
	}
	garbage := []byte("GET / HTTP/1.1\r\nHost: x")
	for cut := 1; cut < n; cut += 7 {
		runPipeline(t, addr, reqs[:len(reqs)-1], garbage, []int{cut, n - 3})
	}
}

func FuzzConnPipeline(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2}, []byte(nil), uint64(1))
	f.Add([]byte{1, 3, 2, 17, 3, 4}, []byte("x"), uint64(7))
	f.Add([]byte{5, 255, 0, 130, 4, 0}, []byte(nil), uint64(42))
	addr := pipelineEdge(f)
	f.Fuzz(func(t *testing.T, plan, garbage []byte, seed uint64) {
		reqs := buildPipeline(plan)
		if len(garbage) > 4<<10 {
			garbage = garbage[:4<<10]
		}
		if len(garbage) == 0 {
			garbage = nil
		}
		var n int
		for _, r := range reqs {
			n += len(r.wire)
		}
		n += len(garbage) + 5
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		cuts := make([]int, 1+rng.IntN(4))
		for i := range cuts {
			cuts[i] = 1 + rng.IntN(n)
		}
		runPipeline(t, addr, reqs, garbage, cuts)
	})
}

// FuzzConnGarbage sends arbitrary bytes and half-closes: the edge must
// answer only with HTTP/1.1 responses and close the connection, at once.
func FuzzConnGarbage(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"\r\n\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST /p1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /p2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /p1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
		"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"HEAD /p3 HTTP/1.0\r\n\r\nGET /p3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	addr := pipelineEdge(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("unix", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		tc := nc.(*net.UnixConn)
		go func() {
			tc.Write(data)
			tc.CloseWrite()
		}()
		tc.SetReadDeadline(time.Now().Add(10 * time.Second))
		out, err := io.ReadAll(tc)
		if isTimeout(err) {
			t.Fatalf("the edge kept the connection open after the client's end of input %q; sent %q", data, out)
		}
		if len(out) > 0 && !strings.HasPrefix(string(out), "HTTP/1.1 ") {
			t.Fatalf("answer to %q is not HTTP/1.1: %q", data, out)
		}
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
