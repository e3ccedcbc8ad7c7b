package config

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/strata-dp/strata/internal/bytesize"
)

// validateRoles checks the settings each role's flags would refuse, so
// that `strata up` refuses them before any process starts, with the
// field's YAML path instead of a child's flag in a log file.
func (s *Stack) validateRoles() error {
	e := s.Edge
	f := s.Facades
	st := s.State
	checks := []error{
		sizeAtLeast("edge.max_object", e.MaxObject, 1),
		notNegative("edge.grace", e.Grace),
		notNegative("edge.keep", deref(e.Keep)),
		positive("edge.origin_timeout", e.OriginTimeout),
		share("edge.origin_retry_budget", deref(e.OriginRetryBudget), "0..1 (0: never retry)", true),
		atLeast("edge.origin_max_conns", e.OriginMaxConns, 1),
		atLeast("edge.max_conns", e.MaxConns, 1),
		atLeast("edge.max_conns_per_ip", deref(e.MaxConnsPerIP), 0),
		positive("edge.idle_timeout", e.IdleTimeout),
		positive("edge.header_timeout", e.HeaderTimeout),
		share("edge.access_log_sample", e.AccessLogSample, "(0, 1]: the share of requests logged", false),
		share("facades.access_log_sample", f.AccessLogSample, "(0, 1]: the share of requests logged", false),
		notNegative("lb.health.slow_start", deref(s.LB.Health.SlowStart)),
		sizeBetween("lb.max_buffered", s.LB.MaxBuffered, 4<<10, 64<<20, "4KiB..64MiB"),
		notNegative("lb.first_byte_timeout", deref(s.LB.FirstByteTimeout)),
		atLeast("lb.outliers", deref(s.LB.Outliers), 0),
		positive("lb.outlier_ejection", s.LB.OutlierEjection),
		atLeast("facades.queue_len", f.QueueLen, 1),
		positive("facades.max_queue_time", f.MaxQueueTime),
		positive("facades.request_timeout", f.RequestTimeout),
		notNegative("facades.drain_delay", deref(f.DrainDelay)),
		positive("facades.drain_timeout", f.DrainTimeout),
		notNegative("lb.connect_timeout", s.LB.ConnectTimeout),
		notNegative("lb.idle_timeout", s.LB.IdleTimeout),
		atLeast("lb.max_conns", s.LB.MaxConns, 0),
		atLeast("lb.loops", s.LB.Loops, 0),
		atLeast("state.max_conns", st.MaxConns, 0),
		notNegative("state.idle_timeout", st.IdleTimeout),
		notNegative("state.slow_timeout", st.SlowTimeout),
		atLeast("state.event_loops", st.EventLoops, 0),
		atLeast("state.procs", st.Procs, 0),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	if e.HeaderTimeout > e.IdleTimeout {
		return &FieldError{Field: "edge.header_timeout", Value: e.HeaderTimeout, Allowed: "at most edge.idle_timeout"}
	}
	for field, list := range map[string][]string{"edge.purge_from": e.PurgeFrom, "edge.max_conns_per_ip_exempt": e.MaxConnsPerIPExempt} {
		for i, p := range list {
			if _, err := netip.ParsePrefix(p); err != nil {
				return &FieldError{Field: field + "[" + strconv.Itoa(i) + "]", Value: strconv.Quote(p), Allowed: "a CIDR prefix such as 127.0.0.0/8"}
			}
		}
	}
	if s.LB.Loops > 1024 {
		return &FieldError{Field: "lb.loops", Value: s.LB.Loops, Allowed: "0..1024"}
	}
	if st.MaxFrame != 0 && (st.MaxFrame < 1<<10 || st.MaxFrame > 1<<30) {
		return &FieldError{Field: "state.max_frame", Value: st.MaxFrame, Allowed: "1KiB..1GiB, or 0 for strata state's default"}
	}
	if st.BusyPoll < 0 || st.BusyPoll > time.Second {
		return &FieldError{Field: "state.busy_poll", Value: st.BusyPoll, Allowed: "0 (off)..1s"}
	}
	return nil
}

func atLeast(field string, v, min int) error {
	if v < min {
		return &FieldError{Field: field, Value: v, Allowed: "an integer >= " + strconv.Itoa(min)}
	}
	return nil
}

func positive(field string, d time.Duration) error {
	if d <= 0 {
		return &FieldError{Field: field, Value: d, Allowed: "a positive duration"}
	}
	return nil
}

func notNegative(field string, d time.Duration) error {
	if d < 0 {
		return &FieldError{Field: field, Value: d, Allowed: "a duration >= 0"}
	}
	return nil
}

func share(field string, v float64, allowed string, zeroOK bool) error {
	if v < 0 || v > 1 || (!zeroOK && v == 0) {
		return &FieldError{Field: field, Value: v, Allowed: allowed}
	}
	return nil
}

func sizeAtLeast(field string, v, min bytesize.Size) error {
	if v < min {
		return &FieldError{Field: field, Value: v, Allowed: "at least " + min.String()}
	}
	return nil
}

func sizeBetween(field string, v bytesize.Size, min, max int64, allowed string) error {
	if int64(v) < min || int64(v) > max {
		return &FieldError{Field: field, Value: v, Allowed: allowed}
	}
	return nil
}

// deref reads a field that ApplyDefaults fills; a Stack validated without
// defaults reads as zero rather than panicking.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
