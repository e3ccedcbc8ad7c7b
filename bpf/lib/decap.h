/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The decap decision. Untagged Ethernet only: on real NICs the VLAN tag is
 * in skb metadata by the time tc ingress runs. */
#pragma once

#include "types.h"
#include "consts.h"

/* Outcome counters, enum decap_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DECAP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} decap_stats SEC(".maps");

static __always_inline int decap_count(__u32 what, int verdict)
{
	__u64 *c = bpf_map_lookup_elem(&decap_stats, &what);

	if (c)
		*c += 1;
	return verdict;
}

static __always_inline int decap_process(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 outer_len, what;

	if ((void *)(eth + 1) > data_end)
		return decap_count(DECAP_PASS, LB_TC_ACT_OK);
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct iphdr *inner;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
		    ip->protocol != LB_IPPROTO_IPIP)
			return decap_count(DECAP_PASS, LB_TC_ACT_OK);
		if (ip->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET))
			return decap_count(DECAP_PASS, LB_TC_ACT_OK);
		outer_len = ip->ihl * 4;
		inner = (void *)ip + outer_len;
		if ((void *)(inner + 1) > data_end || inner->version != 4)
			return decap_count(DECAP_MALFORMED, LB_TC_ACT_SHOT);
		what = DECAP_V4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct ipv6hdr *inner;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6 ||
		    ip6->nexthdr != LB_IPPROTO_IPV6)
			return decap_count(DECAP_PASS, LB_TC_ACT_OK);
		outer_len = sizeof(*ip6);
		inner = (void *)(ip6 + 1);
		if ((void *)(inner + 1) > data_end || inner->version != 6)
			return decap_count(DECAP_MALFORMED, LB_TC_ACT_SHOT);
		what = DECAP_V6;
	} else {
		return decap_count(DECAP_PASS, LB_TC_ACT_OK);
	}
	/* Same family in and out: the Ethernet type stays right. */
	if (bpf_skb_adjust_room(skb, -(__s32)outer_len, BPF_ADJ_ROOM_MAC, 0))
		return decap_count(DECAP_ERROR, LB_TC_ACT_SHOT);
	return decap_count(what, LB_TC_ACT_OK);
}
