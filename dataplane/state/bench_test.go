package state

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkSet measures the write path: in-place overwrites, rewrites that
// change size (each leaves a dead copy the cleaner must reclaim once the
// queue wraps), the same in a node whose live data fills three quarters of
// the bound (the cleaner then moves live entries), and new keys.
func BenchmarkSet(b *testing.B) {
	cases := []struct {
		name   string
		memory int64
		fill   int // keys of 1000 bytes written first
		keys   int // keys rewritten
		sizes  []int
	}{
		{"overwrite-same-size", 64 << 20, 0, 1, []int{64}},
		{"rewrite-1000-1001", 64 << 20, 0, 1, []int{1000, 1001}},
		{"rewrite-20000-keys-changing-size", 64 << 20, 0, 20000, []int{100, 120, 140, 160}},
		{"rewrite-1000-1001-node-75%-full", 8 << 20, 6000, 1, []int{1000, 1001}},
		{"new-keys-64B", 64 << 20, 0, 1 << 20, []int{64}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e, err := New(Config{MemoryBytes: c.memory})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			fill := make([]byte, 1000)
			for i := range c.fill {
				if _, err := e.Set([]byte(fmt.Sprint("fill:", i)), fill, SetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			keys := make([][]byte, min(c.keys, 20000))
			for i := range keys {
				keys[i] = []byte(fmt.Sprint("key:", i))
			}
			vals := make([][]byte, len(c.sizes))
			for i, n := range c.sizes {
				vals[i] = make([]byte, n)
			}
			key := make([]byte, 0, 32)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				k := keys[i%len(keys)]
				if c.keys > len(keys) {
					key = strconv.AppendInt(append(key[:0], "new:"...), int64(i%c.keys), 10)
					k = key
				}
				if _, err := e.Set(k, vals[(i/len(keys))%len(vals)], SetOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
