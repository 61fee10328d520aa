/* Unit tests of NetFlow v5: decoder (common/wire/nf5.c), encoder (nf5_enc.c). */
#include <criterion/criterion.h>

#include "decode.h"
#include "flow.h"
#include "ie.h"
#include "nf5.h"
#include "tmpl.h"
#include "msgbuild.h"

#define RECV_NS 1700000000123456789ull

static struct weir_exporter exp1(void)
{
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, ip4(192, 0, 2, 1));
	e.port = 2055;
	return e;
}

static void ctx_init(struct weir_ctx *ctx, struct rec_log *log, struct tmpl_cache *c)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cache = c;
	ctx->on_record = log_fn;
	ctx->user = log;
}

static const struct nf5_hdr hdr0 = {
	.sys_uptime_ms = 360000000,		/* 100 h */
	.unix_secs = 1700000000,
	.unix_nsecs = 250000000,
	.flow_sequence = 1000,
	.engine_type = 1,
	.engine_id = 2,
	.sampling_mode = 1,
	.sampling_interval = 100,
};

/* Export time in ms of hdr0. */
#define EXPORT_MS (1700000000ull * 1000 + 250)

static struct flow mkflow(unsigned i)
{
	struct flow f;

	memset(&f, 0, sizeof(f));
	f.has = FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_BYTES | FLOW_HAS_PACKETS |
		FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_NEXT_HOP | FLOW_HAS_PROTO |
		FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
		FLOW_HAS_TOS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS |
		FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_ETYPE;
	weir_addr_v4u(&f.src_addr, ip4(10, 0, (uint8_t)i, 1));
	weir_addr_v4u(&f.dst_addr, ip4(192, 168, (uint8_t)i, 2));
	weir_addr_v4u(&f.next_hop, ip4(10, 255, 0, (uint8_t)i));
	f.etype = 0x0800;
	f.in_if = 100 + i;
	f.out_if = 65535 - i;
	f.packets = 1000 + i;
	f.bytes = 4000000000u - i;
	/* Milliseconds, some before the export, one ending at it. (This
	 * flow ended 5 ms after the export before issue 11: a v5 uptime
	 * above the header's is a wrap, not a flow after its export, so no
	 * encoding of such a flow decodes to it.) */
	f.time_flow_start_ns = (EXPORT_MS - 60000 - i * 1000) * 1000000ull;
	f.time_flow_end_ns = (EXPORT_MS - i * 100) * 1000000ull;
	f.src_port = (uint16_t)(1024 + i);
	f.dst_port = (uint16_t)(80 + i);
	f.tcp_flags = 0x1b;
	f.proto = i % 2 ? 17 : 6;
	f.ip_tos = (uint8_t)i;
	f.src_as = 64500 + i;
	f.dst_as = 65535;
	f.src_net = (uint8_t)(i % 33);
	f.dst_net = 24;
	return f;
}

/* The fields v5 carries, as flow_from_record() gives them back. */
static void assert_flow_eq(const struct flow *got, const struct flow *want)
{
	cr_assert_eq(got->has & want->has, want->has, "has %#llx want %#llx",
		     (unsigned long long)got->has, (unsigned long long)want->has);
	cr_assert(weir_addr_eq(&got->src_addr, &want->src_addr));
	cr_assert(weir_addr_eq(&got->dst_addr, &want->dst_addr));
	cr_assert(weir_addr_eq(&got->next_hop, &want->next_hop));
	cr_assert_eq(got->etype, want->etype);
	cr_assert_eq(got->in_if, want->in_if);
	cr_assert_eq(got->out_if, want->out_if);
	cr_assert_eq(got->packets, want->packets);
	cr_assert_eq(got->bytes, want->bytes);
	cr_assert_eq(got->time_flow_start_ns, want->time_flow_start_ns, "start %llu want %llu",
		     (unsigned long long)got->time_flow_start_ns,
		     (unsigned long long)want->time_flow_start_ns);
	cr_assert_eq(got->time_flow_end_ns, want->time_flow_end_ns);
	cr_assert_eq(got->src_port, want->src_port);
	cr_assert_eq(got->dst_port, want->dst_port);
	cr_assert_eq(got->tcp_flags, want->tcp_flags);
	cr_assert_eq(got->proto, want->proto);
	cr_assert_eq(got->ip_tos, want->ip_tos);
	cr_assert_eq(got->src_as, want->src_as);
	cr_assert_eq(got->dst_as, want->dst_as);
	cr_assert_eq(got->src_net, want->src_net);
	cr_assert_eq(got->dst_net, want->dst_net);
}

/* ---- the fixed layout ---- */

Test(nf5, template_layout)
{
	static const struct { uint16_t id, len; } want[] = {
		{ 8, 4 }, { 12, 4 }, { 15, 4 }, { 10, 2 }, { 14, 2 }, { 2, 4 }, { 1, 4 },
		{ 22, 4 }, { 21, 4 }, { 7, 2 }, { 11, 2 }, { 210, 1 }, { 6, 1 }, { 4, 1 },
		{ 5, 1 }, { 16, 2 }, { 17, 2 }, { 9, 1 }, { 13, 1 }, { 210, 2 },
	};
	const struct tmpl *t = nf5_template();
	uint32_t sum = 0;

	cr_assert_eq(t, nf5_template());
	cr_assert_eq(t->proto, 5);
	cr_assert_eq(t->nfields, 20);
	cr_assert_eq(t->scope_count, 0);
	cr_assert_eq(t->has_varlen, 0);
	cr_assert_eq(t->min_len, NF5_REC_LEN);
	cr_assert_eq(t->sampler_field, -1);
	cr_assert_eq(t->rate_field, -1);
	for (unsigned i = 0; i < 20; i++) {
		cr_assert_eq(t->f[i].pen, IE_PEN_IANA);
		cr_assert_eq(t->f[i].id, want[i].id, "field %u", i);
		cr_assert_eq(t->f[i].len, want[i].len, "field %u", i);
		/* finished: every real field normalizes, the pads do not */
		if (want[i].id == 210)
			cr_assert_not(norm_ie_mapped(t->f[i].pen, t->f[i].id));
		else
			cr_assert(norm_ie_mapped(t->f[i].pen, t->f[i].id), "field %u has no norm slot", i);
		sum += t->f[i].len;
	}
	cr_assert_eq(sum, NF5_REC_LEN);
}

/* ---- round trip ---- */

Test(nf5, round_trip_30_flows)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct flow in[30];
	uint8_t buf[NF5_MAX_LEN];
	struct rec_log log;
	struct weir_ctx ctx;
	struct tmpl_source *s;
	size_t len = 0;

	for (unsigned i = 0; i < 30; i++)
		in[i] = mkflow(i);
	cr_assert_eq(nf5_encode(&hdr0, in, 30, buf, sizeof(buf), &len), WEIR_OK);
	cr_assert_eq(len, NF5_MAX_LEN);

	log_init(&log, 64);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 30);
	cr_assert_eq(ctx.records, 30);
	cr_assert_eq(ctx.messages, 1);
	for (unsigned i = 0; i < 30; i++) {
		const struct log_rec *r = &log.r[i];

		cr_assert_eq(r->flow_err, WEIR_OK);
		cr_assert_eq(r->is_options, 0);
		cr_assert_eq(r->proto, 5);
		cr_assert_eq(r->sampling_rate, 100);
		cr_assert_eq(r->msg.domain, 0x0102);
		cr_assert_eq(r->msg.sequence, 1000);
		cr_assert_eq(r->msg.sys_uptime_ms, hdr0.sys_uptime_ms);
		cr_assert_eq(r->msg.export_time, hdr0.unix_secs);
		cr_assert_eq(r->msg.export_nsecs, hdr0.unix_nsecs);
		cr_assert_eq(r->msg.recv_time_ns, RECV_NS);
		cr_assert_eq(r->flow.type, WEIR_PROTO_NF5);
		cr_assert_eq(r->flow.sampling_rate, 100);
		cr_assert_eq(r->flow.observation_domain_id, 0x0102);
		cr_assert_eq(r->flow.sequence_num, 1000);
		assert_flow_eq(&r->flow, &in[i]);
	}
	/* the source was made and its sequence learnt (step = count) */
	s = tmpl_source_get(c, &e, 0x0102, 0);
	cr_assert_not_null(s);
	cr_assert(s->seq_valid);
	cr_assert_eq(s->seq_next, 1030);
	log_free(&log);
	tmpl_cache_free(c);
}

Test(nf5, round_trip_without_cache_and_one_flow)
{
	struct weir_exporter e = exp1();
	struct flow in = mkflow(7);
	struct nf5_hdr h = hdr0;
	uint8_t buf[NF5_MAX_LEN];
	struct rec_log log;
	struct weir_ctx ctx;
	size_t len = 0;

	h.sampling_mode = 0;
	h.sampling_interval = 0;
	cr_assert_eq(nf5_encode(&h, &in, 1, buf, sizeof(buf), &len), WEIR_OK);
	cr_assert_eq(len, NF5_HDR_LEN + NF5_REC_LEN);
	log_init(&log, 4);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].msg.src, NULL);
	cr_assert_eq(log.r[0].sampling_rate, 0);
	assert_flow_eq(&log.r[0].flow, &in);
	log_free(&log);
}

Test(nf5, encode_limits)
{
	struct flow in[31];
	uint8_t buf[NF5_MAX_LEN + 48];
	size_t len = 0;
	struct flow f;

	for (unsigned i = 0; i < 31; i++)
		in[i] = mkflow(i);
	cr_assert_eq(nf5_encode(&hdr0, in, 0, buf, sizeof(buf), &len), WEIR_E_INVALID);
	cr_assert_eq(nf5_encode(&hdr0, in, 31, buf, sizeof(buf), &len), WEIR_E_INVALID);

	f = mkflow(1);
	weir_addr_parse(&f.src_addr, "2001:db8::1");
	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_E_INVALID);
	f = mkflow(1);
	f.bytes = 1ull << 32;
	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_E_INVALID);
	f = mkflow(1);
	f.packets = 1ull << 32;
	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_E_INVALID);
	f = mkflow(1);
	f.in_if = 65536;
	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_E_INVALID);

	/* 4-byte AS numbers become AS_TRANS; an absent next hop is 0.0.0.0 */
	f = mkflow(1);
	f.src_as = 4200000000u;
	memset(&f.next_hop, 0, sizeof(f.next_hop));
	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_OK);
	cr_assert_eq(be_uint(buf + NF5_HDR_LEN + 40, 2), 23456);
	cr_assert_eq(be_uint(buf + NF5_HDR_LEN + 8, 4), 0);

	/* every buffer shorter than the datagram: NOSPACE */
	for (size_t cap = 0; cap < NF5_HDR_LEN + 2 * NF5_REC_LEN; cap++)
		cr_assert_eq(nf5_encode(&hdr0, in, 2, buf, cap, &len), WEIR_E_NOSPACE,
			     "cap %zu", cap);
	cr_assert_eq(nf5_encode(&hdr0, in, 2, buf, NF5_HDR_LEN + 2 * NF5_REC_LEN, &len), WEIR_OK);
}

Test(nf5, encode_header_bytes)
{
	struct flow f = mkflow(3);
	uint8_t buf[NF5_MAX_LEN];
	size_t len = 0;

	cr_assert_eq(nf5_encode(&hdr0, &f, 1, buf, sizeof(buf), &len), WEIR_OK);
	cr_assert_eq(be_uint(buf, 2), 5);
	cr_assert_eq(be_uint(buf + 2, 2), 1);
	cr_assert_eq(be_uint(buf + 4, 4), hdr0.sys_uptime_ms);
	cr_assert_eq(be_uint(buf + 8, 4), hdr0.unix_secs);
	cr_assert_eq(be_uint(buf + 12, 4), hdr0.unix_nsecs);
	cr_assert_eq(be_uint(buf + 16, 4), 1000);
	cr_assert_eq(buf[20], 1);
	cr_assert_eq(buf[21], 2);
	cr_assert_eq(be_uint(buf + 22, 2), 0x4000 | 100);
	/* First: 60 s + 3 s before the export, as an uptime */
	cr_assert_eq(be_uint(buf + NF5_HDR_LEN + 24, 4), hdr0.sys_uptime_ms - 63000);
	cr_assert_eq(buf[NF5_HDR_LEN + 36], 0);		/* pad1 */
	cr_assert_eq(buf[NF5_HDR_LEN + 37], 0x1b);	/* tcp_flags */
	cr_assert_eq(buf[NF5_HDR_LEN + 38], 17);	/* prot */
}

/* ---- vendor payloads (values checked with tshark -d udp.port==2055,cflow) ---- */

Test(nf5, vendor_juniper_mx80)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	size_t len = VENDOR("netflow5_test_juniper_mx80.dat", buf);
	struct weir_exporter e = exp1();
	struct rec_log log;
	struct weir_ctx ctx;
	const struct log_rec *r;

	log_init(&log, 64);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 29);
	r = &log.r[0];
	cr_assert_eq(r->msg.sys_uptime_ms, 190649064);
	cr_assert_eq(r->msg.export_time, 1469109172);
	cr_assert_eq(r->msg.sequence, 528678);
	cr_assert_eq(r->msg.domain, 0);
	/* mode 0 ("none") with interval 1000: the interval is used */
	cr_assert_eq(r->sampling_rate, 1000);
	cr_assert_eq(log_u(r, 0, 8), ip4(10, 0, 0, 1));
	cr_assert_eq(log_u(r, 0, 12), ip4(192, 168, 0, 2));
	cr_assert_eq(log_u(r, 0, 15), ip4(192, 168, 0, 2));
	cr_assert_eq(log_u(r, 0, 10), 542);
	cr_assert_eq(log_u(r, 0, 14), 536);
	cr_assert_eq(log_u(r, 0, 2), 1);
	cr_assert_eq(log_u(r, 0, 1), 1500);
	cr_assert_eq(log_u(r, 0, 22), 190632000);
	cr_assert_eq(log_u(r, 0, 7), 443);
	cr_assert_eq(log_u(r, 0, 11), 61608);
	cr_assert_eq(log_u(r, 0, 6), 0x10);
	cr_assert_eq(log_u(r, 0, 4), 6);
	cr_assert_eq(log_u(r, 0, 16), 64497);
	cr_assert_eq(log_u(r, 0, 17), 64496);
	cr_assert_eq(log_u(r, 0, 9), 14);
	cr_assert_eq(log_u(r, 0, 13), 24);
	/* normalized: start = export time - (uptime - First) = -17.064 s */
	cr_assert_eq(r->flow.time_flow_start_ns, 1469109172ull * 1000000000 - 17064000000ull);
	r = &log.r[1];
	cr_assert_eq(log_u(r, 0, 6), 0xc2);
	cr_assert_eq(log_u(r, 0, 5), 0x02);
	cr_assert_eq(log_u(r, 0, 7), 6525);
	r = &log.r[28];
	cr_assert_eq(log_u(r, 0, 8), ip4(66, 249, 92, 75));
	cr_assert_eq(log_u(r, 0, 16), 15169);
	cr_assert_eq(log_u(r, 0, 9), 19);
	log_free(&log);
	free(buf);
}

Test(nf5, vendor_mikrotik)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	size_t len = VENDOR("netflow5_test_microtik.dat", buf);
	struct weir_exporter e = exp1();
	struct rec_log log;
	struct weir_ctx ctx;
	const struct log_rec *r;

	log_init(&log, 64);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 30);
	r = &log.r[0];
	cr_assert_eq(r->msg.export_nsecs, 514932000);
	cr_assert_eq(r->msg.sequence, 8140050);
	cr_assert_eq(r->sampling_rate, 0);
	cr_assert_eq(log_u(r, 0, 8), ip4(10, 0, 13, 1));
	cr_assert_eq(log_u(r, 0, 12), ip4(192, 168, 0, 98));
	cr_assert_eq(log_u(r, 0, 10), 13);
	cr_assert_eq(log_u(r, 0, 14), 50);
	cr_assert_eq(log_u(r, 0, 2), 2);
	cr_assert_eq(log_u(r, 0, 1), 104);
	cr_assert_eq(log_u(r, 0, 7), 5228);
	cr_assert_eq(log_u(r, 0, 11), 52734);
	log_free(&log);
	free(buf);
}

/* netflow5.dat is 12 datagrams back to back: as one datagram its count
 * disagrees with its length; split by their counts, all 30 records come
 * out and the flow sequence (step = count) shows no loss. */
Test(nf5, vendor_concatenated_datagrams)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	size_t len = VENDOR("netflow5.dat", buf);
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct tmpl_source *s;
	struct rec_log log;
	struct weir_ctx ctx;
	size_t off = 0, msgs = 0;

	log_init(&log, 64);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_E_COUNT);
	cr_assert_eq(log.n, 0);
	while (off + NF5_HDR_LEN <= len) {
		size_t n = NF5_HDR_LEN + be_uint(buf + off + 2, 2) * NF5_REC_LEN;

		cr_assert_leq(off + n, len);
		cr_assert_eq(nf5_decode(&ctx, &e, buf + off, n, RECV_NS), WEIR_OK);
		off += n;
		msgs++;
	}
	cr_assert_eq(off, len);
	cr_assert_eq(msgs, 12);
	cr_assert_eq(log.n, 30);
	cr_assert_eq(ctx.messages, 12);
	cr_assert_eq(log_u(&log.r[0], 0, 8), ip4(10, 0, 2, 2));
	s = tmpl_source_get(c, &e, 0, 0);
	cr_assert_not_null(s);
	cr_assert_eq(s->seq_gaps, 0);
	cr_assert_eq(s->seq_lost, 0);
	cr_assert_eq(s->seq_next, 30);
	log_free(&log);
	tmpl_cache_free(c);
	free(buf);
}

Test(nf5, vendor_invalid)
{
	static const char *names[] = { "netflow5_test_invalid01.dat", "netflow5_test_invalid02.dat" };

	for (unsigned k = 0; k < 2; k++) {
		uint8_t *buf = malloc(VENDOR_MAX);
		size_t len = VENDOR(names[k], buf);
		struct weir_exporter e = exp1();
		struct rec_log log;
		struct weir_ctx ctx;

		log_init(&log, 4);
		ctx_init(&ctx, &log, NULL);
		/* counts 0xd91e and 163: above 30 */
		cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_E_COUNT, "%s", names[k]);
		cr_assert_eq(log.n, 0);
		cr_assert_eq(ctx.errors[-WEIR_E_COUNT], 1);
		cr_assert_eq(ctx.messages, 0);
		log_free(&log);
		free(buf);
	}
}

/* ---- malformed messages ---- */

/* A valid datagram of n records. */
static size_t mk_msg(uint8_t *buf, size_t cap, unsigned n)
{
	struct flow in[30];
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		in[i] = mkflow(i);
	cr_assert_eq(nf5_encode(&hdr0, in, n, buf, cap, &len), WEIR_OK);
	return len;
}

struct bad5 {
	const char *name;
	unsigned records;	/* records of the valid datagram it starts from */
	int count;		/* count to patch in, -1 keep */
	int version;		/* version to patch in, -1 keep */
	int delta;		/* bytes to add (zeros) or cut */
	int err;
};

static const struct bad5 bad5_tab[] = {
	{ "count 0", 1, 0, -1, -NF5_REC_LEN, WEIR_E_COUNT },
	{ "count 0 with a record", 1, 0, -1, 0, WEIR_E_COUNT },
	{ "count 31", 30, 31, -1, NF5_REC_LEN, WEIR_E_COUNT },
	{ "count 65535", 1, 65535, -1, 0, WEIR_E_COUNT },
	{ "count above records", 2, 3, -1, 0, WEIR_E_COUNT },
	{ "count below records", 2, 1, -1, 0, WEIR_E_COUNT },
	{ "one byte short", 2, -1, -1, -1, WEIR_E_COUNT },
	{ "one record short", 2, -1, -1, -NF5_REC_LEN, WEIR_E_COUNT },
	{ "one byte extra", 2, -1, -1, 1, WEIR_E_COUNT },
	{ "one record extra", 2, -1, -1, NF5_REC_LEN, WEIR_E_COUNT },
	{ "version 1", 1, -1, 1, 0, WEIR_E_VERSION },
	{ "version 9", 1, -1, 9, 0, WEIR_E_VERSION },
	{ "version 0x0500", 1, -1, 0x500, 0, WEIR_E_VERSION },
};

Test(nf5, malformed_table)
{
	for (size_t k = 0; k < sizeof(bad5_tab) / sizeof(bad5_tab[0]); k++) {
		const struct bad5 *b = &bad5_tab[k];
		uint8_t buf[NF5_MAX_LEN + 2 * NF5_REC_LEN];
		struct weir_exporter e = exp1();
		struct rec_log log;
		struct weir_ctx ctx;
		size_t len;

		memset(buf, 0, sizeof(buf));
		len = mk_msg(buf, sizeof(buf), b->records);
		if (b->count >= 0) {
			buf[2] = (uint8_t)(b->count >> 8);
			buf[3] = (uint8_t)b->count;
		}
		if (b->version >= 0) {
			buf[0] = (uint8_t)(b->version >> 8);
			buf[1] = (uint8_t)b->version;
		}
		len = (size_t)((long)len + b->delta);
		log_init(&log, 40);
		ctx_init(&ctx, &log, NULL);
		cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), b->err, "%s", b->name);
		cr_assert_eq(log.n, 0, "%s", b->name);
		cr_assert_eq(ctx.errors[-b->err], 1, "%s", b->name);
		cr_assert_eq(ctx.messages, 0, "%s", b->name);
		log_free(&log);
	}
}

/* Every length below the header is TRUNCATED; every cut of a valid
 * datagram is an error and hands out nothing. */
Test(nf5, truncated_at_every_length)
{
	uint8_t full[NF5_MAX_LEN];
	struct weir_exporter e = exp1();
	size_t len = mk_msg(full, sizeof(full), 30);

	for (size_t cut = 0; cut < len; cut++) {
		/* a heap copy of exactly cut bytes, so ASan sees any overread */
		uint8_t *p = malloc(cut ? cut : 1);
		struct rec_log log;
		struct weir_ctx ctx;
		int rc;

		memcpy(p, full, cut);
		log_init(&log, 40);
		ctx_init(&ctx, &log, NULL);
		rc = nf5_decode(&ctx, &e, p, cut, RECV_NS);
		cr_assert_eq(rc, cut < NF5_HDR_LEN ? WEIR_E_TRUNCATED : WEIR_E_COUNT, "cut %zu", cut);
		cr_assert_eq(log.n, 0);
		log_free(&log);
		free(p);
	}
}

/* Good datagrams around bad ones keep their records; sequence numbers
 * with a gap are counted as lost flows. */
Test(nf5, stream_good_bad_good)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	struct flow in[5];
	struct nf5_hdr h = hdr0;
	uint8_t a[NF5_MAX_LEN], b[NF5_MAX_LEN], d[NF5_MAX_LEN];
	size_t la, lb, ld;
	struct tmpl_source *s;
	struct rec_log log;
	struct weir_ctx ctx;

	for (unsigned i = 0; i < 5; i++)
		in[i] = mkflow(i);
	h.flow_sequence = 0;
	cr_assert_eq(nf5_encode(&h, in, 5, a, sizeof(a), &la), WEIR_OK);
	h.flow_sequence = 5;
	cr_assert_eq(nf5_encode(&h, in, 5, b, sizeof(b), &lb), WEIR_OK);
	b[3] = 6;	/* count 6 for 5 records */
	h.flow_sequence = 20;	/* 10 flows lost in between */
	cr_assert_eq(nf5_encode(&h, in, 3, d, sizeof(d), &ld), WEIR_OK);

	log_init(&log, 40);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf5_decode(&ctx, &e, a, la, RECV_NS), WEIR_OK);
	cr_assert_eq(nf5_decode(&ctx, &e, b, lb, RECV_NS), WEIR_E_COUNT);
	cr_assert_eq(nf5_decode(&ctx, &e, d, ld, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 8);
	cr_assert_eq(ctx.records, 8);
	cr_assert_eq(ctx.messages, 2);
	cr_assert_eq(ctx.errors[-WEIR_E_COUNT], 1);
	cr_assert_eq(log.r[5].msg.sequence, 20);
	s = tmpl_source_get(c, &e, 0x0102, 0);
	cr_assert_not_null(s);
	cr_assert_eq(s->seq_gaps, 1);
	cr_assert_eq(s->seq_lost, 15);	/* 5..19: the bad datagram's 5 and 10 more */
	log_free(&log);
	tmpl_cache_free(c);
}

Test(nf5, callback_stops)
{
	uint8_t buf[NF5_MAX_LEN];
	struct weir_exporter e = exp1();
	size_t len = mk_msg(buf, sizeof(buf), 10);
	struct rec_log log;
	struct weir_ctx ctx;

	log_init(&log, 40);
	log.stop_after = 3;
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, RECV_NS), WEIR_E_STOPPED);
	cr_assert_eq(log.n, 3);
	cr_assert_eq(ctx.errors[-WEIR_E_STOPPED], 1);
	cr_assert_eq(ctx.messages, 0);
	log_free(&log);
}

Test(nf5, dispatch_by_version)
{
	uint8_t buf[NF5_MAX_LEN];
	struct weir_exporter e = exp1();
	size_t len = mk_msg(buf, sizeof(buf), 4);
	struct rec_log log;
	struct weir_ctx ctx;

	log_init(&log, 8);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(weir_decode(&ctx, &e, buf, len, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 4);
	log_free(&log);
}

/* The values of each record lie where the template's lengths say: field k
 * starts at the sum of the lengths before it (norm.c's v5 path and raw
 * output both read them so). */
static const uint8_t *offs_msg;
static int offs_bad;

static int offs_cb(const struct weir_record *rec, void *user)
{
	size_t rec_start = NF5_HDR_LEN + (size_t)*(unsigned *)user * NF5_REC_LEN;
	size_t off = 0;

	for (unsigned k = 0; k < rec->t->nfields; k++) {
		if ((size_t)(rec->v[k].p - offs_msg) != rec_start + off ||
		    rec->v[k].len != rec->t->f[k].len)
			offs_bad++;
		off += rec->t->f[k].len;
	}
	(*(unsigned *)user)++;
	return 0;
}

Test(nf5, value_offsets_follow_template)
{
	struct nf5_hdr h = { .sys_uptime_ms = 1000, .unix_secs = 1700000000 };
	struct flow in[3];
	uint8_t buf[NF5_MAX_LEN];
	struct weir_exporter e = exp1();
	struct weir_ctx ctx;
	unsigned n = 0;
	size_t len;

	memset(in, 0, sizeof(in));
	for (int i = 0; i < 3; i++) {
		weir_addr_v4u(&in[i].src_addr, 0x0a000001u + (uint32_t)i);
		weir_addr_v4u(&in[i].dst_addr, 0x0a000101u);
		in[i].has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR;
	}
	cr_assert_eq(nf5_encode(&h, in, 3, buf, sizeof(buf), &len), WEIR_OK);
	memset(&ctx, 0, sizeof(ctx));
	ctx.on_record = offs_cb;
	ctx.user = &n;
	offs_msg = buf;
	offs_bad = 0;
	cr_assert_eq(nf5_decode(&ctx, &e, buf, len, 1), WEIR_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(offs_bad, 0);
}

/* ---- uptimes modulo 2^32: never a flow after its export ---- */

/* One v5 record with First/Last uptimes first/last, header uptime up, at
 * export time 1700000000.250; returns its flow. */
static struct flow v5_times(uint32_t up, uint32_t first, uint32_t last)
{
	struct weir_exporter e = exp1();
	struct rec_log log;
	struct weir_ctx ctx;
	struct mb m = { .n = 0 };
	struct flow f;

	mb_u16(&m, 5);
	mb_u16(&m, 1);
	mb_u32(&m, up);
	mb_u32(&m, 1700000000);
	mb_u32(&m, 250000000);
	mb_u32(&m, 1);
	mb_u32(&m, 0);
	mb_u32(&m, ip4(10, 0, 0, 1));
	mb_u32(&m, ip4(10, 0, 0, 2));
	mb_u32(&m, 0);
	mb_u32(&m, 0);
	mb_u32(&m, 1);
	mb_u32(&m, 60);
	mb_u32(&m, first);
	mb_u32(&m, last);
	mb_zero(&m, 16);
	cr_assert_eq(m.n, 24 + 48);
	log_init(&log, 4);
	ctx_init(&ctx, &log, NULL);
	cr_assert_eq(nf5_decode(&ctx, &e, m.b, m.n, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 1);
	cr_assert_eq(log.r[0].flow_err, WEIR_OK);
	f = log.r[0].flow;
	log_free(&log);
	cr_assert(f.has & FLOW_HAS_TIME_START);
	cr_assert(f.has & FLOW_HAS_TIME_END);
	return f;
}

Test(nf5, uptime_above_the_header_is_a_wrap_not_the_future)
{
	/* softflowd -r: header uptime 0, records ~24.3 days "above" it */
	struct flow f = v5_times(0, 2100780335u, 2100781645u);
	uint64_t back_ms = (1ull << 32) - 2100781645u;

	cr_assert_leq(f.time_flow_end_ns, EXPORT_MS * 1000000ull, "dated %.1f days after export",
		      (double)(f.time_flow_end_ns - EXPORT_MS * 1000000ull) / 86400e9);
	cr_assert_eq(f.time_flow_end_ns, (EXPORT_MS - back_ms) * 1000000ull);
	cr_assert_eq(f.time_flow_end_ns - f.time_flow_start_ns, 1310 * 1000000ull);

	/* a router whose uptime wrapped 500 ms ago: records just below 2^32 */
	f = v5_times(500, 0xfffffc18u, 0xffffff9cu);	/* 1000 and 100 ms before the wrap */
	cr_assert_eq(f.time_flow_end_ns, (EXPORT_MS - 600) * 1000000ull);
	cr_assert_eq(f.time_flow_start_ns, (EXPORT_MS - 1500) * 1000000ull);

	/* 1 ms above the header's uptime: 2^32 - 1 ms back, not 1 ms ahead */
	f = v5_times(1000, 900, 1001);
	cr_assert_eq(f.time_flow_end_ns, (EXPORT_MS - 0xffffffffull) * 1000000ull);
	cr_assert_eq(f.time_flow_start_ns, (EXPORT_MS - 100) * 1000000ull);
}
