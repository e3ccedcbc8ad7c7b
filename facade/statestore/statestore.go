// Package statestore adapts the Strata state client
// (dataplane/state/client) to facade.Store: the same methods, with the
// client's not-found error mapped to facade.ErrNotFound and its
// out-of-memory refusal to facade.ErrStoreFull.
package statestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/facade"
)

// Store is a facade.Store over a state client.
type Store struct {
	c *client.Client
}

var _ facade.Store = (*Store)(nil)

// Dial connects to the state nodes at addrs.
func Dial(ctx context.Context, addrs []string, opts client.Options) (*Store, error) {
	c, err := client.Dial(ctx, addrs, opts)
	if err != nil {
		return nil, err
	}
	return &Store{c: c}, nil
}

// Get returns the value of key, or facade.ErrNotFound.
func (s *Store) Get(ctx context.Context, key []byte) ([]byte, error) {
	v, err := s.c.Get(ctx, key)
	if errors.Is(err, client.ErrNotFound) {
		return nil, facade.ErrNotFound
	}
	return v, err
}

// Set stores value under key with ttl (0: no expiry).
func (s *Store) Set(ctx context.Context, key, value []byte, ttl time.Duration) error {
	return full(s.c.Set(ctx, key, value, ttl))
}

// SetNX stores value if key is absent and reports whether it did.
func (s *Store) SetNX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.c.SetNX(ctx, key, value, ttl)
	return ok, full(err)
}

// full maps a node's refusal for memory to facade.ErrStoreFull.
func full(err error) error {
	if errors.Is(err, client.ErrOutOfMemory) {
		return fmt.Errorf("%w: %w", facade.ErrStoreFull, err)
	}
	return err
}

// Delete removes key and reports whether it existed.
func (s *Store) Delete(ctx context.Context, key []byte) (bool, error) {
	return s.c.Delete(ctx, key)
}

// Close closes the client's connections.
func (s *Store) Close() error { return s.c.Close() }

var _ facade.VersionedStore = (*Store)(nil)

// GetVersioned returns the value of key and its version, or
// facade.ErrNotFound.
func (s *Store) GetVersioned(ctx context.Context, key []byte) ([]byte, facade.Version, error) {
	it, err := s.c.GetItem(ctx, key)
	if errors.Is(err, client.ErrNotFound) {
		return nil, facade.Version{}, facade.ErrNotFound
	}
	if err != nil {
		return nil, facade.Version{}, err
	}
	return it.Value, facade.Version{Epoch: it.Version.Epoch, Seq: it.Version.Seq}, nil
}

// CompareAndSet stores value if key's version is still expect (zero: only
// if absent), or returns an error matching facade.ErrConflict.
func (s *Store) CompareAndSet(ctx context.Context, key, value []byte, expect facade.Version, ttl time.Duration) (facade.Version, error) {
	v, err := s.c.CompareAndSet(ctx, key, value, client.Version{Epoch: expect.Epoch, Seq: expect.Seq}, ttl)
	if errors.Is(err, client.ErrVersionMismatch) || errors.Is(err, client.ErrNotFound) {
		// The key moved on (or expired) since it was read.
		return facade.Version{}, fmt.Errorf("%w: %w", facade.ErrConflict, err)
	}
	if err != nil {
		return facade.Version{}, full(err)
	}
	return facade.Version{Epoch: v.Epoch, Seq: v.Seq}, nil
}
