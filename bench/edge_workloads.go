package bench

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// coalesceTrial fires bursts of concurrent GETs for one URL no cache has
// seen, behind a slow origin, and counts how many reached the origin per
// burst (1 is perfect coalescing) and how long the burst took.
func (h *Harness) coalesceTrial(addrOf func(string) string, origin string) Trial {
	bursts := Pick(h.Opts, 3, 10)
	var nonce atomic.Uint64
	return func(ctx context.Context, sys string) ([]Sample, error) {
		client := &fasthttp.Client{MaxConnsPerHost: edgeBurst * 2, ReadTimeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		var fetches float64
		times := make([]float64, 0, bursts)
		for b := 0; b < bursts; b++ {
			before, err := OriginCount(origin)
			if err != nil {
				return nil, err
			}
			url := fmt.Sprintf("http://%s/slow/%s-%d-%d", addrOf(sys), sys, nonce.Add(1), time.Now().UnixNano())
			var wg sync.WaitGroup
			var failed atomic.Int64
			start := time.Now()
			for i := 0; i < edgeBurst; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, _, err := client.GetTimeout(nil, url, 10*time.Second)
					if err != nil || status != fasthttp.StatusOK {
						failed.Add(1)
					}
				}()
			}
			wg.Wait()
			times = append(times, float64(time.Since(start))/float64(time.Millisecond))
			if n := failed.Load(); n > 0 {
				return nil, fmt.Errorf("coalescing burst: %d of %d requests failed", n, edgeBurst)
			}
			after, err := OriginCount(origin)
			if err != nil {
				return nil, err
			}
			fetches += float64(after - before)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		sort.Float64s(times)
		return []Sample{
			{"miss-coalesce", MetricFetches, fetches / float64(bursts)},
			{"miss-coalesce", MetricBurstMs, times[len(times)/2]},
		}, nil
	}
}

// Zipf workload parameters: many more objects than fit in the memory
// budget, popularity skewed as in real caches.
const (
	zipfObjects = 20_000
	zipfSize    = 4096
	zipfS       = 1.1
	zipfConns   = 16
)

// zipfHitRatio compares hit ratios at equal memory: fresh instances of
// strata edge --memory M and varnishd -s malloc,M replay the same seeded Zipf
// sequence; the hit ratio is 1 - origin requests / client requests.
func (h *Harness) zipfHitRatio(ctx context.Context, origin string) error {
	requests := Pick(h.Opts, 20_000, 60_000)
	h.Condition("zipf_hit_ratio", fmt.Sprintf("%d requests per run, %d objects of %d bytes, Zipf s=%.2f, %d connections, %d MiB memory each (strata --memory, varnish -s malloc); nginx has no memory bound and is left out",
		requests, zipfObjects, zipfSize, zipfS, zipfConns, edgeSmallMemory>>20))
	addrs := map[string]string{}
	var systems []string
	for _, sys := range []string{"strata", "varnish"} {
		a, err := h.startCache(ctx, sys, origin, edgeSmallMemory)
		if err != nil {
			h.Skip(sys, "zipf-hit-ratio", err)
			continue
		}
		addrs[sys] = a
		systems = append(systems, sys)
	}
	return h.Alternate(ctx, "zipf-hit-ratio", systems, func(ctx context.Context, sys string) ([]Sample, error) {
		before, err := OriginCount(origin)
		if err != nil {
			return nil, err
		}
		if err := replayZipf(ctx, addrs[sys], requests); err != nil {
			return nil, err
		}
		after, err := OriginCount(origin)
		if err != nil {
			return nil, err
		}
		ratio := 1 - float64(after-before)/float64(requests)
		return []Sample{{"zipf-hit-ratio", MetricHitRatio, ratio}}, nil
	})
}

// replayZipf sends n GETs drawn from one fixed seeded Zipf sequence, so
// every system sees exactly the same requests.
func replayZipf(ctx context.Context, addr string, n int) error {
	r := rand.New(rand.NewSource(42))
	z := rand.NewZipf(r, zipfS, 1, zipfObjects-1)
	urls := make(chan string, 1024)
	go func() {
		defer close(urls)
		for i := 0; i < n; i++ {
			select {
			case urls <- "http://" + addr + "/zipf/" + strconv.FormatUint(z.Uint64(), 10) + "?size=" + strconv.Itoa(zipfSize):
			case <-ctx.Done():
				return
			}
		}
	}()
	client := &fasthttp.Client{MaxConnsPerHost: zipfConns, ReadTimeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for i := 0; i < zipfConns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range urls {
				status, _, err := client.GetTimeout(nil, u, 10*time.Second)
				if err == nil && status != fasthttp.StatusOK {
					err = fmt.Errorf("GET %s: status %d", u, status)
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return fmt.Errorf("zipf replay: %w", err)
	}
	return ctx.Err()
}
