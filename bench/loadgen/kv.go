package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// KVLoad is a closed-loop key-value load from Go: Clients goroutines, each
// with its own connection, sending Pipeline commands at a time for Duration.
// Strata's binary client and go-redis on Redis run the same loop, so the
// only difference between them is the client and the server.
type KVLoad struct {
	Clients  int
	Pipeline int
	Duration time.Duration
	Keys     int // key space, keys "key:%d"
}

// KVResult is the outcome of one KVLoad run.
type KVResult struct {
	OpsPerSec float64
	// Misses counts GETs that found no value: a run meant to read loaded
	// keys that misses measures the wrong path.
	Misses uint64
	// Hist holds the latency of each pipeline batch (one round trip).
	Hist Histogram
}

// KVBatch sends one batch of commands on one worker's connection and
// returns how many GETs found no value.
type KVBatch func(ctx context.Context, keys []string) (misses int, err error)

// RunKV drives newWorker's batches: each worker gets its own batch function
// (its own connection) from newWorker.
func (l *KVLoad) RunKV(ctx context.Context, newWorker func() (KVBatch, func(), error)) (*KVResult, error) {
	if l.Clients <= 0 || l.Pipeline <= 0 || l.Duration <= 0 || l.Keys <= 0 {
		return nil, fmt.Errorf("%w: kv load %+v", ErrBadLoad, *l)
	}
	workers := make([]KVBatch, l.Clients)
	closers := make([]func(), 0, l.Clients)
	defer func() {
		for _, closeFn := range closers {
			closeFn()
		}
	}()
	for i := range workers {
		b, closeFn, err := newWorker()
		if err != nil {
			return nil, fmt.Errorf("kv worker %d: %w", i, err)
		}
		closers = append(closers, closeFn)
		workers[i] = b
	}
	var ops, misses atomic.Uint64
	var firstErr atomic.Value
	hists := make([]Histogram, l.Clients)
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, batch := range workers {
		wg.Add(1)
		go func(i int, batch KVBatch) {
			defer wg.Done()
			keys := make([]string, l.Pipeline)
			n := i
			for ctx.Err() == nil {
				for j := range keys {
					keys[j] = "key:" + strconv.Itoa(n%l.Keys)
					n += l.Clients
				}
				t0 := time.Now()
				m, err := batch(ctx, keys)
				if err != nil {
					if ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, err)
						cancel()
					}
					return
				}
				hists[i].Record(time.Since(t0))
				ops.Add(uint64(len(keys)))
				misses.Add(uint64(m))
			}
		}(i, batch)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, fmt.Errorf("kv load: %w", err)
	}
	res := &KVResult{OpsPerSec: float64(ops.Load()) / elapsed.Seconds(), Misses: misses.Load()}
	for i := range hists {
		res.Hist.Merge(&hists[i])
	}
	return res, nil
}

// GoRedisWorker returns KVLoad workers that send GET (or SET with a value
// of valueSize bytes) through go-redis, pipelined when the batch has more
// than one key.
func GoRedisWorker(addr string, set bool, valueSize int) func() (KVBatch, func(), error) {
	value := make([]byte, valueSize)
	for i := range value {
		value[i] = 'v'
	}
	return func() (KVBatch, func(), error) {
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MinIdleConns: 1, Protocol: 2, DisableIdentity: true})
		batch := func(ctx context.Context, keys []string) (int, error) {
			if len(keys) == 1 {
				if set {
					return 0, c.Set(ctx, keys[0], value, 0).Err()
				}
				err := c.Get(ctx, keys[0]).Err()
				if err == redis.Nil {
					return 1, nil
				}
				return 0, err
			}
			p := c.Pipeline()
			for _, k := range keys {
				if set {
					p.Set(ctx, k, value, 0)
				} else {
					p.Get(ctx, k)
				}
			}
			cmds, err := p.Exec(ctx)
			if err != nil && err != redis.Nil {
				return 0, err
			}
			misses := 0
			for _, cmd := range cmds {
				if cmd.Err() == redis.Nil {
					misses++
				}
			}
			return misses, nil
		}
		return batch, func() { _ = c.Close() }, nil
	}
}

// LoadRESP writes n keys "key:%d" with values of size bytes over RESP,
// pipelined, and returns how many keys the server then reports (DBSIZE).
func LoadRESP(ctx context.Context, addr string, n, size int) (int64, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 4, Protocol: 2, DisableIdentity: true, ReadTimeout: 30 * time.Second})
	defer func() { _ = c.Close() }()
	value := make([]byte, size)
	for i := range value {
		value[i] = 'v'
	}
	const batch = 1000
	for i := 0; i < n; i += batch {
		p := c.Pipeline()
		for j := i; j < n && j < i+batch; j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), value, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return 0, fmt.Errorf("load over RESP at key %d: %w", i, err)
		}
	}
	held, err := c.DBSize(ctx).Result()
	if err != nil {
		return 0, fmt.Errorf("dbsize: %w", err)
	}
	return held, nil
}
