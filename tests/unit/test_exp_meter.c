/* test_exp_meter.c - the flow meter: frames built with pktbuild.h, parsed
 * with pkt_parse, fed to the meter at chosen times; every record checked. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "meter.h"
#include "pkt.h"
#include "wpcap.h"
#include "unit/meterhelp.h"

/* ---- the meter under test and what it emits ---- */

static struct meter_rec recs[MAXREC];
static int nrec;
static struct meter *m;

static void on_rec(void *arg, const struct meter_rec *r)
{
	(void)arg;
	cr_assert_lt(nrec, MAXREC);
	recs[nrec++] = *r;
}

static void start(uint64_t active_s, uint64_t idle_s, uint32_t max_flows, uint32_t sampling)
{
	struct meter_cfg c = { .active_ns = active_s * SEC, .inactive_ns = idle_s * SEC,
			       .max_flows = max_flows, .sampling = sampling };

	nrec = 0;
	m = meter_new(&c, on_rec, NULL);
	cr_assert_not_null(m);
}

static void stop(void)
{
	meter_free(m);
	m = NULL;
}

TestSuite(meter, .fini = stop);

static void feed(const struct fr *f, uint64_t t)
{
	struct pkt_info pi = mk(f);

	meter_packet(m, &pi, t, IFX, WFLOW_DIR_INGRESS);
}

/* TCP from A:1234 to B:80 (fwd) or back (rev). */
static void tcp_fwd(uint16_t flags, uint16_t payload, uint64_t t)
{
	struct fr f = { .proto = PKTB_TCP, .src = A4, .dst = B4, .sp = 1234, .dp = 80,
			.flags = flags, .payload = payload };

	feed(&f, t);
}

static void tcp_rev(uint16_t flags, uint16_t payload, uint64_t t)
{
	struct fr f = { .proto = PKTB_TCP, .src = B4, .dst = A4, .sp = 80, .dp = 1234,
			.flags = flags, .payload = payload };

	feed(&f, t);
}

static const struct meter_stats *st(void)
{
	return meter_stats(m);
}

/* ---- keys and counts ---- */

Test(meter, tcp_v4_key_counts_times_flags_ttl)
{
	struct fr syn = { .proto = PKTB_TCP, .src = A4, .dst = B4, .sp = 1234, .dp = 80,
			  .flags = F_SYN, .ttl = 64, .tos = 0x28 };
	struct fr syn_ack = { .proto = PKTB_TCP, .src = B4, .dst = A4, .sp = 80, .dp = 1234,
			      .flags = F_SYN | F_ACK, .ttl = 50, .tos = 0x04 };
	struct fr data = syn;
	const struct meter_rec *r;

	start(60, 15, 0, 0);
	feed(&syn, T0);
	feed(&syn_ack, T0 + 10 * MS);
	data.flags = F_ACK | F_PSH;
	data.ttl = 61;
	data.tos = 0;
	data.payload = 100;
	feed(&data, T0 + 20 * MS);
	data.flags = F_ACK | F_ECE | F_CWR | F_NS;
	data.ttl = 70;
	data.payload = 1000;
	feed(&data, T0 + 30 * MS);
	cr_assert_eq(nrec, 0, "nothing ends before its time");
	meter_flush(m, METER_END_FORCED);

	cr_assert_eq(nrec, 1);
	r = &recs[0];
	cr_assert_eq(r->end_reason, METER_END_FORCED);
	cr_assert_arr_eq(r->key.src, A4, 4);
	cr_assert_arr_eq(r->key.dst, B4, 4);
	for (int i = 4; i < 16; i++)
		cr_assert_eq(r->key.src[i] | r->key.dst[i], 0, "IPv4: first 4 bytes, rest 0");
	cr_assert_eq(r->key.src_port, 1234);
	cr_assert_eq(r->key.dst_port, 80);
	cr_assert_eq(r->key.proto, 6);
	cr_assert_eq(r->key.ipver, 4);
	cr_assert_eq(r->key.vlan, 0);
	cr_assert_eq(r->key.ifindex, IFX);
	cr_assert_eq(r->key.dir, WFLOW_DIR_INGRESS);

	cr_assert_eq(r->fwd.packets, 3);
	cr_assert_eq(r->fwd.octets, 40 + 140 + 1040, "IP lengths");
	cr_assert_eq(r->fwd.first_ns, T0);
	cr_assert_eq(r->fwd.last_ns, T0 + 30 * MS);
	cr_assert_eq(r->fwd.tcp_flags, F_SYN | F_ACK | F_PSH | F_ECE | F_CWR | F_NS);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_SYN], 1);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_ACK], 2);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_PSH], 1);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_ECE], 1);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_CWR], 1);
	cr_assert_eq(r->fwd.flag_cnt[WFLOW_FIN] + r->fwd.flag_cnt[WFLOW_RST] +
		     r->fwd.flag_cnt[WFLOW_URG], 0);
	cr_assert_eq(r->fwd.min_ttl, 61);
	cr_assert_eq(r->fwd.max_ttl, 70);
	cr_assert_eq(r->fwd.tos, 0x28, "the first packet's");

	cr_assert_eq(r->rev.packets, 1);
	cr_assert_eq(r->rev.octets, 40);
	cr_assert_eq(r->rev.first_ns, T0 + 10 * MS);
	cr_assert_eq(r->rev.last_ns, T0 + 10 * MS);
	cr_assert_eq(r->rev.tcp_flags, F_SYN | F_ACK);
	cr_assert_eq(r->rev.flag_cnt[WFLOW_SYN], 1);
	cr_assert_eq(r->rev.flag_cnt[WFLOW_ACK], 1);
	cr_assert_eq(r->rev.min_ttl, 50);
	cr_assert_eq(r->rev.max_ttl, 50);
	cr_assert_eq(r->rev.tos, 0x04);

	cr_assert_eq(st()->packets, 4);
	cr_assert_eq(st()->flows_created, 1);
	cr_assert_eq(st()->records, 1);
	cr_assert_eq(st()->active, 0);
}

Test(meter, udp_v6_vlan_key)
{
	struct fr q = { .v6 = 1, .vlan = 100, .proto = PKTB_UDP, .src = A6, .dst = B6,
			.sp = 5353, .dp = 53, .payload = 30, .ttl = 255, .tos = 0xb8 };
	struct fr a = { .v6 = 1, .vlan = 100, .proto = PKTB_UDP, .src = B6, .dst = A6,
			.sp = 53, .dp = 5353, .payload = 90, .ttl = 57 };
	struct fr other_vlan = q, qinq = q;
	const struct meter_rec *q100, *q200;

	other_vlan.vlan = 200;
	qinq.vlan2 = 300;
	start(60, 15, 0, 0);
	feed(&q, T0);
	feed(&a, T0 + MS);
	feed(&other_vlan, T0 + 2 * MS);
	feed(&qinq, T0 + 3 * MS);		/* outer 100 inner 300: the outer is the key's */
	meter_flush(m, METER_END_FORCED);

	cr_assert_eq(nrec, 2, "another VLAN is another flow");
	/* oldest first: 200's last packet came before the QinQ one */
	q200 = &recs[0];
	q100 = &recs[1];
	cr_assert_arr_eq(q100->key.src, A6, 16);
	cr_assert_arr_eq(q100->key.dst, B6, 16);
	cr_assert_eq(q100->key.ipver, 6);
	cr_assert_eq(q100->key.proto, 17);
	cr_assert_eq(q100->key.vlan, 100);
	cr_assert_eq(q100->key.src_port, 5353);
	cr_assert_eq(q100->key.dst_port, 53);
	cr_assert_eq(q100->fwd.packets, 2);
	cr_assert_eq(q100->fwd.octets, 2 * (40 + 8 + 30), "IPv6 payload length + 40");
	cr_assert_eq(q100->fwd.tos, 0xb8);
	cr_assert_eq(q100->fwd.min_ttl, 255);
	cr_assert_eq(q100->rev.packets, 1);
	cr_assert_eq(q100->rev.octets, 40 + 8 + 90);
	cr_assert_eq(q100->rev.max_ttl, 57);
	cr_assert_eq(q100->rev.tcp_flags, 0);
	cr_assert_eq(q200->key.vlan, 200);
	cr_assert_eq(q200->fwd.packets, 1);
	cr_assert_eq(q200->rev.packets, 0);
}

Test(meter, icmp_type_code_in_key_and_record)
{
	struct fr echo = { .proto = PKTB_ICMP, .type = 8, .code = 0, .payload = 56 };
	struct fr unreach = { .proto = PKTB_ICMP, .src = B4, .dst = A4, .type = 3, .code = 1 };
	struct fr echo6 = { .v6 = 1, .proto = PKTB_ICMPV6, .type = 128, .code = 0 };

	start(60, 15, 0, 0);
	feed(&echo, T0);
	feed(&echo, T0 + SEC);
	feed(&unreach, T0 + 2 * SEC);
	feed(&echo6, T0 + 3 * SEC);
	meter_flush(m, METER_END_FORCED);

	cr_assert_eq(nrec, 3);
	cr_assert_eq(recs[0].key.proto, 1);
	cr_assert_eq(recs[0].key.src_port, 0);
	cr_assert_eq(recs[0].key.dst_port, 8 * 256 + 0);
	cr_assert_eq(recs[0].icmp_type, 8);
	cr_assert_eq(recs[0].icmp_code, 0);
	cr_assert_eq(recs[0].fwd.packets, 2);
	cr_assert_eq(recs[0].fwd.octets, 2 * (20 + 8 + 56));
	cr_assert_arr_eq(recs[1].key.src, B4, 4);
	cr_assert_eq(recs[1].key.dst_port, 3 * 256 + 1);
	cr_assert_eq(recs[1].icmp_type, 3);
	cr_assert_eq(recs[1].icmp_code, 1);
	cr_assert_eq(recs[2].key.proto, 58);
	cr_assert_eq(recs[2].key.ipver, 6);
	cr_assert_eq(recs[2].key.dst_port, 128 * 256);
	cr_assert_eq(recs[2].icmp_type, 128);
}

Test(meter, not_ip_truncated_malformed_counted)
{
	uint8_t b[128], arp[42] = {0};
	struct pkt_info pi;
	struct pktb w;
	struct fr ok = { .proto = PKTB_UDP, .sp = 1, .dp = 2 };
	size_t len;

	start(60, 15, 0, 0);
	memcpy(arp, MAC_D, 6);
	arp[12] = 0x08;
	arp[13] = 0x06;
	cr_assert_eq(pkt_parse(&pi, arp, sizeof(arp), PKT_START_ETH), WEIR_OK);
	meter_packet(m, &pi, T0, IFX, 0);

	pktb_init(&w, b, sizeof(b));
	pktb_eth(&w, MAC_D, MAC_S, PKTB_ETH_IPV4);
	pktb_ipv4(&w, &(struct pktb_ip4){ .ttl = 1, .proto = 17 });
	pktb_udp(&w, 1, 2, 0);
	len = pktb_finish(&w);
	cr_assert_eq(pkt_parse(&pi, b, 14 + 10, PKT_START_ETH), WEIR_OK);
	meter_packet(m, &pi, T0, IFX, 0);		/* IP header cut */
	b[14] = 0x55;					/* version 5 */
	cr_assert_eq(pkt_parse(&pi, b, len, PKT_START_ETH), WEIR_OK);
	meter_packet(m, &pi, T0, IFX, 0);
	feed(&ok, T0);

	cr_assert_eq(st()->packets, 4);
	cr_assert_eq(st()->not_ip, 1);
	cr_assert_eq(st()->truncated, 1);
	cr_assert_eq(st()->malformed, 1);
	cr_assert_eq(st()->flows_created, 1, "only the good frame made a flow");
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].fwd.packets, 1);
}

/* ---- end reasons ---- */

Test(meter, idle_timeout_on_packet_time)
{
	start(60, 15, 0, 0);
	tcp_fwd(F_ACK, 10, T0);
	tcp_rev(F_ACK, 0, T0 + 2 * SEC);
	meter_expire(m, T0 + 17 * SEC - 1);
	cr_assert_eq(nrec, 0, "idle 1 ns short of 15 s: still on");
	meter_expire(m, T0 + 17 * SEC);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_IDLE);
	cr_assert_eq(recs[0].fwd.packets, 1);
	cr_assert_eq(recs[0].rev.packets, 1);
	cr_assert_eq(recs[0].rev.last_ns, T0 + 2 * SEC);
	cr_assert_eq(st()->active, 0);

	/* A packet after the timeout ends its old flow before it counts. */
	tcp_fwd(F_ACK, 10, T0 + 40 * SEC);
	tcp_fwd(F_ACK, 10, T0 + 70 * SEC);
	cr_assert_eq(nrec, 2, "the packet at 70 s ended the one at 40 s first");
	cr_assert_eq(recs[1].end_reason, METER_END_IDLE);
	cr_assert_eq(recs[1].fwd.first_ns, T0 + 40 * SEC);
	cr_assert_eq(recs[1].fwd.packets, 1);
	cr_assert_eq(st()->flows_created, 3);
	cr_assert_eq(st()->active, 1);
}

Test(meter, active_timeout_flow_goes_on_in_same_entry)
{
	start(10, 5, 0, 0);
	for (int s = 0; s < 25; s++)
		tcp_fwd(F_ACK, 100, T0 + (uint64_t)s * SEC);
	cr_assert_eq(nrec, 2, "at 10 s and 20 s");
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(recs[i].end_reason, METER_END_ACTIVE);
		cr_assert_eq(recs[i].fwd.packets, 10);
		cr_assert_eq(recs[i].fwd.octets, 10 * 140);
		cr_assert_eq(recs[i].fwd.first_ns, T0 + (uint64_t)i * 10 * SEC);
		cr_assert_eq(recs[i].fwd.last_ns, T0 + ((uint64_t)i * 10 + 9) * SEC);
		cr_assert_eq(recs[i].fwd.flag_cnt[WFLOW_ACK], 10, "counts start from zero");
	}
	cr_assert_eq(st()->flows_created, 1, "the same entry goes on");
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 3);
	cr_assert_eq(recs[2].end_reason, METER_END_FORCED);
	cr_assert_eq(recs[2].fwd.packets, 5);
	cr_assert_eq(recs[2].fwd.first_ns, T0 + 20 * SEC);
}

Test(meter, active_then_idle_emits_no_empty_record)
{
	start(10, 5, 0, 0);
	tcp_fwd(F_ACK, 0, T0);
	tcp_fwd(F_ACK, 0, T0 + 4 * SEC);
	tcp_fwd(F_ACK, 0, T0 + 8 * SEC);
	meter_expire(m, T0 + 10 * SEC);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_ACTIVE);
	cr_assert_eq(recs[0].fwd.packets, 3);
	meter_expire(m, T0 + 13 * SEC);
	cr_assert_eq(nrec, 1, "idle with nothing since its record: no record");
	cr_assert_eq(st()->active, 0);

	/* An idle deadline before the active one wins. */
	tcp_fwd(F_ACK, 0, T0 + 100 * SEC);
	tcp_fwd(F_ACK, 0, T0 + 104 * SEC);
	meter_expire(m, T0 + 200 * SEC);
	cr_assert_eq(nrec, 2);
	cr_assert_eq(recs[1].end_reason, METER_END_IDLE, "idle at 109 s, active at 110 s");
	cr_assert_eq(recs[1].fwd.packets, 2);
}

Test(meter, fin_both_ways_acked_lingers_for_trailing_ack)
{
	start(60, 15, 0, 0);
	tcp_fwd(F_SYN, 0, T0);
	tcp_rev(F_SYN | F_ACK, 0, T0 + 1 * MS);
	tcp_fwd(F_ACK, 0, T0 + 2 * MS);
	tcp_fwd(F_ACK | F_PSH, 500, T0 + 3 * MS);
	tcp_fwd(F_FIN | F_ACK, 0, T0 + 4 * MS);
	tcp_rev(F_ACK, 0, T0 + 5 * MS);
	tcp_rev(F_FIN | F_ACK, 0, T0 + 6 * MS);
	meter_expire(m, T0 + 5 * SEC);
	cr_assert_eq(nrec, 0, "FIN both ways, the last not acknowledged: not the end yet");
	tcp_fwd(F_ACK, 0, T0 + 5 * SEC + 1 * MS);	/* acknowledges the last FIN */
	tcp_fwd(F_ACK, 0, T0 + 5 * SEC + 500 * MS);	/* a trailing ACK, in the linger */
	meter_expire(m, T0 + 6 * SEC);
	cr_assert_eq(nrec, 0, "1 ms before the linger's end");
	meter_expire(m, T0 + 6 * SEC + 1 * MS);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_EOF);
	cr_assert_eq(recs[0].fwd.packets, 6, "the trailing ACK stayed in the flow");
	cr_assert_eq(recs[0].rev.packets, 3);
	cr_assert_eq(recs[0].fwd.flag_cnt[WFLOW_FIN], 1);
	cr_assert_eq(recs[0].rev.flag_cnt[WFLOW_FIN], 1);
	cr_assert_eq(recs[0].fwd.flag_cnt[WFLOW_ACK], 5);
	cr_assert_eq(recs[0].fwd.last_ns, T0 + 5 * SEC + 500 * MS);
	cr_assert_eq(st()->flows_created, 1);
	cr_assert_eq(st()->active, 0);
}

Test(meter, fin_from_responder_first)
{
	start(60, 15, 0, 0);
	tcp_fwd(F_SYN, 0, T0);
	tcp_rev(F_FIN | F_ACK, 0, T0 + 1 * MS);
	tcp_fwd(F_FIN | F_ACK, 0, T0 + 2 * MS);
	tcp_fwd(F_ACK, 0, T0 + 3 * MS);		/* same side as the last FIN */
	meter_expire(m, T0 + 10 * SEC);
	cr_assert_eq(nrec, 0, "an ACK from the last FIN's sender acknowledges nothing");
	tcp_rev(F_ACK, 0, T0 + 11 * SEC);
	meter_expire(m, T0 + 12 * SEC);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_EOF);
	cr_assert_eq(recs[0].fwd.packets, 3);
	cr_assert_eq(recs[0].rev.packets, 2);
}

Test(meter, rst_ends_after_linger)
{
	start(60, 15, 0, 0);
	tcp_fwd(F_SYN, 0, T0);
	tcp_rev(F_RST | F_ACK, 0, T0 + 1 * MS);
	tcp_rev(F_RST, 0, T0 + 300 * MS);		/* in the linger: same flow */
	meter_expire(m, T0 + 1 * SEC);
	cr_assert_eq(nrec, 0);
	meter_expire(m, T0 + 1 * SEC + 1 * MS);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_EOF);
	cr_assert_eq(recs[0].fwd.packets, 1);
	cr_assert_eq(recs[0].rev.packets, 2);
	cr_assert_eq(recs[0].rev.flag_cnt[WFLOW_RST], 2);
	cr_assert_eq(recs[0].rev.tcp_flags, F_RST | F_ACK);
}

Test(meter, syn_after_teardown_is_a_new_flow)
{
	start(60, 15, 0, 0);
	tcp_fwd(F_SYN, 0, T0);
	tcp_rev(F_RST | F_ACK, 0, T0 + 1 * MS);
	tcp_fwd(F_SYN, 0, T0 + 200 * MS);		/* a retry, in the linger */
	cr_assert_eq(nrec, 1, "the new SYN ended the refused attempt");
	cr_assert_eq(recs[0].end_reason, METER_END_EOF);
	cr_assert_eq(recs[0].fwd.packets, 1);
	cr_assert_eq(recs[0].rev.packets, 1);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 2);
	cr_assert_eq(recs[1].end_reason, METER_END_FORCED);
	cr_assert_eq(recs[1].fwd.first_ns, T0 + 200 * MS);
	cr_assert_eq(st()->flows_created, 2);
}

Test(meter, single_packet_flows_kept)
{
	struct fr u = { .proto = PKTB_UDP, .sp = 9, .dp = 9 };

	start(60, 15, 0, 0);
	for (int i = 0; i < 10; i++) {
		u.sp = (uint16_t)(1000 + i);
		feed(&u, T0 + (uint64_t)i * MS);
	}
	meter_expire(m, T0 + 20 * SEC);
	cr_assert_eq(nrec, 10);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(recs[i].fwd.packets, 1);
		cr_assert_eq(recs[i].key.src_port, 1000 + i, "oldest first");
		cr_assert_eq(recs[i].end_reason, METER_END_IDLE);
	}
}

/* ---- the bound: lack of resources ---- */

Test(meter, full_table_ends_the_flow_idle_longest)
{
	struct fr u = { .proto = PKTB_UDP, .dp = 53 };

	start(60, 15, 2, 0);
	u.sp = 1;
	feed(&u, T0);
	u.sp = 2;
	feed(&u, T0 + 1 * MS);
	u.sp = 1;
	feed(&u, T0 + 2 * MS);			/* 1 is now the more recent */
	u.sp = 3;
	feed(&u, T0 + 3 * MS);			/* full: 2 goes */
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_RESOURCES);
	cr_assert_eq(recs[0].key.src_port, 2);
	cr_assert_eq(recs[0].fwd.packets, 1);
	cr_assert_eq(st()->evicted, 1);
	cr_assert_eq(st()->refused_flows, 0);
	cr_assert_eq(st()->active, 2);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 3);
	cr_assert_eq(recs[1].key.src_port, 1);
	cr_assert_eq(recs[1].fwd.packets, 2);
	cr_assert_eq(recs[2].key.src_port, 3);
}

Test(meter, bound_holds_and_every_packet_reaches_a_record)
{
	struct fr u = { .proto = PKTB_UDP, .dp = 53, .payload = 12 };
	uint64_t pk = 0, oct = 0;

	start(60, 15, 64, 0);
	for (int i = 0; i < 3000; i++) {
		u.sp = (uint16_t)(1 + (i * 7919) % 200);
		feed(&u, T0 + (uint64_t)i * MS);
		cr_assert_leq(st()->active, 64);
	}
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, (int)st()->records);
	cr_assert_leq(nrec, MAXREC);
	for (int i = 0; i < nrec; i++) {
		pk += recs[i].fwd.packets;
		oct += recs[i].fwd.octets;
	}
	cr_assert_eq(pk, 3000);
	cr_assert_eq(oct, 3000 * (20 + 8 + 12));
	cr_assert_gt(st()->evicted, 0);
	cr_assert_eq(st()->flows_created, st()->records);
}

/* ---- fragments ---- */

static struct fr frag4(uint16_t off, int more, uint16_t payload)
{
	struct fr f = { .proto = PKTB_UDP, .sp = 4000, .dp = 2049, .id = 0x4242,
			.frag = (uint16_t)((more ? 0x2000 : 0) | off), .payload = payload };

	return f;
}

Test(meter, fragments_in_order)
{
	struct fr f1 = frag4(0, 1, 1472), f2 = frag4(185, 1, 1480), f3 = frag4(370, 0, 100);
	start(60, 15, 0, 0);
	feed(&f1, T0);
	feed(&f2, T0 + 1 * MS);
	feed(&f3, T0 + 2 * MS);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 1, "one flow, no port-less phantom");
	cr_assert_eq(recs[0].key.src_port, 4000);
	cr_assert_eq(recs[0].key.dst_port, 2049);
	cr_assert_eq(recs[0].fwd.packets, 3);
	cr_assert_eq(recs[0].fwd.octets, (20 + 8 + 1472) + (20 + 1480) + (20 + 100));
	cr_assert_eq(recs[0].fwd.last_ns, T0 + 2 * MS);
	cr_assert_eq(st()->frag_pending, 0);
	cr_assert_eq(st()->frag_orphaned, 0);
}

Test(meter, fragments_out_of_order)
{
	struct fr f1 = frag4(0, 1, 1472), f2 = frag4(185, 0, 200);

	start(60, 15, 0, 0);
	feed(&f2, T0);
	cr_assert_eq(st()->frag_pending, 1);
	cr_assert_eq(st()->flows_created, 0, "held, no flow yet");
	feed(&f1, T0 + 1 * MS);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].key.src_port, 4000);
	cr_assert_eq(recs[0].fwd.packets, 2);
	cr_assert_eq(recs[0].fwd.octets, (20 + 8 + 1472) + (20 + 200));
	cr_assert_eq(recs[0].fwd.first_ns, T0, "the held fragment came first");
	cr_assert_eq(recs[0].fwd.last_ns, T0 + 1 * MS);
	cr_assert_eq(st()->frag_orphaned, 0);
}

Test(meter, fragment_without_first_is_orphaned_with_ports_0)
{
	struct fr f2 = frag4(185, 0, 200);

	start(120, 60, 0, 0);
	feed(&f2, T0);
	meter_expire(m, T0 + 30 * SEC - 1);
	cr_assert_eq(st()->flows_created, 0);
	meter_expire(m, T0 + 30 * SEC);
	cr_assert_eq(st()->frag_orphaned, 1);
	cr_assert_eq(st()->flows_created, 1);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].key.src_port, 0);
	cr_assert_eq(recs[0].key.dst_port, 0);
	cr_assert_eq(recs[0].key.proto, 17);
	cr_assert_eq(recs[0].fwd.packets, 1);
	cr_assert_eq(recs[0].fwd.octets, 220);
	cr_assert_eq(recs[0].fwd.first_ns, T0);
}

Test(meter, ipv6_fragments_out_of_order)
{
	struct fr f1 = { .v6 = 1, .proto = PKTB_UDP, .sp = 7000, .dp = 7001, .frag6 = 1,
			 .more6 = 1, .id = 0xdeadbeef, .payload = 1000 };
	struct fr f2 = { .v6 = 1, .proto = PKTB_UDP, .frag6 = 1, .off6 = 126,
			 .id = 0xdeadbeef, .payload = 300 };

	start(60, 15, 0, 0);
	feed(&f2, T0);
	feed(&f1, T0 + 1 * MS);
	f2.id = 0x1;					/* another datagram, never completed */
	feed(&f2, T0 + 2 * MS);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 2);
	cr_assert_eq(st()->frag_pending, 2);
	cr_assert_eq(st()->frag_orphaned, 1, "flushed: the held one with ports 0");
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(recs[i].key.ipver, 6);
		cr_assert_eq(recs[i].key.proto, 17);
	}
	/* Records come oldest first: the orphan's flow was made at the flush. */
	cr_assert_eq(recs[0].key.src_port, 7000);
	cr_assert_eq(recs[0].key.dst_port, 7001);
	cr_assert_eq(recs[0].fwd.packets, 2);
	cr_assert_eq(recs[0].fwd.octets, (40 + 8 + 8 + 1000) + (40 + 8 + 300));
	cr_assert_eq(recs[1].key.src_port, 0);
	cr_assert_eq(recs[1].fwd.packets, 1);
}

Test(meter, fragment_table_bound_orphans_the_oldest)
{
	struct fr f = frag4(185, 0, 100);

	start(60, 15, 100, 0);			/* fragment entries: max(64, 100 / 4) */
	for (uint32_t id = 1; id <= 65; id++) {
		f.id = id;
		feed(&f, T0 + id * MS);
	}
	cr_assert_eq(st()->frag_pending, 65);
	cr_assert_eq(st()->frag_evicted, 1);
	cr_assert_eq(st()->frag_orphaned, 1, "the oldest datagram's, at once");
	cr_assert_eq(st()->flows_created, 1);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(st()->frag_orphaned, 65);
	cr_assert_eq(nrec, 1, "all with ports 0: one flow");
	cr_assert_eq(recs[0].fwd.packets, 65);
	cr_assert_eq(recs[0].fwd.first_ns, T0 + MS);
}

Test(meter, ipv6_atomic_fragments_are_whole_packets)
{
	struct fr f = { .v6 = 1, .proto = PKTB_UDP, .sp = 7000, .dp = 7001, .frag6 = 1,
			.payload = 10 };

	start(60, 15, 100, 0);			/* 64 fragment entries */
	for (uint32_t id = 1; id <= 100; id++) {
		f.id = id;
		feed(&f, T0 + id * MS);
	}
	cr_assert_eq(st()->frag_evicted, 0, "no fragment entry taken: nothing to wait for");
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].key.src_port, 7000);
	cr_assert_eq(recs[0].fwd.packets, 100);
	cr_assert_eq(recs[0].fwd.octets, 100 * (40 + 8 + 8 + 10));
}

/* ---- sampling, merge ---- */

Test(meter, sampling_systematic_count_based)
{
	start(60, 15, 0, 3);
	for (int i = 0; i < 10; i++)
		tcp_fwd(F_ACK, (uint16_t)i, T0 + (uint64_t)i * MS);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(st()->packets, 10);
	cr_assert_eq(st()->sampled_out, 6);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].fwd.packets, 4, "packets 1, 4, 7, 10");
	cr_assert_eq(recs[0].fwd.octets, 40 * 4 + 0 + 3 + 6 + 9);
	cr_assert_eq(recs[0].fwd.first_ns, T0);
	cr_assert_eq(recs[0].fwd.last_ns, T0 + 9 * MS);
}

static struct wflow_val val(uint64_t first, uint64_t last, uint64_t pk, uint64_t oct,
			    uint16_t flags, uint8_t ttl_lo, uint8_t ttl_hi, uint8_t tos)
{
	struct wflow_val v = { .first_ns = first, .last_ns = last, .packets = pk, .octets = oct,
			       .tcp_flags = flags, .min_ttl = ttl_lo, .max_ttl = ttl_hi,
			       .tos = tos };

	for (int f = 0; f < WFLOW_NFLAGS; f++)
		if (flags & (1u << f))
			v.flag_cnt[f] = (uint32_t)pk;
	return v;
}

Test(meter, merge_folds_aggregates_both_ways)
{
	struct wflow_key k = { .src_port = 1234, .dst_port = 80, .proto = 6, .ipver = 4,
			       .ifindex = IFX, .dir = WFLOW_DIR_EGRESS };
	struct wflow_key r;
	struct wflow_val a = val(T0 + SEC, T0 + 2 * SEC, 10, 5000, F_ACK | F_PSH, 60, 64, 0x10);
	struct wflow_val b = val(T0, T0 + 3 * SEC, 5, 300, F_SYN | F_ACK, 62, 70, 0x20);
	struct wflow_val c = val(T0 + SEC, T0 + SEC, 8, 400, F_ACK, 50, 50, 0);

	memcpy(k.src, A4, 4);
	memcpy(k.dst, B4, 4);
	r = k;
	memcpy(r.src, B4, 4);
	memcpy(r.dst, A4, 4);
	r.src_port = 80;
	r.dst_port = 1234;
	r.dir = WFLOW_DIR_INGRESS;

	start(60, 15, 0, 0);
	meter_merge(m, &k, &a);
	meter_merge(m, &k, &b);
	meter_merge(m, &r, &c);
	tcp_fwd(F_ACK, 0, T0 + 4 * SEC);	/* a packet of the same flow, offline style */
	meter_flush(m, METER_END_FORCED);

	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].key.dir, WFLOW_DIR_EGRESS);
	cr_assert_eq(recs[0].fwd.packets, 10 + 5 + 1, "the packet joins: dir is no identity");
	cr_assert_eq(recs[0].fwd.octets, 5300 + 40);
	cr_assert_eq(recs[0].fwd.first_ns, T0);
	cr_assert_eq(recs[0].fwd.last_ns, T0 + 4 * SEC);
	cr_assert_eq(recs[0].fwd.tos, 0x20, "the earlier aggregate's");
	cr_assert_eq(recs[0].fwd.min_ttl, 60);
	cr_assert_eq(recs[0].fwd.max_ttl, 70);
	cr_assert_eq(recs[0].fwd.tcp_flags, F_ACK | F_PSH | F_SYN);
	cr_assert_eq(recs[0].fwd.flag_cnt[WFLOW_ACK], 16);
	cr_assert_eq(recs[0].fwd.flag_cnt[WFLOW_PSH], 10);
	cr_assert_eq(recs[0].fwd.flag_cnt[WFLOW_SYN], 5);
	cr_assert_eq(recs[0].rev.packets, 8);
	cr_assert_eq(recs[0].rev.octets, 400);
	cr_assert_eq(recs[0].rev.min_ttl, 50);
	cr_assert_eq(recs[0].end_reason, METER_END_FORCED);
}

Test(meter, merge_fin_both_ways_and_rst_end_the_flow)
{
	struct wflow_key k = { .src_port = 1, .dst_port = 2, .proto = 6, .ipver = 4 };
	struct wflow_key r = { .src_port = 2, .dst_port = 1, .proto = 6, .ipver = 4 };
	struct wflow_val a = val(T0, T0 + MS, 3, 120, F_SYN | F_ACK | F_FIN, 64, 64, 0);
	struct wflow_val b = val(T0, T0 + 2 * MS, 2, 80, F_ACK | F_FIN, 64, 64, 0);
	struct wflow_val x = val(T0, T0 + 2 * MS, 1, 40, F_RST, 64, 64, 0);

	memcpy(k.src, A4, 4);
	memcpy(k.dst, B4, 4);
	memcpy(r.src, B4, 4);
	memcpy(r.dst, A4, 4);
	start(60, 15, 0, 0);
	meter_merge(m, &k, &a);
	meter_merge(m, &r, &b);
	meter_expire(m, T0 + 2 * MS + SEC - 1);
	cr_assert_eq(nrec, 0, "lingering");
	meter_expire(m, T0 + 2 * MS + SEC);
	cr_assert_eq(nrec, 1);
	cr_assert_eq(recs[0].end_reason, METER_END_EOF);
	cr_assert_eq(recs[0].fwd.packets, 3);
	cr_assert_eq(recs[0].rev.packets, 2);

	k.src_port = 5;
	meter_merge(m, &k, &x);
	meter_expire(m, T0 + 10 * SEC);
	cr_assert_eq(nrec, 2);
	cr_assert_eq(recs[1].end_reason, METER_END_EOF);
	cr_assert_eq(recs[1].key.src_port, 5);
}

Test(meter, forced_flush_ends_all_lingering_ones_as_detected)
{
	struct fr u = { .proto = PKTB_UDP, .sp = 68, .dp = 67 };

	start(60, 15, 0, 0);
	tcp_fwd(F_SYN, 0, T0);
	tcp_rev(F_RST, 0, T0 + MS);		/* lingering at the flush: its end was seen */
	feed(&u, T0 + 2 * MS);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 2);
	cr_assert_eq(recs[0].end_reason, METER_END_FORCED);
	cr_assert_eq(recs[0].key.proto, 17);
	cr_assert_eq(recs[1].end_reason, METER_END_EOF);
	cr_assert_eq(recs[1].key.proto, 6);
	cr_assert_eq(recs[1].rev.packets, 1);
	meter_flush(m, METER_END_FORCED);
	cr_assert_eq(nrec, 2, "nothing left");
	cr_assert_eq(st()->active, 0);
	cr_assert_eq(st()->records, 2);
}

/* ---- real captures ---- */

struct tally {
	uint64_t packets, octets;
};

static void on_tally(void *arg, const struct meter_rec *r)
{
	struct tally *t = arg;

	t->packets += r->fwd.packets + r->rev.packets;
	t->octets += r->fwd.octets + r->rev.octets;
}

/* One capture through pkt_parse and a meter with a small table: every
 * packet the meter takes reaches exactly one record (fragments held,
 * orphaned or evicted included), and what it skips is counted by the
 * reason the test finds too. 1: the file was read. */
static int meter_capture(const char *path, uint64_t *frames)
{
	struct meter_cfg c = { .max_flows = 256, .inactive_ns = 2 * SEC, .active_ns = 10 * SEC };
	uint64_t want_pk = 0, want_oct = 0, skipped = 0;
	struct tally t = { 0 };
	struct wpcap_frame f;
	struct wpcap_rd r = { 0 };
	struct meter *mt;
	char err[256];
	int start, rc;

	if (wpcap_open_read(&r, path, err, sizeof(err)))
		return 0;
	start = r.dlt == WPCAP_DLT_EN10MB ? PKT_START_ETH :
		r.dlt == WPCAP_DLT_IPV4 ? PKT_START_IPV4 :
		r.dlt == WPCAP_DLT_IPV6 ? PKT_START_IPV6 : 0;
	if (!start) {
		wpcap_close_read(&r);
		return 0;
	}
	mt = meter_new(&c, on_tally, &t);
	cr_assert_not_null(mt);
	while ((rc = wpcap_next(&r, &f)) == 1) {
		struct pkt_info pi;

		cr_assert_eq(pkt_parse(&pi, f.p, f.caplen, start), WEIR_OK);
		if ((pi.layers & (PKT_L_IPV4 | PKT_L_IPV6)) &&
		    !(pi.flags & (PKT_F_MALFORMED | PKT_F_DEPTH))) {
			want_pk++;
			want_oct += pi.ip_len;
		} else {
			skipped++;
		}
		meter_packet(mt, &pi, f.t_ns, 0, 0);
		(*frames)++;
	}
	wpcap_close_read(&r);
	meter_flush(mt, METER_END_FORCED);
	cr_assert_eq(t.packets, want_pk, "%s: packets in records", path);
	cr_assert_eq(t.octets, want_oct, "%s: octets in records", path);
	cr_assert_eq(meter_stats(mt)->not_ip + meter_stats(mt)->truncated +
		     meter_stats(mt)->malformed, skipped, "%s: skipped by reason", path);
	cr_assert_eq(meter_stats(mt)->active, 0);
	meter_free(mt);
	return 1;
}

Test(meter, every_shared_capture_conserves_its_packets, .timeout = 120)
{
	const char *sh = getenv("WEIR_SHARED");
	char dir[512], path[1024];
	uint64_t frames = 0;
	struct dirent *d;
	int files = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/testdata/tcpdump-pcaps", sh && *sh ? sh : "../shared");
	dp = opendir(dir);
	if (!dp) {
		printf("SKIPPED: %s absent (set WEIR_SHARED to the shared folder)\n", dir);
		cr_skip_test("%s absent", dir);
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		files += meter_capture(path, &frames);
	}
	closedir(dp);
	cr_assert_gt(files, 400, "Ethernet and raw IP captures metered: %d", files);
	printf("meter: %d captures, %llu frames\n", files, (unsigned long long)frames);
	cr_assert_gt(frames, 5000);
}
