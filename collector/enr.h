/* enr.h - --enrich in weir-collector: the loaded tables every worker reads,
 * their reload, and the grace period before an old table is freed.
 *
 * Each --enrich is a slot holding the current table behind an atomic
 * pointer. Workers read the pointer for each record and never lock. A
 * reload (every reload= interval when the file changed, or on SIGHUP) loads
 * the new table in the reload thread, swaps the pointer, then waits until
 * every worker has passed a quiescent point (the end of its receive round,
 * col_enr_quiescent()) before it frees the old table: no worker can still
 * hold it then. A record's fields from one enrichment come from one lookup
 * in one table, so a record never mixes two generations of a source. A
 * failed reload keeps the table in place, logs and counts.
 */
#ifndef COL_ENR_H
#define COL_ENR_H

#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <sys/types.h>

#include "enrich.h"
#include "flow.h"

#define COL_ENRICH_MAX	16		/* --enrich given at most this often */
#define COL_ENRICH_FIELDS_MAX 64	/* output fields of all of them */

struct col_enr_slot {
	struct enrich_spec spec;
	struct enrich_table *table;	/* atomic */
	/* The file as last loaded: a periodic reload skips an unchanged file. */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	uint64_t next_ns;		/* monotonic time of the next periodic check */
	/* The key in struct flow: at key_off when has & key_has. */
	uint64_t key_has;
	size_t key_off;
	/* Read by the metrics thread with relaxed loads. */
	uint64_t reloads;		/* tables swapped in after start */
	uint64_t reload_failures;
	uint64_t entries, bytes;	/* of the current table */
	uint64_t loaded_at;		/* seconds since the epoch */
};

struct col_enr {
	unsigned n;
	struct col_enr_slot slot[COL_ENRICH_MAX];
	size_t json_max, csv_max;	/* most bytes all slots may add to one record */
	/* Quiescent-state counters of the workers (col_enr_attach()). */
	unsigned nq;
	uint64_t **q;
	uint64_t sighup;		/* atomic: a forced reload was asked for */
	uint64_t stop;			/* atomic */
	pthread_t thr;
	uint8_t started;
};

/* Parse every --enrich argument and load its table. WEIR_OK, or
 * WEIR_E_INVALID / WEIR_E_IO with a sentence naming the argument and the
 * problem in err (the collector exits 2). */
int col_enr_init(struct col_enr *e, const char *const *specs, unsigned n, char *err, size_t errlen);
/* The quiescent counter of each of n workers (each bumped by
 * col_enr_quiescent()); call before col_enr_start(). */
int col_enr_attach(struct col_enr *e, uint64_t **q, unsigned n);
/* The reload thread (only when a slot has reload= or to serve SIGHUP). */
int col_enr_start(struct col_enr *e);
/* Ask for a reload of every slot now (SIGHUP; async-signal-safe). */
void col_enr_sighup(struct col_enr *e);
void col_enr_stop(struct col_enr *e);
void col_enr_free(struct col_enr *e);

/* One reload pass (the thread's body, also called by tests): slots due,
 * or all when force. Returns the number of tables swapped in. */
unsigned col_enr_reload(struct col_enr *e, int force);

/* A worker passed a point where it holds no table (end of a round). This
 * bump, the worker's loads of a table pointer, the reload thread's swap
 * and its reads of the counters are all sequentially consistent, so they
 * fall in one total order: neither side can read the other's old value
 * (store buffering), which would let the reloader count this bump as the
 * grace period while the worker's next round still read the old pointer.
 * (Not store + fence: ThreadSanitizer does not model fences, and on x86
 * the locked add costs what the store and mfence did.) */
static inline void col_enr_quiescent(uint64_t *q)
{
	__atomic_fetch_add(q, 1, __ATOMIC_SEQ_CST);
}

/* Per-worker lookup counters of each slot. */
struct col_enr_counts {
	uint64_t lookups[COL_ENRICH_MAX];
	uint64_t misses[COL_ENRICH_MAX];
};

#define COL_ENR_BATCH	64	/* flows held and enriched together */

/* Flows held for enrichment (a datagram's, up to COL_ENR_BATCH), slot by
 * slot, so that one slot's lookups run together and their cache misses
 * overlap instead of following each other. */
struct col_enr_batch {
	unsigned n;					/* flows held */
	uint8_t csv;					/* written as CSV cells, not JSON */
	const struct enrich_table *t[COL_ENRICH_MAX];	/* each slot's table for the batch */
	struct enrich_rows rows[COL_ENRICH_MAX];	/* its rows of that form, when has_rows */
	uint8_t has_rows[COL_ENRICH_MAX];
	const struct weir_addr *a[COL_ENRICH_MAX][COL_ENR_BATCH];	/* key address, or NULL */
	uint32_t row[COL_ENRICH_MAX][COL_ENR_BATCH];	/* enrich_find_many() */
};

/* A batch's enrichment in three steps:
 * - col_enr_hold(): one more flow (b->n < COL_ENR_BATCH), to be written as
 *   JSON members or (csv) CSV cells. The first of a batch reads every
 *   slot's table pointer: all the batch's fields of a source come from
 *   that table, whatever a reload does meanwhile. A worker writes its
 *   batch before its next quiescent point.
 * - col_enr_lookup(): look up the n flows at f (they stay in place until
 *   written), slot by slot; counts lookups and misses.
 * - col_enr_write(): append flow k's fields at out (cap bytes); counts the
 *   misses only a write shows (ENRICH_ROW_DIRECT). Returns the length, or
 *   SIZE_MAX when cap is too small.
 * Then b->n = 0 starts the next batch. */
static inline void col_enr_hold(const struct col_enr *e, struct col_enr_batch *b, int csv)
{
	if (b->n++)
		return;
	b->csv = (uint8_t)csv;
	for (unsigned i = 0; i < e->n; i++) {
		b->t[i] = __atomic_load_n(&e->slot[i].table, __ATOMIC_SEQ_CST);
		b->has_rows[i] = (uint8_t)enrich_table_rows(b->t[i], csv, &b->rows[i]);
	}
}

void col_enr_lookup(const struct col_enr *e, struct col_enr_batch *b, const struct flow *f,
		    struct col_enr_counts *c);

/* Slot i of col_enr_write(), for any cap: the length, or SIZE_MAX. */
size_t col_enr_write_slot(const struct col_enr *e, char *out, size_t cap,
			  const struct col_enr_batch *b, unsigned i, unsigned k,
			  struct col_enr_counts *c);
/* col_enr_write() for a cap that may be short of e's longest output. */
size_t col_enr_write_checked(const struct col_enr *e, char *out, size_t cap,
			     const struct col_enr_batch *b, unsigned k, struct col_enr_counts *c);

static inline size_t col_enr_write(const struct col_enr *e, char *out, size_t cap,
				   const struct col_enr_batch *b, unsigned k,
				   struct col_enr_counts *c)
{
	int csv = b->csv;
	size_t off = 0;

	if (cap < (csv ? e->csv_max : e->json_max))
		return col_enr_write_checked(e, out, cap, b, k, c);
	/* Room for every slot's longest text. */
	for (unsigned i = 0; i < e->n; i++) {
		uint32_t row = b->row[i][k];

		if (row < ENRICH_ROW_DIRECT && b->has_rows[i]) {
			off += enrich_row_fast(&b->rows[i], row, out + off);
		} else {
			size_t n = col_enr_write_slot(e, out + off, cap - off, b, i, k, c);

			if (n == SIZE_MAX)
				return SIZE_MAX;
			off += n;
		}
	}
	return off;
}

/* ",out1,out2..." for the CSV header row, into out (cap bytes); length or
 * SIZE_MAX. */
size_t col_enr_csv_header(const struct col_enr *e, char *out, size_t cap);

#endif
