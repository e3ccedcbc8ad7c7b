package maglev

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/strata-dp/strata/dataplane/lb"
)

// DefaultSize is the default table size, a prime well above 100× any
// expected backend count so that shares stay within 1% of the weights.
const DefaultSize = lb.DefaultTableSize

// MaxSize bounds a table (about 4 MiB of slots).
const MaxSize uint32 = 1<<20 - 3 // 1048573 is prime

// MaxBackends bounds the backends of one table.
const MaxBackends = 4096

// Errors returned by Build.
var (
	ErrSizeNotPrime  = errors.New("maglev: table size is not a prime")
	ErrSizeRange     = errors.New("maglev: table size out of range")
	ErrNoBackends    = errors.New("maglev: no backends")
	ErrTooMany       = errors.New("maglev: too many backends")
	ErrDuplicateID   = errors.New("maglev: duplicate backend id")
	ErrNoCapacity    = errors.New("maglev: every backend has weight 0")
	ErrSizeTooSmall  = errors.New("maglev: table smaller than the number of weighted backends")
	errTableOverfill = errors.New("maglev: internal error: table not filled")
)

// Table is a built Maglev table. It is immutable and safe for concurrent use.
type Table struct {
	backends []lb.Weighted // sorted by ID
	slots    []uint32      // index into backends, one per slot
	owned    []uint32      // slots owned per backend
}

// Lookup returns the index, into Backends(), of the backend for a flow hash.
// It never allocates.
func (t *Table) Lookup(hash uint32) int {
	return int(t.slots[hash%uint32(len(t.slots))])
}

// LookupID returns the ID of the backend for a flow hash.
func (t *Table) LookupID(hash uint32) string { return t.backends[t.Lookup(hash)].ID }

// Size is the number of slots (a prime).
func (t *Table) Size() uint32 { return uint32(len(t.slots)) }

// Slots returns the slot array: each entry indexes Backends(). The caller
// must not modify it.
func (t *Table) Slots() []uint32 { return t.slots }

// Backends returns the backends ordered by ID. The caller must not modify it.
func (t *Table) Backends() []lb.Weighted { return t.backends }

// Owned returns how many slots the backend at index i owns.
func (t *Table) Owned(i int) uint32 { return t.owned[i] }

// Build builds a table of the given size (0 means DefaultSize) for the
// backends, which it sorts by ID (the caller's slice is not modified).
// Backends with weight 0 are kept in Backends() (so indices stay stable for
// connection tracking) but own no slots. Stats.Churn is 0; use Rebuild to
// measure churn against a previous table.
func Build(backends []lb.Weighted, size uint32) (*Table, Stats, error) {
	return Rebuild(nil, backends, size)
}

// Rebuild is Build that also reports, in Stats, how many slots changed
// backend relative to prev (which may be nil).
func Rebuild(prev *Table, backends []lb.Weighted, size uint32) (*Table, Stats, error) {
	t, err := build(backends, size)
	if err != nil {
		return nil, Stats{}, err
	}
	st := t.stats(prev)
	return t, st, nil
}

func validate(backends []lb.Weighted, size uint32) ([]lb.Weighted, error) {
	if size == 0 {
		size = DefaultSize
	}
	if size < 3 || size > MaxSize {
		return nil, fmt.Errorf("%w: %d (allowed 3..%d)", ErrSizeRange, size, MaxSize)
	}
	if !isPrime(size) {
		return nil, fmt.Errorf("%w: %d", ErrSizeNotPrime, size)
	}
	if len(backends) == 0 {
		return nil, ErrNoBackends
	}
	if len(backends) > MaxBackends {
		return nil, fmt.Errorf("%w: %d (max %d)", ErrTooMany, len(backends), MaxBackends)
	}
	sorted := slices.Clone(backends)
	slices.SortFunc(sorted, func(a, b lb.Weighted) int { return strings.Compare(a.ID, b.ID) })
	weighted := 0
	for i, b := range sorted {
		if i > 0 && sorted[i-1].ID == b.ID {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateID, b.ID)
		}
		if b.Weight > 0 {
			weighted++
		}
	}
	if weighted == 0 {
		return nil, ErrNoCapacity
	}
	if uint32(weighted) > size {
		return nil, fmt.Errorf("%w: %d backends, %d slots", ErrSizeTooSmall, weighted, size)
	}
	return sorted, nil
}

func isPrime(n uint32) bool {
	if n < 2 {
		return false
	}
	for d := uint32(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}
