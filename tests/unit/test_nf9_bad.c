/* Unit tests of the NetFlow v9 decoder (common/wire/nf9.c) against malformed
 * messages: a table of hand-built bad flowsets and the error each gives, cut
 * headers and messages cut at every length, and a stream that goes on after
 * a bad message. Split from test_nf9.c. */
#include <criterion/criterion.h>

#include "decode.h"
#include "flow.h"
#include "ie.h"
#include "nf9.h"
#include "tmpl.h"
#include "nf9help.h"

/* ---- malformed messages ---- */

enum {
	B_SET_SHORT, B_SET_PAST, B_SET_ZERO_LEN_JUNK, B_TRAIL_JUNK, B_TPL_ZERO_FIELDS,
	B_TPL_OVERFLOW, B_TPL_LOW_ID, B_TPL_ALL_ZERO_LEN, B_TPL_TOO_MANY, B_OPT_SCOPE_ODD,
	B_OPT_SCOPE_PAST, B_OPT_NO_SCOPE, B_OPT_LEN_ODD, B_VARLEN_PAST, B_COUNT, B_RESERVED,
	B_PAD_OK, B_ZERO_FILL, B_VERSION, B_EMPTY_DATA,
};

struct bad9 {
	const char *name;
	int kind;
	int rc;			/* result */
	int err;		/* the error kind counted (0: none) */
	size_t records;		/* records still handed out */
	int fatal;		/* message not counted as decoded */
};

static const struct bad9 bad9_tab[] = {
	{ "flowset length 3", B_SET_SHORT, WEIR_E_SET_LENGTH, WEIR_E_SET_LENGTH, 2, 1 },
	{ "flowset length past the message", B_SET_PAST, WEIR_E_SET_LENGTH, WEIR_E_SET_LENGTH, 2, 1 },
	{ "flowset length 0, non-zero rest", B_SET_ZERO_LEN_JUNK, WEIR_E_SET_LENGTH,
	  WEIR_E_SET_LENGTH, 2, 1 },
	{ "2 junk bytes after the flowsets", B_TRAIL_JUNK, WEIR_E_SET_LENGTH, WEIR_E_SET_LENGTH, 2, 1 },
	{ "template with 0 fields", B_TPL_ZERO_FIELDS, WEIR_E_TEMPLATE, WEIR_E_TEMPLATE, 2, 0 },
	{ "template field count past its flowset", B_TPL_OVERFLOW, WEIR_E_TEMPLATE,
	  WEIR_E_TEMPLATE, 2, 0 },
	{ "template id 255", B_TPL_LOW_ID, WEIR_E_TEMPLATE, WEIR_E_TEMPLATE, 3, 0 },
	{ "template of zero-length fields only", B_TPL_ALL_ZERO_LEN, WEIR_E_TEMPLATE,
	  WEIR_E_TEMPLATE, 2, 0 },
	{ "template of 1025 fields", B_TPL_TOO_MANY, WEIR_E_LIMIT, WEIR_E_LIMIT, 3, 0 },
	{ "options scope length 6", B_OPT_SCOPE_ODD, WEIR_E_TEMPLATE, WEIR_E_TEMPLATE, 2, 0 },
	{ "options scope length past the flowset", B_OPT_SCOPE_PAST, WEIR_E_TEMPLATE,
	  WEIR_E_TEMPLATE, 2, 0 },
	{ "options without scope", B_OPT_NO_SCOPE, WEIR_E_TEMPLATE, WEIR_E_TEMPLATE, 2, 0 },
	{ "options length 5", B_OPT_LEN_ODD, WEIR_E_TEMPLATE, WEIR_E_TEMPLATE, 2, 0 },
	{ "variable-length field past the flowset", B_VARLEN_PAST, WEIR_E_VARLEN, WEIR_E_VARLEN, 3, 0 },
	{ "header count 7 for 3 records in 2 flowsets", B_COUNT, WEIR_E_COUNT, WEIR_E_COUNT, 2, 0 },
	{ "reserved flowset 128 skipped", B_RESERVED, WEIR_OK, 0, 2, 0 },
	{ "padding shorter than a record", B_PAD_OK, WEIR_OK, 0, 3, 0 },
	{ "zero bytes after the flowsets", B_ZERO_FILL, WEIR_OK, 0, 2, 0 },
	{ "version 10", B_VERSION, WEIR_E_VERSION, WEIR_E_VERSION, 0, 1 },
	{ "empty data flowset", B_EMPTY_DATA, WEIR_OK, 0, 2, 0 },
};

/* Builds the case: the template of 256 and a data flowset of 2 records
 * around the damage, so what still holds is seen to come out. */
static void build_bad(struct mb *m, int kind)
{
	uint16_t count = 3;	/* template + 2 records */

	hdr(m, 0);
	tpl256(m);
	switch (kind) {
	case B_TPL_ZERO_FIELDS:
		mb_u16(m, 0); mb_u16(m, 12);
		mb_u16(m, 300); mb_u16(m, 0); mb_u16(m, 8); mb_u16(m, 4);
		count = 4;
		break;
	case B_TPL_OVERFLOW:
		mb_u16(m, 0); mb_u16(m, 12);
		mb_u16(m, 300); mb_u16(m, 3); mb_u16(m, 8); mb_u16(m, 4);
		count = 4;
		break;
	case B_TPL_LOW_ID:
		/* skipped alone: template 300 after it in its flowset holds */
		mb_u16(m, 0); mb_u16(m, 20);
		mb_u16(m, 255); mb_u16(m, 1); mb_u16(m, 8); mb_u16(m, 4);
		mb_u16(m, 300); mb_u16(m, 1); mb_u16(m, 12); mb_u16(m, 4);
		mb_u16(m, 300); mb_u16(m, 8); mb_u32(m, 1);
		break;
	case B_TPL_ALL_ZERO_LEN:
		mb_u16(m, 0); mb_u16(m, 16);
		mb_u16(m, 300); mb_u16(m, 2); mb_u16(m, 8); mb_u16(m, 0); mb_u16(m, 12); mb_u16(m, 0);
		mb_u16(m, 300); mb_u16(m, 4);	/* an empty flowset of 300 */
		count = 4;
		break;
	case B_TPL_TOO_MANY:
		/* skipped alone: template 300 after it in its flowset holds */
		mb_u16(m, 0); mb_u16(m, 16 + 1025 * 4);
		mb_u16(m, 301); mb_u16(m, 1025);
		for (unsigned i = 0; i < 1025; i++) {
			mb_u16(m, 1);
			mb_u16(m, 1);
		}
		mb_u16(m, 300); mb_u16(m, 1); mb_u16(m, 12); mb_u16(m, 4);
		mb_u16(m, 300); mb_u16(m, 8); mb_u32(m, 1);
		break;
	case B_OPT_SCOPE_ODD:
	case B_OPT_SCOPE_PAST:
	case B_OPT_NO_SCOPE:
	case B_OPT_LEN_ODD:
		mb_u16(m, 1); mb_u16(m, 20);
		mb_u16(m, 300);
		mb_u16(m, kind == B_OPT_SCOPE_ODD ? 6 : kind == B_OPT_SCOPE_PAST ? 16 :
			  kind == B_OPT_NO_SCOPE ? 0 : 4);
		mb_u16(m, kind == B_OPT_LEN_ODD ? 5 : kind == B_OPT_NO_SCOPE ? 8 : 4);
		mb_u16(m, 1); mb_u16(m, 4); mb_u16(m, 34); mb_u16(m, 4);
		mb_zero(m, 2);
		count = 4;
		break;
	case B_VARLEN_PAST:
		/* template 301: 8/4 82/varlen; a record whose length says 200 */
		mb_u16(m, 0); mb_u16(m, 16);
		mb_u16(m, 301); mb_u16(m, 2); mb_u16(m, 8); mb_u16(m, 4); mb_u16(m, 82);
		mb_u16(m, 0xffff);
		mb_u16(m, 301); mb_u16(m, 20);
		mb_u32(m, 1); mb_u8(m, 2); mb_u8(m, 'a'); mb_u8(m, 'b');
		mb_u32(m, 2); mb_u8(m, 200); mb_zero(m, 4);
		break;
	case B_RESERVED:
		mb_u16(m, 128); mb_u16(m, 8); mb_u32(m, 0xdeadbeef);
		break;
	case B_PAD_OK:
		data256(m, 1, 7);
		count = 4;
		break;
	case B_EMPTY_DATA:
		mb_u16(m, 256); mb_u16(m, 4);
		break;
	}
	data256(m, 2, 0);
	switch (kind) {
	case B_SET_SHORT:
		mb_u16(m, 256); mb_u16(m, 3); mb_u32(m, 0);
		break;
	case B_SET_PAST:
		mb_u16(m, 256); mb_u16(m, 12); mb_u32(m, 0);
		break;
	case B_SET_ZERO_LEN_JUNK:
		mb_u16(m, 0); mb_u16(m, 0); mb_u32(m, 1);
		break;
	case B_TRAIL_JUNK:
		mb_u16(m, 0x0102);
		break;
	case B_ZERO_FILL:
		mb_zero(m, 301);
		break;
	case B_COUNT:
		count = 7;
		break;
	case B_VERSION:
		mb_put16(m, 0, 10);
		break;
	}
	mb_put16(m, 2, count);
}

Test(nf9, malformed_table)
{
	for (size_t k = 0; k < sizeof(bad9_tab) / sizeof(bad9_tab[0]); k++) {
		const struct bad9 *b = &bad9_tab[k];
		struct tmpl_cache *c = cache_new();
		struct weir_exporter e = exp1();
		static struct mb m;
		struct rec_log log;
		struct weir_ctx ctx;
		uint8_t *p;
		int rc;

		build_bad(&m, b->kind);
		p = malloc(m.n);
		memcpy(p, m.b, m.n);
		log_init(&log, 16);
		ctx_init(&ctx, &log, c);
		rc = nf9_decode(&ctx, &e, p, m.n, RECV_NS);
		cr_assert_eq(rc, b->rc, "%s: rc %d", b->name, rc);
		if (b->err)
			cr_assert_eq(ctx.errors[-b->err], 1, "%s", b->name);
		for (int i = 1; i < WEIR_E_MAX; i++)
			if (-i != b->err)
				cr_assert_eq(ctx.errors[i], 0, "%s: also %s", b->name, weir_errname(-i));
		cr_assert_eq(log.n, b->records, "%s: %zu records", b->name, log.n);
		cr_assert_eq(ctx.messages, b->fatal ? 0 : 1, "%s", b->name);
		log_free(&log);
		free(p);
		tmpl_cache_free(c);
	}
}

Test(nf9, truncated_header)
{
	struct weir_exporter e = exp1();
	struct mb m;

	hdr(&m, 0);
	for (size_t cut = 0; cut < NF9_HDR_LEN; cut++) {
		struct weir_ctx ctx;
		uint8_t *p = malloc(cut ? cut : 1);

		memcpy(p, m.b, cut);
		memset(&ctx, 0, sizeof(ctx));
		cr_assert_eq(nf9_decode(&ctx, &e, p, cut, RECV_NS), WEIR_E_TRUNCATED, "cut %zu", cut);
		cr_assert_eq(ctx.errors[-WEIR_E_TRUNCATED], 1);
		free(p);
	}
	/* the header alone is a valid, empty message */
	{
		struct weir_ctx ctx;

		memset(&ctx, 0, sizeof(ctx));
		cr_assert_eq(nf9_decode(&ctx, &e, m.b, NF9_HDR_LEN, RECV_NS), WEIR_OK);
		cr_assert_eq(ctx.messages, 1);
	}
}

Test(nf9, truncated_at_every_length)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	struct nf9_enc enc;
	struct flow in[10];
	size_t len, used;

	enc_init(&enc);
	mkflows(in);
	cr_assert_eq(nf9_encode_flows(&enc, in, 10, 1, buf, VENDOR_MAX, &len, &used), WEIR_OK);
	cut_everywhere(buf, len, "encoded");
	free(buf);
}

/* Good messages before and after a bad one stay decoded. */
Test(nf9, stream_good_bad_good)
{
	struct tmpl_cache *c = cache_new();
	struct weir_exporter e = exp1();
	static struct mb good1, bad, good2;
	struct rec_log log;
	struct weir_ctx ctx;
	struct tmpl_source *s;

	hdr(&good1, 3);
	tpl256(&good1);
	data256(&good1, 2, 0);
	build_bad(&bad, B_SET_PAST);
	mb_put16(&bad, 12, 0);
	mb_put16(&bad, 14, 2);		/* sequence 2 */
	hdr(&good2, 5);
	data256(&good2, 5, 0);
	mb_put16(&good2, 14, 3);	/* sequence 3 */

	log_init(&log, 16);
	ctx_init(&ctx, &log, c);
	cr_assert_eq(nf9_decode(&ctx, &e, good1.b, good1.n, RECV_NS), WEIR_OK);
	cr_assert_eq(nf9_decode(&ctx, &e, bad.b, bad.n, RECV_NS), WEIR_E_SET_LENGTH);
	cr_assert_eq(nf9_decode(&ctx, &e, good2.b, good2.n, RECV_NS), WEIR_OK);
	cr_assert_eq(log.n, 2 + 2 + 5);
	cr_assert_eq(ctx.messages, 2);
	cr_assert_eq(ctx.errors[-WEIR_E_SET_LENGTH], 1);
	cr_assert_eq(log_u(&log.r[8], 0, 12), ip4(10, 0, 1, 4));
	s = tmpl_source_get(c, &e, 0, 0);
	cr_assert_eq(s->seq_gaps, 0);
	cr_assert_eq(s->seq_next, 4);
	log_free(&log);
	tmpl_cache_free(c);
}
