package facade

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/internal/statetest"
)

// clientStore adapts the real state client to Store for the framework's
// tests (facade/statestore does this for programs; importing it here would
// be an import cycle).
type clientStore struct{ *client.Client }

func (s clientStore) Get(ctx context.Context, key []byte) ([]byte, error) {
	v, err := s.Client.Get(ctx, key)
	if errors.Is(err, client.ErrNotFound) {
		return nil, ErrNotFound
	}
	return v, err
}

// Set and SetNX map a full node's refusal as facade/statestore does.
func (s clientStore) Set(ctx context.Context, key, value []byte, ttl time.Duration) error {
	return storeFull(s.Client.Set(ctx, key, value, ttl))
}

func (s clientStore) SetNX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error) {
	ok, err := s.Client.SetNX(ctx, key, value, ttl)
	return ok, storeFull(err)
}

func storeFull(err error) error {
	if errors.Is(err, client.ErrOutOfMemory) {
		return fmt.Errorf("%w: %w", ErrStoreFull, err)
	}
	return err
}

func (s clientStore) GetVersioned(ctx context.Context, key []byte) ([]byte, Version, error) {
	it, err := s.GetItem(ctx, key)
	if errors.Is(err, client.ErrNotFound) {
		return nil, Version{}, ErrNotFound
	}
	return it.Value, Version{it.Version.Epoch, it.Version.Seq}, err
}

func (s clientStore) CompareAndSet(ctx context.Context, key, value []byte, expect Version, ttl time.Duration) (Version, error) {
	v, err := s.Client.CompareAndSet(ctx, key, value, client.Version{Epoch: expect.Epoch, Seq: expect.Seq}, ttl)
	if errors.Is(err, client.ErrVersionMismatch) || errors.Is(err, client.ErrNotFound) {
		return Version{}, ErrConflict
	}
	return Version{v.Epoch, v.Seq}, err
}

// plainStore hides the compare-and-set methods, to test the fallback.
type plainStore struct{ Store }

// newStateStore starts a real state node and returns a Store on it.
func newStateStore(t *testing.T) (Store, *statetest.Node) {
	t.Helper()
	n := statetest.Start(t)
	return clientStore{n.Dial(t)}, n
}
