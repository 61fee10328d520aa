/* test_sflow.c - sFlow v5 decoder, normalization and encoder: round trips,
 * counters, the encoder's bounds, decoder views of hand-written records,
 * sequence tracking, XDR padding. Malformed datagrams are in
 * test_sflow_bad.c; what both use is in sflowhelp.h. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#include "sflowhelp.h"

/* What the decoder adds to the facts a flow carried. */
static void expect(struct flow *e, const struct flow *in, const struct sflow_agent *a)
{
	*e = *in;
	e->type = WEIR_PROTO_SFLOW;
	e->time_received_ns = RECV_NS;
	e->time_flow_start_ns = RECV_NS;
	e->time_flow_end_ns = RECV_NS;
	e->sequence_num = a->sequence;
	e->observation_domain_id = a->sub_agent;
	e->sampler_address = a->addr;
	e->packets = 1;
	if (!e->sampling_rate)
		e->sampling_rate = 1;
	e->has |= FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_PACKETS | FLOW_HAS_SAMPLER;
}

#define EQ(field) cr_assert_eq(got->field, want->field, "flow %zu: " #field " %llu, want %llu", \
			       i, (unsigned long long)got->field, (unsigned long long)want->field)
#define AEQ(field) cr_assert(memcmp(&got->field, &want->field, sizeof(want->field)) == 0, \
			     "flow %zu: " #field, i)

static void assert_flow_eq(size_t i, const struct flow *got, const struct flow *want)
{
	EQ(has);
	EQ(type);
	EQ(time_received_ns);
	EQ(sequence_num);
	EQ(sampling_rate);
	AEQ(sampler_address);
	EQ(observation_domain_id);
	EQ(time_flow_start_ns);
	EQ(time_flow_end_ns);
	EQ(bytes);
	EQ(packets);
	AEQ(src_addr);
	AEQ(dst_addr);
	EQ(etype);
	EQ(proto);
	EQ(src_port);
	EQ(dst_port);
	EQ(in_if);
	EQ(out_if);
	AEQ(src_mac);
	AEQ(dst_mac);
	EQ(vlan_id);
	EQ(dst_vlan_id);
	EQ(ip_tos);
	EQ(ip_ttl);
	EQ(tcp_flags);
	EQ(icmp_type);
	EQ(icmp_code);
	EQ(src_as);
	EQ(dst_as);
	AEQ(next_hop);
	AEQ(bgp_next_hop);
	EQ(src_net);
	EQ(dst_net);
	EQ(flow_direction);
	EQ(ipv6_flow_label);
	EQ(fragment_offset);
	EQ(ip_flags);
}

static void round_trip(const char *agent_addr, int expanded)
{
	struct flow fl[16], want;
	struct sflow_agent a = agent(agent_addr), before;
	struct weir_ctx ctx;
	static struct seen sn;
	uint8_t buf[4096];
	struct wr w;
	size_t n = make_flows(fl);

	a.expanded = (uint8_t)expanded;
	before = a;
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, n, NULL, 0), WEIR_OK);
	cr_assert_eq(a.sequence, before.sequence + 1);
	cr_assert_eq(a.flow_seq, before.flow_seq + n);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);
	cr_assert_eq(sn.n, n);
	cr_assert_eq(ctx.records, n);
	cr_assert_eq(ctx.messages, 1);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sn.flow_err[i], WEIR_OK);
		cr_assert_eq(sn.s[i].kind, SFLOW_KIND_FLOW);
		cr_assert_eq(sn.s[i].sequence, before.flow_seq + 1 + i);
		cr_assert_eq(sn.s[i].expanded,
			     expanded || fl[i].in_if > 0xffffff || fl[i].out_if > 0xffffff);
		cr_assert_eq(sn.msg[i].domain, 7);
		cr_assert_eq(sn.msg[i].sequence, 1000);
		cr_assert_eq(sn.msg[i].sys_uptime_ms, 123456);
		cr_assert_eq(sn.msg[i].proto, WEIR_PROTO_SFLOW);
		cr_assert(weir_addr_eq(&sn.msg[i].agent, &a.addr));
		cr_assert_eq(sn.rate[i], fl[i].sampling_rate ? fl[i].sampling_rate : 1);
		cr_assert_eq(sn.s[i].header.pkt.flags, 0);
		expect(&want, &fl[i], &before);
		assert_flow_eq(i, &sn.flow[i], &want);
	}
}

Test(sflow, round_trip_v4_agent)
{
	round_trip("192.0.2.1", 0);
}

Test(sflow, round_trip_v6_agent)
{
	round_trip("2001:db8::5", 0);
}

Test(sflow, round_trip_expanded)
{
	round_trip("192.0.2.1", 1);
}

Test(sflow, counters_round_trip)
{
	struct sflow_agent a = agent("192.0.2.1");
	struct sflow_sample c[3];
	struct flow fl[16];
	struct weir_ctx ctx;
	static struct seen sn;
	uint8_t buf[4096];
	struct wr w;

	cr_assert_eq(sizeof(struct sflow_if_counters), 88, "no padding: memcmp below is exact");
	cr_assert_eq(sizeof(struct sflow_eth_counters), 52);
	fill_counters(&c[0], 1);
	fill_counters(&c[1], 2);
	c[1].has = SFLOW_HAS_IF_COUNTERS;
	fill_counters(&c[2], 3);
	c[2].source_id_type = 2;
	c[2].source_id_index = 0x12345678;	/* needs the expanded format */
	make_flows(fl);

	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, 1, c, 3), WEIR_OK);
	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);
	cr_assert_eq(sn.n, 4);
	cr_assert_eq(sn.s[0].kind, SFLOW_KIND_FLOW);
	for (size_t i = 0; i < 3; i++) {
		const struct sflow_sample *s = &sn.s[i + 1];

		cr_assert_eq(s->kind, SFLOW_KIND_COUNTER);
		cr_assert_eq(sn.flow_err[i + 1], WEIR_E_INVALID, "no flow in a counter sample");
		cr_assert_eq(sn.rate[i + 1], 0);
		cr_assert_eq(s->sequence, c[i].sequence);
		cr_assert_eq(s->source_id_type, c[i].source_id_type);
		cr_assert_eq(s->source_id_index, c[i].source_id_index);
		cr_assert_eq(s->has, c[i].has);
		cr_assert_eq(s->expanded, i == 2);
		cr_assert(memcmp(&s->ifc, &c[i].ifc, sizeof(s->ifc)) == 0, "sample %zu", i);
		if (c[i].has & SFLOW_HAS_ETH_COUNTERS)
			cr_assert(memcmp(&s->ethc, &c[i].ethc, sizeof(s->ethc)) == 0);
		else
			cr_assert_not(s->has & SFLOW_HAS_ETH_COUNTERS);
	}
}

Test(sflow, encode_rejects_flow_kind_as_counters)
{
	struct sflow_agent a = agent("192.0.2.1");
	struct sflow_sample c;
	uint8_t buf[512];
	struct wr w;

	memset(&c, 0, sizeof(c));
	c.kind = SFLOW_KIND_FLOW;
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, NULL, 0, &c, 1), WEIR_E_INVALID);
}

Test(sflow, encode_nospace_and_fit)
{
	struct sflow_agent a = agent("192.0.2.1"), before = a;
	struct flow fl[16];
	uint8_t buf[2048];
	struct wr w;
	size_t n = make_flows(fl), total = sflow_datagram_hdr_size(&a);

	for (size_t i = 0; i < n; i++)
		total += sflow_flow_sample_size(&a, &fl[i]);
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, n, NULL, 0), WEIR_OK);
	cr_assert_eq(w.off, total, "computed sizes match what is written");

	for (size_t cap = 0; cap < total; cap += 7) {
		a = before;
		wr_init(&w, buf, cap);
		cr_assert_eq(sflow_encode(&w, &a, fl, n, NULL, 0), WEIR_E_NOSPACE, "cap %zu", cap);
		cr_assert_eq(a.sequence, before.sequence, "agent not advanced on failure");
		cr_assert_eq(a.flow_seq, before.flow_seq);
		cr_assert_eq(a.sample_pool, before.sample_pool);
	}

	/* sflow_flows_fit(): k flows fit max_len, k + 1 do not. */
	for (size_t max = 0; max < total + 10; max += 13) {
		size_t k = sflow_flows_fit(&a, fl, n, max);

		a = before;
		wr_init(&w, buf, max);
		if (k < n) {
			struct wr w2;

			wr_init(&w2, buf, max);
			cr_assert_neq(sflow_encode(&w2, &a, fl, k + 1, NULL, 0), WEIR_OK,
				      "max %zu k %zu", max, k);
			a = before;
		}
		if (max >= sflow_datagram_hdr_size(&a))
			cr_assert_eq(sflow_encode(&w, &a, fl, k, NULL, 0), WEIR_OK, "max %zu k %zu",
				     max, k);
	}
}

Test(sflow, data_records_without_header)
{
	static struct seen sn;
	struct weir_ctx ctx;
	struct dgram d;
	struct flow *f;
	size_t at;
	struct weir_addr s, dst;

	dg_begin(&d, "192.0.2.1", 1);
	dg_flow_sample(&d, 3);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_ETHERNET));
	wr_u32(&d.w, 1522);
	wr_bytes(&d.w, MAC_A, 6);
	wr_u16(&d.w, 0);
	wr_bytes(&d.w, MAC_B, 6);
	wr_u16(&d.w, 0);
	wr_u32(&d.w, 0x0800);
	sflow_put_opaque_end(&d.w, at);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_IPV4));
	wr_u32(&d.w, 1500);
	wr_u32(&d.w, 6);
	wr_u32(&d.w, 0x0a000001);
	wr_u32(&d.w, 0x0a000002);
	wr_u32(&d.w, 8080);
	wr_u32(&d.w, 80);
	wr_u32(&d.w, 0x18);
	wr_u32(&d.w, 0xb8);
	sflow_put_opaque_end(&d.w, at);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, 1005));	/* extended_url: unknown here */
	wr_u32(&d.w, 1);
	wr_u32(&d.w, 3);
	wr_bytes(&d.w, "abc", 3);
	wr_u8(&d.w, 0);
	wr_u32(&d.w, 0);
	sflow_put_opaque_end(&d.w, at);
	dg_end_sample(&d);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, d.buf, d.w.off), WEIR_OK);
	cr_assert_eq(sn.n, 1);
	cr_assert_eq(sn.s[0].has, SFLOW_HAS_ETHERNET | SFLOW_HAS_IPV4);
	cr_assert_eq(sn.s[0].unknown_records, 1);
	cr_assert_eq(sn.s[0].nrecords, 3);
	cr_assert_eq(sn.s[0].source_id_type, 2);
	cr_assert_eq(sn.s[0].source_id_index, 77);
	cr_assert_eq(sn.s[0].sample_pool, 4000);
	cr_assert_eq(sn.s[0].drops, 3);
	cr_assert_eq(sn.s[0].output.format, SFLOW_IF_MULTIPLE);
	cr_assert_eq(sn.s[0].output.value, 7);
	cr_assert_eq(sn.s[0].eth.length, 1522);

	f = &sn.flow[0];
	cr_assert_eq(sn.flow_err[0], WEIR_OK);
	cr_assert_eq(f->bytes, 1522, "ethernet length when there is no raw header");
	cr_assert_arr_eq(f->src_mac, MAC_A, 6);
	cr_assert_arr_eq(f->dst_mac, MAC_B, 6);
	cr_assert_eq(f->etype, 0x0800);
	weir_addr_v4u(&s, 0x0a000001);
	weir_addr_v4u(&dst, 0x0a000002);
	cr_assert(weir_addr_eq(&f->src_addr, &s));
	cr_assert(weir_addr_eq(&f->dst_addr, &dst));
	cr_assert_eq(f->proto, 6);
	cr_assert_eq(f->src_port, 8080);
	cr_assert_eq(f->dst_port, 80);
	cr_assert_eq(f->tcp_flags, 0x18);
	cr_assert_eq(f->ip_tos, 0xb8);
	cr_assert_eq(f->in_if, 5);
	cr_assert_eq(f->has & FLOW_HAS_OUT_IF, 0, "7 interfaces is not an ifIndex");
	cr_assert_eq(f->sampling_rate, 400);
}

Test(sflow, ipv6_data_record_and_raw_ipv4_header)
{
	static const uint8_t v6s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t v6d[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	static const uint8_t ip[28] = {
		0x45, 0, 0, 28, 0, 1, 0, 0, 9, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x12, 0x34, 0x56, 0x78, 0, 8, 0, 0,
	};
	static struct seen sn;
	struct weir_ctx ctx;
	struct dgram d;
	size_t at;

	dg_begin(&d, "192.0.2.1", 2);
	/* sampled_ipv6 alone. */
	dg_flow_sample(&d, 1);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_IPV6));
	wr_u32(&d.w, 1280);
	wr_u32(&d.w, 17);
	wr_bytes(&d.w, v6s, 16);
	wr_bytes(&d.w, v6d, 16);
	wr_u32(&d.w, 546);
	wr_u32(&d.w, 547);
	wr_u32(&d.w, 0);
	wr_u32(&d.w, 3);
	sflow_put_opaque_end(&d.w, at);
	dg_end_sample(&d);
	/* raw header starting at IPv4 (header_protocol 11), 28 bytes. */
	dg_flow_sample(&d, 1);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_HEADER));
	wr_u32(&d.w, SFLOW_HDR_IPV4);
	wr_u32(&d.w, 0);		/* frame length unknown: the IP length counts */
	wr_u32(&d.w, 0);
	wr_u32(&d.w, sizeof(ip));
	wr_bytes(&d.w, ip, sizeof(ip));
	sflow_put_opaque_end(&d.w, at);
	dg_end_sample(&d);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, d.buf, d.w.off), WEIR_OK);
	cr_assert_eq(sn.n, 2);
	cr_assert_eq(sn.flow[0].etype, 0x86dd);
	cr_assert_arr_eq(sn.flow[0].src_addr.a, v6s, 16);
	cr_assert_arr_eq(sn.flow[0].dst_addr.a, v6d, 16);
	cr_assert_eq(sn.flow[0].dst_port, 547);
	cr_assert_eq(sn.flow[0].ip_tos, 3);
	cr_assert_eq(sn.flow[0].bytes, 1280);
	cr_assert_eq(sn.flow[0].has & FLOW_HAS_SRC_MAC, 0);

	cr_assert_eq(sn.s[1].header.len, sizeof(ip));
	cr_assert_arr_eq(sn.hdr[1], ip, sizeof(ip));
	cr_assert_eq(sn.flow[1].src_port, 0x1234);
	cr_assert_eq(sn.flow[1].dst_port, 0x5678);
	cr_assert_eq(sn.flow[1].ip_ttl, 9);
	cr_assert_eq(sn.flow[1].bytes, 28);
	cr_assert_eq(sn.flow[1].etype, 0x0800);
	cr_assert_eq(sn.flow[1].has & FLOW_HAS_SRC_MAC, 0);
}

Test(sflow, gateway_path_and_communities)
{
	static struct seen sn;
	struct weir_ctx ctx;
	struct dgram d;
	size_t at;
	const struct sflow_gateway *g;

	dg_begin(&d, "192.0.2.1", 1);
	dg_flow_sample(&d, 1);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_GATEWAY));
	wr_u32(&d.w, SFLOW_ADDR_IPV6);
	wr_zero(&d.w, 15);
	wr_u8(&d.w, 1);			/* ::1 */
	wr_u32(&d.w, 65010);		/* as */
	wr_u32(&d.w, 65020);		/* src_as */
	wr_u32(&d.w, 65030);		/* src_peer_as */
	wr_u32(&d.w, 2);		/* segments */
	wr_u32(&d.w, 2);		/* AS_SEQUENCE */
	wr_u32(&d.w, 3);
	wr_u32(&d.w, 100);
	wr_u32(&d.w, 200);
	wr_u32(&d.w, 300);
	wr_u32(&d.w, 1);		/* AS_SET */
	wr_u32(&d.w, 2);
	wr_u32(&d.w, 400);
	wr_u32(&d.w, 500);
	wr_u32(&d.w, 3);		/* communities */
	wr_u32(&d.w, 0xfde80001);
	wr_u32(&d.w, 0xfde80002);
	wr_u32(&d.w, 0xffffff01);
	wr_u32(&d.w, 250);		/* localpref */
	sflow_put_opaque_end(&d.w, at);
	dg_end_sample(&d);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, d.buf, d.w.off), WEIR_OK);
	cr_assert_eq(sn.n, 1);
	g = &sn.s[0].gw;
	cr_assert_eq(g->nh_type, SFLOW_ADDR_IPV6);
	cr_assert_eq(g->next_hop.a[15], 1);
	cr_assert_eq(g->as, 65010);
	cr_assert_eq(g->src_as, 65020);
	cr_assert_eq(g->src_peer_as, 65030);
	cr_assert_eq(g->nsegments, 2);
	cr_assert_eq(g->as_path_len, 5);
	cr_assert_eq(g->as_path[0], 100);
	cr_assert_eq(g->as_path[4], 500);
	cr_assert_eq(g->dst_as, 500, "last AS of the path");
	cr_assert_eq(g->dst_peer_as, 100);
	cr_assert_eq(g->ncommunities, 3);
	cr_assert_eq(sn.comm[0][0], 0xfde80001);
	cr_assert_eq(sn.comm[0][2], 0xffffff01);
	cr_assert_eq(g->local_pref, 250);
	cr_assert_eq(sn.flow[0].src_as, 65020);
	cr_assert_eq(sn.flow[0].dst_as, 500);
	cr_assert_eq(sn.flow[0].bgp_next_hop.a[15], 1);
	cr_assert_eq(sn.flow[0].has & (FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP),
		     FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP);
}

Test(sflow, unknown_samples_skipped)
{
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1");
	struct weir_ctx ctx;
	struct flow fl[16];
	struct dgram d;
	size_t at;

	make_flows(fl);
	dg_begin(&d, "192.0.2.1", 4);
	sflow_put_flow_sample(&d.w, &a, &fl[0]);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(4413, 5));	/* vendor sample */
	wr_u32(&d.w, 0xdeadbeef);
	sflow_put_opaque_end(&d.w, at);
	at = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, 5));	/* discarded packet: not decoded */
	wr_zero(&d.w, 40);
	sflow_put_opaque_end(&d.w, at);
	sflow_put_flow_sample(&d.w, &a, &fl[1]);
	cr_assert_eq(d.w.err, 0);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, d.buf, d.w.off), WEIR_OK);
	cr_assert_eq(sn.n, 2);
	cr_assert_eq(sn.flow[0].dst_port, 443);
	cr_assert_eq(sn.flow[1].dst_port, 33333);
}

Test(sflow, callback_stops)
{
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1");
	struct weir_ctx ctx;
	struct flow fl[16];
	uint8_t buf[4096];
	struct wr w;
	size_t n = make_flows(fl);

	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, n, NULL, 0), WEIR_OK);
	ctx_init(&ctx, &sn);
	sn.stop_after = 2;
	cr_assert_eq(decode(&ctx, buf, w.off), WEIR_E_STOPPED);
	cr_assert_eq(sn.n, 2);
	cr_assert_eq(ctx.errors[-WEIR_E_STOPPED], 1);
}

Test(sflow, sequence_tracking)
{
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1"), b = agent("192.0.2.1");
	struct weir_exporter e = exporter();
	struct tmpl_source *s, *s2;
	struct weir_ctx ctx;
	struct flow fl[16];
	uint8_t buf[4096];
	struct wr w;

	make_flows(fl);
	ctx_init(&ctx, &sn);
	ctx.cache = tmpl_cache_new(NULL, NULL);
	cr_assert_not_null(ctx.cache);
	b.sub_agent = 8;
	/* sub-agent 7: 1000, 1001, (1002 lost), 1003; sub-agent 8: 1000 only. */
	for (int i = 0; i < 4; i++) {
		if (i == 2) {
			a.sequence++;
			continue;
		}
		wr_init(&w, buf, sizeof(buf));
		cr_assert_eq(sflow_encode(&w, &a, fl, 1, NULL, 0), WEIR_OK);
		cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);
		cr_assert_not_null(sn.msg[sn.n - 1].src);
	}
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &b, fl, 1, NULL, 0), WEIR_OK);
	cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);

	/* Sources are (agent address, sub-agent), whoever sent them. */
	memset(&e, 0, sizeof(e));
	e.addr = a.addr;
	s = tmpl_source_get(ctx.cache, &e, 7, 0);
	s2 = tmpl_source_get(ctx.cache, &e, 8, 0);
	cr_assert_not_null(s);
	cr_assert_not_null(s2);
	cr_assert_eq(s->seq_gaps, 1);
	cr_assert_eq(s->seq_lost, 1);
	cr_assert_eq(s2->seq_gaps, 0);
	cr_assert_eq(s2->seq_lost, 0);
	cr_assert_eq(s->seq_next, 1004);
	tmpl_cache_free(ctx.cache);
}

/* A relay (one UDP sender) forwarding two agents, the same sub-agent id and
 * sequence numbers of their own, interleaved: each agent's numbers are in
 * order, so no gap and no reordering. */
Test(sflow, sequence_per_agent_behind_one_sender)
{
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1"), b = agent("192.0.2.2");
	struct weir_ctx ctx;
	struct flow fl[16];
	uint8_t buf[4096];
	uint32_t n;
	struct wr w;

	make_flows(fl);
	ctx_init(&ctx, &sn);
	ctx.cache = tmpl_cache_new(NULL, NULL);
	cr_assert_not_null(ctx.cache);
	b.sequence = 5;
	for (int i = 0; i < 6; i++) {
		struct sflow_agent *x = i & 1 ? &b : &a;

		wr_init(&w, buf, sizeof(buf));
		cr_assert_eq(sflow_encode(&w, x, fl, 1, NULL, 0), WEIR_OK);
		cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);
	}
	n = tmpl_cache_nsources(ctx.cache);
	cr_assert_eq(n, 2, "one source an agent");
	for (uint32_t i = 0; i < n; i++) {
		const struct tmpl_source *s = tmpl_cache_source(ctx.cache, i);

		cr_assert_eq(s->seq_gaps + s->seq_lost + s->seq_reordered, 0, "agent %u", i);
	}
	tmpl_cache_free(ctx.cache);
}

/* XDR: opaque<> carries its true length and is padded to 4 with zeros. */
Test(sflow, opaque_padding)
{
	uint8_t buf[64];
	struct wr w;
	size_t at;

	memset(buf, 0xee, sizeof(buf));
	wr_init(&w, buf, sizeof(buf));
	at = sflow_put_opaque_begin(&w, SFLOW_FMT(4413, 7));
	wr_bytes(&w, "abc", 3);
	sflow_put_opaque_end(&w, at);
	cr_assert_eq(w.err, 0);
	cr_assert_eq(w.off, 12);
	cr_assert_eq(at, 4);
	cr_assert_arr_eq(buf, ((uint8_t[]){ 0x01, 0x13, 0xd0, 0x07, 0, 0, 0, 3, 'a', 'b', 'c', 0 }),
			 12);

	/* Too small: the error sticks and nothing is patched. */
	wr_init(&w, buf, 10);
	at = sflow_put_opaque_begin(&w, SFLOW_FMT(0, 1));
	wr_bytes(&w, "abc", 3);
	sflow_put_opaque_end(&w, at);
	cr_assert_eq(w.err, WEIR_E_NOSPACE);
}
