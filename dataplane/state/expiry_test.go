package state

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestExpiredKeysAreNotLiveMemory is red-team finding N4: expired records
// the reclaimer had not visited yet still counted as live memory. On a
// 64 MiB noeviction node, batches of `SET tmpN <1000 B> PX 1` got 33,465
// -OOM replies of 100,000 while almost nothing was live; under fifo and
// lru, live keys far below the bound were evicted while expired records
// stayed counted. The background reclaimer is off here (it visits 1/64 of
// the shards per tick): the writers alone must treat expired records as
// the dead space they are.
func TestExpiredKeysAreNotLiveMemory(t *testing.T) {
	const memory = 8 << 20
	val := make([]byte, 1000)
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			e, clk := newTestEngine(t, Config{MemoryBytes: memory, Policy: p, ReclaimInterval: -1})
			// Live data far below the bound: 2,000 keys of 1000 bytes.
			const live = 2000
			for i := range live {
				if _, err := e.Set([]byte(fmt.Sprint("live:", i)), val, SetOptions{}); err != nil {
					t.Fatalf("load key %d: %v", i, err)
				}
			}
			// 100,000 keys with a TTL of 1 ms in batches of 1,000, the
			// clock moving 2 ms per batch: 12 times the bound in all.
			oom := 0
			for b := range 100 {
				now := clk.now()
				for j := range 1000 {
					k := []byte(fmt.Sprint("tmp:", b*1000+j))
					_, err := e.Set(k, val, SetOptions{ExpireAt: now + 1})
					switch {
					case errors.Is(err, ErrOutOfMemory):
						oom++
					case err != nil:
						t.Fatalf("batch %d: %v", b, err)
					}
				}
				clk.ms.Add(2)
			}
			st := e.Stats()
			if oom != 0 || st.Refused != 0 {
				t.Fatalf("%d of 100,000 expiring writes refused (%d live keys of 1000 B in %d)", oom, live, memory)
			}
			if st.Evicted != 0 {
				t.Fatalf("%d keys evicted while live data was %d keys of 1000 B in %d", st.Evicted, live, memory)
			}
			for i := range live {
				if _, ok := mustGet(t, e, fmt.Sprint("live:", i)); !ok {
					t.Fatalf("live:%d lost", i)
				}
			}
			// What is counted as used is, at most, the live keys plus the
			// expired records no writer needed to drop yet: never the bound.
			if st.UsedBytes >= memory {
				t.Fatalf("used %d bytes of %d with %d live keys", st.UsedBytes, memory, live)
			}
			if st.Expired == 0 {
				t.Fatal("no expired keys counted")
			}
			checkLiveBytes(t, e)
			// A pass of the reclaimer leaves only the live keys counted.
			e.ReclaimNow()
			if st := e.Stats(); st.Keys != live || st.UsedBytes > int64(live*(1000+100)) {
				t.Fatalf("after a reclaim pass: %d keys, %d bytes used", st.Keys, st.UsedBytes)
			}
			checkLiveBytes(t, e)
		})
	}
}

// TestSetManyDropsExpiredBeforeRefusing: MSET's up-front check under
// noeviction counts expired records as free too.
func TestSetManyDropsExpiredBeforeRefusing(t *testing.T) {
	e, clk := newTestEngine(t, Config{MemoryBytes: 2 << 20, ReclaimInterval: -1})
	val := make([]byte, 1000)
	for i := 0; ; i++ {
		_, err := e.Set([]byte(fmt.Sprint("tmp:", i)), val, SetOptions{ExpireAt: clk.now() + 1})
		if errors.Is(err, ErrOutOfMemory) {
			break
		}
		if err != nil || i > 10000 {
			t.Fatalf("write %d: %v (never refused)", i, err)
		}
	}
	clk.ms.Add(2)
	if err := e.SetMany([][]byte{[]byte("a"), val, []byte("b"), val}, SetOptions{}); err != nil {
		t.Fatalf("MSET with the node full of expired keys: %v", err)
	}
	checkLiveBytes(t, e)
}

// TestDroppingExpiredDoesNotAllocate: writes that drop expired entries
// before they would refuse or evict allocate nothing, under every policy.
func TestDroppingExpiredDoesNotAllocate(t *testing.T) {
	for _, p := range policies {
		t.Run(p.String(), func(t *testing.T) {
			e, clk := newTestEngine(t, Config{MemoryBytes: 1 << 20, Policy: p, ReclaimInterval: -1})
			val := make([]byte, 1000)
			keys := make([][]byte, 4000)
			for i := range keys {
				keys[i] = []byte(fmt.Sprint("tmp:", i))
			}
			i := 0
			set := func() {
				i++
				if i%100 == 0 {
					clk.ms.Add(2)
				}
				if _, err := e.Set(keys[i%len(keys)], val, SetOptions{ExpireAt: clk.now() + 1}); err != nil {
					t.Fatal(err)
				}
			}
			for range 4000 { // fill the node several times over
				set()
			}
			if n := testing.AllocsPerRun(4000, set); n != 0 {
				t.Errorf("expiring writes into a node full of expired keys allocate %v times", n)
			}
			if st := e.Stats(); st.Refused != 0 || st.Evicted != 0 {
				t.Fatalf("refused %d, evicted %d", st.Refused, st.Evicted)
			}
			checkLiveBytes(t, e)
		})
	}
}

// TestReclaimerSpeedsUpWhileMuchHasExpired: after a flood of short TTLs the
// background reclaimer keeps visiting shards while a quarter of what it
// visits has expired, so used memory falls within a few ticks, not after a
// full pass of 64 ticks (6.4 s), which left used_memory near the bound for
// seconds with almost nothing live.
func TestReclaimerSpeedsUpWhileMuchHasExpired(t *testing.T) {
	e, clk := newTestEngine(t, Config{MemoryBytes: 64 << 20})
	val := make([]byte, 1000)
	for i := range 40000 {
		if _, err := e.Set([]byte(fmt.Sprint("tmp:", i)), val, SetOptions{ExpireAt: clk.now() + 1}); err != nil {
			t.Fatal(err)
		}
	}
	before := e.Stats().UsedBytes
	clk.ms.Add(2)
	deadline := time.Now().Add(1500 * time.Millisecond)
	for e.Stats().UsedBytes > before/10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := e.Stats(); st.UsedBytes > before/10 {
		t.Fatalf("1.5 s after %d bytes of keys expired, %d are still counted (%d keys reclaimed)", before, st.UsedBytes, st.Expired)
	}
}
