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
