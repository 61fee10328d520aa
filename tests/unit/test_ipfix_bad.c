/* Unit tests of the IPFIX decoder (common/ipfix.c) against malformed
 * messages: a table of hand-built bad messages with the error each must give
 * and the records still handed out, truncation at every length, and a stream
 * that goes on after a bad message. Split from test_ipfix.c. */
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

/* ---- malformed messages ---- */

struct bad_case {
	const char *name;
	void (*build)(struct mb *m);
	int err;
	size_t records;		/* records still handed out */
};

/* A valid template 256 (two fields) set, used before the bad part. */
static void good_tmpl(struct mb *m)
{
	size_t s = ipx_set(m, 2);

	mb_u16(m, 256);
	mb_u16(m, 2);
	mb_u16(m, 1);
	mb_u16(m, 4);
	mb_u16(m, 82);
	mb_u16(m, TMPL_VARLEN);
	ipx_set_end(m, s);
}

static void b_version(struct mb *m) { ipx_hdr(m, 1, 0, 0); ipx_end(m); m->b[1] = 9; }
static void b_len_small(struct mb *m) { ipx_hdr(m, 1, 0, 0); mb_put16(m, 2, 15); }
static void b_len_zero(struct mb *m) { ipx_hdr(m, 1, 0, 0); mb_put16(m, 2, 0); }
static void b_len_big(struct mb *m) { ipx_hdr(m, 1, 0, 0); good_tmpl(m); mb_put16(m, 2, (uint16_t)(m->n + 1)); }
static void b_set_len0(struct mb *m) { ipx_hdr(m, 1, 0, 0); mb_u16(m, 2); mb_u16(m, 0); ipx_end(m); }
static void b_set_len3(struct mb *m) { ipx_hdr(m, 1, 0, 0); mb_u16(m, 256); mb_u16(m, 3); ipx_end(m); }
static void b_set_past(struct mb *m)
{
	ipx_hdr(m, 1, 0, 0);
	good_tmpl(m);
	mb_u16(m, 256);
	mb_u16(m, 40);
	mb_u32(m, 1);
	mb_u8(m, 0);
	ipx_end(m);
}
static void b_set_stray(struct mb *m) { ipx_hdr(m, 1, 0, 0); good_tmpl(m); mb_u16(m, 0); mb_u8(m, 0); ipx_end(m); }
static void tmpl_hdr(struct mb *m, uint16_t sid, uint16_t id, uint16_t n)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, sid);
	mb_u16(m, id);
	mb_u16(m, n);
	if (n)
		for (uint16_t i = 0; i < n; i++) {
			mb_u16(m, (uint16_t)(i + 1));
			mb_u16(m, 4);
		}
	ipx_set_end(m, s);
	ipx_end(m);
}
static void b_zero_fields_id3_in_set2(struct mb *m) { tmpl_hdr(m, 2, 3, 0); }
static void b_zero_fields_id100(struct mb *m) { tmpl_hdr(m, 2, 100, 0); }
static void b_zero_fields_id2_in_set3(struct mb *m) { tmpl_hdr(m, 3, 2, 0); }
static void b_tmpl_id_low(struct mb *m) { tmpl_hdr(m, 2, 255, 2); }
static void b_count_overflow(struct mb *m)
{
	tmpl_hdr(m, 2, 256, 2);
	mb_put16(m, 16 + 6, 10);	/* field count 10, two fields present */
}
static void b_too_many_fields(struct mb *m)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 2);
	mb_u16(m, 256);
	mb_u16(m, TMPL_MAX_FIELDS + 1);
	for (unsigned i = 0; i < TMPL_MAX_FIELDS + 1; i++) {
		mb_u16(m, 1);
		mb_u16(m, 1);
	}
	ipx_set_end(m, s);
	ipx_end(m);
}
static void b_zero_len_record(struct mb *m)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 2);
	mb_u16(m, 256);
	mb_u16(m, 2);
	mb_u16(m, 1);
	mb_u16(m, 0);
	mb_u16(m, 2);
	mb_u16(m, 0);
	ipx_set_end(m, s);
	ipx_end(m);
}
static void opt_tmpl(struct mb *m, uint16_t n, uint16_t scope)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 3);
	mb_u16(m, 300);
	mb_u16(m, n);
	mb_u16(m, scope);
	for (uint16_t i = 0; i < n; i++) {
		mb_u16(m, (uint16_t)(144 + i));
		mb_u16(m, 4);
	}
	ipx_set_end(m, s);
	ipx_end(m);
}
static void b_zero_id_not_padding(struct mb *m)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 2);
	mb_u32(m, 0);
	mb_u8(m, 1);
	ipx_set_end(m, s);
	ipx_end(m);
}
static void b_scope_zero(struct mb *m) { opt_tmpl(m, 2, 0); }
static void b_scope_above(struct mb *m) { opt_tmpl(m, 2, 3); }
static void b_opt_hdr_cut(struct mb *m)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 3);
	mb_u16(m, 300);
	mb_u16(m, 2);
	mb_u8(m, 0);
	ipx_set_end(m, s);
	ipx_end(m);
}
static void data_after_good(struct mb *m, const uint8_t *rec, size_t n)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	good_tmpl(m);
	s = ipx_set(m, 256);
	mb_u32(m, 1);		/* a good record first */
	mb_u8(m, 2);
	mb_u16(m, 0x6869);
	mb_bytes(m, rec, n);
	ipx_set_end(m, s);
	ipx_end(m);
}
static void b_varlen1_past(struct mb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 10, 'a', 'b', 'c' };

	data_after_good(m, r, sizeof(r));
}
static void b_varlen3_past(struct mb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 255, 0x01, 0x00, 'a', 'b', 'c' };

	data_after_good(m, r, sizeof(r));
}
static void b_varlen3_cut_prefix(struct mb *m)
{
	static const uint8_t r[] = { 0, 0, 0, 2, 255, 0x01 };

	data_after_good(m, r, sizeof(r));
}
/* A bad template set between good sets: the next sets still decode. */
static void b_bad_then_good(struct mb *m)
{
	size_t s;

	ipx_hdr(m, 1, 0, 0);
	s = ipx_set(m, 2);
	mb_u16(m, 300);
	mb_u16(m, 9);
	mb_u16(m, 1);
	mb_u16(m, 4);
	ipx_set_end(m, s);
	good_tmpl(m);
	s = ipx_set(m, 256);
	mb_u32(m, 1);
	mb_u8(m, 0);
	ipx_set_end(m, s);
	ipx_end(m);
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
		struct mb m;
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
	struct mb m;
	struct fx f;

	fx_init(&f, 1);
	ipx_hdr(&m, 1, 0, 0);
	ipx_end(&m);
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
	struct mb m;
	struct fx f;
	size_t n, sa;

	fx_init(&f, 1);
	n = msg_templates(buf, sizeof(buf), 0, &t, 1);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	n = data_msg(buf, sizeof(buf), 1, 0, t, 1, 3);
	cr_assert_eq(dec(&f, buf, n), WEIR_OK);
	/* Two good records, then a set whose length runs past the message. */
	ipx_hdr(&m, 2, 3, 0);
	sa = ipx_set(&m, 256);
	mb_u32(&m, 10);
	mb_u32(&m, 11);
	ipx_set_end(&m, sa);
	mb_u16(&m, 256);
	mb_u16(&m, 100);
	mb_u32(&m, 12);
	ipx_end(&m);
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
