/* ipfix_list.c - RFC 6313 list walkers: validation and iteration. */
#include <string.h>

#include "ipfix.h"
#include "ipfix_list.h"

static unsigned depth_bound(const struct ipfix_list_env *env)
{
	unsigned m = env->max_depth ? env->max_depth : WEIR_LIST_DEPTH_DEFAULT;

	return m > IPFIX_LIST_DEPTH_HARD ? IPFIX_LIST_DEPTH_HARD : m;
}

static int kind_of_type(int type)
{
	switch (type) {
	case IE_T_BASICLIST:
		return IPFIX_LIST_BASIC;
	case IE_T_STL:
		return IPFIX_LIST_STL;
	case IE_T_STML:
		return IPFIX_LIST_STML;
	default:
		return IPFIX_LIST_NONE;
	}
}

static int kind_of_iana(uint32_t pen, uint16_t id)
{
	if (pen != IE_PEN_IANA)
		return IPFIX_LIST_NONE;
	switch (id) {
	case IPFIX_IE_BASICLIST:
		return IPFIX_LIST_BASIC;
	case IPFIX_IE_STL:
		return IPFIX_LIST_STL;
	case IPFIX_IE_STML:
		return IPFIX_LIST_STML;
	default:
		return IPFIX_LIST_NONE;
	}
}

int ipfix_list_kind(const struct tmpl_field *f)
{
	if (f->def)
		return kind_of_type(f->def->type);
	return kind_of_iana(f->pen, f->id);
}

int ipfix_list_kind_ie(const struct ie_registry *ies, uint32_t pen, uint16_t id)
{
	const struct ie_def *def = ie_find(ies, pen, id);

	if (def)
		return kind_of_type(def->type);
	return kind_of_iana(pen, id);
}

int ipfix_record_read(struct rd *r, const struct tmpl *t, struct weir_value *v)
{
	for (unsigned i = 0; i < t->nfields; i++) {
		size_t n = t->f[i].len;

		if (n == TMPL_VARLEN) {
			n = rd_u8(r);
			if (n == IPFIX_VARLEN_LONG)
				n = rd_u16(r);
		}
		v[i].p = rd_bytes(r, n);
		v[i].len = (uint32_t)n;
		if (r->err)
			return WEIR_E_VARLEN;
	}
	return WEIR_OK;
}

/* Shortest record of t: fixed lengths plus one byte per variable field. */
static uint32_t rec_min_len(const struct tmpl *t)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < t->nfields; i++)
		n += t->f[i].len == TMPL_VARLEN ? 1 : t->f[i].len;
	return n;
}

static int check_list(const struct ipfix_list_env *env, int kind, const uint8_t *p,
		      size_t len, unsigned depth);

/* Records of t back to back filling r exactly; lists in them are at depth. */
static int check_records(const struct ipfix_list_env *env, const struct tmpl *t,
			 struct rd *r, unsigned depth)
{
	uint32_t minl = rec_min_len(t);
	int simple = 1;

	for (unsigned i = 0; i < t->nfields && simple; i++)
		if (t->f[i].len == TMPL_VARLEN || ipfix_list_kind(&t->f[i]))
			simple = 0;
	if (minl == 0)
		return rd_left(r) ? WEIR_E_LIST : WEIR_OK;
	if (simple)
		return rd_left(r) % minl ? WEIR_E_LIST : WEIR_OK;

	/* Each pass consumes at least minl >= 1 bytes. */
	while (rd_left(r) > 0) {
		for (unsigned i = 0; i < t->nfields; i++) {
			size_t n = t->f[i].len;
			const uint8_t *q;
			int k, err;

			if (n == TMPL_VARLEN) {
				n = rd_u8(r);
				if (n == IPFIX_VARLEN_LONG)
					n = rd_u16(r);
			}
			q = rd_bytes(r, n);
			if (r->err)
				return WEIR_E_LIST;
			k = ipfix_list_kind(&t->f[i]);
			if (k) {
				err = check_list(env, k, q, n, depth);
				if (err)
					return err;
			}
		}
	}
	return WEIR_OK;
}

static int check_basic(const struct ipfix_list_env *env, struct rd *r, unsigned depth)
{
	uint16_t fid = rd_u16(r);
	uint16_t elen = rd_u16(r);
	uint32_t pen = fid & IPFIX_ENTERPRISE_BIT ? rd_u32(r) : 0;
	int k;

	if (r->err)
		return WEIR_E_LIST;
	k = ipfix_list_kind_ie(env->ies, pen, fid & ~IPFIX_ENTERPRISE_BIT);
	if (elen == TMPL_VARLEN) {
		while (rd_left(r) > 0) {
			size_t n = rd_u8(r);
			const uint8_t *q;

			if (n == IPFIX_VARLEN_LONG)
				n = rd_u16(r);
			q = rd_bytes(r, n);
			if (r->err)
				return WEIR_E_LIST;
			if (k) {
				int err = check_list(env, k, q, n, depth + 1);

				if (err)
					return err;
			}
		}
		return WEIR_OK;
	}
	if (elen == 0)
		return rd_left(r) ? WEIR_E_LIST : WEIR_OK;
	if (rd_left(r) % elen)
		return WEIR_E_LIST;
	while (k && rd_left(r) > 0) {
		const uint8_t *q = rd_bytes(r, elen);
		int err = check_list(env, k, q, elen, depth + 1);

		if (err)
			return err;
	}
	return WEIR_OK;
}

static int check_stml(const struct ipfix_list_env *env, struct rd *r, unsigned depth)
{
	/* Each block consumes at least its 4-byte header. */
	while (rd_left(r) > 0) {
		uint16_t tid = rd_u16(r);
		uint16_t blen = rd_u16(r);
		const struct tmpl *t;
		struct rd b;
		int err;

		if (r->err || blen < 4 || tid < IPFIX_SET_DATA_MIN)
			return WEIR_E_LIST;
		if (!rd_sub(r, blen - 4u, &b))
			return WEIR_E_LIST;
		t = env->src ? tmpl_find(env->src, tid, env->now_ns) : NULL;
		if (!t)
			continue;
		err = check_records(env, t, &b, depth + 1);
		if (err)
			return err;
	}
	return WEIR_OK;
}

static int check_list(const struct ipfix_list_env *env, int kind, const uint8_t *p,
		      size_t len, unsigned depth)
{
	struct rd r;
	const struct tmpl *t;
	uint16_t tid;

	if (depth > depth_bound(env))
		return WEIR_E_NESTING;
	rd_init(&r, p, len);
	(void)rd_u8(&r);	/* semantic: any value is well-formed */
	if (r.err)
		return WEIR_E_LIST;
	switch (kind) {
	case IPFIX_LIST_BASIC:
		return check_basic(env, &r, depth);
	case IPFIX_LIST_STL:
		tid = rd_u16(&r);
		if (r.err || tid < IPFIX_SET_DATA_MIN)
			return WEIR_E_LIST;
		t = env->src ? tmpl_find(env->src, tid, env->now_ns) : NULL;
		return t ? check_records(env, t, &r, depth + 1) : WEIR_OK;
	case IPFIX_LIST_STML:
		return check_stml(env, &r, depth);
	default:
		return WEIR_E_INVALID;
	}
}

int ipfix_list_check(const struct ipfix_list_env *env, int kind, const uint8_t *p,
		     size_t len, unsigned depth)
{
	return check_list(env, kind, p, len, depth);
}

/* ---- iterator ---- */

static int it_fail(struct ipfix_list_it *it, int err)
{
	if (!it->err)
		it->err = err;
	return it->err;
}

static int open_basic(struct ipfix_list_it *it)
{
	struct tmpl *t = &it->elem.t;
	uint16_t fid = rd_u16(&it->r);
	uint16_t elen = rd_u16(&it->r);
	uint32_t pen = fid & IPFIX_ENTERPRISE_BIT ? rd_u32(&it->r) : 0;

	if (it->r.err)
		return it_fail(it, WEIR_E_LIST);
	memset(&it->elem, 0, sizeof(it->elem));
	t->nfields = 1;
	t->proto = IPFIX_VERSION;
	t->has_varlen = elen == TMPL_VARLEN;
	t->min_len = elen == TMPL_VARLEN ? 1 : elen;
	t->sampler_field = -1;
	t->rate_field = -1;
	t->f[0].pen = pen;
	t->f[0].id = fid & ~IPFIX_ENTERPRISE_BIT;
	t->f[0].len = elen;
	t->f[0].def = ie_find(it->env->ies, pen, t->f[0].id);
	if (elen != TMPL_VARLEN && (elen == 0 ? rd_left(&it->r) != 0 : rd_left(&it->r) % elen))
		return it_fail(it, WEIR_E_LIST);
	it->t = t;
	return WEIR_OK;
}

int ipfix_list_open(struct ipfix_list_it *it, const struct ipfix_list_env *env, int kind,
		    const uint8_t *p, size_t len, unsigned depth)
{
	it->env = env;
	it->depth = depth;
	it->kind = (uint8_t)kind;
	it->semantic = 0;
	it->tid = 0;
	it->skipped = 0;
	it->err = WEIR_OK;
	it->t = NULL;
	rd_init(&it->r, p, len);
	rd_init(&it->blk, p, 0);
	if (kind < IPFIX_LIST_BASIC || kind > IPFIX_LIST_STML)
		return it_fail(it, WEIR_E_INVALID);
	if (depth > depth_bound(env))
		return it_fail(it, WEIR_E_NESTING);
	it->semantic = rd_u8(&it->r);
	if (it->r.err)
		return it_fail(it, WEIR_E_LIST);
	switch (kind) {
	case IPFIX_LIST_BASIC:
		return open_basic(it);
	case IPFIX_LIST_STL:
		it->tid = rd_u16(&it->r);
		if (it->r.err || it->tid < IPFIX_SET_DATA_MIN)
			return it_fail(it, WEIR_E_LIST);
		it->t = env->src ? tmpl_find(env->src, it->tid, env->now_ns) : NULL;
		if (it->t && rec_min_len(it->t) == 0 && rd_left(&it->r))
			return it_fail(it, WEIR_E_LIST);
		return WEIR_OK;
	default:
		return WEIR_OK;
	}
}

int ipfix_list_open_field(struct ipfix_list_it *it, const struct ipfix_list_env *env,
			  const struct ipfix_list_it *parent, const struct tmpl_field *f,
			  const struct weir_value *v)
{
	int kind = ipfix_list_kind(f);

	if (!kind) {
		memset(it, 0, sizeof(*it));
		it->env = env;
		return it_fail(it, WEIR_E_INVALID);
	}
	return ipfix_list_open(it, env, kind, v->p, v->len, parent ? parent->depth + 1 : 1);
}

static int next_record(struct ipfix_list_it *it, struct rd *r, const struct tmpl **t,
		       struct weir_value *v, size_t cap)
{
	if (it->t->nfields > cap)
		return it_fail(it, WEIR_E_LIMIT);
	if (ipfix_record_read(r, it->t, v))
		return it_fail(it, WEIR_E_LIST);
	*t = it->t;
	return 1;
}

/* Open the next STML block that has a known template; 0 at the end. */
static int next_block(struct ipfix_list_it *it)
{
	while (rd_left(&it->r) > 0) {
		uint16_t tid = rd_u16(&it->r);
		uint16_t blen = rd_u16(&it->r);

		if (it->r.err || blen < 4 || tid < IPFIX_SET_DATA_MIN)
			return it_fail(it, WEIR_E_LIST);
		if (!rd_sub(&it->r, blen - 4u, &it->blk))
			return it_fail(it, WEIR_E_LIST);
		it->tid = tid;
		it->t = it->env->src ? tmpl_find(it->env->src, tid, it->env->now_ns) : NULL;
		if (!it->t) {
			it->skipped++;
			continue;
		}
		if (rec_min_len(it->t) == 0) {
			if (rd_left(&it->blk))
				return it_fail(it, WEIR_E_LIST);
			continue;
		}
		if (rd_left(&it->blk))
			return 1;
	}
	return 0;
}

int ipfix_list_next(struct ipfix_list_it *it, const struct tmpl **t, struct weir_value *v,
		    size_t cap)
{
	int rc;

	if (it->err)
		return it->err;
	switch (it->kind) {
	case IPFIX_LIST_BASIC:
		if (rd_left(&it->r) == 0)
			return 0;
		return next_record(it, &it->r, t, v, cap);
	case IPFIX_LIST_STL:
		if (rd_left(&it->r) == 0)
			return 0;
		if (!it->t)
			return it_fail(it, WEIR_E_NO_TEMPLATE);
		return next_record(it, &it->r, t, v, cap);
	case IPFIX_LIST_STML:
		if (rd_left(&it->blk) == 0) {
			rc = next_block(it);
			if (rc <= 0)
				return rc;
		}
		return next_record(it, &it->blk, t, v, cap);
	default:
		return it_fail(it, WEIR_E_INVALID);
	}
}
