// Package lb holds the vocabulary shared by both load-balancer modes (XDP and
// userspace) and the packages around them: virtual services, their backends
// and weights, protocols, the whole configuration that is applied as one
// generation (Config, Validate, ErrConfig), the entries of scheduling tables
// (Weighted), and passive health signals (Signal, Observer). The modes
// (userspace, xdp), the schedulers (maglev, wrr) and the health checker
// import this package and not each other; package balancer puts them
// together into one LB node. The control plane drives a running balancer
// only through the Applier interface defined here, so the data path never
// imports the control plane.
//
// What is dangerous: Validate is the only gate in front of both data paths.
// A configuration it lets through is written into BPF maps or proxy tables
// as a whole; anything it misses fails there, after the fact.
package lb
