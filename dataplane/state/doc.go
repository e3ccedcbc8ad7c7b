// Package state is the storage engine of a Strata state node: a key-value
// store over bigcache/v3 that adds what bigcache lacks.
//
// bigcache keeps bytes in large pointer-free FIFO queues, which keeps the Go
// garbage collector out of the way, but it verifies keys only on Get, has one
// global life window, evicts FIFO and has no compare-and-set. The engine
// therefore stores one bigcache entry per 64-bit key hash (a "bucket") and
// keeps every key that hashes there inside that bucket as a record with its
// own header:
//
//	key length, value length, version (epoch, sequence), expiry (unix ms), flags
//
// Because a bucket holds the full key of each record, a hash collision can
// never read, replace or delete another key: colliding keys simply share a
// bucket. Writes to a bucket are read-modify-write under a striped mutex (the
// same stripes serve compare-and-set, INCR and set-if-absent), reads take only
// bigcache's shard read lock.
//
// Dangerous parts: peek.go reads bigcache's shard internals through unsafe
// pointers so that Get does not allocate (bigcache's own Get copies twice),
// and space.go writes into bigcache's shard queues itself: it counts live
// bytes, reclaims the dead copies that rewrites leave (bigcache would evict
// live keys behind them) and applies the memory Policy, noeviction by
// default. The layout is verified by reflection when the engine starts; if
// it ever differs the engine falls back to the public, allocating API,
// under PolicyFIFO only. Every write
// allocates a sequence number and, when a ChangeSink is configured, publishes
// the change in sequence order: that is the seam replication builds on.
package state
