/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The balancing decision, one packet at a time: parse, find the service,
 * find or create the flow, count, forward. dataplane/lb/xdp/model_test.go is
 * the Go reference model of this function; keep them in step. */
#pragma once

#include "types.h"
#include "consts.h"
#include "structs.h"
#include "maps.h"
#include "parse.h"
#include "jhash.h"
#include "encap.h"

static __always_inline void count(struct counters *c, __u64 bytes, int new_flow)
{
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	c->new_flows += new_flow;
}

/* pick_backend chooses a backend for a new flow in the active generation. */
static __always_inline struct backend *pick_backend(const struct svc_value *svc,
						    const struct config *cfg,
						    __u32 hash)
{
	__u32 slot, bidx, *idx;
	void *table;

	if (svc->sched == LB_SCHED_WRR) {
		__u32 id = svc->id;
		__u32 *cursor = bpf_map_lookup_elem(&lb_wrr_cursor, &id);

		if (!cursor)
			return NULL;
		slot = *cursor % svc->size;
		*cursor += 1;
	} else {
		slot = hash % svc->size;
	}
	table = bpf_map_lookup_elem(&lb_tables, &svc->table);
	if (!table)
		return NULL;
	idx = bpf_map_lookup_elem(table, &slot);
	if (!idx || *idx >= LB_MAX_BACKENDS)
		return NULL;
	bidx = (cfg->gen & 1) * LB_MAX_BACKENDS + *idx;
	return bpf_map_lookup_elem(&lb_backends, &bidx);
}

/* lookup_service finds the packet's service in the active generation. */
static __always_inline struct svc_value *lookup_service(const struct pkt *p, __u8 gen)
{
	if (p->family == LB_FAMILY_V4) {
		struct svc_key4 k = {
			.addr = p->k4.dst, .port = p->k4.dport, .proto = p->k4.proto, .gen = gen,
		};

		return bpf_map_lookup_elem(&lb_services4, &k);
	}
	struct svc_key6 k;

	__builtin_memcpy(k.addr, p->k6.dst, 16);
	k.port = p->k6.dport;
	k.proto = p->k6.proto;
	k.gen = gen;
	return bpf_map_lookup_elem(&lb_services6, &k);
}

/* is_vip says whether a fragment's destination is a VIP of the generation. */
static __always_inline int is_vip(const struct pkt *p, __u8 gen)
{
	struct vip_key vk;

	__builtin_memset(&vk, 0, sizeof(vk));
	vk.gen = gen;
	vk.family = p->family;
	if (p->family == LB_FAMILY_V4)
		__builtin_memcpy(vk.addr, &p->k4.dst, 4);
	else
		__builtin_memcpy(vk.addr, p->k6.dst, 16);
	return bpf_map_lookup_elem(&lb_vips, &vk) != NULL;
}

/* The connection-table calls of the two families must stay two call
 * sites. Left alone, clang merges them into one call whose map argument
 * depends on the branch taken; the verifier then cannot tell which map the
 * call uses, so instead of inlining the lookup (and calling the map's
 * update directly) it keeps the generic helper, an indirect call per
 * packet. The empty asm statements differ, so clang cannot merge the
 * calls before them. */
static __always_inline struct ct_value *lookup_flow(const struct pkt *p)
{
	struct ct_value *ct;

	if (p->family == LB_FAMILY_V4) {
		ct = bpf_map_lookup_elem(&lb_conntrack4, &p->k4);
		asm volatile("/* ct4 lookup */" : "+r"(ct));
		return ct;
	}
	ct = bpf_map_lookup_elem(&lb_conntrack6, &p->k6);
	asm volatile("/* ct6 lookup */" : "+r"(ct));
	return ct;
}

static __always_inline void track_flow(const struct pkt *p, const struct ct_value *v)
{
	long err;

	if (p->family == LB_FAMILY_V4) {
		err = bpf_map_update_elem(&lb_conntrack4, &p->k4, v, BPF_ANY);
		asm volatile("/* ct4 update */" : "+r"(err));
	} else {
		err = bpf_map_update_elem(&lb_conntrack6, &p->k6, v, BPF_ANY);
		asm volatile("/* ct6 update */" : "+r"(err));
	}
}

/* vip_bit is the prefilter bit of a destination address; the manager
 * computes the same (vipFilterBit in Go). */
static __always_inline __u32 vip_bit(const struct pkt *p)
{
	__u32 w;

	if (p->family == LB_FAMILY_V4)
		w = bpf_ntohl(p->k4.dst);
	else
		w = be32_at(p->k6.dst) ^ be32_at(p->k6.dst + 4) ^
		    be32_at(p->k6.dst + 8) ^ be32_at(p->k6.dst + 12);
	return (w * 0x9e3779b1u) >> 16;
}

/* maybe_vip is false when the destination is certainly no VIP. */
static __always_inline int maybe_vip(const struct pkt *p, __u8 gen)
{
	__u32 bit = vip_bit(p) & (LB_VIP_FILTER_BITS - 1);
	__u32 word = (gen & 1) * (LB_VIP_FILTER_BITS / 64) + bit / 64;
	__u64 *w = bpf_map_lookup_elem(&lb_vip_filter, &word);

	return w && (*w & (1ULL << (bit % 64)));
}

/* svc_current says whether a tracked flow's service still exists, as the
 * same service (same id and epoch), in generation gen. */
static __always_inline int svc_current(const struct ct_value *ct, __u8 gen)
{
	__u32 idx = (gen & 1) * LB_MAX_SERVICES + (ct->svc_id & (LB_MAX_SERVICES - 1));
	__u32 *epoch = bpf_map_lookup_elem(&lb_svc_epochs, &idx);

	return epoch && *epoch && *epoch == ct->svc_epoch;
}

static __always_inline __u32 pkt_hash(const struct pkt *p)
{
	if (p->family == LB_FAMILY_V4)
		return flow_hash4(&p->k4);
	return flow_hash6(&p->k6);
}

static __always_inline int lb_process(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct svc_value *svc;
	struct config *cfg;
	struct global_stats *st;
	struct ct_value *ct;
	struct backend *be;
	struct pkt p;
	__u32 zero = 0, hash = 0, id, svc_id;
	int new_flow = 0, ret;
	__u8 fwd;

	st = bpf_map_lookup_elem(&lb_stats, &zero);
	cfg = bpf_map_lookup_elem(&lb_config, &zero);
	if (!st || !cfg)
		return XDP_PASS;
	ret = parse_packet(data, data_end, &p);
	switch (ret) {
	case PARSE_OK:
		break;
	case PARSE_NOT_IP:
		st->pass[LB_PASS_NOT_IP]++;
		return XDP_PASS;
	case PARSE_OTHER_PROTO:
		st->pass[LB_PASS_OTHER_PROTO]++;
		return XDP_PASS;
	case PARSE_FRAGMENT:
		if (is_vip(&p, cfg->gen)) {
			st->drop[LB_DROP_FRAGMENT]++;
			return XDP_DROP;
		}
		st->pass[LB_PASS_NO_SERVICE]++;
		return XDP_PASS;
	default:
		st->pass[LB_PASS_MALFORMED]++;
		return XDP_PASS;
	}

	if (!maybe_vip(&p, cfg->gen)) {
		st->pass[LB_PASS_NO_SERVICE]++;
		return XDP_PASS;
	}

	/* Flows first: most packets to a VIP belong to a tracked flow, whose
	 * service is checked by an array lookup instead of a hash lookup. A
	 * SYN starts a connection: it is scheduled afresh and replaces any flow
	 * left on its 5-tuple (as Katran does), which saves the lookup. */
	ct = p.syn ? NULL : lookup_flow(&p);
	if (ct && svc_current(ct, cfg->gen)) {
		svc_id = ct->svc_id;
		st->ct_hit++;
		be = &ct->be;
		fwd = ct->fwd;
		goto forward;
	}
	svc = lookup_service(&p, cfg->gen);
	if (!svc) {
		st->pass[LB_PASS_NO_SERVICE]++;
		return XDP_PASS;
	}
	svc_id = svc->id;
	if (ct) {
		/* The VIP was reconfigured since the flow began: keep the flow's
		 * backend, and re-stamp it so its next packet takes the fast path. */
		ct->svc_id = svc->id;
		ct->svc_epoch = svc->epoch;
		st->ct_hit++;
		be = &ct->be;
		fwd = ct->fwd;
	} else {
		struct ct_value nv;

		st->ct_miss++;
		if (svc->size == 0) {
			st->drop[LB_DROP_NO_BACKEND]++;
			return XDP_DROP;
		}
		hash = pkt_hash(&p);
		be = pick_backend(svc, cfg, hash);
		if (!be) {
			st->drop[LB_DROP_INTERNAL]++;
			return XDP_DROP;
		}
		__builtin_memset(&nv, 0, sizeof(nv));
		nv.be = *be;
		nv.svc_id = svc->id;
		nv.svc_epoch = svc->epoch;
		nv.fwd = svc->fwd;
		track_flow(&p, &nv);
		fwd = svc->fwd;
		new_flow = 1;
	}

forward:
	if (fwd == LB_FWD_IPIP) {
		if (!new_flow)
			hash = pkt_hash(&p);
		ret = fwd_ipip(ctx, &p, be, cfg, hash);
		if (ret) {
			if (ret - 1 < LB_DROP_MAX)
				st->drop[ret - 1]++;
			return XDP_DROP;
		}
	} else if (fwd_l2(ctx, be, cfg)) {
		st->drop[LB_DROP_INTERNAL]++;
		return XDP_DROP;
	}
	count(bpf_map_lookup_elem(&lb_svc_stats, &svc_id), bytes, new_flow);
	id = be->id;
	count(bpf_map_lookup_elem(&lb_backend_stats, &id), bytes, new_flow);
	if (cfg->egress_ifindex) {
		st->redirect++;
		return bpf_redirect(cfg->egress_ifindex, 0);
	}
	st->tx++;
	return XDP_TX;
}
