/* bpfhelp.h - what the tests of weir's tc programs (test_bpf_*.c) share:
 * loading them (or saying why they cannot run here), running a frame
 * through BPF_PROG_TEST_RUN, and reading back `flows` and `stats`.
 *
 * The programs need root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) and a
 * kernel with tc BPF programs and ring buffers; without, a test prints
 * SKIPPED with the reason and skips. A program the verifier refuses is a
 * failure, never a skip.
 */
#ifndef WEIR_TESTS_BPFHELP_H
#define WEIR_TESTS_BPFHELP_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tc_aux.skel.h"
#include "weir_tc.h"
#include "weir_tc.skel.h"

#define BH_UNSPEC	(-1)	/* TC_ACT_UNSPEC: what the programs return */
#define BH_MAX_CPUS	1024

static int bh_quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* The capabilities the programs need, from /proc/self/status: 1 when all
 * are in the effective set. */
static inline int bh_caps(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	/* CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21 (root before CAP_BPF and
	 * CAP_PERFMON), CAP_PERFMON 38 (variable packet offsets), CAP_BPF 39 */
	return (eff >> 12 & 1) && (((eff >> 39 & 1) && (eff >> 38 & 1)) || (eff >> 21 & 1));
}

/* Skip the calling test, with the reason printed, when BPF cannot run. */
static inline void bh_require(const char *suite)
{
	const char *why = NULL;

	libbpf_set_print(bh_quiet_print);
	if (!bh_caps())
		why = "needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)";
	else if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1)
		why = "the kernel has no tc BPF programs";
	else if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) != 1)
		why = "the kernel has no BPF ring buffers (Linux 5.8)";
	if (why) {
		printf("SKIPPED: %s: %s\n", suite, why);
		fflush(stdout);
		cr_skip_test("%s", why);
	}
}

static inline int bh_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	cr_assert_gt(n, 0);
	cr_assert_leq(n, BH_MAX_CPUS);
	return n;
}

/* weir's programs with cfg (NULL: the defaults), max_flows entries (0:
 * the default) and ring sizes (0: the defaults), loaded. */
static inline struct weir_tc_bpf *bh_load(const struct wtc_cfg *cfg, __u32 max_flows,
					  __u32 spill_bytes, __u32 events_bytes)
{
	struct weir_tc_bpf *s = weir_tc_bpf__open();
	int err;

	cr_assert(s, "open: %s", strerror(errno));
	if (cfg)
		s->rodata->cfg = *cfg;
	if (max_flows)
		cr_assert_eq(bpf_map__set_max_entries(s->maps.flows, max_flows), 0);
	if (spill_bytes)
		cr_assert_eq(bpf_map__set_max_entries(s->maps.spill, spill_bytes), 0);
	if (events_bytes)
		cr_assert_eq(bpf_map__set_max_entries(s->maps.events, events_bytes), 0);
	err = weir_tc_bpf__load(s);
	cr_assert_eq(err, 0, "load: %s", strerror(-err));
	return s;
}

/* The auxiliary programs, vlan_in's jump to prog_fd (weir_ingress's; -1:
 * none); the tag is a->bss->tag_proto, tag_tci. */
static inline struct tc_aux_bpf *bh_aux(int prog_fd)
{
	struct tc_aux_bpf *a = tc_aux_bpf__open();
	__u32 zero = 0;
	int err;

	cr_assert(a, "open aux: %s", strerror(errno));
	err = tc_aux_bpf__load(a);
	cr_assert_eq(err, 0, "load aux: %s", strerror(-err));
	if (prog_fd >= 0)
		cr_assert_eq(bpf_map_update_elem(bpf_map__fd(a->maps.jmp), &zero, &prog_fd, 0), 0,
			     "jmp: %s", strerror(errno));
	return a;
}

/* One frame through prog_fd (gso_segs/gso_size in the context when not
 * 0), repeat times. The program's return value; the run must succeed. */
static inline int bh_run_n(int prog_fd, const void *frame, size_t len, __u32 segs, __u32 size,
			   __u32 repeat)
{
	struct __sk_buff ctx;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .repeat = repeat);
	int err;

	memset(&ctx, 0, sizeof(ctx));
	if (segs || size) {
		ctx.gso_segs = segs;
		ctx.gso_size = size;
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	err = bpf_prog_test_run_opts(prog_fd, &o);
	cr_assert_eq(err, 0, "test run of %zu bytes: %s", len, strerror(errno));
	return (int)o.retval;
}

static inline int bh_run(int prog_fd, const void *frame, size_t len)
{
	return bh_run_n(prog_fd, frame, len, 0, 0, 1);
}

/* b folded into a (wflow.h's rules): what user space does with the values
 * of a per-CPU entry. */
static inline void bh_val_add(struct wflow_val *a, const struct wflow_val *b)
{
	if (!b->packets)
		return;
	if (!a->packets) {
		*a = *b;
		return;
	}
	if (b->first_ns < a->first_ns) {
		a->first_ns = b->first_ns;
		a->tos = b->tos;
	}
	if (b->last_ns > a->last_ns)
		a->last_ns = b->last_ns;
	if (b->min_ttl < a->min_ttl)
		a->min_ttl = b->min_ttl;
	if (b->max_ttl > a->max_ttl)
		a->max_ttl = b->max_ttl;
	a->packets += b->packets;
	a->octets += b->octets;
	a->tcp_flags |= b->tcp_flags;
	for (int f = 0; f < WFLOW_NFLAGS; f++)
		a->flag_cnt[f] += b->flag_cnt[f];
}

/* The value of key summed over the CPUs; 0, or -1 when absent. */
static inline int bh_get(struct weir_tc_bpf *s, const struct wflow_key *k, struct wflow_val *v)
{
	static struct wflow_val per[BH_MAX_CPUS];
	int n = bh_ncpus();

	memset(v, 0, sizeof(*v));
	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.flows), k, per))
		return -1;
	for (int c = 0; c < n; c++)
		bh_val_add(v, &per[c]);
	return 0;
}

/* Every entry of `flows` (at most max), summed over the CPUs; with del,
 * deleted after. The count. */
static inline int bh_flows(struct weir_tc_bpf *s, struct wflow_key *keys, struct wflow_val *vals,
			   int max, int del)
{
	int fd = bpf_map__fd(s->maps.flows), n = 0;
	struct wflow_key k, next;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (n < max) {
			keys[n] = k;
			cr_assert_eq(bh_get(s, &k, &vals[n]), 0);
		}
		n++;
	}
	if (del)
		for (int i = 0; i < n && i < max; i++)
			cr_assert_eq(bpf_map_delete_elem(fd, &keys[i]), 0);
	return n;
}

/* Every entry of a map with keys of at most 64 bytes deleted. */
static inline void bh_empty(struct bpf_map *m)
{
	int fd = bpf_map__fd(m);
	__u8 k[64];

	cr_assert_leq(bpf_map__key_size(m), sizeof(k));
	while (!bpf_map_get_next_key(fd, NULL, k))
		cr_assert_eq(bpf_map_delete_elem(fd, k), 0);
}

/* The counters of `stats`, summed over the CPUs. */
static inline void bh_stats(struct weir_tc_bpf *s, __u64 st[WTC_ST_COUNT])
{
	static __u64 per[BH_MAX_CPUS];
	int n = bh_ncpus();

	for (__u32 i = 0; i < WTC_ST_COUNT; i++) {
		cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(s->maps.stats), &i, per), 0);
		st[i] = 0;
		for (int c = 0; c < n; c++)
			st[i] += per[c];
	}
}

/* CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock. */
static inline __u64 bh_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

#endif
