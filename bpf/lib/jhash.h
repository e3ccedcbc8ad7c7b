/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The flow hash: Linux's jhash2 over the 5-tuple, bit for bit the same as
 * dataplane/lb/flowhash (Go), so both LB modes pick the same backend. */
#pragma once

#include "types.h"
#include "structs.h"

#define FLOWHASH_SEED 0x53545241 /* "STRA", flowhash.Seed */
#define JHASH_INITVAL 0xdeadbeef

static __always_inline __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define __jhash_mix(a, b, c)                   \
	{                                      \
		a -= c; a ^= rol32(c, 4);  c += b; \
		b -= a; b ^= rol32(a, 6);  a += c; \
		c -= b; c ^= rol32(b, 8);  b += a; \
		a -= c; a ^= rol32(c, 16); c += b; \
		b -= a; b ^= rol32(a, 19); a += c; \
		c -= b; c ^= rol32(b, 4);  b += a; \
	}

#define __jhash_final(a, b, c)                \
	{                                     \
		c ^= b; c -= rol32(b, 14);    \
		a ^= c; a -= rol32(c, 11);    \
		b ^= a; b -= rol32(a, 25);    \
		c ^= b; c -= rol32(b, 16);    \
		a ^= c; a -= rol32(c, 4);     \
		b ^= a; b -= rol32(a, 14);    \
		c ^= b; c -= rol32(b, 24);    \
	}

static __always_inline __u32 be32_at(const __u8 *p)
{
	__u32 w;

	__builtin_memcpy(&w, p, 4);
	return bpf_ntohl(w);
}

static __always_inline __u32 ports_word(__be16 sport, __be16 dport)
{
	return ((__u32)bpf_ntohs(sport) << 16) | bpf_ntohs(dport);
}

/* flow_hash4 and flow_hash6 are flowhash.Hash4 and flowhash.Hash6. */
static __always_inline __u32 flow_hash4(const struct ct_key4 *k)
{
	__u32 a, b, c;

	a = b = c = JHASH_INITVAL + (3 << 2) + (FLOWHASH_SEED ^ k->proto);
	c += ports_word(k->sport, k->dport);
	b += bpf_ntohl(k->dst);
	a += bpf_ntohl(k->src);
	__jhash_final(a, b, c);
	return c;
}

static __always_inline __u32 flow_hash6(const struct ct_key6 *k)
{
	__u32 a, b, c;

	a = b = c = JHASH_INITVAL + (9 << 2) + (FLOWHASH_SEED ^ k->proto);
	a += be32_at(k->src);
	b += be32_at(k->src + 4);
	c += be32_at(k->src + 8);
	__jhash_mix(a, b, c);
	a += be32_at(k->src + 12);
	b += be32_at(k->dst);
	c += be32_at(k->dst + 4);
	__jhash_mix(a, b, c);
	a += be32_at(k->dst + 8);
	b += be32_at(k->dst + 12);
	c += ports_word(k->sport, k->dport);
	__jhash_final(a, b, c);
	return c;
}
