// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc ingress IPIP decapsulation for backends: strips the outer IPv4 (protocol
 * 4) or IPv6 (next header 41) header that the LB's IPIP forwarding added, so
 * the inner packet to the VIP reaches the local stack as if it had arrived
 * directly. For hosts without the ipip/ip6_tunnel modules. Only
 * same-family encapsulation is handled, as the LB produces; anything else
 * passes untouched. The logic is in lib/decap.h. */
#include "lib/decap.h"

char __license[] SEC("license") = "Dual BSD/GPL";

SEC("tc")
int tc_decap(struct __sk_buff *skb)
{
	return decap_process(skb);
}
