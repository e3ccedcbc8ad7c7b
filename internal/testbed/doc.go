// Package testbed builds Strata's network-namespace test bed: client, edge,
// lb, state and backend hosts as namespaces, each joined by a veth pair to
// one bridge that lives in a namespace of its own, addressed in
// 198.18.0.0/24 (VIPs in 198.18.1.0/24), with no route out. Processes run
// detached, their pids recorded in a state directory, so Down (or `strata
// testbed down` from another shell) removes every namespace, link and
// process Up made.
//
// What is dangerous here: namespaces are host-global, so every name carries
// the caller's prefix, and Up undoes its partial work when it fails.
package testbed
