// Package loadgen drives load at a system under test and turns what it sees
// into numbers: wrk and redis-benchmark for closed-loop throughput (run as
// processes, their output parsed), and an open-loop, fixed-rate HTTP
// generator on fasthttp whose latencies are measured from each request's
// intended send time, so a stalled server cannot hide its stall
// (coordinated omission). For packets per second through a load balancer
// there are a raw-socket SYN flood (SynFlood) and a kernel-speed generator,
// LiveXDP: BPF_PROG_RUN in live-frames mode injects frames as if a
// namespace's interface had received them (Linux only).
//
// Latencies go into Histogram, a log-linear (HDR-style) histogram with a
// bounded relative error and a fixed size, so recording never allocates.
package loadgen
