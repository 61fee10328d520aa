/* weir_tc.h - what weir-exporter's tc programs (bpf/weir_tc.bpf.c) and its
 * user space (exporter/live*.c) share: maps, records and settings.
 *
 * The programs fold every packet into `flows` (key: struct wflow_key of the
 * packet's direction, value: struct wflow_val) and never change or drop
 * traffic (TC_ACT_UNSPEC). User space reads `flows` in batches, merges
 * each entry into its meter (meter_merge) and exports. Where the kernel
 * cannot count in `flows` (the map is full), the packet goes to `spill` as
 * a wtc_spill record that user space folds back in; what the ring refuses
 * is counted in `stats` (WTC_ST_SPILL_LOST) and exported as lost. TCP FIN
 * and RST send one wtc_event per flow end to `events`, so user space ends
 * the flow within a second.
 *
 * Times are bpf_ktime_get_ns() (CLOCK_MONOTONIC); user space turns them
 * into wall-clock time.
 */
#ifndef WEIR_WEIR_TC_H
#define WEIR_WEIR_TC_H

#include "wflow.h"

/* Map names as the skeleton names them (struct weir_tc_bpf: maps.flows, ...). */
#define WTC_FLOWS_MAX	65536	/* default max_entries of `flows`; user space
				 * sets it from --max-flows before load */

/* One packet the full map could not take (ring buffer `spill`). */
struct wtc_spill {
	struct wflow_key key;
	struct wflow_val val;		/* this packet alone (packets >= 1 for GSO) */
};

/* A flow's end seen by the kernel (ring buffer `events`): the first FIN or
 * RST of a direction; user space ends the flow after its linger. */
struct wtc_event {
	struct wflow_key key;
	__u64 t_ns;			/* bpf_ktime_get_ns() */
	__u16 tcp_flags;		/* the packet's flags */
	__u8 pad[6];
};

/* Counters (per-CPU array `stats`, one slot each; user space sums). */
enum wtc_stat {
	WTC_ST_PACKETS = 0,		/* seen by the programs */
	WTC_ST_BYTES,			/* their IP bytes */
	WTC_ST_SAMPLED_OUT,		/* not selected by 1-in-N */
	WTC_ST_NOT_IP,
	WTC_ST_MALFORMED,		/* refused by the parser (any reason) */
	WTC_ST_OWN_EXPORT,		/* the exporter's own export traffic, not metered */
	WTC_ST_SPILLED,			/* packets sent to `spill` (map full) */
	WTC_ST_SPILL_LOST,		/* packets `spill` had no room for */
	WTC_ST_EVENTS_LOST,		/* FIN/RST events `events` had no room for */
	WTC_ST_COUNT
};

/* Settings, set in the skeleton's read-only data before load. */
struct wtc_cfg {
	__u32 sampling;			/* 1-in-N, systematic per CPU; 0, 1: every packet
					 * (wflow_key.ifindex is skb->ifindex; .dir is the
					 * program's: weir_ingress, weir_egress) */
	/* The exporter's own export: packets of this 5-tuple (either way) are
	 * counted in WTC_ST_OWN_EXPORT and not metered. ipver 0: none. */
	__u8 own_src[16], own_dst[16];
	__u16 own_sport, own_dport;
	__u8 own_proto, own_ipver;
	__u8 pad[2];
};

#endif
