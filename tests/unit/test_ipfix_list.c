/* Unit tests of RFC 6313 structured data (common/ipfix_list.c): the list
 * writers of the encoder, the validating walker, the iterator, nesting
 * bounds, malformed lists in the decoder, and YAF's real lists. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ipfix.h"
#include "ipfix_list.h"
#include "rd.h"
#include "tmpl.h"

#define NOW 1700000000000000000ull

static struct weir_exporter exporter(void)
{
	struct weir_exporter e;
	uint8_t a[4] = { 198, 51, 100, 7 };

	memset(&e, 0, sizeof(e));
	weir_addr_v4(&e.addr, a);
	e.port = 4739;
	return e;
}

static struct tmpl *mkt(uint16_t id, size_t n, const uint32_t spec[][3])
{
	struct tmpl *t = ipfix_tmpl_new(id, (uint16_t)n, 0);

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		ipfix_tmpl_field(t, (uint16_t)i, spec[i][0], (uint16_t)spec[i][1],
				 (uint16_t)spec[i][2]);
	return t;
}

/* A cache with one source holding the given templates. */
struct env {
	struct tmpl_cache *c;
	struct tmpl_source *s;
	struct ipfix_list_env le;
};

static void env_init(struct env *v, struct tmpl **ts, size_t n)
{
	struct tmpl_limits lim;
	struct weir_exporter e = exporter();

	tmpl_limits_default(&lim);
	v->c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(v->c);
	v->s = tmpl_source_get(v->c, &e, 0, 1);
	cr_assert_not_null(v->s);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(tmpl_add(v->s, ts[i], NOW), WEIR_OK);
	memset(&v->le, 0, sizeof(v->le));
	v->le.src = v->s;
	v->le.now_ns = NOW;
}

static const uint8_t u32s[3][4] = { { 0, 0, 0, 1 }, { 0, 0, 0, 2 }, { 0, 0, 1, 0 } };

/* ---- basicList ---- */

Test(ipfix_list, basic_fixed_bytes_and_iteration)
{
	static const uint8_t want[] = {
		IPFIX_SEM_ALL_OF, 0, 10, 0, 4,		/* ingressInterface, 4 bytes */
		0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0,
	};
	struct weir_value el[3] = { { u32s[0], 4 }, { u32s[1], 4 }, { u32s[2], 4 } };
	struct ipfix_list_env le = { 0 };
	struct ipfix_list_it it;
	struct weir_value v[4];
	const struct tmpl *t;
	uint8_t buf[64];
	struct wr w;
	int n = 0, rc;

	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ALL_OF, 0, 10, 4, el, 3), WEIR_OK);
	cr_assert_eq(w.off, sizeof(want));
	cr_assert_eq(memcmp(buf, want, sizeof(want)), 0);
	cr_assert_eq(ipfix_list_check(&le, IPFIX_LIST_BASIC, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_open(&it, &le, IPFIX_LIST_BASIC, buf, w.off, 1), WEIR_OK);
	cr_expect_eq(it.semantic, IPFIX_SEM_ALL_OF);
	while ((rc = ipfix_list_next(&it, &t, v, 4)) == 1) {
		cr_assert_lt(n, 3);
		cr_expect_eq(t->nfields, 1);
		cr_expect_eq(t->f[0].pen, 0);
		cr_expect_eq(t->f[0].id, 10);
		cr_expect_eq(v[0].len, 4);
		cr_expect_eq(memcmp(v[0].p, u32s[n], 4), 0);
		n++;
	}
	cr_expect_eq(rc, 0);
	cr_expect_eq(n, 3);
	/* The element definition came from the registry. */
	cr_expect_not_null(it.elem.t.f[0].def);
}

Test(ipfix_list, basic_varlen_and_enterprise)
{
	uint8_t big[300], buf[512];
	struct weir_value el[3] = { { (const uint8_t *)"a", 1 }, { big, 300 }, { NULL, 0 } };
	struct ipfix_list_env le = { 0 };
	struct ipfix_list_it it;
	struct weir_value v[1];
	const struct tmpl *t;
	struct wr w;
	uint32_t lens[3] = { 1, 300, 0 };
	int n = 0;

	memset(big, 'z', sizeof(big));
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ORDERED, 6871, 38, TMPL_VARLEN, el, 3),
		     WEIR_OK);
	/* semantic, id with enterprise bit, 0xffff, PEN, then 1 + 1 + 3 + 300 + 1 */
	cr_assert_eq(w.off, 9 + 2 + 303 + 1);
	cr_expect_eq(buf[1], 0x80);
	cr_expect_eq(buf[2], 38);
	cr_expect_eq(buf[5], 0);
	cr_expect_eq(buf[7], 0x1a);
	cr_expect_eq(buf[11], 255);
	cr_assert_eq(ipfix_list_check(&le, IPFIX_LIST_BASIC, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_open(&it, &le, IPFIX_LIST_BASIC, buf, w.off, 1), WEIR_OK);
	while (ipfix_list_next(&it, &t, v, 1) == 1) {
		cr_assert_lt(n, 3);
		cr_expect_eq(t->f[0].pen, 6871);
		cr_expect_eq(t->f[0].id, 38);
		cr_expect_eq(v[0].len, lens[n]);
		n++;
	}
	cr_expect_eq(n, 3);
	cr_expect_eq(it.err, WEIR_OK);
	/* A value that does not match a fixed element length is refused. */
	wr_init(&w, buf, sizeof(buf));
	cr_expect_eq(ipfix_write_basic_list(&w, 0, 0, 10, 4, el, 1), WEIR_E_INVALID);
}

/* ---- subTemplateList and subTemplateMultiList ---- */

Test(ipfix_list, stl_and_stml_iteration)
{
	static const uint32_t s300[][3] = { { 0, 8, 4 }, { 0, 7, 2 } };
	static const uint32_t s301[][3] = { { 0, 82, TMPL_VARLEN } };
	struct tmpl *ts[2] = { mkt(300, 2, s300), mkt(301, 1, s301) };
	struct tmpl *unknown = mkt(999, 2, s300);
	uint8_t a1[4] = { 10, 0, 0, 1 }, a2[4] = { 10, 0, 0, 2 }, p1[2] = { 0, 80 }, p2[2] = { 1, 187 };
	struct weir_value r300[4] = { { a1, 4 }, { p1, 2 }, { a2, 4 }, { p2, 2 } };
	struct weir_value r301[1] = { { (const uint8_t *)"wan0", 4 } };
	struct ipfix_list_it it;
	struct weir_value v[8];
	const struct tmpl *t;
	uint8_t buf[256];
	struct env e;
	struct wr w;
	int rc;

	env_init(&e, ts, 2);
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(ipfix_write_stl(&w, IPFIX_SEM_ONE_OR_MORE_OF, ts[0], r300, 2), WEIR_OK);
	cr_assert_eq(w.off, 3 + 12);
	cr_expect_eq(ipfix_list_check(&e.le, IPFIX_LIST_STL, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_STL, buf, w.off, 1), WEIR_OK);
	cr_expect_eq(it.tid, 300);
	cr_expect_eq(it.semantic, IPFIX_SEM_ONE_OR_MORE_OF);
	cr_assert_eq(ipfix_list_next(&it, &t, v, 8), 1);
	cr_expect_eq(t->id, 300);
	cr_expect_eq(memcmp(v[0].p, a1, 4), 0);
	cr_assert_eq(ipfix_list_next(&it, &t, v, 8), 1);
	cr_expect_eq(be_uint(v[1].p, 2), 443);
	cr_expect_eq(ipfix_list_next(&it, &t, v, 8), 0);

	/* STML: block 300 (2 records), an unknown template's block, block 301. */
	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(ipfix_write_stml_begin(&w, IPFIX_SEM_ALL_OF), WEIR_OK);
	cr_assert_eq(ipfix_write_stml_block(&w, ts[0], r300, 2), WEIR_OK);
	cr_assert_eq(ipfix_write_stml_block(&w, unknown, r300, 1), WEIR_OK);
	cr_assert_eq(ipfix_write_stml_block(&w, ts[1], r301, 1), WEIR_OK);
	cr_assert_eq(w.off, 1 + (4 + 12) + (4 + 6) + (4 + 5));
	cr_expect_eq(buf[3], 0);
	cr_expect_eq(buf[4], 16);	/* first block length, header included */
	cr_expect_eq(ipfix_list_check(&e.le, IPFIX_LIST_STML, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_STML, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_next(&it, &t, v, 8), 1);
	cr_expect_eq(t->id, 300);
	cr_assert_eq(ipfix_list_next(&it, &t, v, 8), 1);
	cr_expect_eq(memcmp(v[0].p, a2, 4), 0);
	cr_assert_eq(ipfix_list_next(&it, &t, v, 8), 1);
	cr_expect_eq(t->id, 301);
	cr_expect_eq(v[0].len, 4);
	cr_expect_eq(memcmp(v[0].p, "wan0", 4), 0);
	rc = ipfix_list_next(&it, &t, v, 8);
	cr_expect_eq(rc, 0);
	cr_expect_eq(it.skipped, 1);

	/* An STL of a template the cache does not hold: well-formed for the
	 * validator, but the iterator cannot hand its records out. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_write_stl(&w, 0, unknown, r300, 1);
	cr_expect_eq(ipfix_list_check(&e.le, IPFIX_LIST_STL, buf, w.off, 1), WEIR_OK);
	cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_STL, buf, w.off, 1), WEIR_OK);
	cr_expect_eq(ipfix_list_next(&it, &t, v, 8), WEIR_E_NO_TEMPLATE);
	/* Too few value slots. */
	wr_init(&w, buf, sizeof(buf));
	ipfix_write_stl(&w, 0, ts[0], r300, 1);
	cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_STL, buf, w.off, 1), WEIR_OK);
	cr_expect_eq(ipfix_list_next(&it, &t, v, 1), WEIR_E_LIMIT);
	cr_expect_eq(ipfix_list_next(&it, &t, v, 8), WEIR_E_LIMIT);	/* sticky */
	cr_expect_eq(ipfix_list_open(&it, &e.le, 7, buf, w.off, 1), WEIR_E_INVALID);
	cr_expect_eq(ipfix_list_open_field(&it, &e.le, NULL, &ts[0]->f[0], &v[0]), WEIR_E_INVALID);
	tmpl_cache_free(e.c);
	free(ts[0]);
	free(ts[1]);
	free(unknown);
}

/* ---- malformed lists, straight to the walker ---- */

struct bad_list {
	const char *name;
	int kind;
	uint8_t b[24];
	size_t n;
	int err;
};

static const struct bad_list bad_lists[] = {
	{ "empty", IPFIX_LIST_BASIC, { 0 }, 0, WEIR_E_LIST },
	{ "basic header cut", IPFIX_LIST_BASIC, { 3, 0, 10, 0 }, 4, WEIR_E_LIST },
	{ "basic PEN cut", IPFIX_LIST_BASIC, { 3, 0x80, 10, 0, 4, 0, 0 }, 7, WEIR_E_LIST },
	{ "basic not a multiple", IPFIX_LIST_BASIC, { 3, 0, 10, 0, 4, 1, 2, 3, 4, 5, 6 }, 11,
	  WEIR_E_LIST },
	{ "basic zero-length elements with bytes", IPFIX_LIST_BASIC, { 3, 0, 10, 0, 0, 1 }, 6,
	  WEIR_E_LIST },
	{ "basic varlen element past list", IPFIX_LIST_BASIC,
	  { 3, 0, 82, 0xff, 0xff, 2, 'a', 'b', 10, 'c' }, 10, WEIR_E_LIST },
	{ "basic 3-byte element length past list", IPFIX_LIST_BASIC,
	  { 3, 0, 82, 0xff, 0xff, 255, 0x01, 0x00, 'c' }, 9, WEIR_E_LIST },
	{ "stl template id cut", IPFIX_LIST_STL, { 3, 1 }, 2, WEIR_E_LIST },
	{ "stl template id 255", IPFIX_LIST_STL, { 3, 0, 255 }, 3, WEIR_E_LIST },
	{ "stl record cut", IPFIX_LIST_STL, { 3, 1, 44, 10, 0, 0, 1, 0, 80, 10, 0 }, 11,
	  WEIR_E_LIST },
	{ "stml block length 3", IPFIX_LIST_STML, { 3, 1, 44, 0, 3 }, 5, WEIR_E_LIST },
	{ "stml block past list", IPFIX_LIST_STML, { 3, 1, 44, 0, 30, 10, 0, 0, 1, 0, 80 }, 11,
	  WEIR_E_LIST },
	{ "stml block header cut", IPFIX_LIST_STML, { 3, 1, 44, 0 }, 4, WEIR_E_LIST },
	{ "stml template id 0", IPFIX_LIST_STML, { 3, 0, 0, 0, 4 }, 5, WEIR_E_LIST },
	{ "stml records not filling the block", IPFIX_LIST_STML,
	  { 3, 1, 44, 0, 12, 10, 0, 0, 1, 0, 80, 9, 9 }, 13, WEIR_E_LIST },
	/* and well-formed ones, for contrast */
	{ "basic empty content", IPFIX_LIST_BASIC, { 3, 0, 10, 0, 4 }, 5, WEIR_OK },
	{ "stl no records", IPFIX_LIST_STL, { 3, 1, 44 }, 3, WEIR_OK },
	{ "stml no blocks", IPFIX_LIST_STML, { 3 }, 1, WEIR_OK },
	{ "stml empty block", IPFIX_LIST_STML, { 3, 1, 44, 0, 4 }, 5, WEIR_OK },
};

Test(ipfix_list, malformed_walker_table)
{
	static const uint32_t s300[][3] = { { 0, 8, 4 }, { 0, 7, 2 } };
	struct tmpl *t = mkt(300, 2, s300);
	struct ipfix_list_it it;
	struct weir_value v[4];
	const struct tmpl *tt;
	struct env e;

	env_init(&e, &t, 1);
	for (size_t k = 0; k < sizeof(bad_lists) / sizeof(bad_lists[0]); k++) {
		const struct bad_list *bl = &bad_lists[k];
		int err = ipfix_list_check(&e.le, bl->kind, bl->b, bl->n, 1), rc;

		cr_expect_eq(err, bl->err, "%s: check gives %s", bl->name, weir_errname(err));
		/* The iterator meets the same error, at open or on the way. */
		rc = ipfix_list_open(&it, &e.le, bl->kind, bl->b, bl->n, 1);
		if (rc == WEIR_OK)
			while ((rc = ipfix_list_next(&it, &tt, v, 4)) == 1)
				;
		cr_expect_eq(rc, bl->err, "%s: iterator gives %d", bl->name, rc);
	}
	tmpl_cache_free(e.c);
	free(t);
}

/* ---- nesting ---- */

/* basicList nested levels deep: each outer level has one element of IE 291
 * (basicList, variable length) holding the next; the innermost holds three
 * ingressInterface values. */
static size_t nest_basic(uint8_t *out, size_t cap, unsigned levels)
{
	struct weir_value el[3] = { { u32s[0], 4 }, { u32s[1], 4 }, { u32s[2], 4 } };
	uint8_t tmp[2][512];
	struct wr w;
	size_t len;
	int cur = 0;

	wr_init(&w, tmp[0], sizeof(tmp[0]));
	cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ALL_OF, 0, 10, 4, el, 3), WEIR_OK);
	len = w.off;
	for (unsigned l = 1; l < levels; l++) {
		struct weir_value in = { tmp[cur], (uint32_t)len };

		wr_init(&w, tmp[!cur], sizeof(tmp[0]));
		cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ORDERED, 0, IPFIX_IE_BASICLIST,
						    TMPL_VARLEN, &in, 1), WEIR_OK);
		len = w.off;
		cur = !cur;
	}
	cr_assert_leq(len, cap);
	memcpy(out, tmp[cur], len);
	return len;
}

/* subTemplateList nested levels deep through template 500 = (u32, STL):
 * each level one record whose STL holds the next; the innermost empty. */
static size_t nest_stl(uint8_t *out, size_t cap, const struct tmpl *t500, unsigned levels)
{
	uint8_t tmp[2][512];
	struct wr w;
	size_t len;
	int cur = 0;

	wr_init(&w, tmp[0], sizeof(tmp[0]));
	cr_assert_eq(ipfix_write_stl(&w, IPFIX_SEM_ALL_OF, t500, NULL, 0), WEIR_OK);
	len = w.off;
	for (unsigned l = 1; l < levels; l++) {
		uint8_t x[4] = { 0, 0, 0, (uint8_t)l };
		struct weir_value rec[2] = { { x, 4 }, { tmp[cur], (uint32_t)len } };

		wr_init(&w, tmp[!cur], sizeof(tmp[0]));
		cr_assert_eq(ipfix_write_stl(&w, IPFIX_SEM_ALL_OF, t500, rec, 1), WEIR_OK);
		len = w.off;
		cur = !cur;
	}
	cr_assert_leq(len, cap);
	memcpy(out, tmp[cur], len);
	return len;
}

/* Depth of the deepest list met walking it with the iterator. */
static unsigned walk_depth(const struct ipfix_list_env *le, struct ipfix_list_it *it, int *err)
{
	struct weir_value v[8];
	const struct tmpl *t;
	unsigned deepest = it->depth;
	int rc;

	while ((rc = ipfix_list_next(it, &t, v, 8)) == 1) {
		for (unsigned i = 0; i < t->nfields; i++) {
			struct ipfix_list_it sub;
			unsigned d;

			if (!ipfix_list_kind(&t->f[i]))
				continue;
			rc = ipfix_list_open_field(&sub, le, it, &t->f[i], &v[i]);
			if (rc) {
				*err = rc;
				return deepest;
			}
			d = walk_depth(le, &sub, err);
			if (*err)
				return d;
			if (d > deepest)
				deepest = d;
		}
	}
	if (rc < 0)
		*err = rc;
	return deepest;
}

Test(ipfix_list, nesting_bound_walker_and_iterator)
{
	static const uint32_t s500[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_STL, TMPL_VARLEN } };
	struct tmpl *t500 = mkt(500, 2, s500);
	uint8_t buf[1024];
	struct env e;
	size_t n;

	env_init(&e, &t500, 1);
	for (unsigned bound = 1; bound <= 6; bound++) {
		e.le.max_depth = bound == 6 ? 0 : bound;	/* 0: the default, 4 */
		unsigned b = bound == 6 ? WEIR_LIST_DEPTH_DEFAULT : bound;

		for (unsigned lv = 1; lv <= b + 1; lv++) {
			int want = lv <= b ? WEIR_OK : WEIR_E_NESTING, err = 0;
			struct ipfix_list_it it;
			unsigned d;

			n = nest_basic(buf, sizeof(buf), lv);
			cr_expect_eq(ipfix_list_check(&e.le, IPFIX_LIST_BASIC, buf, n, 1), want,
				     "basic: bound %u, %u levels", b, lv);
			cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_BASIC, buf, n, 1), WEIR_OK);
			d = walk_depth(&e.le, &it, &err);
			cr_expect_eq(err, want, "basic iterator: bound %u, %u levels", b, lv);
			if (!err)
				cr_expect_eq(d, lv);

			n = nest_stl(buf, sizeof(buf), t500, lv);
			cr_expect_eq(ipfix_list_check(&e.le, IPFIX_LIST_STL, buf, n, 1), want,
				     "stl: bound %u, %u levels", b, lv);
			err = 0;
			cr_assert_eq(ipfix_list_open(&it, &e.le, IPFIX_LIST_STL, buf, n, 1), WEIR_OK);
			d = walk_depth(&e.le, &it, &err);
			cr_expect_eq(err, want, "stl iterator: bound %u, %u levels", b, lv);
			if (!err)
				cr_expect_eq(d, lv);
		}
	}
	tmpl_cache_free(e.c);
	free(t500);
}

/* ---- lists in decoded messages ---- */

struct seen {
	size_t n;
	uint32_t key[32];		/* first field of each record */
};

static int on_rec(const struct weir_record *rec, void *user)
{
	struct seen *s = user;

	if (s->n < 32)
		s->key[s->n] = (uint32_t)be_uint(rec->v[0].p, rec->v[0].len);
	s->n++;
	return 0;
}

struct dfx {
	struct tmpl_cache *c;
	struct weir_ctx ctx;
	struct seen seen;
	struct weir_exporter e;
};

static void dfx_init(struct dfx *f, unsigned max_depth)
{
	struct tmpl_limits lim;

	memset(f, 0, sizeof(*f));
	tmpl_limits_default(&lim);
	f->c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(f->c);
	f->ctx.cache = f->c;
	f->ctx.on_record = on_rec;
	f->ctx.user = &f->seen;
	f->ctx.max_list_depth = max_depth;
	f->e = exporter();
}

/* One message: the templates, then a data set of template tid whose records
 * are (u32 key, list bytes) pairs. */
static size_t list_msg(uint8_t *buf, size_t cap, struct tmpl **ts, size_t nt, uint16_t tid,
		       const uint8_t (*lists)[1024], const size_t *lens, size_t nrec)
{
	struct ipfix_wmsg m;
	struct wr w;
	int n;

	wr_init(&w, buf, cap);
	ipfix_msg_begin(&m, &w, 1, 0, 0);
	ipfix_set_begin(&m, IPFIX_SET_TEMPLATE);
	for (size_t i = 0; i < nt; i++)
		cr_assert_eq(ipfix_write_template(&m, ts[i]), WEIR_OK);
	ipfix_set_begin(&m, tid);
	for (size_t r = 0; r < nrec; r++) {
		uint8_t key[4] = { 0, 0, 0, (uint8_t)(r + 1) };
		struct weir_value v[2] = { { key, 4 }, { lists[r], (uint32_t)lens[r] } };

		cr_assert_eq(ipfix_write_data(&m, ts[0], v), WEIR_OK);
	}
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* Records with a list nested past the bound, or malformed, are dropped and
 * counted; the records around them come out. */
Test(ipfix_list, decoder_drops_bad_list_records)
{
	static const uint32_t s400[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_BASICLIST, TMPL_VARLEN } };
	static const uint32_t s401[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_STML, TMPL_VARLEN } };
	static const uint32_t s300[][3] = { { 0, 8, 4 }, { 0, 7, 2 } };
	struct tmpl *ts[3] = { mkt(400, 2, s400), mkt(401, 2, s401), mkt(300, 2, s300) };
	uint8_t (*lists)[1024] = calloc(6, 1024), buf[8192];
	size_t lens[6], n;
	struct dfx f;

	dfx_init(&f, 0);
	lens[0] = nest_basic(lists[0], 1024, 4);	/* at the default bound: ok */
	lens[1] = nest_basic(lists[1], 1024, 5);	/* one past: WEIR_E_NESTING */
	lens[2] = nest_basic(lists[2], 1024, 1);
	memcpy(lists[3], "\x03\x00\x0a\x00\x04\x01\x02", 7);	/* not a multiple of 4 */
	lens[3] = 7;
	lens[4] = nest_basic(lists[4], 1024, 2);
	n = list_msg(buf, sizeof(buf), ts, 1, 400, (const uint8_t (*)[1024])lists, lens, 5);
	cr_expect_eq(ipfix_decode(&f.ctx, &f.e, buf, n, NOW), WEIR_E_NESTING);
	cr_assert_eq(f.seen.n, 3);
	cr_expect_eq(f.seen.key[0], 1);
	cr_expect_eq(f.seen.key[1], 3);
	cr_expect_eq(f.seen.key[2], 5);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NESTING], 1);
	cr_expect_eq(f.ctx.errors[-WEIR_E_LIST], 1);
	cr_expect_eq(f.ctx.records, 3);
	/* The records still count for the sequence number. */
	cr_expect_eq(tmpl_source_get(f.c, &f.e, 0, 0)->seq_next, 5);

	/* A bound of 2 from the context. */
	tmpl_cache_free(f.c);
	dfx_init(&f, 2);
	lens[0] = nest_basic(lists[0], 1024, 2);
	lens[1] = nest_basic(lists[1], 1024, 3);
	n = list_msg(buf, sizeof(buf), ts, 1, 400, (const uint8_t (*)[1024])lists, lens, 2);
	cr_expect_eq(ipfix_decode(&f.ctx, &f.e, buf, n, NOW), WEIR_E_NESTING);
	cr_expect_eq(f.seen.n, 1);

	/* STML: a list whose inner record is malformed. */
	tmpl_cache_free(f.c);
	dfx_init(&f, 0);
	{
		uint8_t a[4] = { 10, 0, 0, 1 }, p[2] = { 0, 22 };
		struct weir_value r[2] = { { a, 4 }, { p, 2 } };
		struct tmpl *t2[2] = { ts[1], ts[2] };
		struct wr w;

		wr_init(&w, lists[0], 1024);
		ipfix_write_stml_begin(&w, IPFIX_SEM_ALL_OF);
		ipfix_write_stml_block(&w, ts[2], r, 1);
		lens[0] = w.off;
		memcpy(lists[1], lists[0], lens[0]);
		lists[1][4] = 9;	/* block length 9: one record of 6 and 1 byte over */
		lens[1] = lens[0];
		n = list_msg(buf, sizeof(buf), t2, 2, 401, (const uint8_t (*)[1024])lists, lens, 2);
		cr_expect_eq(ipfix_decode(&f.ctx, &f.e, buf, n, NOW), WEIR_E_LIST);
		cr_expect_eq(f.seen.n, 1);
		cr_expect_eq(f.seen.key[0], 1);
	}
	/* A list field whose own length runs past the set: the record framing
	 * is lost, so that is WEIR_E_VARLEN and the set ends there. */
	{
		struct ipfix_wmsg m;
		struct wr w;
		int len;

		wr_init(&w, buf, sizeof(buf));
		ipfix_msg_begin(&m, &w, 1, 0, 0);
		ipfix_set_begin(&m, 401);
		wr_u32(&w, 77);
		wr_u8(&w, 255);
		wr_u16(&w, 500);
		wr_bytes(&w, lists[2], 17);
		len = ipfix_msg_end(&m);
		f.seen.n = 0;
		cr_expect_eq(ipfix_decode(&f.ctx, &f.e, buf, (size_t)len, NOW), WEIR_E_VARLEN);
		cr_expect_eq(f.seen.n, 0);
	}
	tmpl_cache_free(f.c);
	for (int i = 0; i < 3; i++)
		free(ts[i]);
	free(lists);
}

/* ---- YAF: a subTemplateMultiList in each flow record ---- */

struct yaf_seen {
	struct ipfix_list_env le;
	size_t records, lists;
	uint8_t sem;
	uint16_t tid;
	uint8_t smac[6], dmac[6];
	int err;
};

static int yaf_rec(const struct weir_record *rec, void *user)
{
	struct yaf_seen *y = user;
	const struct tmpl *t = rec->t;

	y->records++;
	y->le.src = rec->msg->src;
	y->le.now_ns = rec->msg->recv_time_ns;
	for (unsigned i = 0; i < t->nfields; i++) {
		struct ipfix_list_it it;
		struct weir_value v[8];
		const struct tmpl *bt;

		if (ipfix_list_kind(&t->f[i]) != IPFIX_LIST_STML)
			continue;
		y->lists++;
		y->err = ipfix_list_open_field(&it, &y->le, NULL, &t->f[i], &rec->v[i]);
		if (y->err)
			return 0;
		y->sem = it.semantic;
		if (ipfix_list_next(&it, &bt, v, 8) != 1) {
			y->err = it.err ? it.err : -1;
			return 0;
		}
		y->tid = bt->id;
		if (bt->nfields == 2 && v[0].len == 6 && v[1].len == 6) {
			memcpy(y->smac, v[0].p, 6);
			memcpy(y->dmac, v[1].p, 6);
		}
		if (ipfix_list_next(&it, &bt, v, 8) != 0)
			y->err = -2;
	}
	return 0;
}

static size_t load(const char *name, uint8_t *buf, size_t cap)
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
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

/* Values as tshark shows the list: 03 c0 04 00 10 00 0c 29 70 86 09 00 0c 29 8d af c3
 * (allOf; template 49156 = sourceMacAddress, destinationMacAddress). */
Test(ipfix_list, yaf_stml_macs)
{
	static const char *files[] = {
		"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
		"ipfix_test_yaf_data45841.dat",
	};
	static const uint8_t smac[6] = { 0x00, 0x0c, 0x29, 0x70, 0x86, 0x09 };
	static const uint8_t dmac[6] = { 0x00, 0x0c, 0x29, 0x8d, 0xaf, 0xc3 };
	struct weir_exporter e = exporter();
	struct tmpl_limits lim;
	struct weir_ctx ctx;
	struct yaf_seen y;
	uint8_t buf[4096];

	memset(&ctx, 0, sizeof(ctx));
	memset(&y, 0, sizeof(y));
	tmpl_limits_default(&lim);
	ctx.cache = tmpl_cache_new(&lim, NULL);
	ctx.on_record = yaf_rec;
	ctx.user = &y;
	for (size_t k = 0; k < 3; k++) {
		size_t n = load(files[k], buf, sizeof(buf));

		cr_assert_eq(ipfix_decode(&ctx, &e, buf, n, NOW), WEIR_OK, "%s", files[k]);
	}
	cr_assert_eq(y.records, 1);
	cr_assert_eq(y.lists, 1);
	cr_expect_eq(y.err, 0);
	cr_expect_eq(y.sem, IPFIX_SEM_ALL_OF);
	cr_expect_eq(y.tid, 49156);
	cr_expect_eq(memcmp(y.smac, smac, 6), 0);
	cr_expect_eq(memcmp(y.dmac, dmac, 6), 0);
	tmpl_cache_free(ctx.cache);
}

/* ---- the in-place variable-length writer ---- */

Test(ipfix_list, varlen_in_place)
{
	struct weir_value el[2] = { { u32s[0], 4 }, { u32s[1], 4 } };
	struct ipfix_list_env le = { 0 };
	uint8_t buf[64];
	struct wr w;
	struct rd r;
	size_t at;
	uint16_t n;

	wr_init(&w, buf, sizeof(buf));
	at = ipfix_varlen_begin(&w);
	cr_assert_eq(at, 0);
	ipfix_write_basic_list(&w, 0, 0, 10, 4, el, 2);
	cr_assert_eq(ipfix_varlen_end(&w, at), WEIR_OK);
	rd_init(&r, buf, w.off);
	cr_expect_eq(rd_u8(&r), 255);
	n = rd_u16(&r);
	cr_expect_eq(n, 5 + 8);
	cr_expect_eq(rd_left(&r), n);
	cr_expect_eq(ipfix_list_check(&le, IPFIX_LIST_BASIC, rd_ptr(&r), n, 1), WEIR_OK);
	wr_init(&w, buf, 2);
	cr_expect_eq(ipfix_varlen_begin(&w), SIZE_MAX);
	cr_expect_eq(ipfix_varlen_end(&w, SIZE_MAX), WEIR_E_NOSPACE);
}

/* ---- corrupted messages: no crash, and validator and iterator agree ---- */

struct agree {
	struct ipfix_list_env le;
	size_t records, walked;
	int bad;		/* a handed-out record whose lists the iterator rejects */
};

static int agree_rec(const struct weir_record *rec, void *user)
{
	struct agree *a = user;
	const struct tmpl *t = rec->t;

	a->records++;
	a->le.src = rec->msg->src;
	a->le.now_ns = rec->msg->recv_time_ns;
	a->le.ies = NULL;
	for (unsigned i = 0; i < t->nfields; i++) {
		struct ipfix_list_it it;
		int err = 0;

		if (!ipfix_list_kind(&t->f[i]))
			continue;
		if (ipfix_list_open_field(&it, &a->le, NULL, &t->f[i], &rec->v[i])) {
			a->bad++;
			continue;
		}
		walk_depth(&a->le, &it, &err);
		/* Records of unknown templates cannot be walked; anything
		 * else the validator let through must walk cleanly. */
		if (err && err != WEIR_E_NO_TEMPLATE)
			a->bad++;
		a->walked++;
	}
	return 0;
}

Test(ipfix_list, corrupted_messages)
{
	static const uint32_t s400[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_BASICLIST, TMPL_VARLEN } };
	static const uint32_t s401[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_STML, TMPL_VARLEN } };
	static const uint32_t s500[][3] = { { 0, 1, 4 }, { 0, IPFIX_IE_STL, TMPL_VARLEN } };
	static const uint32_t s300[][3] = { { 0, 8, 4 }, { 0, 82, TMPL_VARLEN } };
	struct tmpl *ts[4] = { mkt(400, 2, s400), mkt(401, 2, s401), mkt(500, 2, s500),
			       mkt(300, 2, s300) };
	uint8_t (*lists)[1024] = calloc(4, 1024), msg[8192], cut[8192];
	uint8_t a4[4] = { 10, 1, 2, 3 };
	struct weir_value r300[4] = { { a4, 4 }, { (const uint8_t *)"x", 1 }, { a4, 4 },
				      { (const uint8_t *)"yy", 2 } };
	struct ipfix_wmsg m;
	struct agree ag;
	struct wr w;
	uint64_t seed = 42;
	size_t len, total = 0;
	int n;

	/* templates, then one record of each list kind */
	wr_init(&w, msg, sizeof(msg));
	ipfix_msg_begin(&m, &w, 1, 0, 0);
	ipfix_set_begin(&m, IPFIX_SET_TEMPLATE);
	for (int i = 0; i < 4; i++)
		ipfix_write_template(&m, ts[i]);
	{
		uint8_t k[4] = { 0, 0, 0, 1 };
		size_t l0 = nest_basic(lists[0], 1024, 3), l1;
		struct weir_value v[2] = { { k, 4 }, { lists[0], (uint32_t)l0 } };
		struct wr lw;

		ipfix_set_begin(&m, 400);
		ipfix_write_data(&m, ts[0], v);
		wr_init(&lw, lists[1], 1024);
		ipfix_write_stml_begin(&lw, IPFIX_SEM_ALL_OF);
		ipfix_write_stml_block(&lw, ts[3], r300, 2);
		ipfix_write_stml_block(&lw, ts[0], v, 1);
		l1 = lw.off;
		v[1] = (struct weir_value){ lists[1], (uint32_t)l1 };
		ipfix_set_begin(&m, 401);
		ipfix_write_data(&m, ts[1], v);
		v[1].len = (uint32_t)nest_stl(lists[2], 1024, ts[2], 3);
		v[1].p = lists[2];
		ipfix_set_begin(&m, 500);
		ipfix_write_data(&m, ts[2], v);
	}
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	len = (size_t)n;

	for (int iter = 0; iter < 20000; iter++) {
		struct weir_exporter e = exporter();
		struct tmpl_limits lim;
		struct weir_ctx ctx;
		int flips = 1 + iter % 3;

		memcpy(cut, msg, len);
		for (int k = 0; k < flips; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* keep the header so the message gets past it */
			cut[16 + (seed >> 33) % (len - 16)] ^= (uint8_t)(1u << ((seed >> 20) & 7));
		}
		memset(&ctx, 0, sizeof(ctx));
		memset(&ag, 0, sizeof(ag));
		tmpl_limits_default(&lim);
		ctx.cache = tmpl_cache_new(&lim, NULL);
		ctx.on_record = agree_rec;
		ctx.user = &ag;
		ctx.max_list_depth = 1 + iter % 4;
		ipfix_decode(&ctx, &e, cut, len, NOW);
		cr_assert_eq(ag.bad, 0, "iteration %d: validator and iterator disagree", iter);
		total += ag.walked;
		tmpl_cache_free(ctx.cache);
	}
	cr_expect_gt(total, 1000);	/* lists were walked, not all rejected */
	for (int i = 0; i < 4; i++)
		free(ts[i]);
	free(lists);
}
