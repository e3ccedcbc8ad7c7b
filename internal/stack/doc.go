// Package stack runs a whole Strata stack on one host as supervised child
// processes of the strata binary: state nodes, the sample origin, the control
// plane, facade nodes, the load balancer and the edge, started in dependency
// order and stopped in reverse (edge stops accepting, facades drain, state
// nodes flush).
//
// In userspace mode every process listens on loopback. In xdp mode (and in
// auto mode when the host allows XDP) the stack runs across the test bed's
// network (internal/testbed, prefix BedPrefix): state, origin, facades and
// the LB in namespaces, each started as `ip netns exec NS strata ...`, the
// LB in native XDP on its veth with direct server return, and the edge and
// control plane in the root namespace, joined to the bed by a host link.
//
// Start is all or nothing: every listening address is checked before the
// first child starts, and a stack that fails to come up is torn down before
// Start returns (with its namespaces, links and pinned maps), so a failed
// `strata up` leaves no process, port or network behind.
package stack
