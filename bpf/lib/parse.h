/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing: Ethernet with up to two VLAN tags, IPv4 (with options) or
 * IPv6, then the TCP or UDP ports. Every read is bounds-checked against
 * data_end; the result says how far parsing got, and the caller decides. */
#pragma once

#include "types.h"
#include "consts.h"
#include "structs.h"

enum parse_result {
	PARSE_OK = 0,		/* TCP or UDP with a complete header */
	PARSE_NOT_IP,		/* not IPv4 or IPv6 */
	PARSE_MALFORMED,	/* truncated or invalid */
	PARSE_OTHER_PROTO,	/* IP, but not TCP/UDP (key has addresses) */
	PARSE_FRAGMENT,		/* IP fragment (key has addresses) */
};

/* What the decision needs from a packet. Only the key of the packet's family
 * is filled; each is written whole, padding included, because it is a map
 * key (and the verifier wants initialised stack for it). */
struct pkt {
	struct ct_key4 k4;
	struct ct_key6 k6;
	__u32 l2_len;	/* Ethernet header and VLAN tags */
	__u32 l3_len;	/* IP header, options included */
	__u16 ip_len;	/* IPv4 total length or IPv6 payload length */
	__u8 family;	/* enum lb_family */
	__u8 tos;	/* IPv4 TOS or IPv6 traffic class, copied to the outer header */
	__u8 syn;	/* TCP SYN without ACK: a connection starts */
};

static __always_inline int parse_l4(void *l4, void *data_end, __u8 proto,
				    __be16 *sport, __be16 *dport, __u8 *syn)
{
	struct l4_ports *ports = l4;

	*syn = 0;
	if (proto == LB_IPPROTO_TCP) {
		if (l4 + 20 > data_end)
			return PARSE_MALFORMED;
		/* Byte 13 holds the flags: SYN 0x02, ACK 0x10. */
		*syn = (((__u8 *)l4)[13] & 0x12) == 0x02;
	} else if (proto == LB_IPPROTO_UDP) {
		if (l4 + 8 > data_end)
			return PARSE_MALFORMED;
	} else {
		return PARSE_OTHER_PROTO;
	}
	*sport = ports->source;
	*dport = ports->dest;
	return PARSE_OK;
}

static __always_inline int parse_ipv4(void *l3, void *data_end, struct pkt *p)
{
	struct iphdr *ip = l3;
	__u32 hl;

	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	hl = ip->ihl * 4;
	if (l3 + hl > data_end)
		return PARSE_MALFORMED;
	p->ip_len = bpf_ntohs(ip->tot_len);
	if (p->ip_len < hl || l3 + p->ip_len > data_end)
		return PARSE_MALFORMED;
	p->l3_len = hl;
	p->tos = ip->tos;
	p->family = LB_FAMILY_V4;
	p->k4.src = ip->saddr;
	p->k4.dst = ip->daddr;
	p->k4.sport = 0;
	p->k4.dport = 0;
	p->k4.proto = ip->protocol;
	p->k4.pad[0] = p->k4.pad[1] = p->k4.pad[2] = 0;
	if (ip->frag_off & bpf_htons(LB_IP_MF | LB_IP_OFFSET))
		return PARSE_FRAGMENT;
	return parse_l4(l3 + hl, data_end, ip->protocol, &p->k4.sport, &p->k4.dport, &p->syn);
}

static __always_inline int parse_ipv6(void *l3, void *data_end, struct pkt *p)
{
	struct ipv6hdr *ip6 = l3;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	p->ip_len = bpf_ntohs(ip6->payload_len);
	if (l3 + sizeof(*ip6) + p->ip_len > data_end)
		return PARSE_MALFORMED;
	p->l3_len = sizeof(*ip6);
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	p->family = LB_FAMILY_V6;
	__builtin_memcpy(p->k6.src, &ip6->saddr, 16);
	__builtin_memcpy(p->k6.dst, &ip6->daddr, 16);
	p->k6.sport = 0;
	p->k6.dport = 0;
	p->k6.proto = ip6->nexthdr;
	p->k6.pad[0] = p->k6.pad[1] = p->k6.pad[2] = 0;
	if (ip6->nexthdr == LB_IPPROTO_FRAGMENT)
		return PARSE_FRAGMENT;
	return parse_l4(l3 + sizeof(*ip6), data_end, ip6->nexthdr, &p->k6.sport, &p->k6.dport, &p->syn);
}

/* parse_packet fills p from the frame. */
static __always_inline int parse_packet(void *data, void *data_end, struct pkt *p)
{
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < LB_MAX_VLANS; i++) {
		struct vlan_hdr *vh = data + off;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		proto = vh->proto;
		off += sizeof(*vh);
	}
	p->l2_len = off;
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(data + off, data_end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(data + off, data_end, p);
	return PARSE_NOT_IP;
}
