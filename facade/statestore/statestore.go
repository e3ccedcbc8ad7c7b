// Package statestore adapts the Strata state client
// (dataplane/state/client) to facade.Store: the same methods, with the
// client's not-found error mapped to facade.ErrNotFound.
package statestore

import (
	"context"
	"errors"
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
	return s.c.Set(ctx, key, value, ttl)
}

// SetNX stores value if key is absent and reports whether it did.
func (s *Store) SetNX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	return s.c.SetNX(ctx, key, value, ttl)
}

// Delete removes key and reports whether it existed.
func (s *Store) Delete(ctx context.Context, key []byte) (bool, error) {
	return s.c.Delete(ctx, key)
}

// Close closes the client's connections.
func (s *Store) Close() error { return s.c.Close() }
