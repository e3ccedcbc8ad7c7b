/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Limits and enumerations shared by the BPF programs and the Go manager
 * (dataplane/lb/xdp mirrors them; a test checks they agree). Every limit can
 * be overridden at build time, but the committed objects use these values. */
#pragma once

/* Virtual services per generation; also the number of stable service ids. */
#ifndef LB_MAX_SERVICES
#define LB_MAX_SERVICES 256
#endif

/* Backends per generation; also the number of stable backend ids. */
#ifndef LB_MAX_BACKENDS
#define LB_MAX_BACKENDS 4096
#endif

/* Default slot-table size (prime); the manager may set another prime at load
 * time by resizing the inner-map template. */
#ifndef LB_TABLE_SIZE
#define LB_TABLE_SIZE 65537
#endif

/* Default connection-table entries; the manager sizes it at load time. */
#ifndef LB_CT_SIZE
#define LB_CT_SIZE 262144
#endif

/* Bits per generation in the VIP prefilter (a power of two). */
#define LB_VIP_FILTER_BITS 65536

/* Generations: the manager writes the inactive one, then flips lb_config.gen. */
#define LB_GENERATIONS 2

/* VLAN tags parsed (802.1Q and 802.1ad). */
#define LB_MAX_VLANS 2

/* Outer TTL / hop limit of IPIP-encapsulated packets. */
#define LB_ENCAP_TTL 64

enum lb_family {
	LB_FAMILY_V4 = 4,
	LB_FAMILY_V6 = 6,
};

enum lb_sched {
	LB_SCHED_MAGLEV = 0,
	LB_SCHED_WRR = 1,
};

enum lb_fwd {
	LB_FWD_L2 = 0,
	LB_FWD_IPIP = 1,
};

/* Why a packet went to the kernel untouched. */
enum lb_pass_reason {
	LB_PASS_NOT_IP = 0,	/* not IPv4/IPv6 (ARP, LLDP, ...) */
	LB_PASS_MALFORMED,	/* truncated or invalid L2/L3/L4 header */
	LB_PASS_NO_SERVICE,	/* TCP/UDP to no (VIP, port, proto) */
	LB_PASS_OTHER_PROTO,	/* ICMP, IPv6 extension headers, other L4 */
	LB_PASS_MAX,
};

/* Why a packet was dropped. */
enum lb_drop_reason {
	LB_DROP_FRAGMENT = 0,	/* IP fragment to a VIP: no ports to hash */
	LB_DROP_NO_BACKEND,	/* new flow, every backend weight 0 */
	LB_DROP_ENCAP,		/* no headroom for the IPIP header */
	LB_DROP_FAMILY,		/* IPIP to a backend of the other family */
	LB_DROP_INTERNAL,	/* table or backend missing: a manager bug */
	LB_DROP_MAX,
};

/* Decap program outcomes. */
enum decap_stat {
	DECAP_V4 = 0,		/* IPv4-in-IPv4 stripped */
	DECAP_V6,		/* IPv6-in-IPv6 stripped */
	DECAP_PASS,		/* not IPIP: untouched */
	DECAP_MALFORMED,	/* IPIP with a broken inner header: dropped */
	DECAP_ERROR,		/* bpf_skb_adjust_room failed: dropped */
	DECAP_MAX,
};
