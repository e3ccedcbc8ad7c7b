package overload

import (
	"errors"
	"fmt"
	"time"

	"github.com/strata-dp/strata/facade"
)

// Scenario describes one overload run. Zero values take the defaults.
type Scenario struct {
	// Workers and Service shape the backend (the sample origin): Workers
	// requests at once, each taking Service, so its capacity is about
	// Workers/Service requests per second (defaults 8 and 40ms: 200/s, so
	// that the load generator, the facade and the origin, all in one
	// process, keep up at 3× on a small shared host).
	Workers int
	Service time.Duration
	// Load is the offered load as a multiple of the measured capacity
	// (default 3).
	Load float64
	// Shares of the offered requests per class: high, normal, low
	// (default 0.2, 0.4, 0.4).
	Shares [3]float64
	// Duration of the overloaded phase after its warm-up (default 5s); the
	// unloaded phase and the calibration take half as long each.
	Duration time.Duration
	// Warmup is the start of each open-loop phase whose requests are sent
	// but not counted, while the adaptive limit finds the backend's capacity
	// (default 1s).
	Warmup time.Duration
	// Timeout is the clients' and the facade's request budget (default 1s).
	Timeout time.Duration
	// Admission configures the facade; MaxInflight defaults to 256 and
	// MinInflight to 1.
	Admission facade.AdmissionConfig
}

func (s *Scenario) setDefaults() error {
	if s.Workers <= 0 {
		s.Workers = 8
	}
	if s.Service <= 0 {
		s.Service = 40 * time.Millisecond
	}
	if s.Load <= 0 {
		s.Load = 3
	}
	if s.Shares == [3]float64{} {
		s.Shares = [3]float64{0.2, 0.4, 0.4}
	}
	sum := 0.0
	for _, v := range s.Shares {
		if v < 0 {
			return errors.New("overload: negative class share")
		}
		sum += v
	}
	if sum < 0.999 || sum > 1.001 {
		return fmt.Errorf("overload: class shares sum to %v, want 1", sum)
	}
	if s.Duration <= 0 {
		s.Duration = 5 * time.Second
	}
	if s.Warmup <= 0 {
		s.Warmup = time.Second
	}
	if s.Timeout <= 0 {
		s.Timeout = time.Second
	}
	return nil
}

// ClassResult is what one priority class saw in one phase.
type ClassResult struct {
	Sent     int `json:"sent"`
	OK       int `json:"ok"`
	Rejected int `json:"rejected"` // 429 or 503 from admission control
	Failed   int `json:"failed"`   // anything else: errors, timeouts
	// Latencies of successful requests.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`
}

// SuccessRatio is OK / Sent (1 when nothing was sent).
func (c ClassResult) SuccessRatio() float64 {
	if c.Sent == 0 {
		return 1
	}
	return float64(c.OK) / float64(c.Sent)
}

// Phase is one open-loop run at a fixed offered rate.
type Phase struct {
	Offered float64           `json:"offered_per_sec"`
	Goodput float64           `json:"goodput_per_sec"` // successful answers per second
	Classes [3]ClassResult    `json:"classes"`         // high, normal, low
	Elapsed time.Duration     `json:"elapsed_ns"`
	Load    facade.LoadReport `json:"load_report"` // the facade's own report at the end
}

// Result of a whole scenario.
type Result struct {
	// Capacity is the measured throughput of facade and backend under a
	// closed loop of 2×Workers high-priority clients, in requests per second.
	Capacity float64 `json:"capacity_per_sec"`
	// Unloaded runs at half the capacity, Overloaded at Load× capacity.
	Unloaded   Phase `json:"unloaded"`
	Overloaded Phase `json:"overloaded"`
}

// HighP99Ratio is the overloaded high-priority p99 over the unloaded one.
func (r Result) HighP99Ratio() float64 {
	if r.Unloaded.Classes[0].P99 == 0 {
		return 0
	}
	return float64(r.Overloaded.Classes[0].P99) / float64(r.Unloaded.Classes[0].P99)
}

// HostKeptUp tells whether the host ran the experiment faithfully: the
// calibration reached at least half the backend's nominal capacity and no
// more than maxFailed of the requests in either phase failed outright
// (transport errors and client timeouts, which admission control exists to
// prevent; a starved host produces them regardless).
func (r Result) HostKeptUp(s Scenario, maxFailed float64) bool {
	_ = s.setDefaults()
	nominal := float64(s.Workers) / s.Service.Seconds()
	return r.Capacity >= nominal/2 && r.Unloaded.FailedRatio() <= maxFailed && r.Overloaded.FailedRatio() <= maxFailed
}

// FailedRatio is the share of requests that failed outright (neither
// answered nor rejected by admission control).
func (p Phase) FailedRatio() float64 {
	sent, failed := 0, 0
	for _, c := range p.Classes {
		sent += c.Sent
		failed += c.Failed
	}
	if sent == 0 {
		return 0
	}
	return float64(failed) / float64(sent)
}

// GoodputRatio is the overloaded goodput over the capacity.
func (r Result) GoodputRatio() float64 {
	if r.Capacity == 0 {
		return 0
	}
	return r.Overloaded.Goodput / r.Capacity
}
