/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types shared with Go: bpf2go exports each with -type, so the layouts here
 * are the wire format between the manager and the programs. Addresses are
 * 16 bytes in network order; IPv4 uses the first 4 and zeroes the rest. */
#pragma once

#include "types.h"

/* Keys of lb_services4/6: one virtual service in one generation. IPv4 and
 * IPv6 have their own maps so that IPv4 keys stay short: the kernel hashes
 * the whole key on every lookup. */
struct svc_key4 {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 gen;
};

struct svc_key6 {
	__u8 addr[16];
	__be16 port;
	__u8 proto;
	__u8 gen;
};

struct svc_value {
	__u32 id;	/* stable counter id, < LB_MAX_SERVICES */
	__u32 table;	/* index into lb_tables (gen * LB_MAX_SERVICES + slot) */
	__u32 size;	/* Maglev size or WRR ring length; 0: no backend */
	__u8 sched;	/* enum lb_sched */
	__u8 fwd;	/* enum lb_fwd */
	__u16 pad;
	__u32 epoch;	/* changes whenever the id is given to a service anew */
};

/* Key of lb_vips: a VIP address in one generation, to attribute fragments. */
struct vip_key {
	__u8 gen;
	__u8 family;
	__u16 pad;
	__u8 addr[16];
};

struct backend {
	__u8 addr[16];
	__u8 mac[6];	/* next-hop MAC */
	__u8 family;
	__u8 pad;
	__u32 id;	/* stable counter id, < LB_MAX_BACKENDS */
};

/* Keys of lb_conntrack4/6: the 5-tuple as sent by the client. */
struct ct_key4 {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct ct_key6 {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* A tracked flow carries everything needed to forward it, so it survives its
 * backend's removal from the configuration. svc_id and svc_epoch let a hit
 * skip the service lookup while lb_svc_epochs says the service still exists
 * in the active generation. */
struct ct_value {
	struct backend be;
	__u32 svc_id;
	__u8 fwd;
	__u8 pad[3];
	__u32 svc_epoch;
};

struct config {
	__u32 gen;		/* active generation, 0 or 1 */
	__u32 egress_ifindex;	/* 0: XDP_TX; else bpf_redirect to it */
	__u8 egress_mac[6];	/* source MAC when redirecting */
	__u16 pad;
	__be32 encap_src4;	/* outer IPv4 source prefix ... */
	__be32 encap_mask4;	/* ... and its host bits, taken from the flow hash */
	__u8 encap_src6[16];	/* outer IPv6 source prefix ... */
	__be32 encap_mask6;	/* ... host bits within its last 32 bits */
};

struct counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

struct global_stats {
	__u64 ct_hit;
	__u64 ct_miss;
	__u64 tx;
	__u64 redirect;
	__u64 pass[LB_PASS_MAX];
	__u64 drop[LB_DROP_MAX];
};
