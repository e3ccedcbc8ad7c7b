// Package stack runs a whole Strata stack on one host as supervised child
// processes of the strata binary: state nodes, the sample origin, the control
// plane, facade nodes, the load balancer and the edge, started in dependency
// order and stopped in reverse (edge stops accepting, facades drain, state
// nodes flush).
//
// Start is all or nothing: every listening address is checked before the
// first child starts, and a stack that fails to come up is torn down before
// Start returns, so a failed `strata up` leaves no process or port behind.
package stack
