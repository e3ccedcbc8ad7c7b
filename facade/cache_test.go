package facade

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCacheGetOrLoad(t *testing.T) {
	tests := []struct {
		name      string
		nodes     int  // caches sharing one store, like facade nodes
		callers   int  // concurrent callers per node
		stateDown bool // every store operation fails
		preloaded bool // the value is already in the state tier
		wantLoads int64
	}{
		{"hit loads nothing", 1, 1, false, true, 0},
		{"miss loads once", 1, 1, false, false, 1},
		{"one loader per key per node", 1, 16, false, false, 1},
		{"one loader across nodes by the lease", 3, 8, false, false, 1},
		{"state tier down: load anyway", 1, 1, true, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store, node := newStateStore(t)
			key := []byte("product:1")
			if tc.preloaded {
				_ = store.Set(context.Background(), key, []byte("v"), 0)
			}
			if tc.stateDown {
				node.Stop()
			}
			var loads atomic.Int64
			release := make(chan struct{})
			load := func(ctx context.Context) ([]byte, error) {
				loads.Add(1)
				<-release // hold the loader so every caller piles up behind it
				return []byte("v"), nil
			}
			var wg sync.WaitGroup
			errs := make(chan error, tc.nodes*tc.callers)
			for n := 0; n < tc.nodes; n++ {
				c, err := NewCache(store, "node", CacheConfig{LeaseWait: 5 * time.Second, PollInterval: time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < tc.callers; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						v, _, err := c.GetOrLoad(ctx, key, time.Minute, load)
						if err == nil && string(v) != "v" {
							err = errors.New("wrong value " + string(v))
						}
						errs <- err
					}()
				}
			}
			// Let the callers reach the loader or the lease wait, then let
			// the loader finish.
			time.Sleep(50 * time.Millisecond)
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := loads.Load(); got != tc.wantLoads {
				t.Fatalf("%d loads, want %d", got, tc.wantLoads)
			}
			if !tc.stateDown {
				if v, err := store.Get(context.Background(), key); err != nil || string(v) != "v" {
					t.Fatalf("state tier holds %q, %v", v, err)
				}
				if _, err := store.Get(context.Background(), append([]byte(LeasePrefix), key...)); !errors.Is(err, ErrNotFound) {
					t.Fatalf("lease left behind: %v", err)
				}
			}
		})
	}
}

func TestCacheLoaderErrorIsNotCached(t *testing.T) {
	store, _ := newStateStore(t)
	c, err := NewCache(store, "node", CacheConfig{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("backend down")
	calls := 0
	load := func(context.Context) ([]byte, error) {
		if calls++; calls == 1 {
			return nil, boom
		}
		return []byte("ok"), nil
	}
	if _, _, err := c.GetOrLoad(context.Background(), []byte("k"), time.Minute, load); !errors.Is(err, boom) {
		t.Fatalf("first: %v", err)
	}
	v, src, err := c.GetOrLoad(context.Background(), []byte("k"), time.Minute, load)
	if err != nil || string(v) != "ok" || src != SourceLoaded {
		t.Fatalf("second: %q %v %v", v, src, err)
	}
	if _, src, _ := c.GetOrLoad(context.Background(), []byte("k"), time.Minute, load); src != SourceState {
		t.Fatalf("third came from %v, want state", src)
	}
}

// TestCacheTreatsFullStateTierAsMiss fills a real state node (noeviction,
// its default) until it refuses writes: cache-aside must still serve the
// loaded value, every time, and count store_full rather than fail.
func TestCacheTreatsFullStateTierAsMiss(t *testing.T) {
	store, _ := newStateStore(t)
	ctx := context.Background()
	// Keys hash to shards: many refusals in a row mean every shard is full.
	big := make([]byte, 20_000)
	for i, refused := 0, 0; refused < 200; i++ {
		err := store.Set(ctx, fmt.Appendf(nil, "session:%d", i), big, 0)
		switch {
		case errors.Is(err, ErrStoreFull):
			refused++
		case err != nil || i > 10000:
			t.Fatalf("filling the node, write %d: %v", i, err)
		default:
			refused = 0
		}
	}
	reg := prometheus.NewRegistry()
	c, err := NewCache(store, "node", CacheConfig{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	loads := 0
	load := func(context.Context) ([]byte, error) { loads++; return big, nil }
	for i := range 2 {
		v, src, err := c.GetOrLoad(ctx, []byte("product:1"), time.Minute, load)
		if err != nil || len(v) != len(big) || src != SourceLoaded {
			t.Fatalf("read %d from a full tier: %d bytes from %v, %v", i, len(v), src, err)
		}
	}
	if loads != 2 {
		t.Fatalf("%d loads, want 2: nothing could be stored", loads)
	}
	mfs, _ := reg.Gather()
	events := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			events[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if events["store_full"] == 0 || events["state_error"] != 0 {
		t.Fatalf("events %v: a full tier is store_full, not state_error", events)
	}
}
