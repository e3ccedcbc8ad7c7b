package origin

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// knownRoutes are the routes the origin counts; anything else counts as
// "other", so a scan of random paths cannot grow the table.
var knownRoutes = []string{"/products", "/svc/products", "/svc/pricing", "/svc/inventory", "/svc/reviews", "other"}

type stats struct {
	mu       sync.Mutex
	counts   map[string]*atomic.Uint64
	hits     *prometheus.CounterVec
	inflight atomic.Int64 // requests being served (past the worker pool)
	peak     atomic.Int64 // most served at once since the last reset
}

// enter and leave bracket the service of one request.
func (st *stats) enter() {
	n := st.inflight.Add(1)
	for p := st.peak.Load(); n > p && !st.peak.CompareAndSwap(p, n); p = st.peak.Load() {
	}
}

func (st *stats) leave() { st.inflight.Add(-1) }

func newStats(reg prometheus.Registerer) (*stats, error) {
	st := &stats{counts: map[string]*atomic.Uint64{}}
	for _, r := range knownRoutes {
		st.counts[r] = new(atomic.Uint64)
	}
	st.hits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_origin_requests_total",
		Help: "Requests the sample origin served, by route.",
	}, []string{"route"})
	if reg != nil {
		if err := reg.Register(st.hits); err != nil {
			return nil, fmt.Errorf("origin: register metrics: %w", err)
		}
	}
	return st, nil
}

func (st *stats) hit(route string) {
	c, ok := st.counts[route]
	if !ok {
		route, c = "other", st.counts["other"]
	}
	c.Add(1)
	st.hits.WithLabelValues(route).Inc()
}

func (st *stats) get(route string) uint64 {
	if c, ok := st.counts[route]; ok {
		return c.Load()
	}
	return 0
}

func (st *stats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.counts {
		c.Store(0)
	}
	st.peak.Store(st.inflight.Load())
}

// Stats is the body of GET /stats.
type Stats struct {
	Total  uint64            `json:"total"`
	Routes map[string]uint64 `json:"routes"`
	// Inflight is how many requests are being served now, PeakInflight the
	// most at once since start or the last reset; with --workers neither
	// exceeds the pool.
	Inflight     int64 `json:"inflight"`
	PeakInflight int64 `json:"peak_inflight"`
}

func (st *stats) marshal() []byte {
	out := Stats{Routes: map[string]uint64{}, Inflight: st.inflight.Load(), PeakInflight: st.peak.Load()}
	names := make([]string, 0, len(st.counts))
	for n := range st.counts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := st.counts[n].Load()
		out.Routes[n] = v
		out.Total += v
	}
	b, _ := json.Marshal(out)
	return b
}
