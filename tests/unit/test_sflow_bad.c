/* test_sflow_bad.c - the sFlow v5 decoder against malformed datagrams: a
 * table of faults with the error each gives and the samples still handed
 * out, a bad sample between good ones, cuts at every length and every
 * length word corrupted. Split from test_sflow.c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#include "sflowhelp.h"

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

/* The faults in the datagram header or its sample count; 0 for the others. */
static size_t bad_datagram(enum bad kind, struct wr *w, struct sflow_agent *a,
			   const struct flow *fl)
{
	switch (kind) {
	case BAD_SHORT_HEADER:
		sflow_put_datagram_hdr(w, a, 0);
		return 27;
	case BAD_VERSION:
		sflow_put_datagram_hdr(w, a, 0);
		wr_put_u32(w, 0, 4);
		return w->off;
	case BAD_AGENT_TYPE:
		sflow_put_datagram_hdr(w, a, 0);
		wr_put_u32(w, 4, 3);
		return w->off;
	case BAD_SAMPLE_COUNT:
		sflow_put_datagram_hdr(w, a, 1000);
		sflow_put_flow_sample(w, a, &fl[0]);
		return w->off;
	case BAD_SAMPLE_LIMIT:
		sflow_put_datagram_hdr(w, a, SFLOW_MAX_SAMPLES + 1);
		for (int i = 0; i < SFLOW_MAX_SAMPLES + 1; i++)
			sflow_put_opaque_end(w, sflow_put_opaque_begin(w, SFLOW_FMT(1, 1)));
		cr_assert_eq(w->err, 0);
		return w->off;
	case BAD_MISSING_SAMPLE:
		sflow_put_datagram_hdr(w, a, 2);
		sflow_put_flow_sample(w, a, &fl[0]);
		wr_u32(w, 0);		/* 4 stray bytes: not a sample header */
		return w->off;
	default:
		return 0;
	}
}

/* The faults in the records of a flow sample: its record count, then the
 * records (the sample's header is written already). */
static void bad_records(enum bad kind, struct wr *w)
{
	size_t r;

	switch (kind) {
	case BAD_RECORD_LEN_MAX:
		wr_u32(w, 1);
		wr_u32(w, SFLOW_FMT(0, SFLOW_REC_SWITCH));
		wr_u32(w, 0xFFFFFFFF);
		wr_zero(w, 16);
		break;
	case BAD_RECORD_COUNT:
		wr_u32(w, 0x10000000);
		break;
	case BAD_RECORD_LIMIT:
		wr_u32(w, SFLOW_MAX_RECORDS + 1);
		for (int i = 0; i < SFLOW_MAX_RECORDS + 1; i++)
			sflow_put_opaque_end(w, sflow_put_opaque_begin(w, SFLOW_FMT(9, 9)));
		break;
	case BAD_HEADER_LEN:
		wr_u32(w, 1);
		r = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_HEADER));
		wr_u32(w, SFLOW_HDR_ETHERNET);
		wr_u32(w, 1500);
		wr_u32(w, 4);
		wr_u32(w, 200);	/* 200 header bytes declared, 64 present */
		wr_zero(w, 64);
		sflow_put_opaque_end(w, r);
		break;
	case BAD_SWITCH_SHORT:
		wr_u32(w, 1);
		r = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_SWITCH));
		wr_u32(w, 10);
		wr_u32(w, 0);
		sflow_put_opaque_end(w, r);
		break;
	case BAD_AS_SEGMENTS:
	case BAD_AS_NUMBERS:
	case BAD_COMMUNITIES:
	case BAD_NH_TYPE:
		wr_u32(w, 1);
		r = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_GATEWAY));
		wr_u32(w, kind == BAD_NH_TYPE ? 9 : SFLOW_ADDR_IPV4);
		wr_u32(w, 0x0a000001);
		wr_u32(w, 1);
		wr_u32(w, 2);
		wr_u32(w, 3);
		if (kind == BAD_AS_SEGMENTS) {
			wr_u32(w, 0x7fffffff);
		} else {
			wr_u32(w, 1);
			wr_u32(w, 2);
			wr_u32(w, kind == BAD_AS_NUMBERS ? 0xffffffff : 1);
			wr_u32(w, 64500);
			wr_u32(w, kind == BAD_COMMUNITIES ? 0x40000000 : 0);
		}
		wr_u32(w, 100);
		sflow_put_opaque_end(w, r);
		break;
	default:
		cr_assert_fail("unhandled case %d", kind);
	}
}

/* A good flow sample (handed out), then the fault. */
static size_t build_bad(enum bad kind, uint8_t *buf, size_t cap)
{
	struct sflow_agent a = agent("192.0.2.1");
	struct flow fl[16];
	struct wr w;
	size_t s, r, n;

	make_flows(fl);
	wr_init(&w, buf, cap);
	n = bad_datagram(kind, &w, &a, fl);
	if (n)
		return n;
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
	bad_records(kind, &w);
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
