package xdp

// The BPF objects are built from bpf/*.bpf.c by bpf2go, with the compiler and
// flags pinned here (Debian clang 14.0.6; headers vendored under
// bpf/include, see bpf/include/VERSION). The generated *_bpfel.go and *.o
// files are committed, so building Strata needs no clang; `make generate`
// rebuilds them and `make generate-check` fails CI when they are stale.

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -nostdinc -I../../../bpf/include" -target bpfel -tags linux -type svc_key4 -type svc_key6 -type svc_value -type vip_key -type backend -type ct_key4 -type ct_key6 -type ct_value -type config -type counters -type global_stats lb ../../../bpf/lb.bpf.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -nostdinc -I../../../bpf/include" -target bpfel -tags linux decap ../../../bpf/decap.bpf.c
