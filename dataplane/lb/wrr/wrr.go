// Package wrr builds weighted round-robin rings: the per-service alternative
// to Maglev for pools where even spreading of new connections matters more
// than keeping a flow's backend when the pool changes (connection tracking
// keeps established flows either way).
//
// A ring is the smooth weighted round-robin sequence (as in nginx): weights
// 5,1,1 give a a b a c a a rather than a a a a a b c, so a burst of new flows
// never piles onto one backend. Backends are ordered by ID, as in package
// maglev, so ring entries index the same backend list as a Maglev table and
// every LB node builds the same ring. The XDP program walks the ring with a
// per-CPU cursor, the userspace mode with an atomic counter.
package wrr

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-dp/strata/dataplane/lb"
)

// MaxLen bounds a ring; it equals lb.DefaultTableSize, the default size of
// a Maglev table, so that a ring fits the slot array the XDP program keeps
// per service.
const MaxLen = lb.DefaultTableSize

// Errors returned by Build.
var (
	ErrNoBackends  = errors.New("wrr: no backends")
	ErrNoCapacity  = errors.New("wrr: every backend has weight 0")
	ErrDuplicateID = errors.New("wrr: duplicate backend id")
	ErrTooMany     = errors.New("wrr: more weighted backends than ring entries")
)

// Ring is an immutable weighted round-robin sequence.
type Ring struct {
	backends []lb.Weighted
	slots    []uint32
}

// Next returns the index, into Backends(), of the backend for the n-th new
// flow. It never allocates.
func (r *Ring) Next(n uint64) int { return int(r.slots[n%uint64(len(r.slots))]) }

// Len is the ring length.
func (r *Ring) Len() uint32 { return uint32(len(r.slots)) }

// Slots returns the ring; the caller must not modify it.
func (r *Ring) Slots() []uint32 { return r.slots }

// Backends returns the backends ordered by ID; the caller must not modify it.
func (r *Ring) Backends() []lb.Weighted { return r.backends }

// Build builds the ring for backends (sorted by ID inside, the caller's slice
// untouched), at most maxLen entries long (0 or more than MaxLen means
// MaxLen). Weights are divided by their greatest common divisor; if their sum
// still exceeds maxLen they are scaled down, keeping every weighted backend
// in the ring at least once.
func Build(backends []lb.Weighted, maxLen uint32) (*Ring, error) {
	if maxLen == 0 || maxLen > MaxLen {
		maxLen = MaxLen
	}
	if len(backends) == 0 {
		return nil, ErrNoBackends
	}
	sorted := slices.Clone(backends)
	slices.SortFunc(sorted, func(a, b lb.Weighted) int { return strings.Compare(a.ID, b.ID) })
	var g, total uint64
	weighted := 0
	for i, b := range sorted {
		if i > 0 && sorted[i-1].ID == b.ID {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateID, b.ID)
		}
		if b.Weight > 0 {
			weighted++
			g = gcd(g, uint64(b.Weight))
			total += uint64(b.Weight)
		}
	}
	if weighted == 0 {
		return nil, ErrNoCapacity
	}
	if uint64(weighted) > uint64(maxLen) {
		return nil, fmt.Errorf("%w: %d backends, %d entries", ErrTooMany, weighted, maxLen)
	}
	w := make([]uint64, len(sorted))
	var sum uint64
	for i, b := range sorted {
		w[i] = uint64(b.Weight) / max(g, 1)
		sum += w[i]
	}
	if sum > uint64(maxLen) {
		// Scale into maxLen-weighted entries, then give each weighted backend
		// its guaranteed one entry: the sum stays within maxLen.
		budget := uint64(maxLen) - uint64(weighted)
		sum = 0
		for i, b := range sorted {
			if b.Weight > 0 {
				w[i] = 1 + uint64(b.Weight)*budget/total
			}
			sum += w[i]
		}
	}
	r := &Ring{backends: sorted, slots: make([]uint32, 0, sum)}
	current := make([]int64, len(sorted))
	for range sum {
		best := -1
		for i := range sorted {
			if w[i] == 0 {
				continue
			}
			current[i] += int64(w[i])
			if best < 0 || current[i] > current[best] {
				best = i
			}
		}
		current[best] -= int64(sum)
		r.slots = append(r.slots, uint32(best))
	}
	return r, nil
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
