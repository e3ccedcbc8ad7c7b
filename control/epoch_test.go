package control

import (
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/internal/config"
)

// /api/v1/state reports the epoch the stack's nodes start at (strata up
// passes --epoch config.FirstEpoch), not the zero value.
func TestStateViewReportsTheNodesEpoch(t *testing.T) {
	cfg, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	for _, n := range cp.stateView().Nodes {
		if n.Epoch != config.FirstEpoch {
			t.Errorf("%s: epoch %d, want %d", n.ID, n.Epoch, config.FirstEpoch)
		}
	}
}
