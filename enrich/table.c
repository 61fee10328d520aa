/* table.c - one loaded generation of a spec's source, whichever kind.
 * See enrich.h.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct enrich_table *enrich_table_load(const struct enrich_spec *s, char *err, size_t errlen)
{
	struct enrich_table *t;

	if (err && errlen)
		err[0] = '\0';
	if (!s || !s->source || !s->nfields || s->nfields > ENRICH_MAX_FIELDS) {
		enr_errf(err, errlen, "enrichment spec not parsed");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		enr_errf(err, errlen, "%s: out of memory", s->source);
		return NULL;
	}
	t->kind = s->kind;
	t->nfields = s->nfields;
	if (s->kind == ENRICH_CSV)
		t->csv = csvsrc_load(s, err, errlen);
	else
		t->mmdb = mmdbsrc_load(s, err, errlen);
	if (!t->csv && !t->mmdb) {
		free(t);
		return NULL;
	}
	return t;
}

void enrich_table_free(struct enrich_table *t)
{
	if (!t)
		return;
	csvsrc_free(t->csv);
	mmdbsrc_free(t->mmdb);
	free(t);
}

void enrich_table_stats(const struct enrich_table *t, struct enrich_table_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (t->csv)
		csvsrc_stats(t->csv, st);
	else if (t->mmdb)
		mmdbsrc_stats(t->mmdb, st);
}

size_t enrich_json(const struct enrich_table *t, const struct weir_addr *a,
		   char *out, size_t cap, int *hit)
{
	if (t->csv)
		return csvsrc_json(t->csv, a, out, cap, hit);
	return mmdbsrc_json(t->mmdb, a, out, cap, hit);
}

size_t enrich_csv(const struct enrich_table *t, const struct weir_addr *a,
		  char *out, size_t cap, int *hit)
{
	if (t->csv)
		return csvsrc_csv(t->csv, a, out, cap, hit);
	return mmdbsrc_csv(t->mmdb, a, out, cap, hit);
}

void enrich_find_many(const struct enrich_table *t, int csv, const struct weir_addr *const *a,
		      uint32_t *row, unsigned n)
{
	if (t->csv)
		csvsrc_find_many(t->csv, csv, a, row, n);
	else
		mmdbsrc_find_many(t->mmdb, csv, a, row, n);
}

static const struct enr_texts *texts(const struct enrich_table *t)
{
	return t->csv ? csvsrc_texts(t->csv) : mmdbsrc_texts(t->mmdb);
}

int enrich_table_rows(const struct enrich_table *t, int csv, struct enrich_rows *r)
{
	const struct enr_texts *x = texts(t);

	return x ? enr_texts_rows(x, csv, r) : 0;
}

size_t enrich_json_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap)
{
	const struct enr_texts *x = texts(t);

	return x ? enr_texts_text(x, 0, row, out, cap) : SIZE_MAX;
}

size_t enrich_csv_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap)
{
	const struct enr_texts *x = texts(t);

	return x ? enr_texts_text(x, 1, row, out, cap) : SIZE_MAX;
}
