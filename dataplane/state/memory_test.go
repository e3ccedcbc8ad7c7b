package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

var policies = []Policy{PolicyNoEviction, PolicyFIFO, PolicyLRU}

// TestRewritesNeverEvictLiveKeys is adversarial finding 4: bigcache's FIFO
// queue kept the bytes of every old version of a rewritten value, so
// rewriting one key evicted unrelated live keys while the live data was a
// few percent of the bound (83 of 20,000 in 256 MiB; 594 of 5,000 in 8
// MiB). Live data here stays far below the bound: under every policy no key
// may be lost and every rewrite must succeed.
func TestRewritesNeverEvictLiveKeys(t *testing.T) {
	cases := []struct {
		name     string
		memory   int64
		keys     int
		rewrites int
	}{
		{"256MiB-20000-keys-3000-rewrites", 256 << 20, 20000, 3000},
		{"8MiB-5000-keys-20000-rewrites", 8 << 20, 5000, 20000},
	}
	for _, c := range cases {
		for _, p := range policies {
			t.Run(c.name+"/"+p.String(), func(t *testing.T) {
				e, _ := newTestEngine(t, Config{MemoryBytes: c.memory, Policy: p})
				val := make([]byte, 1000)
				for i := range c.keys {
					if _, err := e.Set([]byte(fmt.Sprint("key:", i)), val, SetOptions{}); err != nil {
						t.Fatalf("load key %d: %v", i, err)
					}
				}
				hot := []byte("key:hot")
				sizes := [2][]byte{make([]byte, 1000), make([]byte, 1001)}
				for i := range c.rewrites {
					if _, err := e.Set(hot, sizes[i%2], SetOptions{}); err != nil {
						t.Fatalf("rewrite %d: %v", i, err)
					}
				}
				lost := 0
				for i := range c.keys {
					if _, ok := mustGet(t, e, fmt.Sprint("key:", i)); !ok {
						lost++
					}
				}
				if st := e.Stats(); lost != 0 || st.Evicted != 0 {
					t.Fatalf("%d of %d live keys lost (evicted %d) with live data far below the %d-byte bound",
						lost, c.keys, st.Evicted, c.memory)
				}
				if v, ok := mustGet(t, e, "key:hot"); !ok || len(v) != 1000+(c.rewrites-1)%2 {
					t.Fatalf("hot key: %d bytes, found %v", len(v), ok)
				}
				// However often the key was rewritten, with live data far
				// below the bound the queues span no more than the bound:
				// that, not the reservation, is what can become resident.
				if st := e.Stats(); st.CapacityBytes > st.MemoryBytes {
					t.Fatalf("queues span %d bytes for %d live bytes, bound %d", st.CapacityBytes, st.UsedBytes, st.MemoryBytes)
				}
				checkLiveBytes(t, e)
			})
		}
	}
}

// checkLiveBytes recounts the live bytes from the shards' indexes.
func checkLiveBytes(t *testing.T, e *Engine) {
	t.Helper()
	total := 0
	for i := range e.views {
		v := &e.views[i]
		v.lock.RLock()
		n := 0
		for _, idx := range *v.hashmap {
			w, err := v.entries.Get(int(idx))
			if err != nil {
				t.Fatalf("shard %d: index points at nothing: %v", i, err)
			}
			n += neededSize(len(w))
		}
		live := v.live
		v.lock.RUnlock()
		if n != live {
			t.Fatalf("shard %d counts %d live bytes, its index holds %d", i, live, n)
		}
		total += n
	}
	if st := e.Stats(); st.UsedBytes != int64(total) {
		t.Fatalf("engine counts %d live bytes, shards hold %d", st.UsedBytes, total)
	}
}

// TestNoEvictionRefusesWhenFull fills a node with noeviction until it
// refuses, then checks that the bound was really reached (the hash fills
// shards unevenly; large values make that visible), that nothing was
// evicted, that reads, deletes and writes that do not grow still work, and
// that deletes make room again.
func TestNoEvictionRefusesWhenFull(t *testing.T) {
	cases := []struct {
		name   string
		memory int64
		shards int
		size   int
	}{
		{"2MiB-2-shards-1000B", 2 << 20, 2, 1000},
		{"16MiB-20KB-values", 16 << 20, 0, 20_000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newTestEngine(t, Config{MemoryBytes: c.memory, Shards: c.shards})
			val := make([]byte, c.size)
			n := 0
			for ; ; n++ {
				_, err := e.Set([]byte(fmt.Sprint("key:", n)), val, SetOptions{})
				if errors.Is(err, ErrOutOfMemory) {
					break
				}
				if err != nil || n > 100000 {
					t.Fatalf("key %d: %v (never refused)", n, err)
				}
			}
			st := e.Stats()
			if st.Evicted != 0 || st.Refused != 1 || st.Keys != n {
				t.Fatalf("after %d writes: %+v", n, st)
			}
			// Refused only once live data really reached the bound.
			if st.UsedBytes > c.memory || st.UsedBytes < c.memory-int64(c.size)-100 {
				t.Fatalf("refused at %d live bytes, bound %d", st.UsedBytes, c.memory)
			}
			checkLiveBytes(t, e)
			for i := range n {
				if _, ok := mustGet(t, e, fmt.Sprint("key:", i)); !ok {
					t.Fatalf("key:%d lost under noeviction", i)
				}
			}
			part := val[:c.size*6/10]
			steps := []struct {
				name string
				op   func() error
				want error
			}{
				{"same-size overwrite", func() error { _, err := e.Set([]byte("key:0"), val, SetOptions{}); return err }, nil},
				{"growing overwrite", func() error { _, err := e.Set([]byte("key:2"), make([]byte, 4*c.size), SetOptions{}); return err }, ErrOutOfMemory},
				{"new key", func() error { _, err := e.Set([]byte("new"), val, SetOptions{}); return err }, ErrOutOfMemory},
				{"MSET", func() error { return e.SetMany([][]byte{[]byte("m1"), part, []byte("m2"), part}, SetOptions{}) }, ErrOutOfMemory},
				{"shrinking overwrite", func() error { _, err := e.Set([]byte("key:1"), val[:10], SetOptions{}); return err }, nil},
				{"delete", func() error { _, err := e.Delete([]byte("key:3")); return err }, nil},
				{"new key after delete", func() error { _, err := e.Set([]byte("new"), val, SetOptions{}); return err }, nil},
				{"delete more", func() error {
					for i := 4; i < 14; i++ {
						if _, err := e.Delete([]byte(fmt.Sprint("key:", i))); err != nil {
							return err
						}
					}
					return nil
				}, nil},
				{"MSET after deletes", func() error { return e.SetMany([][]byte{[]byte("m1"), part, []byte("m2"), part}, SetOptions{}) }, nil},
			}
			for _, s := range steps {
				if err := s.op(); !errors.Is(err, s.want) {
					t.Fatalf("%s: %v, want %v", s.name, err, s.want)
				}
			}
			if v, ok := mustGet(t, e, "key:1"); !ok || len(v) != 10 {
				t.Fatalf("key:1 after shrinking: %d bytes, found %v", len(v), ok)
			}
			if st := e.Stats(); st.Evicted != 0 {
				t.Fatalf("noeviction evicted %d keys", st.Evicted)
			}
			checkLiveBytes(t, e)
		})
	}
}

// TestEvictingPoliciesUnderPressure writes five times the bound: FIFO and
// LRU evict to stay under it (oldest first), and LRU keeps keys that are
// being read.
func TestEvictingPoliciesUnderPressure(t *testing.T) {
	cases := []struct {
		policy  Policy
		hotKept bool
	}{{PolicyFIFO, false}, {PolicyLRU, true}}
	for _, c := range cases {
		t.Run(c.policy.String(), func(t *testing.T) {
			const memory, total = 2 << 20, 10000
			e, _ := newTestEngine(t, Config{MemoryBytes: memory, Shards: 2, Policy: c.policy})
			val := make([]byte, 1000)
			for i := range total {
				if _, err := e.Set([]byte(fmt.Sprint("key:", i)), val, SetOptions{}); err != nil {
					t.Fatal(err)
				}
				if i >= 10 && i%50 == 0 {
					for h := range 10 {
						mustGet(t, e, fmt.Sprint("key:", h))
					}
				}
			}
			st := e.Stats()
			if st.UsedBytes > memory || st.CapacityBytes > memory+memory/HeadroomDiv+1<<20 {
				t.Fatalf("live %d, queues %d: over the %d bound", st.UsedBytes, st.CapacityBytes, memory)
			}
			if st.Evicted == 0 || st.Keys+int(st.Evicted) != total {
				t.Fatalf("keys %d + evicted %d != %d", st.Keys, st.Evicted, total)
			}
			if _, ok := mustGet(t, e, fmt.Sprint("key:", total-1)); !ok {
				t.Fatal("newest key evicted")
			}
			if _, ok := mustGet(t, e, "key:20"); ok {
				t.Fatal("an old key that nobody read survived five times the bound")
			}
			kept := 0
			for h := range 10 {
				if _, ok := mustGet(t, e, fmt.Sprint("key:", h)); ok {
					kept++
				}
			}
			if got := kept == 10; got != c.hotKept {
				t.Fatalf("%d of 10 keys read all along kept", kept)
			}
			checkLiveBytes(t, e)
		})
	}
}

func TestParsePolicy(t *testing.T) {
	for _, p := range policies {
		got, err := ParsePolicy(p.String())
		if err != nil || got != p {
			t.Fatalf("%s: %v, %v", p, got, err)
		}
	}
	if _, err := ParsePolicy("allkeys-random"); !errors.Is(err, ErrPolicy) {
		t.Fatalf("unknown policy: %v", err)
	}
}

// TestCleanerKeepsEveryKeyAgainstAModel runs random writes of random sizes
// and deletes near the bound, on few shards so that the cleaner wraps the
// queues many times, and compares the engine with a map after every batch:
// under noeviction every acknowledged write must read back and every
// refused one must have changed nothing; under fifo and lru a key may be
// gone (evicted) but never hold a wrong value.
func TestCleanerKeepsEveryKeyAgainstAModel(t *testing.T) {
	for _, p := range policies {
		for _, h := range hashings {
			t.Run(p.String()+"/"+h.name, func(t *testing.T) {
				cfg := h.cfg
				cfg.MemoryBytes, cfg.Shards, cfg.Policy = 2<<20, 2, p
				if h.name == "all-collide" {
					cfg.MaxValueSize = 256 // buckets hold every key
				}
				e, _ := newTestEngine(t, cfg)
				rng := rand.New(rand.NewPCG(1, uint64(p)))
				model := map[string]int{} // key -> value length; values are the length's byte repeated
				keys := 3000
				if h.name == "all-collide" {
					keys = 40
				}
				for i := range 40000 {
					k := fmt.Sprint("k", rng.IntN(keys))
					switch {
					case rng.IntN(8) == 0:
						if _, err := e.Delete([]byte(k)); err != nil {
							t.Fatal(err)
						}
						delete(model, k)
					default:
						n := 1 + rng.IntN(cfg.MaxValueSize/2+1)
						if cfg.MaxValueSize == 0 {
							n = 1 + rng.IntN(3000)
						}
						_, err := e.Set([]byte(k), bytes.Repeat([]byte{byte(n)}, n), SetOptions{})
						switch {
						case err == nil:
							model[k] = n
						case p == PolicyNoEviction && errors.Is(err, ErrOutOfMemory):
						default:
							t.Fatalf("op %d: set %s (%d bytes): %v", i, k, n, err)
						}
					}
					if i%4000 != 0 {
						continue
					}
					for k, n := range model {
						v, ok := mustGet(t, e, k)
						switch {
						case !ok && p == PolicyNoEviction:
							t.Fatalf("op %d: %s lost under noeviction", i, k)
						case !ok:
							delete(model, k) // evicted
						case v != string(bytes.Repeat([]byte{byte(n)}, n)):
							t.Fatalf("op %d: %s holds %d bytes, want %d", i, k, len(v), n)
						}
					}
					checkLiveBytes(t, e)
				}
				if st := e.Stats(); p == PolicyNoEviction && st.Evicted != 0 {
					t.Fatalf("noeviction evicted %d", st.Evicted)
				}
			})
		}
	}
}

// TestConcurrentWritersKeepCounts runs writers of changing sizes on every
// policy at once and checks the live-byte accounting afterwards.
func TestConcurrentWritersKeepCounts(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			e, _ := newTestEngine(t, Config{MemoryBytes: 2 << 20, Shards: 2, Policy: p})
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					val := make([]byte, 2000)
					for i := range 3000 {
						k := []byte(fmt.Sprint(g, ":", i%700))
						e.Set(k, val[:100+(i*37)%1900], SetOptions{})
						if i%5 == 0 {
							e.Delete([]byte(fmt.Sprint(g, ":", (i*7)%700)))
						}
						e.Get(nil, k)
					}
				})
			}
			wg.Wait()
			checkLiveBytes(t, e)
			if st := e.Stats(); st.UsedBytes > 2<<20 {
				t.Fatalf("live %d over the bound", st.UsedBytes)
			}
		})
	}
}

// TestCleanerDoesNotAllocate rewrites a key with changing sizes in a small
// node that also holds live keys, so that every write wraps the queue and
// the cleaner drops dead entries and moves live ones.
func TestCleanerDoesNotAllocate(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			e, _ := newTestEngine(t, Config{MemoryBytes: 1 << 20, Policy: p})
			val := make([]byte, 1001)
			for i := range 500 {
				e.Set([]byte(fmt.Sprint("key:", i)), val[:1000], SetOptions{})
			}
			key, i := []byte("hot"), 0
			set := func() {
				i++
				if _, err := e.Set(key, val[:1000+i%2], SetOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			for range 5000 { // wrap the queue a few times
				set()
			}
			if n := testing.AllocsPerRun(2000, set); n != 0 {
				t.Errorf("Set of changing size allocates %v times", n)
			}
			if st := e.Stats(); st.Evicted != 0 {
				t.Fatalf("evicted %d", st.Evicted)
			}
		})
	}
}

// TestRefusedWritesLeaveNoGapInTheFeed fills a node with a change sink
// until writes are refused: the refused writes publish nothing and take no
// sequence number, so the feed stays contiguous for its consumers.
func TestRefusedWritesLeaveNoGapInTheFeed(t *testing.T) {
	sink := &recordingSink{}
	e, _ := newTestEngine(t, Config{MemoryBytes: 1 << 20, Sink: sink})
	val := make([]byte, 1000)
	refused := 0
	for i := 0; refused < 20; i++ {
		if _, err := e.Set([]byte(fmt.Sprint("key:", i)), val, SetOptions{}); errors.Is(err, ErrOutOfMemory) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			e.Incr([]byte("ctr"), 1)
		}
	}
	e.Delete([]byte("key:0"))
	if _, err := e.Set([]byte("after"), val, SetOptions{}); err != nil {
		t.Fatalf("write after a delete: %v", err)
	}
	if uint64(len(sink.seqs)) != e.Seq() {
		t.Fatalf("published %d changes, engine seq %d", len(sink.seqs), e.Seq())
	}
	for i, s := range sink.seqs {
		if s != uint64(i+1) {
			t.Fatalf("change %d has seq %d: a refused write left a gap", i, s)
		}
	}
}
