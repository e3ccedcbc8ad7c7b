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
