package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// supervisorState is the part of `strata up`'s stack.json (internal/stack's
// State, rewritten whenever a child exits or restarts) that the control
// plane reads: the supervisor knows of every restart, while /readyz polled
// once a second misses a child that is back within the second.
type supervisorState struct {
	Processes []supervisedProcess `json:"processes"`
}

// supervisedProcess is one process of stack.json.
type supervisedProcess struct {
	Name        string     `json:"name"`
	Pid         int        `json:"pid"`
	Restarts    int        `json:"restarts"`
	LastExit    string     `json:"last_exit"`
	LastExitAt  *time.Time `json:"last_exit_at"`
	LastRestart *time.Time `json:"last_restart"`
}

// maxStackState bounds what is read of stack.json (a few hundred bytes a
// process).
const maxStackState = 1 << 20

// readSupervisorState reads stack.json; a file not written yet (the
// control plane starts before the tiers after it) is no processes.
func readSupervisorState(path string) ([]supervisedProcess, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read supervisor state: %w", err)
	}
	defer func() { _ = f.Close() }()
	var st supervisorState
	// stack.json is replaced by rename, so a read sees a whole file.
	if err := json.NewDecoder(io.LimitReader(f, maxStackState)).Decode(&st); err != nil {
		return nil, fmt.Errorf("read supervisor state %s: %w", path, err)
	}
	return st.Processes, nil
}

// restartCollector exports the supervisor's restart history of every
// process of the stack, the control plane included, as the inventory last
// read it.
type restartCollector struct {
	inv                *Inventory
	restarts, lastExit *prometheus.Desc
}

var _ prometheus.Collector = (*restartCollector)(nil)

func newRestartCollector(inv *Inventory) *restartCollector {
	return &restartCollector{inv: inv,
		restarts: prometheus.NewDesc("strata_up_child_restarts_total",
			"Restarts of a child process of strata up by its supervisor (from stack.json).", []string{"child"}, nil),
		lastExit: prometheus.NewDesc("strata_up_child_last_exit_timestamp_seconds",
			"When the last restarted process of a child of strata up exited, labelled with how "+
				"(status: \"signal: killed\", \"exit status 1\").", []string{"child", "status"}, nil)}
}

func (c *restartCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.restarts
	ch <- c.lastExit
}

func (c *restartCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.inv.supervised() {
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(p.Restarts), p.Name)
		if p.LastExitAt != nil {
			ch <- prometheus.MustNewConstMetric(c.lastExit, prometheus.GaugeValue,
				float64(p.LastExitAt.UnixNano())/1e9, p.Name, p.LastExit)
		}
	}
}
