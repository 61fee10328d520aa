/* nf5.c - NetFlow v5 decoder.
 *
 * Layout per Cisco's "NetFlow Export Datagram Format" (version 5): a 24-byte
 * header (version, count, sys_uptime, unix_secs, unix_nsecs, flow_sequence,
 * engine_type, engine_id, sampling_interval) and count flow records of 48
 * bytes. v5 has no length field and no set structure: count * 48 + 24 equal
 * to the datagram length is the only check of a datagram's integrity. So a
 * datagram whose length differs from that, longer as well as shorter, is
 * WEIR_E_COUNT and nothing of it is handed out: with extra bytes either the
 * count is wrong (records would be silently lost) or the bytes are not one
 * v5 datagram at all (several concatenated, or another protocol that happens
 * to start with 0x0005).
 */
#include <pthread.h>

#include "decode.h"
#include "ie.h"
#include "nf5.h"
#include "rd.h"

#define NF5_NFIELDS	20
#define IE_PADDING	210	/* paddingOctets */

static struct tmpl nf5_tmpl = {
	.id = 0,
	.nfields = NF5_NFIELDS,
	.proto = WEIR_PROTO_NF5,
	.f = {
		{ .id = 8,  .len = 4 },		/* srcaddr */
		{ .id = 12, .len = 4 },		/* dstaddr */
		{ .id = 15, .len = 4 },		/* nexthop */
		{ .id = 10, .len = 2 },		/* input */
		{ .id = 14, .len = 2 },		/* output */
		{ .id = 2,  .len = 4 },		/* dPkts */
		{ .id = 1,  .len = 4 },		/* dOctets */
		{ .id = 22, .len = 4 },		/* First */
		{ .id = 21, .len = 4 },		/* Last */
		{ .id = 7,  .len = 2 },		/* srcport */
		{ .id = 11, .len = 2 },		/* dstport */
		{ .id = IE_PADDING, .len = 1 },	/* pad1 */
		{ .id = 6,  .len = 1 },		/* tcp_flags */
		{ .id = 4,  .len = 1 },		/* prot */
		{ .id = 5,  .len = 1 },		/* tos */
		{ .id = 16, .len = 2 },		/* src_as */
		{ .id = 17, .len = 2 },		/* dst_as */
		{ .id = 9,  .len = 1 },		/* src_mask */
		{ .id = 13, .len = 1 },		/* dst_mask */
		{ .id = IE_PADDING, .len = 2 },	/* pad2 */
	},
};

/* Where each field of nf5_tmpl starts in the 48-byte record: the running
 * sum of the lengths above (test_nf5 checks the two agree). */
static const uint16_t nf5_offs[NF5_NFIELDS] = {
	0, 4, 8, 12, 14, 16, 20, 24, 28, 32, 34, 36, 37, 38, 39, 40, 42, 44, 45, 46,
};

static pthread_once_t nf5_once = PTHREAD_ONCE_INIT;

static void nf5_tmpl_init(void)
{
	tmpl_finish(NULL, &nf5_tmpl);
}

const struct tmpl *nf5_template(void)
{
	pthread_once(&nf5_once, nf5_tmpl_init);
	return &nf5_tmpl;
}

static const struct weir_exporter nf5_no_exporter;

int nf5_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
	       const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	const struct tmpl *t = nf5_template();
	struct weir_value v[NF5_NFIELDS];
	struct weir_record rec;
	struct weir_msg m;
	struct rd r;
	uint16_t version, count, sampling;

	if (!e)
		e = &nf5_no_exporter;
	rd_init(&r, msg, len);
	if (len < NF5_HDR_LEN)
		return weir_count(ctx, WEIR_E_TRUNCATED);
	version = rd_u16(&r);
	if (version != NF5_VERSION)
		return weir_count(ctx, WEIR_E_VERSION);
	count = rd_u16(&r);
	if (count == 0 || count > NF5_MAX_RECORDS ||
	    len != NF5_HDR_LEN + (size_t)count * NF5_REC_LEN)
		return weir_count(ctx, WEIR_E_COUNT);

	memset(&m, 0, sizeof(m));
	m.proto = WEIR_PROTO_NF5;
	m.exporter = e;
	m.sys_uptime_ms = rd_u32(&r);
	m.export_time = rd_u32(&r);
	m.export_nsecs = rd_u32(&r);
	m.sequence = rd_u32(&r);
	m.domain = (uint32_t)rd_u8(&r) << 8;	/* engine_type */
	m.domain |= rd_u8(&r);			/* engine_id */
	sampling = rd_u16(&r);
	/* Top 2 bits mode, low 14 bits interval. The interval is used
	 * whatever the mode: Juniper MX sends mode 0 with interval 1000 for
	 * 1:1000 sampling (vendor payload netflow5_test_juniper_mx80). */
	m.sampling_rate = sampling & 0x3fff;
	m.recv_time_ns = recv_ns;
	if (ctx->cache) {
		/* A refused source is counted by the cache; v5 decodes without. */
		m.src = tmpl_source_get(ctx->cache, e, m.domain, 1);
		if (m.src)
			tmpl_seq_check(m.src, m.sequence, count);
	}

	memset(&rec, 0, sizeof(rec));
	rec.msg = &m;
	rec.t = t;
	rec.v = v;
	rec.sampling_rate = m.sampling_rate;
	/* The layout is fixed: lengths once, then constant offsets into each
	 * record, a loop the compiler unrolls into plain stores. */
	for (uint16_t k = 0; k < NF5_NFIELDS; k++)
		v[k].len = t->f[k].len;
	for (uint16_t i = 0; i < count; i++) {
		const uint8_t *base = rd_bytes(&r, NF5_REC_LEN);

		if (!base)	/* cannot happen: the length was checked */
			return weir_count(ctx, WEIR_E_TRUNCATED);
#pragma GCC unroll 20
		for (uint16_t k = 0; k < NF5_NFIELDS; k++)
			v[k].p = base + nf5_offs[k];
		ctx->records++;
		if (ctx->on_record && ctx->on_record(&rec, ctx->user))
			return weir_count(ctx, WEIR_E_STOPPED);
	}
	ctx->messages++;
	return WEIR_OK;
}
