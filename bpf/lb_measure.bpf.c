// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Measurement programs for BPF_PROG_TEST_RUN, never attached: the new-flow
 * path and the bare connection-table operations under it. They are built
 * into their own object (bench/xdpmeasure) that shares the running
 * balancer's maps through MapReplacements, so the object the load balancer
 * loads (lb.bpf.c) holds only what it runs. This file holds only SEC()
 * functions; the decision is lib/lb.h's, as for xdp_lb. */
#include "lib/lb.h"

char __license[] SEC("license") = "Dual BSD/GPL";

/* xdp_lb_bench_newflow is for measurement only and is never attached: it
 * adds one to the source port of an untagged, option-less IPv4 TCP/UDP
 * packet before balancing it, so BPF_PROG_TEST_RUN with repeat (which reruns
 * the same buffer) sees a new flow on every run. */
SEC("xdp")
int xdp_lb_bench_newflow(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct l4_ports *ports = data + sizeof(struct ethhdr) + sizeof(struct iphdr);

	if ((void *)(ports + 1) > data_end)
		return XDP_ABORTED;
	ports->source = bpf_htons(bpf_ntohs(ports->source) + 1);
	return lb_process(ctx);
}

/* bench_ct_key fills the IPv4 flow key of an untagged, option-less IPv4
 * TCP/UDP packet, first adding one to its source port if advance is set. */
static __always_inline int bench_ct_key(struct xdp_md *ctx, struct ct_key4 *k, int advance)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct l4_ports *ports = (void *)(ip + 1);

	if ((void *)(ports + 1) > data_end)
		return -1;
	if (advance)
		ports->source = bpf_htons(bpf_ntohs(ports->source) + 1);
	__builtin_memset(k, 0, sizeof(*k));
	k->src = ip->saddr;
	k->dst = ip->daddr;
	k->sport = ports->source;
	k->dport = ports->dest;
	k->proto = ip->protocol;
	return 0;
}

/* xdp_bench_ct_insert is for measurement only: the kernel's floor for the
 * new-flow path. It advances the source port as xdp_lb_bench_newflow does
 * and inserts the flow into lb_conntrack4, nothing else. */
SEC("xdp")
int xdp_bench_ct_insert(struct xdp_md *ctx)
{
	struct ct_value v;
	struct ct_key4 k;

	if (bench_ct_key(ctx, &k, 1))
		return XDP_ABORTED;
	__builtin_memset(&v, 0, sizeof(v));
	bpf_map_update_elem(&lb_conntrack4, &k, &v, BPF_ANY);
	return XDP_DROP;
}

/* xdp_bench_ct_update is for measurement only: it rewrites the packet's own
 * flow in lb_conntrack4 on every run (the key and its bucket stay in
 * cache), the floor of any connection-table write: an LRU update still
 * takes a fresh element from the free list and frees the old one. */
SEC("xdp")
int xdp_bench_ct_update(struct xdp_md *ctx)
{
	struct ct_value v;
	struct ct_key4 k;

	if (bench_ct_key(ctx, &k, 0))
		return XDP_ABORTED;
	__builtin_memset(&v, 0, sizeof(v));
	bpf_map_update_elem(&lb_conntrack4, &k, &v, BPF_ANY);
	return XDP_DROP;
}

/* xdp_bench_ct_miss is for measurement only: it advances the source port
 * and looks the flow up in lb_conntrack4, a miss on a bucket not touched
 * before: the lookup a new flow that is not a SYN pays before its insert. */
SEC("xdp")
int xdp_bench_ct_miss(struct xdp_md *ctx)
{
	struct ct_key4 k;

	if (bench_ct_key(ctx, &k, 1))
		return XDP_ABORTED;
	return bpf_map_lookup_elem(&lb_conntrack4, &k) ? XDP_PASS : XDP_DROP;
}

/* xdp_bench_ct_hit is for measurement only: it looks the packet's own flow
 * up in lb_conntrack4 (a cached hit) and drops, the floor of flow-hit. */
SEC("xdp")
int xdp_bench_ct_hit(struct xdp_md *ctx)
{
	struct ct_key4 k;

	if (bench_ct_key(ctx, &k, 0))
		return XDP_ABORTED;
	return bpf_map_lookup_elem(&lb_conntrack4, &k) ? XDP_DROP : XDP_PASS;
}
