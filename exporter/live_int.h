/* live_int.h - what the live path's files share: live.c (the run),
 * live_bpf.c (the programs: load, attach, detach, counters),
 * live_tc.c (what a dead weir-exporter left attached), live_drain.c (the
 * kernel's flows into the meter), live_sys.c (capabilities, promiscuous
 * mode), live_metrics.c (/metrics). Not an interface: only these include
 * it (and their unit tests).
 */
#ifndef EXP_LIVE_INT_H
#define EXP_LIVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "live.h"
#include "meter.h"
#include "weir_tc.h"
#include "xp.h"

struct weir_tc_bpf;
struct ring_buffer;
struct prog_http;

/* The tc priority of weir's filters (--attach tc). 1: the first to run,
 * so that a filter after it that drops or redirects does not hide a
 * packet from the meter; a filter of another kind at 1 makes the attach
 * fail (the kernel wants one kind per priority). Its handle is the owner's
 * pid (docs/exporter.md, "Cleanup"). */
#define LIVE_TC_PRIO		1
/* The kernel's names of the programs (BPF_OBJ_NAME_LEN 16). */
#define LIVE_PROG_IN		"weir_ingress"
#define LIVE_PROG_EG		"weir_egress"

#define LIVE_POLL_NS		(100 * 1000000ull)	/* drain `flows` this often */
#define LIVE_EVENT_GAP_NS	(20 * 1000000ull)	/* an event drains at most this soon
							 * after the last drain */
#define LIVE_CLOCK_NS		(1000 * 1000000ull)	/* the clock offset is measured again */
#define LIVE_BATCH		1024			/* entries per lookup batch */

/* One tc hook the programs are attached to. */
struct live_hook {
	int ifindex;
	const char *ifname;		/* cfg->ifaces[] */
	uint8_t dir;			/* WFLOW_DIR_INGRESS, WFLOW_DIR_EGRESS */
	int link_fd;			/* TCX: the link (-1: none) */
	int tc;				/* tc: a filter (handle pid, LIVE_TC_PRIO) */
};

/* Counters of the user-space side (monotonic). */
struct live_counters {
	uint64_t drains;		/* generations drained */
	uint64_t entries;		/* `flows` entries merged */
	uint64_t merged_packets;	/* their packets (and the spill's) */
	uint64_t merged_octets;
	uint64_t spill_records;		/* wtc_spill records merged */
	uint64_t events;		/* wtc_event records read */
	uint64_t read_errors;		/* a map read or delete that failed */
	uint64_t batch_fallback;	/* drains done key by key (no batch ops) */
	uint64_t drain_ns;		/* time spent draining */
	uint64_t sync_ns;		/* of it, waiting for the programs (RCU) */
	uint64_t fill;			/* entries of `flows` at the last drain */
	uint64_t fill_max;
	uint64_t clock_steps;		/* offset changes over 1 ms (NTP steps) */
};

struct live {
	const struct exp_cfg *cfg;
	struct weir_tc_bpf *skel;
	struct meter *m;
	struct xp *x;
	struct ring_buffer *rb;
	int ncpus;
	int flows_fd, stats_fd;
	uint32_t flows_max;		/* max_entries of `flows` */
	int sync_fd, sync_inner_fd;	/* the ARRAY_OF_MAPS whose update waits for an RCU
					 * grace period (weir_tc.h), and its element */
	int batch_ok;			/* lookup/delete batches work (-1: unknown yet) */
	/* one drain's buffers, allocated once */
	struct wflow_key *keys;		/* LIVE_BATCH */
	struct wflow_val *vals;		/* LIVE_BATCH * ncpus */
	struct wflow_key *old;		/* keys of the generation drained: flows_max */
	/* time */
	int64_t mono_to_real;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint64_t clock_at;		/* monotonic time it was measured */
	uint64_t last_drain;		/* monotonic */
	int event_pending;
	/* attachments */
	struct live_hook hooks[2 * EXP_MAX_IFACES];
	unsigned nhooks;
	uint8_t promisc[EXP_MAX_IFACES];	/* we set IFF_PROMISC on ifaces[i] */
	/* counters */
	struct live_counters c;
	uint64_t wtc[WTC_ST_COUNT];	/* the programs' `stats`, summed over the CPUs */
	uint64_t stale_removed;		/* filters of dead weir-exporters removed */
	/* the exporting process's view of the kernel's losses */
	struct meter_stats ms;
	struct prog_http *http;
	struct live_pub *pub;		/* what /metrics reads (live_metrics.c) */
};

/* ---- live_bpf.c ---- */

/* Open, configure (rodata, map sizes) and load the programs. 0, or -1
 * with a sentence in err. */
int live_bpf_load(struct live *l, const struct xp_cfg *xc, char *err, size_t errlen);
/* Attach to every interface and direction of the configuration. 0, or -1
 * (what was attached is detached again). */
int live_bpf_attach(struct live *l, char *err, size_t errlen);
/* Detach every hook (tc filters deleted, TCX links closed). */
void live_bpf_detach(struct live *l);
void live_bpf_close(struct live *l);
/* Sum `stats` over the CPUs into l->wtc. */
void live_bpf_stats(struct live *l);
/* The programs' run time and runs (kernel.bpf_stats_enabled=1), summed
 * over both programs; 0 when the kernel does not count. */
void live_bpf_runtime(const struct live *l, uint64_t *ns, uint64_t *cnt);

/* ---- live_tc.c ---- */

/* Remove the tc filters a dead weir-exporter left on ifindex in both
 * directions (handle: a pid that is no live weir-exporter). Returns the
 * number removed, or -1 with a sentence in err. */
int live_tc_clean(int ifindex, const char *ifname, char *err, size_t errlen);

/* ---- live_drain.c ---- */

int live_drain_init(struct live *l, char *err, size_t errlen);
void live_drain_free(struct live *l);
/* Measure the offset of CLOCK_REALTIME from CLOCK_MONOTONIC. */
void live_clock(struct live *l);
/* A kernel (monotonic) time as wall-clock ns. */
uint64_t live_real(const struct live *l, uint64_t mono_ns);
/* Flip the generation, wait for the programs, merge and delete the old
 * generation's entries. */
void live_drain(struct live *l);
/* The spill and events ring buffers. 0, or -1 with a sentence in err. */
int live_rings_open(struct live *l, char *err, size_t errlen);
/* Read the ring buffers (spill merged at once; an event asks for a
 * drain); wait up to timeout_ms for them. */
void live_rings(struct live *l, int timeout_ms);

/* Per-CPU values of one entry summed by wflow.h's rules into *out.
 * Returns the packets. */
uint64_t live_sum_cpus(const struct wflow_val *v, int ncpus, struct wflow_val *out);

/* ---- live_sys.c ---- */

/* Whether the effective set holds what metering needs; a sentence naming
 * the missing ones in err when not. 0 or -1. */
int live_caps_check(char *err, size_t errlen);
/* Keep CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON (CAP_SYS_ADMIN in place of a
 * CAP_BPF the process lacks), drop the rest from every set and from the
 * bounding set. 0, or -1 with a sentence in err. */
int live_caps_drop(char *err, size_t errlen);
/* Set (on 1) or clear IFF_PROMISC of ifname; *was: whether it was set. */
int live_promisc(const char *ifname, int on, int *was, char *err, size_t errlen);

/* ---- live_metrics.c ---- */

/* Serve /metrics on cfg->metrics_host:metrics_port (nothing when 0). */
int live_metrics_start(struct live *l, char *err, size_t errlen);
/* Copy the counters for the metrics thread (called after every drain). */
void live_metrics_publish(struct live *l);
void live_metrics_stop(struct live *l);

#endif
