// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The XDP load balancer: the entry point attached to the LB's NIC. The
 * decision lives in lib/lb.h; this file holds only SEC() functions. */
#include "lib/lb.h"

char __license[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	return lb_process(ctx);
}

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

/* xdp_bench_ct_insert is for measurement only: the kernel's floor for the
 * new-flow path. It advances the source port as xdp_lb_bench_newflow does
 * and inserts the flow into lb_conntrack4, nothing else. */
SEC("xdp")
int xdp_bench_ct_insert(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct l4_ports *ports = (void *)(ip + 1);
	struct ct_value v;
	struct ct_key4 k;

	if ((void *)(ports + 1) > data_end)
		return XDP_ABORTED;
	ports->source = bpf_htons(bpf_ntohs(ports->source) + 1);
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memset(&v, 0, sizeof(v));
	k.src = ip->saddr;
	k.dst = ip->daddr;
	k.sport = ports->source;
	k.dport = ports->dest;
	k.proto = ip->protocol;
	bpf_map_update_elem(&lb_conntrack4, &k, &v, BPF_ANY);
	return XDP_DROP;
}
