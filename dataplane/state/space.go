package state

import (
	"encoding/binary"
	"sync/atomic"
)

// This file is the engine's own write path into bigcache's shard queues,
// used whenever peek is available (see peek.go for the layout it relies
// on). bigcache's Set appends every new version of a value to the shard's
// FIFO queue and only marks the old one dead; dead bytes are freed only when
// the queue's head reaches them, and when the queue is full bigcache pops
// the head whether it is dead or live. A key rewritten with values of
// changing sizes therefore filled the queue with dead copies and evicted
// unrelated live keys at a few percent of the bound (DESIGN.md, Pitfalls).
//
// Here the engine counts live bytes (the queue bytes of entries the index
// points at) per shard and node-wide, and decides by them alone:
//
//   - Each shard's queue reserves ReserveFactor times the shard's share of
//     the bound (address space only), and the engine sets how much of it
//     the queue spans before its tail wraps: its share of the bound, or
//     its live data plus a quarter (HeadroomDiv) when that is more. Dead
//     space can then always be reclaimed cheaply, a shard that the hash
//     fills more than others still has room until the node-wide bound, and
//     resident memory stays within the bound until live data nears it
//     (then up to a quarter more).
//   - When a write does not fit, the writer cleans its shard from the head,
//     like the cleaner of a log-structured store: a dead head entry is
//     dropped, a live one is moved to the tail. The work is done by the
//     writer under the shard lock it holds anyway, proportional to the
//     bytes it writes (at most one pass over the shard), so no background
//     task holds a lock for long and nothing is allocated.
//   - Eviction happens only when live data reaches the bound, and only
//     under an evicting policy; PolicyNoEviction refuses the write instead.

// HeadroomDiv sizes the reclaim headroom: a shard's queue spans its live
// bytes plus 1/HeadroomDiv of them, so the cleaner copies at most about
// HeadroomDiv bytes of live entries per byte it frees.
const HeadroomDiv = 4

// ReserveFactor is the address space each shard's queue reserves, in
// shares of the bound: live data in one shard may reach this many times
// its share (nearly: an eighth stays free for the cleaner) before the
// node-wide bound refuses.
const ReserveFactor = 2

// spanStep rounds the growth of a queue's span.
const spanStep = 64 << 10

// spanFor is the span a shard needs for live bytes of live data and the
// write of need bytes in progress, beyond its share of the bound: the
// reclaim headroom, plus room for the entry at either end of the ring.
func spanFor(live, need int) int {
	n := live + live/HeadroomDiv + need + 2*queueHeaderMin
	return (n + spanStep - 1) / spanStep * spanStep
}

// queueHeaderMin is bigcache's queue minimumHeaderSize: a gap between tail
// and head smaller than an entry plus this is unusable.
const queueHeaderMin = 17

// neededSize is what an entry of n bytes takes in a bigcache queue (its
// uvarint length prefix included), as queue.getNeededSize computes it.
func neededSize(n int) int {
	switch {
	case n < 127:
		return n + 1
	case n < 16382:
		return n + 2
	case n < 2097149:
		return n + 3
	case n < 268435452:
		return n + 4
	}
	return n + 5
}

// wrapEntry appends the bigcache entry of bucket under hash h to dst: a
// timestamp (unused: the engine never lets bigcache expire anything), the
// hash, the key length and the key, which is the hash itself.
func wrapEntry(dst []byte, h uint64, bucket []byte) []byte {
	var hdr [bcHeaderSize + 8]byte
	binary.LittleEndian.PutUint64(hdr[bcHash:], h)
	binary.LittleEndian.PutUint16(hdr[bcKeyLen:], 8)
	binary.LittleEndian.PutUint64(hdr[bcHeaderSize:], h)
	dst = append(dst, hdr[:]...)
	return append(dst, bucket...)
}

// entryHash is the hash of a wrapped entry; 0 marks a dead one.
func entryHash(w []byte) uint64 { return binary.LittleEndian.Uint64(w[bcHash:]) }

// isLive reports whether the wrapped entry w, read from v's queue, is the one
// the index points at.
func (v *shardView) isLive(w []byte) bool {
	h := entryHash(w)
	if h == 0 {
		return false
	}
	idx := (*v.hashmap)[h]
	if idx == 0 {
		return false
	}
	cur, err := v.entries.Get(int(idx))
	return err == nil && len(cur) == len(w) && &cur[0] == &w[0]
}

// retire marks the entry of h dead and drops it from the index; it returns
// the queue bytes it held (0 if h had none). The caller holds v.lock.
func (v *shardView) retire(h uint64) int {
	idx := (*v.hashmap)[h]
	if idx == 0 {
		return 0
	}
	delete(*v.hashmap, h)
	w, err := v.entries.Get(int(idx))
	if err != nil || len(w) < bcHeaderSize+8 || entryHash(w) != h {
		return 0
	}
	binary.LittleEndian.PutUint64(w[bcHash:], 0)
	n := neededSize(len(w))
	v.live -= n
	return n
}

// removeBucket deletes the bucket under h.
func (e *Engine) removeBucket(v *shardView, h uint64) {
	v.lock.Lock()
	n := v.retire(h)
	v.lock.Unlock()
	e.live.Add(-int64(n))
}

// putBucket stores bucket under h in shard v, applying the memory policy;
// s is the caller's locked stripe, whose buffers it uses.
func (e *Engine) putBucket(v *shardView, s *stripe, h uint64, bucket []byte) error {
	v.lock.Lock()
	defer v.lock.Unlock()
	if at := bucketExpiry(bucket); at != noExpiry {
		v.noteExpiry(at)
	}
	if v.overwriteLocked(h, bucket) {
		return nil
	}
	s.wrap = wrapEntry(s.wrap[:0], h, bucket)
	need := neededSize(len(s.wrap))
	old := 0
	if idx := (*v.hashmap)[h]; idx != 0 {
		if w, err := v.entries.Get(int(idx)); err == nil && len(w) >= bcHeaderSize+8 && entryHash(w) == h {
			old = neededSize(len(w))
		}
	}
	growth := need - old
	if want := spanFor(v.live+need, need); want > v.span() {
		v.grow(want)
	}
	if e.cfg.Policy == PolicyNoEviction && growth > 0 {
		// The old version stays live until the new one is in, so the shard
		// must hold both; an eighth of its queue is kept free for the
		// cleaner. Keys are hashed, so shards fill evenly and the
		// node-wide bound is what normally refuses.
		// Expired records are dead space: they are dropped before a
		// write is refused for them (expiry.go).
		room := e.queueCap - e.queueCap/8
		if v.live+need > room && (e.dropExpiredLocked(v, h, e.now()) == 0 || v.live+need > room) {
			e.stats.refused.Add(1)
			return ErrOutOfMemory
		}
		if !e.admitGrowth(v, h, growth) {
			e.stats.refused.Add(1)
			return ErrOutOfMemory
		}
	} else {
		e.live.Add(int64(growth))
	}
	if err := e.pushLocked(v, s, h, need, old); err != nil {
		e.live.Add(-int64(growth))
		return err
	}
	return nil
}

// pushLocked appends s.wrap to v's queue, cleaning the shard from its head
// until it fits: dead entries are dropped, live ones are moved to the tail,
// or evicted when the policy evicts and the shard's live data is over its
// share. On success the old entry of h (old bytes) is retired and the
// index points at the new one. The caller holds v.lock.
func (e *Engine) pushLocked(v *shardView, s *stripe, h uint64, need, old int) error {
	s.carry = s.carry[:0]
	// One pass over the entries present is enough to gather all dead
	// space; a write that still does not fit fails, or evicts.
	pass := v.entries.Len() + 2
	retiredEarly := false
	evicts := e.cfg.Policy.Evicts()
	now := e.now()
	if evicts && v.live-old+need > e.maxShard {
		// Expired entries go before any live one is evicted (expiry.go).
		e.dropExpiredLocked(v, h, now)
	}
	for pops := 0; ; pops++ {
		// Under an evicting policy a shard's live data stays within its
		// share of the bound; forced after a full pass that found no room.
		over := evicts && (v.live-old+need > e.maxShard || pops > pass)
		if e.pushCarried(v, s) && !(over && pops <= pass) {
			if v.canPush(need) {
				if idx, err := v.entries.Push(s.wrap); err == nil {
					if !retiredEarly {
						v.retire(h)
					}
					(*v.hashmap)[h] = uint32(idx)
					v.live += need
					return nil
				}
			}
			if pops > pass && !evicts {
				if retiredEarly || old == 0 || need > old {
					if retiredEarly {
						// Pathological: even without its old version the
						// shard is packed with live data. The old value is
						// gone; count it.
						e.stats.evicted.Add(1)
						e.live.Add(-int64(old))
					}
					e.stats.refused.Add(1)
					return ErrOutOfMemory
				}
				// A write that does not grow the key must not be refused:
				// give up the old version first, then try once more.
				v.retire(h)
				retiredEarly, pops, pass = true, 0, v.entries.Len()+2
				continue
			}
		}
		head, err := v.entries.Peek()
		if err != nil {
			if len(s.carry) == 0 {
				return ErrNoSpace
			}
			continue // an empty queue takes the carried entries back
		}
		if len(head) < bcHeaderSize+8 || !v.isLive(head) {
			_, _ = v.entries.Pop()
			continue
		}
		hh := entryHash(head)
		if n, all, _ := bucketState(head[bcHeaderSize+8:], now); all && hh != h {
			// Expired: dead space, like an overwritten version.
			e.live.Add(-int64(v.retire(hh)))
			e.stats.expired.Add(uint64(n))
			_, _ = v.entries.Pop()
			continue
		}
		if over && hh != h && !(e.cfg.Policy == PolicyLRU && v.untouch(hh)) {
			n := neededSize(len(head))
			e.stats.evicted.Add(uint64(countRecords(head[bcHeaderSize+8:])))
			delete(*v.hashmap, hh)
			v.live -= n
			e.live.Add(-int64(n))
			_, _ = v.entries.Pop()
			continue
		}
		if pops > 4*pass {
			// Cannot happen while the checks above hold; never loop forever.
			e.dropCarried(v, s)
			e.stats.refused.Add(1)
			return ErrOutOfMemory
		}
		s.carry = binary.LittleEndian.AppendUint32(s.carry, uint32(len(head)))
		s.carry = append(s.carry, head...)
		_, _ = v.entries.Pop()
	}
}

// pushCarried moves the live entries the cleaner took from the head back to
// the tail, in order, and reports whether none is left waiting.
func (e *Engine) pushCarried(v *shardView, s *stripe) bool {
	c := s.carry
	for len(c) > 0 {
		n := int(binary.LittleEndian.Uint32(c))
		w := c[4 : 4+n]
		if !v.canPush(neededSize(n)) {
			s.carry = s.carry[:copy(s.carry, c)]
			return false
		}
		idx, err := v.entries.Push(w)
		if err != nil {
			s.carry = s.carry[:copy(s.carry, c)]
			return false
		}
		(*v.hashmap)[entryHash(w)] = uint32(idx)
		c = c[4+n:]
	}
	s.carry = s.carry[:0]
	return true
}

// dropCarried evicts the entries still carried.
func (e *Engine) dropCarried(v *shardView, s *stripe) {
	for c := s.carry; len(c) > 0; {
		n := int(binary.LittleEndian.Uint32(c))
		w := c[4 : 4+n]
		e.stats.evicted.Add(uint64(countRecords(w[bcHeaderSize+8:])))
		delete(*v.hashmap, entryHash(w))
		v.live -= neededSize(n)
		e.live.Add(-int64(neededSize(n)))
		c = c[4+n:]
	}
	s.carry = s.carry[:0]
}

// touchBits is the size of each shard's LRU reference bitmap. Keys share
// bits when a shard holds more entries than this; a shared bit only gives
// an extra chance.
const touchBits = 8192

// touch marks h as recently read (PolicyLRU only).
func (v *shardView) touch(h uint64) {
	b := (h >> 32) % touchBits
	atomic.OrUint32(&v.touched[b/32], 1<<(b%32))
}

// untouch clears h's reference bit and reports whether it was set.
func (v *shardView) untouch(h uint64) bool {
	b := (h >> 32) % touchBits
	return atomic.AndUint32(&v.touched[b/32], ^uint32(1<<(b%32)))&(1<<(b%32)) != 0
}

// flushShards empties every shard.
func (e *Engine) flushShards() {
	for i := range e.views {
		v := &e.views[i]
		v.lock.Lock()
		clear(*v.hashmap)
		v.entries.Reset()
		e.live.Add(-int64(v.live))
		v.live = 0
		v.nextExpiry.Store(noExpiry)
		v.lock.Unlock()
	}
}
