/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Direct-server-return encodings: L2 (rewrite the destination MAC) and IPIP
 * (prepend an outer IPv4 or IPv6 header whose source address carries flow
 * hash bits, so a backend NIC's RSS spreads flows over its queues). The inner
 * packet is never modified: TTL and checksums stay as the client sent them. */
#pragma once

#include "types.h"
#include "consts.h"
#include "structs.h"
#include "csum.h"
#include "parse.h"

static __always_inline void set_macs(struct ethhdr *eth, const struct backend *be,
				     const struct config *cfg)
{
	/* The frame was addressed to us: its destination is our MAC, unless
	 * it leaves through another interface. */
	if (cfg->egress_ifindex)
		__builtin_memcpy(eth->h_source, cfg->egress_mac, ETH_ALEN);
	else
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
}

static __always_inline int fwd_l2(struct xdp_md *ctx, const struct backend *be,
				  const struct config *cfg)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	set_macs(eth, be, cfg);
	return 0;
}

/* move_l2 copies the Ethernet header and VLAN tags from off bytes into the
 * frame to its start; front to back is safe because the source is later. */
static __always_inline int move_l2(void *data, void *data_end, __u32 off, __u32 l2_len)
{
	if (data + off + sizeof(struct ethhdr) > data_end)
		return -1;
	__builtin_memcpy(data, data + off, sizeof(struct ethhdr));
#pragma unroll
	for (int i = 0; i < LB_MAX_VLANS; i++) {
		__u32 at = sizeof(struct ethhdr) + i * sizeof(struct vlan_hdr);

		if (l2_len <= at)
			break;
		if (data + off + at + sizeof(struct vlan_hdr) > data_end)
			return -1;
		__builtin_memcpy(data + at, data + off + at, sizeof(struct vlan_hdr));
	}
	return 0;
}

static __always_inline __be32 hashed_bits(__be32 prefix, __be32 mask, __u32 hash)
{
	return (prefix & ~mask) | (bpf_htonl(hash) & mask);
}

/* fwd_ipip returns 0, or an enum lb_drop_reason + 1. */
static __always_inline int fwd_ipip(struct xdp_md *ctx, const struct pkt *p,
				    const struct backend *be,
				    const struct config *cfg, __u32 hash)
{
	int hdr = p->family == LB_FAMILY_V4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	__u32 l2_len = p->l2_len;
	void *data, *data_end, *outer;

	if (be->family != p->family)
		return LB_DROP_FAMILY + 1;
	if (bpf_xdp_adjust_head(ctx, -hdr))
		return LB_DROP_ENCAP + 1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2_len > sizeof(struct ethhdr) + LB_MAX_VLANS * sizeof(struct vlan_hdr))
		return LB_DROP_INTERNAL + 1;
	if (move_l2(data, data_end, hdr, l2_len))
		return LB_DROP_INTERNAL + 1;
	if (data + sizeof(struct ethhdr) > data_end)
		return LB_DROP_INTERNAL + 1;
	set_macs(data, be, cfg);
	outer = data + l2_len;

	if (p->family == LB_FAMILY_V4) {
		struct iphdr *ip = outer;

		if ((void *)(ip + 1) > data_end)
			return LB_DROP_INTERNAL + 1;
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = p->tos;
		ip->tot_len = bpf_htons(p->ip_len + sizeof(*ip));
		ip->id = 0;
		ip->frag_off = 0;
		ip->ttl = LB_ENCAP_TTL;
		ip->protocol = LB_IPPROTO_IPIP;
		ip->check = 0;
		ip->saddr = hashed_bits(cfg->encap_src4, cfg->encap_mask4, hash);
		__builtin_memcpy(&ip->daddr, be->addr, 4);
		ip->check = ipv4_csum(ip);
		return 0;
	}

	struct ipv6hdr *ip6 = outer;
	__be32 last;

	if ((void *)(ip6 + 1) > data_end)
		return LB_DROP_INTERNAL + 1;
	ip6->version = 6;
	ip6->priority = p->tos >> 4;
	/* The flow label also carries the hash, for ECMP on the way. */
	ip6->flow_lbl[0] = ((p->tos & 0xf) << 4) | ((hash >> 16) & 0xf);
	ip6->flow_lbl[1] = hash >> 8;
	ip6->flow_lbl[2] = hash;
	ip6->payload_len = bpf_htons(p->ip_len + sizeof(*ip6));
	ip6->nexthdr = LB_IPPROTO_IPV6;
	ip6->hop_limit = LB_ENCAP_TTL;
	__builtin_memcpy(&ip6->saddr, cfg->encap_src6, 12);
	__builtin_memcpy(&last, cfg->encap_src6 + 12, 4);
	last = hashed_bits(last, cfg->encap_mask6, hash);
	__builtin_memcpy((__u8 *)&ip6->saddr + 12, &last, 4);
	__builtin_memcpy(&ip6->daddr, be->addr, 16);
	return 0;
}
