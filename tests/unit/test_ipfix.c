/* Unit tests of the IPFIX decoder (common/ipfix.c) and encoder
 * (common/ipfix_enc.c): round trips through the encoder, real exporter
 * payloads (values checked against Wireshark's decoder, tshark -V with
 * -d udp.port==4739,cflow), and malformed messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "ipfix.h"
#include "ipfix_list.h"
#include "rd.h"
#include "rec_json.h"
#include "tmpl.h"

#define NOW 1700000000000000000ull

/* ---- record log: views die with the callback, so copy them ---- */

#define LOG_MAX 512
#define LOG_FIELDS 48
#define LOG_BYTES 40

struct rec_copy {
	uint16_t tid;
	uint16_t nfields;
	uint8_t is_options;
	uint32_t sampling_rate;
	uint32_t export_time, sequence, domain;
	uint64_t recv_ns;
	uint32_t pen[LOG_FIELDS];
	uint16_t id[LOG_FIELDS];
	uint32_t len[LOG_FIELDS];
	uint8_t val[LOG_FIELDS][LOG_BYTES];
	int flow_err;
	struct flow fl;
};

struct rlog {
	size_t n;
	size_t stop_after;
	char json0[2048];	/* the first record in the raw JSON format */
	struct rec_copy r[LOG_MAX];
};

static int on_rec(const struct weir_record *rec, void *user)
{
	struct rlog *lg = user;

	if (lg->n < LOG_MAX) {
		struct rec_copy *c = &lg->r[lg->n];

		memset(c, 0, sizeof(*c));
		c->tid = rec->t->id;
		c->nfields = rec->t->nfields;
		c->is_options = rec->is_options;
		c->sampling_rate = rec->sampling_rate;
		c->export_time = rec->msg->export_time;
		c->sequence = rec->msg->sequence;
		c->domain = rec->msg->domain;
		c->recv_ns = rec->msg->recv_time_ns;
		for (unsigned i = 0; i < rec->t->nfields && i < LOG_FIELDS; i++) {
			c->pen[i] = rec->t->f[i].pen;
			c->id[i] = rec->t->f[i].id;
			c->len[i] = rec->v[i].len;
			memcpy(c->val[i], rec->v[i].p,
			       rec->v[i].len < LOG_BYTES ? rec->v[i].len : LOG_BYTES);
		}
		c->flow_err = flow_from_record(rec, &c->fl);
	}
	if (lg->n == 0)
		lg->json0[rec_json(rec, lg->json0, sizeof(lg->json0) - 1)] = '\0';
	lg->n++;
	return lg->stop_after && lg->n >= lg->stop_after;
}

/* Value of field (pen, id) of a logged record; NULL when absent. */
static const uint8_t *fv(const struct rec_copy *c, uint32_t pen, uint16_t id, uint32_t *len)
{
	for (unsigned i = 0; i < c->nfields && i < LOG_FIELDS; i++) {
		if (c->pen[i] == pen && c->id[i] == id) {
			if (len)
				*len = c->len[i];
			return c->val[i];
		}
	}
	return NULL;
}

static uint64_t fu(const struct rec_copy *c, uint32_t pen, uint16_t id)
{
	uint32_t len = 0;
	const uint8_t *p = fv(c, pen, id, &len);

	cr_assert_not_null(p, "field %u/%u missing", pen, id);
	return be_uint(p, len);
}

static int v4eq(const struct weir_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	uint8_t b[4] = { x, y, z, w };
	struct weir_addr e;

	weir_addr_v4(&e, b);
	return weir_addr_eq(a, &e);
}

/* ---- fixture ---- */

struct fx {
	struct tmpl_cache *c;
	struct weir_ctx ctx;
	struct rlog *lg;
	struct weir_exporter e;
};

static void fx_init(struct fx *f, int with_cache)
{
	struct tmpl_limits lim;
	uint8_t a[4] = { 192, 0, 2, 1 };

	memset(f, 0, sizeof(*f));
	tmpl_limits_default(&lim);
	if (with_cache) {
		f->c = tmpl_cache_new(&lim, NULL);
		cr_assert_not_null(f->c);
	}
	f->lg = calloc(1, sizeof(*f->lg));
	cr_assert_not_null(f->lg);
	f->ctx.cache = f->c;
	f->ctx.on_record = on_rec;
	f->ctx.user = f->lg;
	weir_addr_v4(&f->e.addr, a);
	f->e.port = 40000;
}

static void fx_fini(struct fx *f)
{
	tmpl_cache_free(f->c);
	free(f->lg);
}

static int dec(struct fx *f, const uint8_t *b, size_t n)
{
	return ipfix_decode(&f->ctx, &f->e, b, n, NOW);
}

static struct tmpl_source *fx_src(struct fx *f, uint32_t domain)
{
	return tmpl_source_get(f->c, &f->e, domain, 0);
}

/* ---- building messages by hand, for what the encoder refuses ---- */

struct bb {
	uint8_t b[8192];
	size_t n;
};

static void bb_u8(struct bb *m, uint8_t v)
{
	cr_assert_lt(m->n, sizeof(m->b));
	m->b[m->n++] = v;
}
static void bb_u16(struct bb *m, uint16_t v) { bb_u8(m, v >> 8); bb_u8(m, (uint8_t)v); }
static void bb_u32(struct bb *m, uint32_t v) { bb_u16(m, v >> 16); bb_u16(m, (uint16_t)v); }
static void bb_bytes(struct bb *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb_u8(m, ((const uint8_t *)p)[i]);
}
static void bb_put16(struct bb *m, size_t at, uint16_t v)
{
	m->b[at] = v >> 8;
	m->b[at + 1] = (uint8_t)v;
}
static void bb_hdr(struct bb *m, uint32_t t, uint32_t seq, uint32_t dom)
{
	m->n = 0;
	bb_u16(m, 10);
	bb_u16(m, 0);
	bb_u32(m, t);
	bb_u32(m, seq);
	bb_u32(m, dom);
}
static size_t bb_set(struct bb *m, uint16_t id)
{
	size_t at = m->n;

	bb_u16(m, id);
	bb_u16(m, 0);
	return at;
}
static void bb_set_end(struct bb *m, size_t at) { bb_put16(m, at + 2, (uint16_t)(m->n - at)); }
static void bb_end(struct bb *m) { bb_put16(m, 2, (uint16_t)m->n); }

/* A template from a spec of (pen, id, len) triples; caller frees. */
static struct tmpl *mkt(uint16_t id, uint16_t scope, size_t n, const uint32_t spec[][3])
{
	struct tmpl *t = ipfix_tmpl_new(id, (uint16_t)n, scope);

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		ipfix_tmpl_field(t, (uint16_t)i, spec[i][0], (uint16_t)spec[i][1],
				 (uint16_t)spec[i][2]);
	return t;
}

/* Message with the templates of ts[] in one set each kind. */
static size_t msg_templates(uint8_t *buf, size_t cap, uint32_t seq, struct tmpl **ts, size_t n)
{
	struct ipfix_wmsg m;
	struct wr w;
	int len;

	wr_init(&w, buf, cap);
	ipfix_msg_begin(&m, &w, 1000, seq, 0);
	for (size_t i = 0; i < n; i++) {
		uint16_t sid = ts[i]->scope_count ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE;

		if (m.set_at == SIZE_MAX || m.set_id != sid)
			cr_assert_eq(ipfix_set_begin(&m, sid), WEIR_OK);
		cr_assert_eq(ipfix_write_template(&m, ts[i]), WEIR_OK);
	}
	len = ipfix_msg_end(&m);
	cr_assert_gt(len, 0);
	return (size_t)len;
}

/* ---- flows ---- */

static void mkflows(struct flow *f, size_t n, int ns)
{
	memset(f, 0, n * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		int v6 = i % 3 == 2;
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				   (uint8_t)(i >> 8), (uint8_t)i };

		f[i].bytes = 1000000000000ull + i * 977;
		f[i].packets = 1000 + i;
		f[i].time_flow_start_ns = 1700000000000000000ull + i * 1000000ull +
					  (ns ? i * 7919 % 1000000 : 0);
		f[i].time_flow_end_ns = f[i].time_flow_start_ns + 5000000000ull + (ns ? 1 : 0);
		if (v6) {
			weir_addr_v6(&f[i].src_addr, a6);
			a6[15] ^= 0xff;
			weir_addr_v6(&f[i].dst_addr, a6);
			a6[15] = 1;
			weir_addr_v6(&f[i].next_hop, a6);
		} else {
			weir_addr_v4u(&f[i].src_addr, 0x0a000000u + (uint32_t)i);
			weir_addr_v4u(&f[i].dst_addr, 0xc6336400u + (uint32_t)i);
			weir_addr_v4u(&f[i].next_hop, 0xc0000201u);
		}
		f[i].etype = v6 ? 0x86dd : 0x0800;
		f[i].src_port = (uint16_t)(1024 + i);
		f[i].dst_port = (uint16_t)(i % 2 ? 443 : 53);
		f[i].proto = i % 2 ? 6 : 17;
		f[i].ip_tos = (uint8_t)(i * 4);
		f[i].tcp_flags = i % 2 ? 0x1b : 0;
		f[i].in_if = 10 + (uint32_t)i;
		f[i].out_if = 20 + (uint32_t)i;
		f[i].src_as = 64512 + (uint32_t)i;
		f[i].dst_as = 4200000000u + (uint32_t)i;
		f[i].src_net = v6 ? 48 : 24;
		f[i].dst_net = v6 ? 64 : 16;
		for (int k = 0; k < 6; k++) {
			f[i].src_mac[k] = (uint8_t)(0x10 + k + i);
			f[i].dst_mac[k] = (uint8_t)(0x80 + k + i);
		}
		f[i].vlan_id = (uint16_t)(100 + i);
		f[i].has = FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_BYTES |
			   FLOW_HAS_PACKETS | FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR |
			   FLOW_HAS_ETYPE | FLOW_HAS_PROTO | FLOW_HAS_SRC_PORT |
			   FLOW_HAS_DST_PORT | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
			   FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_VLAN | FLOW_HAS_TOS |
			   FLOW_HAS_TCP_FLAGS | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS |
			   FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET;
	}
}

static void flow_expect(const struct flow *got, const struct flow *want, size_t i)
{
	cr_expect_eq(got->bytes, want->bytes, "flow %zu bytes", i);
	cr_expect_eq(got->packets, want->packets, "flow %zu packets", i);
	cr_expect_eq(got->time_flow_start_ns, want->time_flow_start_ns, "flow %zu start", i);
	cr_expect_eq(got->time_flow_end_ns, want->time_flow_end_ns, "flow %zu end", i);
	cr_expect(weir_addr_eq(&got->src_addr, &want->src_addr), "flow %zu src", i);
	cr_expect(weir_addr_eq(&got->dst_addr, &want->dst_addr), "flow %zu dst", i);
	cr_expect(weir_addr_eq(&got->next_hop, &want->next_hop), "flow %zu next hop", i);
	cr_expect_eq(got->etype, want->etype, "flow %zu etype", i);
	cr_expect_eq(got->src_port, want->src_port);
	cr_expect_eq(got->dst_port, want->dst_port);
	cr_expect_eq(got->proto, want->proto);
	cr_expect_eq(got->ip_tos, want->ip_tos);
	cr_expect_eq(got->tcp_flags, want->tcp_flags);
	cr_expect_eq(got->in_if, want->in_if);
	cr_expect_eq(got->out_if, want->out_if);
	cr_expect_eq(got->src_as, want->src_as);
	cr_expect_eq(got->dst_as, want->dst_as);
	cr_expect_eq(got->src_net, want->src_net);
	cr_expect_eq(got->dst_net, want->dst_net);
	cr_expect_eq(memcmp(got->src_mac, want->src_mac, 6), 0);
	cr_expect_eq(memcmp(got->dst_mac, want->dst_mac, 6), 0);
	cr_expect_eq(got->vlan_id, want->vlan_id);
	cr_expect_eq(got->has & want->has, want->has, "flow %zu has %llx", i,
		     (unsigned long long)got->has);
}

/* Encode n flows in messages of mtu bytes, decode each; returns messages. */
static size_t flows_through(struct fx *f, struct ipfix_flow_enc *e, const struct flow *fl,
			    size_t n, size_t mtu)
{
	uint8_t buf[65536];
	size_t off = 0, msgs = 0;

	while (off < n) {
		size_t used = 0;
		int len = ipfix_flow_enc_msg(e, buf, mtu, 1700000000u, fl + off, n - off,
					     msgs % 4 == 0, &used);

		cr_assert_gt(len, 0, "encode: %s", weir_strerror(len));
		cr_assert_leq((size_t)len, mtu);
		cr_assert_gt(used, 0);
		cr_assert_eq(dec(f, buf, (size_t)len), WEIR_OK);
		off += used;
		msgs++;
	}
	return msgs;
}

static void roundtrip_flows(int ns)
{
	struct ipfix_flow_enc_cfg cfg = { .domain = 77, .time_ns = (uint8_t)ns };
	struct ipfix_flow_enc e;
	struct flow *fl = calloc(300, sizeof(*fl));
	struct tmpl_source *s;
	struct fx f;
	size_t msgs;

	fx_init(&f, 1);
	mkflows(fl, 300, ns);
	cr_assert_eq(ipfix_flow_enc_init(&e, &cfg), WEIR_OK);
	msgs = flows_through(&f, &e, fl, 300, 1400);
	cr_assert_gt(msgs, 5);
	cr_assert_eq(f.lg->n, 300);
	for (size_t i = 0; i < 300; i++) {
		cr_assert_eq(f.lg->r[i].flow_err, WEIR_OK);
		cr_assert_eq(f.lg->r[i].domain, 77);
		flow_expect(&f.lg->r[i].fl, &fl[i], i);
	}
	/* RFC 7011 3.1: sequence = data records before the message. */
	s = fx_src(&f, 77);
	cr_assert_not_null(s);
	cr_expect_eq(s->seq_gaps, 0);
	cr_expect_eq(s->seq_lost, 0);
	cr_expect_eq(e.sequence, 300);
	cr_expect_eq(f.ctx.messages, msgs);
	cr_expect_eq(f.ctx.records, 300);
	ipfix_flow_enc_free(&e);
	free(fl);
	fx_fini(&f);
}

Test(ipfix, roundtrip_flows_ms) { roundtrip_flows(0); }
Test(ipfix, roundtrip_flows_ns) { roundtrip_flows(1); }

Test(ipfix, sequence_gap_counts_lost_records)
{
	struct ipfix_flow_enc_cfg cfg = { .domain = 5 };
	struct ipfix_flow_enc e;
	struct flow fl[20];
	uint8_t buf[2048];
	size_t used;
	struct fx f;
	int len;

	fx_init(&f, 1);
	mkflows(fl, 20, 0);
	cr_assert_eq(ipfix_flow_enc_init(&e, &cfg), WEIR_OK);
	len = ipfix_flow_enc_msg(&e, buf, sizeof(buf), 1, fl, 4, 1, &used);
	cr_assert_eq(dec(&f, buf, (size_t)len), WEIR_OK);
	/* This one (7 records) is lost on the way. */
	len = ipfix_flow_enc_msg(&e, buf, sizeof(buf), 2, fl + 4, 7, 0, &used);
	cr_assert_eq(used, 7);
	len = ipfix_flow_enc_msg(&e, buf, sizeof(buf), 3, fl + 11, 2, 0, &used);
	cr_assert_eq(dec(&f, buf, (size_t)len), WEIR_OK);
	cr_expect_eq(fx_src(&f, 5)->seq_gaps, 1);
	cr_expect_eq(fx_src(&f, 5)->seq_lost, 7);
	cr_expect_eq(f.lg->n, 6);
	ipfix_flow_enc_free(&e);
	fx_fini(&f);
}

Test(ipfix, encoder_fit_and_nospace)
{
	struct ipfix_flow_enc_cfg cfg = { .sampling_interval = 10 };
	struct ipfix_flow_enc e;
	struct flow fl[200];
	uint8_t buf[1500];
	size_t used, k;
	int len;

	mkflows(fl, 200, 0);
	for (size_t i = 0; i < 200; i++) {	/* one family at a time */
		fl[i].etype = 0x0800;
		weir_addr_v4u(&fl[i].src_addr, 0x0a000001u);
	}
	cr_assert_eq(ipfix_flow_enc_init(&e, &cfg), WEIR_OK);
	for (int tpl = 0; tpl < 2; tpl++) {
		k = ipfix_flow_enc_fit(&e, 1400, 0, tpl);
		cr_assert_gt(k, 5);
		len = ipfix_flow_enc_msg(&e, buf, 1400, 1, fl, 200, tpl, &used);
		cr_assert_gt(len, 0);
		cr_expect_eq(used, k, "fit says %zu, encoder put %zu", k, used);
		cr_expect_leq(len, 1400);
		/* One more would not have fitted. */
		cr_expect_gt((size_t)len + e.t4->min_len, 1400);
	}
	/* Mixed families at every buffer size: each message holds what fits,
	 * set headers included, and decodes whole. */
	mkflows(fl, 200, 0);
	for (size_t cap = 16 + 4 + 120; cap < 1000; cap++) {
		struct fx f;
		size_t got = 0;

		len = ipfix_flow_enc_msg(&e, buf, cap, 1, fl, 200, 0, &used);
		cr_assert_gt(len, 0, "cap %zu: %s", cap, weir_strerror(len));
		cr_assert_leq((size_t)len, cap);
		cr_assert_gt(used, 0);
		fx_init(&f, 1);
		len = ipfix_flow_enc_msg(&e, buf, 1400, 1, fl, 1, 1, &got);
		cr_assert_eq(dec(&f, buf, (size_t)len), WEIR_OK);
		len = ipfix_flow_enc_msg(&e, buf, cap, 1, fl, 200, 0, &got);
		cr_assert_eq(dec(&f, buf, (size_t)len), WEIR_OK);
		cr_expect_eq(f.lg->n, 2 + got, "cap %zu", cap);
		/* Nothing more would have fitted: the next flow needs a record,
		 * and a set header when its family differs. */
		cr_expect_gt((size_t)len + (fl[got].etype == 0x86dd ? 120 : 84) +
			     (fl[got].etype != fl[got - 1].etype ? 4 : 0), cap, "cap %zu", cap);
		fx_fini(&f);
	}
	cr_expect_eq(ipfix_flow_enc_fit(&e, 30, 0, 0), 0);
	len = ipfix_flow_enc_msg(&e, buf, 40, 1, fl, 1, 1, &used);
	cr_expect_eq(len, WEIR_E_NOSPACE);
	cr_expect_eq(used, 0);
	ipfix_flow_enc_free(&e);
}

static void sampled(uint8_t style)
{
	struct ipfix_flow_enc_cfg cfg = { .domain = 9, .sampling_interval = 512,
					  .sampling_style = style, .sampler_id = 7 };
	struct ipfix_flow_enc e;
	struct flow fl[10];
	size_t opts = 0;
	struct fx f;

	fx_init(&f, 1);
	mkflows(fl, 10, 0);
	cr_assert_eq(ipfix_flow_enc_init(&e, &cfg), WEIR_OK);
	flows_through(&f, &e, fl, 10, 1400);
	cr_assert_eq(f.lg->n, 11);	/* the options record and 10 flows */
	for (size_t i = 0; i < f.lg->n; i++) {
		const struct rec_copy *c = &f.lg->r[i];

		cr_expect_eq(c->sampling_rate, 512, "record %zu rate %u", i, c->sampling_rate);
		if (c->is_options) {
			opts++;
			cr_expect_eq(c->flow_err, WEIR_E_INVALID);
		} else {
			cr_expect_eq(c->fl.sampling_rate, 512);
		}
	}
	cr_expect_eq(opts, 1);
	cr_expect_eq(tmpl_sampler_get(fx_src(&f, 9), style == IPFIX_SAMPLING_LEGACY ? 7 : 0), 512);
	cr_expect_eq(e.sequence, 11);
	ipfix_flow_enc_free(&e);
	fx_fini(&f);
}

Test(ipfix, sampling_psamp_reaches_data) { sampled(IPFIX_SAMPLING_PSAMP); }
Test(ipfix, sampling_legacy_sampler_id) { sampled(IPFIX_SAMPLING_LEGACY); }

/* Options records of several styles; each teaches the source a rate. */
Test(ipfix, sampling_options_styles)
{
	static const struct {
		uint32_t spec[4][3];
		size_t n;
		uint8_t rec[32];
		size_t reclen;
		uint64_t sid;
		uint32_t rate;
	} cases[] = {
		/* selectorId scope, samplingPacketInterval 1 / Space 99 (2 bytes) */
		{ { { 0, 302, 4 }, { 0, 305, 2 }, { 0, 306, 2 } }, 3,
		  { 0, 0, 0, 5, 0, 1, 0, 99 }, 8, 5, 100 },
		/* 2 of every 100: interval 2, space 98 */
		{ { { 0, 302, 4 }, { 0, 305, 4 }, { 0, 306, 4 } }, 3,
		  { 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 98 }, 12, 4, 50 },
		/* selectorAlgorithm 3: samplingSize 2 of samplingPopulation 50 */
		{ { { 0, 302, 1 }, { 0, 304, 2 }, { 0, 309, 4 }, { 0, 310, 4 } }, 4,
		  { 6, 0, 3, 0, 0, 0, 2, 0, 0, 0, 50 }, 11, 6, 25 },
		/* selectorAlgorithm 4: samplingProbability 0.125 (float64) */
		{ { { 0, 302, 1 }, { 0, 304, 2 }, { 0, 311, 8 } }, 3,
		  { 8, 0, 4, 0x3f, 0xc0, 0, 0, 0, 0, 0, 0 }, 11, 8, 8 },
		/* samplerId with samplerRandomInterval (NetFlow v9 style names) */
		{ { { 0, 48, 1 }, { 0, 49, 1 }, { 0, 50, 4 } }, 3,
		  { 3, 2, 0, 0, 0x03, 0xe8 }, 6, 3, 1000 },
		/* no sampler id: the exporter default, id 0 */
		{ { { 0, 144, 4 }, { 0, 34, 4 }, { 0, 35, 1 } }, 3,
		  { 0, 0, 0, 1, 0, 0, 0, 64, 1 }, 9, 0, 64 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct tmpl *t = mkt(300, 1, cases[k].n, cases[k].spec);
		struct fx f;
		struct bb m;
		size_t s;

		fx_init(&f, 1);
		bb_hdr(&m, 1, 0, 0);
		s = bb_set(&m, 3);
		bb_u16(&m, 300);
		bb_u16(&m, (uint16_t)cases[k].n);
		bb_u16(&m, 1);
		for (size_t i = 0; i < cases[k].n; i++) {
			bb_u16(&m, (uint16_t)cases[k].spec[i][1]);
			bb_u16(&m, (uint16_t)cases[k].spec[i][2]);
		}
		bb_set_end(&m, s);
		s = bb_set(&m, 300);
		bb_bytes(&m, cases[k].rec, cases[k].reclen);
		bb_set_end(&m, s);
		bb_end(&m);
		cr_assert_eq(dec(&f, m.b, m.n), WEIR_OK, "case %zu", k);
		cr_assert_eq(f.lg->n, 1);
		cr_expect(f.lg->r[0].is_options);
		cr_expect_eq(f.lg->r[0].sampling_rate, cases[k].rate, "case %zu: %u", k,
			     f.lg->r[0].sampling_rate);
		cr_expect_eq(tmpl_sampler_get(fx_src(&f, 0), cases[k].sid), cases[k].rate,
			     "case %zu", k);
		free(t);
		fx_fini(&f);
	}
}

/* Data records find their sampler by id, or carry the rate inline. */
Test(ipfix, sampling_by_sampler_id_and_inline)
{
	static const uint32_t ospec[][3] = { { 0, 48, 1 }, { 0, 34, 4 } };
	static const uint32_t dspec[][3] = { { 0, 48, 1 }, { 0, 1, 4 } };
	static const uint32_t ispec[][3] = { { 0, 1, 4 }, { 0, 34, 2 } };
	struct tmpl *ts[3] = { mkt(300, 1, 2, ospec), mkt(301, 0, 2, dspec),
			       mkt(302, 0, 2, ispec) };
	uint8_t buf[512];
	struct fx f;
	struct bb m;
	size_t n, s;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, ts, 3);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	bb_hdr(&m, 2, 0, 0);
	s = bb_set(&m, 300);
	bb_u8(&m, 1); bb_u32(&m, 10);
	bb_u8(&m, 2); bb_u32(&m, 50);
	bb_set_end(&m, s);
	s = bb_set(&m, 301);
	bb_u8(&m, 1); bb_u32(&m, 1000);
	bb_u8(&m, 2); bb_u32(&m, 2000);
	bb_u8(&m, 1); bb_u32(&m, 3000);
	bb_u8(&m, 9); bb_u32(&m, 4000);	/* unknown sampler, no default */
	bb_set_end(&m, s);
	s = bb_set(&m, 302);
	bb_u32(&m, 5000); bb_u16(&m, 33);
	bb_u32(&m, 6000); bb_u16(&m, 0);	/* interval 0: none inline */
	bb_set_end(&m, s);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_OK);
	cr_assert_eq(f.lg->n, 8);
	cr_expect_eq(f.lg->r[0].sampling_rate, 10);
	cr_expect_eq(f.lg->r[1].sampling_rate, 50);
	cr_expect_eq(f.lg->r[2].sampling_rate, 10);
	cr_expect_eq(f.lg->r[3].sampling_rate, 50);
	cr_expect_eq(f.lg->r[4].sampling_rate, 10);
	cr_expect_eq(f.lg->r[5].sampling_rate, 0);
	cr_expect_eq(f.lg->r[6].sampling_rate, 33);
	cr_expect_eq(f.lg->r[7].sampling_rate, 0);
	cr_expect_eq(f.lg->r[4].fl.bytes, 3000);
	for (int i = 0; i < 3; i++)
		free(ts[i]);
	fx_fini(&f);
}

/* Variable-length values in both prefix forms, enterprise and reverse
 * (RFC 5103) elements, through the low-level encoder. */
Test(ipfix, roundtrip_varlen_enterprise)
{
	static const uint32_t spec[][3] = {
		{ 0, 1, 8 }, { 6871, 14, 1 }, { IE_PEN_REVERSE, 1, 8 },
		{ 0, 82, TMPL_VARLEN }, { 3054, 110, TMPL_VARLEN }, { 0, 4, 1 },
	};
	struct tmpl *t = mkt(400, 0, 6, spec);
	uint8_t big[300], buf[2048], o1[8] = { 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
	uint8_t o2[8] = { 0, 0, 0, 1, 0, 0, 0, 0 }, e1 = 0xc2, p = 6;
	struct weir_value v[6] = {
		{ o1, 8 }, { &e1, 1 }, { o2, 8 }, { (const uint8_t *)"eth0", 4 },
		{ big, sizeof(big) }, { &p, 1 },
	};
	struct ipfix_wmsg m;
	struct wr w;
	struct fx f;
	uint32_t len;
	const uint8_t *q;
	int n;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	fx_init(&f, 1);
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 1, 0, 0);
	ipfix_set_begin(&m, 2);
	ipfix_write_template(&m, t);
	ipfix_set_begin(&m, 400);
	cr_assert_eq(ipfix_write_data(&m, t, v), WEIR_OK);
	/* Second record by hand: "lo" with the 3-byte prefix, RFC 7011 7. */
	wr_bytes(&w, o1, 8);
	wr_u8(&w, 7);
	wr_bytes(&w, o2, 8);
	cr_assert_eq(ipfix_put_varlen(&w, "lo", 2, 1), WEIR_OK);
	cr_assert_eq(ipfix_put_varlen(&w, "", 0, 0), WEIR_OK);
	wr_u8(&w, 17);
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	cr_assert_eq(dec(&f, buf, (size_t)n), WEIR_OK);
	cr_assert_eq(f.lg->n, 2);

	cr_expect_eq(fu(&f.lg->r[0], 0, 1), 0x1234);
	cr_expect_eq(fu(&f.lg->r[0], 6871, 14), 0xc2);
	cr_expect_eq(fu(&f.lg->r[0], IE_PEN_REVERSE, 1), 0x100000000ull);
	q = fv(&f.lg->r[0], 0, 82, &len);
	cr_expect_eq(len, 4);
	cr_expect_eq(memcmp(q, "eth0", 4), 0);
	q = fv(&f.lg->r[0], 3054, 110, &len);
	cr_expect_eq(len, 300);
	cr_expect_eq(memcmp(q, big, LOG_BYTES), 0);
	cr_expect_eq(f.lg->r[0].fl.bytes, 0x1234);
	cr_expect_eq(f.lg->r[0].fl.proto, 6);

	q = fv(&f.lg->r[1], 0, 82, &len);
	cr_expect_eq(len, 2);
	cr_expect_eq(memcmp(q, "lo", 2), 0);
	fv(&f.lg->r[1], 3054, 110, &len);
	cr_expect_eq(len, 0);
	cr_expect_eq(fu(&f.lg->r[1], 6871, 14), 7);
	cr_expect_eq(f.lg->r[1].fl.proto, 17);
	free(t);
	fx_fini(&f);
}

/* RFC 7011 6.2: a template length below the type's size. */
Test(ipfix, reduced_size_encoding)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 }, { 0, 2, 2 }, { 0, 10, 2 }, { 0, 16, 2 } };
	struct tmpl *t = mkt(256, 0, 4, spec);
	uint8_t b1[4] = { 0x81, 2, 3, 4 }, b2[2] = { 0x90, 1 }, b3[2] = { 0, 9 }, b4[2] = { 0xfd, 0xe8 };
	struct weir_value v[4] = { { b1, 4 }, { b2, 2 }, { b3, 2 }, { b4, 2 } };
	struct ipfix_wmsg m;
	uint8_t buf[256];
	struct wr w;
	struct fx f;
	int n;

	fx_init(&f, 1);
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 1, 0, 0);
	ipfix_set_begin(&m, 2);
	ipfix_write_template(&m, t);
	ipfix_set_begin(&m, 256);
	ipfix_write_data(&m, t, v);
	n = ipfix_msg_end(&m);
	cr_assert_eq(dec(&f, buf, (size_t)n), WEIR_OK);
	cr_assert_eq(f.lg->n, 1);
	cr_expect_eq(f.lg->r[0].len[0], 4);
	cr_expect_eq(f.lg->r[0].fl.bytes, 0x81020304u);
	cr_expect_eq(f.lg->r[0].fl.packets, 0x9001);
	cr_expect_eq(f.lg->r[0].fl.in_if, 9);
	cr_expect_eq(f.lg->r[0].fl.src_as, 65000);
	free(t);
	fx_fini(&f);
}

/* Fixed-length fields of length 0 (flowStartSeconds, flowEndSeconds) beside
 * IPv6 addresses: legal (RFC 7011 section 7: the length is any the
 * template gives; reduced-size encoding only bounds it from above), so each
 * record decodes, the zero-length fields carry no value, and nothing counts
 * as an error. Wireshark decodes the same message. */
Test(ipfix, zero_length_fields_decode)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 1, [15] = 2 };
	struct bb m;
	struct fx f;
	size_t s;

	fx_init(&f, 1);
	bb_hdr(&m, 1000, 0, 0);
	s = bb_set(&m, 2);
	bb_u16(&m, 256);
	bb_u16(&m, 7);
	bb_u16(&m, 27);		/* sourceIPv6Address */
	bb_u16(&m, 16);
	bb_u16(&m, 150);	/* flowStartSeconds, length 0 */
	bb_u16(&m, 0);
	bb_u16(&m, 28);		/* destinationIPv6Address */
	bb_u16(&m, 16);
	bb_u16(&m, 151);	/* flowEndSeconds, length 0 */
	bb_u16(&m, 0);
	bb_u16(&m, 1);		/* octetDeltaCount */
	bb_u16(&m, 4);
	bb_u16(&m, 4);		/* protocolIdentifier */
	bb_u16(&m, 1);
	bb_u16(&m, 291);	/* basicList, length 0: no list to check */
	bb_u16(&m, 0);
	bb_set_end(&m, s);
	s = bb_set(&m, 256);
	for (uint32_t r = 0; r < 2; r++) {
		bb_bytes(&m, src, sizeof(src));
		bb_bytes(&m, dst, sizeof(dst));
		bb_u32(&m, 1000 + r);
		bb_u8(&m, 17);
	}
	bb_set_end(&m, s);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_OK);
	for (int k = 1; k < WEIR_E_MAX; k++)
		cr_expect_eq(f.ctx.errors[k], 0, "error kind -%d counted %llu times", k,
			     (unsigned long long)f.ctx.errors[k]);
	cr_assert_eq(f.lg->n, 2);
	for (uint32_t r = 0; r < 2; r++) {
		const struct rec_copy *c = &f.lg->r[r];
		uint32_t len = 99;

		cr_assert_not_null(fv(c, 0, 150, &len));
		cr_expect_eq(len, 0);
		cr_expect_eq(fu(c, 0, 1), 1000 + r);
		cr_expect_eq(c->flow_err, 0);
		cr_expect_eq(c->fl.bytes, 1000 + r);
		cr_expect_eq(c->fl.proto, 17);
		cr_expect_eq(memcmp(c->fl.src_addr.a, src, 16), 0);
		cr_expect_eq(memcmp(c->fl.dst_addr.a, dst, 16), 0);
		cr_expect_eq(c->fl.time_flow_start_ns, 0, "no value, no time");
	}
	/* The raw format omits what carries no value. */
	cr_expect(strstr(f.lg->json0, "\"sourceIPv6Address\":\"2001:db8::1\""), "%s", f.lg->json0);
	cr_expect(strstr(f.lg->json0, "\"octetDeltaCount\":1000"), "%s", f.lg->json0);
	cr_expect_null(strstr(f.lg->json0, "flowStartSeconds"), "%s", f.lg->json0);
	cr_expect_null(strstr(f.lg->json0, "basicList"), "%s", f.lg->json0);
	fx_fini(&f);
}

static size_t data_msg(uint8_t *buf, size_t cap, uint32_t et, uint32_t seq,
		       const struct tmpl *t, uint32_t first, size_t nrec)
{
	struct ipfix_wmsg m;
	struct wr w;
	uint8_t vals[16][8];
	struct weir_value v[16];
	int n;

	wr_init(&w, buf, cap);
	ipfix_msg_begin(&m, &w, et, seq, 0);
	ipfix_set_begin(&m, t->id);
	for (size_t r = 0; r < nrec; r++) {
		for (unsigned i = 0; i < t->nfields; i++) {
			uint64_t x = first + r;

			for (unsigned k = 0; k < t->f[i].len; k++)
				vals[i][k] = (uint8_t)(x >> (8 * (t->f[i].len - 1 - k)));
			v[i].p = vals[i];
			v[i].len = t->f[i].len;
		}
		cr_assert_eq(ipfix_write_data(&m, t, v), WEIR_OK);
	}
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

Test(ipfix, withdrawals_single_and_all)
{
	static const uint32_t dspec[][3] = { { 0, 1, 4 }, { 0, 2, 4 } };
	static const uint32_t ospec[][3] = { { 0, 144, 4 }, { 0, 41, 4 } };
	struct tmpl *ts[3] = { mkt(256, 0, 2, dspec), mkt(257, 0, 2, dspec),
			       mkt(258, 1, 2, ospec) };
	uint8_t buf[512];
	struct ipfix_wmsg m;
	struct wr w;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, ts, 3);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	for (int i = 0; i < 3; i++) {
		n = data_msg(buf, sizeof(buf), 1, 0, ts[i], 1, 2);
		cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	}
	cr_assert_eq(f.lg->n, 6);

	/* Withdraw 256 alone. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 2, 0, 0);
	ipfix_set_begin(&m, 2);
	cr_assert_eq(ipfix_write_withdrawal(&m, 256), WEIR_OK);
	n = (size_t)ipfix_msg_end(&m);
	cr_assert_eq(n, 16 + 8);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_null(tmpl_find(fx_src(&f, 0), 256, NOW));
	cr_expect_not_null(tmpl_find(fx_src(&f, 0), 257, NOW));
	n = data_msg(buf, sizeof(buf), 1, 0, ts[0], 1, 2);
	cr_expect_eq(dec(&f, buf, n), WEIR_E_NO_TEMPLATE);
	n = data_msg(buf, sizeof(buf), 1, 0, ts[1], 1, 2);
	cr_expect_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(f.lg->n, 8);

	/* All data templates (id 2 in set 2): the options template stays. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 2, 0, 0);
	ipfix_set_begin(&m, 2);
	cr_assert_eq(ipfix_write_withdrawal(&m, 2), WEIR_OK);
	n = (size_t)ipfix_msg_end(&m);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_null(tmpl_find(fx_src(&f, 0), 257, NOW));
	cr_expect_not_null(tmpl_find(fx_src(&f, 0), 258, NOW));

	/* All options templates (id 3 in set 3). */
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 2, 0, 0);
	ipfix_set_begin(&m, 3);
	cr_assert_eq(ipfix_write_withdrawal(&m, 3), WEIR_OK);
	n = (size_t)ipfix_msg_end(&m);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_null(tmpl_find(fx_src(&f, 0), 258, NOW));
	cr_expect_eq(tmpl_cache_stats(f.c)->withdrawn, 3);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 0);
	/* The encoder refuses a withdrawal of nothing. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 2, 0, 0);
	ipfix_set_begin(&m, 2);
	cr_expect_eq(ipfix_write_withdrawal(&m, 3), WEIR_E_INVALID);
	for (int i = 0; i < 3; i++)
		free(ts[i]);
	fx_fini(&f);
}

Test(ipfix, template_replaced_by_new_definition)
{
	static const uint32_t s1[][3] = { { 0, 1, 8 }, { 0, 2, 8 } };
	static const uint32_t s2[][3] = { { 0, 2, 4 }, { 0, 7, 2 }, { 0, 1, 2 } };
	struct tmpl *a = mkt(300, 0, 2, s1), *b = mkt(300, 0, 3, s2);
	uint8_t buf[512];
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &a, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, a, 40, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = msg_templates(buf, sizeof(buf), 1, &b, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 1, b, 50, 2);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_assert_eq(f.lg->n, 3);
	cr_expect_eq(f.lg->r[0].nfields, 2);
	cr_expect_eq(f.lg->r[0].fl.bytes, 40);
	cr_expect_eq(f.lg->r[1].nfields, 3);
	cr_expect_eq(f.lg->r[1].fl.src_port, 50);
	cr_expect_eq(f.lg->r[2].fl.bytes, 51);
	cr_expect_eq(f.lg->r[2].len[0], 4);
	cr_expect_eq(tmpl_cache_stats(f.c)->replaced, 1);
	free(a);
	free(b);
	fx_fini(&f);
}

/* Data before its template: held, then decoded with its own header facts. */
Test(ipfix, held_data_rescued_by_template)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 }, { 0, 2, 4 } };
	struct tmpl *t = mkt(260, 0, 2, spec);
	uint8_t buf[512];
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	n = data_msg(buf, sizeof(buf), 111, 0, t, 1, 2);
	cr_assert_eq(dec(&f, buf, n), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(f.lg->n, 0);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 1);
	cr_expect_eq(tmpl_cache_stats(f.c)->pending_held, 1);
	n = msg_templates(buf, sizeof(buf), 2, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_assert_eq(f.lg->n, 2);
	cr_expect_eq(f.lg->r[0].export_time, 111);
	cr_expect_eq(f.lg->r[1].fl.bytes, 2);
	cr_expect_eq(tmpl_cache_stats(f.c)->pending_rescued, 1);
	free(t);
	fx_fini(&f);
}

/* Data set before the template set of the same message: rescued at once,
 * and its records still count for the sequence number. */
Test(ipfix, held_data_same_message_keeps_sequence)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(261, 0, 1, spec);
	uint8_t buf[512];
	struct bb m;
	struct fx f;
	size_t s, n;

	fx_init(&f, 1);
	bb_hdr(&m, 5, 100, 0);
	s = bb_set(&m, 261);
	bb_u32(&m, 7);
	bb_u32(&m, 8);
	bb_u32(&m, 9);
	bb_set_end(&m, s);
	s = bb_set(&m, 2);
	bb_u16(&m, 261);
	bb_u16(&m, 1);
	bb_u16(&m, 1);
	bb_u16(&m, 4);
	bb_set_end(&m, s);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(f.lg->n, 3);
	cr_expect_eq(f.lg->r[2].fl.bytes, 9);
	/* 100 + 3 records expected next; 104 means one record lost. */
	n = data_msg(buf, sizeof(buf), 6, 104, t, 1, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(fx_src(&f, 0)->seq_gaps, 1);
	cr_expect_eq(fx_src(&f, 0)->seq_lost, 1);
	n = data_msg(buf, sizeof(buf), 6, 110, t, 1, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(fx_src(&f, 0)->seq_lost, 6);
	free(t);
	fx_fini(&f);
}

/* Sequence numbers as softflowd sends them: data records sent up to and
 * with this message, not before it (RFC 7011 section 3.1). Not a loss: a
 * quirk, counted once; a real loss later is still counted. The RFC's
 * numbering beside it raises nothing. */
Test(ipfix, sequence_including_the_message_is_a_quirk)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(262, 0, 1, spec);
	static const uint32_t incl[][2] = { { 3, 3 }, { 7, 4 }, { 9, 2 }, { 15, 1 } };
	static const uint32_t rfc[][2] = { { 0, 3 }, { 3, 4 }, { 7, 2 } };
	uint8_t buf[512];
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	/* 3, 4, 2 records; then a message of 5 lost; then 1. */
	for (size_t i = 0; i < 4; i++) {
		n = data_msg(buf, sizeof(buf), 6, incl[i][0], t, 1, incl[i][1]);
		cr_assert_eq(dec(&f, buf, n), WEIR_OK);
		if (i == 2) {
			cr_expect_eq(fx_src(&f, 0)->seq_gaps + fx_src(&f, 0)->seq_reordered, 0);
			cr_expect_eq(f.ctx.quirks[WEIR_Q_SEQ_CONVENTION], 1);
		}
	}
	cr_expect_eq(fx_src(&f, 0)->seq_gaps, 1);
	cr_expect_eq(fx_src(&f, 0)->seq_lost, 5);
	cr_expect_eq(fx_src(&f, 0)->seq_reordered, 0);
	cr_expect_eq(f.ctx.quirks[WEIR_Q_SEQ_CONVENTION], 1, "once per source");
	fx_fini(&f);

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	for (size_t i = 0; i < 3; i++) {
		n = data_msg(buf, sizeof(buf), 6, rfc[i][0], t, 1, rfc[i][1]);
		cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	}
	cr_expect_eq(fx_src(&f, 0)->seq_gaps + fx_src(&f, 0)->seq_reordered, 0);
	cr_expect_eq(f.ctx.quirks[WEIR_Q_SEQ_CONVENTION], 0);
	free(t);
	fx_fini(&f);
}

/* A set held for good leaves the message's record count unknown: sequence
 * tracking starts over rather than report records as lost. */
Test(ipfix, held_data_restarts_sequence_tracking)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(261, 0, 1, spec);
	uint8_t buf[512];
	struct bb m;
	struct fx f;
	size_t s, n;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 2);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	bb_hdr(&m, 2, 2, 0);
	s = bb_set(&m, 999);	/* three records of a template never seen */
	bb_u32(&m, 1);
	bb_u32(&m, 2);
	bb_u32(&m, 3);
	bb_set_end(&m, s);
	s = bb_set(&m, 261);
	bb_u32(&m, 4);
	bb_set_end(&m, s);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(f.lg->n, 3);
	n = data_msg(buf, sizeof(buf), 3, 6, t, 1, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(fx_src(&f, 0)->seq_gaps, 0);
	n = data_msg(buf, sizeof(buf), 3, 9, t, 1, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(fx_src(&f, 0)->seq_gaps, 1);
	cr_expect_eq(fx_src(&f, 0)->seq_lost, 2);
	free(t);
	fx_fini(&f);
}

Test(ipfix, no_cache_counts_data_as_unknown)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(262, 0, 1, spec);
	uint8_t buf[512];
	struct fx f;
	size_t n;

	fx_init(&f, 0);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_expect_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 2);
	cr_expect_eq(dec(&f, buf, n), WEIR_E_NO_TEMPLATE);
	cr_expect_eq(f.lg->n, 0);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 1);
	cr_expect_eq(f.ctx.messages, 2);
	free(t);
	fx_fini(&f);
}

Test(ipfix, padding_and_reserved_sets)
{
	struct bb m;
	struct fx f;
	size_t s;

	fx_init(&f, 1);
	bb_hdr(&m, 1, 0, 0);
	s = bb_set(&m, 2);	/* template 256: one 4-byte field, then padding */
	bb_u16(&m, 256);
	bb_u16(&m, 1);
	bb_u16(&m, 1);
	bb_u16(&m, 4);
	bb_u16(&m, 0);
	bb_u16(&m, 0);
	bb_u32(&m, 0);
	bb_set_end(&m, s);
	s = bb_set(&m, 10);	/* reserved: skipped whatever it holds */
	bb_u32(&m, 0xdeadbeef);
	bb_set_end(&m, s);
	s = bb_set(&m, 1);
	bb_set_end(&m, s);
	s = bb_set(&m, 256);	/* two records, 3 bytes of non-zero padding */
	bb_u32(&m, 5);
	bb_u32(&m, 6);
	bb_u8(&m, 0xaa);
	bb_u8(&m, 0xbb);
	bb_u8(&m, 0xcc);
	bb_set_end(&m, s);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_OK);
	cr_assert_eq(f.lg->n, 2);
	cr_expect_eq(f.lg->r[1].fl.bytes, 6);
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0, "error %s counted", weir_errname(-i));

	/* Set padding from the encoder: align 4 on a 5-byte record set. */
	{
		static const uint32_t spec[][3] = { { 0, 4, 1 }, { 0, 10, 4 } };
		struct tmpl *t = mkt(270, 0, 2, spec);
		uint8_t p = 6, i4[4] = { 0, 0, 0, 3 }, buf[256];
		struct weir_value v[2] = { { &p, 1 }, { i4, 4 } };
		struct ipfix_wmsg wm;
		struct wr w;
		int n;

		wr_init(&w, buf, sizeof(buf));
		ipfix_msg_begin(&wm, &w, 1, 0, 0);
		ipfix_set_begin(&wm, 2);
		ipfix_write_template(&wm, t);
		ipfix_set_end(&wm, 4);
		ipfix_set_begin(&wm, 270);
		ipfix_write_data(&wm, t, v);
		cr_assert_eq(ipfix_set_end(&wm, 4), WEIR_OK);
		n = ipfix_msg_end(&wm);
		cr_assert_eq(n % 4, 0);
		cr_assert_eq(dec(&f, buf, (size_t)n), WEIR_OK);
		cr_expect_eq(f.lg->n, 3);
		cr_expect_eq(f.lg->r[2].fl.in_if, 3);
		free(t);
	}
	fx_fini(&f);
}

Test(ipfix, callback_stop)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(263, 0, 1, spec);
	uint8_t buf[512];
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	f.lg->stop_after = 2;
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	dec(&f, buf, n);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 5);
	cr_expect_eq(dec(&f, buf, n), WEIR_E_STOPPED);
	cr_expect_eq(f.lg->n, 2);
	free(t);
	fx_fini(&f);
}

/* ---- malformed messages ---- */

struct bad_case {
	const char *name;
	void (*build)(struct bb *m);
	int err;
	size_t records;		/* records still handed out */
};

/* A valid template 256 (two fields) set, used before the bad part. */
static void good_tmpl(struct bb *m)
{
	size_t s = bb_set(m, 2);

	bb_u16(m, 256);
	bb_u16(m, 2);
	bb_u16(m, 1);
	bb_u16(m, 4);
	bb_u16(m, 82);
	bb_u16(m, TMPL_VARLEN);
	bb_set_end(m, s);
}

static void b_version(struct bb *m) { bb_hdr(m, 1, 0, 0); bb_end(m); m->b[1] = 9; }
static void b_len_small(struct bb *m) { bb_hdr(m, 1, 0, 0); bb_put16(m, 2, 15); }
static void b_len_zero(struct bb *m) { bb_hdr(m, 1, 0, 0); bb_put16(m, 2, 0); }
static void b_len_big(struct bb *m) { bb_hdr(m, 1, 0, 0); good_tmpl(m); bb_put16(m, 2, (uint16_t)(m->n + 1)); }
static void b_set_len0(struct bb *m) { bb_hdr(m, 1, 0, 0); bb_u16(m, 2); bb_u16(m, 0); bb_end(m); }
static void b_set_len3(struct bb *m) { bb_hdr(m, 1, 0, 0); bb_u16(m, 256); bb_u16(m, 3); bb_end(m); }
static void b_set_past(struct bb *m)
{
	bb_hdr(m, 1, 0, 0);
	good_tmpl(m);
	bb_u16(m, 256);
	bb_u16(m, 40);
	bb_u32(m, 1);
	bb_u8(m, 0);
	bb_end(m);
}
static void b_set_stray(struct bb *m) { bb_hdr(m, 1, 0, 0); good_tmpl(m); bb_u16(m, 0); bb_u8(m, 0); bb_end(m); }
static void tmpl_hdr(struct bb *m, uint16_t sid, uint16_t id, uint16_t n)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, sid);
	bb_u16(m, id);
	bb_u16(m, n);
	if (n)
		for (uint16_t i = 0; i < n; i++) {
			bb_u16(m, (uint16_t)(i + 1));
			bb_u16(m, 4);
		}
	bb_set_end(m, s);
	bb_end(m);
}
static void b_zero_fields_id3_in_set2(struct bb *m) { tmpl_hdr(m, 2, 3, 0); }
static void b_zero_fields_id100(struct bb *m) { tmpl_hdr(m, 2, 100, 0); }
static void b_zero_fields_id2_in_set3(struct bb *m) { tmpl_hdr(m, 3, 2, 0); }
static void b_tmpl_id_low(struct bb *m) { tmpl_hdr(m, 2, 255, 2); }
static void b_count_overflow(struct bb *m)
{
	tmpl_hdr(m, 2, 256, 2);
	bb_put16(m, 16 + 6, 10);	/* field count 10, two fields present */
}
static void b_too_many_fields(struct bb *m)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 2);
	bb_u16(m, 256);
	bb_u16(m, TMPL_MAX_FIELDS + 1);
	for (unsigned i = 0; i < TMPL_MAX_FIELDS + 1; i++) {
		bb_u16(m, 1);
		bb_u16(m, 1);
	}
	bb_set_end(m, s);
	bb_end(m);
}
static void b_zero_len_record(struct bb *m)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 2);
	bb_u16(m, 256);
	bb_u16(m, 2);
	bb_u16(m, 1);
	bb_u16(m, 0);
	bb_u16(m, 2);
	bb_u16(m, 0);
	bb_set_end(m, s);
	bb_end(m);
}
static void opt_tmpl(struct bb *m, uint16_t n, uint16_t scope)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 3);
	bb_u16(m, 300);
	bb_u16(m, n);
	bb_u16(m, scope);
	for (uint16_t i = 0; i < n; i++) {
		bb_u16(m, (uint16_t)(144 + i));
		bb_u16(m, 4);
	}
	bb_set_end(m, s);
	bb_end(m);
}
static void b_zero_id_not_padding(struct bb *m)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 2);
	bb_u32(m, 0);
	bb_u8(m, 1);
	bb_set_end(m, s);
	bb_end(m);
}
static void b_scope_zero(struct bb *m) { opt_tmpl(m, 2, 0); }
static void b_scope_above(struct bb *m) { opt_tmpl(m, 2, 3); }
static void b_opt_hdr_cut(struct bb *m)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 3);
	bb_u16(m, 300);
	bb_u16(m, 2);
	bb_u8(m, 0);
	bb_set_end(m, s);
	bb_end(m);
}
static void data_after_good(struct bb *m, const uint8_t *rec, size_t n)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	good_tmpl(m);
	s = bb_set(m, 256);
	bb_u32(m, 1);		/* a good record first */
	bb_u8(m, 2);
	bb_u16(m, 0x6869);
	bb_bytes(m, rec, n);
	bb_set_end(m, s);
	bb_end(m);
}
static void b_varlen1_past(struct bb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 10, 'a', 'b', 'c' };

	data_after_good(m, r, sizeof(r));
}
static void b_varlen3_past(struct bb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 255, 0x01, 0x00, 'a', 'b', 'c' };

	data_after_good(m, r, sizeof(r));
}
static void b_varlen3_cut_prefix(struct bb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 255, 0x01 };

	data_after_good(m, r, sizeof(r));
}
/* A bad template set between good sets: the next sets still decode. */
static void b_bad_then_good(struct bb *m)
{
	size_t s;

	bb_hdr(m, 1, 0, 0);
	s = bb_set(m, 2);
	bb_u16(m, 300);
	bb_u16(m, 9);
	bb_u16(m, 1);
	bb_u16(m, 4);
	bb_set_end(m, s);
	good_tmpl(m);
	s = bb_set(m, 256);
	bb_u32(m, 1);
	bb_u8(m, 0);
	bb_set_end(m, s);
	bb_end(m);
}

static const struct bad_case bad_cases[] = {
	{ "version", b_version, WEIR_E_VERSION, 0 },
	{ "message length 15", b_len_small, WEIR_E_LENGTH, 0 },
	{ "message length 0", b_len_zero, WEIR_E_LENGTH, 0 },
	{ "message length past datagram", b_len_big, WEIR_E_LENGTH, 0 },
	{ "set length 0", b_set_len0, WEIR_E_SET_LENGTH, 0 },
	{ "set length 3", b_set_len3, WEIR_E_SET_LENGTH, 0 },
	{ "set length past message", b_set_past, WEIR_E_SET_LENGTH, 0 },
	{ "stray bytes after the last set", b_set_stray, WEIR_E_SET_LENGTH, 0 },
	{ "0 fields, id 3 in set 2", b_zero_fields_id3_in_set2, WEIR_E_TEMPLATE, 0 },
	{ "0 fields, id 100", b_zero_fields_id100, WEIR_E_TEMPLATE, 0 },
	{ "0 fields, id 2 in set 3", b_zero_fields_id2_in_set3, WEIR_E_TEMPLATE, 0 },
	{ "template id 255", b_tmpl_id_low, WEIR_E_TEMPLATE, 0 },
	{ "field count past set", b_count_overflow, WEIR_E_TEMPLATE, 0 },
	{ "too many fields", b_too_many_fields, WEIR_E_TEMPLATE, 0 },
	{ "records of zero bytes", b_zero_len_record, WEIR_E_TEMPLATE, 0 },
	{ "template id 0 then non-zero bytes", b_zero_id_not_padding, WEIR_E_TEMPLATE, 0 },
	{ "options scope 0", b_scope_zero, WEIR_E_TEMPLATE, 0 },
	{ "options scope > count", b_scope_above, WEIR_E_TEMPLATE, 0 },
	{ "options header cut", b_opt_hdr_cut, WEIR_E_TEMPLATE, 0 },
	{ "varlen 1-byte past record", b_varlen1_past, WEIR_E_VARLEN, 1 },
	{ "varlen 3-byte past record", b_varlen3_past, WEIR_E_VARLEN, 1 },
	{ "varlen 3-byte prefix cut", b_varlen3_cut_prefix, WEIR_E_VARLEN, 1 },
	{ "bad template set then good sets", b_bad_then_good, WEIR_E_TEMPLATE, 1 },
};

Test(ipfix, malformed_table)
{
	for (size_t k = 0; k < sizeof(bad_cases) / sizeof(bad_cases[0]); k++) {
		const struct bad_case *bc = &bad_cases[k];
		struct bb m;
		struct fx f;
		int err;

		fx_init(&f, 1);
		memset(&m, 0, sizeof(m));
		bc->build(&m);
		err = dec(&f, m.b, m.n);
		cr_expect_eq(err, bc->err, "%s: got %s, want %s", bc->name, weir_errname(err),
			     weir_errname(bc->err));
		cr_expect_eq(f.ctx.errors[-bc->err], 1, "%s: not counted", bc->name);
		cr_expect_eq(f.lg->n, bc->records, "%s: %zu records", bc->name, f.lg->n);
		fx_fini(&f);
	}
}

Test(ipfix, truncated_header_every_length)
{
	struct bb m;
	struct fx f;

	fx_init(&f, 1);
	bb_hdr(&m, 1, 0, 0);
	bb_end(&m);
	for (size_t n = 0; n < 16; n++)
		cr_expect_eq(dec(&f, m.b, n), WEIR_E_TRUNCATED, "length %zu", n);
	cr_expect_eq(f.ctx.errors[-WEIR_E_TRUNCATED], 16);
	cr_expect_eq(dec(&f, m.b, 16), WEIR_OK);
	cr_expect_eq(f.ctx.messages, 1);
	fx_fini(&f);
}

/* Messages before and after a bad one are decoded and counted. */
Test(ipfix, stream_survives_bad_message)
{
	static const uint32_t spec[][3] = { { 0, 1, 4 } };
	struct tmpl *t = mkt(256, 0, 1, spec);
	uint8_t buf[512];
	struct bb m;
	struct fx f;
	size_t n, sa;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 3);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	/* Two good records, then a set whose length runs past the message. */
	bb_hdr(&m, 2, 3, 0);
	sa = bb_set(&m, 256);
	bb_u32(&m, 10);
	bb_u32(&m, 11);
	bb_set_end(&m, sa);
	bb_u16(&m, 256);
	bb_u16(&m, 100);
	bb_u32(&m, 12);
	bb_end(&m);
	cr_assert_eq(dec(&f, m.b, m.n), WEIR_E_SET_LENGTH);
	n = data_msg(buf, sizeof(buf), 3, 5, t, 20, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(f.lg->n, 6);
	cr_expect_eq(f.ctx.records, 6);
	cr_expect_eq(f.lg->r[4].fl.bytes, 11);
	cr_expect_eq(f.lg->r[5].fl.bytes, 20);
	cr_expect_eq(f.ctx.messages, 3);
	cr_expect_eq(f.ctx.errors[-WEIR_E_SET_LENGTH], 1);
	free(t);
	fx_fini(&f);
}

/* Cut a message of every kind of set at every length, both as a short
 * datagram and as a message whose length field says the cut length. */
Test(ipfix, truncated_at_every_length)
{
	static const uint32_t vspec[][3] = { { 0, 1, 4 }, { 0, 82, TMPL_VARLEN }, { 0, 4, 1 } };
	struct ipfix_flow_enc_cfg cfg = { .sampling_interval = 100 };
	struct ipfix_flow_enc e;
	struct tmpl *vt = mkt(300, 0, 3, vspec);
	struct flow fl[6];
	uint8_t full[2048], cut[2048], s300[300];
	struct weir_value v[3];
	struct ipfix_wmsg m;
	struct wr w;
	size_t used, len, boundary_ok = 0;
	int n;

	memset(s300, 'x', sizeof(s300));
	mkflows(fl, 6, 0);
	cr_assert_eq(ipfix_flow_enc_init(&e, &cfg), WEIR_OK);
	n = ipfix_flow_enc_msg(&e, full, 1024, 1, fl, 6, 1, &used);
	cr_assert_gt(n, 0);
	len = (size_t)n;
	/* Append a template set and a data set with both varlen forms. */
	wr_init(&w, full + len, sizeof(full) - len);
	ipfix_msg_begin(&m, &w, 0, 0, 0);
	ipfix_set_begin(&m, 2);
	ipfix_write_template(&m, vt);
	ipfix_set_begin(&m, 300);
	v[0] = (struct weir_value){ (const uint8_t *)"abcd", 4 };
	v[1] = (struct weir_value){ (const uint8_t *)"eth0", 4 };
	v[2] = (struct weir_value){ (const uint8_t *)"\x06", 1 };
	ipfix_write_data(&m, vt, v);
	v[1] = (struct weir_value){ s300, sizeof(s300) };
	ipfix_write_data(&m, vt, v);
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	memmove(full + len, full + len + 16, (size_t)n - 16);
	len += (size_t)n - 16;
	full[2] = (uint8_t)(len >> 8);
	full[3] = (uint8_t)len;
	{
		struct fx f;

		fx_init(&f, 1);
		cr_assert_eq(dec(&f, full, len), WEIR_OK);
		cr_assert_eq(f.lg->n, 1 + 6 + 2);
		fx_fini(&f);
	}
	for (size_t k = 0; k < len; k++) {
		struct fx f;
		int err;

		fx_init(&f, 1);
		memcpy(cut, full, k);
		err = dec(&f, cut, k);
		cr_expect(err == WEIR_E_TRUNCATED || err == WEIR_E_LENGTH, "short %zu: %d", k, err);
		cr_expect_eq(f.lg->n, 0);
		if (k >= 16) {
			cut[2] = (uint8_t)(k >> 8);
			cut[3] = (uint8_t)k;
			err = dec(&f, cut, k);
			cr_expect(err == WEIR_OK || err == WEIR_E_SET_LENGTH, "cut %zu: %s", k,
				  weir_errname(err));
			cr_expect_leq(f.lg->n, 9);
			if (err == WEIR_OK)
				boundary_ok++;
		}
		fx_fini(&f);
	}
	/* The header alone, and the end of each set but the last: template,
	 * options template, options data, v4, v6, v4, v6 data, varlen template
	 * (then varlen data ends the message). */
	cr_expect_eq(boundary_ok, 1 + 8, "%zu cuts decoded cleanly", boundary_ok);
	ipfix_flow_enc_free(&e);
	free(vt);
}

/* ---- real exporter payloads; expected values as tshark -V shows them ---- */

#define VENDOR_MAX 65536

static size_t vendor_load(const char *name, uint8_t *buf)
{
	const char *shared = getenv("WEIR_SHARED");
	char path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/testdata/vendor-payloads/%s",
		 shared ? shared : "../shared", name);
	fp = fopen(path, "rb");
	if (!fp)
		cr_skip_test("vendor payload %s absent", name);
	n = fread(buf, 1, VENDOR_MAX, fp);
	fclose(fp);
	return n;
}

/* Decode one payload file; returns the error, *added the records it gave. */
static int feed(struct fx *f, const char *name, size_t *added)
{
	static uint8_t buf[VENDOR_MAX];
	size_t before = f->lg->n, n = vendor_load(name, buf);
	int err = dec(f, buf, n);

	if (added)
		*added = f->lg->n - before;
	return err;
}

static void expect_v4(const struct weir_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	char s[64];

	cr_expect(v4eq(a, x, y, z, w), "address %s, want %u.%u.%u.%u", weir_addr_str(a, s, sizeof(s)),
		  x, y, z, w);
}

Test(ipfix_vendor, mikrotik)
{
	struct fx f;
	size_t n;
	const struct rec_copy *r;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(n, 0);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 2);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_data258.dat", &n), WEIR_OK);
	cr_assert_eq(n, 28);
	r = &f.lg->r[0];
	cr_expect_eq(r->tid, 258);
	expect_v4(&r->fl.src_addr, 10, 10, 8, 197);
	expect_v4(&r->fl.dst_addr, 192, 168, 128, 17);
	expect_v4(&r->fl.next_hop, 192, 168, 224, 1);
	cr_expect_eq(r->fl.src_port, 123);
	cr_expect_eq(r->fl.dst_port, 123);
	cr_expect_eq(r->fl.in_if, 13);
	cr_expect_eq(r->fl.out_if, 7);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.packets, 2);
	cr_expect_eq(r->fl.bytes, 152);
	cr_expect_eq(fu(r, 0, 225), 0xc0a8e6d8u);	/* postNATSourceIPv4Address 192.168.230.216 */
	cr_expect_eq(r->export_time, 1500481088);
	cr_expect_eq(r->sequence, 3936);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_data259.dat", &n), WEIR_OK);
	cr_expect_eq(n, 18);
	cr_expect_eq(f.lg->r[28].tid, 259);
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0);
	fx_fini(&f);
}

/* Variable-length strings, a 602-byte one with the 3-byte prefix, and a set
 * whose template this capture never had. */
Test(ipfix_vendor, netscaler)
{
	struct fx f;
	size_t n;
	uint32_t len;
	const uint8_t *p;
	const struct rec_copy *r;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_netscaler_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 7);
	cr_assert_eq(feed(&f, "ipfix_test_netscaler_data.dat", &n), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(n, 3);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 1);
	r = &f.lg->r[0];
	cr_expect_eq(r->tid, 258);
	expect_v4(&r->fl.src_addr, 192, 168, 0, 1);
	expect_v4(&r->fl.dst_addr, 10, 0, 0, 1);
	cr_expect_eq(r->fl.src_port, 51053);
	cr_expect_eq(r->fl.dst_port, 443);
	cr_expect_eq(r->fl.packets, 1);
	cr_expect_eq(r->fl.bytes, 40);
	fv(r, 5951, 131, &len);		/* HTTP Request Cookie: one NUL */
	cr_expect_eq(len, 1);
	cr_expect_eq(f.lg->r[1].tid, 257);
	cr_expect_eq(f.lg->r[1].fl.bytes, 1525);
	r = &f.lg->r[2];
	cr_expect_eq(r->fl.bytes, 1541);
	fv(r, 5951, 131, &len);
	cr_expect_eq(len, 602);
	p = fv(r, 5951, 130, &len);	/* HTTP Request URL */
	cr_expect_eq(len, 39);
	cr_expect_eq(memcmp(p, "/aa/bb/ccccc/", 13), 0);
	p = fv(r, 5951, 141, &len);	/* HTTP Request Method */
	cr_expect_eq(len, 4);
	cr_expect_eq(memcmp(p, "GET", 4), 0);
	fx_fini(&f);
}

/* Three messages in one file: framed with ipfix_msg_length(). */
Test(ipfix_vendor, plain_stream_of_three)
{
	static uint8_t buf[VENDOR_MAX];
	static const size_t want_len[3] = { 484, 64, 240 }, want_rec[3] = { 7, 1, 5 };
	size_t n = vendor_load("ipfix.dat", buf), off = 0, k = 0;
	const struct rec_copy *r;
	struct fx f;

	fx_init(&f, 1);
	while (off < n) {
		size_t ml = 0, before = f.lg->n;

		cr_assert_lt(k, 3);
		cr_assert_eq(ipfix_msg_length(buf + off, n - off, &ml), WEIR_OK);
		cr_expect_eq(ml, want_len[k]);
		cr_assert_eq(dec(&f, buf + off, ml), WEIR_OK);
		cr_expect_eq(f.lg->n - before, want_rec[k], "message %zu", k);
		off += ml;
		k++;
	}
	cr_expect_eq(k, 3);
	r = &f.lg->r[0];
	cr_expect(r->is_options);
	cr_expect_eq(fu(r, 0, 143), 2679);	/* meteringProcessId */
	cr_expect_eq(r->sampling_rate, 1);	/* interval 1, space 0 */
	r = &f.lg->r[1];
	cr_expect_eq(r->tid, 1024);
	cr_expect_eq(r->sampling_rate, 1);
	expect_v4(&r->fl.src_addr, 192, 168, 253, 1);
	expect_v4(&r->fl.dst_addr, 192, 168, 253, 128);
	cr_expect_eq(r->fl.bytes, 260);
	cr_expect_eq(r->fl.packets, 5);
	cr_expect_eq(r->fl.src_port, 60560);
	cr_expect_eq(r->fl.dst_port, 22);
	cr_expect_eq(r->fl.proto, 6);
	cr_expect_eq(r->fl.tcp_flags, 0x10);
	r = &f.lg->r[7];
	expect_v4(&r->fl.src_addr, 192, 168, 253, 130);
	expect_v4(&r->fl.dst_addr, 10, 4, 36, 64);
	cr_expect_eq(r->fl.dst_port, 9200);
	cr_expect_eq(r->fl.tcp_flags, 0x02);
	cr_expect_eq(f.lg->r[8].fl.bytes, 256);
	cr_expect_eq(ipfix_msg_length(buf, 10, &off), WEIR_E_TRUNCATED);
	cr_expect_eq(ipfix_msg_length(buf, 100, &off), WEIR_E_TRUNCATED);

	/* The whole file as one datagram: bytes past the first message are
	 * ignored. */
	fx_fini(&f);
	fx_init(&f, 1);
	cr_expect_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(f.lg->n, 7);
	fx_fini(&f);
}

Test(ipfix_vendor, barracuda)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 8);
	r = &f.lg->r[0];
	cr_expect_eq(r->fl.in_if, 48660);
	cr_expect_eq(r->fl.out_if, 26092);
	cr_expect_eq(r->fl.proto, 17);
	expect_v4(&r->fl.src_addr, 10, 99, 130, 239);
	expect_v4(&r->fl.dst_addr, 10, 99, 252, 50);
	cr_expect_eq(r->fl.src_port, 65105);
	cr_expect_eq(r->fl.dst_port, 53);
	cr_expect_eq(fu(r, 0, 85), 65);		/* octetTotalCount */
	cr_expect_eq(fu(&f.lg->r[1], 0, 85), 81);
	fx_fini(&f);
}

Test(ipfix_vendor, barracuda_extended_uniflow)
{
	const struct rec_copy *r;
	const uint8_t *p;
	uint32_t len;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_extended_uniflow_tpl256.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_extended_uniflow_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 2);
	r = &f.lg->r[0];
	cr_expect_eq(r->fl.in_if, 35233);
	cr_expect_eq(r->fl.out_if, 3689);
	cr_expect_eq(r->fl.proto, 6);
	expect_v4(&r->fl.src_addr, 10, 236, 5, 4);
	expect_v4(&r->fl.dst_addr, 64, 235, 151, 76);
	cr_expect_eq(r->fl.src_port, 51917);
	cr_expect_eq(r->fl.dst_port, 443);
	p = fv(r, 10704, 4, &len);		/* FW Rule */
	cr_assert_not_null(p);
	cr_expect_eq(len, 18);
	cr_expect_eq(memcmp(p, "MTH:MTH-MC-to-Inet", 18), 0);
	cr_expect_eq(f.lg->r[1].fl.src_port, 443);
	fx_fini(&f);
}

Test(ipfix_vendor, ixia_two_domains)
{
	const struct rec_copy *r;
	uint32_t len;
	const uint8_t *p;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_ixia_tpldata256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	cr_expect_eq(r->domain, 0);
	cr_expect_eq(r->fl.bytes, 360);
	cr_expect_eq(r->fl.packets, 4);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.src_port, 51695);
	cr_expect_eq(r->fl.dst_port, 36197);
	expect_v4(&r->fl.src_addr, 119, 103, 128, 175);
	expect_v4(&r->fl.dst_addr, 202, 170, 60, 247);
	cr_expect_eq(r->fl.src_as, 4134);
	cr_expect_eq(r->fl.dst_as, 24090);
	cr_expect_eq(r->fl.in_if, 1);
	p = fv(r, 3054, 111, &len);		/* L7 Application Name */
	cr_assert_not_null(p);
	cr_expect_eq(len, 7);
	cr_expect_eq(memcmp(p, "unknown", 7), 0);
	p = fv(r, 3054, 186, &len);		/* Source AS Name */
	cr_assert_not_null(p);
	cr_expect_eq(len, 43);
	cr_expect_eq(memcmp(p, "CHINANET-BACKBONE", 17), 0);
	cr_assert_eq(feed(&f, "ipfix_test_ixia_tpldata271.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[1].domain, 1);
	cr_expect_eq(f.lg->r[1].tid, 271);
	cr_expect_not_null(fx_src(&f, 1));
	fx_fini(&f);
}

/* Options data with samplingInterval 1000: the source learns it. */
Test(ipfix_vendor, juniper_sampling_options)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_juniper_mx240_junos151r6s3_data512.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	cr_expect(r->is_options);
	cr_expect_eq(r->domain, 524288);
	cr_expect_eq(r->sampling_rate, 1000);
	cr_expect_eq(fu(r, 0, 34), 1000);
	cr_expect_eq(fu(r, 0, 41), 76);		/* exportedMessageTotalCount */
	cr_expect_eq(fu(r, 0, 130), 0x0a000001u);	/* exporterIPv4Address */
	cr_expect_eq(tmpl_sampler_get(fx_src(&f, 524288), 0), 1000);
	fx_fini(&f);
}

Test(ipfix_vendor, nokia_openbsd_procera_viptela)
{
	const struct rec_copy *r;
	const uint8_t *p;
	uint32_t len;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_nokia_bras_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_nokia_bras_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[f.lg->n - 1];
	cr_expect_eq(r->domain, 2228226);
	expect_v4(&r->fl.src_addr, 10, 0, 1, 228);
	expect_v4(&r->fl.dst_addr, 10, 0, 0, 34);
	cr_expect_eq(r->fl.src_port, 5878);
	cr_expect_eq(r->fl.dst_port, 80);
	cr_expect_eq(r->fl.proto, 6);

	cr_assert_eq(feed(&f, "ipfix_test_openbsd_pflow_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_openbsd_pflow_data.dat", &n), WEIR_OK);
	cr_assert_eq(n, 26);
	r = &f.lg->r[f.lg->n - 26];
	cr_expect_eq(r->domain, 42);
	expect_v4(&r->fl.src_addr, 192, 168, 0, 17);
	expect_v4(&r->fl.dst_addr, 192, 168, 0, 1);
	cr_expect_eq(r->fl.packets, 7);
	cr_expect_eq(r->fl.bytes, 373);
	cr_expect_eq(r->fl.src_port, 64020);
	cr_expect_eq(r->fl.dst_port, 80);
	cr_expect_eq(f.lg->r[f.lg->n - 25].fl.bytes, 6634);

	cr_assert_eq(feed(&f, "ipfix_test_procera_tpl52935.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_procera_data52935.dat", &n), WEIR_OK);
	cr_assert_eq(n, 8);
	r = &f.lg->r[f.lg->n - 8];
	cr_expect_eq(r->tid, 52935);
	cr_expect_eq(r->domain, 2875616939u);
	/* The template has IPv4 and (zero) IPv6 addresses both: check the wire
	 * values, which the normalized flow may take either of. */
	cr_expect_eq(fu(r, 0, 8), 0xb5d65747u);	/* 181.214.87.71 */
	cr_expect_eq(fu(r, 0, 12), 0x8a2ca10eu);	/* 138.44.161.14 */
	cr_expect_eq(r->fl.src_port, 53787);
	cr_expect_eq(r->fl.dst_port, 47838);
	cr_expect_eq(r->fl.src_as, 7575);
	p = fv(r, 15397, 1, &len);
	cr_assert_not_null(p);
	cr_expect_eq(len, 14);
	cr_expect_eq(memcmp(p, "Being analyzed", 14), 0);

	cr_assert_eq(feed(&f, "ipfix_test_viptela_tpl257.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_viptela_data257.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[f.lg->n - 1];
	expect_v4(&r->fl.src_addr, 10, 113, 7, 54);
	expect_v4(&r->fl.dst_addr, 172, 16, 21, 27);
	cr_expect_eq(r->fl.dst_port, 443);
	cr_expect_eq(r->fl.src_port, 41717);
	cr_expect_eq(r->fl.bytes, 775);
	cr_expect_eq(r->fl.packets, 8);
	cr_expect_eq(r->fl.in_if, 11);
	cr_expect_eq(r->fl.out_if, 3);
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0, "%s", weir_errname(-i));
	fx_fini(&f);
}

Test(ipfix_vendor, vmware_vds)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 13);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data264.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	expect_v4(&r->fl.src_addr, 172, 18, 65, 21);
	expect_v4(&r->fl.dst_addr, 172, 18, 65, 211);
	cr_expect_eq(r->fl.bytes, 100);
	cr_expect_eq(r->fl.packets, 2);
	cr_expect_eq(r->fl.src_port, 61209);
	cr_expect_eq(r->fl.dst_port, 5985);
	cr_expect_eq(r->fl.in_if, 3);
	cr_expect_eq(r->fl.out_if, 11);
	cr_expect_eq(r->fl.time_flow_start_ns, 1482409057000000000ull);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data266.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[2].fl.in_if, 3);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data266_267.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[3].tid, 266);
	cr_expect_eq(f.lg->r[4].tid, 267);
	fx_fini(&f);
}

/* YAF: options templates, reverse elements, and a subTemplateMultiList in
 * every flow record (the lists themselves: test_ipfix_list.c). */
Test(ipfix_vendor, yaf)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_tpls_option_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_tpl45841.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data45841.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	expect_v4(&r->fl.src_addr, 172, 16, 32, 201);
	expect_v4(&r->fl.dst_addr, 172, 16, 32, 100);
	cr_expect_eq(r->fl.src_port, 46086);
	cr_expect_eq(r->fl.dst_port, 53);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.bytes, 132);
	cr_expect_eq(fu(r, IE_PEN_REVERSE, 85), 200);
	cr_expect_eq(r->fl.time_flow_start_ns, 1482670715818000000ull);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data45873.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[1];
	cr_expect_eq(fu(r, 0, 184), 340533701u);	/* tcpSequenceNumber */
	cr_expect_eq(fu(r, IE_PEN_REVERSE, 184), 3788795034u);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data53248.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[2];
	cr_expect(r->is_options);
	cr_expect_eq(fu(r, 0, 86), 1960);		/* packetTotalCount */
	cr_expect_eq(fu(r, 0, 164), 58);		/* ignoredPacketTotalCount */
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0, "%s", weir_errname(-i));
	fx_fini(&f);
}

/* ---- encoder pieces ---- */

Test(ipfix_enc, template_bytes_and_refusals)
{
	static const uint32_t spec[][3] = { { 0, 8, 4 }, { 6871, 14, 1 } };
	static const uint8_t want[] = {
		0, 2, 0, 20,		/* set 2, length 20 */
		1, 0, 0, 2,		/* template 256, 2 fields */
		0, 8, 0, 4,		/* sourceIPv4Address, 4 */
		0x80, 14, 0, 1, 0, 0, 0x1a, 0xd7,	/* enterprise bit, PEN 6871 */
	};
	struct tmpl *t = mkt(256, 0, 2, spec);
	uint8_t buf[128], one = 1;
	struct weir_value v[2] = { { (const uint8_t *)"abc", 3 }, { &one, 1 } };
	struct ipfix_wmsg m;
	struct wr w;
	int n;

	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 0x01020304, 5, 6);
	ipfix_set_begin(&m, 2);
	cr_assert_eq(ipfix_write_template(&m, t), WEIR_OK);
	n = ipfix_msg_end(&m);
	cr_assert_eq(n, 16 + (int)sizeof(want));
	cr_expect_eq(memcmp(buf + 16, want, sizeof(want)), 0);
	cr_expect_eq(buf[3], 36);
	cr_expect_eq(buf[4], 1);
	cr_expect_eq(buf[11], 5);
	cr_expect_eq(buf[15], 6);

	/* A record whose value does not fit its field, a record in the wrong
	 * set, an options template in set 2: all refused. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 0, 0, 0);
	ipfix_set_begin(&m, 256);
	cr_expect_eq(ipfix_write_data(&m, t, v), WEIR_E_INVALID);
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 0, 0, 0);
	ipfix_set_begin(&m, 257);
	v[0].len = 4;
	v[0].p = (const uint8_t *)"abcd";
	cr_expect_eq(ipfix_write_data(&m, t, v), WEIR_E_INVALID);
	wr_init(&w, buf, sizeof(buf));
	ipfix_msg_begin(&m, &w, 0, 0, 0);
	t->scope_count = 1;
	ipfix_set_begin(&m, 2);
	cr_expect_eq(ipfix_write_template(&m, t), WEIR_E_INVALID);
	/* Too small a buffer. */
	t->scope_count = 0;
	wr_init(&w, buf, 24);
	ipfix_msg_begin(&m, &w, 0, 0, 0);
	ipfix_set_begin(&m, 2);
	cr_expect_eq(ipfix_write_template(&m, t), WEIR_E_NOSPACE);
	cr_expect_eq(ipfix_msg_end(&m), WEIR_E_NOSPACE);
	free(t);
}
