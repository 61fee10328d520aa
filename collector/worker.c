/* worker.c - see worker.h: the per-datagram and per-record hot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "flow.h"
#include "flow_csv.h"
#include "flow_json.h"
#include "prog_log.h"
#include "rec_json.h"
#include "worker.h"

const char *col_proto_name(int p)
{
	static const char *const names[COL_P_MAX] = {
		"netflow_v5", "netflow_v9", "ipfix", "sflow", "unknown",
	};

	return p >= 0 && p < COL_P_MAX ? names[p] : "unknown";
}

static int proto_index(uint8_t proto)
{
	switch (proto) {
	case WEIR_PROTO_NF5: return COL_P_NF5;
	case WEIR_PROTO_NF9: return COL_P_NF9;
	case WEIR_PROTO_IPFIX: return COL_P_IPFIX;
	case WEIR_PROTO_SFLOW: return COL_P_SFLOW;
	}
	return COL_P_OTHER;
}

uint32_t col_labels_get(struct col_labels *l, const struct weir_addr *a)
{
	uint32_t i;

	pthread_mutex_lock(&l->mu);
	for (i = 0; i < l->n; i++)
		if (weir_addr_eq(&l->addr[i], a))
			goto out;
	if (l->n < COL_EXPORTER_LABELS) {
		l->addr[l->n] = *a;
		__atomic_store_n(&l->n, l->n + 1, __ATOMIC_RELEASE);
	} else {
		i = COL_LABEL_OTHER;
		l->other_used = 1;
	}
out:
	pthread_mutex_unlock(&l->mu);
	return i;
}

void col_limits(const struct col_cfg *cfg, struct tmpl_limits *lim)
{
	tmpl_limits_default(lim);
	lim->max_templates = COL_MAX_TEMPLATES;
	lim->max_sources = COL_MAX_SOURCES;
	lim->lifetime_ns = cfg->template_lifetime_s * 1000000000ull;
}

/* ---- formatting into the batch ---- */

/* Make sure need bytes are free; start the batch's clock when it is empty. */
static void buf_room(struct col_worker *w, size_t need)
{
	struct col_buf *b = &w->buf;

	if (b->cap - b->len < need)
		col_buf_flush(b);
	if (!b->len)
		b->first_ns = w->now_ns;
}

static void buf_added(struct col_worker *w, size_t n)
{
	struct col_buf *b = &w->buf;

	b->len += n;
	b->lines++;
	cnt_add(&w->c.records_out, 1);
	if (b->cap - b->len < COL_BUF_LOW)
		col_buf_flush(b);
}

static void emit_raw(struct col_worker *w, const struct weir_record *rec)
{
	struct col_buf *b = &w->buf;
	size_t n;

	buf_room(w, COL_BUF_LOW);
	n = rec_json_cached(rec, b->p + b->len, b->cap - b->len, &w->rcache);
	if (!n && b->len) {
		/* Larger than what was left: alone in an empty batch it fits. */
		col_buf_flush(b);
		b->first_ns = w->now_ns;
		n = rec_json(rec, b->p, b->cap);
	}
	if (!n) {
		cnt_add(&w->c.skipped_too_large, 1);
		return;
	}
	buf_added(w, n);
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* Flow k's enrichment fields, for the formatter to write as it writes the
 * line (struct flow_extra). */
struct enr_extra {
	const struct col_enr *enr;
	const struct col_enr_batch *eb;
	unsigned k;
	struct col_enr_counts *ec;
};

static size_t enr_fields(void *arg, char *out, size_t cap)
{
	const struct enr_extra *a = arg;

	return col_enr_write(a->enr, out, cap, a->eb, a->k, a->ec);
}

/* Format f (and its enrichment, held as flow k of eb, when eb) as one line
 * of the sink's format into the batch. */
static void write_flow(struct col_worker *w, const struct flow *f,
		       const struct col_enr_batch *eb, unsigned k)
{
	const struct col_sink *sk = w->sink;
	struct col_buf *b = &w->buf;
	size_t n;

	if (eb) {
		const struct col_enr *enr = w->sh->enr;
		struct enr_extra a = { enr, eb, k, &w->ec };
		const struct flow_extra x = { enr_fields, &a };

		buf_room(w, sk->line_max + (sk->csv ? enr->csv_max : enr->json_max));
		n = sk->line(w, f, b->p + b->len, b->cap - b->len, &x);
	} else {
		buf_room(w, sk->line_max);
		n = sk->line(w, f, b->p + b->len, b->cap - b->len, NULL);
	}
	if (!n) {
		cnt_add(&w->c.skipped_too_large, 1);
		return;
	}
	buf_added(w, n);
}

/* Look up and write the held flows, in order. */
static void flush_pending(struct col_worker *w)
{
	struct col_enr_batch *eb = w->batch;

	col_enr_lookup(w->sh->enr, eb, w->pend_f, &w->ec);
	for (unsigned k = 0; k < eb->n; k++)
		write_flow(w, &w->pend_f[k], eb, k);
	eb->n = 0;
}

/* rec carries the rate to write (on_record): flow_from_record copies it. */
static void emit_common(struct col_worker *w, const struct weir_record *rec)
{
	const struct col_cfg *cfg = w->sh->cfg;
	const struct col_enr *enr = w->batch && w->sink->line ? w->sh->enr : NULL;
	struct flow one, *f = &one;

	/* With --enrich the flow is normalized where it waits for its
	 * lookups: no copy. */
	if (enr) {
		if (w->batch->n == COL_ENR_BATCH)
			flush_pending(w);
		f = &w->pend_f[w->batch->n];
	}
	if (flow_from_record(rec, f) != WEIR_OK) {
		cnt_add(&w->c.skipped_no_flow, 1);
		return;
	}
	if (cfg->renormalize && f->sampling_rate > 1) {
		f->bytes = mul_sat(f->bytes, f->sampling_rate);
		f->packets = mul_sat(f->packets, f->sampling_rate);
	}
	if (!w->sink->line)
		return;			/* -s null: normalized, not written */
	if (enr)
		col_enr_hold(enr, w->batch, w->sink->csv);
	else
		write_flow(w, f, NULL, 0);
}

/* ---- the sinks ---- */

static void emit_nothing(struct col_worker *w, const struct weir_record *rec)
{
	(void)w;
	(void)rec;
}

static size_t line_json(struct col_worker *w, const struct flow *f, char *out, size_t cap,
			const struct flow_extra *x)
{
	return flow_json_cached_x(f, out, cap, &w->jcache, x);
}

static size_t line_csv(struct col_worker *w, const struct flow *f, char *out, size_t cap,
		       const struct flow_extra *x)
{
	(void)w;
	return flow_csv_x(f, out, cap, x);
}

static const struct col_sink sinks[] = {
	{ "raw null", emit_nothing, NULL, 0, 0 },
	{ "raw JSON", emit_raw, NULL, 0, 0 },
	{ "common null", emit_common, NULL, 0, 0 },
	{ "common JSON", emit_common, line_json, FLOW_JSON_MAX, 0 },
	{ "CSV", emit_common, line_csv, FLOW_CSV_MAX, 1 },
};

const struct col_sink *col_sink_of(const struct col_cfg *cfg)
{
	if (cfg->format == COL_F_RAW)
		return &sinks[cfg->ser == COL_S_NULL ? 0 : 1];
	if (cfg->ser == COL_S_NULL)
		return &sinks[2];
	return &sinks[cfg->ser == COL_S_CSV ? 4 : 3];
}

static int on_record(const struct weir_record *rec, void *user)
{
	struct col_worker *w = user;
	const struct col_cfg *cfg = w->sh->cfg;
	const struct weir_msg *m = rec->msg;
	struct weir_record r;
	uint32_t rate;

	cnt_add(&w->c.records[proto_index(m->proto)], 1);
	/* The rate to write, set once: the decoder's unless --sampling-rate
	 * says otherwise; both formats take it from the record. */
	rate = col_samp_rate(&cfg->samp, w->override, rec->sampling_rate);
	if (rate != rec->sampling_rate) {
		r = *rec;
		r.sampling_rate = rate;
		rec = &r;
	}
	w->sink->record(w, rec);
	return 0;
}

const char *col_tcp_close_name(int r)
{
	static const char *const names[COL_TC_MAX] = { "eof", "error", "framing", "timeout", "stop" };

	return r >= 0 && r < COL_TC_MAX ? names[r] : "unknown";
}

const char *col_tcp_refuse_name(int r)
{
	static const char *const names[COL_TR_MAX] = { "limit", "error" };

	return r >= 0 && r < COL_TR_MAX ? names[r] : "unknown";
}

const char *col_tcp_ferr_name(int k)
{
	static const char *const names[COL_TF_MAX] = { "version", "length", "truncated", "timeout" };

	return k >= 0 && k < COL_TF_MAX ? names[k] : "unknown";
}

int col_worker_datagram(struct col_worker *w, const struct weir_exporter *e,
			const uint8_t *p, size_t len, uint64_t recv_ns)
{
	uint8_t proto = weir_sniff(p, len);	/* the one look at the version */
	int pi = proto_index(proto);

	cnt_add(&w->c.datagrams[pi], 1);
	cnt_add(&w->c.bytes[pi], len);
	return col_worker_message(w, e, proto, p, len, recv_ns);
}

int col_worker_message(struct col_worker *w, const struct weir_exporter *e, uint8_t proto,
		       const uint8_t *p, size_t len, uint64_t recv_ns)
{
	const struct col_cfg *cfg = w->sh->cfg;
	int rc;

	w->override = cfg->samp.n ? col_samp_lookup(&cfg->samp, &e->addr) : 0;
	/* --type: sFlow alone, or the NetFlow family alone. */
	if (proto && (cfg->type == COL_T_SFLOW) != (proto == WEIR_PROTO_SFLOW))
		rc = weir_count(&w->ctx, WEIR_E_VERSION);
	else
		rc = weir_decode_as(&w->ctx, proto, e, p, len, recv_ns);
	if (w->batch && w->batch->n)
		flush_pending(w);
	return rc;
}

static struct col_worker *worker_new(struct col_shared *sh, unsigned id, int tcp, char *err,
				     size_t errlen)
{
	struct col_worker *w = calloc(1, sizeof(*w));
	struct tmpl_limits lim;

	if (!w)
		goto nomem;
	w->id = id;
	w->sh = sh;
	w->sink = col_sink_of(sh->cfg);
	w->fd = -1;
	col_limits(sh->cfg, &lim);
	if (tcp) {
		lim.lifetime_ns = 0;
		lim.ordered = 1;
	}
	w->ctx.cache = tmpl_cache_new(&lim, sh->ies);
	w->ctx.on_record = on_record;
	w->ctx.user = w;
	if (!w->ctx.cache || col_buf_init(&w->buf, sh->out, COL_BUF_SIZE))
		goto nomem;
	if (sh->enr && sh->enr->n) {
		w->pend_f = calloc(COL_ENR_BATCH, sizeof(*w->pend_f));
		w->batch = calloc(1, sizeof(*w->batch));
		if (!w->pend_f || !w->batch)
			goto nomem;
	}
	w->now_ns = prog_now_mono();
	return w;
nomem:
	snprintf(err, errlen, "out of memory for worker %u", id);
	col_worker_free(w);
	return NULL;
}

struct col_worker *col_worker_new(struct col_shared *sh, unsigned id, char *err, size_t errlen)
{
	return worker_new(sh, id, 0, err, errlen);
}

struct col_worker *col_worker_new_tcp(struct col_shared *sh, unsigned id, char *err,
				      size_t errlen)
{
	return worker_new(sh, id, 1, err, errlen);
}

void col_worker_free(struct col_worker *w)
{
	if (!w)
		return;
	tmpl_cache_free(w->ctx.cache);
	col_buf_free(&w->buf);
	free(w->pend_f);
	free(w->batch);
	free(w->src_label);
	free(w);
}
