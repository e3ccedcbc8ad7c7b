package store

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// EntryOverhead is charged per entry on top of the value cost and key
// length: the entry struct, its map slot and queue links.
const EntryOverhead = 160

const (
	numShards  = 64
	maxFreq    = 3
	smallRatio = 10 // percent of the capacity given to the small queue
)

// ErrTooLarge is returned by Set for a value that cannot fit the capacity.
var ErrTooLarge = errors.New("store: value larger than capacity")

type entry[V any] struct {
	key        string
	hash       uint64
	val        V
	cost       int64
	freq       atomic.Int32
	inMain     bool
	prev, next *entry[V]
}

type shard[V any] struct {
	mu sync.RWMutex
	m  map[string]*entry[V]
	_  [40]byte // keep neighbouring shard locks off one cache line
}

// Stats are the store's counters.
type Stats struct {
	Bytes          int64
	Objects        int64
	EvictedBytes   uint64
	EvictedObjects uint64
}

// Store maps string keys to values of type V within a byte budget.
type Store[V any] struct {
	seed     maphash.Seed
	shards   [numShards]shard[V]
	capacity int64
	smallCap int64

	mu    sync.Mutex // guards the queues, the ghost and used
	small queue[V]
	main  queue[V]
	ghost *ghost
	used  int64

	bytes          atomic.Int64
	objects        atomic.Int64
	evictedBytes   atomic.Uint64
	evictedObjects atomic.Uint64
}

// New returns a store that holds at most capacity bytes.
func New[V any](capacity int64) *Store[V] {
	s := &Store[V]{
		seed:     maphash.MakeSeed(),
		capacity: capacity,
		smallCap: capacity * smallRatio / 100,
	}
	s.ghost = newGhost(capacity - s.smallCap)
	for i := range s.shards {
		s.shards[i].m = make(map[string]*entry[V])
	}
	return s
}

// Capacity is the byte budget.
func (s *Store[V]) Capacity() int64 { return s.capacity }

func (s *Store[V]) shardFor(h uint64) *shard[V] { return &s.shards[h%numShards] }

// Get returns the value stored under key. It takes no exclusive lock and
// does not allocate.
func (s *Store[V]) Get(key []byte) (V, bool) {
	h := maphash.Bytes(s.seed, key)
	sh := s.shardFor(h)
	sh.mu.RLock()
	e := sh.m[string(key)]
	sh.mu.RUnlock()
	if e == nil {
		var zero V
		return zero, false
	}
	// Reading first keeps a hot entry's cache line shared between cores.
	if e.freq.Load() < maxFreq {
		e.freq.Add(1)
	}
	return e.val, true
}

// Set stores v under key, charging cost bytes plus the key and a fixed
// overhead, and evicts until everything fits. A key already present is
// replaced and keeps its place in the main queue.
func (s *Store[V]) Set(key string, v V, cost int64) error {
	cost += int64(len(key)) + EntryOverhead
	if cost > s.capacity {
		return ErrTooLarge
	}
	h := maphash.String(s.seed, key)
	e := &entry[V]{key: key, hash: h, val: v, cost: cost}
	sh := s.shardFor(h)

	s.mu.Lock()
	defer s.mu.Unlock()
	sh.mu.Lock()
	old := sh.m[key]
	sh.mu.Unlock()
	if old != nil {
		e.inMain = old.inMain
		e.freq.Store(old.freq.Load())
		s.unlinkLocked(old)
	} else if s.ghost.take(h) {
		e.inMain = true
	}
	for s.used+cost > s.capacity {
		if !s.evictLocked() {
			return ErrTooLarge
		}
	}
	if e.inMain {
		s.main.pushBack(e)
	} else {
		s.small.pushBack(e)
	}
	s.used += cost
	s.bytes.Store(s.used)
	s.objects.Add(1)
	sh.mu.Lock()
	sh.m[key] = e
	sh.mu.Unlock()
	return nil
}

// Delete removes key and reports whether it was present.
func (s *Store[V]) Delete(key string) bool {
	h := maphash.String(s.seed, key)
	sh := s.shardFor(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	sh.mu.Lock()
	e := sh.m[key]
	if e != nil {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
	if e == nil {
		return false
	}
	s.unlinkLocked(e)
	return true
}

// unlinkLocked drops e from its queue and the byte count; the caller has
// removed it from (or is about to replace it in) its shard map.
func (s *Store[V]) unlinkLocked(e *entry[V]) {
	if e.inMain {
		s.main.unlink(e)
	} else {
		s.small.unlink(e)
	}
	s.used -= e.cost
	s.bytes.Store(s.used)
	s.objects.Add(-1)
}

// evictLocked evicts one entry by S3-FIFO and reports whether anything was
// left to evict.
func (s *Store[V]) evictLocked() bool {
	for s.small.n > 0 || s.main.n > 0 {
		if s.small.n > 0 && (s.small.bytes > s.smallCap || s.main.n == 0) {
			e := s.small.popFront()
			if e.freq.Load() > 0 {
				// Seen again while on probation: promote.
				e.freq.Store(0)
				e.inMain = true
				s.main.pushBack(e)
				continue
			}
			s.ghost.add(e.hash, e.cost)
			s.dropLocked(e)
			return true
		}
		e := s.main.popFront()
		if f := e.freq.Load(); f > 0 {
			e.freq.Store(min(f, maxFreq) - 1)
			s.main.pushBack(e)
			continue
		}
		s.dropLocked(e)
		return true
	}
	return false
}

// dropLocked finishes an eviction of e, already popped from its queue.
func (s *Store[V]) dropLocked(e *entry[V]) {
	sh := s.shardFor(e.hash)
	sh.mu.Lock()
	if sh.m[e.key] == e {
		delete(sh.m, e.key)
	}
	sh.mu.Unlock()
	s.used -= e.cost
	s.bytes.Store(s.used)
	s.objects.Add(-1)
	s.evictedBytes.Add(uint64(e.cost))
	s.evictedObjects.Add(1)
}

// Range calls fn for every entry until fn returns false. It holds the
// policy lock: fn must not call back into the store.
func (s *Store[V]) Range(fn func(key string, v V) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range []*queue[V]{&s.small, &s.main} {
		for e := q.head; e != nil; e = e.next {
			if !fn(e.key, e.val) {
				return
			}
		}
	}
}

// Stats returns the current counters.
func (s *Store[V]) Stats() Stats {
	return Stats{
		Bytes:          s.bytes.Load(),
		Objects:        s.objects.Load(),
		EvictedBytes:   s.evictedBytes.Load(),
		EvictedObjects: s.evictedObjects.Load(),
	}
}
