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
