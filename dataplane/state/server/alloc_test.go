package server

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/wire"
)

// The request path from received bytes to reply bytes allocates nothing,
// in both protocols, pipelined or not.
func TestHandlersDoNotAllocate(t *testing.T) {
	s, ss := newHandlerRig(t)
	key, val := "key:000000000042", strings.Repeat("v", 64)
	s.eng.Set([]byte(key), []byte(val), state.SetOptions{})
	tests := []struct {
		name  string
		serve func(*session, []byte, []byte) ([]byte, int, bool)
		in    []byte
	}{
		{"resp-get", s.serveRESP, pipeline(1, "GET", key)},
		{"resp-get-miss", s.serveRESP, pipeline(1, "GET", "absent")},
		{"resp-set", s.serveRESP, pipeline(1, "SET", key, val)},
		{"resp-set-ex", s.serveRESP, pipeline(1, "SET", "ttl-key", val, "EX", "100")},
		{"resp-get-p16", s.serveRESP, pipeline(16, "GET", key)},
		{"resp-set-p16", s.serveRESP, pipeline(16, "SET", key, val)},
		{"resp-incr", s.serveRESP, pipeline(1, "INCR", "counter")},
		{"resp-mget", s.serveRESP, pipeline(1, "MGET", key, "absent", key)},
		{"resp-mset", s.serveRESP, pipeline(1, "MSET", key, val, "other-key", val)},
		{"resp-expire-gt", s.serveRESP, pipeline(1, "PEXPIRE", key, "100000", "GT")},
		{"binary-get", s.serveBinary, wire.AppendGet(nil, 1, []byte(key))},
		{"binary-set", s.serveBinary, wire.AppendSet(nil, 2, 0, []byte(key), []byte(val), 0)},
		{"binary-get-p16", s.serveBinary, bytes.Repeat(wire.AppendGet(nil, 3, []byte(key)), 16)},
		{"binary-set-p16", s.serveBinary, bytes.Repeat(wire.AppendSet(nil, 4, 0, []byte(key), []byte(val), 5000), 16)},
		{"binary-mget", s.serveBinary, wire.AppendMGet(nil, 5, [][]byte{[]byte(key), []byte("absent")})},
	}
	out := make([]byte, 0, 8192)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n int
			allocs := testing.AllocsPerRun(500, func() {
				out, n, _ = tc.serve(ss, tc.in, out[:0])
			})
			if n != len(tc.in) || len(out) == 0 {
				t.Fatalf("consumed %d of %d bytes, replied %q", n, len(tc.in), out)
			}
			if allocs != 0 {
				t.Fatalf("%v allocations per request batch", allocs)
			}
		})
	}
}

func BenchmarkBinaryPipelined(b *testing.B) {
	s, ss := newHandlerRig(b)
	key := []byte("key:000000000042")
	s.eng.Set(key, bytes.Repeat([]byte("x"), 64), state.SetOptions{})
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"get-p16", bytes.Repeat(wire.AppendGet(nil, 1, key), 16)},
		{"set-p16", bytes.Repeat(wire.AppendSet(nil, 1, 0, key, bytes.Repeat([]byte("x"), 64), 0), 16)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			out := make([]byte, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				out, _, _ = s.serveBinary(ss, tc.in, out[:0])
			}
		})
	}
}
