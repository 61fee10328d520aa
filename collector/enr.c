/* enr.c - --enrich tables, reload and grace period. See enr.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cnt.h"
#include "enr.h"
#include "err.h"
#include "prog_clock.h"
#include "prog_log.h"

#define ENR_TICK_MS		200	/* how often the reload thread looks */
#define ENR_GRACE_MAX_MS	10000	/* longest wait for the workers */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void note_table(struct col_enr_slot *s, const struct enrich_table *t)
{
	struct enrich_table_stats st;

	enrich_table_stats(t, &st);
	__atomic_store_n(&s->entries, st.entries, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bytes, st.bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&s->loaded_at, (uint64_t)time(NULL), __ATOMIC_RELAXED);
}

/* stat() of the source; 0, or -1 with errno. */
static int file_id(const char *path, struct stat *st)
{
	return stat(path, st);
}

static int changed(const struct col_enr_slot *s, const struct stat *st)
{
	int64_t m = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;

	return st->st_dev != s->dev || st->st_ino != s->ino || st->st_size != s->size ||
	       m != s->mtime_ns;
}

static void remember(struct col_enr_slot *s, const struct stat *st)
{
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = st->st_size;
	s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Where the address the key names sits in struct flow, and the bit of
 * flow.has that says it is there. */
static void key_place(struct col_enr_slot *s)
{
	switch (s->spec.key) {
	case ENRICH_KEY_SRC_ADDR:
		s->key_has = FLOW_HAS_SRC_ADDR;
		s->key_off = offsetof(struct flow, src_addr);
		break;
	case ENRICH_KEY_DST_ADDR:
		s->key_has = FLOW_HAS_DST_ADDR;
		s->key_off = offsetof(struct flow, dst_addr);
		break;
	case ENRICH_KEY_NEXT_HOP:
		s->key_has = FLOW_HAS_NEXT_HOP;
		s->key_off = offsetof(struct flow, next_hop);
		break;
	case ENRICH_KEY_SAMPLER_ADDRESS:
		s->key_has = FLOW_HAS_SAMPLER;
		s->key_off = offsetof(struct flow, sampler_address);
		break;
	}
}

int col_enr_init(struct col_enr *e, const char *const *specs, unsigned n, char *err, size_t errlen)
{
	unsigned nfields = 0;
	char why[512];

	memset(e, 0, sizeof(*e));
	if (n > COL_ENRICH_MAX) {
		snprintf(err, errlen, "--enrich: at most %d are allowed, %u given", COL_ENRICH_MAX, n);
		return WEIR_E_INVALID;
	}
	for (unsigned i = 0; i < n; i++) {
		struct col_enr_slot *s = &e->slot[i];
		struct enrich_table *t;
		struct stat st;

		e->n = i + 1;
		if (enrich_spec_parse(specs[i], &s->spec, why, sizeof(why)) != WEIR_OK) {
			snprintf(err, errlen, "--enrich \"%s\": %s", specs[i], why);
			return WEIR_E_INVALID;
		}
		for (unsigned k = 0; k < i; k++) {
			if (enrich_spec_clash(&e->slot[k].spec, &s->spec, why, sizeof(why)) != WEIR_OK) {
				snprintf(err, errlen, "--enrich \"%s\": %s", specs[i], why);
				return WEIR_E_INVALID;
			}
		}
		if (file_id(s->spec.source, &st) < 0) {
			snprintf(err, errlen, "--enrich \"%s\": %s: %s", specs[i], s->spec.source,
				 strerror(errno));
			return WEIR_E_IO;
		}
		t = enrich_table_load(&s->spec, why, sizeof(why));
		if (!t) {
			snprintf(err, errlen, "--enrich \"%s\": %s", specs[i], why);
			return WEIR_E_IO;
		}
		remember(s, &st);
		s->table = t;
		note_table(s, t);
		key_place(s);
		if (s->spec.reload_ns)
			s->next_ns = prog_now_mono() + s->spec.reload_ns;
		e->json_max += ENRICH_OUT_MAX(s->spec.nfields);
		e->csv_max += ENRICH_OUT_MAX(s->spec.nfields);
		nfields += s->spec.nfields;
		if (nfields > COL_ENRICH_FIELDS_MAX) {
			snprintf(err, errlen, "--enrich: at most %d output fields in all", COL_ENRICH_FIELDS_MAX);
			return WEIR_E_INVALID;
		}
	}
	return WEIR_OK;
}

int col_enr_attach(struct col_enr *e, uint64_t **q, unsigned n)
{
	e->q = calloc(n ? n : 1, sizeof(*e->q));
	if (!e->q)
		return WEIR_E_NOMEM;
	memcpy(e->q, q, n * sizeof(*q));
	e->nq = n;
	return WEIR_OK;
}

/* Wait until every worker passed a quiescent point after the swap; then
 * no worker holds the old table. Bounded: a worker stuck for longer than
 * ENR_GRACE_MAX_MS keeps the old table alive (leaked, logged) rather than
 * risk freeing what it reads. */
static int grace(struct col_enr *e)
{
	uint64_t *snap;
	unsigned waited = 0;
	int done = 0;

	if (!e->nq)
		return 1;
	snap = calloc(e->nq, sizeof(*snap));
	if (!snap)
		return 0;
	/* Sequentially consistent, as the swap before and the workers'
	 * bumps (col_enr_quiescent()): the swap precedes these reads. */
	for (unsigned i = 0; i < e->nq; i++)
		snap[i] = __atomic_load_n(e->q[i], __ATOMIC_SEQ_CST);
	do {
		/* Stopping: the workers are joined before the reload thread
		 * is stopped, so none can hold the table any more. */
		if (__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE))
			break;
		done = 1;
		for (unsigned i = 0; i < e->nq; i++)
			if (__atomic_load_n(e->q[i], __ATOMIC_SEQ_CST) == snap[i])
				done = 0;
		if (!done) {
			sleep_ms(1);
			waited++;
		}
	} while (!done && waited < ENR_GRACE_MAX_MS);
	free(snap);
	return done || __atomic_load_n(&e->stop, __ATOMIC_ACQUIRE);
}

static int reload_one(struct col_enr *e, struct col_enr_slot *s, int force)
{
	struct enrich_table *t, *old;
	struct stat st;
	char why[512];

	if (file_id(s->spec.source, &st) < 0) {
		prog_log(PROG_LOG_ERROR, "enrich %s: reload: %s; keeping the loaded table",
			s->spec.source, strerror(errno));
		__atomic_add_fetch(&s->reload_failures, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (!force && !changed(s, &st))
		return 0;
	t = enrich_table_load(&s->spec, why, sizeof(why));
	if (!t) {
		prog_log(PROG_LOG_ERROR, "enrich %s: reload: %s; keeping the loaded table",
			s->spec.source, why);
		__atomic_add_fetch(&s->reload_failures, 1, __ATOMIC_RELAXED);
		/* Do not retry the same bad file every tick: wait for it to
		 * change again. */
		remember(s, &st);
		return 0;
	}
	remember(s, &st);
	old = __atomic_exchange_n(&s->table, t, __ATOMIC_SEQ_CST);
	note_table(s, t);
	__atomic_add_fetch(&s->reloads, 1, __ATOMIC_RELAXED);
	prog_log(PROG_LOG_INFO, "enrich %s: reloaded", s->spec.source);
	if (grace(e))
		enrich_table_free(old);
	else
		prog_log(PROG_LOG_WARN, "enrich %s: a worker did not pass a quiescent point in %d ms;"
			" the old table is kept", s->spec.source, ENR_GRACE_MAX_MS);
	return 1;
}

unsigned col_enr_reload(struct col_enr *e, int force)
{
	uint64_t now = prog_now_mono();
	unsigned swapped = 0;

	for (unsigned i = 0; i < e->n; i++) {
		struct col_enr_slot *s = &e->slot[i];

		if (force) {
			swapped += (unsigned)reload_one(e, s, 1);
		} else if (s->spec.reload_ns && now >= s->next_ns) {
			swapped += (unsigned)reload_one(e, s, 0);
			s->next_ns = prog_now_mono() + s->spec.reload_ns;
		}
	}
	return swapped;
}

static void *enr_thread(void *arg)
{
	struct col_enr *e = arg;

	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		int force = __atomic_exchange_n(&e->sighup, 0, __ATOMIC_ACQ_REL) != 0;

		col_enr_reload(e, force);
		sleep_ms(ENR_TICK_MS);
	}
	return NULL;
}

int col_enr_start(struct col_enr *e)
{
	if (!e->n)
		return WEIR_OK;
	if (pthread_create(&e->thr, NULL, enr_thread, e) != 0)
		return WEIR_E_NOMEM;
	e->started = 1;
	return WEIR_OK;
}

void col_enr_sighup(struct col_enr *e)
{
	__atomic_store_n(&e->sighup, 1, __ATOMIC_RELEASE);
}

void col_enr_stop(struct col_enr *e)
{
	if (!e->started)
		return;
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
	pthread_join(e->thr, NULL);
	e->started = 0;
}

void col_enr_free(struct col_enr *e)
{
	col_enr_stop(e);
	for (unsigned i = 0; i < e->n; i++) {
		enrich_table_free(e->slot[i].table);
		enrich_spec_free(&e->slot[i].spec);
	}
	free(e->q);
	memset(e, 0, sizeof(*e));
}

void col_enr_lookup(const struct col_enr *e, struct col_enr_batch *b, const struct flow *f,
		    struct col_enr_counts *c)
{
	for (unsigned i = 0; i < e->n; i++) {
		uint64_t has = e->slot[i].key_has, looked = 0, missed = 0;
		size_t off = e->slot[i].key_off;

		for (unsigned k = 0; k < b->n; k++) {
			const struct weir_addr *a = f[k].has & has ?
				(const struct weir_addr *)((const char *)&f[k] + off) : NULL;

			b->a[i][k] = a;
			looked += a != NULL;
		}
		cnt_add(&c->lookups[i], looked);
		enrich_find_many(b->t[i], b->csv, b->a[i], b->row[i], b->n);
		/* A flow without the key is no lookup, and no miss. A miss of
		 * a source that answers only when written (ENRICH_ROW_DIRECT)
		 * is counted then. */
		for (unsigned k = 0; k < b->n; k++)
			missed += b->row[i][k] == ENRICH_ROW_NONE;
		cnt_add(&c->misses[i], missed - (b->n - looked));
	}
}

size_t col_enr_write_slot(const struct col_enr *e, char *out, size_t cap,
			  const struct col_enr_batch *b, unsigned i, unsigned k,
			  struct col_enr_counts *c)
{
	int csv = b->csv;
	uint32_t row = b->row[i][k];
	unsigned nf = e->slot[i].spec.nfields;
	size_t n;
	int hit = 1;

	if (row == ENRICH_ROW_NONE) {
		/* Nothing to add; CSV still needs its empty cells. */
		if (!csv)
			return 0;
		if (cap < nf)
			return SIZE_MAX;
		memset(out, ',', nf);
		return nf;
	}
	if (row == ENRICH_ROW_DIRECT) {
		n = csv ? enrich_csv(b->t[i], b->a[i][k], out, cap, &hit)
			: enrich_json(b->t[i], b->a[i][k], out, cap, &hit);
		/* A miss of a source without rows shows only now. */
		if (n != SIZE_MAX)
			cnt_add(&c->misses[i], !hit);
		return n;
	}
	return csv ? enrich_csv_row(b->t[i], row, out, cap) : enrich_json_row(b->t[i], row, out, cap);
}

size_t col_enr_write_checked(const struct col_enr *e, char *out, size_t cap,
			     const struct col_enr_batch *b, unsigned k, struct col_enr_counts *c)
{
	size_t off = 0;

	for (unsigned i = 0; i < e->n; i++) {
		size_t n = col_enr_write_slot(e, out + off, cap - off, b, i, k, c);

		if (n == SIZE_MAX)
			return SIZE_MAX;
		off += n;
	}
	return off;
}

size_t col_enr_csv_header(const struct col_enr *e, char *out, size_t cap)
{
	size_t off = 0;

	for (unsigned i = 0; i < e->n; i++) {
		size_t n = enrich_csv_header(&e->slot[i].spec, out + off, cap - off);

		if (n == SIZE_MAX)
			return SIZE_MAX;
		off += n;
	}
	return off;
}
