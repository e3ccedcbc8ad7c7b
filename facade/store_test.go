package facade

import (
	"context"
	"errors"
	"testing"

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

// newStateStore starts a real state node and returns a Store on it.
func newStateStore(t *testing.T) (Store, *statetest.Node) {
	t.Helper()
	n := statetest.Start(t)
	return clientStore{n.Dial(t)}, n
}
