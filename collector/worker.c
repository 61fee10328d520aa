/* worker.c - see worker.h: the per-datagram and per-record hot path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "flow.h"
#include "flow_csv.h"
#include "flow_json.h"
#include "log.h"
#include "rec_json.h"
#include "worker.h"

uint64_t col_now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t col_now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int col_proto_of(const uint8_t *p, size_t len)
{
	if (len < 2)
		return COL_P_OTHER;
	switch (p[0] << 8 | p[1]) {
	case 5:
		return COL_P_NF5;
	case 9:
		return COL_P_NF9;
	case 10:
		return COL_P_IPFIX;
	case 0:
		/* sFlow's version is a 32-bit XDR integer (sFlow v5, "sample_datagram_v5"). */
		if (len >= 4 && p[2] == 0 && p[3] == 5)
			return COL_P_SFLOW;
		break;
	}
	return COL_P_OTHER;
}

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

/* ---- sources met, for the per-exporter sequence metrics ---- */

static uint32_t ptr_slot(const void *p, uint32_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (cap - 1);
}

static int set_grow(struct col_worker *w)
{
	uint32_t ncap = w->set_cap ? w->set_cap * 2 : 64;
	const struct tmpl_source **ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return WEIR_E_NOMEM;
	for (uint32_t i = 0; i < w->set_cap; i++) {
		uint32_t j;

		if (!w->set[i])
			continue;
		for (j = ptr_slot(w->set[i], ncap); ns[j]; j = (j + 1) & (ncap - 1))
			;
		ns[j] = w->set[i];
	}
	free(w->set);
	w->set = ns;
	w->set_cap = ncap;
	return WEIR_OK;
}

/* Remember s (once). The set holds at most as many sources as the cache,
 * whose bounds (col_limits) keep it finite. */
static void src_note(struct col_worker *w, const struct tmpl_source *s)
{
	uint32_t j;

	w->last_src = s;
	if (w->set_cap) {
		for (j = ptr_slot(s, w->set_cap); w->set[j]; j = (j + 1) & (w->set_cap - 1))
			if (w->set[j] == s)
				return;
	}
	if ((w->set_used + 1) * 2 > w->set_cap && set_grow(w))
		return;
	if (w->nsrcs == w->srcs_cap) {
		uint32_t ncap = w->srcs_cap ? w->srcs_cap * 2 : 64;
		struct col_src *nl = malloc(ncap * sizeof(*nl));

		if (!nl)
			return;
		/* A new array, published under the lock the metrics thread takes. */
		pthread_mutex_lock(&w->src_mu);
		if (w->nsrcs)
			memcpy(nl, w->srcs, w->nsrcs * sizeof(*nl));
		free(w->srcs);
		w->srcs = nl;
		w->srcs_cap = ncap;
		pthread_mutex_unlock(&w->src_mu);
	}
	for (j = ptr_slot(s, w->set_cap); w->set[j]; j = (j + 1) & (w->set_cap - 1))
		;
	w->set[j] = s;
	w->set_used++;
	pthread_mutex_lock(&w->src_mu);
	w->srcs[w->nsrcs].s = s;
	w->srcs[w->nsrcs].label = col_labels_get(&w->sh->labels, &s->exporter.addr);
	w->nsrcs++;
	pthread_mutex_unlock(&w->src_mu);
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

/* Format f (and its enrichment, held as flow k of eb, when eb) as one line
 * into the batch. */
static void write_flow(struct col_worker *w, const struct flow *f,
		       const struct col_enr_batch *eb, unsigned k)
{
	const struct col_cfg *cfg = w->sh->cfg;
	const struct col_enr *enr = eb ? w->sh->enr : NULL;
	struct col_buf *b = &w->buf;
	size_t n;

	if (cfg->ser == COL_S_CSV) {
		buf_room(w, FLOW_CSV_MAX + (enr ? enr->csv_max : 0));
		n = flow_csv(f, b->p + b->len, b->cap - b->len);
	} else {
		buf_room(w, FLOW_JSON_MAX + (enr ? enr->json_max : 0));
		n = flow_json_cached(f, b->p + b->len, b->cap - b->len, &w->jcache);
	}
	if (n && enr) {
		/* The enriched fields go before the line's end: "}\n" of a
		 * JSON object, "\n" of a CSV row. */
		int csv = cfg->ser == COL_S_CSV;
		char *end = b->p + b->len + n - (csv ? 1 : 2);
		size_t m = col_enr_write(enr, end, b->cap - b->len - n, eb, k, &w->ec);

		if (m == SIZE_MAX) {
			n = 0;
		} else if (csv) {
			end[m] = '\n';
			n += m;
		} else {
			end[m] = '}';
			end[m + 1] = '\n';
			n += m;
		}
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

static void emit_common(struct col_worker *w, const struct weir_record *rec, uint32_t rate)
{
	const struct col_cfg *cfg = w->sh->cfg;
	const struct col_enr *enr = w->batch && cfg->ser != COL_S_NULL ? w->sh->enr : NULL;
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
	f->sampling_rate = rate;
	if (cfg->renormalize && rate > 1) {
		f->bytes = mul_sat(f->bytes, rate);
		f->packets = mul_sat(f->packets, rate);
	}
	if (cfg->ser == COL_S_NULL)
		return;
	if (enr)
		col_enr_hold(enr, w->batch, cfg->ser == COL_S_CSV);
	else
		write_flow(w, f, NULL, 0);
}

static int on_record(const struct weir_record *rec, void *user)
{
	struct col_worker *w = user;
	const struct weir_msg *m = rec->msg;
	uint32_t rate;

	if (m->src && m->src != w->last_src)
		src_note(w, m->src);
	cnt_add(&w->c.records[proto_index(m->proto)], 1);
	rate = col_samp_rate(&w->sh->cfg->samp, w->override, rec->sampling_rate);
	if (w->sh->cfg->format == COL_F_RAW) {
		struct weir_record r = *rec;

		if (w->sh->cfg->ser == COL_S_NULL)
			return 0;

		r.sampling_rate = rate;
		emit_raw(w, &r);
	} else {
		emit_common(w, rec, rate);
	}
	return 0;
}

int col_worker_datagram(struct col_worker *w, const struct weir_exporter *e,
			const uint8_t *p, size_t len, uint64_t recv_ns)
{
	const struct col_cfg *cfg = w->sh->cfg;
	struct weir_ctx *ctx = &w->ctx;
	int proto = col_proto_of(p, len), rc;

	cnt_add(&w->c.datagrams[proto], 1);
	cnt_add(&w->c.bytes[proto], len);
	w->override = cfg->samp.n ? col_samp_lookup(&cfg->samp, &e->addr) : 0;
	if (cfg->type == COL_T_SFLOW) {
		rc = proto == COL_P_SFLOW ? sflow_decode(ctx, e, p, len, recv_ns) : 1;
	} else {
		switch (proto) {
		case COL_P_NF5:
			rc = nf5_decode(ctx, e, p, len, recv_ns);
			break;
		case COL_P_NF9:
			rc = nf9_decode(ctx, e, p, len, recv_ns);
			break;
		case COL_P_IPFIX:
			rc = ipfix_decode(ctx, e, p, len, recv_ns);
			break;
		default:
			rc = 1;
		}
	}
	if (w->batch && w->batch->n)
		flush_pending(w);
	/* 1: another protocol than --type says, or no protocol at all. */
	return rc != 1 ? rc : weir_count(ctx, len < 4 ? WEIR_E_TRUNCATED : WEIR_E_VERSION);
}

struct col_worker *col_worker_new(struct col_shared *sh, unsigned id, char *err, size_t errlen)
{
	struct col_worker *w = calloc(1, sizeof(*w));
	struct tmpl_limits lim;

	if (!w)
		goto nomem;
	w->id = id;
	w->sh = sh;
	w->fd = -1;
	pthread_mutex_init(&w->src_mu, NULL);
	col_limits(sh->cfg, &lim);
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
	w->now_ns = col_now_mono();
	return w;
nomem:
	snprintf(err, errlen, "out of memory for worker %u", id);
	col_worker_free(w);
	return NULL;
}

void col_worker_free(struct col_worker *w)
{
	if (!w)
		return;
	tmpl_cache_free(w->ctx.cache);
	col_buf_free(&w->buf);
	free(w->pend_f);
	free(w->batch);
	free(w->srcs);
	free(w->set);
	pthread_mutex_destroy(&w->src_mu);
	free(w);
}
