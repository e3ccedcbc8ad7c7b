package state

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// constHasher sends every key to the same hash: every key collides.
type constHasher struct{}

func (constHasher) Sum64(string) uint64 { return 42 }

// hashings run a test with real hashing and with every key colliding.
var hashings = []struct {
	name string
	cfg  Config
}{{"xxhash", Config{}}, {"all-collide", Config{Hasher: constHasher{}}}}

type clock struct{ ms atomic.Int64 }

func (c *clock) now() int64 { return c.ms.Load() }

func newTestEngine(t *testing.T, cfg Config) (*Engine, *clock) {
	t.Helper()
	c := &clock{}
	c.ms.Store(1_000_000)
	if cfg.Now == nil {
		cfg.Now = c.now
	}
	if cfg.MemoryBytes == 0 {
		cfg.MemoryBytes = 8 << 20
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	if !e.PeekEnabled() {
		t.Fatal("zero-copy peek into bigcache is disabled: layout check failed")
	}
	return e, c
}

func mustGet(t *testing.T, e *Engine, key string) (string, bool) {
	t.Helper()
	v, _, ok := e.Get(nil, []byte(key))
	return string(v), ok
}

func TestSetGetDelete(t *testing.T) {
	for _, h := range hashings {
		t.Run(h.name, func(t *testing.T) {
			e, _ := newTestEngine(t, h.cfg)
			keys := []string{"a", "b", "longer-key", "k:1", "k:2"}
			for i, k := range keys {
				if _, err := e.Set([]byte(k), []byte(fmt.Sprint("v", i)), SetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			for i, k := range keys {
				if v, ok := mustGet(t, e, k); !ok || v != fmt.Sprint("v", i) {
					t.Fatalf("get %q = %q, %v", k, v, ok)
				}
			}
			if _, ok := mustGet(t, e, "absent"); ok {
				t.Fatal("absent key found")
			}
			// Replacing and deleting one key leaves every other one alone,
			// also when they all share one hash.
			if _, err := e.Set([]byte("b"), []byte("new"), SetOptions{}); err != nil {
				t.Fatal(err)
			}
			if ok, err := e.Delete([]byte("absent")); ok || err != nil {
				t.Fatalf("delete absent = %v, %v", ok, err)
			}
			if ok, err := e.Delete([]byte("a")); !ok || err != nil {
				t.Fatalf("delete a = %v, %v", ok, err)
			}
			want := map[string]string{"b": "new", "longer-key": "v2", "k:1": "v3", "k:2": "v4"}
			for k, w := range want {
				if v, ok := mustGet(t, e, k); !ok || v != w {
					t.Fatalf("after writes get %q = %q, %v; want %q", k, v, ok, w)
				}
			}
			if _, ok := mustGet(t, e, "a"); ok {
				t.Fatal("deleted key found")
			}
		})
	}
}

func TestCollisionsNeverCrossKeys(t *testing.T) {
	e, _ := newTestEngine(t, Config{Hasher: constHasher{}})
	if _, err := e.Set([]byte("x"), []byte("1"), SetOptions{}); err != nil {
		t.Fatal(err)
	}
	// NX on a colliding but different key must write.
	r, err := e.Set([]byte("y"), []byte("2"), SetOptions{Mode: SetIfAbsent})
	if err != nil || !r.Written {
		t.Fatalf("setnx y = %+v, %v", r, err)
	}
	// GetDel, Incr, Expire on y must not touch x.
	if _, ok, _ := e.GetDel(nil, []byte("y")); !ok {
		t.Fatal("getdel y missed")
	}
	if n, err := e.Incr([]byte("z"), 5); err != nil || n != 5 {
		t.Fatalf("incr z = %d, %v", n, err)
	}
	if v, ok := mustGet(t, e, "x"); !ok || v != "1" {
		t.Fatalf("x = %q, %v after writes to colliding keys", v, ok)
	}
	// Same-length overwrites take the in-place path; they too must touch
	// only their own record in the shared bucket.
	e.Set([]byte("y"), []byte("2"), SetOptions{})
	for _, v := range []string{"7", "8", "9"} {
		if r, err := e.Set([]byte("y"), []byte(v), SetOptions{Mode: SetIfPresent}); err != nil || !r.Written {
			t.Fatalf("overwrite y: %+v %v", r, err)
		}
	}
	if r, _ := e.Set([]byte("y"), []byte("0"), SetOptions{Mode: SetIfAbsent}); r.Written {
		t.Fatal("NX overwrote a present key in place")
	}
	if v, ok := mustGet(t, e, "y"); !ok || v != "9" {
		t.Fatalf("y = %q, %v", v, ok)
	}
	if ok, _ := e.Delete([]byte("w")); ok {
		t.Fatal("delete of an absent colliding key reported success")
	}
	if v, ok := mustGet(t, e, "x"); !ok || v != "1" {
		t.Fatal("x lost after deleting a colliding absent key")
	}
	if e.Len() != 1 {
		t.Fatalf("one bucket expected, got %d", e.Len())
	}
}

func TestConditionalSets(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	k := []byte("k")
	r, _ := e.Set(k, []byte("a"), SetOptions{Mode: SetIfPresent})
	if r.Written {
		t.Fatal("XX wrote an absent key")
	}
	r, _ = e.Set(k, []byte("a"), SetOptions{Mode: SetIfVersion})
	if !r.Written {
		t.Fatal("CAS with zero version did not create")
	}
	v1 := r.Version
	r, _ = e.Set(k, []byte("b"), SetOptions{Mode: SetIfAbsent})
	if r.Written || r.Version != v1 {
		t.Fatalf("NX on present key: %+v", r)
	}
	r, _ = e.Set(k, []byte("c"), SetOptions{Mode: SetIfVersion, Expect: Version{Epoch: 1, Seq: 999}})
	if r.Written {
		t.Fatal("CAS with wrong version wrote")
	}
	r, _ = e.Set(k, []byte("d"), SetOptions{Mode: SetIfVersion, Expect: v1, ReturnOld: true})
	if !r.Written || !v1.Less(r.Version) || string(r.Old) != "a" {
		t.Fatalf("CAS with right version: %+v", r)
	}
	if v, _ := mustGet(t, e, "k"); v != "d" {
		t.Fatalf("value %q", v)
	}
}

func TestTTL(t *testing.T) {
	e, c := newTestEngine(t, Config{ReclaimInterval: -1})
	now := c.now()
	k := []byte("t")
	e.Set(k, []byte("v"), SetOptions{ExpireAt: now + 1000})
	if ms, ok := e.TTL(nil, k); !ok || ms != 1000 {
		t.Fatalf("ttl = %d, %v", ms, ok)
	}
	e.Set(k, []byte("v2"), SetOptions{KeepTTL: true})
	if ms, _ := e.TTL(nil, k); ms != 1000 {
		t.Fatalf("KEEPTTL lost the ttl: %d", ms)
	}
	e.Incr([]byte("n"), 1)
	c.ms.Add(1000)
	if _, ok := mustGet(t, e, "t"); ok {
		t.Fatal("expired key returned")
	}
	if r, _ := e.Set(k, []byte("x"), SetOptions{Mode: SetIfAbsent}); !r.Written {
		t.Fatal("NX on an expired key did not write")
	}
	e.Expire(k, c.now()+50)
	if ok, _ := e.Persist(k); !ok {
		t.Fatal("persist found no ttl")
	}
	if ms, _ := e.TTL(nil, k); ms != -1 {
		t.Fatalf("ttl after persist %d", ms)
	}
	e.Expire(k, c.now()+10)
	c.ms.Add(20)
	if e.Len() != 2 {
		t.Fatalf("len before reclaim %d", e.Len())
	}
	if n := e.ReclaimNow(); n != 1 {
		t.Fatalf("reclaimed %d, want 1", n)
	}
	if e.Len() != 1 || e.Stats().Expired != 1 {
		t.Fatalf("after reclaim len %d stats %+v", e.Len(), e.Stats())
	}
}

func TestIncrAppend(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	tests := []struct {
		name    string
		initial string
		delta   int64
		want    int64
		err     error
	}{
		{"absent", "", 3, 3, nil},
		{"negative", "-5", -5, -10, nil},
		{"not a number", "abc", 1, 0, ErrNotInteger},
		{"overflow", "9223372036854775807", 1, 0, ErrOverflow},
		{"leading zero", "01", 1, 0, ErrNotInteger},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := []byte(fmt.Sprint("n", i))
			if tt.initial != "" {
				e.Set(k, []byte(tt.initial), SetOptions{})
			}
			got, err := e.Incr(k, tt.delta)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("incr = %d, %v; want %d, %v", got, err, tt.want, tt.err)
			}
		})
	}
	n, err := e.Append([]byte("s"), []byte("ab"))
	n2, err2 := e.Append([]byte("s"), []byte("cd"))
	if err != nil || err2 != nil || n != 2 || n2 != 4 {
		t.Fatalf("append %d %d %v %v", n, n2, err, err2)
	}
	if v, _ := mustGet(t, e, "s"); v != "abcd" {
		t.Fatalf("appended value %q", v)
	}
}

func TestLimits(t *testing.T) {
	e, _ := newTestEngine(t, Config{MaxValueSize: 1024})
	if _, err := e.Set(bytes.Repeat([]byte("k"), MaxKeySize+1), []byte("v"), SetOptions{}); !errors.Is(err, ErrKeyTooLong) {
		t.Fatalf("long key: %v", err)
	}
	if _, err := e.Set(nil, []byte("v"), SetOptions{}); !errors.Is(err, ErrEmptyKey) {
		t.Fatalf("empty key: %v", err)
	}
	if _, err := e.Set([]byte("k"), make([]byte, 1025), SetOptions{}); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("large value: %v", err)
	}
	long := bytes.Repeat([]byte("k"), 60000)
	if _, err := e.Set(long, []byte("v"), SetOptions{}); err != nil {
		t.Fatalf("60000-byte key: %v", err)
	}
	if v, ok := mustGet(t, e, string(long)); !ok || v != "v" {
		t.Fatal("long key not read back intact")
	}
}

type recordingSink struct {
	mu      sync.Mutex
	seqs    []uint64
	ops     []ChangeOp
	lastKey string
}

func (s *recordingSink) Publish(c Change) {
	s.mu.Lock()
	s.seqs = append(s.seqs, c.Seq)
	s.ops = append(s.ops, c.Op)
	s.lastKey = string(c.Key)
	s.mu.Unlock()
}

func TestChangeFeedOrdered(t *testing.T) {
	sink := &recordingSink{}
	e, _ := newTestEngine(t, Config{Sink: sink})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				k := []byte(fmt.Sprint(g, "-", i%20))
				e.Set(k, []byte("v"), SetOptions{})
				if i%3 == 0 {
					e.Delete(k)
				}
			}
		})
	}
	wg.Wait()
	if len(sink.seqs) == 0 || uint64(len(sink.seqs)) != e.Seq() {
		t.Fatalf("published %d changes, engine seq %d", len(sink.seqs), e.Seq())
	}
	for i, s := range sink.seqs {
		if s != uint64(i+1) {
			t.Fatalf("change %d has seq %d: feed out of order", i, s)
		}
	}
}

func TestConcurrentIncr(t *testing.T) {
	e, _ := newTestEngine(t, Config{Hasher: constHasher{}})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if _, err := e.Incr([]byte("c"), 1); err != nil {
					t.Error(err)
				}
				e.Set([]byte("other"), []byte("x"), SetOptions{})
			}
		})
	}
	wg.Wait()
	if v, _ := mustGet(t, e, "c"); v != "4000" {
		t.Fatalf("counter %s, want 4000", v)
	}
}

func TestScanVisitsEveryKey(t *testing.T) {
	e, _ := newTestEngine(t, Config{Shards: 16})
	for i := range 1000 {
		e.Set([]byte(fmt.Sprint("k", i)), []byte("v"), SetOptions{})
	}
	seen := map[string]bool{}
	var cur uint64
	for {
		cur = e.Scan(cur, 10, func(k []byte) { seen[string(k)] = true })
		if cur == 0 {
			break
		}
	}
	if len(seen) != 1000 {
		t.Fatalf("scan saw %d keys", len(seen))
	}
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	e, _ := newTestEngine(t, Config{})
	key, val := []byte("alloc-key"), bytes.Repeat([]byte("v"), 64)
	e.Set(key, val, SetOptions{})
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(1000, func() { e.Get(dst[:0], key) }); n != 0 {
		t.Errorf("Get allocates %v times", n)
	}
	if n := testing.AllocsPerRun(1000, func() { e.Set(key, val, SetOptions{}) }); n != 0 {
		t.Errorf("Set allocates %v times", n)
	}
	ctr := []byte("ctr")
	if n := testing.AllocsPerRun(1000, func() { e.Incr(ctr, 1) }); n != 0 {
		t.Errorf("Incr allocates %v times", n)
	}
}
