// Package bpftest holds the privilege and kernel checks of BPF tests in one
// place: a test that needs root skips with a clear message without it, and a
// test that has root but finds the kernel lacking fails, because CI runs as
// root on a kernel that must support what Strata ships.
package bpftest
