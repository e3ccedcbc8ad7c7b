package flowhash

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// TestGolden checks Hash against vectors produced by the Linux kernel's own
// jhash2 C code, so the Go and BPF implementations share one reference.
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/jhash2.golden")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var src, dst string
		var sport, dport uint16
		var proto uint8
		var want uint32
		if _, err := fmt.Sscanf(line, "%s %s %d %d %d %x", &src, &dst, &sport, &dport, &proto, &want); err != nil {
			t.Fatalf("bad golden line %q: %v", line, err)
		}
		n++
		t.Run(line, func(t *testing.T) {
			got := Hash(netip.MustParseAddr(src), netip.MustParseAddr(dst), sport, dport, proto)
			if got != want {
				t.Errorf("Hash = %08x, want %08x", got, want)
			}
		})
	}
	if n == 0 {
		t.Fatal("no golden vectors")
	}
}

func TestProperties(t *testing.T) {
	a := netip.MustParseAddr("198.18.0.1")
	b := netip.MustParseAddr("198.18.0.2")
	mapped := netip.AddrFrom16(a.As16())
	tests := []struct {
		name string
		x, y uint32
		same bool
	}{
		{"deterministic", Hash(a, b, 1, 2, 6), Hash(a, b, 1, 2, 6), true},
		{"4in6 unmapped", Hash(mapped, b, 1, 2, 6), Hash(a, b, 1, 2, 6), true},
		{"direction matters", Hash(a, b, 1, 2, 6), Hash(b, a, 2, 1, 6), false},
		{"proto matters", Hash(a, b, 1, 2, 6), Hash(a, b, 1, 2, 17), false},
		{"sport matters", Hash(a, b, 1, 2, 6), Hash(a, b, 3, 2, 6), false},
		{"dport matters", Hash(a, b, 1, 2, 6), Hash(a, b, 1, 3, 6), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.x == tt.y) != tt.same {
				t.Errorf("%08x vs %08x: same=%v, want %v", tt.x, tt.y, tt.x == tt.y, tt.same)
			}
		})
	}
}

// TestSpread checks that consecutive source ports spread evenly over a
// prime-sized table, which is what Maglev lookup relies on.
func TestSpread(t *testing.T) {
	const buckets = 97
	const n = 97 * 200
	var counts [buckets]int
	src := netip.MustParseAddr("198.18.0.1")
	dst := netip.MustParseAddr("198.18.1.1")
	for i := 0; i < n; i++ {
		counts[Hash(src, dst, uint16(1024+i), 80, 6)%buckets]++
	}
	for i, c := range counts {
		if c < 120 || c > 280 {
			t.Errorf("bucket %d has %d of %d (mean 200)", i, c, n)
		}
	}
}

func TestHashAllocs(t *testing.T) {
	a := netip.MustParseAddr("fd00:5354::1")
	b := netip.MustParseAddr("fd00:5354::2")
	if n := testing.AllocsPerRun(100, func() { Hash(a, b, 1, 2, 6) }); n != 0 {
		t.Errorf("Hash allocates %v times", n)
	}
}

func BenchmarkHash(b *testing.B) {
	for _, fam := range []struct{ name, src, dst string }{
		{"v4", "198.18.0.1", "198.18.1.1"},
		{"v6", "fd00:5354::1", "fd00:5354::100"},
	} {
		src, dst := netip.MustParseAddr(fam.src), netip.MustParseAddr(fam.dst)
		b.Run(fam.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink uint32
			for i := 0; i < b.N; i++ {
				sink += Hash(src, dst, uint16(i), 80, 6)
			}
			_ = sink
		})
	}
}
