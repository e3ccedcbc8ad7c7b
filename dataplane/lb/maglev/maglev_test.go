package maglev

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
)

func backendsN(n int, weight func(i int) uint32) []lb.Weighted {
	bs := make([]lb.Weighted, n)
	for i := range bs {
		bs[i] = lb.Weighted{ID: fmt.Sprintf("198.18.%d.%d:80", i/250, i%250+1), Weight: weight(i)}
	}
	return bs
}

// TestWeightedShares: at M=65537 with 100 backends of weights 1..16, every
// backend's share of slots is within 1% (relative) of its weight's share.
func TestWeightedShares(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		weight func(i int) uint32
	}{
		{"100 backends weights 1..16 cyclic", 100, func(i int) uint32 { return uint32(i%16 + 1) }},
		{"100 backends weights 1..16 hashed", 100, func(i int) uint32 { return uint32((i*7+3)%16 + 1) }},
		{"100 equal", 100, func(int) uint32 { return 1 }},
		{"3 backends 1:2:3", 3, func(i int) uint32 { return uint32(i + 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := backendsN(tt.n, tt.weight)
			tab, st, err := Build(bs, DefaultSize)
			if err != nil {
				t.Fatal(err)
			}
			counts := make(map[string]int)
			for _, s := range tab.Slots() {
				counts[tab.Backends()[s].ID]++
			}
			var total float64
			for _, b := range bs {
				total += float64(b.Weight)
			}
			worst := 0.0
			for _, b := range bs {
				want := float64(b.Weight) / total
				got := float64(counts[b.ID]) / float64(DefaultSize)
				dev := got/want - 1
				if dev < 0 {
					dev = -dev
				}
				worst = max(worst, dev)
				if dev >= 0.01 {
					t.Errorf("%s weight %d: share %.5f, weight share %.5f (%.2f%% off)", b.ID, b.Weight, got, want, 100*dev)
				}
			}
			if diff := st.Imbalance - worst; diff > 1e-9 || diff < -1e-9 {
				t.Errorf("Stats.Imbalance = %v, measured %v", st.Imbalance, worst)
			}
			t.Logf("imbalance %.4f%%", 100*st.Imbalance)
		})
	}
}

// TestRemovalDisruption: removing one of 1000 backends moves under 1% of the
// slots owned by the others. Disruption grows with the removed backend's
// share (about 5.5× it, see docs/LB-XDP.md): removing a weight-16 backend
// from weights 1..16 (1.9× the mean share) moves about 0.9-1.0%.
func TestRemovalDisruption(t *testing.T) {
	tests := []struct {
		name   string
		weight func(i int) uint32
		remove int
	}{
		{"equal weights, remove first", func(int) uint32 { return 1 }, 0},
		{"equal weights, remove middle", func(int) uint32 { return 1 }, 500},
		{"weights 1..16, remove mean weight", func(i int) uint32 { return uint32(i%16 + 1) }, 7},
		{"weights 1..16, remove light", func(i int) uint32 { return uint32(i%16 + 1) }, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := backendsN(1000, tt.weight)
			before, _, err := Build(bs, DefaultSize)
			if err != nil {
				t.Fatal(err)
			}
			removed := bs[tt.remove].ID
			after, st, err := Rebuild(before, slices.Delete(slices.Clone(bs), tt.remove, tt.remove+1), DefaultSize)
			if err != nil {
				t.Fatal(err)
			}
			others, moved := 0, 0
			for slot, s := range before.Slots() {
				id := before.Backends()[s].ID
				if id == removed {
					continue
				}
				others++
				if after.LookupID(uint32(slot)) != id {
					moved++
				}
			}
			frac := float64(moved) / float64(others)
			if frac >= 0.01 {
				t.Errorf("moved %d of %d slots of remaining backends (%.3f%%)", moved, others, 100*frac)
			}
			if d := st.Disruption - frac; d > 1e-9 || d < -1e-9 {
				t.Errorf("Stats.Disruption = %v, measured %v", st.Disruption, frac)
			}
			t.Logf("disruption %.3f%%, churn %.3f%%", 100*frac, 100*st.Churn)
		})
	}
}

// TestDeterministic: two independent builds, from differently ordered input,
// give identical tables.
func TestDeterministic(t *testing.T) {
	bs := backendsN(257, func(i int) uint32 { return uint32(i%5 + 1) })
	a, _, err := Build(bs, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(bs)
	slices.Reverse(rev)
	b, _, err := Build(rev, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Slots(), b.Slots()) {
		t.Fatal("two builds of the same backends differ")
	}
	if bs[0].ID != "198.18.0.1:80" {
		t.Fatal("caller's slice was modified")
	}
}

// TestGolden pins the table format: a change here reshuffles every flow on
// upgrade and must be deliberate.
func TestGolden(t *testing.T) {
	tab, _, err := Build([]lb.Weighted{{ID: "b", Weight: 1}, {ID: "a", Weight: 2}, {ID: "c", Weight: 0}, {ID: "d", Weight: 1}}, 13)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(tab.Slots())
	const want = "[0 1 1 0 3 3 0 0 1 0 0 3 0]"
	if got != want {
		t.Errorf("slots = %s, want %s", got, want)
	}
	if tab.Owned(2) != 0 {
		t.Errorf("weight-0 backend owns %d slots", tab.Owned(2))
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name     string
		backends []lb.Weighted
		size     uint32
		want     error
	}{
		{"not prime", []lb.Weighted{{ID: "a", Weight: 1}}, 65536, ErrSizeNotPrime},
		{"too small", []lb.Weighted{{ID: "a", Weight: 1}}, 2, ErrSizeRange},
		{"too big", []lb.Weighted{{ID: "a", Weight: 1}}, MaxSize + 2, ErrSizeRange},
		{"no backends", nil, 0, ErrNoBackends},
		{"duplicate", []lb.Weighted{{ID: "a", Weight: 1}, {ID: "a", Weight: 2}}, 0, ErrDuplicateID},
		{"all drained", []lb.Weighted{{ID: "a", Weight: 0}, {ID: "b", Weight: 0}}, 0, ErrNoCapacity},
		{"more backends than slots", backendsN(5, func(int) uint32 { return 1 }), 3, ErrSizeTooSmall},
		{"too many", backendsN(MaxBackends+1, func(int) uint32 { return 1 }), 0, ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Build(tt.backends, tt.size)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDrainKeepsOthers: setting a weight to 0 moves only the drained
// backend's slots, and never gives it new ones.
func TestDrainKeepsOthers(t *testing.T) {
	bs := backendsN(10, func(int) uint32 { return 4 })
	before, _, err := Build(bs, 1009)
	if err != nil {
		t.Fatal(err)
	}
	bs[3].Weight = 0
	after, st, err := Rebuild(before, bs, 1009)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range after.Slots() {
		if after.Backends()[s].ID == bs[3].ID {
			t.Fatal("drained backend still owns a slot")
		}
	}
	if st.Backends != 9 || st.Disruption > 0.05 {
		t.Errorf("stats %+v", st)
	}
}

// TestExtremeWeights: a huge weight beside many tiny ones still builds
// quickly and gives every weighted backend at least one slot.
func TestExtremeWeights(t *testing.T) {
	bs := backendsN(1000, func(i int) uint32 {
		if i == 0 {
			return 1 << 16
		}
		return 1
	})
	tab, _, err := Build(bs, DefaultSize)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tab.Backends() {
		if tab.Owned(i) == 0 {
			t.Fatalf("backend %d owns no slot", i)
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	tab, _, err := Build(backendsN(10, func(int) uint32 { return 1 }), 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { tab.Lookup(12345) }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		bs := backendsN(n, func(i int) uint32 { return uint32(i%16 + 1) })
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := Build(bs, DefaultSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	tab, _, err := Build(backendsN(100, func(i int) uint32 { return uint32(i%16 + 1) }), 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	sink := 0
	for i := 0; i < b.N; i++ {
		sink += tab.Lookup(uint32(i) * 2654435761)
	}
	_ = sink
}
