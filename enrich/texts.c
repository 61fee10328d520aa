/* texts.c - a source's output texts: each distinct hit's JSON members and
 * CSV cells, rendered once at load and shared by the prefixes that write
 * the same (see internal.h). Both sources build them; lookups copy them.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define PACK_MAX	(256u << 20)	/* most memory the packed copy may take */

/* Texts a source may hold: the indexes are 32-bit, and two values above
 * the last index mean "none" to the callers. */
#define TEXTS_MAX	(UINT32_MAX - 2)
#define ARENA_MAX	((size_t)1 << 34)	/* their bytes */

/* FNV-1a, the dedupe table's key (never 0: that is an empty slot). */
static uint64_t hash_text(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

uint32_t enr_texts_intern(struct enr_texts *x, const char *t, size_t jlen, size_t clen)
{
	size_t n = jlen + clen;
	uint64_t h = hash_text(t, n);
	const struct oah_slot *s;
	struct enr_text *e;

	if (jlen > UINT32_MAX || clen > UINT32_MAX)
		return UINT32_MAX;
	if (!x->dedupe.max) {		/* the first text */
		oah_init(&x->dedupe, TEXTS_MAX);
		dbuf_init(&x->arena, ARENA_MAX);
	}
	/* Texts of one hash are told apart by their bytes. */
	for (s = oah_find(&x->dedupe, h); s; s = oah_find_next(&x->dedupe, s)) {
		e = &x->txt[s->val];
		if (e->jlen == jlen && e->clen == clen && memcmp(x->arena.p + e->off, t, n) == 0)
			return (uint32_t)s->val;
	}
	if (dbuf_grow(&x->txt, &x->txt_cap, (size_t)x->ntxt + 1, sizeof(*x->txt), TEXTS_MAX) ||
	    dbuf_reserve(&x->arena, n))
		return UINT32_MAX;
	if (oah_add(&x->dedupe, h, x->ntxt))
		return UINT32_MAX;	/* the bound (counted) or no memory */
	e = &x->txt[x->ntxt];
	e->off = x->arena.len;
	e->jlen = (uint32_t)jlen;
	e->clen = (uint32_t)clen;
	dbuf_add(&x->arena, t, n);	/* reserved: cannot fail */
	return x->ntxt++;
}

/* Lay one form of the texts (JSON members, or CSV cells) out at a fixed
 * stride (struct enrich_rows) when that costs at most twice their own
 * bytes and PACK_MAX: a lookup then reads one place (row * stride) instead
 * of txt[] and then the arena, one dependent cache miss fewer, and only
 * the form it writes. A row that fits a cache line gets a power-of-two
 * stride, so that it never straddles two: one miss per row, not two
 * (measured: most of a lookup's cost on a large table is its misses).
 * Without it (out of memory, texts of very unequal length) rows are read
 * through txt[]. */
static void pack(struct enr_texts *x, int csv)
{
	struct enr_packed *pk = &x->pk[csv];
	size_t longest = 0, bytes = 0, stride, len;
	char *m;

	for (uint32_t i = 0; i < x->ntxt; i++) {
		size_t n = csv ? x->txt[i].clen : x->txt[i].jlen;

		bytes += n;
		if (n > longest)
			longest = n;
	}
	if (!x->ntxt || longest > UINT16_MAX)
		return;
	stride = (longest + 2 + 7) & ~(size_t)7;
	if (stride <= 64)
		while (stride & (stride - 1))
			stride += 8;
	len = (size_t)x->ntxt * stride;
	if (len > PACK_MAX || len > 2 * (bytes + 2 * (size_t)x->ntxt) + (64u << 10))
		return;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	madvise(m, len, MADV_HUGEPAGE);
	for (uint32_t i = 0; i < x->ntxt; i++) {
		const struct enr_text *e = &x->txt[i];
		uint16_t n = (uint16_t)(csv ? e->clen : e->jlen);
		char *p = m + (size_t)i * stride;

		memcpy(p, &n, 2);
		memcpy(p + 2, x->arena.p + e->off + (csv ? e->jlen : 0), n);
	}
	pk->base = m;
	pk->stride = stride;
	pk->len = len;
}

void enr_texts_freeze(struct enr_texts *x)
{
	/* The texts live until the next reload: give back the slack of the
	 * doubling, and the dedupe slots. */
	oah_free(&x->dedupe);
	pack(x, 0);
	pack(x, 1);
	if (x->pk[0].base && x->pk[1].base) {
		/* Every lookup reads the rows: the arena is not needed. */
		dbuf_free(&x->arena);
		free(x->txt);
		x->txt = NULL;
		x->txt_cap = 0;
		return;
	}
	dbuf_trim(&x->arena);
	if (x->ntxt && x->ntxt < x->txt_cap) {
		struct enr_text *nt = realloc(x->txt, (size_t)x->ntxt * sizeof(*nt));

		if (nt) {
			x->txt = nt;
			x->txt_cap = x->ntxt;
		}
	}
}

void enr_texts_free(struct enr_texts *x)
{
	for (int f = 0; f < 2; f++)
		if (x->pk[f].base)
			munmap(x->pk[f].base, x->pk[f].len);
	oah_free(&x->dedupe);
	dbuf_free(&x->arena);
	free(x->txt);
	memset(x, 0, sizeof(*x));
}

size_t enr_texts_bytes(const struct enr_texts *x)
{
	return x->arena.cap + x->txt_cap * sizeof(struct enr_text) +
	       (size_t)x->dedupe.cap * sizeof(struct oah_slot) + x->pk[0].len + x->pk[1].len;
}

int enr_texts_rows(const struct enr_texts *x, int csv, struct enrich_rows *r)
{
	r->base = x->pk[csv].base;
	r->stride = x->pk[csv].stride;
	return r->base != NULL;
}

void enr_texts_load_many(const struct enr_texts *x, int csv, const uint32_t *v, unsigned n)
{
	const struct enr_packed *pk = &x->pk[csv];
	uint32_t sum = 0;

	/* Loads, not prefetches: measured on the collector, prefetches of a
	 * datagram's rows left most rows still missing the cache when they
	 * were written, where loads (independent of each other, so under way
	 * together) brought them in. The sum only keeps the loads. A value
	 * that is no text (a miss, ENRICH_ROW_DIRECT) is passed over. */
	if (!pk->base) {
		for (unsigned i = 0; i < n; i++)
			if (v[i] < x->ntxt)
				sum += x->txt[v[i]].jlen;
	} else if (pk->stride <= 64) {
		/* One line a row (pack()). */
		for (unsigned i = 0; i < n; i++)
			if (v[i] < x->ntxt)
				sum += (uint8_t)pk->base[(size_t)v[i] * pk->stride];
	} else {
		for (unsigned i = 0; i < n; i++)
			if (v[i] < x->ntxt) {
				const uint8_t *p = (const uint8_t *)pk->base + (size_t)v[i] * pk->stride;
				uint16_t len;

				memcpy(&len, p, 2);
				sum += p[len + 1];
			}
	}
	__asm__ volatile("" : : "r"(sum));
}

size_t enr_texts_text(const struct enr_texts *x, int csv, uint32_t v, char *out, size_t cap)
{
	const struct enr_text *e;
	struct enrich_rows r;
	size_t n;

	if (enr_texts_rows(x, csv, &r))
		return enrich_row_text(&r, v, out, cap);
	e = &x->txt[v];
	n = csv ? e->clen : e->jlen;
	if (n > cap)
		return SIZE_MAX;
	memcpy(out, x->arena.p + e->off + (csv ? e->jlen : 0), n);
	return n;
}
