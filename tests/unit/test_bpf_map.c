/* test_bpf_map.c - weir's tc programs (bpf/weir_tc.bpf.c) by what they
 * leave in `flows`: crafted frames through BPF_PROG_TEST_RUN, the map read
 * back and checked field by field against values worked out by hand (the
 * key of each layer: VLAN, QinQ, an offloaded tag, IPv4 options and
 * fragments, IPv6 extension headers, ICMP, SCTP, cuts; GSO counts).
 * test_bpf_paths.c has the rest: spill, events, sampling, own traffic,
 * concurrency.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "unit/bpfframe.h"
#include "unit/bpfhelp.h"

/* The longest tick: CONFIG_HZ 100 (last_ns is a tick time). */
#define TICK_MAX	10000000ull

/* ---- the programs ---- */

static void setup(void)
{
	load_cfg("bpf_map", NULL, 0, 0, 0);
}

/* ---- one flow, field by field ---- */

Test(bpf_map, udp_v4_field_by_field, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_UDP, .sp = 5353, .dp = 53, .ttl = 57, .tos = 0x2e, .pay = 10 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, WFLOW_DIR_INGRESS);
	struct wflow_val v;
	__u64 t0, t1, t2;

	build(&fr, &f);
	t0 = bh_mono();
	run(IN, &fr);
	t1 = bh_mono();
	cr_assert_eq(nflows(), 1);
	v = get(&k);
	cr_assert_eq(v.packets, 1);
	cr_assert_eq(v.octets, 20 + 8 + 10);
	cr_assert(v.first_ns >= t0 && v.first_ns <= t1, "first %llu not in [%llu, %llu]",
		  (unsigned long long)v.first_ns, (unsigned long long)t0, (unsigned long long)t1);
	cr_assert_eq(v.last_ns, v.first_ns);
	cr_assert_eq(v.min_ttl, 57);
	cr_assert_eq(v.max_ttl, 57);
	cr_assert_eq(v.tos, 0x2e);
	cr_assert_eq(v.tcp_flags, 0);
	for (int i = 0; i < WFLOW_NFLAGS; i++)
		cr_assert_eq(v.flag_cnt[i], 0);

	/* the second packet: TTL 60, TOS 0; the TOS stays the first's */
	f.ttl = 60;
	f.tos = 0;
	f.pay = 30;
	build(&fr, &f);
	run(IN, &fr);
	t2 = bh_mono();
	v = get(&k);
	cr_assert_eq(v.packets, 2);
	cr_assert_eq(v.octets, 38 + 58);
	/* a later packet's time is its tick's: never before first_ns, at most
	 * a tick (10 ms at 100 Hz, the slowest) before the packet */
	cr_assert(v.last_ns >= v.first_ns && v.last_ns <= t2 && v.last_ns + TICK_MAX >= t1);
	while (bh_mono() < t2 + 3 * TICK_MAX)
		usleep(1000);
	t1 = bh_mono();
	run(IN, &fr);
	t2 = bh_mono();
	v = get(&k);
	cr_assert(v.last_ns <= t2 && v.last_ns + TICK_MAX >= t1, "last %llu, sent in [%llu, %llu]",
		  (unsigned long long)v.last_ns, (unsigned long long)t1, (unsigned long long)t2);
	cr_assert_gt(v.last_ns, v.first_ns + 2 * TICK_MAX);
	run(IN, &fr);
	cr_assert_geq(get(&k).last_ns, v.last_ns);
	cr_assert_eq(v.min_ttl, 57);
	cr_assert_eq(v.max_ttl, 60);
	cr_assert_eq(v.tos, 0x2e);
	cr_assert_eq(stat(WTC_ST_PACKETS), 4);
	cr_assert_eq(stat(WTC_ST_BYTES), 38 + 3 * 58);

	/* egress: a key of its own */
	run(EG, &fr);
	cr_assert_eq(nflows(), 2);
	k.dir = WFLOW_DIR_EGRESS;
	v = get(&k);
	cr_assert_eq(v.packets, 1);
	cr_assert_eq(v.octets, 58);
	cr_assert_eq(v.first_ns, v.last_ns);
}

Test(bpf_map, tcp_v6_flags, .init = setup, .fini = teardown)
{
	static const uint16_t fl[] = { 0x002, 0x010, 0x018, 0x011, 0x0d0, 0x100 };
	struct fb f = { .v6 = 1, .proto = PKTB_TCP, .sp = 40000, .dp = 443, .tos = 0xb8 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, WFLOW_DIR_INGRESS);
	struct wflow_val v;

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		f.flags = fl[i];
		build(&fr, &f);
		run(IN, &fr);
	}
	v = get(&k);
	cr_assert_eq(v.packets, 6);
	cr_assert_eq(v.octets, 6 * (40 + 20));
	cr_assert_eq(v.tcp_flags, 0x1db);
	cr_assert_eq(v.flag_cnt[WFLOW_SYN], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_ACK], 4);
	cr_assert_eq(v.flag_cnt[WFLOW_PSH], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_FIN], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_ECE], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_CWR], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_RST], 0);
	cr_assert_eq(v.flag_cnt[WFLOW_URG], 0);
	cr_assert_eq(v.tos, 0xb8);
}

/* ---- the link layer ---- */

Test(bpf_map, vlan_qinq_offloaded, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_UDP, .sp = 1, .dp = 2 };
	struct tc_aux_bpf *aux = bh_aux(IN);
	struct frame fr;
	struct wflow_key k;

	/* one tag; the priority bits are not the id */
	f.ntags = 1;
	f.tags[0] = 0xe000 | 100;
	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 100, 0);
	cr_assert_eq(get(&k).packets, 1);

	/* QinQ: the outer id */
	f.ntags = 2;
	f.tpid = 0x88a8;
	f.tags[0] = 300;
	f.tags[1] = 200;
	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 300, 0);
	cr_assert_eq(get(&k).packets, 1);

	/* the outer tag offloaded (skb->vlan_tci), the inner in the bytes:
	 * the offloaded one is the outer */
	f.ntags = 1;
	f.tpid = 0;
	f.tags[0] = 200;
	f.pay = 1;
	build(&fr, &f);
	aux->bss->tag_proto = 0x88a8;
	aux->bss->tag_tci = 0x2000 | 300;
	cr_assert_eq(bh_run(bpf_program__fd(aux->progs.vlan_in), fr.b, fr.len), BH_UNSPEC);
	cr_assert_eq(aux->bss->vlan_in_failed, 0);
	cr_assert_eq(get(&k).packets, 2);

	/* offloaded only */
	f.ntags = 0;
	build(&fr, &f);
	aux->bss->tag_proto = 0x8100;
	aux->bss->tag_tci = 4094;
	cr_assert_eq(bh_run(bpf_program__fd(aux->progs.vlan_in), fr.b, fr.len), BH_UNSPEC);
	k = key_of(&f, 4094, 0);
	cr_assert_eq(get(&k).packets, 1);

	/* offloaded plus 3 in the bytes: 4 tags, the bound; plus 4: refused */
	f.ntags = 3;
	build(&fr, &f);
	cr_assert_eq(bh_run(bpf_program__fd(aux->progs.vlan_in), fr.b, fr.len), BH_UNSPEC);
	cr_assert_eq(get(&k).packets, 2);
	cr_assert_eq(stat(WTC_ST_MALFORMED), 0);
	f.pay = 0;
	f.ntags = 3;
	build(&fr, &f);
	memmove(fr.b + 16, fr.b + 12, fr.len - 12);	/* a fourth tag in the bytes */
	fr.b[12] = 0x81;
	fr.b[13] = 0;
	fr.b[14] = 0;
	fr.b[15] = 5;
	fr.len += 4;
	cr_assert_eq(bh_run(bpf_program__fd(aux->progs.vlan_in), fr.b, fr.len), BH_UNSPEC);
	cr_assert_eq(stat(WTC_ST_MALFORMED), 1);
	cr_assert_eq(nflows(), 3);
	tc_aux_bpf__destroy(aux);
}

Test(bpf_map, not_ip_and_cut, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_TCP, .sp = 7, .dp = 8, .flags = 0x02, .ntags = 1, .tags = { 9 } };
	struct frame fr;
	struct wflow_key k = key_of(&f, 9, 0);
	struct wflow_val v;

	/* ARP */
	memset(fr.b, 0, 60);
	memcpy(fr.b, MAC_D, 6);
	fr.b[12] = 0x08;
	fr.b[13] = 0x06;
	cr_assert_eq(bh_run(IN, fr.b, 60), BH_UNSPEC);
	cr_assert_eq(stat(WTC_ST_NOT_IP), 1);

	/* cut inside the tag, inside IPv4: refused */
	build(&fr, &f);
	cr_assert_eq(bh_run(IN, fr.b, 16), BH_UNSPEC);
	cr_assert_eq(bh_run(IN, fr.b, 18 + 19), BH_UNSPEC);
	cr_assert_eq(stat(WTC_ST_MALFORMED), 2);
	cr_assert_eq(nflows(), 0);

	/* cut inside TCP: metered without ports and flags, the datagram's
	 * length from its header */
	cr_assert_eq(bh_run(IN, fr.b, 18 + 20 + 19), BH_UNSPEC);
	k.src_port = k.dst_port = 0;
	v = get(&k);
	cr_assert_eq(v.packets, 1);
	cr_assert_eq(v.octets, 40);
	cr_assert_eq(v.tcp_flags, 0);
	cr_assert_eq(stat(WTC_ST_PACKETS), 4);
	cr_assert_eq(stat(WTC_ST_BYTES), 40);
}

/* ---- the network layer ---- */

Test(bpf_map, ipv4_options_fragments, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_UDP, .sp = 1000, .dp = 2000, .optlen = 12, .pay = 100 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, 0), k0;

	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(get(&k).octets, 32 + 8 + 100);

	/* a first fragment has the ports; its later ones join its flow */
	f.optlen = 0;
	f.ff = 0x2000;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(get(&k).packets, 2);
	f.ff = 14;
	f.pay = 60;
	build(&fr, &f);
	run(IN, &fr);
	run(IN, &fr);
	cr_assert_eq(get(&k).packets, 4);
	cr_assert_eq(get(&k).octets, 140 + 128 + 2 * (20 + 60));
	cr_assert_eq(nflows(), 1);

	/* a later fragment of a datagram whose first never came: ports 0,
	 * the protocol kept */
	f.id = 8;
	build(&fr, &f);
	run(IN, &fr);
	k0 = key_of(&f, 0, 0);
	cr_assert_eq(k0.src_port, 0);
	cr_assert_eq(k0.proto, 17);
	cr_assert_eq(get(&k0).packets, 1);
	cr_assert_eq(get(&k0).octets, 20 + 60);

	/* before its first: ports 0 (the kernel holds nothing back); after: joined */
	f.id = 9;
	run(IN, &fr);
	f.ff = 0x2000;
	build(&fr, &f);
	run(IN, &fr);
	f.ff = 14;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(get(&k0).packets, 2);
	cr_assert_eq(get(&k).packets, 6);

	/* the first fragment seen on ingress does not serve egress */
	run(EG, &fr);
	k0.dir = WFLOW_DIR_EGRESS;
	cr_assert_eq(get(&k0).packets, 1);
	cr_assert_eq(nflows(), 3);
}

Test(bpf_map, ipv6_fragments, .init = setup, .fini = teardown)
{
	/* fragment headers: next UDP, offset 0 and M (first), offset 100
	 * (later), id 0x01020304 */
	static const uint8_t first[8] = { 17, 0, 0x00, 0x01, 1, 2, 3, 4 };
	static const uint8_t later[8] = { 17, 0, 0x03, 0x20, 1, 2, 3, 4 };
	static const uint8_t other[8] = { 17, 0, 0x03, 0x20, 1, 2, 3, 5 };
	struct fb f = { .v6 = 1, .proto = PKTB_UDP, .sp = 53, .dp = 33333, .pay = 40,
			.ext = first, .ext_len = 8, .ext_nh = 44 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, 0), k0 = k;

	build(&fr, &f);
	run(IN, &fr);
	f.ext = later;
	build(&fr, &f);			/* a UDP header too: bytes of the datagram */
	run(IN, &fr);
	cr_assert_eq(get(&k).packets, 2);
	cr_assert_eq(get(&k).octets, 2 * (40 + 8 + 8 + 40));
	f.ext = other;			/* another datagram */
	build(&fr, &f);
	run(IN, &fr);
	k0.src_port = k0.dst_port = 0;
	cr_assert_eq(get(&k0).packets, 1);
}

Test(bpf_map, ipv6_extension_headers, .init = setup, .fini = teardown)
{
	/* hop-by-hop (8) -> routing (24) -> destination options (16) -> TCP */
	static const uint8_t chain[48] = { [0] = 43, [1] = 0, [8] = 60, [9] = 2, [32] = 6, [33] = 1 };
	/* a later fragment of UDP */
	static const uint8_t later[8] = { 17, 0, 0x01, 0x00, 0, 0, 0, 9 };
	uint8_t nine[9 * 8];
	struct fb f = { .v6 = 1, .proto = PKTB_TCP, .sp = 22, .dp = 50000, .flags = 0x10,
			.ext = chain, .ext_len = sizeof(chain), .ext_nh = 0 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, 0);

	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(get(&k).octets, 40 + 48 + 20);
	/* cut inside the routing header: metered, protocol 43, no ports */
	cr_assert_eq(bh_run(IN, fr.b, 14 + 40 + 8 + 10), BH_UNSPEC);
	k.proto = 43;
	k.src_port = k.dst_port = 0;
	cr_assert_eq(get(&k).packets, 1);
	cr_assert_eq(get(&k).octets, 40 + 48 + 20);

	f.ext = later;
	f.ext_len = sizeof(later);
	f.ext_nh = 44;
	f.proto = PKTB_UDP;
	f.ff = 0;
	build(&fr, &f);
	/* pktbuild writes a UDP header after it: the bytes of the fragment */
	cr_assert_eq(bh_run(IN, fr.b, fr.len), BH_UNSPEC);
	k = key_of(&f, 0, 0);
	k.src_port = k.dst_port = 0;
	cr_assert_eq(get(&k).packets, 1);

	/* nine destination options headers: over the bound, refused */
	memset(nine, 0, sizeof(nine));
	for (int i = 0; i < 9; i++)
		nine[i * 8] = i < 8 ? 60 : 17;
	f.ext = nine;
	f.ext_len = sizeof(nine);
	f.ext_nh = 60;
	build(&fr, &f);
	run(IN, &fr);
	cr_assert_eq(stat(WTC_ST_MALFORMED), 1);
	cr_assert_eq(nflows(), 3);
}

/* ---- the transport layer ---- */

Test(bpf_map, icmp_sctp, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_ICMP, .type = 3, .code = 13 };
	struct frame fr;
	struct wflow_key k;

	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 0, 0);
	cr_assert_eq(k.dst_port, 0x030d);
	cr_assert_eq(get(&k).octets, 28);

	f.v6 = 1;
	f.proto = PKTB_ICMPV6;
	f.type = 128;
	f.code = 0;
	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 0, 0);
	cr_assert_eq(k.dst_port, 0x8000);
	cr_assert_eq(get(&k).packets, 1);

	f.proto = 132;
	f.sp = 2905;
	f.dp = 3868;
	build(&fr, &f);
	run(IN, &fr);
	k = key_of(&f, 0, 0);
	cr_assert_eq(get(&k).octets, 40 + 12);
	cr_assert_eq(nflows(), 3);
}

/* ---- GSO ---- */

/* A TCP super-packet of 4 segments of 100 bytes: 4 packets, each with
 * its IP and TCP headers; ACK on each, PSH and FIN on the last. */
Test(bpf_map, gso_segments, .init = setup, .fini = teardown)
{
	struct fb f = { .proto = PKTB_TCP, .sp = 443, .dp = 40001, .flags = 0x19, .pay = 400 };
	struct frame fr;
	struct wflow_key k = key_of(&f, 0, 0);
	struct wflow_val v;

	build(&fr, &f);
	cr_assert_eq(bh_run_n(IN, fr.b, fr.len, 4, 100, 1), BH_UNSPEC);
	v = get(&k);
	cr_assert_eq(v.packets, 4);
	cr_assert_eq(v.octets, 4 * (20 + 20 + 100));
	cr_assert_eq(v.flag_cnt[WFLOW_ACK], 4);
	cr_assert_eq(v.flag_cnt[WFLOW_PSH], 1);
	cr_assert_eq(v.flag_cnt[WFLOW_FIN], 1);
	cr_assert_eq(v.tcp_flags, 0x19);
	cr_assert_eq(stat(WTC_ST_PACKETS), 4);
	cr_assert_eq(stat(WTC_ST_BYTES), 560);

	/* gso_segs 0 with gso_size 150 (a guest's, SKB_GSO_DODGY): 3 segments */
	cr_assert_eq(bh_run_n(IN, fr.b, fr.len, 0, 150, 1), BH_UNSPEC);
	v = get(&k);
	cr_assert_eq(v.packets, 7);
	cr_assert_eq(v.octets, 560 + 3 * 40 + 400);

	/* UDP GSO over IPv6: each segment repeats 48 bytes of headers */
	f.v6 = 1;
	f.proto = PKTB_UDP;
	f.pay = 1000;
	build(&fr, &f);
	cr_assert_eq(bh_run_n(EG, fr.b, fr.len, 3, 400, 1), BH_UNSPEC);
	k = key_of(&f, 0, 1);
	v = get(&k);
	cr_assert_eq(v.packets, 3);
	cr_assert_eq(v.octets, 3 * 48 + 1000);
}
