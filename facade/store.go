package facade

import (
	"context"
	"time"
)

// Store is the state tier as the framework sees it: the methods of the Strata
// state client (dataplane/state/client), so facades hold all of their state
// outside the process. Get must return an error matching ErrNotFound
// (errors.Is) when the key is absent; adapters map their own not-found error.
type Store interface {
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Set stores value under key; ttl 0 means no expiry.
	Set(ctx context.Context, key, value []byte, ttl time.Duration) error
	// SetNX stores value only if key is absent and reports whether it did.
	SetNX(ctx context.Context, key, value []byte, ttl time.Duration) (bool, error)
	Delete(ctx context.Context, key []byte) (bool, error)
}

// Version identifies one write of a key in the state tier.
type Version struct {
	Epoch uint32
	Seq   uint64
}

// VersionedStore is a Store that can also compare-and-set. Read-modify-write
// helpers (Sessions.Update) use it when the Store has it, so that two nodes
// updating one key at once never lose an update; over a plain Store they
// fall back to last-writer-wins.
type VersionedStore interface {
	Store
	// GetVersioned returns the value and its version, or ErrNotFound.
	GetVersioned(ctx context.Context, key []byte) ([]byte, Version, error)
	// CompareAndSet stores value only if the key's version is still expect
	// (the zero Version: only if absent); otherwise it returns an error
	// matching ErrConflict.
	CompareAndSet(ctx context.Context, key, value []byte, expect Version, ttl time.Duration) (Version, error)
}
