/* decode.h - what every decoder hands its caller.
 *
 * A decoder walks one export message (one UDP payload) with the reader of
 * rd.h and hands each data record to ctx->on_record as a view. Views point
 * into the message (or into held data) and are valid only during the call.
 * Decoders allocate nothing per message and never print.
 *
 * Return value of every *_decode(): WEIR_OK, or the first error met. Each
 * error met is also counted in ctx->errors[-err]. Records handed out before
 * an error stay handed out; where the message structure still holds (a bad
 * template, a data set with no template) decoding goes on with the next set.
 */
#ifndef WEIR_DECODE_H
#define WEIR_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cnt.h"
#include "err.h"
#include "tmpl.h"

enum weir_proto {
	WEIR_PROTO_NF5 = 5,
	WEIR_PROTO_NF9 = 9,
	WEIR_PROTO_IPFIX = 10,
	WEIR_PROTO_SFLOW = 50,
};

/* Facts of the message a record came in. */
struct weir_msg {
	uint8_t proto;			/* enum weir_proto */
	const struct weir_exporter *exporter;
	uint32_t domain;		/* IPFIX domain, v9 source id, sFlow sub-agent,
					 * v5 engine_type << 8 | engine_id */
	uint32_t export_time;		/* seconds since the epoch (v5, v9, IPFIX) */
	uint32_t export_nsecs;		/* v5 residual nanoseconds */
	uint32_t sequence;
	uint32_t sys_uptime_ms;		/* v5, v9, sFlow */
	uint32_t sampling_rate;		/* v5 header sampling interval, 0 = none */
	struct weir_addr agent;		/* sFlow agent address */
	uint64_t recv_time_ns;
	struct tmpl_source *src;	/* NULL for v5/sFlow when no cache */
};

/* One field value of a record: a view of len bytes. */
struct weir_value {
	const uint8_t *p;
	uint32_t len;
};

struct sflow_sample;

struct weir_record {
	const struct weir_msg *msg;
	const struct tmpl *t;		/* template (v9, IPFIX) or v5's fixed layout;
					 * NULL for sFlow */
	const struct weir_value *v;	/* t->nfields values */
	uint32_t sampling_rate;		/* resolved from options data / header, 0 = unknown */
	uint8_t is_options;		/* options data record (t->scope_count > 0) */
	const struct sflow_sample *sflow;	/* sFlow only */
};

/* Return 0 to go on, non-zero to stop decoding (the decoder then returns
 * WEIR_E_STOPPED). */
typedef int (*weir_record_fn)(const struct weir_record *rec, void *user);

/* Quirks: what a real exporter does against the letter of its RFC, always
 * and harmlessly. Not errors: counted apart (weir_ctx.quirks), so that a
 * clean run of such an exporter shows no error. */
enum weir_quirk {
	WEIR_Q_NF9_COUNT_FLOWSETS = 0,	/* v9 header count = flowsets (Cisco's white paper wording) */
	WEIR_Q_NF9_COUNT_DATA,		/* v9 header count = data records, templates left out
					 * (softflowd: flow records only) */
	WEIR_Q_SEQ_CONVENTION,		/* IPFIX sequence numbers by another count: the
					 * message's own records included, or options records
					 * left out (softflowd); once per source */
	WEIR_Q_MAX
};

/* A short token for a metric label ("unknown" out of range). */
const char *weir_quirk_name(int quirk);

struct weir_ctx {
	struct tmpl_cache *cache;	/* templates and sources; needed by v9 and IPFIX,
					 * optional for v5 and sFlow (sequence tracking) */
	weir_record_fn on_record;
	void *user;
	unsigned max_list_depth;	/* RFC 6313 nesting bound; 0 means the default (4) */
	uint64_t errors[WEIR_E_MAX];	/* every error met, by kind (index -err) */
	uint64_t quirks[WEIR_Q_MAX];	/* exporter quirks met, by kind */
	uint64_t records;		/* data and options records handed out */
	uint64_t messages;		/* messages decoded without a fatal error */
};

#define WEIR_LIST_DEPTH_DEFAULT 4

/* Count err in ctx and return it (for "return weir_count(ctx, err);"). */
static inline int weir_count(struct weir_ctx *ctx, int err)
{
	/* One writer (the decoding thread); others may read (cnt.h). */
	if (err < 0 && err > -WEIR_E_MAX)
		cnt_add(&ctx->errors[-err], 1);
	return err;
}

/* Count quirk q in ctx, as weir_count counts errors. */
static inline void weir_quirk(struct weir_ctx *ctx, int q)
{
	cnt_add(&ctx->quirks[q], 1);
}

int nf5_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
	       const uint8_t *msg, size_t len, uint64_t recv_ns);
int nf9_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
	       const uint8_t *msg, size_t len, uint64_t recv_ns);
int ipfix_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		 const uint8_t *msg, size_t len, uint64_t recv_ns);
int sflow_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		 const uint8_t *msg, size_t len, uint64_t recv_ns);

/* The protocol of a message by its version field (WEIR_PROTO_*): 0x0005
 * v5, 0x0009 v9, 0x000a IPFIX, 0x00000005 sFlow v5; 0 for anything else
 * or fewer than 4 bytes. */
uint8_t weir_sniff(const uint8_t *msg, size_t len);

/* Decode a message whose protocol weir_sniff() gave (a caller that needs
 * the protocol first, to count or filter, looks once): WEIR_E_VERSION for
 * proto 0 (WEIR_E_TRUNCATED under 4 bytes). */
int weir_decode_as(struct weir_ctx *ctx, uint8_t proto, const struct weir_exporter *e,
		   const uint8_t *msg, size_t len, uint64_t recv_ns);

/* weir_decode_as(ctx, weir_sniff(msg, len), ...). */
int weir_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		const uint8_t *msg, size_t len, uint64_t recv_ns);

#endif
