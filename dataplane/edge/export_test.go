package edge

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// SetClock replaces the edge's clock (unix seconds) for tests.
func (e *Edge) SetClock(now func() int64) { e.now = now }

func testCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}

// OpenConns is the number of client connections being served.
func (e *Edge) OpenConns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// IdleConns is the number of connections waiting for their next request.
func (e *Edge) IdleConns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for c := range e.conns {
		if c.idle.Load() && !c.listed {
			n++
		}
	}
	return n
}

// BodyBufferBytes is what the request-body budget has handed out.
func (e *Edge) BodyBufferBytes() int64 { return e.bodyBudget.Used() }
