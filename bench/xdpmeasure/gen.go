package xdpmeasure

// The measurement object is built from bpf/lb_measure.bpf.c by bpf2go with
// the same pinned compiler and flags as dataplane/lb/xdp/gen.go; the
// generated *_bpfel.go and *.o files are committed (`make generate`,
// `make generate-check`).

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -nostdinc -I../../bpf/include" -target bpfel -tags linux measure ../../bpf/lb_measure.bpf.c
