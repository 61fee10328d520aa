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
 * Times are CLOCK_MONOTONIC; user space turns them into wall-clock time.
 * first_ns and an event's t_ns are exact (bpf_ktime_get_ns()); last_ns is
 * the last packet's tick time (bpf_ktime_get_coarse_ns(): at most one tick,
 * 1/CONFIG_HZ, early; never below first_ns), because the exact clock costs
 * as much as the rest of a packet's path.
 *
 * The programs read an Ethernet header first: attach them to Ethernet
 * interfaces (ARPHRD_ETHER) and the loopback only, not to L3 interfaces
 * (tun, WireGuard, ipip), whose packets start at the IP header.
 *
 * User space includes this header before the skeleton (build/bpf/
 * weir_tc.skel.h, struct weir_tc_bpf), which names struct wtc_cfg in its
 * rodata (skel->rodata->cfg) without defining it.
 *
 * `flows` is a BPF_MAP_TYPE_PERCPU_HASH: a lookup returns one wflow_val
 * per possible CPU (libbpf_num_possible_cpus(), each 72 bytes), to be
 * merged by wflow.h's rules (meter_merge each one with packets != 0).
 *
 * Draining `flows` without losing an increment. A program that found an
 * entry adds to it a few instructions later; an entry deleted in between
 * (lookup-and-delete, a delete after a read) takes that packet with it.
 * So the programs write the generation `wtc_gen` (a global of the
 * skeleton's .bss: skel->bss->wtc_gen) into every key's pad[0], and user
 * space, to drain:
 *   1. flips skel->bss->wtc_gen (0 <-> 1): new packets go to new keys;
 *   2. waits for the programs that read the old generation to finish: an
 *      update of any BPF_MAP_TYPE_ARRAY_OF_MAPS element returns only after
 *      an RCU grace period (the kernel's maybe_wait_bpf_programs), which
 *      every tc program runs inside;
 *   3. reads and deletes the keys of the old generation (lookup batch,
 *      then delete batch of those keys): nothing writes them any more.
 * The map must hold the active flows of both generations for the moment
 * between 1 and 3. A reader that never flips gets pad[0] 0 and may use
 * lookup-and-delete batches, losing the rare packet that races a delete.
 * meter_merge ignores pad (it zeroes it).
 */
#ifndef WEIR_WEIR_TC_H
#define WEIR_WEIR_TC_H

#include "wflow.h"

/* Map names as the skeleton names them (struct weir_tc_bpf: maps.flows,
 * maps.spill, maps.events, maps.stats). maps.samp (the per-CPU countdown
 * of sampling) and maps.frags (the ports of recent first fragments, for
 * their later fragments) are the programs' own. */
#define WTC_FLOWS_MAX	65536	/* default max_entries of `flows`; user space
				 * sets it from --max-flows before load */
#define WTC_SPILL_BYTES	(1u << 20)	/* default size of `spill`: 8192 records */
#define WTC_EVENTS_BYTES (1u << 18)	/* default size of `events`: 3640 records */

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

/* Counters (per-CPU array `stats`, one slot each; user space sums), in
 * packets as on the wire: a GSO packet counts its segments. */
enum wtc_stat {
	WTC_ST_PACKETS = 0,		/* seen by the programs */
	WTC_ST_BYTES,			/* the IP bytes of those with an IP layer the
					 * parser took (metered, sampled out, own) */
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
	 * counted in WTC_ST_OWN_EXPORT and not metered. ipver 0: none. An
	 * IPv4 address in the first 4 bytes (wflow_key's layout); an all-zero
	 * address or a port 0 matches any (an exporter bound to the
	 * wildcard address, an ephemeral source port). */
	__u8 own_src[16], own_dst[16];
	__u16 own_sport, own_dport;
	__u8 own_proto, own_ipver;
	__u8 pad[2];
};

#endif
