// Package bench is Strata's side-by-side benchmark suite: each scenario
// starts Strata (through the strata binary's command-line contract) and the
// tool a user would pick instead (Redis, Varnish, nginx, HAProxy, nftables)
// as real processes on loopback or in network namespaces, drives both with
// the same load generator on an alternating schedule, and writes a results
// file (package result) that the report, the charts and the README are
// rendered from (package report).
//
// What is dangerous here: the suite starts and kills processes and builds
// namespaces. Everything it starts is tracked by pid (process group) or by
// namespace prefix and removed when the scenario ends, also on failure or
// interrupt. It never stops anything it did not start. Figures measured on a
// shared machine are noisy; the ratios of alternating runs are what to read.
package bench
