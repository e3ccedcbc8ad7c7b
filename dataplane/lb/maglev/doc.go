// Package maglev builds weighted Maglev consistent-hashing tables, shared by
// the XDP mode (the table is copied into a BPF map) and the userspace mode.
//
// The table has a prime number of slots (DefaultSize 65537); each slot names
// a backend, and a flow picks slot flowhash % size. Backends take turns, in
// proportion to their weights, claiming their next preferred free slot along
// a permutation of the table given by a seeded hash of their ID, as in the
// Maglev paper (Eisenbud et al., NSDI 2016). Two things differ from the paper:
//
//   - Weights: every backend gets an exact quota of slots (largest remainder
//     of size*weight/total) and claims slots at a rate proportional to its
//     weight, so shares are as exact as integer slots allow.
//   - Memory is O(size + backends): permutations are computed on the fly from
//     (offset, skip) pairs; there is no backends×size permutation table.
//
// Tables are deterministic: backends are ordered by ID inside Build and the
// permutation hash is seeded with a constant, so independent LB nodes with
// the same configuration build identical tables.
package maglev
