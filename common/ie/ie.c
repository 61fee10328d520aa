/* ie.c - the registry of information elements.
 *
 * Built-in elements come from the table that build/iegen generates from
 * the ie-defs CSV files; IANA elements are found through a direct index by id, all
 * others by binary search on (pen, id). Custom elements loaded at run time
 * are searched first, so a site can correct or extend any definition.
 *
 * Custom definitions are allocated one by one and never moved or freed
 * before the registry: a pointer returned by ie_find() stays valid even
 * after a later ie_load_csv() replaced that element.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ie.h"
#include "ie_csv_int.h"

/* Lookup aids emitted by iegen next to the table (build/gen/ie_table.c):
 * the index + 1 of each IANA id below ie_builtin_iana_span (0 = none), and
 * the table indices ordered by name. */
extern const uint16_t ie_builtin_iana_index[];
extern const size_t ie_builtin_iana_span;
extern const uint16_t ie_builtin_name_index[];

#define IE_CUSTOM_MAX	65536	/* bound on custom definitions, all loads */

struct ie_registry {
	struct ie_def **owned;		/* every custom def ever loaded */
	size_t nowned;
	const struct ie_def **by_key;	/* live custom defs by (pen, id) */
	const struct ie_def **by_name;	/* the same, by name */
	size_t nlive;
};

static int key_cmp(uint32_t pa, uint16_t ia, uint32_t pb, uint16_t ib)
{
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (ia != ib)
		return ia < ib ? -1 : 1;
	return 0;
}

static int def_key_cmp(const void *a, const void *b)
{
	const struct ie_def *x = *(const struct ie_def *const *)a;
	const struct ie_def *y = *(const struct ie_def *const *)b;

	return key_cmp(x->pen, x->id, y->pen, y->id);
}

/* By name, then (pen, id): among equal names the lowest enterprise comes
 * first, and that is the one ie_find_name() returns. */
static int def_name_cmp(const void *a, const void *b)
{
	const struct ie_def *x = *(const struct ie_def *const *)a;
	const struct ie_def *y = *(const struct ie_def *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : key_cmp(x->pen, x->id, y->pen, y->id);
}

static void free_def(struct ie_def *d)
{
	if (!d)
		return;
	free((char *)d->name);
	free((char *)d->units);
	free(d);
}

struct ie_registry *ie_registry_new(void)
{
	return calloc(1, sizeof(struct ie_registry));
}

void ie_registry_free(struct ie_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	for (i = 0; i < reg->nowned; i++)
		free_def(reg->owned[i]);
	free(reg->owned);
	free(reg->by_key);
	free(reg->by_name);
	free(reg);
}

static const struct ie_def *custom_find(const struct ie_registry *reg,
					uint32_t pen, uint16_t id)
{
	size_t lo = 0, hi = reg->nlive;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ie_def *d = reg->by_key[mid];
		int c = key_cmp(pen, id, d->pen, d->id);

		if (c == 0)
			return d;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct ie_def *builtin_find(uint32_t pen, uint16_t id)
{
	size_t lo = 0, hi = ie_builtin_count;

	if (pen == IE_PEN_IANA) {
		if (id >= ie_builtin_iana_span || !ie_builtin_iana_index[id])
			return NULL;
		return &ie_builtin_defs[ie_builtin_iana_index[id] - 1];
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ie_def *d = &ie_builtin_defs[mid];
		int c = key_cmp(pen, id, d->pen, d->id);

		if (c == 0)
			return d;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct ie_def *ie_find(const struct ie_registry *reg, uint32_t pen, uint16_t id)
{
	const struct ie_def *d;

	if (reg && reg->nlive) {
		d = custom_find(reg, pen, id);
		if (d)
			return d;
	}
	return builtin_find(pen, id);
}

const struct ie_def *ie_find_name(const struct ie_registry *reg, const char *name)
{
	size_t lo, hi;

	if (!name)
		return NULL;
	/* Lower bound: the first entry not below name. */
	if (reg) {
		lo = 0;
		hi = reg->nlive;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (strcmp(reg->by_name[mid]->name, name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < reg->nlive && strcmp(reg->by_name[lo]->name, name) == 0)
			return reg->by_name[lo];
	}
	lo = 0;
	hi = ie_builtin_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ie_builtin_defs[ie_builtin_name_index[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ie_builtin_count &&
	    strcmp(ie_builtin_defs[ie_builtin_name_index[lo]].name, name) == 0)
		return &ie_builtin_defs[ie_builtin_name_index[lo]];
	return NULL;
}

/* The lines of one file, gathered before any of them is applied. */
struct load_batch {
	struct ie_def **defs;
	size_t n, cap;
	unsigned *lines;
	size_t lcap;
	size_t limit;
};

static int batch_add(void *user, const struct ie_csv_row *row, char *err, size_t errlen)
{
	struct load_batch *b = user;
	struct ie_def *d;

	if (b->n >= b->limit) {
		ie_csv_errf(err, errlen, row->file, row->line,
			    "more than %zu custom elements", (size_t)IE_CUSTOM_MAX);
		return WEIR_E_LIMIT;
	}
	if (dbuf_grow(&b->defs, &b->cap, b->n + 1, sizeof(*b->defs), b->limit) ||
	    dbuf_grow(&b->lines, &b->lcap, b->n + 1, sizeof(*b->lines), b->limit))
		return WEIR_E_NOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		return WEIR_E_NOMEM;
	d->pen = row->pen;
	d->id = row->id;
	d->type = row->type;
	d->sem = row->sem;
	d->name = strdup(row->name);
	d->units = strdup(row->units);
	if (!d->name || !d->units) {
		free_def(d);
		return WEIR_E_NOMEM;
	}
	b->defs[b->n] = d;
	b->lines[b->n] = row->line;
	b->n++;
	return WEIR_OK;
}

static void batch_free(struct load_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free_def(b->defs[i]);
	free(b->defs);
	free(b->lines);
}

/* The file lines of two definitions of one batch, in file order. */
static void batch_lines(const struct load_batch *b, const struct ie_def *x,
			const struct ie_def *y, unsigned *first, unsigned *second)
{
	unsigned l[2] = { 0, 0 };
	size_t k, m = 0;

	for (k = 0; k < b->n && m < 2; k++)
		if (b->defs[k] == x || b->defs[k] == y)
			l[m++] = b->lines[k];
	*first = l[0];
	*second = l[1];
}

/* Two lines of one file defining the same (pen, id), or the same name
 * within one enterprise. */
static int batch_check_dups(const struct load_batch *b, const char *path,
			    char *err, size_t errlen)
{
	struct ie_def **s;
	unsigned l1, l2;
	size_t i;
	int rc = WEIR_OK;

	if (b->n < 2)
		return WEIR_OK;
	s = malloc(b->n * sizeof(*s));
	if (!s)
		return WEIR_E_NOMEM;
	memcpy(s, b->defs, b->n * sizeof(*s));
	qsort(s, b->n, sizeof(*s), def_key_cmp);
	for (i = 1; i < b->n; i++) {
		if (def_key_cmp(&s[i - 1], &s[i]) != 0)
			continue;
		batch_lines(b, s[i - 1], s[i], &l1, &l2);
		ie_csv_errf(err, errlen, path, l2,
			    "duplicate element (%u, %u), first defined on line %u",
			    (unsigned)s[i]->pen, (unsigned)s[i]->id, l1);
		rc = WEIR_E_PARSE;
		goto out;
	}
	qsort(s, b->n, sizeof(*s), def_name_cmp);
	for (i = 1; i < b->n; i++) {
		if (strcmp(s[i - 1]->name, s[i]->name) != 0 || s[i - 1]->pen != s[i]->pen)
			continue;
		batch_lines(b, s[i - 1], s[i], &l1, &l2);
		ie_csv_errf(err, errlen, path, l2,
			    "duplicate name \"%s\", first defined on line %u",
			    s[i]->name, l1);
		rc = WEIR_E_PARSE;
		goto out;
	}
out:
	free(s);
	return rc;
}

int ie_load_csv(struct ie_registry *reg, const char *path, char *err, size_t errlen)
{
	struct load_batch b = { 0 };
	const struct ie_def **by_key = NULL, **by_name = NULL;
	struct ie_def **owned = NULL;
	size_t i, n;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!reg || !path)
		return WEIR_E_INVALID;
	b.limit = IE_CUSTOM_MAX - reg->nowned;
	rc = ie_csv_read(path, batch_add, &b, err, errlen);
	if (rc == WEIR_OK)
		rc = batch_check_dups(&b, path, err, errlen);
	if (rc != WEIR_OK)
		goto fail;

	/* Live set: old definitions not redefined by this file, then the new. */
	by_key = malloc((reg->nlive + b.n + 1) * sizeof(*by_key));
	by_name = malloc((reg->nlive + b.n + 1) * sizeof(*by_name));
	owned = realloc(reg->owned, (reg->nowned + b.n + 1) * sizeof(*owned));
	if (!by_key || !by_name || !owned) {
		if (owned)
			reg->owned = owned;
		rc = WEIR_E_NOMEM;
		goto fail;
	}
	reg->owned = owned;
	if (b.n)
		qsort(b.defs, b.n, sizeof(*b.defs), def_key_cmp);
	n = 0;
	for (i = 0; i < reg->nlive; i++) {
		const struct ie_def *old = reg->by_key[i];

		if (!b.n || !bsearch(&old, b.defs, b.n, sizeof(*b.defs), def_key_cmp))
			by_key[n++] = old;
	}
	for (i = 0; i < b.n; i++) {
		by_key[n++] = b.defs[i];
		owned[reg->nowned++] = b.defs[i];
	}
	if (n) {
		qsort(by_key, n, sizeof(*by_key), def_key_cmp);
		memcpy(by_name, by_key, n * sizeof(*by_name));
		qsort(by_name, n, sizeof(*by_name), def_name_cmp);
	}
	free(reg->by_key);
	free(reg->by_name);
	reg->by_key = by_key;
	reg->by_name = by_name;
	reg->nlive = n;
	free(b.defs);
	free(b.lines);
	return WEIR_OK;

fail:
	if (rc == WEIR_E_NOMEM && err && errlen && !err[0])
		ie_csv_errf(err, errlen, path, 0, "out of memory");
	free(by_key);
	free(by_name);
	batch_free(&b);
	return rc;
}
