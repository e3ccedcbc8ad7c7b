package state

import "sync/atomic"

type counters struct {
	expired atomic.Uint64
	evicted atomic.Uint64
	refused atomic.Uint64
}

// Stats is a snapshot of the engine's counters and sizes.
type Stats struct {
	Keys          int    // buckets stored; equals keys unless hashes collide
	Expired       uint64 // keys removed because their TTL passed
	Evicted       uint64 // keys removed to make room under the memory bound
	Refused       uint64 // writes refused with ErrOutOfMemory
	UsedBytes     int64  // live bytes: what MemoryBytes bounds (Redis's used_memory)
	CapacityBytes int64  // bytes the shard queues span: at most resident (MemoryBytes, more near the bound)
	MemoryBytes   int64  // the configured bound
	Policy        Policy
}

// Stats returns current counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Keys:          e.cache.Len(),
		Expired:       e.stats.expired.Load(),
		Evicted:       e.stats.evicted.Load(),
		Refused:       e.stats.refused.Load(),
		UsedBytes:     e.live.Load(),
		CapacityBytes: int64(e.cache.Capacity()),
		MemoryBytes:   e.cfg.MemoryBytes,
		Policy:        e.cfg.Policy,
	}
}

// Len is the number of stored keys, counting expired keys that the
// reclaimer has not removed yet (as Redis's DBSIZE does).
func (e *Engine) Len() int { return e.cache.Len() }
