package state

import "time"

// reclaimSlices is how many ticks a full pass over all shards takes.
const reclaimSlices = 64

// While a tick finds at least 1/reclaimBusyDiv of the buckets it visits
// expired, it goes on to the next shards, for at most 1/reclaimBusyDiv of
// the interval: after a flood of short TTLs used memory then falls within
// a few ticks instead of a full pass (6.4 s), as Redis's active expire
// cycle repeats while a quarter of its sample has expired. Writers drop
// expired entries themselves before they refuse or evict (expiry.go), so
// this is only about what used memory reports and how soon.
const reclaimBusyDiv = 4

// reclaimLoop removes expired keys in the background, visiting a slice of
// the shards per tick so that no tick holds locks for long. Reads never
// return expired values regardless; this only gives the memory back.
func (e *Engine) reclaimLoop() {
	defer close(e.done)
	if e.cfg.ReclaimInterval < 0 || e.views == nil {
		<-e.stop
		return
	}
	t := time.NewTicker(e.cfg.ReclaimInterval)
	defer t.Stop()
	per := max(e.shards/reclaimSlices, 1)
	next := 0
	var hashes []uint64
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		for visited := 0; visited < e.shards; visited++ {
			var n int
			hashes, n = e.expiredBuckets(hashes[:0], next)
			for _, h := range hashes {
				e.reclaimBucket(h)
			}
			next = (next + 1) % e.shards
			if visited+1 >= per && (len(hashes)*reclaimBusyDiv < n ||
				time.Since(start) > e.cfg.ReclaimInterval/reclaimBusyDiv) {
				break
			}
		}
	}
}

// ReclaimNow runs one full reclaim pass synchronously (tests, FLUSH-like
// maintenance). It returns how many keys it removed.
func (e *Engine) ReclaimNow() int {
	if e.views == nil {
		return 0
	}
	before := e.stats.expired.Load()
	var hashes []uint64
	for i := range e.shards {
		hashes, _ = e.expiredBuckets(hashes[:0], i)
		for _, h := range hashes {
			e.reclaimBucket(h)
		}
	}
	return int(e.stats.expired.Load() - before)
}

// expiredBuckets appends the hashes of shard i's buckets that hold at least
// one expired record; n is how many buckets it visited.
func (e *Engine) expiredBuckets(dst []uint64, i int) (_ []uint64, n int) {
	v := &e.views[i]
	now := e.now()
	v.lock.RLock()
	defer v.lock.RUnlock()
	n = len(*v.hashmap)
	for h, idx := range *v.hashmap {
		w, err := v.entries.Get(int(idx))
		if err != nil || len(w) < bcHeaderSize+8 {
			continue
		}
		b := w[bcHeaderSize+8:]
		for off := 0; off < len(b); {
			r, ok := parseRecord(b[off:])
			if !ok {
				break
			}
			if r.meta.expired(now) {
				dst = append(dst, h)
				break
			}
			off += r.size
		}
	}
	return dst, n
}

// reclaimBucket rewrites bucket h without its expired records.
func (e *Engine) reclaimBucket(h uint64) {
	s := e.lockStripe(h)
	defer s.mu.Unlock()
	s.old, _ = e.appendBucket(s.old[:0], h)
	now := e.now()
	next := s.next[:0]
	dropped := 0
	for off := 0; off < len(s.old); {
		r, ok := parseRecord(s.old[off:])
		if !ok {
			break
		}
		off += r.size
		if r.meta.expired(now) {
			dropped++
			continue
		}
		next = append(next, s.old[off-r.size:off]...)
	}
	s.next = next
	if dropped == 0 {
		return
	}
	if e.storeBucket(s, next) == nil {
		e.stats.expired.Add(uint64(dropped))
	}
}

// Scan calls fn with the live keys of the shards from cursor on, until it
// has visited at least count keys or the last shard; it returns the cursor
// for the next call, 0 when the scan is complete. Every key present for the
// whole scan is visited at least once. fn must not call into the engine;
// its key is valid only during the call.
func (e *Engine) Scan(cursor uint64, count int, fn func(key []byte)) uint64 {
	if e.views == nil {
		e.scanSlow(fn)
		return 0
	}
	now := e.now()
	seen := 0
	for i := int(cursor); i < e.shards; i++ {
		v := &e.views[i]
		v.lock.RLock()
		for _, idx := range *v.hashmap {
			w, err := v.entries.Get(int(idx))
			if err != nil || len(w) < bcHeaderSize+8 {
				continue
			}
			b := w[bcHeaderSize+8:]
			for off := 0; off < len(b); {
				r, ok := parseRecord(b[off:])
				if !ok {
					break
				}
				off += r.size
				if !r.meta.expired(now) {
					fn(r.key)
					seen++
				}
			}
		}
		v.lock.RUnlock()
		if seen >= count && i+1 < e.shards {
			return uint64(i + 1)
		}
	}
	return 0
}

// scanSlow walks the cache with bigcache's iterator (copying every entry).
func (e *Engine) scanSlow(fn func(key []byte)) {
	now := e.now()
	it := e.cache.Iterator()
	for it.SetNext() {
		info, err := it.Value()
		if err != nil {
			continue
		}
		b := info.Value()
		for off := 0; off < len(b); {
			r, ok := parseRecord(b[off:])
			if !ok {
				break
			}
			off += r.size
			if !r.meta.expired(now) {
				fn(r.key)
			}
		}
	}
}
