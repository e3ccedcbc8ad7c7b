package facade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// CacheConfig shapes cache-aside loading. Zero values take the defaults.
type CacheConfig struct {
	// LeaseTTL is how long the node that won a key's lease may take to load
	// it before another node may try (default 2s).
	LeaseTTL time.Duration
	// LeaseWait is how long a node that lost the lease polls the state tier
	// for the winner's value before it loads the key itself (default 500ms).
	LeaseWait time.Duration
	// PollInterval spaces those polls (default 10ms).
	PollInterval time.Duration
	// Registry receives the cache counters (nil: not exported).
	Registry prometheus.Registerer
}

// Source says where GetOrLoad found a value.
type Source uint8

const (
	// SourceState: the value was in the state tier.
	SourceState Source = iota
	// SourceLoaded: this call ran the loader (the backend was hit).
	SourceLoaded
	// SourceShared: another caller on this node ran the loader and this one
	// shared its result.
	SourceShared
)

func (s Source) String() string {
	switch s {
	case SourceState:
		return "state"
	case SourceLoaded:
		return "origin"
	default:
		return "shared"
	}
}

// Loader fetches a value from the backend; it must end by ctx's deadline.
type Loader func(ctx context.Context) ([]byte, error)

// Cache is cache-aside over the state tier: values are read from the Store,
// and on a miss exactly one caller per key per node runs the loader
// (singleflight), while a short lease key in the state tier (SetNX with a
// TTL) keeps the other nodes polling for its result instead of hitting the
// backend too. The lease is an optimisation, not a lock: when it expires or
// the state tier fails, callers load for themselves rather than fail.
type Cache struct {
	store  Store
	nodeID []byte
	cfg    CacheConfig
	group  singleflight.Group
	events [numCacheEvents]prometheus.Counter
}

// LeasePrefix prefixes lease keys in the state tier ("lease:" + key).
const LeasePrefix = "lease:"

// NewCache returns a Cache over store.
func NewCache(store Store, nodeID string, cfg CacheConfig) (*Cache, error) {
	if store == nil {
		return nil, ErrNoStore
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Second
	}
	if cfg.LeaseWait <= 0 {
		cfg.LeaseWait = 500 * time.Millisecond
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	c := &Cache{store: store, nodeID: []byte(nodeID), cfg: cfg}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_facade_cache_events_total",
		Help: "Cache-aside events: hit, miss, load, shared, lease_won, lease_lost, lease_wait_hit, state_error, store_full (the state tier refused a write for memory; the value was served, not stored).",
	}, []string{"event"})
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(vec); err != nil {
			return nil, fmt.Errorf("facade: register cache metrics: %w", err)
		}
	}
	for e, name := range cacheEventNames {
		c.events[e] = vec.WithLabelValues(name)
	}
	return c, nil
}

// cache events, counted per kind.
const (
	evHit = iota
	evMiss
	evLoad
	evShared
	evLeaseWon
	evLeaseLost
	evLeaseWaitHit
	evStateError
	evStoreFull
	numCacheEvents
)

var cacheEventNames = [numCacheEvents]string{"hit", "miss", "load", "shared", "lease_won", "lease_lost", "lease_wait_hit", "state_error", "store_full"}

// GetOrLoad returns the value of key from the state tier, or loads it,
// stores it with ttl and returns it. The returned bytes may be shared with
// other callers: do not modify them.
func (c *Cache) GetOrLoad(ctx context.Context, key []byte, ttl time.Duration, load Loader) ([]byte, Source, error) {
	v, err := c.store.Get(ctx, key)
	switch {
	case err == nil:
		c.events[evHit].Inc()
		return v, SourceState, nil
	case errors.Is(err, ErrNotFound):
		c.events[evMiss].Inc()
	default:
		c.events[evStateError].Inc()
	}
	stateUp := err == nil || errors.Is(err, ErrNotFound)
	var src Source
	res, err, shared := c.group.Do(string(key), func() (any, error) {
		return c.fill(ctx, key, ttl, load, stateUp)
	})
	if err != nil {
		return nil, 0, err
	}
	r := res.(filled)
	if shared {
		c.events[evShared].Inc()
		src = SourceShared
	} else {
		src = r.src
	}
	return r.value, src, nil
}

type filled struct {
	value []byte
	src   Source
}

// fill runs once per key per node at a time.
func (c *Cache) fill(ctx context.Context, key []byte, ttl time.Duration, load Loader, stateUp bool) (filled, error) {
	if !stateUp {
		v, err := c.load(ctx, load)
		return filled{v, SourceLoaded}, err
	}
	lease := append([]byte(LeasePrefix), key...)
	won, err := c.store.SetNX(ctx, lease, c.nodeID, c.cfg.LeaseTTL)
	if err != nil {
		// A full tier refuses the lease too: load, and do not try to
		// store what it would refuse as well.
		c.stateFailed(err)
		v, err := c.load(ctx, load)
		return filled{v, SourceLoaded}, err
	}
	if won {
		c.events[evLeaseWon].Inc()
		v, err := c.loadAndStore(ctx, key, ttl, load)
		// Give the lease back early so a failed load can be retried at once.
		_, _ = c.store.Delete(context.WithoutCancel(ctx), lease)
		return filled{v, SourceLoaded}, err
	}
	c.events[evLeaseLost].Inc()
	if v, ok := c.await(ctx, key); ok {
		c.events[evLeaseWaitHit].Inc()
		return filled{v, SourceState}, nil
	}
	v, err := c.loadAndStore(ctx, key, ttl, load)
	return filled{v, SourceLoaded}, err
}

// await polls the state tier for the value another node is loading, until
// LeaseWait or ctx's deadline.
func (c *Cache) await(ctx context.Context, key []byte) ([]byte, bool) {
	until := time.Now().Add(c.cfg.LeaseWait)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	t := time.NewTimer(c.cfg.PollInterval)
	defer t.Stop()
	for time.Now().Add(c.cfg.PollInterval).Before(until) {
		select {
		case <-ctx.Done():
			return nil, false
		case <-t.C:
		}
		if v, err := c.store.Get(ctx, key); err == nil {
			return v, true
		}
		t.Reset(c.cfg.PollInterval)
	}
	return nil, false
}

func (c *Cache) loadAndStore(ctx context.Context, key []byte, ttl time.Duration, load Loader) ([]byte, error) {
	v, err := c.load(ctx, load)
	if err != nil {
		return nil, err
	}
	if err := c.store.Set(ctx, key, v, ttl); err != nil {
		// The caller still gets the value; the next miss loads again. A
		// full tier (noeviction at its bound) is not a failure: the cache
		// just holds less.
		c.stateFailed(err)
	}
	return v, nil
}

// stateFailed counts a state tier error, telling a full tier apart.
func (c *Cache) stateFailed(err error) {
	if errors.Is(err, ErrStoreFull) {
		c.events[evStoreFull].Inc()
		return
	}
	c.events[evStateError].Inc()
}

func (c *Cache) load(ctx context.Context, load Loader) ([]byte, error) {
	c.events[evLoad].Inc()
	return load(ctx)
}

// Invalidate removes key from the state tier, so the next read loads it.
func (c *Cache) Invalidate(ctx context.Context, key []byte) error {
	_, err := c.store.Delete(ctx, key)
	return err
}
