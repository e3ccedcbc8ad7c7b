package maglev

import (
	"slices"

	"github.com/strata-dp/strata/dataplane/lb"
)

// The fill below is the Maglev population loop with weights. Each backend's
// preference list is the permutation offset, offset+skip, offset+2·skip, ...
// (mod size); because size is prime and 0 < skip < size, it visits every slot
// once. Only the current position per backend is stored, never the list.

const empty = ^uint32(0)

// seed is the fixed permutation seed: part of the table format, since LB
// nodes must agree on it. Changing it reshuffles every table.
const seed uint64 = 0x5354524154414d47 // "STRATAMG"

// hashID is FNV-1a 64 of the ID, salted, then the splitmix64 finalizer so
// that IDs differing in one character get unrelated permutations.
func hashID(id string, salt uint64) uint64 {
	h := uint64(14695981039346656037) ^ seed ^ salt
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// quotas gives each weighted backend floor(size·w/total) slots, hands the
// remaining slots to the largest remainders (ties by ID order), and makes
// sure every weighted backend owns at least one slot.
func quotas(backends []lb.Weighted, size uint32) []uint32 {
	var total uint64
	for _, b := range backends {
		total += uint64(b.Weight)
	}
	q := make([]uint32, len(backends))
	rem := make([]uint64, len(backends))
	var given uint64
	for i, b := range backends {
		exact := uint64(size) * uint64(b.Weight)
		q[i] = uint32(exact / total)
		rem[i] = exact % total
		given += uint64(q[i])
	}
	for ; given < uint64(size); given++ {
		best := -1
		for i, b := range backends {
			if b.Weight > 0 && (best < 0 || rem[i] > rem[best]) {
				best = i
			}
		}
		q[best]++
		rem[best] = 0
	}
	for i, b := range backends {
		if b.Weight == 0 || q[i] > 0 {
			continue
		}
		most := 0
		for j := range q {
			if q[j] > q[most] {
				most = j
			}
		}
		q[most]--
		q[i] = 1
	}
	return q
}

func build(in []lb.Weighted, size uint32) (*Table, error) {
	if size == 0 {
		size = DefaultSize
	}
	backends, err := validate(in, size)
	if err != nil {
		return nil, err
	}
	n := len(backends)
	quota := quotas(backends, size)
	pos := make([]uint32, n)
	skip := make([]uint32, n)
	for i, b := range backends {
		pos[i] = uint32(hashID(b.ID, 0) % uint64(size))
		skip[i] = uint32(hashID(b.ID, 1)%uint64(size-1)) + 1
	}
	t := &Table{
		backends: backends,
		slots:    make([]uint32, size),
		owned:    slices.Clone(quota),
	}
	for i := range t.slots {
		t.slots[i] = empty
	}
	h := claimHeap{w: make([]uint64, 0, n), k: make([]uint64, 0, n), idx: make([]int, 0, n)}
	for i, b := range backends {
		if quota[i] > 0 {
			h.push(i, uint64(b.Weight))
		}
	}
	filled := uint32(0)
	// Claims happen in virtual time: the k-th claim of backend i (from 0) is
	// at (k+1)/weight, so backends interleave in proportion to their weights
	// as in weighted fair queueing; ties go to the lower index.
	for h.len() > 0 {
		i := h.idx[0]
		for t.slots[pos[i]] != empty {
			pos[i] += skip[i]
			if pos[i] >= size {
				pos[i] -= size
			}
		}
		t.slots[pos[i]] = uint32(i)
		quota[i]--
		filled++
		if quota[i] == 0 {
			h.pop()
		} else {
			h.k[0]++
			h.down(0)
		}
	}
	if filled != size {
		return nil, errTableOverfill
	}
	return t, nil
}
