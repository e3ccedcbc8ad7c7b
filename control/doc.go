// Package control is Strata's control plane: it knows the stack's
// configuration, watches every process's readiness, and serves the admin API
// (/api/v1/...), the dashboard and Prometheus metrics.
//
// It decides and reports; it never carries user traffic. Later issues add the
// load-aware weights, the autoscaler and the placement of state partitions
// (coordination in etcd); the API shapes here are the ones docs/INTERFACES.md
// promises, and fields for what does not exist yet say so rather than
// inventing values.
//
// What is dangerous: the API lays the whole topology out, so its listener
// is guarded (access.go: Host allow-list against DNS rebinding, a bearer
// token beyond loopback) and bounded (internal/httpserve: timeouts, header size,
// connection count); a route added to the mux is behind both without
// further work, and one that must be open says so in Access's open list.
package control
