package control

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/state/slot"
	"github.com/strata-dp/strata/internal/config"
)

// The state view must put every slot on the node the state client sends it
// to: an operator reading /api/v1/state or `strata ctl get state` looks for a
// key where the clients put it.
func TestStateViewMatchesClientRouting(t *testing.T) {
	for n := 1; n <= 8; n++ {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			yaml := "host: 127.0.0.1\nstate:\n  nodes:\n" + strings.Repeat("  - {}\n", n)
			cfg, err := config.Parse([]byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			cp := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
			v := cp.stateView()
			if v.Slots != slot.Count || len(v.Nodes) != n {
				t.Fatalf("%d slots over %d nodes", v.Slots, len(v.Nodes))
			}
			owner := make([]int, slot.Count)
			for i := range owner {
				owner[i] = -1
			}
			for i, node := range v.Nodes {
				for _, r := range node.SlotRanges {
					if r[0] > r[1] || r[0] < 0 || r[1] >= slot.Count {
						t.Fatalf("node %d: range %v", i, r)
					}
					for s := r[0]; s <= r[1]; s++ {
						if owner[s] != -1 {
							t.Fatalf("slot %d shown on nodes %d and %d", s, owner[s], i)
						}
						owner[s] = i
					}
				}
			}
			for s := range slot.Count {
				if want := slot.Owner(uint16(s), n); owner[s] != want {
					t.Fatalf("slot %d shown on node %d, clients route it to node %d", s, owner[s], want)
				}
			}
		})
	}
}
