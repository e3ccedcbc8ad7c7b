// Package xdp manages the XDP load balancer (bpf/lb.bpf.c) from Go: it loads
// the embedded BPF objects, attaches the program to a NIC (native XDP,
// falling back to generic), pins its maps under a directory so that a
// restarted manager keeps tracked flows, applies whole configurations as one
// new generation swapped in atomically, and exports the per-CPU counters as
// Prometheus metrics. It also loads the tc IPIP decapsulation program for
// backends (bpf/decap.bpf.c). Measuring the program's cost is not its
// business: bench/xdpmeasure loads its own programs on a balancer's maps
// (SharedMaps).
//
// What is dangerous: the program sits in front of the host's whole network
// stack. Anything it does not recognise as traffic to a configured service
// passes untouched (XDP_PASS); a bug in the maps it reads can still black-hole
// a VIP, so every Apply validates the whole configuration before writing the
// inactive generation, and flips to it with a single map update. Real code
// lives in _linux.go files; elsewhere every entry point returns
// ErrUnsupported.
package xdp
