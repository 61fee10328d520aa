/* lpm6.c - the IPv6 side of the longest-prefix-match tables: sorted
 * prefixes into ranges, the ranges over the top 64 bits with chunks for the
 * /64s split below, the tree of slots over them (the structure is
 * described atop lpm.c, where the lookups are).
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lpm.h"
#include "lpm_int.h"

static int cmp6(const void *x, const void *y)
{
	const struct ent6 *a = x, *b = y;

	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void emit6(u128 *s, uint32_t *v, size_t *m, u128 start, uint32_t val)
{
	if (*m && s[*m - 1] == start)
		(*m)--;
	if (*m && v[*m - 1] == val)
		return;
	s[*m] = start;
	v[*m] = val;
	(*m)++;
}

static size_t sweep6(const struct ent6 *e, size_t n, u128 *s, uint32_t *v)
{
	struct { u128 last; uint32_t v; } st[129];
	size_t m = 0, sp = 0;

	emit6(s, v, &m, 0, LPM_NONE);
	for (size_t i = 0; i < n; i++) {
		while (sp && st[sp - 1].last < e[i].p) {
			sp--;
			emit6(s, v, &m, st[sp].last + 1, sp ? st[sp - 1].v : LPM_NONE);
		}
		emit6(s, v, &m, e[i].p, e[i].v);
		st[sp].last = e[i].p | ~mask6(e[i].len);
		st[sp].v = e[i].v;
		sp++;
	}
	while (sp) {
		sp--;
		if (st[sp].last != ~(u128)0)
			emit6(s, v, &m, st[sp].last + 1, sp ? st[sp - 1].v : LPM_NONE);
	}
	return m;
}

/* The ranges over the top 64 bits, and the chunks of the /64s split below
 * that level. Searches thus compare 8-byte keys, and a leaf's keys take
 * half the cache lines 16-byte ones would. */
struct hi6 {
	uint64_t *k;
	uint32_t *raw;		/* the value, for ranges without a chunk */
	uint32_t *chunk;	/* offset of the /64's chunk, or NO_CHUNK */
	size_t m;
	uint64_t *lo;		/* chunks: n, n low-64 starts, n values two a word */
	size_t nlo, caplo;
};

#define NO_CHUNK	UINT32_MAX

static void hemit(struct hi6 *h, uint64_t key, uint32_t raw, uint32_t chunk)
{
	if (h->m && h->k[h->m - 1] == key)
		h->m--;
	if (chunk == NO_CHUNK && h->m && h->chunk[h->m - 1] == NO_CHUNK && h->raw[h->m - 1] == raw)
		return;
	h->k[h->m] = key;
	h->raw[h->m] = raw;
	h->chunk[h->m] = chunk;
	h->m++;
}

/* A chunk of n ranges: the first starts at low 0 with value v0, the
 * others at the low halves of s[i..i + n - 1) with values v[i..]. */
static int lochunk(struct hi6 *h, const u128 *s, const uint32_t *v, size_t i, size_t n,
		   uint32_t v0, uint32_t *off)
{
	size_t o = h->nlo, words = 1 + n + (n + 1) / 2;
	uint32_t *vals;

	if (o + words >= SLOT_IDX ||
	    lpm_grow((void **)&h->lo, &h->caplo, o + words, sizeof(*h->lo)))
		return WEIR_E_NOMEM;
	h->lo[o] = n;
	h->lo[o + 1] = 0;
	vals = (uint32_t *)(h->lo + o + 1 + n);
	vals[0] = v0;
	for (size_t j = 1; j < n; j++) {
		h->lo[o + 1 + j] = (uint64_t)s[i + j - 1];
		vals[j] = v[i + j - 1];
	}
	if (n % 2)
		vals[n] = 0;
	h->nlo = o + words;
	*off = (uint32_t)o;
	return WEIR_OK;
}

static int hilevel(struct hi6 *h, const u128 *s, const uint32_t *v, size_t m)
{
	size_t i = 0, j;
	uint32_t off;

	while (i < m) {
		uint64_t hk = (uint64_t)(s[i] >> 64);

		for (j = i + 1; j < m && (uint64_t)(s[j] >> 64) == hk; j++)
			;
		if (j == i + 1 && (uint64_t)s[i] == 0) {
			hemit(h, hk, v[i], NO_CHUNK);
		} else {
			/* The range covering hk:0 is i, or (i starting past
			 * it) the one before; s[0] == 0, so i > 0 then. */
			int at0 = (uint64_t)s[i] == 0;
			size_t c = at0 ? i : i - 1;

			if (lochunk(h, s, v, at0 ? i + 1 : i, j - (at0 ? i + 1 : i) + 1, v[c], &off))
				return WEIR_E_NOMEM;
			hemit(h, hk, 0, off);
			if (hk != UINT64_MAX)
				hemit(h, hk + 1, v[j - 1], NO_CHUNK);
		}
		i = j;
	}
	return WEIR_OK;
}


struct build6 {
	const uint64_t *k;
	const uint32_t *e;
	uint64_t *slot;
	size_t nslot, capslot;
};

/* Slots off .. off + 2^k for the block at base whose addresses share
 * their leading sh bits, indexed by the next k; ranges lo .. hi meet it.
 * Children go after them. */
static int slots6(struct build6 *b, size_t off, unsigned sh, unsigned k, uint64_t base,
		  size_t lo, size_t hi, unsigned depth)
{
	unsigned sb = 64 - sh - k;
	size_t ns = (size_t)1 << k, i = lo;
	int err;

	while (i < hi && b->k[i + 1] <= base)
		i++;
	for (size_t j = 0; j < ns; j++) {
		/* Wraps to all-ones at the very end of the space, as it should. */
		uint64_t start = base + ((uint64_t)j << sb), end = start + ((uint64_t)1 << sb) - 1;
		size_t last = i, coff;
		unsigned ck;
		uint64_t e;

		while (last < hi && b->k[last + 1] <= end)
			last++;
		if (last == i) {
			e = SLOT_ONE | i | (uint64_t)b->e[i] << 32;
		} else if (last - i + 1 <= LEAF_MAX || depth + 1 >= MAX_DEPTH) {
			e = i;
		} else {
			/* sb >= 1 here: a slot of one key holds one range. */
			ck = ceil_log2(last - i + 1) + K_EXTRA;
			ck = ck > KMAX ? KMAX : ck > sb ? sb : ck;
			coff = b->nslot;
			if (coff + ((size_t)1 << ck) + 1 >= CHILD_MAX ||
			    lpm_grow((void **)&b->slot, &b->capslot, coff + ((size_t)1 << ck) + 1,
				     sizeof(*b->slot)))
				return WEIR_E_NOMEM;
			b->nslot = coff + ((size_t)1 << ck) + 1;
			err = slots6(b, coff, sh + k, ck, start, i, last, depth + 1);
			if (err)
				return err;
			e = i | (uint64_t)(coff << 5 | ck) << 32;
		}
		b->slot[off + j] = e;
		i = last;
		if (j + 1 < ns && i < hi && b->k[i + 1] == end + 1)
			i++;
	}
	b->slot[off + ns] = hi;
	return WEIR_OK;
}

/* b's v6 prefixes sorted, the duplicates dropped (the last added wins),
 * swept into ranges: *s and *v (the caller frees them) hold *m ranges;
 * *n is the count of distinct prefixes. */
static int ranges6(const struct lpm_builder *b, u128 **s, uint32_t **v, size_t *m, size_t *n)
{
	struct ent6 *e = NULL;

	*n = 0;
	if (b->n6) {
		e = malloc(b->n6 * sizeof(*e));
		if (!e)
			return WEIR_E_NOMEM;
		memcpy(e, b->e6, b->n6 * sizeof(*e));
		qsort(e, b->n6, sizeof(*e), cmp6);
		for (size_t i = 0; i < b->n6; i++)
			if (i + 1 == b->n6 || e[i + 1].p != e[i].p || e[i + 1].len != e[i].len)
				e[(*n)++] = e[i];
	}
	*s = malloc((2 * *n + 1) * sizeof(**s));
	*v = malloc((2 * *n + 1) * sizeof(**v));
	if (!*s || !*v) {
		free(e);
		return WEIR_E_NOMEM;
	}
	*m = sweep6(e, *n, *s, *v);
	free(e);
	return WEIR_OK;
}

/* The m ranges over the top 64 bits (h, whose arrays the caller frees),
 * and their entries (*ent, h->m of them, the caller frees it): the value
 * itself, or the /64's chunk, or (a value past 2^31) a chunk of one range. */
static int entries6(struct hi6 *h, const u128 *s, const uint32_t *v, size_t m, uint32_t **ent)
{
	uint32_t *e;

	h->k = malloc((2 * m) * sizeof(*h->k));
	h->raw = malloc((2 * m) * sizeof(*h->raw));
	h->chunk = malloc((2 * m) * sizeof(*h->chunk));
	if (!h->k || !h->raw || !h->chunk || hilevel(h, s, v, m))
		return WEIR_E_NOMEM;
	*ent = e = malloc(h->m * sizeof(*e));
	if (!e)
		return WEIR_E_NOMEM;
	for (size_t i = 0; i < h->m; i++) {
		uint32_t off = h->chunk[i];

		if (off == NO_CHUNK && ENT_DIRECT(h->raw[i])) {
			e[i] = h->raw[i];
			continue;
		}
		if (off == NO_CHUNK && lochunk(h, NULL, NULL, 0, 1, h->raw[i], &off))
			return WEIR_E_NOMEM;
		e[i] = ENT_PTR | off;
	}
	return WEIR_OK;
}

/* The tree of slots over the ranges of h (bd->slot, the caller frees it).
 * The root skips the bits every start shares (001 for a table within
 * 2000::/3): an address below them takes range 0, above, the last. */
static int tree6(struct lpm *t, struct build6 *bd, const struct hi6 *h, const uint32_t *ent)
{
	unsigned k;

	if (h->m >= 3) {
		t->r6_shift = (uint8_t)__builtin_clzll(h->k[1] ^ h->k[h->m - 1]);
		t->r6_prefix = t->r6_shift ? h->k[1] >> (64 - t->r6_shift) : 0;
	}
	k = ceil_log2(h->m) + K_EXTRA;
	k = k < 1 ? 1 : k > KMAX_ROOT ? KMAX_ROOT : k;
	if (k > 64u - t->r6_shift)
		k = 64u - t->r6_shift;
	t->r6_k = (uint8_t)k;
	bd->k = h->k;
	bd->e = ent;
	bd->nslot = ((size_t)1 << k) + 1;
	if (lpm_grow((void **)&bd->slot, &bd->capslot, bd->nslot, sizeof(*bd->slot)))
		return WEIR_E_NOMEM;
	return slots6(bd, 0, t->r6_shift, k,
		      t->r6_shift ? t->r6_prefix << (64 - t->r6_shift) : 0, 0, h->m - 1, 0);
}

/* The built arrays copied into t's tables (lpm_tbl_alloc: huge pages for
 * the large ones), the ranges eight to a block. */
static int publish6(struct lpm *t, const struct hi6 *h, const uint32_t *ent,
		    const struct build6 *bd)
{
	t->m6 = h->m;
	t->nlo = h->nlo;
	t->nslot = bd->nslot;
	t->r6 = lpm_tbl_alloc((h->m + 7) / 8 * sizeof(*t->r6));
	t->lo6 = lpm_tbl_alloc(h->nlo * sizeof(*t->lo6));
	t->slot = lpm_tbl_alloc(bd->nslot * sizeof(*t->slot));
	t->sum6 = lpm_tbl_alloc((h->m + 7) / 8 * sizeof(*t->sum6));
	if (!t->r6 || !t->lo6 || !t->slot || !t->sum6)
		return WEIR_E_NOMEM;
	memset(t->r6, 0, (h->m + 7) / 8 * sizeof(*t->r6));
	for (size_t i = h->m; i % 8; i++)
		KEY6(t->r6, i) = UINT64_MAX;
	for (size_t i = 0; i < h->m; i++) {
		KEY6(t->r6, i) = h->k[i];
		ENT6(t->r6, i) = ent[i];
	}
	for (size_t q = 0; q < (h->m + 7) / 8; q++)
		t->sum6[q] = KEY6(t->r6, q * 8);
	if (h->nlo)
		memcpy(t->lo6, h->lo, h->nlo * sizeof(*h->lo));
	memcpy(t->slot, bd->slot, bd->nslot * sizeof(*bd->slot));
	return WEIR_OK;
}

int lpm_build6(struct lpm *t, const struct lpm_builder *b)
{
	struct build6 bd;
	struct hi6 h;
	u128 *s = NULL;
	uint32_t *v = NULL, *ent = NULL;
	size_t n, m;
	int err;

	memset(&bd, 0, sizeof(bd));
	memset(&h, 0, sizeof(h));
	err = ranges6(b, &s, &v, &m, &n);
	if (!err)
		err = entries6(&h, s, v, m, &ent);
	if (!err)
		err = tree6(t, &bd, &h, ent);
	if (!err)
		err = publish6(t, &h, ent, &bd);
	if (!err)
		t->prefixes6 = n;
	free(s);
	free(v);
	free(ent);
	free(h.k);
	free(h.raw);
	free(h.chunk);
	free(h.lo);
	free(bd.slot);
	return err;
}
