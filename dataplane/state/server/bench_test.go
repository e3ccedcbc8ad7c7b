package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/state"
)

// newHandlerRig returns a server and session for calling the protocol
// handlers directly, without sockets: the request path under test.
func newHandlerRig(tb testing.TB) (*Server, *session) {
	tb.Helper()
	eng, err := state.New(state.Config{MemoryBytes: 64 << 20})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	s, err := New(Config{Engine: eng, Listen: "127.0.0.1:0"})
	if err != nil {
		tb.Fatal(err)
	}
	ss := &session{stats: s.stats.forLoop(nil), authed: true, args: make([][]byte, 0, 8), scratch: make([]byte, 0, 256)}
	return s, ss
}

func pipeline(n int, args ...string) []byte {
	return []byte(strings.Repeat(mb(args...), n))
}

func BenchmarkRESPPipelined(b *testing.B) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"get-p16", pipeline(16, "GET", "key:000000000042")},
		{"set-p16", pipeline(16, "SET", "key:000000000042", strings.Repeat("x", 64))},
		{"get-p1", pipeline(1, "GET", "key:000000000042")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, ss := newHandlerRig(b)
			s.eng.Set([]byte("key:000000000042"), bytes.Repeat([]byte("x"), 64), state.SetOptions{})
			out := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.in)))
			for b.Loop() {
				out, _, _ = s.serveRESP(ss, tc.in, out[:0])
			}
		})
	}
}
