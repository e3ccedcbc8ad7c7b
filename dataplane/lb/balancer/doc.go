// Package balancer is one load-balancer node: the data path of the mode the
// host allows (the userspace proxy or the XDP program), the health checker
// that weighs its backends, and its shutdown. It is the only package that
// knows both modes; `strata lb` parses flags into a Config and runs a Node,
// and a live control plane would call Node.Apply.
//
// What is dangerous: every configuration reaches the data path through the
// checker (Node.Apply is Checker.SetConfig), which rewrites weights by
// health. Applying to the data path directly would bring ejected backends
// back until the next verdict.
package balancer
