package state

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/allegro/bigcache/v3"
	"github.com/allegro/bigcache/v3/queue"
)

// This file is the only place that looks inside bigcache. bigcache's Get
// copies the stored key and the value into fresh slices on every call, which
// puts two allocations on the hottest path of the server. peek reads the
// same bytes under the same shard read lock that bigcache itself takes, and
// copies them into a buffer the caller owns.
//
// The layout (BigCache.shards, cacheShard.hashmap/entries/lock, and the
// 18-byte entry header) is that of bigcache v3.1.0. newShardViews checks it by
// reflection and a round trip at start-up; on any mismatch the engine uses
// the public API instead (correct, but allocating), and a test fails.

// bigcache's wrapped-entry header (little endian): a u64 timestamp at 0
// (unused: the engine never lets bigcache expire anything), the hash, the key
// length. The stored bigcache key (our 8-byte hash) follows it, then the
// bucket.
const (
	bcHash   = 8  // u64 hash; 0 marks an entry the engine retired
	bcKeyLen = 16 // u16 key length

	bcHeaderSize = bcKeyLen + 2
)

var errLayout = errors.New("state: bigcache internal layout is not the expected one")

// shardView points at the parts of one bigcache shard that peek needs.
type shardView struct {
	hashmap *map[uint64]uint32
	entries *queue.BytesQueue
	lock    *sync.RWMutex
	// live is the queue bytes of the entries the index points at, under
	// lock (space.go).
	live int
	// touched holds the LRU reference bits (PolicyLRU only; space.go).
	touched []uint32
	// nextExpiry is a lower bound on the expiry of the shard's records
	// (expiry.go); written under lock, read by writers of other shards.
	nextExpiry atomic.Int64
}

func newShardViews(c *bigcache.BigCache) ([]shardView, error) {
	cv := reflect.ValueOf(c).Elem()
	sf := cv.FieldByName("shards")
	if !sf.IsValid() || sf.Kind() != reflect.Slice || sf.Type().Elem().Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%w: BigCache.shards", errLayout)
	}
	st := sf.Type().Elem().Elem()
	want := []struct {
		name string
		typ  reflect.Type
	}{
		{"hashmap", reflect.TypeOf(map[uint64]uint32(nil))},
		{"entries", reflect.TypeOf(queue.BytesQueue{})},
		{"lock", reflect.TypeOf(sync.RWMutex{})},
	}
	var off [3]uintptr
	for i, w := range want {
		f, ok := st.FieldByName(w.name)
		if !ok || f.Type != w.typ {
			return nil, fmt.Errorf("%w: cacheShard.%s", errLayout, w.name)
		}
		off[i] = f.Offset
	}
	if err := checkQueueLayout(); err != nil {
		return nil, err
	}
	shards := *(*[]unsafe.Pointer)(unsafe.Pointer(sf.UnsafeAddr()))
	views := make([]shardView, len(shards))
	for i, p := range shards {
		views[i] = shardView{
			hashmap: (*map[uint64]uint32)(unsafe.Add(p, off[0])),
			entries: (*queue.BytesQueue)(unsafe.Add(p, off[1])),
			lock:    (*sync.RWMutex)(unsafe.Add(p, off[2])),
		}
	}
	return views, nil
}

// appendBucket appends the bucket stored under hash h to dst, reading
// bigcache's queue in place under the shard's read lock.
func (v *shardView) appendBucket(dst []byte, h uint64) ([]byte, bool) {
	v.lock.RLock()
	idx := (*v.hashmap)[h]
	if idx == 0 {
		v.lock.RUnlock()
		return dst, false
	}
	w, err := v.entries.Get(int(idx))
	if err != nil || len(w) < bcHeaderSize+8 || entryHash(w) != h {
		v.lock.RUnlock()
		return dst, false
	}
	dst = append(dst, w[bcHeaderSize+8:]...)
	v.lock.RUnlock()
	return dst, true
}

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// hashKeyHasher is the Hasher bigcache sees: its keys are the 8-byte
// little-endian hashes the engine computed, so it only decodes them.
type hashKeyHasher struct{}

func (hashKeyHasher) Sum64(s string) uint64 {
	if len(s) != 8 {
		return 1
	}
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// queueLayout mirrors the fields of queue.BytesQueue that canPush reads
// and grow writes. BytesQueue.Push returns a freshly allocated error
// whenever an entry does not fit, and the cleaner asks that many times per
// write once a queue has wrapped, so it asks canPush first.
type queueLayout struct {
	full        bool
	array       []byte
	capacity    int
	maxCapacity int
	head        int
	tail        int
}

func checkQueueLayout() error {
	bq, ml := reflect.TypeOf(queue.BytesQueue{}), reflect.TypeOf(queueLayout{})
	for i := range ml.NumField() {
		m := ml.Field(i)
		f, ok := bq.FieldByName(m.Name)
		if !ok || f.Type != m.Type || f.Offset != m.Offset {
			return fmt.Errorf("%w: BytesQueue.%s", errLayout, m.Name)
		}
	}
	return nil
}

// canPush reports whether BytesQueue.Push of an entry of need queue bytes
// (neededSize) would succeed, by the same tests Push makes.
func (v *shardView) canPush(need int) bool {
	q := (*queueLayout)(unsafe.Pointer(v.entries))
	if q.full {
		return false
	}
	if q.tail >= q.head {
		return q.capacity-q.tail >= need || q.head-1 == need || q.head-1 >= need+queueHeaderMin
	}
	// Push would otherwise grow the queue by copying it into a new array
	// (never wanted: the array is allocated at its full size) or fail.
	return q.head-q.tail == need || q.head-q.tail >= need+queueHeaderMin
}

// span is how far into its array the queue may write before its tail
// wraps: BytesQueue's capacity, which the engine manages (space.go).
func (v *shardView) span() int { return (*queueLayout)(unsafe.Pointer(v.entries)).capacity }

// grow lets the queue span n bytes of its array (never fewer than now).
// BytesQueue reads capacity only to decide whether an entry fits after the
// tail (and to grow, which canPush never lets it do), so raising it at any
// time only gives the tail more room before it wraps.
func (v *shardView) grow(n int) {
	q := (*queueLayout)(unsafe.Pointer(v.entries))
	q.capacity = max(q.capacity, min(n, len(q.array)))
}

// startSpan sets the span of a queue that holds no more than n bytes from
// its start (at start-up, before any write but the self-test's).
func (v *shardView) startSpan(n int) {
	q := (*queueLayout)(unsafe.Pointer(v.entries))
	q.capacity = max(min(n, len(q.array)), q.tail)
}

// PeekEnabled reports whether reads use the zero-copy path.
func (e *Engine) PeekEnabled() bool { return e.views != nil }

// overwriteLocked replaces the bucket under h in place when the new bucket
// has the same length, and reports whether it did. Same-size rewrites (a
// SET of an equally long value, most INCRs, EXPIRE, CAS) then neither grow
// the shard's queue with a dead copy nor change its live bytes; the caller
// holds the key's stripe and v.lock, so no other writer touches this
// bucket meanwhile.
func (v *shardView) overwriteLocked(h uint64, bucket []byte) bool {
	idx := (*v.hashmap)[h]
	if idx == 0 {
		return false
	}
	w, err := v.entries.Get(int(idx))
	if err != nil || len(w) != bcHeaderSize+8+len(bucket) || entryHash(w) != h {
		return false
	}
	copy(w[bcHeaderSize+8:], bucket)
	return true
}
