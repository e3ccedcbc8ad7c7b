/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The only place that includes system headers: the vendored UAPI and libbpf
 * headers under bpf/include (see bpf/include/VERSION), plus the few
 * definitions that live in headers we do not vendor. */
#pragma once

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* From linux/in.h and linux/in6.h (not vendored: they pull in libc). */
#define LB_IPPROTO_IPIP 4
#define LB_IPPROTO_TCP 6
#define LB_IPPROTO_UDP 17
#define LB_IPPROTO_IPV6 41
#define LB_IPPROTO_FRAGMENT 44
#define LB_IPPROTO_ICMP 1
#define LB_IPPROTO_ICMPV6 58

/* From linux/pkt_cls.h. */
#define LB_TC_ACT_OK 0
#define LB_TC_ACT_SHOT 2

/* IPv4 fragment bits of frag_off (host order). */
#define LB_IP_MF 0x2000
#define LB_IP_OFFSET 0x1fff

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

/* The first four bytes of TCP and UDP alike. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};
