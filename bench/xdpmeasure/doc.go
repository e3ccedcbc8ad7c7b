// Package xdpmeasure measures the XDP load balancer's cost per packet with
// BPF_PROG_TEST_RUN, for the lb-xdp bench scenario and the benchmarks
// beside it: the production program's flow-hit and pass paths, the
// new-flow paths, and the kernel floors under them (a bare XDP_DROP and
// bare connection-table operations).
//
// The programs that only measurement needs live in their own BPF object
// (bpf/lb_measure.bpf.c), loaded on the maps of a private, unattached,
// unpinned xdp.Balancer through ebpf.CollectionOptions.MapReplacements, so
// the object the load balancer loads holds only what it runs.
//
// What is dangerous: nothing here may run against a balancer that carries
// traffic. Run loads its own instance and writes flows into that
// instance's connection table by the ten thousand. Real code lives in
// _linux.go files; elsewhere Run returns xdp.ErrUnsupported.
package xdpmeasure
