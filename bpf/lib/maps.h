/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The load balancer's maps. Most are pinned by name under the manager's pin
 * directory, so a restarted manager keeps tracked flows and the active
 * configuration until it applies its own. The
 * generational maps (services, vips, tables, backends) hold two generations;
 * lb_config.gen says which one new flows use. */
#pragma once

#include "types.h"
#include "consts.h"
#include "structs.h"

/* Single entry: active generation and encapsulation settings. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_config SEC(".maps");

/* (VIP, port, proto, generation) -> service, per address family. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES * LB_GENERATIONS);
	__type(key, struct svc_key4);
	__type(value, struct svc_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_services4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES * LB_GENERATIONS);
	__type(key, struct svc_key6);
	__type(value, struct svc_value);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_services6 SEC(".maps");

/* VIP prefilter: one bit per hash of a destination address, per generation
 * (gen * LB_VIP_FILTER_BITS / 64 + word). A clear bit means "not a VIP", so
 * traffic to other addresses passes after one array read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_VIP_FILTER_BITS / 64 * LB_GENERATIONS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_vip_filter SEC(".maps");

/* (generation, VIP address): which addresses are VIPs, for fragments. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_SERVICES * LB_GENERATIONS);
	__type(key, struct vip_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_vips SEC(".maps");

/* The inner-map template: one slot table per service and generation; each
 * slot is a backend index within the generation (Maglev table or WRR ring). */
struct lb_slots {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_TABLE_SIZE);
	__type(key, __u32);
	__type(value, __u32);
};

/* svc_value.table -> slot table. The manager creates inner maps on Apply. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAX_SERVICES * LB_GENERATIONS);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lb_slots);
} lb_tables SEC(".maps");

/* gen * LB_MAX_SERVICES + service id -> the service's epoch, 0 when the id
 * is unused in that generation. A connection-table hit whose (id, epoch)
 * matches needs no service lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_SERVICES * LB_GENERATIONS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_svc_epochs SEC(".maps");

/* gen * LB_MAX_BACKENDS + index -> backend. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS * LB_GENERATIONS);
	__type(key, __u32);
	__type(value, struct backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_backends SEC(".maps");

/* Connection tables, per address family: 5-tuple -> forwarding decision.
 * LRU with per-CPU free lists (BPF_F_NO_COMMON_LRU) so CPUs do not contend
 * on eviction; entries are shared, so a flow that moves CPU keeps its
 * backend. Each is sized to the manager's conntrack size. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CT_SIZE);
	__type(key, struct ct_key4);
	__type(value, struct ct_value);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_conntrack4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CT_SIZE);
	__type(key, struct ct_key6);
	__type(value, struct ct_value);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_conntrack6 SEC(".maps");

/* WRR ring cursor per stable service id, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u32);
} lb_wrr_cursor SEC(".maps");

/* Counters per stable service id. Not pinned: ids are assigned afresh by
 * each manager, so old counts would land on the wrong service. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct counters);
} lb_svc_stats SEC(".maps");

/* Counters per stable backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct counters);
} lb_backend_stats SEC(".maps");

/* Global counters: conntrack, verdicts, passes and drops by reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct global_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lb_stats SEC(".maps");
