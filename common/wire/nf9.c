/* nf9.c - NetFlow v9 decoder (RFC 3954).
 *
 * A message is a 20-byte header and flowsets: 0 templates, 1 options
 * templates, >= 256 data; 2..255 are reserved (section 5.3) and skipped
 * without an error, as a collector has to for sets it does not know yet.
 * Templates are kept per (exporter, source id) in the cache of ctx; data whose
 * template is unknown is held in the cache with the header facts needed to
 * decode it later, and decoded the moment the template arrives. Such a
 * flowset counts WEIR_E_NO_TEMPLATE (not fatal: decoding goes on), held or
 * not; the cache counts what becomes of held data (pending_held, _rescued,
 * _dropped).
 *
 * What stops decoding (and is returned): a header shorter than 20 bytes, a
 * version other than 9, a flowset length below 4 or past the message, a
 * source the cache refuses, the callback asking to stop. What is counted
 * and skipped while decoding goes on: a malformed template (its flowset),
 * a data flowset without template and without a cache, a variable-length
 * field past its flowset (rest of that flowset), the header count.
 *
 * The header count is "the total number of records in the Export Packet"
 * (section 5.1: the sum of template, options template and data records),
 * but Cisco's own white paper words it as the number of FlowSet records,
 * and FortiGate, Streamcore, nProbe and Cisco WLC exporters send the number
 * of flowsets (vendor payloads); softflowd sends the number of flow
 * records, without templates and options data. These are accepted and
 * counted as quirks (WEIR_Q_NF9_COUNT_FLOWSETS, WEIR_Q_NF9_COUNT_DATA), not
 * errors; anything else is WEIR_E_COUNT, counted and returned but not fatal: every
 * record was handed out by then, and tshark does not check it either. It is
 * not checked when some flowset could not be counted (held, reserved, or
 * skipped after another error).
 * Bytes after the last flowset that are all zero are padding (Cisco ACI and
 * Palo Alto fill datagrams with zeros).
 */
#include <string.h>

#include "decode.h"
#include "ie.h"
#include "nf9.h"
#include "rd.h"

/* Header facts kept with a held data flowset. */
struct nf9_held {
	uint32_t sys_uptime_ms;
	uint32_t unix_secs;
	uint32_t sequence;
	uint64_t recv_ns;
};

/* Decoder state; lives on the stack of nf9_decode() (about 40 KiB with the
 * scratch value array and template buffer), so nothing is allocated. */
struct nf9_dec {
	struct weir_ctx *ctx;
	const struct weir_exporter *e;
	struct tmpl_source *src;
	uint32_t source_id;
	uint64_t now;
	int err;			/* first error met */
	int stop;			/* the callback asked to stop */
	uint32_t nrec;			/* records of this message, for the count */
	uint32_t ndata, nflow;		/* its data records; those of non-options templates */
	uint16_t rescue_tid;
	struct weir_value v[TMPL_MAX_FIELDS];
	union {
		struct tmpl t;
		uint8_t raw[sizeof(struct tmpl) + TMPL_MAX_FIELDS * sizeof(struct tmpl_field)];
	} tb;
};

static const struct weir_exporter nf9_no_exporter;

static void nf9_err(struct nf9_dec *d, int err)
{
	weir_count(d->ctx, err);
	if (!d->err)
		d->err = err;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static uint64_t val_uint(const struct weir_value *x)
{
	return x->len <= 8 ? be_uint(x->p, x->len) : 0;
}

static uint32_t clamp32(uint64_t x)
{
	return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

/* Sampling facts of an options record (RFC 3954 section 8: 34
 * SAMPLING_INTERVAL, 48 FLOW_SAMPLER_ID, 50 FLOW_SAMPLER_RANDOM_INTERVAL; RFC
 * 5477: 302 selectorId, 305/306 samplingPacketInterval/Space) teach the
 * source the rate of that sampler (id 0 when the record names none). */
static void nf9_learn_sampler(struct nf9_dec *d, const struct tmpl *t, const struct weir_value *v)
{
	uint64_t sid = 0, interval = 0, pkt_int = 0, pkt_space = 0;
	int have_space = 0, err;

	if (!d->src)
		return;
	for (uint16_t i = t->scope_count; i < t->nfields; i++) {
		if (t->f[i].pen != IE_PEN_IANA || v[i].len == 0 || v[i].len > 8)
			continue;
		switch (t->f[i].id) {
		case 34:
		case 50:
			interval = val_uint(&v[i]);
			break;
		case 48:
		case 302:
			sid = val_uint(&v[i]);
			break;
		case 305:
			pkt_int = val_uint(&v[i]);
			break;
		case 306:
			pkt_space = val_uint(&v[i]);
			have_space = 1;
			break;
		}
	}
	if (!interval && pkt_int && have_space)
		interval = (pkt_int + pkt_space) / pkt_int;
	if (!interval)
		return;
	err = tmpl_sampler_set(d->src, sid, clamp32(interval));
	if (err)
		nf9_err(d, err);
}

/* Rate of a data record: inline (rate_field), else what options data taught
 * the source for the record's sampler (sampler_field) or its default. */
static uint32_t nf9_rate(const struct nf9_dec *d, const struct tmpl *t, const struct weir_value *v)
{
	uint64_t sid = 0, r;

	if (t->rate_field >= 0 && t->rate_field < t->nfields) {
		r = val_uint(&v[t->rate_field]);
		if (r)
			return clamp32(r);
	}
	if (!d->src)
		return 0;
	if (t->sampler_field >= 0 && t->sampler_field < t->nfields)
		sid = val_uint(&v[t->sampler_field]);
	return tmpl_sampler_get(d->src, sid);
}

/* Hand out the records of one data flowset body. Records lie back to back;
 * what is left shorter than a record is padding (section 5.3 with errata
 * 2096: padding is shorter than any record). Returns the records handed out. */
static uint32_t nf9_data(struct nf9_dec *d, const struct weir_msg *m, const struct tmpl *t,
			 const uint8_t *body, size_t len)
{
	struct weir_record rec;
	uint32_t n = 0;
	struct rd r;

	if (t->min_len == 0 || t->nfields > TMPL_MAX_FIELDS) {
		nf9_err(d, WEIR_E_TEMPLATE);
		return 0;
	}
	memset(&rec, 0, sizeof(rec));
	rec.msg = m;
	rec.t = t;
	rec.v = d->v;
	rec.is_options = t->scope_count > 0;
	rd_init(&r, body, len);
	/* Each pass takes at least min_len >= 1 bytes. */
	while (rd_left(&r) >= t->min_len) {
		for (uint16_t i = 0; i < t->nfields; i++) {
			size_t fl = t->f[i].len;

			if (fl == TMPL_VARLEN) {
				/* RFC 7011 section 7: 1-byte length, 255 = a
				 * 2-byte length follows. */
				fl = rd_u8(&r);
				if (fl == 255)
					fl = rd_u16(&r);
			}
			d->v[i].p = rd_bytes(&r, fl);
			d->v[i].len = (uint32_t)fl;
		}
		if (r.err) {
			nf9_err(d, WEIR_E_VARLEN);
			break;
		}
		if (rec.is_options) {
			rec.sampling_rate = 0;
			nf9_learn_sampler(d, t, d->v);
		} else {
			rec.sampling_rate = nf9_rate(d, t, d->v);
		}
		n++;
		d->ctx->records++;
		if (d->ctx->on_record && d->ctx->on_record(&rec, d->ctx->user)) {
			d->stop = 1;
			nf9_err(d, WEIR_E_STOPPED);
			break;
		}
	}
	return n;
}

static void nf9_msg_of_held(const struct nf9_dec *d, const struct nf9_held *h, struct weir_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->proto = WEIR_PROTO_NF9;
	m->exporter = d->e;
	m->domain = d->source_id;
	m->export_time = h->unix_secs;
	m->sequence = h->sequence;
	m->sys_uptime_ms = h->sys_uptime_ms;
	m->recv_time_ns = h->recv_ns;
	m->src = d->src;
}

/* tmpl_pending_take() callback: a held data flowset whose template came. */
static void nf9_rescue(void *user, const void *hdr, size_t hdr_len,
		       const uint8_t *body, size_t len)
{
	struct nf9_dec *d = user;
	const struct tmpl *t;
	struct nf9_held h;
	struct weir_msg m;

	if (d->stop || hdr_len != sizeof(h))
		return;
	memcpy(&h, hdr, sizeof(h));
	t = tmpl_find(d->src, d->rescue_tid, d->now);
	if (!t)
		return;
	nf9_msg_of_held(d, &h, &m);
	nf9_data(d, &m, t, body, len);
}

/* A parsed template in d->tb: finish it, store it, decode what was held. */
static void nf9_template_done(struct nf9_dec *d)
{
	struct tmpl *t = &d->tb.t;
	int err;

	tmpl_finish(d->ctx->cache, t);
	if (t->min_len == 0) {
		/* Only zero-length fields: records of no bytes cannot be
		 * told apart, nor counted. */
		nf9_err(d, WEIR_E_TEMPLATE);
		return;
	}
	if (!d->src)
		return;
	err = tmpl_add(d->src, t, d->now);
	if (err) {
		nf9_err(d, err);
		return;
	}
	d->rescue_tid = t->id;
	tmpl_pending_take(d->src, t->id, d->now, nf9_rescue, d);
}

static void nf9_field(struct tmpl_field *f, uint16_t type, uint16_t len, int scope)
{
	memset(f, 0, sizeof(*f));
	if (scope || type >= 0x8000)
		f->pen = IE_PEN_V9;
	f->id = type;
	f->len = len;
}

static void nf9_tmpl_init(struct tmpl *t, uint16_t id, uint16_t nfields, uint16_t scope)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->nfields = nfields;
	t->scope_count = scope;
	t->proto = WEIR_PROTO_NF9;
	t->sampler_field = -1;
	t->rate_field = -1;
}

/* Template flowset (section 5.2): template records back to back. */
static void nf9_templates(struct nf9_dec *d, struct rd *s)
{
	while (rd_left(s) >= 4 && !d->stop) {
		const uint8_t *at = rd_ptr(s);
		size_t rest = rd_left(s);
		uint16_t tid = rd_u16(s), n = rd_u16(s);

		if (n == 0) {
			if (!all_zero(at, rest))
				nf9_err(d, WEIR_E_TEMPLATE);
			return;
		}
		if ((size_t)n * 4 > rd_left(s)) {
			nf9_err(d, WEIR_E_TEMPLATE);
			return;
		}
		d->nrec++;
		if (tid < NF9_SET_DATA_MIN || n > TMPL_MAX_FIELDS) {
			nf9_err(d, tid < NF9_SET_DATA_MIN ? WEIR_E_TEMPLATE : WEIR_E_LIMIT);
			rd_skip(s, (size_t)n * 4);
			continue;
		}
		nf9_tmpl_init(&d->tb.t, tid, n, 0);
		for (uint16_t i = 0; i < n; i++) {
			uint16_t type = rd_u16(s), len = rd_u16(s);

			nf9_field(&d->tb.t.f[i], type, len, 0);
		}
		nf9_template_done(d);
	}
	/* 1..3 bytes left: padding. */
}

/* Options template flowset (section 6.1): template id, option scope length
 * and option length in bytes, the scope fields, the option fields; then
 * padding to 4 bytes, of any content (Cisco WLC pads with garbage). */
static void nf9_options(struct nf9_dec *d, struct rd *s)
{
	while (rd_left(s) >= 6 && !d->stop) {
		const uint8_t *at = rd_ptr(s);
		size_t rest = rd_left(s), blen;
		uint16_t tid = rd_u16(s), slen = rd_u16(s), olen = rd_u16(s);
		uint16_t nscope, n;

		blen = (size_t)slen + olen;
		if (tid == 0 && blen == 0 && all_zero(at, rest))
			return;
		if (slen % 4 || olen % 4 || blen > rd_left(s)) {
			nf9_err(d, WEIR_E_TEMPLATE);
			return;
		}
		d->nrec++;
		nscope = slen / 4;
		n = (uint16_t)(blen / 4);
		/* No scope: nothing tells it from a data template, and
		 * section 6.1 defines options by their scope. */
		if (tid < NF9_SET_DATA_MIN || nscope == 0 || n > TMPL_MAX_FIELDS) {
			nf9_err(d, n > TMPL_MAX_FIELDS ? WEIR_E_LIMIT : WEIR_E_TEMPLATE);
			rd_skip(s, blen);
			continue;
		}
		nf9_tmpl_init(&d->tb.t, tid, n, nscope);
		for (uint16_t i = 0; i < n; i++) {
			uint16_t type = rd_u16(s), len = rd_u16(s);

			nf9_field(&d->tb.t.f[i], type, len, i < nscope);
		}
		nf9_template_done(d);
	}
}

static void nf9_dataset(struct nf9_dec *d, const struct weir_msg *m, uint16_t tid,
			const struct rd *s, int *uncounted)
{
	const struct tmpl *t;
	struct nf9_held h;
	int err;

	if (!d->src) {
		nf9_err(d, WEIR_E_NO_TEMPLATE);
		*uncounted = 1;
		return;
	}
	t = tmpl_find(d->src, tid, d->now);
	if (t) {
		uint32_t n = nf9_data(d, m, t, s->buf, s->len);

		d->nrec += n;
		d->ndata += n;
		if (!t->scope_count)
			d->nflow += n;
		return;
	}
	*uncounted = 1;
	if (s->len == 0)
		return;
	/* Counted as IPFIX counts it, so "templates missing" means the same
	 * for both; the data is held all the same. */
	nf9_err(d, WEIR_E_NO_TEMPLATE);
	memset(&h, 0, sizeof(h));
	h.sys_uptime_ms = m->sys_uptime_ms;
	h.unix_secs = m->export_time;
	h.sequence = m->sequence;
	h.recv_ns = m->recv_time_ns;
	err = tmpl_pending_add(d->src, tid, &h, sizeof(h), s->buf, s->len, d->now);
	if (err)
		nf9_err(d, err);
}

int nf9_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
	       const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	struct nf9_dec d;
	struct weir_msg m;
	struct rd r;
	uint16_t count;
	uint32_t nsets = 0;
	int fatal = 0, uncounted = 0;

	if (!e)
		e = &nf9_no_exporter;
	rd_init(&r, msg, len);
	if (len < NF9_HDR_LEN)
		return weir_count(ctx, WEIR_E_TRUNCATED);
	if (rd_u16(&r) != NF9_VERSION)
		return weir_count(ctx, WEIR_E_VERSION);
	count = rd_u16(&r);

	memset(&m, 0, sizeof(m));
	m.proto = WEIR_PROTO_NF9;
	m.exporter = e;
	m.sys_uptime_ms = rd_u32(&r);
	m.export_time = rd_u32(&r);
	m.sequence = rd_u32(&r);
	m.domain = rd_u32(&r);
	m.recv_time_ns = recv_ns;

	/* The scratch arrays (v, tb) need no clearing. */
	d.ctx = ctx;
	d.e = e;
	d.src = NULL;
	d.source_id = m.domain;
	d.now = recv_ns;
	d.err = WEIR_OK;
	d.stop = 0;
	d.nrec = 0;
	d.ndata = 0;
	d.nflow = 0;
	d.rescue_tid = 0;
	if (ctx->cache) {
		d.src = tmpl_source_get(ctx->cache, e, m.domain, 1);
		if (!d.src)
			return weir_count(ctx, WEIR_E_LIMIT);
		/* v9 sequence numbers count export packets (section 5.1). */
		tmpl_seq_check(d.src, m.sequence, 1);
	}
	m.src = d.src;

	while (rd_left(&r) >= 4 && !d.stop) {
		const uint8_t *at = rd_ptr(&r);
		size_t rest = rd_left(&r);
		uint16_t fsid = rd_u16(&r), flen = rd_u16(&r);
		struct rd s;

		if (flen < 4 || (size_t)flen - 4 > rd_left(&r)) {
			if (!all_zero(at, rest)) {
				nf9_err(&d, WEIR_E_SET_LENGTH);
				fatal = 1;
			}
			rd_skip(&r, rd_left(&r));
			break;
		}
		rd_sub(&r, (size_t)flen - 4, &s);
		nsets++;
		if (fsid == NF9_SET_TEMPLATE)
			nf9_templates(&d, &s);
		else if (fsid == NF9_SET_OPTIONS)
			nf9_options(&d, &s);
		else if (fsid >= NF9_SET_DATA_MIN)
			nf9_dataset(&d, &m, fsid, &s, &uncounted);
		else
			uncounted = 1;
	}
	if (d.stop)
		return WEIR_E_STOPPED;
	if (!fatal && rd_left(&r) && !all_zero(rd_ptr(&r), rd_left(&r))) {
		/* 1..3 bytes that cannot hold a flowset header. */
		nf9_err(&d, WEIR_E_SET_LENGTH);
		fatal = 1;
	}
	if (fatal)
		return d.err;
	/* After another error some records went uncounted. */
	if (!uncounted && !d.err && count != d.nrec) {
		if (count == nsets)
			weir_quirk(ctx, WEIR_Q_NF9_COUNT_FLOWSETS);
		else if (count == d.ndata || count == d.nflow)
			weir_quirk(ctx, WEIR_Q_NF9_COUNT_DATA);
		else
			nf9_err(&d, WEIR_E_COUNT);
	}
	ctx->messages++;
	return d.err;
}
