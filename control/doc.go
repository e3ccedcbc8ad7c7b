// Package control is Strata's control plane: it knows the stack's
// configuration, watches every process's readiness, and serves the admin API
// (/api/v1/...), the dashboard and Prometheus metrics.
//
// It decides and reports; it never carries user traffic. Later issues add the
// load-aware weights, the autoscaler and the placement of state partitions
// (coordination in etcd); the API shapes here are the ones INTERFACES.md
// promises, and fields for what does not exist yet say so rather than
// inventing values.
package control
