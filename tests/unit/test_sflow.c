/* test_sflow.c - sFlow v5 decoder, normalization and encoder. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#define RECV_NS 1700000000123456789ull
#define MAXREC 64

/* What the callback saw. Views die with the callback, so the header bytes
 * and the communities are copied. */
struct seen {
	size_t n;
	int flow_err[MAXREC];
	struct flow flow[MAXREC];
	struct sflow_sample s[MAXREC];
	struct weir_msg msg[MAXREC];
	uint32_t rate[MAXREC];
	uint8_t hdr[MAXREC][256];
	uint32_t comm[MAXREC][8];
	int stop_after;			/* stop when n reaches it, 0 = never */
};

static int collect(const struct weir_record *rec, void *user)
{
	struct seen *sn = user;
	size_t i = sn->n;

	cr_assert_lt(i, MAXREC);
	cr_assert_null(rec->t);
	cr_assert_null(rec->v);
	cr_assert_not_null(rec->sflow);
	sn->s[i] = *rec->sflow;
	sn->msg[i] = *rec->msg;
	sn->rate[i] = rec->sampling_rate;
	sn->flow_err[i] = sflow_flow(rec, &sn->flow[i]);
	if (rec->sflow->has & SFLOW_HAS_HEADER)
		memcpy(sn->hdr[i], rec->sflow->header.bytes,
		       rec->sflow->header.len < 256 ? rec->sflow->header.len : 256);
	if (rec->sflow->has & SFLOW_HAS_GATEWAY)
		for (uint32_t k = 0; k < rec->sflow->gw.ncommunities && k < 8; k++)
			sn->comm[i][k] = sflow_community(&rec->sflow->gw, k);
	sn->n++;
	return sn->stop_after && sn->n == (size_t)sn->stop_after;
}

static void ctx_init(struct weir_ctx *ctx, struct seen *sn)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(sn, 0, sizeof(*sn));
	ctx->on_record = collect;
	ctx->user = sn;
}

static struct weir_exporter exporter(void)
{
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_parse(&e.addr, "203.0.113.9");
	e.port = 40000;
	return e;
}

/* Decode from a heap copy of exactly len bytes, so ASan sees overreads. */
static int decode(struct weir_ctx *ctx, const uint8_t *b, size_t len)
{
	struct weir_exporter e = exporter();
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	cr_assert(copy);
	memcpy(copy, b, len);
	err = sflow_decode(ctx, &e, copy, len, RECV_NS);
	free(copy);
	return err;
}

static void addr(struct weir_addr *a, const char *s)
{
	cr_assert_eq(weir_addr_parse(a, s), WEIR_OK, "%s", s);
}

static struct sflow_agent agent(const char *a)
{
	struct sflow_agent ag;

	memset(&ag, 0, sizeof(ag));
	addr(&ag.addr, a);
	ag.sub_agent = 7;
	ag.sequence = 1000;
	ag.uptime_ms = 123456;
	ag.flow_seq = 50;
	return ag;
}

/* ---- flows for the round trip -------------------------------------------- */

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa1 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb2 };

/* Facts every decoded flow sample carries from its synthesized header. */
#define L2	(FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_ETYPE)
#define L3	(FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_TOS | FLOW_HAS_TTL)
#define PORTS	(FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT)

static void base(struct flow *f, const char *src, const char *dst, uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	f->has = L2 | L3 | FLOW_HAS_BYTES;
	memcpy(f->src_mac, MAC_A, 6);
	memcpy(f->dst_mac, MAC_B, 6);
	addr(&f->src_addr, src);
	addr(&f->dst_addr, dst);
	f->etype = weir_addr_is_v4(&f->src_addr) ? 0x0800 : 0x86dd;
	if (f->etype == 0x0800)
		f->has |= FLOW_HAS_FRAG;	/* IPv4 always carries DF/MF/offset */
	else
		f->has |= FLOW_HAS_FLOW_LABEL;
	f->proto = proto;
	f->ip_tos = 0x28;
	f->ip_ttl = 57;
	f->bytes = 1000;
	f->sampling_rate = 2048;
}

static size_t make_flows(struct flow *fl)
{
	size_t n = 0;
	struct flow *f;

	/* IPv4 TCP, 802.1Q, every extended record, DF set. */
	f = &fl[n++];
	base(f, "10.1.2.3", "192.0.2.200", 6);
	f->has |= PORTS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF |
		  FLOW_HAS_OUT_IF | FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET |
		  FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP;
	f->src_port = 51515;
	f->dst_port = 443;
	f->tcp_flags = 0x1c2;		/* NS, CWR, ECE, SYN */
	f->vlan_id = 101;
	f->dst_vlan_id = 202;
	f->in_if = 11;
	f->out_if = 12;
	addr(&f->next_hop, "10.255.0.1");
	f->src_net = 24;
	f->dst_net = 19;
	f->src_as = 64512;
	f->dst_as = 4200000000u;
	addr(&f->bgp_next_hop, "198.51.100.1");
	f->ip_flags = 0x40;
	f->bytes = 1518;

	/* IPv6 UDP, egress VLAN only, IPv6 next hops. */
	f = &fl[n++];
	base(f, "2001:db8::10", "2001:db8:ffff::1", 17);
	f->has |= PORTS | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF | FLOW_HAS_NEXT_HOP |
		  FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_BGP_NEXT_HOP | FLOW_HAS_SRC_AS;
	f->src_port = 53;
	f->dst_port = 33333;
	f->dst_vlan_id = 4094;
	f->in_if = 3;
	f->ipv6_flow_label = 0xabcde;
	addr(&f->next_hop, "fe80::1");
	f->src_net = 48;
	f->dst_net = 64;
	addr(&f->bgp_next_hop, "2001:db8::ffff");
	f->src_as = 65000;
	f->sampling_rate = 1;

	/* IPv4 ICMP echo, no VLAN. */
	f = &fl[n++];
	base(f, "172.16.0.1", "172.16.0.2", 1);
	f->has |= FLOW_HAS_ICMP | FLOW_HAS_OUT_IF;
	f->icmp_type = 8;
	f->out_if = 0x3FFFFFFF;		/* the device itself */
	f->bytes = 98;

	/* IPv6 ICMPv6, first fragment. */
	f = &fl[n++];
	base(f, "2001:db8::1", "2001:db8::2", 58);
	f->has |= FLOW_HAS_ICMP | FLOW_HAS_FRAG;
	f->icmp_type = 1;
	f->icmp_code = 4;
	f->ip_flags = 0x20;

	/* IPv4 UDP, non-first fragment: no ports. */
	f = &fl[n++];
	base(f, "10.9.9.9", "10.8.8.8", 17);
	f->fragment_offset = 185;
	f->ip_flags = 0x20;

	/* IPv6 TCP, last fragment: no ports. */
	f = &fl[n++];
	base(f, "2001:db8::a", "2001:db8::b", 6);
	f->has |= FLOW_HAS_FRAG | FLOW_HAS_VLAN;
	f->fragment_offset = 1000;
	f->vlan_id = 7;

	/* ifIndex past 2^24: an expanded flow sample. */
	f = &fl[n++];
	base(f, "10.0.0.1", "10.0.0.2", 6);
	f->has |= PORTS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF;
	f->src_port = 1;
	f->dst_port = 2;
	f->tcp_flags = 0x011;
	f->in_if = 0x01000001;
	f->out_if = 0x7fffffff;
	f->sampling_rate = 100000;
	return n;
}

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

static void fill_counters(struct sflow_sample *c, uint32_t seed)
{
	memset(c, 0, sizeof(*c));
	c->kind = SFLOW_KIND_COUNTER;
	c->sequence = seed;
	c->source_id_index = seed + 1;
	c->has = SFLOW_HAS_IF_COUNTERS | SFLOW_HAS_ETH_COUNTERS;
	/* A distinct value in every word, so a swapped field shows. */
	uint32_t *p = (uint32_t *)&c->ifc;
	for (size_t i = 0; i < sizeof(c->ifc) / 4; i++)
		p[i] = seed * 1000 + (uint32_t)i + 1;
	p = (uint32_t *)&c->ethc;
	for (size_t i = 0; i < sizeof(c->ethc) / 4; i++)
		p[i] = seed * 2000 + (uint32_t)i + 1;
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

/* ---- decoder views ------------------------------------------------------- */

/* A datagram with one flow sample whose records the caller writes. */
struct dgram {
	uint8_t buf[2048];
	struct wr w;
	size_t sample_at;
};

static void dg_begin(struct dgram *d, const char *agent_addr, uint32_t nsamples)
{
	struct sflow_agent a = agent(agent_addr);

	wr_init(&d->w, d->buf, sizeof(d->buf));
	sflow_put_datagram_hdr(&d->w, &a, nsamples);
}

/* flow_sample header, compact form, nrec records to follow. */
static void dg_flow_sample(struct dgram *d, uint32_t nrec)
{
	d->sample_at = sflow_put_opaque_begin(&d->w, SFLOW_FMT(0, SFLOW_SAMPLE_FLOW));
	wr_u32(&d->w, 9);		/* sequence */
	wr_u32(&d->w, 2u << 24 | 77);	/* source: entPhysicalEntry 77 */
	wr_u32(&d->w, 400);		/* rate */
	wr_u32(&d->w, 4000);		/* pool */
	wr_u32(&d->w, 3);		/* drops */
	wr_u32(&d->w, 5);		/* input ifIndex 5 */
	wr_u32(&d->w, 0x80000007);	/* output: 7 interfaces */
	wr_u32(&d->w, nrec);
}

static void dg_end_sample(struct dgram *d)
{
	sflow_put_opaque_end(&d->w, d->sample_at);
	cr_assert_eq(d->w.err, 0);
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

/* ---- malformed datagrams ------------------------------------------------- */

enum bad {
	BAD_SHORT_HEADER, BAD_VERSION, BAD_AGENT_TYPE, BAD_SAMPLE_PAST_END, BAD_SAMPLE_COUNT,
	BAD_SAMPLE_LIMIT, BAD_RECORD_LEN_MAX, BAD_RECORD_COUNT, BAD_RECORD_LIMIT,
	BAD_HEADER_LEN, BAD_SWITCH_SHORT, BAD_AS_SEGMENTS, BAD_AS_NUMBERS, BAD_COMMUNITIES,
	BAD_NH_TYPE, BAD_MISSING_SAMPLE, BAD_COUNTER_SHORT,
};

static const struct {
	enum bad kind;
	const char *name;
	int err;
	size_t records;		/* samples handed out before/besides the fault */
	int fatal;		/* the walk ends: the message is not counted */
} bad_tab[] = {
	{ BAD_SHORT_HEADER, "datagram header cut", WEIR_E_TRUNCATED, 0, 1 },
	{ BAD_VERSION, "version 4", WEIR_E_VERSION, 0, 1 },
	{ BAD_AGENT_TYPE, "agent address type 3", WEIR_E_INVALID, 0, 1 },
	{ BAD_SAMPLE_PAST_END, "sample length past the end", WEIR_E_RECORD, 1, 1 },
	{ BAD_SAMPLE_COUNT, "sample count cannot fit", WEIR_E_COUNT, 0, 1 },
	{ BAD_SAMPLE_LIMIT, "sample count above the bound", WEIR_E_LIMIT, 0, 1 },
	{ BAD_RECORD_LEN_MAX, "record length 0xFFFFFFFF", WEIR_E_RECORD, 1, 0 },
	{ BAD_RECORD_COUNT, "record count cannot fit", WEIR_E_COUNT, 1, 0 },
	{ BAD_RECORD_LIMIT, "record count above the bound", WEIR_E_LIMIT, 1, 0 },
	{ BAD_HEADER_LEN, "header length past the record", WEIR_E_RECORD, 1, 0 },
	{ BAD_SWITCH_SHORT, "extended_switch shorter than its fields", WEIR_E_RECORD, 1, 0 },
	{ BAD_AS_SEGMENTS, "AS path segment count absurd", WEIR_E_COUNT, 1, 0 },
	{ BAD_AS_NUMBERS, "AS count in a segment absurd", WEIR_E_COUNT, 1, 0 },
	{ BAD_COMMUNITIES, "community count absurd", WEIR_E_COUNT, 1, 0 },
	{ BAD_NH_TYPE, "next hop address type 9", WEIR_E_INVALID, 1, 0 },
	{ BAD_MISSING_SAMPLE, "fewer samples than counted", WEIR_E_COUNT, 1, 1 },
	{ BAD_COUNTER_SHORT, "if_counters record too short", WEIR_E_RECORD, 1, 0 },
};

/* A good flow sample (handed out), then the fault. */
static size_t build_bad(enum bad kind, uint8_t *buf, size_t cap)
{
	struct sflow_agent a = agent("192.0.2.1");
	struct flow fl[16];
	struct wr w;
	size_t s, r;

	make_flows(fl);
	wr_init(&w, buf, cap);
	switch (kind) {
	case BAD_SHORT_HEADER:
		sflow_put_datagram_hdr(&w, &a, 0);
		return 27;
	case BAD_VERSION:
		sflow_put_datagram_hdr(&w, &a, 0);
		wr_put_u32(&w, 0, 4);
		return w.off;
	case BAD_AGENT_TYPE:
		sflow_put_datagram_hdr(&w, &a, 0);
		wr_put_u32(&w, 4, 3);
		return w.off;
	case BAD_SAMPLE_COUNT:
		sflow_put_datagram_hdr(&w, &a, 1000);
		sflow_put_flow_sample(&w, &a, &fl[0]);
		return w.off;
	case BAD_SAMPLE_LIMIT:
		sflow_put_datagram_hdr(&w, &a, SFLOW_MAX_SAMPLES + 1);
		for (int i = 0; i < SFLOW_MAX_SAMPLES + 1; i++)
			sflow_put_opaque_end(&w, sflow_put_opaque_begin(&w, SFLOW_FMT(1, 1)));
		cr_assert_eq(w.err, 0);
		return w.off;
	case BAD_MISSING_SAMPLE:
		sflow_put_datagram_hdr(&w, &a, 2);
		sflow_put_flow_sample(&w, &a, &fl[0]);
		wr_u32(&w, 0);		/* 4 stray bytes: not a sample header */
		return w.off;
	default:
		break;
	}
	sflow_put_datagram_hdr(&w, &a, 2);
	sflow_put_flow_sample(&w, &a, &fl[0]);
	if (kind == BAD_SAMPLE_PAST_END) {
		s = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_SAMPLE_FLOW));
		wr_zero(&w, 32);
		wr_put_u32(&w, s, 1000);
		return w.off;
	}
	if (kind == BAD_COUNTER_SHORT) {
		s = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_SAMPLE_COUNTERS));
		wr_u32(&w, 1);
		wr_u32(&w, 1);
		wr_u32(&w, 1);
		r = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_CNT_GENERIC));
		wr_zero(&w, 40);
		sflow_put_opaque_end(&w, r);
		sflow_put_opaque_end(&w, s);
		return w.off;
	}
	s = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_SAMPLE_FLOW));
	wr_zero(&w, 28);		/* sequence .. output */
	switch (kind) {
	case BAD_RECORD_LEN_MAX:
		wr_u32(&w, 1);
		wr_u32(&w, SFLOW_FMT(0, SFLOW_REC_SWITCH));
		wr_u32(&w, 0xFFFFFFFF);
		wr_zero(&w, 16);
		break;
	case BAD_RECORD_COUNT:
		wr_u32(&w, 0x10000000);
		break;
	case BAD_RECORD_LIMIT:
		wr_u32(&w, SFLOW_MAX_RECORDS + 1);
		for (int i = 0; i < SFLOW_MAX_RECORDS + 1; i++)
			sflow_put_opaque_end(&w, sflow_put_opaque_begin(&w, SFLOW_FMT(9, 9)));
		break;
	case BAD_HEADER_LEN:
		wr_u32(&w, 1);
		r = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_REC_HEADER));
		wr_u32(&w, SFLOW_HDR_ETHERNET);
		wr_u32(&w, 1500);
		wr_u32(&w, 4);
		wr_u32(&w, 200);	/* 200 header bytes declared, 64 present */
		wr_zero(&w, 64);
		sflow_put_opaque_end(&w, r);
		break;
	case BAD_SWITCH_SHORT:
		wr_u32(&w, 1);
		r = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_REC_SWITCH));
		wr_u32(&w, 10);
		wr_u32(&w, 0);
		sflow_put_opaque_end(&w, r);
		break;
	case BAD_AS_SEGMENTS:
	case BAD_AS_NUMBERS:
	case BAD_COMMUNITIES:
	case BAD_NH_TYPE:
		wr_u32(&w, 1);
		r = sflow_put_opaque_begin(&w, SFLOW_FMT(0, SFLOW_REC_GATEWAY));
		wr_u32(&w, kind == BAD_NH_TYPE ? 9 : SFLOW_ADDR_IPV4);
		wr_u32(&w, 0x0a000001);
		wr_u32(&w, 1);
		wr_u32(&w, 2);
		wr_u32(&w, 3);
		if (kind == BAD_AS_SEGMENTS) {
			wr_u32(&w, 0x7fffffff);
		} else {
			wr_u32(&w, 1);
			wr_u32(&w, 2);
			wr_u32(&w, kind == BAD_AS_NUMBERS ? 0xffffffff : 1);
			wr_u32(&w, 64500);
			wr_u32(&w, kind == BAD_COMMUNITIES ? 0x40000000 : 0);
		}
		wr_u32(&w, 100);
		sflow_put_opaque_end(&w, r);
		break;
	default:
		cr_assert_fail("unhandled case %d", kind);
	}
	sflow_put_opaque_end(&w, s);
	cr_assert_eq(w.err, 0);
	return w.off;
}

Test(sflow, malformed_table)
{
	static uint8_t buf[16384];
	static struct seen sn;

	for (size_t i = 0; i < sizeof(bad_tab) / sizeof(bad_tab[0]); i++) {
		struct weir_ctx ctx;
		size_t len = build_bad(bad_tab[i].kind, buf, sizeof(buf));
		int err;

		ctx_init(&ctx, &sn);
		err = decode(&ctx, buf, len);
		cr_assert_eq(err, bad_tab[i].err, "%s: %d (%s), want %d", bad_tab[i].name, err,
			     weir_errname(err), bad_tab[i].err);
		cr_assert_eq(ctx.errors[-bad_tab[i].err], 1, "%s: counted once", bad_tab[i].name);
		cr_assert_eq(ctx.records, bad_tab[i].records, "%s: records %llu", bad_tab[i].name,
			     (unsigned long long)ctx.records);
		cr_assert_eq(sn.n, bad_tab[i].records);
		cr_assert_eq(ctx.messages, bad_tab[i].fatal ? 0 : 1, "%s", bad_tab[i].name);
	}
}

/* A bad sample in the middle does not take the later good one with it. */
Test(sflow, bad_sample_then_good_sample)
{
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1");
	struct weir_ctx ctx;
	struct flow fl[16];
	struct dgram d;
	size_t r;

	make_flows(fl);
	dg_begin(&d, "192.0.2.1", 2);
	dg_flow_sample(&d, 1);
	r = sflow_put_opaque_begin(&d.w, SFLOW_FMT(0, SFLOW_REC_ROUTER));
	wr_u32(&d.w, SFLOW_ADDR_IPV6);	/* 16 address bytes promised, 8 there */
	wr_zero(&d.w, 8);
	sflow_put_opaque_end(&d.w, r);
	dg_end_sample(&d);
	sflow_put_flow_sample(&d.w, &a, &fl[2]);

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, d.buf, d.w.off), WEIR_E_RECORD);
	cr_assert_eq(sn.n, 1);
	cr_assert_eq(sn.flow[0].icmp_type, 8, "the good sample after the bad one");
	cr_assert_eq(ctx.messages, 1);
}

Test(sflow, stream_good_before_bad_stay_decoded)
{
	static uint8_t good1[4096], good2[4096], bad[4096], good3[4096];
	static struct seen sn;
	struct sflow_agent a = agent("2001:db8::5");
	struct sflow_sample c;
	struct weir_ctx ctx;
	struct flow fl[16];
	size_t l1, l2, lb, l3;
	struct wr w;

	make_flows(fl);
	fill_counters(&c, 4);
	wr_init(&w, good1, sizeof(good1));
	cr_assert_eq(sflow_encode(&w, &a, fl, 3, NULL, 0), WEIR_OK);
	l1 = w.off;
	wr_init(&w, good2, sizeof(good2));
	cr_assert_eq(sflow_encode(&w, &a, fl + 3, 2, &c, 1), WEIR_OK);
	l2 = w.off;
	lb = build_bad(BAD_SAMPLE_PAST_END, bad, sizeof(bad));
	wr_init(&w, good3, sizeof(good3));
	cr_assert_eq(sflow_encode(&w, &a, fl + 5, 2, NULL, 0), WEIR_OK);
	l3 = w.off;

	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, good1, l1), WEIR_OK);
	cr_assert_eq(decode(&ctx, good2, l2), WEIR_OK);
	cr_assert_eq(ctx.records, 6);
	cr_assert_eq(decode(&ctx, bad, lb), WEIR_E_RECORD);
	cr_assert_eq(ctx.records, 7, "the bad datagram's first sample is handed out");
	cr_assert_eq(decode(&ctx, good3, l3), WEIR_OK);
	cr_assert_eq(ctx.records, 9);
	cr_assert_eq(ctx.messages, 3);
	cr_assert_eq(ctx.errors[-WEIR_E_RECORD], 1);
	cr_assert_eq(sn.n, 9);
	cr_assert_eq(sn.s[0].kind, SFLOW_KIND_FLOW);
	cr_assert_eq(sn.flow[0].dst_port, 443);
	cr_assert_eq(sn.s[5].kind, SFLOW_KIND_COUNTER);
	cr_assert_eq(sn.s[5].ifc.if_index, 4001);
	cr_assert_eq(sn.flow[8].in_if, 0x01000001);
}

Test(sflow, truncated_at_every_length)
{
	static uint8_t buf[4096];
	static struct seen sn;
	struct sflow_agent a = agent("2001:db8::5");
	struct sflow_sample c[2];
	struct weir_ctx ctx;
	struct flow fl[16];
	struct wr w;
	size_t n = make_flows(fl);

	fill_counters(&c[0], 1);
	fill_counters(&c[1], 2);
	c[1].source_id_index = 0x01000000;
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, n, c, 2), WEIR_OK);

	for (size_t len = 0; len < w.off; len++) {
		int err;

		ctx_init(&ctx, &sn);
		err = decode(&ctx, buf, len);
		cr_assert_lt(err, 0, "cut at %zu of %zu decoded without error", len, w.off);
		cr_assert_lt(sn.n, n + 2);
		if (len < 40)
			cr_assert_eq(err, WEIR_E_TRUNCATED, "cut %zu", len);
	}
	ctx_init(&ctx, &sn);
	cr_assert_eq(decode(&ctx, buf, w.off), WEIR_OK);
	cr_assert_eq(sn.n, n + 2);
}

/* Every sample and record length of a valid datagram set to odd values:
 * decoding never crashes and never hands out more than the datagram has. */
Test(sflow, corrupt_every_word)
{
	static uint8_t buf[4096], copy[4096];
	static const uint32_t vals[] = { 0, 1, 3, 0x7fffffff, 0xfffffffc, 0xffffffff };
	static struct seen sn;
	struct sflow_agent a = agent("192.0.2.1");
	struct sflow_sample c;
	struct weir_ctx ctx;
	struct flow fl[16];
	struct wr w;
	size_t n = make_flows(fl);

	fill_counters(&c, 1);
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, n, &c, 1), WEIR_OK);
	for (size_t off = 0; off + 4 <= w.off; off += 4) {
		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			struct wr p;

			memcpy(copy, buf, w.off);
			wr_init(&p, copy, w.off);
			p.off = w.off;
			wr_put_u32(&p, off, vals[v]);
			ctx_init(&ctx, &sn);
			decode(&ctx, copy, w.off);
			cr_assert_leq(sn.n, n + 1);
		}
	}
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
