// Package health decides which backends of a load balancer receive new
// flows. Active checks (TCP connect, or HTTP GET expecting 2xx/3xx) run per
// backend with rise and fall thresholds; passive signals from the data path
// (refused or timed-out connects, resets) count as failed checks at once.
// Every change is pushed as a whole new configuration through lb.Applier,
// with weights rewritten: 0 for an ejected backend, and a linear ramp from
// 1 up to its configured weight for a returning one (slow start).
//
// What is dangerous here: ejecting too much turns a partial failure into a
// full outage, so at most Options.MaxEjectedShare of a service's backends
// are ejected at once; the rest stay in even when they fail. Backends that
// accept connections and then hang are ejected as outliers from the data
// path's verdicts, for an ejection time that grows (outlier.go).
package health
