package facade

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// memStore is an in-memory Store for the framework's unit tests only; the
// sample application and the end-to-end tests run against a real state
// server.
type memStore struct {
	mu   sync.Mutex
	data map[string]memEntry
	// fail makes every operation fail, to test degraded paths.
	fail atomic.Bool
	gets atomic.Int64
	sets atomic.Int64
}

type memEntry struct {
	v   []byte
	exp time.Time
}

var errStoreDown = errors.New("memstore: down")

func newMemStore() *memStore { return &memStore{data: map[string]memEntry{}} }

func (m *memStore) live(k string) (memEntry, bool) {
	e, ok := m.data[k]
	if ok && !e.exp.IsZero() && time.Now().After(e.exp) {
		delete(m.data, k)
		return memEntry{}, false
	}
	return e, ok
}

func (m *memStore) Get(_ context.Context, key []byte) ([]byte, error) {
	m.gets.Add(1)
	if m.fail.Load() {
		return nil, errStoreDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.live(string(key))
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte(nil), e.v...), nil
}

func (m *memStore) put(key, value []byte, ttl time.Duration) {
	e := memEntry{v: append([]byte(nil), value...)}
	if ttl > 0 {
		e.exp = time.Now().Add(ttl)
	}
	m.data[string(key)] = e
}

func (m *memStore) Set(_ context.Context, key, value []byte, ttl time.Duration) error {
	m.sets.Add(1)
	if m.fail.Load() {
		return errStoreDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, value, ttl)
	return nil
}

func (m *memStore) SetNX(_ context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	if m.fail.Load() {
		return false, errStoreDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.live(string(key)); ok {
		return false, nil
	}
	m.put(key, value, ttl)
	return true, nil
}

func (m *memStore) Delete(_ context.Context, key []byte) (bool, error) {
	if m.fail.Load() {
		return false, errStoreDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.live(string(key))
	delete(m.data, string(key))
	return ok, nil
}
