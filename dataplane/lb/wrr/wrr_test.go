package wrr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
)

func TestBuild(t *testing.T) {
	tests := []struct {
		name     string
		backends []lb.Weighted
		maxLen   uint32
		want     string // ring as backend IDs
	}{
		{"smooth 5:1:1", []lb.Weighted{{ID: "a", Weight: 5}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}}, 0, "aabacaa"},
		{"gcd reduced", []lb.Weighted{{ID: "b", Weight: 20}, {ID: "a", Weight: 10}}, 0, "bab"},
		{"drained skipped", []lb.Weighted{{ID: "a", Weight: 1}, {ID: "b", Weight: 0}, {ID: "c", Weight: 1}}, 0, "ac"},
		{"scaled keeps light", []lb.Weighted{{ID: "a", Weight: 1000}, {ID: "b", Weight: 1}}, 5, "aaba"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Build(tt.backends, tt.maxLen)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for n := uint64(0); n < uint64(r.Len()); n++ {
				got += r.Backends()[r.Next(n)].ID
			}
			if got != tt.want {
				t.Errorf("ring %q, want %q", got, tt.want)
			}
		})
	}
}

// TestShares: over one full ring every backend appears exactly in
// proportion to its (reduced) weight.
func TestShares(t *testing.T) {
	var bs []lb.Weighted
	for i := 0; i < 100; i++ {
		bs = append(bs, lb.Weighted{ID: fmt.Sprintf("198.18.0.%d:80", i+1), Weight: uint32(i%16 + 1)})
	}
	r, err := Build(bs, 0)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint32{}
	for _, s := range r.Slots() {
		counts[r.Backends()[s].ID]++
	}
	for _, b := range bs {
		if counts[b.ID] != b.Weight {
			t.Errorf("%s weight %d appears %d times", b.ID, b.Weight, counts[b.ID])
		}
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name     string
		backends []lb.Weighted
		maxLen   uint32
		want     error
	}{
		{"empty", nil, 0, ErrNoBackends},
		{"drained", []lb.Weighted{{ID: "a", Weight: 0}}, 0, ErrNoCapacity},
		{"duplicate", []lb.Weighted{{ID: "a", Weight: 1}, {ID: "a", Weight: 1}}, 0, ErrDuplicateID},
		{"too many", []lb.Weighted{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}}, 2, ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Build(tt.backends, tt.maxLen); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNextAllocs(t *testing.T) {
	r, err := Build([]lb.Weighted{{ID: "a", Weight: 3}, {ID: "b", Weight: 1}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { r.Next(7) }); n != 0 {
		t.Errorf("Next allocates %v times", n)
	}
}

func BenchmarkBuild(b *testing.B) {
	var bs []lb.Weighted
	for i := 0; i < 100; i++ {
		bs = append(bs, lb.Weighted{ID: fmt.Sprint(i), Weight: uint32(i%16 + 1)})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Build(bs, 0); err != nil {
			b.Fatal(err)
		}
	}
}
