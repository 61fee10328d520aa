/* Unit tests of the IPFIX decoder (common/ipfix.c) and encoder
 * (common/ipfix_enc.c): round trips through the encoder, sampling, templates
 * and withdrawals, held data, sequence numbers, sets of every kind. Real
 * exporter payloads are in test_ipfix_vendor.c, malformed messages in
 * test_ipfix_bad.c; what they share is in ipfixhelp.h. */
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

#include "ipfixhelp.h"

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

/* The sampling announcement written on its own (ipfix_sampling_tmpl_new,
 * ipfix_write_sampling): every field as RFC 5477 says, the rate learnt, and
 * the wrong set or an interval of 0 refused. */
Test(ipfix, sampling_announcement_alone)
{
	for (int style = IPFIX_SAMPLING_PSAMP; style <= IPFIX_SAMPLING_LEGACY; style++) {
		struct tmpl *t = ipfix_sampling_tmpl_new(300, style);
		uint8_t buf[256];
		struct ipfix_wmsg m;
		struct wr w;
		struct fx f;
		int len;

		cr_assert_not_null(t);
		cr_expect_eq(t->scope_count, 1);
		fx_init(&f, 1);
		wr_init(&w, buf, sizeof(buf));
		ipfix_msg_begin(&m, &w, 1000, 0, 42);
		ipfix_set_begin(&m, IPFIX_SET_OPTIONS);
		cr_assert_eq(ipfix_write_template(&m, t), WEIR_OK);
		cr_expect_eq(ipfix_template_size(t), 6 + 4u * t->nfields);
		cr_expect_eq(w.off, IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN + ipfix_template_size(t));
		ipfix_set_begin(&m, 300);
		cr_assert_eq(ipfix_write_sampling(&m, t, style, style ? 7 : 42, 100), WEIR_OK);
		cr_expect_eq(m.records, 1);
		len = ipfix_msg_end(&m);
		cr_assert_gt(len, 0);
		cr_assert_eq(dec(&f, buf, (size_t)len), WEIR_OK);
		cr_assert_eq(f.lg->n, 1);
		cr_expect(f.lg->r[0].is_options);
		if (style == IPFIX_SAMPLING_PSAMP) {
			cr_expect_eq(fu(&f.lg->r[0], 0, 149), 42);
			cr_expect_eq(fu(&f.lg->r[0], 0, 304), 1);
			cr_expect_eq(fu(&f.lg->r[0], 0, 305), 1);
			cr_expect_eq(fu(&f.lg->r[0], 0, 306), 99);
		} else {
			cr_expect_eq(fu(&f.lg->r[0], 0, 48), 7);
			cr_expect_eq(fu(&f.lg->r[0], 0, 34), 100);
			cr_expect_eq(fu(&f.lg->r[0], 0, 35), 1);
		}
		cr_expect_eq(tmpl_sampler_get(fx_src(&f, 42), style ? 7 : 0), 100);

		/* an interval of 0, and a set of another template, are refused */
		wr_init(&w, buf, sizeof(buf));
		ipfix_msg_begin(&m, &w, 1000, 0, 42);
		ipfix_set_begin(&m, 300);
		cr_expect_eq(ipfix_write_sampling(&m, t, style, 1, 0), WEIR_E_INVALID);
		wr_init(&w, buf, sizeof(buf));
		ipfix_msg_begin(&m, &w, 1000, 0, 42);
		ipfix_set_begin(&m, 301);
		cr_expect_eq(ipfix_write_sampling(&m, t, style, 1, 10), WEIR_E_INVALID);
		cr_expect_eq(m.records, 0);
		free(t);
		fx_fini(&f);
	}
}

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
		struct mb m;
		size_t s;

		fx_init(&f, 1);
		ipx_hdr(&m, 1, 0, 0);
		s = ipx_set(&m, 3);
		mb_u16(&m, 300);
		mb_u16(&m, (uint16_t)cases[k].n);
		mb_u16(&m, 1);
		for (size_t i = 0; i < cases[k].n; i++) {
			mb_u16(&m, (uint16_t)cases[k].spec[i][1]);
			mb_u16(&m, (uint16_t)cases[k].spec[i][2]);
		}
		ipx_set_end(&m, s);
		s = ipx_set(&m, 300);
		mb_bytes(&m, cases[k].rec, cases[k].reclen);
		ipx_set_end(&m, s);
		ipx_end(&m);
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
	struct mb m;
	size_t n, s;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, ts, 3);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	ipx_hdr(&m, 2, 0, 0);
	s = ipx_set(&m, 300);
	mb_u8(&m, 1); mb_u32(&m, 10);
	mb_u8(&m, 2); mb_u32(&m, 50);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 301);
	mb_u8(&m, 1); mb_u32(&m, 1000);
	mb_u8(&m, 2); mb_u32(&m, 2000);
	mb_u8(&m, 1); mb_u32(&m, 3000);
	mb_u8(&m, 9); mb_u32(&m, 4000);	/* unknown sampler, no default */
	ipx_set_end(&m, s);
	s = ipx_set(&m, 302);
	mb_u32(&m, 5000); mb_u16(&m, 33);
	mb_u32(&m, 6000); mb_u16(&m, 0);	/* interval 0: none inline */
	ipx_set_end(&m, s);
	ipx_end(&m);
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
	/* three enterprise fields of 8 bytes, three IANA ones of 4 */
	cr_expect_eq(ipfix_template_size(t), 4 + 3 * 8 + 3 * 4);
	cr_expect_eq(w.off, IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN + ipfix_template_size(t));
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
	cr_expect_eq(memcmp(q, big, RC_BYTES), 0);
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
	struct mb m;
	struct fx f;
	size_t s;

	fx_init(&f, 1);
	ipx_hdr(&m, 1000, 0, 0);
	s = ipx_set(&m, 2);
	mb_u16(&m, 256);
	mb_u16(&m, 7);
	mb_u16(&m, 27);		/* sourceIPv6Address */
	mb_u16(&m, 16);
	mb_u16(&m, 150);	/* flowStartSeconds, length 0 */
	mb_u16(&m, 0);
	mb_u16(&m, 28);		/* destinationIPv6Address */
	mb_u16(&m, 16);
	mb_u16(&m, 151);	/* flowEndSeconds, length 0 */
	mb_u16(&m, 0);
	mb_u16(&m, 1);		/* octetDeltaCount */
	mb_u16(&m, 4);
	mb_u16(&m, 4);		/* protocolIdentifier */
	mb_u16(&m, 1);
	mb_u16(&m, 291);	/* basicList, length 0: no list to check */
	mb_u16(&m, 0);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 256);
	for (uint32_t r = 0; r < 2; r++) {
		mb_bytes(&m, src, sizeof(src));
		mb_bytes(&m, dst, sizeof(dst));
		mb_u32(&m, 1000 + r);
		mb_u8(&m, 17);
	}
	ipx_set_end(&m, s);
	ipx_end(&m);
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
	struct mb m;
	struct fx f;
	size_t s, n;

	fx_init(&f, 1);
	ipx_hdr(&m, 5, 100, 0);
	s = ipx_set(&m, 261);
	mb_u32(&m, 7);
	mb_u32(&m, 8);
	mb_u32(&m, 9);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 2);
	mb_u16(&m, 261);
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	mb_u16(&m, 4);
	ipx_set_end(&m, s);
	ipx_end(&m);
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
	struct mb m;
	struct fx f;
	size_t s, n;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 2);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	ipx_hdr(&m, 2, 2, 0);
	s = ipx_set(&m, 999);	/* three records of a template never seen */
	mb_u32(&m, 1);
	mb_u32(&m, 2);
	mb_u32(&m, 3);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 261);
	mb_u32(&m, 4);
	ipx_set_end(&m, s);
	ipx_end(&m);
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
	struct mb m;
	struct fx f;
	size_t s;

	fx_init(&f, 1);
	ipx_hdr(&m, 1, 0, 0);
	s = ipx_set(&m, 2);	/* template 256: one 4-byte field, then padding */
	mb_u16(&m, 256);
	mb_u16(&m, 1);
	mb_u16(&m, 1);
	mb_u16(&m, 4);
	mb_u16(&m, 0);
	mb_u16(&m, 0);
	mb_u32(&m, 0);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 10);	/* reserved: skipped whatever it holds */
	mb_u32(&m, 0xdeadbeef);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 1);
	ipx_set_end(&m, s);
	s = ipx_set(&m, 256);	/* two records, 3 bytes of non-zero padding */
	mb_u32(&m, 5);
	mb_u32(&m, 6);
	mb_u8(&m, 0xaa);
	mb_u8(&m, 0xbb);
	mb_u8(&m, 0xcc);
	ipx_set_end(&m, s);
	ipx_end(&m);
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
