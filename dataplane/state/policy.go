package state

import "fmt"

// Policy is what the engine does when live data reaches its memory bound,
// as Redis's maxmemory-policy. The zero value is PolicyNoEviction: a state
// tier that holds sessions and carts must refuse a write rather than drop
// another key to make room for it.
type Policy uint8

// Memory policies.
const (
	// PolicyNoEviction refuses writes that would grow live data past the
	// bound with ErrOutOfMemory; deletes, writes that do not grow, and
	// reads keep working.
	PolicyNoEviction Policy = iota
	// PolicyFIFO evicts the oldest entries of the shard being written, for
	// pure caching.
	PolicyFIFO
	// PolicyLRU evicts approximately least recently used entries of the
	// shard being written (second chance: an entry read since the cleaner
	// last passed it is moved to the back instead), for pure caching.
	PolicyLRU
)

var policyNames = [...]string{"noeviction", "fifo", "lru"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", uint8(p))
}

// ParsePolicy reads a policy by its name: noeviction, fifo or lru.
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q (want noeviction, fifo or lru)", ErrPolicy, s)
}

// Evicts reports whether the policy makes room by evicting live keys.
func (p Policy) Evicts() bool { return p != PolicyNoEviction }
