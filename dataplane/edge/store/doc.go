// Package store is the edge's memory-bounded object store: a sharded map for
// lookups plus an S3-FIFO admission and eviction policy (Yang et al., SOSP
// 2023) over the stored bytes.
//
// Why S3-FIFO: a lookup only bumps a two-bit frequency counter with one
// atomic operation, so the hit path takes no exclusive lock and moves nothing
// between lists (unlike LRU), and on skewed (Zipf) workloads it keeps more of
// the popular objects than LRU or FIFO because one-hit wonders leave through
// the small probationary queue. store_test.go measures that claim.
//
// The bound is hard: every Set evicts until the bytes charged (value cost,
// key length and a fixed per-entry overhead) fit the capacity, and a value
// larger than the capacity is refused. Values are never mutated or reused by
// the store, so a reader holding one after it was evicted stays safe; the Go
// garbage collector frees it.
package store
