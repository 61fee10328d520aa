/* test_bpf_paths.c - the paths of weir's tc programs beside the flow map:
 * the spill ring when `flows` is full, FIN/RST events, 1-in-N sampling,
 * the exporter's own traffic, exact counts with two CPUs on one flow (the
 * per-CPU map and the spin-lock variant), and weir_tc.h's generation
 * drain losing nothing while packets flow.
 */
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "unit/bpfframe.h"
#include "unit/bpfhelp.h"
#include "weir_tc_lock.skel.h"

/* Keep this thread on one CPU: per-CPU state (sampling) is then one. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

/* ---- the spill ring ---- */

struct got {
	int n;
	struct wtc_spill s[64];
	struct wtc_event e[128];
};

static int on_spill(void *ctx, void *data, size_t len)
{
	struct got *g = ctx;

	if (len != sizeof(struct wtc_spill))
		return -1;
	if (g->n < 64)
		memcpy(&g->s[g->n], data, len);
	g->n++;
	return 0;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct got *g = ctx;

	if (len != sizeof(struct wtc_event))
		return -1;
	if (g->n < 128)
		memcpy(&g->e[g->n], data, len);
	g->n++;
	return 0;
}

/* A map of 4 flows and a ring of one page (31 records of 128 bytes): the
 * fifth flow's packets go to the ring whole, what the ring cannot take is
 * counted lost; flows in the map still count. */
Test(bpf_paths, spill_when_full, .fini = teardown)
{
	struct fb f = { .proto = PKTB_UDP, .dp = 53, .ttl = 9, .tos = 4, .pay = 20 };
	static struct got g;
	struct ring_buffer *rb;
	struct frame fr;
	struct wflow_key k;
	__u64 spilled, lost;

	load_cfg("bpf_paths", NULL, 4, 4096, 0);
	for (int i = 0; i < 4; i++) {
		f.sp = (uint16_t)(1000 + i);
		build(&fr, &f);
		run(IN, &fr);
	}
	cr_assert_eq(nflows(), 4);
	cr_assert_eq(stat(WTC_ST_SPILLED), 0);
	for (int i = 0; i < 40; i++) {
		f.sp = (uint16_t)(2000 + i);
		build(&fr, &f);
		run(IN, &fr);
	}
	f.sp = 1000;
	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 0, 0);
	cr_assert_eq(get(&k).packets, 2, "a flow in the map goes on counting");
	cr_assert_eq(nflows(), 4);
	spilled = stat(WTC_ST_SPILLED);
	lost = stat(WTC_ST_SPILL_LOST);
	cr_assert_eq(spilled + lost, 40);
	cr_assert_eq(spilled, 31, "a page holds 31 records of 120 bytes and their headers");

	rb = ring_buffer__new(bpf_map__fd(S->maps.spill), on_spill, &g, NULL);
	cr_assert(rb);
	memset(&g, 0, sizeof(g));
	cr_assert_eq(ring_buffer__consume(rb), 31);
	cr_assert_eq(g.n, 31);
	for (int i = 0; i < 31; i++) {
		f.sp = (uint16_t)(2000 + i);
		k = key_of(&f, 0, 0);
		cr_assert(!memcmp(&g.s[i].key, &k, sizeof(k)), "spill record %d: its packet's key", i);
		cr_assert_eq(g.s[i].val.packets, 1);
		cr_assert_eq(g.s[i].val.octets, 20 + 8 + 20);
		cr_assert_eq(g.s[i].val.min_ttl, 9);
		cr_assert_eq(g.s[i].val.max_ttl, 9);
		cr_assert_eq(g.s[i].val.tos, 4);
		cr_assert_neq(g.s[i].val.first_ns, 0);
		cr_assert_eq(g.s[i].val.first_ns, g.s[i].val.last_ns);
	}
	/* room again: the next packet of a new flow is spilled, not lost */
	f.sp = 3000;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(stat(WTC_ST_SPILLED), 32);
	cr_assert_eq(stat(WTC_ST_SPILL_LOST), 9);
	ring_buffer__free(rb);
}

/* ---- FIN/RST events ---- */

Test(bpf_paths, fin_rst_events, .fini = teardown)
{
	struct fb f = { .proto = PKTB_TCP, .sp = 40000, .dp = 80 };
	static struct got g;
	struct ring_buffer *rb;
	struct frame fr;
	struct wflow_key k;
	__u64 t0, t1;

	load_cfg("bpf_paths", NULL, 0, 0, 4096);
	rb = ring_buffer__new(bpf_map__fd(S->maps.events), on_event, &g, NULL);
	cr_assert(rb);
	t0 = bh_mono();
	f.flags = 0x02;				/* SYN */
	build(&fr, &f);
	run(IN, &fr);
	f.flags = 0x10;				/* ACK */
	build(&fr, &f);
	run(IN, &fr);
	f.flags = 0x11;				/* FIN ACK: an event */
	build(&fr, &f);
	run(IN, &fr);
	run(IN, &fr);				/* again: none */
	f.flags = 0x14;				/* RST ACK after the FIN: none */
	build(&fr, &f);
	run(IN, &fr);
	f.rev = 1;				/* the other way: an event */
	f.sp = 80;
	f.dp = 40000;
	f.flags = 0x11;
	build(&fr, &f);
	run(IN, &fr);
	run(EG, &fr);				/* egress is a direction of its own */
	f.rev = 0;
	f.sp = 40001;				/* a RST of a flow never seen */
	f.dp = 80;
	f.flags = 0x04;
	build(&fr, &f);
	run(IN, &fr);
	t1 = bh_mono();

	memset(&g, 0, sizeof(g));
	cr_assert_eq(ring_buffer__consume(rb), 4);
	f.sp = 40000;
	f.flags = 0x11;
	k = key_of(&f, 0, 0);
	cr_assert(!memcmp(&g.e[0].key, &k, sizeof(k)));
	cr_assert_eq(g.e[0].tcp_flags, 0x11);
	cr_assert(g.e[0].t_ns >= t0 && g.e[0].t_ns <= t1);
	f.rev = 1;
	f.sp = 80;
	f.dp = 40000;
	k = key_of(&f, 0, 0);
	cr_assert(!memcmp(&g.e[1].key, &k, sizeof(k)));
	k.dir = 1;
	cr_assert(!memcmp(&g.e[2].key, &k, sizeof(k)));
	f.rev = 0;
	f.sp = 40001;
	f.dp = 80;
	k = key_of(&f, 0, 0);
	cr_assert(!memcmp(&g.e[3].key, &k, sizeof(k)));
	cr_assert_eq(g.e[3].tcp_flags, 0x04);
	for (int i = 1; i < 4; i++)
		cr_assert_geq(g.e[i].t_ns, g.e[i - 1].t_ns);
	cr_assert_eq(stat(WTC_ST_EVENTS_LOST), 0);

	/* a page holds 56 events of 64 bytes and their headers; 70 RSTs of
	 * new flows: 56 in the ring, 14 lost */
	for (int i = 0; i < 70; i++) {
		f.sp = (uint16_t)(50000 + i);
		build(&fr, &f);
		run(IN, &fr);
	}
	cr_assert_eq(stat(WTC_ST_EVENTS_LOST), 14);
	memset(&g, 0, sizeof(g));
	cr_assert_eq(ring_buffer__consume(rb), 56);
	ring_buffer__free(rb);
}

/* ---- sampling ---- */

Test(bpf_paths, sampling_one_in_four, .fini = teardown)
{
	struct wtc_cfg cfg = { .sampling = 4 };
	struct fb f = { .proto = PKTB_UDP, .sp = 1, .dp = 2 };
	struct frame fr, arp;
	struct wflow_key k = key_of(&f, 0, 0);

	pin(0);
	load_cfg("bpf_paths", &cfg, 0, 0, 0);
	build(&fr, &f);
	memset(arp.b, 0, 60);
	arp.b[12] = 0x08;
	arp.b[13] = 0x06;
	arp.len = 60;
	run(IN, &fr);				/* the first of every 4 */
	cr_assert_eq(get(&k).packets, 1);
	for (int i = 0; i < 19; i++) {
		run(IN, &fr);
		run(IN, &arp);			/* not IP: no sample taken */
	}
	cr_assert_eq(get(&k).packets, 5);
	cr_assert_eq(stat(WTC_ST_SAMPLED_OUT), 15);
	cr_assert_eq(stat(WTC_ST_NOT_IP), 19);
	cr_assert_eq(stat(WTC_ST_PACKETS), 39);
	cr_assert_eq(stat(WTC_ST_BYTES), 20 * 28, "bytes seen, sampled or not");
	/* egress shares the CPU's countdown: packet 21 is metered, 22 not */
	run(EG, &fr);
	run(EG, &fr);
	k.dir = WFLOW_DIR_EGRESS;
	cr_assert_eq(get(&k).packets, 1);
	cr_assert_eq(stat(WTC_ST_SAMPLED_OUT), 16);
}

Test(bpf_paths, sampling_off, .fini = teardown)
{
	struct wtc_cfg cfg = { .sampling = 1 };
	struct fb f = { .proto = PKTB_UDP, .sp = 1, .dp = 2 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, 0);

	load_cfg("bpf_paths", &cfg, 0, 0, 0);
	build(&fr, &f);
	for (int i = 0; i < 10; i++)
		run(IN, &fr);
	cr_assert_eq(get(&k).packets, 10);
	cr_assert_eq(stat(WTC_ST_SAMPLED_OUT), 0);
}

/* ---- the exporter's own traffic ---- */

Test(bpf_paths, own_export_not_metered, .fini = teardown)
{
	struct wtc_cfg cfg = { .own_proto = 17, .own_ipver = 4, .own_sport = 40000,
			       .own_dport = 4739 };
	struct fb f = { .proto = PKTB_UDP, .sp = 40000, .dp = 4739, .pay = 100 };
	struct frame fr;

	memcpy(cfg.own_src, V4_S, 4);
	memcpy(cfg.own_dst, V4_D, 4);
	load_cfg("bpf_paths", &cfg, 0, 0, 0);
	build(&fr, &f);
	run(EG, &fr);				/* the export */
	f.rev = 1;				/* an answer, ICMP-less: the other way */
	f.sp = 4739;
	f.dp = 40000;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(stat(WTC_ST_OWN_EXPORT), 2);
	cr_assert_eq(nflows(), 0);
	f.rev = 0;				/* another port, TCP on the ports: metered */
	f.sp = 40000;
	f.dp = 4740;
	build(&fr, &f);
	run(EG, &fr);
	f.dp = 4739;
	f.proto = PKTB_TCP;
	build(&fr, &f);
	run(EG, &fr);
	f.v6 = 1;				/* IPv6 on the ports: metered */
	f.proto = PKTB_UDP;
	build(&fr, &f);
	run(EG, &fr);
	cr_assert_eq(stat(WTC_ST_OWN_EXPORT), 2);
	cr_assert_eq(nflows(), 3);
}

Test(bpf_paths, own_export_wildcards, .fini = teardown)
{
	/* bound to the wildcard address, any source port, to [V6_D]:4739 */
	struct wtc_cfg cfg = { .own_proto = 17, .own_ipver = 6, .own_dport = 4739 };
	struct fb f = { .v6 = 1, .proto = PKTB_UDP, .dp = 4739 };
	struct frame fr;

	memcpy(cfg.own_dst, V6_D, 16);
	load_cfg("bpf_paths", &cfg, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		f.sp = (uint16_t)(30000 + i * 1000);
		build(&fr, &f);
		run(EG, &fr);
	}
	cr_assert_eq(stat(WTC_ST_OWN_EXPORT), 5);
	f.rev = 1;				/* from V6_D to V6_S: the other way */
	f.sp = 4739;
	f.dp = 30000;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(stat(WTC_ST_OWN_EXPORT), 6);
	f.rev = 0;				/* to another address: metered */
	f.sp = 30000;
	f.dp = 4739;
	build(&fr, &f);
	fr.b[14 + 24 + 15] ^= 1;
	run(EG, &fr);
	cr_assert_eq(nflows(), 1);
}

/* ---- concurrency ---- */

struct runner {
	pthread_t t;
	int prog, cpu;
	const struct frame *fr;
	__u32 repeat, rounds;		/* rounds 0: until *stop */
	__u32 ran;			/* rounds done */
	int err;
	atomic_int *stop;
};

/* Test runs of repeat on one CPU, rounds of them or until *stop; no
 * Criterion call off the main thread: the outcome goes to err. */
static void *run_thread(void *arg)
{
	struct runner *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		r->err = -1;
	for (__u32 i = 0; !r->err && (r->rounds ? i < r->rounds : !atomic_load(r->stop)); i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->fr[i % 8].b,
			    .data_size_in = (__u32)r->fr[i % 8].len, .repeat = r->repeat);

		if (bpf_prog_test_run_opts(r->prog, &o))
			r->err = errno;
		else if ((int)o.retval != BH_UNSPEC)
			r->err = -2;
		else
			r->ran++;
	}
	return NULL;
}

static void need_two_cpus(void)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("SKIPPED: bpf_paths: one CPU online, two CPUs needed\n");
		cr_skip_test("one CPU");
	}
}

/* Two CPUs on one flow at once, 200,000 packets each. */
static void two_cpus(int prog, const struct frame *fr)
{
	struct runner r[2];

	for (int i = 0; i < 2; i++) {
		r[i] = (struct runner){ .prog = prog, .cpu = i, .fr = fr, .repeat = 200000,
					.rounds = 1 };
		cr_assert_eq(pthread_create(&r[i].t, NULL, run_thread, &r[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(r[i].t, NULL);
		cr_assert_eq(r[i].err, 0, "runner %d: %d", i, r[i].err);
	}
}

Test(bpf_paths, two_cpus_one_flow_percpu, .fini = teardown)
{
	struct fb f = { .proto = PKTB_TCP, .sp = 9, .dp = 10, .flags = 0x10, .pay = 3 };
	struct frame fr[8];
	struct wflow_key k = key_of(&f, 0, 0);
	struct wflow_val v;

	need_two_cpus();
	load_cfg("bpf_paths", NULL, 0, 0, 0);
	build(&fr[0], &f);
	for (int i = 1; i < 8; i++)
		fr[i] = fr[0];
	two_cpus(IN, fr);
	v = get(&k);
	cr_assert_eq(v.packets, 400000);
	cr_assert_eq(v.octets, 400000ull * 43);
	cr_assert_eq(v.flag_cnt[WFLOW_ACK], 400000);
	cr_assert_eq(stat(WTC_ST_PACKETS), 400000);
}

Test(bpf_paths, two_cpus_one_flow_spin_lock)
{
	struct fb f = { .proto = PKTB_TCP, .sp = 9, .dp = 10, .flags = 0x10, .pay = 3 };
	struct weir_tc_lock_bpf *l;
	struct frame fr[8];
	struct wflow_key k = key_of(&f, 0, 0);
	struct {
		__u32 lock, pad;
		struct wflow_val v;
	} lv;

	bh_require("bpf_paths");
	need_two_cpus();
	l = weir_tc_lock_bpf__open_and_load();
	cr_assert(l, "load the spin-lock variant: %s", strerror(errno));
	cr_assert_eq(bpf_map__value_size(l->maps.flows), sizeof(lv));
	build(&fr[0], &f);
	for (int i = 1; i < 8; i++)
		fr[i] = fr[0];
	two_cpus(bpf_program__fd(l->progs.weir_ingress), fr);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(l->maps.flows), &k, &lv), 0);
	cr_assert_eq(lv.v.packets, 400000);
	cr_assert_eq(lv.v.octets, 400000ull * 43);
	cr_assert_eq(lv.v.flag_cnt[WFLOW_ACK], 400000);
	weir_tc_lock_bpf__destroy(l);
}

/* ---- the generation drain of weir_tc.h ---- */

/* An RCU grace period: what an update of an array-of-maps element waits
 * for (the kernel's maybe_wait_bpf_programs). */
static int sync_fd, inner_fd;

static void sync_rcu(void)
{
	__u32 zero = 0;

	if (!sync_fd) {
		LIBBPF_OPTS(bpf_map_create_opts, o);

		inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "wtc_inner", 4, 4, 1, NULL);
		cr_assert_geq(inner_fd, 0, "%s", strerror(errno));
		o.inner_map_fd = inner_fd;
		sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "wtc_sync", 4, 4, 1, &o);
		cr_assert_geq(sync_fd, 0, "%s", strerror(errno));
	}
	cr_assert_eq(bpf_map_update_elem(sync_fd, &zero, &inner_fd, 0), 0, "%s", strerror(errno));
}

/* Flip the generation, wait, then read and delete the old one's keys:
 * their packets, and which generations were seen. */
static __u64 drain(unsigned *seen)
{
	static struct wflow_key keys[256];
	int fd = bpf_map__fd(S->maps.flows), n = 0;
	__u8 old = S->bss->wtc_gen;
	struct wflow_key k, *prev = NULL;
	__u64 pk = 0;

	S->bss->wtc_gen = !old;
	sync_rcu();
	while (n < 256 && !bpf_map_get_next_key(fd, prev, &k)) {
		keys[n] = k;
		prev = &keys[n++];
	}
	for (int i = 0; i < n; i++) {
		struct wflow_val v;

		*seen |= 1u << keys[i].pad[0];
		if (keys[i].pad[0] != old)
			continue;
		cr_assert_eq(bh_get(S, &keys[i], &v), 0);
		pk += v.packets;
		cr_assert_eq(bpf_map_delete_elem(fd, &keys[i]), 0);
	}
	return pk;
}

/* Packets of 8 flows on CPU 1 while this thread, on CPU 0, drains 20
 * times. */
Test(bpf_paths, generation_drain_loses_nothing, .fini = teardown, .timeout = 60)
{
	struct fb f = { .proto = PKTB_UDP, .dp = 53, .pay = 1 };
	static struct frame fr[8];
	struct runner r;
	atomic_int stop;
	unsigned seen = 0;
	__u64 got = 0, sent;

	need_two_cpus();
	pin(0);
	load_cfg("bpf_paths", NULL, 0, 0, 0);
	for (int i = 0; i < 8; i++) {
		f.sp = (uint16_t)(100 + i);
		build(&fr[i], &f);
	}
	atomic_init(&stop, 0);
	r = (struct runner){ .prog = IN, .cpu = 1, .fr = fr, .repeat = 250, .stop = &stop };
	cr_assert_eq(pthread_create(&r.t, NULL, run_thread, &r), 0);
	for (int i = 0; i < 20; i++)
		got += drain(&seen);
	atomic_store(&stop, 1);
	pthread_join(r.t, NULL);
	cr_assert_eq(r.err, 0);
	got += drain(&seen);
	got += drain(&seen);
	sent = (__u64)r.ran * r.repeat;
	printf("bpf_paths: generation drain: 20 drains while another CPU ran %llu packets\n",
	       (unsigned long long)sent);
	cr_assert_gt(sent, 0);
	cr_assert_eq(got, sent, "drained %llu packets", (unsigned long long)got);
	cr_assert_eq(stat(WTC_ST_PACKETS), sent);
	cr_assert_eq(seen, 3, "both generations seen");
	cr_assert_eq(nflows(), 0);
	close(sync_fd);
	close(inner_fd);
}
