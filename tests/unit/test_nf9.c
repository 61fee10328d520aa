/* Unit tests of NetFlow v9: decoder (common/wire/nf9.c), encoder (nf9_enc.c):
 * standard templates, round trips, low-level pieces, header counts, sources,
 * options, redefined templates and uptimes. Real exporter payloads are in
 * test_nf9_vendor.c, malformed and cut messages in test_nf9_bad.c; what they
 * share is in nf9help.h. */
#include <criterion/criterion.h>

#include "decode.h"
#include "flow.h"
#include "ie.h"
#include "nf9.h"
#include "tmpl.h"
#include "nf9help.h"

/* ---- standard templates ---- */

Test(nf9, std_templates)
{
	const struct tmpl *t4 = nf9_std_template(0), *t6 = nf9_std_template(1);
	const struct tmpl *ts = nf9_sampling_template();

	cr_assert_eq(t4->id, NF9_TID_V4);
	cr_assert_eq(t4->nfields, 24);
	cr_assert_eq(t4->min_len, 80);
	cr_assert_eq(t6->id, NF9_TID_V6);
	cr_assert_eq(t6->nfields, 25);
	cr_assert_eq(t6->min_len, 119);
	for (uint16_t i = 0; i < t4->nfields; i++)
		cr_assert(norm_ie_mapped(t4->f[i].pen, t4->f[i].id), "v4 field %u (id %u) not normalized", i, t4->f[i].id);
	for (uint16_t i = 0; i < t6->nfields; i++)
		cr_assert(norm_ie_mapped(t6->f[i].pen, t6->f[i].id), "v6 field %u (id %u) not normalized", i, t6->f[i].id);
	cr_assert_eq(ts->id, NF9_TID_SAMPLING);
	cr_assert_eq(ts->scope_count, 1);
	cr_assert_eq(ts->f[0].pen, V9);
	cr_assert_eq(ts->f[0].id, NF9_SCOPE_SYSTEM);
	cr_assert_eq(ts->rate_field, 1);
	cr_assert_eq(ts->min_len, 9);
}

/* ---- round trips ---- */

Test(nf9, round_trip_v4_v6_sampling)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct nf9_enc enc;
	struct flow in[10];
	uint8_t buf[4096];
	size_t len = 0, used = 0;
	struct rec_log log;
	struct weir_ctx ctx;
	struct tmpl_source *s;

	enc_init(&enc);
	mkflows(in);
	cr_assert_eq(nf9_encode_flows(&enc, in, 10, 1, buf, sizeof(buf), &len, &used), WEIR_OK);
	cr_assert_eq(used, 10);
	cr_assert_eq(enc.hdr.sequence, 8);
	/* header count: 2 templates, 1 options template, 1 options record, 10 flows */
	cr_assert_eq(be_uint(buf + 2, 2), 14);
	/* every flowset padded to 4 bytes (RFC 3954 section 5.3) */
	for (size_t off = NF9_HDR_LEN, fl; off < len; off += fl) {
		fl = be_uint(buf + off + 2, 2);
		cr_assert_geq(fl, 4);
		cr_assert_eq(fl % 4, 0, "flowset at %zu: length %zu", off, fl);
		cr_assert_leq(off + fl, len);
	}

	log_init(&log, 32);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(ctx.messages, 1);
	cr_assert_eq(log.n, 11);
	cr_assert_eq(log.options, 1);
	cr_assert_eq(log.r[0].is_options, 1);
	cr_assert_eq(log.r[0].tid, NF9_TID_SAMPLING);
	cr_assert_eq(log.r[0].scope_count, 1);
	cr_assert_eq(log.r[0].flow_err, WEIR_E_INVALID);
	cr_assert_eq(log_u(&log.r[0], V9, NF9_SCOPE_SYSTEM), 0);
	cr_assert_eq(log_u(&log.r[0], 0, 34), 64);
	cr_assert_eq(log_u(&log.r[0], 0, 35), 2);
	for (unsigned i = 0; i < 10; i++) {
		const struct log_rec *r = &log.r[i + 1];

		cr_assert_eq(r->is_options, 0);
		cr_assert_eq(r->tid, i >= 4 && i < 7 ? NF9_TID_V6 : NF9_TID_V4, "flow %u", i);
		cr_assert_eq(r->sampling_rate, 64, "flow %u", i);
		cr_assert_eq(r->flow_err, WEIR_OK);
		cr_assert_eq(r->flow.type, WEIR_PROTO_NF9);
		cr_assert_eq(r->flow.sampling_rate, 64);
		cr_assert_eq(r->flow.observation_domain_id, 42);
		cr_assert_eq(r->flow.sequence_num, 7);
		cr_assert_eq(r->msg.sys_uptime_ms, UPTIME_MS);
		cr_assert_eq(r->msg.export_time, EXPORT_S);
		assert_flow_eq(&r->flow, &in[i]);
	}
	s = tmpl_source_get(c, &e, 42, 0);
	cr_assert_not_null(s);
	cr_assert_eq(tmpl_sampler_get(s, 0), 64);

	/* The next message, without templates, decodes from the cache; its
	 * sequence follows (v9 counts packets). */
	enc.hdr.sys_uptime_ms += 5000;
	enc.hdr.unix_secs += 5;
	cr_assert_eq(nf9_encode_flows(&enc, in + 4, 3, 0, buf, sizeof(buf), &len, &used), WEIR_OK);
	cr_assert_eq(be_uint(buf + 2, 2), 3);
	cr_assert_eq(nf9_decode(&ctx, &e, buf, len, RECV_NS + 5000000000ull), WEIR_OK);
	cr_assert_eq(log.n, 14);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(log.r[11 + i].sampling_rate, 64);
		cr_assert_eq(log.r[11 + i].msg.sequence, 8);
		assert_flow_eq(&log.r[11 + i].flow, &in[4 + i]);
	}
	cr_assert_eq(s->seq_gaps, 0);
	cr_assert_eq(s->seq_next, 9);
	log_free(&log);
	tmpl_cache_free(c);
}

/* Data before its template is held, and comes out with its own header
 * facts when the template arrives. */
Test(nf9, data_before_template_rescued)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct nf9_enc enc;
	struct flow in[10];
	uint8_t m1[4096], m2[4096];
	size_t l1, l2, used;
	struct rec_log log;
	struct weir_ctx ctx;
	const struct tmpl_stats *st;

	enc_init(&enc);
	enc.sampling_interval = 0;
	mkflows(in);
	cr_assert_eq(nf9_encode_flows(&enc, in, 10, 0, m1, sizeof(m1), &l1, &used), WEIR_OK);
	cr_assert_eq(nf9_encode_flows(&enc, in, 2, 1, m2, sizeof(m2), &l2, &used), WEIR_OK);

	log_init(&log, 32);
	ctx_init(&ctx, &log, c);
	/* Held, and counted as a missing template as IPFIX counts it. */
	cr_assert_eq(nf9_decode(&ctx, &e, m1, l1, 1000), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(log.n, 0);
	st = tmpl_cache_stats(c);
	cr_assert_eq(st->pending_held, 3);
	cr_assert_eq(ctx.errors[-WEIR_E_NO_TEMPLATE], 3);

	cr_assert_eq(nf9_decode(&ctx, &e, m2, l2, 2000), WEIR_OK);
	cr_assert_eq(st->pending_rescued, 3);
	cr_assert_eq(st->pending_bytes, 0);
	cr_assert_eq(log.n, 12);
	/* held v4 sets (flows 0-3, 7-9) come out when template 256 is added,
	 * then the v6 set (4-6) with 257, then message 2's own two flows */
	static const unsigned order[] = { 0, 1, 2, 3, 7, 8, 9, 4, 5, 6 };
	for (unsigned k = 0; k < 10; k++) {
		cr_assert_eq(log.r[k].msg.sequence, 7, "record %u", k);
		cr_assert_eq(log.r[k].msg.recv_time_ns, 1000);
		assert_flow_eq(&log.r[k].flow, &in[order[k]]);
	}
	cr_assert_eq(log.r[10].msg.sequence, 8);
	cr_assert_eq(log.r[10].msg.recv_time_ns, 2000);
	assert_flow_eq(&log.r[11].flow, &in[1]);
	log_free(&log);
	tmpl_cache_free(c);
}

Test(nf9, no_cache_no_template)
{
	struct weir_exporter e = exp1();
	struct nf9_enc enc;
	struct flow in[10];
	uint8_t buf[4096];
	size_t len, used;
	struct rec_log log;
	struct weir_ctx ctx;

	enc_init(&enc);
	mkflows(in);
	cr_assert_eq(nf9_encode_flows(&enc, in, 10, 1, buf, sizeof(buf), &len, &used), WEIR_OK);
	log_init(&log, 32);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf9_decode(&ctx, &e, buf, len, RECV_NS), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(log.n, 0);
	/* options data, v4, v6, v4 flowsets */
	cr_assert_eq(ctx.errors[-WEIR_E_NO_TEMPLATE], 4);
	cr_assert_eq(ctx.messages, 1);
	log_free(&log);
}

/* Every buffer size: either NOSPACE (not even templates and one flow fit)
 * or a message that decodes to exactly the flows it says it took. */
Test(nf9, encode_every_capacity)
{
	struct weir_exporter e = exp1();
	struct flow in[10];
	uint8_t buf[2048];
	size_t full, len, used;
	struct nf9_enc enc;

	mkflows(in);
	enc_init(&enc);
	cr_assert_eq(nf9_encode_flows(&enc, in, 10, 1, buf, sizeof(buf), &full, &used), WEIR_OK);
	for (size_t cap = 0; cap <= full; cap++) {
		struct tmpl_cache *c = cache_new();
		uint8_t *p = malloc(cap ? cap : 1);
		struct rec_log log;
		struct weir_ctx ctx;
		int rc;

		enc_init(&enc);
		rc = nf9_encode_flows(&enc, in, 10, 1, p, cap, &len, &used);
		if (rc) {
			cr_assert_eq(rc, WEIR_E_NOSPACE, "cap %zu", cap);
			cr_assert_eq(enc.hdr.sequence, 7);
		} else {
			cr_assert_geq(used, 1);
			cr_assert_leq(len, cap);
			cr_assert_eq(enc.hdr.sequence, 8);
			log_init(&log, 16);
			ctx_init(&ctx, &log, c);
			cr_assert_eq(nf9_decode(&ctx, &e, p, len, RECV_NS), WEIR_OK, "cap %zu", cap);
			cr_assert_eq(log.data, used, "cap %zu", cap);
			cr_assert_eq(log.options, 1);
			log_free(&log);
		}
		cr_assert_eq(cap == full, rc == WEIR_OK && used == 10, "cap %zu", cap);
		free(p);
		tmpl_cache_free(c);
	}
}

/* ---- low-level pieces: options with sampler ids, vendor and
 * variable-length fields ---- */

union tbuf {
	struct tmpl t;
	uint8_t space[sizeof(struct tmpl) + 16 * sizeof(struct tmpl_field)];
};

static struct tmpl *mkt(union tbuf *b, uint16_t id, uint16_t scope, unsigned n,
			const struct tmpl_field *f)
{
	memset(b, 0, sizeof(*b));
	b->t.id = id;
	b->t.nfields = (uint16_t)n;
	b->t.scope_count = scope;
	b->t.proto = 9;
	memcpy(b->t.f, f, n * sizeof(*f));
	tmpl_finish(NULL, &b->t);
	return &b->t;
}

static const struct tmpl_field f_opt[] = {
	{ .pen = V9, .id = NF9_SCOPE_INTERFACE, .len = 4 },
	{ .id = 48, .len = 1 },			/* FLOW_SAMPLER_ID */
	{ .id = 49, .len = 1 },			/* FLOW_SAMPLER_MODE */
	{ .id = 50, .len = 4 },			/* FLOW_SAMPLER_RANDOM_INTERVAL */
};
static const struct tmpl_field f_data[] = {
	{ .id = 8, .len = 4 },
	{ .id = 48, .len = 1 },
	{ .pen = V9, .id = 40000, .len = 2 },	/* a vendor type */
	{ .id = 82, .len = TMPL_VARLEN },	/* interfaceName */
	{ .id = 0, .len = 0 },			/* zero-length */
};

static void put_opt(struct nf9_wr *m, const struct tmpl *t, uint8_t sid, uint32_t rate)
{
	uint8_t ifx[4] = { 0, 0, 0, 1 }, mode = 2, r[4] = { rate >> 24, rate >> 16, rate >> 8, rate };
	struct weir_value v[4] = { { ifx, 4 }, { &sid, 1 }, { &mode, 1 }, { r, 4 } };

	nf9_put_record(m, t, v);
}

static void put_data(struct nf9_wr *m, const struct tmpl *t, uint8_t sid, uint32_t namelen)
{
	static uint8_t name[400];
	uint8_t a[4] = { 198, 51, 100, sid }, vend[2] = { 0xbe, 0xef };
	struct weir_value v[5] = { { a, 4 }, { &sid, 1 }, { vend, 2 }, { name, namelen }, { NULL, 0 } };

	for (unsigned i = 0; i < sizeof(name); i++)
		name[i] = (uint8_t)('a' + i % 26);
	nf9_put_record(m, t, v);
}

Test(nf9, low_level_sampler_ids_vendor_varlen)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct nf9_hdr h = { UPTIME_MS, EXPORT_S, 1, 5 };
	union tbuf bo, bd;
	const struct tmpl *to = mkt(&bo, 300, 1, 4, f_opt);
	const struct tmpl *td = mkt(&bd, 301, 0, 5, f_data);
	struct nf9_wr m;
	uint8_t buf[4096];
	size_t len;
	struct rec_log log;
	struct weir_ctx ctx;
	const struct log_field *f;

	cr_assert(td->has_varlen);
	cr_assert_eq(td->sampler_field, 1);
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, NF9_SET_OPTIONS);
	nf9_put_template(&m, to);
	nf9_set_end(&m);
	nf9_set_begin(&m, NF9_SET_TEMPLATE);
	nf9_put_template(&m, td);
	nf9_set_end(&m);
	nf9_set_begin(&m, 300);
	put_opt(&m, to, 5, 333);
	put_opt(&m, to, 6, 1000);
	nf9_set_end(&m);
	nf9_set_begin(&m, 301);
	put_data(&m, td, 5, 3);
	put_data(&m, td, 6, 300);	/* 3-byte length prefix */
	put_data(&m, td, 7, 0);		/* sampler nobody announced */
	put_data(&m, td, 5, 254);
	put_data(&m, td, 5, 255);
	nf9_set_end(&m);
	cr_assert_eq(nf9_msg_end(&m, &len), WEIR_OK);
	cr_assert_eq(be_uint(buf + 2, 2), 9);

	log_init(&log, 16);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.options, 2);
	cr_assert_eq(log.data, 5);
	cr_assert_eq(log_u(&log.r[0], V9, NF9_SCOPE_INTERFACE), 1);
	cr_assert_eq(log.r[2].sampling_rate, 333);
	cr_assert_eq(log.r[3].sampling_rate, 1000);
	cr_assert_eq(log.r[4].sampling_rate, 0);
	cr_assert_eq(log_u(&log.r[2], V9, 40000), 0xbeef);
	f = log_get(&log.r[2], 0, 82);
	cr_assert_not_null(f);
	cr_assert_eq(f->len, 3);
	cr_assert_eq(memcmp(f->b, "abc", 3), 0);
	cr_assert_eq(log_get(&log.r[3], 0, 82)->len, 300);
	cr_assert_eq(log_get(&log.r[4], 0, 82)->len, 0);
	cr_assert_eq(log_get(&log.r[5], 0, 82)->len, 254);
	cr_assert_eq(log_get(&log.r[6], 0, 82)->len, 255);
	cr_assert_eq(log_get(&log.r[6], 0, 0)->len, 0);
	cr_assert_eq(log_u(&log.r[6], 0, 8), ip4(198, 51, 100, 5));
	log_free(&log);
	tmpl_cache_free(c);
}

Test(nf9, low_level_misuse)
{
	struct nf9_hdr h = { 1, 2, 3, 4 };
	union tbuf bd, bo, bx;
	const struct tmpl *td = mkt(&bd, 301, 0, 5, f_data);
	const struct tmpl *to = mkt(&bo, 300, 1, 4, f_opt);
	struct tmpl_field fx = { .pen = 9, .id = 1, .len = 4 };
	const struct tmpl *tx = mkt(&bx, 302, 0, 1, &fx);
	uint8_t buf[512], x[4] = { 0 };
	struct weir_value v[5] = { { x, 4 }, { x, 2 }, { x, 2 }, { x, 1 }, { NULL, 0 } };
	struct nf9_wr m;
	size_t len;

	/* a template into a data flowset, an options template into flowset 0 */
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, 301);
	nf9_put_template(&m, td);
	cr_assert_eq(m.w.err, WEIR_E_INVALID);
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, NF9_SET_TEMPLATE);
	nf9_put_template(&m, to);
	cr_assert_eq(m.w.err, WEIR_E_INVALID);
	/* an IPFIX enterprise field has no v9 form */
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, NF9_SET_TEMPLATE);
	nf9_put_template(&m, tx);
	cr_assert_eq(m.w.err, WEIR_E_INVALID);
	/* a value of the wrong length (field 48 is 1 byte) */
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, 301);
	nf9_put_record(&m, td, v);
	cr_assert_eq(m.w.err, WEIR_E_INVALID);
	/* a record outside its flowset, a message ended inside a flowset */
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_put_record(&m, td, v);
	cr_assert_eq(m.w.err, WEIR_E_INVALID);
	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, 301);
	cr_assert_eq(nf9_msg_end(&m, &len), WEIR_E_INVALID);
	/* too small a buffer */
	nf9_msg_begin(&m, buf, 10, &h);
	cr_assert_eq(nf9_msg_end(&m, &len), WEIR_E_NOSPACE);
}

/* The header count: records (RFC 3954) is right; flowsets (several
 * exporters) and data records alone (softflowd) are quirks, counted apart;
 * anything else is an error, counted, not fatal. */
Test(nf9, header_count_meanings)
{
	static const struct { uint16_t count; int rc; int quirk; } cases[] = {
		{ 5, WEIR_OK, -1 },		/* 1 template + 4 records */
		{ 3, WEIR_OK, WEIR_Q_NF9_COUNT_FLOWSETS },	/* 3 flowsets */
		{ 4, WEIR_OK, WEIR_Q_NF9_COUNT_DATA },	/* 4 data records */
		{ 2, WEIR_E_COUNT, -1 },
		{ 0, WEIR_E_COUNT, -1 },
		{ 65535, WEIR_E_COUNT, -1 },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct tmpl_cache *c = cache_new();
		struct weir_exporter e = exp1();
		static struct mb m;
		struct rec_log log;
		struct weir_ctx ctx;

		hdr(&m, cases[k].count);
		tpl256(&m);
		data256(&m, 1, 0);
		data256(&m, 3, 0);
		log_init(&log, 8);
		ctx_init(&ctx, &log, c);
		cr_assert_eq(nf9_decode(&ctx, &e, m.b, m.n, RECV_NS), cases[k].rc, "count %u",
			     cases[k].count);
		cr_assert_eq(log.n, 4);
		cr_assert_eq(ctx.messages, 1);
		for (int q = 0; q < WEIR_Q_MAX; q++)
			cr_assert_eq(ctx.quirks[q], q == cases[k].quirk, "count %u: quirk %s",
				     cases[k].count, weir_quirk_name(q));
		log_free(&log);
		tmpl_cache_free(c);
	}
}

/* softflowd's v9 convention (seen in softflowd -r exports): the header
 * count is its flow records, templates left out; sequence numbers count
 * packets, 1, 2, ... No error, one quirk for the packet with the
 * template, no sequence gap. */
Test(nf9, softflowd_count_is_its_flows)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	static struct mb m;
	struct rec_log log;
	struct weir_ctx ctx;
	struct tmpl_source *s;

	log_init(&log, 64);
	ctx_init(&ctx, &log, c);
	for (uint32_t seq = 1; seq <= 3; seq++) {
		/* header count = flow records: 4 in the first, 3 later */
		hdr(&m, seq == 1 ? 4 : 3);
		m.b[15] = (uint8_t)seq;		/* sequence: packets */
		if (seq == 1)
			tpl256(&m);
		data256(&m, seq == 1 ? 4 : 3, 0);
		cr_assert_eq(nf9_decode(&ctx, &e, m.b, m.n, RECV_NS), WEIR_OK, "packet %u", seq);
	}
	for (int k = 1; k < WEIR_E_MAX; k++)
		cr_assert_eq(ctx.errors[k], 0, "error %s", weir_errname(-k));
	cr_assert_eq(ctx.quirks[WEIR_Q_NF9_COUNT_DATA], 1, "the packet with the template");
	s = tmpl_source_get(c, &e, 0, 0);
	cr_assert_eq(s->seq_gaps + s->seq_lost + s->seq_reordered, 0);
	log_free(&log);
	tmpl_cache_free(c);
}

Test(nf9, callback_stops)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	static struct mb m;
	struct rec_log log;
	struct weir_ctx ctx;

	hdr(&m, 6);
	tpl256(&m);
	data256(&m, 5, 0);
	log_init(&log, 8);
	log.stop_after = 2;
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, m.b, m.n, RECV_NS), WEIR_E_STOPPED);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(ctx.messages, 0);
	log_free(&log);
	tmpl_cache_free(c);
}

/* Sources are per (exporter, source id): the same template id from two
 * source ids, or two exporters, does not mix. */
Test(nf9, sources_apart)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1(), e2 = exp1();
	static struct mb m, d;
	struct rec_log log;
	struct weir_ctx ctx;

	e2.port = 9996;
	hdr(&m, 1);
	tpl256(&m);
	hdr(&d, 1);
	data256(&d, 1, 0);
	log_init(&log, 8);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, m.b, m.n, RECV_NS), WEIR_OK);
	cr_assert_eq(nf9_decode(&ctx, &e2, d.b, d.n, RECV_NS), WEIR_E_NO_TEMPLATE);
	mb_put16(&d, 18, 1);		/* source id 1 */
	cr_assert_eq(nf9_decode(&ctx, &e, d.b, d.n, RECV_NS), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(log.n, 0);
	cr_assert_eq(tmpl_cache_stats(c)->pending_held, 2);
	mb_put16(&d, 18, 0);
	cr_assert_eq(nf9_decode(&ctx, &e, d.b, d.n, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 1);
	log_free(&log);
	tmpl_cache_free(c);
}

/* RFC 5101-style packet interval and space (305/306) in options data:
 * 1 packet of every 1 + 99 -> 1:100, the exporter's default sampler. */
Test(nf9, options_packet_interval_space)
{
	static const struct tmpl_field fo[] = {
		{ .pen = V9, .id = NF9_SCOPE_SYSTEM, .len = 4 },
		{ .id = 305, .len = 4 },
		{ .id = 306, .len = 4 },
	};
	static const struct tmpl_field fd[] = { { .id = 8, .len = 4 } };
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct nf9_hdr h = { UPTIME_MS, EXPORT_S, 1, 5 };
	union tbuf bo, bd;
	const struct tmpl *to = mkt(&bo, 400, 1, 3, fo);
	const struct tmpl *td = mkt(&bd, 401, 0, 1, fd);
	uint8_t sys[4] = { 0 }, ival[4] = { 0, 0, 0, 1 }, space[4] = { 0, 0, 0, 99 };
	uint8_t a[4] = { 192, 0, 2, 77 };
	struct weir_value vo[3] = { { sys, 4 }, { ival, 4 }, { space, 4 } }, vd[1] = { { a, 4 } };
	struct nf9_wr m;
	uint8_t buf[512];
	size_t len;
	struct rec_log log;
	struct weir_ctx ctx;

	nf9_msg_begin(&m, buf, sizeof(buf), &h);
	nf9_set_begin(&m, NF9_SET_OPTIONS);
	nf9_put_template(&m, to);
	nf9_set_end(&m);
	nf9_set_begin(&m, NF9_SET_TEMPLATE);
	nf9_put_template(&m, td);
	nf9_set_end(&m);
	nf9_set_begin(&m, 400);
	nf9_put_record(&m, to, vo);
	nf9_set_end(&m);
	nf9_set_begin(&m, 401);
	nf9_put_record(&m, td, vd);
	nf9_put_record(&m, td, vd);
	nf9_set_end(&m);
	cr_assert_eq(nf9_msg_end(&m, &len), WEIR_OK);
	log_init(&log, 8);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 3);
	cr_assert_eq(log.r[1].sampling_rate, 100);
	cr_assert_eq(log.r[2].sampling_rate, 100);
	cr_assert_eq(log.r[2].flow.sampling_rate, 100);
	log_free(&log);
	tmpl_cache_free(c);
}

/* A template id sent again with another layout: later data follows the
 * new one (RFC 3954 section 5.2: the exporter may redefine it). */
Test(nf9, template_redefined)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	static struct mb m1, m2;
	struct rec_log log;
	struct weir_ctx ctx;

	hdr(&m1, 2);
	tpl256(&m1);
	data256(&m1, 1, 0);
	/* 256 again: 12/4 7/2 11/2 */
	hdr(&m2, 2);
	mb_u16(&m2, 0); mb_u16(&m2, 20);
	mb_u16(&m2, 256); mb_u16(&m2, 3);
	mb_u16(&m2, 12); mb_u16(&m2, 4); mb_u16(&m2, 7); mb_u16(&m2, 2); mb_u16(&m2, 11);
	mb_u16(&m2, 2);
	mb_u16(&m2, 256); mb_u16(&m2, 12);
	mb_u32(&m2, ip4(203, 0, 113, 5)); mb_u16(&m2, 5353); mb_u16(&m2, 53);
	log_init(&log, 8);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, m1.b, m1.n, RECV_NS), WEIR_OK);
	cr_assert_eq(nf9_decode(&ctx, &e, m2.b, m2.n, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 2);
	cr_assert_eq(log.r[0].nfields, 2);
	cr_assert_eq(log.r[1].nfields, 3);
	cr_assert_eq(log_u(&log.r[1], 0, 12), ip4(203, 0, 113, 5));
	cr_assert_eq(log.r[1].flow.src_port, 5353);
	cr_assert_eq(log.r[1].flow.dst_port, 53);
	cr_assert_eq(tmpl_cache_stats(c)->replaced, 1);
	log_free(&log);
	tmpl_cache_free(c);
}

/* ---- uptimes modulo 2^32: never a flow after its export ---- */

/* One v9 message: template 300 (8/4 22/4 21/4) and one record with
 * flowStartSysUpTime first, flowEndSysUpTime last; header uptime up at
 * EXPORT_S. Returns the record's flow. */
static struct flow v9_times(uint32_t up, uint32_t first, uint32_t last)
{
	struct weir_exporter e = exp1();
	struct tmpl_cache *c = cache_new();
	struct rec_log log;
	struct weir_ctx ctx;
	static struct mb m;
	struct flow f;

	m.n = 0;
	mb_u16(&m, 9);
	mb_u16(&m, 2);
	mb_u32(&m, up);
	mb_u32(&m, EXPORT_S);
	mb_u32(&m, 1);
	mb_u32(&m, 0);
	mb_u16(&m, 0);
	mb_u16(&m, 20);
	mb_u16(&m, 300);
	mb_u16(&m, 3);
	mb_u16(&m, 8);
	mb_u16(&m, 4);
	mb_u16(&m, 22);
	mb_u16(&m, 4);
	mb_u16(&m, 21);
	mb_u16(&m, 4);
	mb_u16(&m, 300);
	mb_u16(&m, 16);
	mb_u32(&m, ip4(10, 0, 0, 1));
	mb_u32(&m, first);
	mb_u32(&m, last);
	log_init(&log, 4);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, m.b, m.n, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].flow_err, WEIR_OK);
	f = log.r[0].flow;
	log_free(&log);
	tmpl_cache_free(c);
	cr_assert(f.has & FLOW_HAS_TIME_START);
	cr_assert(f.has & FLOW_HAS_TIME_END);
	return f;
}

Test(nf9, uptime_above_the_header_is_a_wrap_not_the_future)
{
	uint64_t exp_ms = (uint64_t)EXPORT_S * 1000;
	/* softflowd -r: header uptime 0, records ~24.3 days "above" it */
	struct flow f = v9_times(0, 2100780236u, 2100781546u);

	cr_assert_leq(f.time_flow_end_ns, exp_ms * 1000000ull, "dated %.1f days after export",
		      (double)(f.time_flow_end_ns - exp_ms * 1000000ull) / 86400e9);
	cr_assert_eq(f.time_flow_end_ns, (exp_ms - ((1ull << 32) - 2100781546u)) * 1000000ull);
	cr_assert_eq(f.time_flow_end_ns - f.time_flow_start_ns, 1310 * 1000000ull);

	/* a router whose uptime wrapped 500 ms ago */
	f = v9_times(500, 0xfffffc18u, 0xffffff9cu);
	cr_assert_eq(f.time_flow_end_ns, (exp_ms - 600) * 1000000ull);
	cr_assert_eq(f.time_flow_start_ns, (exp_ms - 1500) * 1000000ull);

	/* v9's export time is whole seconds: the header's uptime was taken
	 * within that second, so up to 999 ms above it is in that second */
	f = v9_times(1000, 900, 1999);
	cr_assert_eq(f.time_flow_end_ns, (exp_ms + 999) * 1000000ull);
	cr_assert_eq(f.time_flow_start_ns, (exp_ms - 100) * 1000000ull);
	/* ... and 1000 ms above it is a wrap */
	f = v9_times(1000, 900, 2000);
	cr_assert_eq(f.time_flow_end_ns, (exp_ms - ((1ull << 32) - 1000)) * 1000000ull);
}
