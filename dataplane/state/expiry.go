package state

import "math"

// Expired records are dead space. The background reclaimer (reclaim.go)
// visits 1/64 of the shards per tick, so a flood of short TTLs left
// records that had expired seconds ago counted as live: a noeviction node
// refused writes and an evicting one evicted live keys with almost nothing
// live (red-team finding N4). So the writer that would refuse or evict
// first drops the entries of its shard whose records have all expired,
// as the cleaner drops overwritten versions, and a node-wide refusal
// first tries the other shards too.
//
// Scanning a shard costs a pass over its index, so each shard keeps a hint,
// nextExpiry: no entry of the shard expires before it (it may be earlier
// than the truth, never later). A writer stores the earliest expiry of
// every bucket it writes into it; a scan resets it to the earliest expiry
// left. A node at its bound with nothing expired therefore refuses without
// scanning, and each scan either frees something or makes the hint exact.

// noExpiry is the hint of a shard holding no record with an expiry.
const noExpiry = math.MaxInt64

// bucketExpiry is the earliest expiry of bucket's records (noExpiry: none).
func bucketExpiry(bucket []byte) int64 {
	x := int64(noExpiry)
	for off := 0; off < len(bucket); {
		r, ok := parseRecord(bucket[off:])
		if !ok {
			break
		}
		if at := r.meta.ExpireAt; at != 0 && at < x {
			x = at
		}
		off += r.size
	}
	return x
}

// noteExpiry lowers v's hint to at; the caller holds v.lock.
func (v *shardView) noteExpiry(at int64) {
	if at < v.nextExpiry.Load() {
		v.nextExpiry.Store(at)
	}
}

// bucketState reports how many of bucket's records have expired at now,
// whether all have, and the earliest expiry among those that have not.
func bucketState(bucket []byte, now int64) (expired int, all bool, next int64) {
	next, all = noExpiry, true
	for off := 0; off < len(bucket); {
		r, ok := parseRecord(bucket[off:])
		if !ok {
			return expired, false, next
		}
		off += r.size
		switch at := r.meta.ExpireAt; {
		case at != 0 && at <= now:
			expired++
		case at != 0:
			all = false
			next = min(next, at)
		default:
			all = false
		}
	}
	return expired, all && expired > 0, next
}

// dropExpiredLocked retires every entry of shard v but skip's whose
// records have all expired at now (skip's bucket is being rewritten by the
// caller, which drops its expired records itself), counts them, and
// resets v's hint. It returns the queue bytes freed. The caller holds
// v.lock; it allocates nothing.
func (e *Engine) dropExpiredLocked(v *shardView, skip uint64, now int64) int {
	if v.nextExpiry.Load() > now {
		return 0
	}
	next := int64(noExpiry)
	freed := 0
	for h, idx := range *v.hashmap {
		w, err := v.entries.Get(int(idx))
		if err != nil || len(w) < bcHeaderSize+8 {
			continue
		}
		n, all, soonest := bucketState(w[bcHeaderSize+8:], now)
		if !all || h == skip {
			// A bucket whose other records live (colliding keys) keeps its
			// expired ones until the reclaimer rewrites it.
			next = min(next, soonest)
			if h == skip && n > 0 {
				next = min(next, now+1)
			}
			continue
		}
		freed += v.retire(h)
		e.stats.expired.Add(uint64(n))
	}
	v.nextExpiry.Store(next)
	e.live.Add(-int64(freed))
	return freed
}

// admitGrowth counts growth more live bytes against the node-wide bound,
// dropping expired entries first when the bound would refuse them: those
// of v (locked by the caller, writing skip), then those of every other
// shard whose lock is free at once (TryLock: the caller holds v.lock, and
// a writer of another shard may be doing the same). It reports whether
// the growth was admitted.
func (e *Engine) admitGrowth(v *shardView, skip uint64, growth int) bool {
	g := int64(growth)
	if e.live.Add(g) <= e.cfg.MemoryBytes {
		return true
	}
	e.live.Add(-g)
	now := e.now()
	if e.dropExpiredLocked(v, skip, now) > 0 && e.tryGrow(g) {
		return true
	}
	for i := range e.views {
		o := &e.views[i]
		if o == v || o.nextExpiry.Load() > now || !o.lock.TryLock() {
			continue
		}
		freed := e.dropExpiredLocked(o, 0, now)
		o.lock.Unlock()
		if freed > 0 && e.tryGrow(g) {
			return true
		}
	}
	return false
}

// tryGrow adds g live bytes if the bound allows them.
func (e *Engine) tryGrow(g int64) bool {
	if e.live.Add(g) <= e.cfg.MemoryBytes {
		return true
	}
	e.live.Add(-g)
	return false
}

// dropExpired drops the expired entries of every shard whose hint says it
// has some; the caller holds no shard lock (SetMany's up-front check).
func (e *Engine) dropExpired() {
	now := e.now()
	for i := range e.views {
		v := &e.views[i]
		if v.nextExpiry.Load() > now {
			continue
		}
		v.lock.Lock()
		e.dropExpiredLocked(v, 0, now)
		v.lock.Unlock()
	}
}
