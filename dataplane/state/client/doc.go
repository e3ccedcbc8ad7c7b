// Package client is the Go client of Strata state nodes over the binary
// protocol (package wire).
//
// A Client keeps a small pool of connections per node. Requests from many
// goroutines share those connections: each request is queued on a
// connection and whichever caller finds no write in progress sends
// everything queued in one write, so concurrent callers pipeline
// automatically; responses come back in
// order and are matched by request id. Pipeline sends a batch of mixed
// operations in one write; MGet and MSet use the protocol's batch frames.
//
// With several addresses, keys are spread by Redis Cluster's hash slots
// (package slot) over equal contiguous slot ranges, one per address in the
// given order. Every call honours its context's deadline and cancellation;
// a cancelled call's late response is read and dropped, so the connection
// stays usable.
package client
