package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/cespare/xxhash/v2"
)

const mib = 1 << 20

// Limits and defaults of Config.
const (
	// MinMemoryBytes is the smallest MemoryBytes an engine accepts: one
	// shard of one MiB.
	MinMemoryBytes = mib
	// DefaultMemoryBytes is the bound when MemoryBytes is 0, small enough
	// for tests and embedding; a state node sets its own
	// (server.DefaultMemoryBytes).
	DefaultMemoryBytes = 64 * mib
	// DefaultEpoch is the version epoch when Epoch is 0.
	DefaultEpoch = 1
)

// Config sizes an engine explicitly; bigcache's DefaultConfig would
// preallocate hundreds of megabytes.
type Config struct {
	// MemoryBytes bounds the live bytes of stored entries (keys, values,
	// headers): what Redis calls maxmemory. Each shard queue spans its
	// share of it, or its live data plus a quarter (HeadroomDiv) when more,
	// so that the dead copies rewrites leave behind can be reclaimed (see
	// space.go); the hash index adds about 20 bytes per key on top.
	// Minimum 1 MiB.
	MemoryBytes int64
	// Policy says what happens when live data reaches MemoryBytes; the zero
	// value is PolicyNoEviction.
	Policy Policy
	// Shards is the number of bigcache shards, a power of two. 0 picks one
	// shard per MiB of memory, between 1 and 1024.
	Shards int
	// Stripes is the number of write locks, a power of two (default 4096).
	Stripes int
	// InitialEntries sizes the first allocation of each shard's hash index
	// (default 64 per shard). The shard queues are allocated at their full
	// size up front (see New).
	InitialEntries int
	// MaxValueSize is the largest value accepted (default 1 MiB, and never
	// more than a quarter of one shard so a write cannot empty a shard).
	MaxValueSize int
	// MaxKeySize is the longest key accepted (default and maximum 65535).
	MaxKeySize int
	// Epoch is the version epoch stamped on writes (default 1).
	Epoch uint32
	// Hasher maps keys to 64-bit hashes (default xxhash). Tests replace it
	// to force collisions.
	Hasher bigcache.Hasher
	// ReclaimInterval is how often the background reclaimer visits a slice
	// of the shards to drop expired keys (default 100ms; a full pass takes
	// 64 intervals). Negative disables it.
	ReclaimInterval time.Duration
	// Sink, when set, receives every write in sequence order.
	Sink ChangeSink
	// Now returns the current unix time in milliseconds (default: a clock
	// refreshed every millisecond).
	Now func() int64
}

// Engine is one node's key-value store. All methods are safe for concurrent use.
type Engine struct {
	cfg      Config
	cache    *bigcache.BigCache
	views    []shardView // nil when peek is unavailable
	shards   int
	maxShard int // a shard's share of MemoryBytes: its live bound under an evicting policy
	queueCap int // bytes reserved for each shard's queue (ReserveFactor × maxShard); each spans less
	hasher   bigcache.Hasher
	now      func() int64

	stripeMask uint64
	stripes    []stripe

	clock  atomic.Int64 // unix ms, kept by tick when Config.Now is unset
	live   atomic.Int64 // queue bytes of live entries, all shards (space.go)
	seq    atomic.Uint64
	feedMu sync.Mutex

	stats counters

	stop     chan struct{}
	done     chan struct{}
	closeOne sync.Once
}

// stripe serialises read-modify-write of the buckets whose hash maps to it,
// and owns scratch buffers that only its holder touches.
type stripe struct {
	mu    sync.Mutex
	hkey  [8]byte
	old   []byte
	next  []byte
	wrap  []byte   // the bigcache entry being written (space.go)
	carry []byte   // live entries the cleaner is moving (space.go)
	_     [16]byte // keep neighbouring mutexes off one cache line
}

type xxHasher struct{}

func (xxHasher) Sum64(s string) uint64 { return xxhash.Sum64String(s) }

// New builds an engine and starts its background reclaimer.
func New(cfg Config) (*Engine, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:        cfg,
		shards:     cfg.Shards,
		maxShard:   int(cfg.MemoryBytes/mib) * mib / cfg.Shards,
		hasher:     cfg.Hasher,
		now:        cfg.Now,
		stripeMask: uint64(cfg.Stripes - 1),
		stripes:    make([]stripe, cfg.Stripes),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if err := e.openCache(); err != nil {
		return nil, err
	}
	if e.now == nil {
		// Reading the wall clock costs tens of nanoseconds (more on some
		// virtual machines), and a request may need it several times; TTLs
		// have millisecond resolution, so an atomic clock refreshed per batch
		// of requests (SetClock) and by a slow ticker serves them.
		e.clock.Store(time.Now().UnixMilli())
		e.now = e.clock.Load
		go e.tick()
	}
	go e.reclaimLoop()
	return e, nil
}

// openCache creates the bigcache instance and the shard views. Each
// shard's queue reserves ReserveFactor times its share of the bound, so
// that shards which the hash fills unevenly can still hold their keys
// until the node-wide bound; the engine lets a queue span only what its
// live data needs plus the reclaim headroom (space.go), and the kernel
// makes pages resident only where a queue has written, so resident memory
// follows the live data, not the reservation.
func (e *Engine) openCache() error {
	cfg := &e.cfg
	reserve := int((ReserveFactor*cfg.MemoryBytes + mib - 1) / mib)
	cache, err := e.newBigcache(reserve)
	if err != nil {
		return err
	}
	views, err := newShardViews(cache)
	if err == nil && e.selfTest(cache, views) {
		e.cache, e.views = cache, views
		e.queueCap = reserve * mib / cfg.Shards
		for i := range views {
			views[i].startSpan(e.maxShard)
			views[i].nextExpiry.Store(noExpiry)
			if cfg.Policy == PolicyLRU {
				views[i].touched = make([]uint32, touchBits/32)
			}
		}
		return nil
	}
	_ = cache.Close()
	if cfg.Policy != PolicyFIFO {
		// Without the engine's own write path bigcache evicts live keys
		// behind the queue's dead bytes: only FIFO is honest then.
		return fmt.Errorf("state: %v needs the engine's write path into bigcache, "+
			"whose layout check failed (bigcache is not v3.1.0?); only fifo works without it", cfg.Policy)
	}
	// bigcache fills the whole queue itself: reserve only the bound.
	reserve = int(cfg.MemoryBytes / mib)
	e.queueCap = reserve * mib / cfg.Shards
	e.cache, err = e.newBigcache(reserve)
	return err
}

// newBigcache creates a bigcache whose queues total queueMiB MiB.
func (e *Engine) newBigcache(queueMiB int) (*bigcache.BigCache, error) {
	cfg := &e.cfg
	queueCap := queueMiB * mib / cfg.Shards
	bc := bigcache.Config{
		Shards: cfg.Shards,
		// Expiry is per key in the record header; bigcache's global window is
		// set beyond any real uptime so it never expires anything itself.
		LifeWindow:  100 * 365 * 24 * time.Hour,
		CleanWindow: 0,
		// bigcache sizes each queue's first allocation as
		// MaxEntriesInWindow/Shards × MaxEntrySize, and the hash index as
		// MaxEntriesInWindow/Shards entries. The queue is given its full
		// size at once: pages the kernel has not handed out are not
		// resident until written, and the queue fills front to back, so
		// resident memory follows the data, while growing by doubling
		// would copy every queue several times and leave the old arrays as
		// garbage (measured: 43 MiB instead of 27 MiB for 100k keys).
		MaxEntriesInWindow: cfg.InitialEntries * cfg.Shards,
		MaxEntrySize:       max((queueCap+cfg.InitialEntries-1)/cfg.InitialEntries, 1),
		HardMaxCacheSize:   queueMiB,
		Hasher:             hashKeyHasher{},
		OnRemoveWithReason: e.onRemove,
	}.OnRemoveFilterSet(bigcache.NoSpace, bigcache.Expired)
	cache, err := bigcache.New(context.Background(), bc)
	if err != nil {
		return nil, fmt.Errorf("state: bigcache: %w", err)
	}
	return cache, nil
}

// fill replaces zero fields with their defaults and judges the result.
func (c *Config) fill() error {
	if c.MemoryBytes == 0 {
		c.MemoryBytes = DefaultMemoryBytes
	}
	if c.Epoch == 0 {
		c.Epoch = DefaultEpoch
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Shards == 0 {
		c.Shards = 1 << (bits.Len64(uint64(c.MemoryBytes/mib)) - 1)
		c.Shards = min(c.Shards, 1024)
	}
	if c.Stripes == 0 {
		c.Stripes = 4096
	}
	if c.InitialEntries <= 0 {
		c.InitialEntries = 64
	}
	shardBytes := int(c.MemoryBytes/mib) * mib / c.Shards
	if c.MaxValueSize == 0 {
		c.MaxValueSize = mib
	}
	c.MaxValueSize = min(c.MaxValueSize, shardBytes/4)
	if c.MaxKeySize == 0 || c.MaxKeySize > MaxKeySize {
		c.MaxKeySize = MaxKeySize
	}
	c.MaxKeySize = min(c.MaxKeySize, shardBytes/4)
	if c.Hasher == nil {
		c.Hasher = xxHasher{}
	}
	if c.ReclaimInterval == 0 {
		c.ReclaimInterval = 100 * time.Millisecond
	}
	return nil
}

// Validate reports the first field of c that is out of range, wrapping
// ErrConfig. It judges c as given: New replaces a zero MemoryBytes or
// Epoch with its default first, so those are errors only here; a zero
// Shards or Stripes means New picks them.
func (c *Config) Validate() error {
	switch {
	case c.MemoryBytes < MinMemoryBytes:
		return fmt.Errorf("%w: memory %d bytes is below the 1 MiB minimum", ErrConfig, c.MemoryBytes)
	case c.Policy > PolicyLRU:
		return fmt.Errorf("%w: %w: %d", ErrConfig, ErrPolicy, c.Policy)
	case c.Shards < 0 || c.Shards&(c.Shards-1) != 0:
		return fmt.Errorf("%w: shards %d is not a power of two", ErrConfig, c.Shards)
	case c.Stripes < 0 || c.Stripes&(c.Stripes-1) != 0:
		return fmt.Errorf("%w: stripes %d is not a power of two", ErrConfig, c.Stripes)
	case c.Epoch == 0:
		return fmt.Errorf("%w: epoch 0: epochs start at 1", ErrConfig)
	}
	return nil
}

// selfTest checks the peek path against bigcache's public Get once.
func (e *Engine) selfTest(cache *bigcache.BigCache, views []shardView) bool {
	const h = 0x5354_5241_5441_0001
	var hk [8]byte
	binary.LittleEndian.PutUint64(hk[:], h)
	probe := []byte("strata-peek-probe")
	if err := cache.Set(string(hk[:]), probe); err != nil {
		return false
	}
	defer func() { _ = cache.Delete(string(hk[:])) }()
	got, ok := views[h&uint64(e.shards-1)].appendBucket(nil, h)
	return ok && string(got) == string(probe)
}

// clockInterval is how often the engine refreshes its own clock. Servers
// also refresh it with SetClock whenever requests arrive, so it is current
// when it matters; a fast ticker would wake the Go scheduler a thousand
// times a second for nothing on an idle node.
const clockInterval = 10 * time.Millisecond

func (e *Engine) tick() {
	t := time.NewTicker(clockInterval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.clock.Store(now.UnixMilli())
		}
	}
}

// SetClock advances the engine's clock to ms (unix milliseconds) if that
// is later; servers call it once per batch of requests. It has no effect
// when Config.Now is set.
func (e *Engine) SetClock(ms int64) {
	for {
		cur := e.clock.Load()
		if ms <= cur || e.clock.CompareAndSwap(cur, ms) {
			return
		}
	}
}

// Close stops the reclaimer and releases the cache.
func (e *Engine) Close() error {
	var err error
	e.closeOne.Do(func() {
		close(e.stop)
		<-e.done
		err = e.cache.Close()
	})
	return err
}

// Limits reports the largest key and value the engine accepts.
func (e *Engine) Limits() (maxKey, maxValue int) { return e.cfg.MaxKeySize, e.cfg.MaxValueSize }

// Epoch is the version epoch this engine stamps on writes.
func (e *Engine) Epoch() uint32 { return e.cfg.Epoch }

// hash maps a key to its bucket hash; never 0, which bigcache reserves.
func (e *Engine) hash(key []byte) uint64 {
	h := e.hasher.Sum64(unsafeString(key))
	if h == 0 {
		h = 1
	}
	return h
}

// checkPair refuses a value over MaxValueSize, then a key checkKey refuses.
func (e *Engine) checkPair(key, value []byte) error {
	if len(value) > e.cfg.MaxValueSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrValueTooLarge, len(value), e.cfg.MaxValueSize)
	}
	return e.checkKey(key)
}

func (e *Engine) checkKey(key []byte) error {
	if len(key) == 0 {
		return ErrEmptyKey
	}
	if len(key) > e.cfg.MaxKeySize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrKeyTooLong, len(key), e.cfg.MaxKeySize)
	}
	return nil
}

// appendBucket appends the bucket under h to dst.
func (e *Engine) appendBucket(dst []byte, h uint64) ([]byte, bool) {
	if e.views != nil {
		return e.views[h&uint64(e.shards-1)].appendBucket(dst, h)
	}
	return e.appendBucketSlow(dst, h)
}

// appendBucketSlow is the public-API path, used only if peek is unavailable.
func (e *Engine) appendBucketSlow(dst []byte, h uint64) ([]byte, bool) {
	var hk [8]byte
	binary.LittleEndian.PutUint64(hk[:], h)
	b, err := e.cache.Get(string(hk[:]))
	if err != nil {
		return dst, false
	}
	return append(dst, b...), true
}

// lockStripe locks the stripe of h and readies its hash key.
func (e *Engine) lockStripe(h uint64) *stripe {
	s := &e.stripes[h&e.stripeMask]
	s.mu.Lock()
	binary.LittleEndian.PutUint64(s.hkey[:], h)
	return s
}

// storeBucket replaces the bucket of the locked stripe s (empty: delete).
func (e *Engine) storeBucket(s *stripe, bucket []byte) error {
	if len(bucket)+bcHeaderSize+8+5 > e.maxShard {
		return ErrNoSpace
	}
	if e.views == nil {
		return e.storeBucketSlow(s, bucket)
	}
	h := binary.LittleEndian.Uint64(s.hkey[:])
	v := &e.views[h&uint64(e.shards-1)]
	if len(bucket) == 0 {
		e.removeBucket(v, h)
		return nil
	}
	return e.putBucket(v, s, h, bucket)
}

// storeBucketSlow is storeBucket through bigcache's public API, used only if
// peek is unavailable (and then only under PolicyFIFO, see New): bigcache
// itself evicts, dead bytes included.
func (e *Engine) storeBucketSlow(s *stripe, bucket []byte) error {
	hk := unsafeString(s.hkey[:])
	if len(bucket) == 0 {
		err := e.cache.Delete(hk)
		if err != nil && !errors.Is(err, bigcache.ErrEntryNotFound) {
			return fmt.Errorf("state: delete: %w", err)
		}
		return nil
	}
	if err := e.cache.Set(hk, bucket); err != nil {
		return fmt.Errorf("state: %w: %v", ErrNoSpace, err)
	}
	return nil
}

// onRemove counts keys that bigcache evicted to make room.
func (e *Engine) onRemove(_ string, bucket []byte, reason bigcache.RemoveReason) {
	if reason == bigcache.NoSpace {
		e.stats.evicted.Add(uint64(countRecords(bucket)))
	}
}
