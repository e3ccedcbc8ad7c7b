package maglev

import (
	"math"
	"slices"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Stats describes a built table; the manager logs and exports it on every
// rebuild so that operators see the cost of a change before traffic does.
type Stats struct {
	Size     uint32
	Backends int // backends with weight > 0
	// Imbalance is the largest relative deviation of a weighted backend's
	// slot share from its weight share: max |owned/expected - 1|.
	Imbalance float64
	// Moved is the number of slots whose backend ID differs from the
	// previous table (all slots when there was none or the size changed).
	Moved int
	// Churn is Moved/Size.
	Churn float64
	// Disruption is the fraction of the slots owned, in the previous table,
	// by backends still weighted in this one, that moved to another backend:
	// the flows that move although their backend stayed. Maglev keeps it low.
	Disruption float64
}

func (t *Table) stats(prev *Table) Stats {
	s := Stats{Size: t.Size()}
	var total uint64
	for _, b := range t.backends {
		total += uint64(b.Weight)
	}
	for i, b := range t.backends {
		if b.Weight == 0 {
			continue
		}
		s.Backends++
		expected := float64(t.Size()) * float64(b.Weight) / float64(total)
		s.Imbalance = math.Max(s.Imbalance, math.Abs(float64(t.owned[i])/expected-1))
	}
	if prev == nil || prev.Size() != t.Size() {
		s.Moved = int(t.Size())
		s.Churn = 1
		return s
	}
	// Map previous indices to current ones by ID (both lists are sorted).
	remap := make([]int, len(prev.backends))
	for i, b := range prev.backends {
		j, ok := slices.BinarySearchFunc(t.backends, b.ID, func(x lb.Weighted, id string) int {
			switch {
			case x.ID < id:
				return -1
			case x.ID > id:
				return 1
			}
			return 0
		})
		if !ok || t.backends[j].Weight == 0 {
			j = -1
		}
		remap[i] = j
	}
	kept, disrupted := 0, 0
	for slot, old := range prev.slots {
		now := int(t.slots[slot])
		if remap[old] != now {
			s.Moved++
		}
		if remap[old] >= 0 {
			kept++
			if remap[old] != now {
				disrupted++
			}
		}
	}
	s.Churn = float64(s.Moved) / float64(t.Size())
	if kept > 0 {
		s.Disruption = float64(disrupted) / float64(kept)
	}
	return s
}
