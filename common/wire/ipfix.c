/* ipfix.c - IPFIX (RFC 7011) decoder. Decisions where the RFC leaves room
 * are listed in ipfix.h. */
#include <string.h>

#include "ipfix.h"
#include "ipfix_list.h"

/* Header facts saved with a data set held for its template; the receive
 * time also tells a set held earlier in the same message. */
struct ipfix_hold {
	uint64_t recv_ns;
	uint32_t export_time;
	uint32_t sequence;
};

struct ipfix_dec {
	struct weir_ctx *ctx;
	struct weir_msg msg;
	struct tmpl_source *src;	/* NULL: no cache, or the source was refused */
	struct ipfix_list_env lenv;
	int err;			/* first error met */
	int stop;			/* the callback asked to stop */
	uint32_t nrec;			/* data records of this message: sequence step */
	uint32_t nflow;			/* those of them of non-options templates */
	uint32_t held;			/* sets of this message not decoded (template unknown) */
};

/* Facts about a template, computed once per data set so the per-record
 * path only places pointers. */
struct set_plan {
	const struct tmpl *t;
	uint32_t reclen;		/* all fields fixed: the record length, else 0 */
	uint32_t minlen;		/* shortest record (variable fields at 1 byte) */
	uint16_t nlist;
	uint8_t slow;			/* lists, options or per-record sampling */
	uint8_t is_options;
	uint32_t rate;			/* default rate of the set */
	uint64_t last_sid;		/* sampler id cache for sampler_field */
	uint32_t last_rate;
	uint8_t last_valid;
	uint32_t off[TMPL_MAX_FIELDS];
	uint16_t list_i[TMPL_MAX_FIELDS];
	uint8_t list_k[TMPL_MAX_FIELDS];
};

union tmpl_buf {
	struct tmpl t;
	uint8_t raw[sizeof(struct tmpl) + TMPL_MAX_FIELDS * sizeof(struct tmpl_field)];
};

struct pend_ctx {
	struct ipfix_dec *d;
	const struct tmpl *t;
};

static void dec_fail(struct ipfix_dec *d, int err)
{
	weir_count(d->ctx, err);
	if (!d->err)
		d->err = err;
}

int ipfix_msg_length(const uint8_t *buf, size_t len, size_t *msg_len)
{
	struct rd r;
	uint16_t n;

	/* Each field is judged as soon as its bytes are there: a stream
	 * that is not IPFIX is told after 2 bytes, not 16. */
	rd_init(&r, buf, len);
	if (len < 2)
		return WEIR_E_TRUNCATED;
	if (rd_u16(&r) != IPFIX_VERSION)
		return WEIR_E_VERSION;
	if (len < 4)
		return WEIR_E_TRUNCATED;
	n = rd_u16(&r);
	if (n < IPFIX_HDR_LEN)
		return WEIR_E_LENGTH;
	if (n > len)
		return WEIR_E_TRUNCATED;
	*msg_len = n;
	return WEIR_OK;
}

/* ---- sampling (RFC 7011 options data, RFC 5477 PSAMP parameters) ---- */

static uint32_t rate_clamp(uint64_t r)
{
	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

/* Rate announced by an options record; teaches the source. 0 when the
 * record carries no sampling parameters. */
static uint32_t opt_sampling(struct ipfix_dec *d, const struct tmpl *t,
			     const struct weir_value *v)
{
	uint64_t sid = 0, interval = 0, space = 0, sint = 0, rnd = 0, size = 0, pop = 0;
	uint64_t algo = 0, x_sum;
	double prob = 0;
	int has_pi = 0;
	uint32_t rate = 0;

	for (unsigned i = 0; i < t->nfields; i++) {
		const struct tmpl_field *f = &t->f[i];
		uint32_t n = v[i].len;
		uint64_t x;

		if (f->pen != IE_PEN_IANA || n == 0 || n > 8)
			continue;
		x = be_uint(v[i].p, n);
		switch (f->id) {
		case 34:	/* samplingInterval */
			sint = x;
			break;
		case 48:	/* samplerId */
		case 302:	/* selectorId */
			sid = x;
			break;
		case 50:	/* samplerRandomInterval */
			rnd = x;
			break;
		case 304:	/* selectorAlgorithm */
			algo = x;
			break;
		case 305:	/* samplingPacketInterval */
			interval = x;
			has_pi = 1;
			break;
		case 306:	/* samplingPacketSpace */
			space = x;
			break;
		case 309:	/* samplingSize */
			size = x;
			break;
		case 310:	/* samplingPopulation */
			pop = x;
			break;
		case 311:	/* samplingProbability, float64 (or reduced float32) */
			if (n == 8) {
				memcpy(&prob, &x, 8);
			} else if (n == 4) {
				uint32_t y = (uint32_t)x;
				float p32;

				memcpy(&p32, &y, 4);
				prob = p32;
			}
			break;
		default:
			break;
		}
	}
	/* selectorAlgorithm (RFC 5477 section 8.2.1): 1 systematic count-based,
	 * 3 random n-out-of-N, 4 uniform probabilistic; others give no rate. */
	if ((algo == 0 || algo == 1) && has_pi && interval > 0)
		rate = __builtin_add_overflow(interval, space, &x_sum) ? UINT32_MAX :
		       rate_clamp(x_sum / interval);
	else if ((algo == 0 || algo == 3) && size > 0 && pop >= size)
		rate = rate_clamp(pop / size);
	else if ((algo == 0 || algo == 4) && prob > 0 && prob <= 1)
		rate = 1.0 / prob >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)(1.0 / prob + 0.5);
	else if (algo == 0 && sint > 0)
		rate = rate_clamp(sint);
	else if (algo == 0 && rnd > 0)
		rate = rate_clamp(rnd);
	if (rate && d->src)
		tmpl_sampler_set(d->src, sid, rate);
	return rate;
}

static uint32_t sampler_rate(struct ipfix_dec *d, struct set_plan *sp, uint64_t sid)
{
	uint32_t rate;

	if (sp->last_valid && sp->last_sid == sid)
		return sp->last_rate;
	rate = d->src ? tmpl_sampler_get(d->src, sid) : 0;
	sp->last_sid = sid;
	sp->last_rate = rate;
	sp->last_valid = 1;
	return rate;
}

/* ---- data sets ---- */

/* What every record of the set does not need to recompute. 0, or an error
 * for a template that cannot frame records. */
static int plan_set(struct ipfix_dec *d, struct set_plan *sp, const struct tmpl *t,
		    struct weir_value *v)
{
	uint32_t off = 0, minlen = 0;
	int varlen = 0;

	sp->t = t;
	sp->nlist = 0;
	if (t->nfields > TMPL_MAX_FIELDS)
		return WEIR_E_TEMPLATE;
	for (unsigned i = 0; i < t->nfields; i++) {
		uint16_t fl = t->f[i].len;
		int k;

		if (fl == TMPL_VARLEN) {
			varlen = 1;
			minlen += 1;
		} else {
			sp->off[i] = off;
			off += fl;
			minlen += fl;
			v[i].len = fl;
		}
		/* A list of length 0 in the template is no list: a field of
		 * length 0 carries no value (RFC 7011 section 7). */
		k = fl ? ipfix_list_kind(&t->f[i]) : 0;
		if (k) {
			sp->list_i[sp->nlist] = (uint16_t)i;
			sp->list_k[sp->nlist++] = (uint8_t)k;
		}
	}
	if (minlen == 0)
		return WEIR_E_TEMPLATE;
	sp->minlen = minlen;
	sp->reclen = varlen ? 0 : off;
	sp->is_options = t->scope_count > 0;
	sp->last_valid = 0;
	sp->rate = d->src ? tmpl_sampler_get(d->src, 0) : 0;
	sp->slow = sp->nlist || sp->is_options ||
		   (t->rate_field >= 0 && t->rate_field < t->nfields) ||
		   (t->sampler_field >= 0 && t->sampler_field < t->nfields);
	return WEIR_OK;
}

/* Lists, options and per-record sampling of one record; 0 to hand it out,
 * else the error that drops it. */
static int record_slow(struct ipfix_dec *d, struct set_plan *sp, struct weir_record *rec,
		       const struct weir_value *v)
{
	const struct tmpl *t = sp->t;

	for (unsigned k = 0; k < sp->nlist; k++) {
		unsigned i = sp->list_i[k];
		int err = ipfix_list_check(&d->lenv, sp->list_k[k], v[i].p, v[i].len, 1);

		if (err)
			return err;
	}
	if (sp->is_options) {
		rec->sampling_rate = opt_sampling(d, t, v);
		return WEIR_OK;
	}
	rec->sampling_rate = sp->rate;
	if (t->rate_field >= 0 && t->rate_field < t->nfields) {
		const struct weir_value *x = &v[t->rate_field];
		uint64_t r = x->len && x->len <= 8 ? be_uint(x->p, x->len) : 0;

		if (r) {
			rec->sampling_rate = rate_clamp(r);
			return WEIR_OK;
		}
	}
	if (t->sampler_field >= 0 && t->sampler_field < t->nfields) {
		const struct weir_value *x = &v[t->sampler_field];

		if (x->len && x->len <= 8)
			rec->sampling_rate = sampler_rate(d, sp, be_uint(x->p, x->len));
	}
	return WEIR_OK;
}

/* Hand one record out; non-zero when decoding must stop. */
static inline int emit(struct ipfix_dec *d, struct set_plan *sp, struct weir_record *rec,
		       const struct weir_value *v)
{
	struct weir_ctx *ctx = d->ctx;

	if (sp->slow) {
		int err = record_slow(d, sp, rec, v);

		if (err) {
			dec_fail(d, err);
			return 0;
		}
	}
	ctx->records++;
	if (ctx->on_record && ctx->on_record(rec, ctx->user)) {
		d->stop = 1;
		return 1;
	}
	return 0;
}

/* Decode the records of one data set body; returns how many records it
 * held (handed out or dropped for a bad list). */
static uint32_t data_records(struct ipfix_dec *d, const struct weir_msg *msg,
			     const struct tmpl *t, const uint8_t *body, size_t len)
{
	struct weir_value v[TMPL_MAX_FIELDS];
	struct set_plan sp;
	struct weir_record rec;
	struct rd r;
	uint32_t n = 0;
	int err;

	err = plan_set(d, &sp, t, v);
	if (err) {
		dec_fail(d, err);
		return 0;
	}
	rec.msg = msg;
	rec.t = t;
	rec.v = v;
	rec.sampling_rate = sp.rate;
	rec.is_options = sp.is_options;
	rec.sflow = NULL;
	rd_init(&r, body, len);

	if (sp.reclen) {
		const uint32_t reclen = sp.reclen;
		const unsigned nf = t->nfields;

		/* Bytes fewer than a record at the end are padding. */
		while (rd_left(&r) >= reclen) {
			const uint8_t *p = rd_bytes(&r, reclen);

			for (unsigned i = 0; i < nf; i++)
				v[i].p = p + sp.off[i];
			n++;
			if (emit(d, &sp, &rec, v))
				break;
		}
		return n;
	}
	while (rd_left(&r) >= sp.minlen) {
		if (ipfix_record_read(&r, t, v)) {
			dec_fail(d, WEIR_E_VARLEN);
			break;
		}
		n++;
		if (emit(d, &sp, &rec, v))
			break;
	}
	return n;
}

static void data_set(struct ipfix_dec *d, uint16_t tid, const uint8_t *body, size_t len)
{
	const struct tmpl *t = d->src ? tmpl_find(d->src, tid, d->msg.recv_time_ns) : NULL;
	struct ipfix_hold h;

	if (t) {
		uint32_t n = data_records(d, &d->msg, t, body, len);

		d->nrec += n;
		if (!t->scope_count)
			d->nflow += n;
		return;
	}
	dec_fail(d, WEIR_E_NO_TEMPLATE);
	d->held++;
	if (!d->src)
		return;
	memset(&h, 0, sizeof(h));
	h.recv_ns = d->msg.recv_time_ns;
	h.export_time = d->msg.export_time;
	h.sequence = d->msg.sequence;
	(void)tmpl_pending_add(d->src, tid, &h, sizeof(h), body, len, d->msg.recv_time_ns);
}

/* Held data of a template that just arrived (tmpl_pending_take). */
static void pending_cb(void *user, const void *hdr, size_t hdr_len, const uint8_t *body,
		       size_t len)
{
	struct pend_ctx *pc = user;
	struct ipfix_dec *d = pc->d;
	struct ipfix_hold h;
	struct weir_msg m;
	uint32_t n;

	if (d->stop || hdr_len != sizeof(h))
		return;
	memcpy(&h, hdr, sizeof(h));
	m = d->msg;
	m.recv_time_ns = h.recv_ns;
	m.export_time = h.export_time;
	m.sequence = h.sequence;
	n = data_records(d, &m, pc->t, body, len);
	if (h.recv_ns == d->msg.recv_time_ns && h.sequence == d->msg.sequence &&
	    h.export_time == d->msg.export_time && d->held) {
		d->nrec += n;
		if (!pc->t->scope_count)
			d->nflow += n;
		d->held--;
	}
}

/* ---- template sets ---- */

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void store_template(struct ipfix_dec *d, struct tmpl *t)
{
	struct pend_ctx pc;
	int err;

	if (!d->src)
		return;
	tmpl_finish(d->ctx->cache, t);
	err = tmpl_add(d->src, t, d->msg.recv_time_ns);
	if (err) {
		dec_fail(d, err);
		return;
	}
	pc.d = d;
	pc.t = tmpl_find(d->src, t->id, d->msg.recv_time_ns);
	if (pc.t)
		tmpl_pending_take(d->src, t->id, d->msg.recv_time_ns, pending_cb, &pc);
}

/* Fields of one template record into t; WEIR_E_TEMPLATE when they do not
 * fit the set or describe records of zero bytes. */
static int read_fields(struct rd *r, struct tmpl *t)
{
	uint32_t reclen = 0;
	int varlen = 0;

	for (unsigned i = 0; i < t->nfields; i++) {
		struct tmpl_field *f = &t->f[i];
		uint16_t id = rd_u16(r);

		f->len = rd_u16(r);
		f->pen = id & IPFIX_ENTERPRISE_BIT ? rd_u32(r) : IE_PEN_IANA;
		f->id = id & ~IPFIX_ENTERPRISE_BIT;
		f->def = NULL;
		if (r->err)
			return WEIR_E_TEMPLATE;
		if (f->len == TMPL_VARLEN)
			varlen = 1;
		else
			reclen += f->len;
	}
	if (!varlen && reclen == 0)
		return WEIR_E_TEMPLATE;
	t->has_varlen = (uint8_t)varlen;
	t->min_len = reclen;
	return WEIR_OK;
}

static void template_set(struct ipfix_dec *d, struct rd *r, uint16_t sid)
{
	union tmpl_buf tb;
	struct tmpl *t = &tb.t;

	/* Fewer than 4 bytes left: padding (RFC 7011 section 3.3.1). */
	while (rd_left(r) >= 4 && !d->stop) {
		uint16_t id = rd_u16(r);
		uint16_t nf = rd_u16(r);
		uint16_t scope = 0;

		if (nf == 0) {
			/* Withdrawal, RFC 7011 section 8.1. */
			if (id == sid) {
				if (d->src)
					tmpl_withdraw_all(d->src, sid == IPFIX_SET_OPTIONS);
				continue;
			}
			if (id >= IPFIX_SET_DATA_MIN) {
				if (d->src)
					tmpl_withdraw(d->src, id);
				continue;
			}
			if (id == 0 && all_zero(rd_ptr(r), rd_left(r)))
				return;
			dec_fail(d, WEIR_E_TEMPLATE);
			return;
		}
		if (sid == IPFIX_SET_OPTIONS)
			scope = rd_u16(r);
		if (r->err || id < IPFIX_SET_DATA_MIN || nf > TMPL_MAX_FIELDS ||
		    (sid == IPFIX_SET_OPTIONS && (scope == 0 || scope > nf))) {
			dec_fail(d, WEIR_E_TEMPLATE);
			return;
		}
		t->id = id;
		t->nfields = nf;
		t->scope_count = scope;
		t->proto = IPFIX_VERSION;
		t->sampler_field = -1;
		t->rate_field = -1;
		t->refreshed_ns = d->msg.recv_time_ns;
		if (read_fields(r, t)) {
			dec_fail(d, WEIR_E_TEMPLATE);
			return;
		}
		store_template(d, t);
	}
}

/* ---- message ---- */

int ipfix_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		 const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	struct ipfix_dec d;
	struct rd r, body;
	uint16_t mlen;
	int framed = 1;

	if (len < IPFIX_HDR_LEN)
		return weir_count(ctx, WEIR_E_TRUNCATED);
	rd_init(&r, msg, len);
	if (rd_u16(&r) != IPFIX_VERSION)
		return weir_count(ctx, WEIR_E_VERSION);
	mlen = rd_u16(&r);
	if (mlen < IPFIX_HDR_LEN || mlen > len)
		return weir_count(ctx, WEIR_E_LENGTH);

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.msg.proto = WEIR_PROTO_IPFIX;
	d.msg.exporter = e;
	d.msg.export_time = rd_u32(&r);
	d.msg.sequence = rd_u32(&r);
	d.msg.domain = rd_u32(&r);
	d.msg.recv_time_ns = recv_ns;
	if (ctx->cache) {
		d.src = tmpl_source_get(ctx->cache, e, d.msg.domain, 1);
		if (!d.src)
			dec_fail(&d, WEIR_E_LIMIT);
		d.lenv.ies = tmpl_cache_ies(ctx->cache);
	}
	d.msg.src = d.src;
	d.lenv.src = d.src;
	d.lenv.max_depth = ctx->max_list_depth;
	d.lenv.now_ns = recv_ns;

	rd_init(&body, msg + IPFIX_HDR_LEN, mlen - IPFIX_HDR_LEN);
	while (rd_left(&body) > 0 && !d.stop) {
		uint16_t sid = rd_u16(&body);
		uint16_t slen = rd_u16(&body);
		struct rd set;

		if (body.err || slen < IPFIX_SET_HDR_LEN ||
		    !rd_sub(&body, slen - IPFIX_SET_HDR_LEN, &set)) {
			dec_fail(&d, WEIR_E_SET_LENGTH);
			framed = 0;
			break;
		}
		if (sid == IPFIX_SET_TEMPLATE || sid == IPFIX_SET_OPTIONS)
			template_set(&d, &set, sid);
		else if (sid >= IPFIX_SET_DATA_MIN)
			data_set(&d, sid, set.buf, set.len);
		/* else: reserved set id, skipped (RFC 7011 section 3.3.2) */
	}
	if (d.stop) {
		weir_count(ctx, WEIR_E_STOPPED);
		return WEIR_E_STOPPED;
	}
	if (!framed)
		return d.err;
	ctx->messages++;
	if (d.src) {
		if (tmpl_seq_check_records(d.src, d.msg.sequence, d.nrec, d.nflow))
			weir_quirk(ctx, WEIR_Q_SEQ_CONVENTION);
		if (d.held)
			d.src->seq_valid = 0;
	}
	return d.err;
}
