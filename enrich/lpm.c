/* lpm.c - longest-prefix-match tables (lpm.h).
 *
 * Both families start the same way: the prefixes, sorted by start and then
 * shorter first, go through one sweep with a stack of the prefixes still
 * open, which yields disjoint ranges, each with the value of the longest
 * prefix covering it (LPM_NONE where none does); neighbours with the same
 * value merge. N prefixes make at most 2N + 1 ranges whatever their shape,
 * so every structure below is bounded by a multiple of N plus fixed arrays;
 * and the build is a sort and linear passes, never a fill per prefix.
 *
 * IPv4: three levels on 16, 8 and 8 bits of the address. Level one is a
 * direct array of 65536 entries: the value when one range covers the whole
 * /16, else the number of a group of 256 entries, one per /24; a group entry
 * is the value when one range covers the /24, else the offset of a chunk
 * (the ranges that meet that /24, as sorted 8-bit starts and their values,
 * searched by halving). Only a /16 that a range boundary splits has a group
 * (at most 65536 of 1 KiB) and only a split /24 has a chunk (at most one
 * per boundary), so a million scattered host routes cost 64 MiB plus about
 * 20 bytes each, where DIR-24-8 would spend 1 KiB on every split /24.
 *
 * Entries: a value below 2^31 and LPM_NONE stand for themselves; anything
 * else is ENT_PTR | index. A value of 2^31 or more that covers a whole /16
 * or /24 goes through a one-range group or chunk, made once per range and
 * shared by every block the range covers.
 *
 * IPv6: the same ranges, keyed by the top 64 bits of their starts.
 * Prefixes up to /64, nearly all of a real table, begin and end on /64
 * boundaries; a /64 inside which some range begins (a /128 there, say) is
 * one range of its own, whose entry points to a chunk of the ranges within
 * it keyed by the low 64 bits. The ranges sit eight to a 128-byte block, a
 * line of starts and a line of entries. A tree of direct indexes finds
 * them. The root skips the leading bits all starts share (001 for a table
 * within 2000::/3; an address outside them lies below or above every
 * start) and indexes the next k bits, 2^k about twice the ranges, at most
 * 2^20. A slot holds the entry when one range covers it, else the index of
 * the range covering its first address: the ranges from there to the next
 * slot's are searched by halving over the first start of each block (an
 * array of an eighth of the keys, small enough to stay in cache), then by
 * halving over the one block's eight starts; so the search reads one block
 * from memory. Real tables crowd into a few /12s, where the root's slots
 * each hold dozens of ranges: counting over all of a slot's blocks instead
 * read ten lines a lookup. A slot that more than LEAF_MAX ranges meet gets
 * a child index over the next bits, sized the same way, down to MAX_DEPTH
 * levels; past that, halving does the rest. The slots of one level stay below four
 * times the ranges, so memory is linear in N for any prefixes (200k random
 * /128s included), and a lookup is a few loads, at worst log2(N) steps.
 *
 * The v4 and v6 ranges are kept apart (lpm.h): a prefix of 96 bits or more
 * inside ::ffff:0:0/96 goes to the v4 side, everything else to the v6 side,
 * and a lookup goes to one side by the address's form; so a v6 range that
 * spans ::ffff:0:0/96 is never consulted for an IPv4 address.
 *
 * This file holds the builder, the IPv4 side, and the lookups of both; the
 * IPv6 build is lpm6.c, the structs they share lpm_int.h.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "err.h"
#include "lpm.h"
#include "lpm_int.h"

#define LINEAR_MAX	64		/* v6 search: halve down to this many, then count */

/* Per family, at most 2^28 prefixes: the 2N + 1 ranges, and the v6 ranges
 * over the top 64 bits (at most twice as many), keep indexes in 31 bits. */
#define PREFIXES_MAX	(1u << 28)
/* Tables from 2 MiB up are mapped and backed by huge pages where the kernel
 * offers them: random lookups over tens of MiB are otherwise TLB misses. */
#define HUGE_SZ		(2u << 20)

void *lpm_tbl_alloc(size_t bytes)
{
	size_t len;
	uintptr_t p, a;
	void *m;

	if (bytes < HUGE_SZ)
		return aligned_alloc(128, bytes ? (bytes + 127) & ~(size_t)127 : 128);
	len = (bytes + 4095) & ~(size_t)4095;
	m = mmap(NULL, len + HUGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	a = (p + HUGE_SZ - 1) & ~(uintptr_t)(HUGE_SZ - 1);
	if (a > p)
		munmap(m, a - p);
	if (a + len < p + len + HUGE_SZ)
		munmap((void *)(a + len), p + len + HUGE_SZ - (a + len));
	madvise((void *)a, len, MADV_HUGEPAGE);
	return (void *)a;
}

void lpm_tbl_free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < HUGE_SZ)
		free(p);
	else
		munmap(p, (bytes + 4095) & ~(size_t)4095);
}

/* The builder's arrays double through buf.h; memory is their only bound. */
int lpm_grow(void **p, size_t *cap, size_t need, size_t size)
{
	return dbuf_grow(p, cap, need, size, SIZE_MAX) ? WEIR_E_NOMEM : WEIR_OK;
}

static uint32_t mask4(unsigned len)
{
	return len ? 0xffffffffu << (32 - len) : 0;
}

/* ---- builder ---- */

struct lpm_builder *lpm_builder_new(void)
{
	return calloc(1, sizeof(struct lpm_builder));
}

int lpm_builder_add4(struct lpm_builder *b, uint32_t p, unsigned len, uint32_t v)
{
	if (!b || len > 32 || v == LPM_NONE)
		return WEIR_E_INVALID;
	if (b->n4 >= PREFIXES_MAX)
		return WEIR_E_NOMEM;
	if (b->n4 == b->cap4 && lpm_grow((void **)&b->e4, &b->cap4, b->n4 + 1, sizeof(*b->e4)))
		return WEIR_E_NOMEM;
	b->e4[b->n4].key = (uint64_t)(p & mask4(len)) << 6 | len;
	b->e4[b->n4].v = v;
	b->n4++;
	return WEIR_OK;
}

static u128 load128(const uint8_t *a)
{
	uint64_t hi, lo;

	memcpy(&hi, a, 8);
	memcpy(&lo, a + 8, 8);
	return (u128)be64toh(hi) << 64 | be64toh(lo);
}

int lpm_builder_add(struct lpm_builder *b, const struct weir_addr *p, unsigned len, uint32_t v)
{
	struct ent6 *e;

	if (!b || !p || len > 128 || v == LPM_NONE)
		return WEIR_E_INVALID;
	/* A prefix inside ::ffff:0:0/96 is an IPv4 one; a shorter prefix
	 * that spans it stays IPv6 and so never covers an IPv4 address. */
	if (len >= 96 && memcmp(p->a, weir_v4_prefix, 12) == 0) {
		uint32_t v4 = (uint32_t)p->a[12] << 24 | (uint32_t)p->a[13] << 16 |
			      (uint32_t)p->a[14] << 8 | p->a[15];

		return lpm_builder_add4(b, v4, len - 96, v);
	}
	if (b->n6 >= PREFIXES_MAX)
		return WEIR_E_NOMEM;
	if (b->n6 == b->cap6 && lpm_grow((void **)&b->e6, &b->cap6, b->n6 + 1, sizeof(*b->e6)))
		return WEIR_E_NOMEM;
	e = &b->e6[b->n6];
	e->p = load128(p->a) & mask6(len);
	e->len = (uint8_t)len;
	e->v = v;
	e->seq = (uint32_t)b->n6;
	b->n6++;
	return WEIR_OK;
}

size_t lpm_builder_count(const struct lpm_builder *b)
{
	return b ? b->n4 + b->n6 : 0;
}

void lpm_builder_free(struct lpm_builder *b)
{
	if (!b)
		return;
	free(b->e4);
	free(b->e6);
	free(b);
}

/* ---- IPv4 ---- */

/* Stable LSD radix sort on the 38-bit key, three passes of 13 bits, from
 * src into a or b; returns the one holding the result. Stability keeps
 * equal prefixes in the order they were added. */
static struct ent4 *sort4(const struct ent4 *src, size_t n, struct ent4 *a, struct ent4 *b)
{
	static const unsigned bits = 13;
	const struct ent4 *in = src;
	struct ent4 *out = a;
	size_t *pos = malloc(sizeof(size_t) << bits);

	if (!pos)
		return NULL;
	for (unsigned sh = 0; sh < 39; sh += bits) {
		size_t sum = 0;

		memset(pos, 0, sizeof(size_t) << bits);
		for (size_t i = 0; i < n; i++)
			pos[(in[i].key >> sh) & ((1u << bits) - 1)]++;
		for (size_t d = 0; d < (1u << bits); d++) {
			size_t c = pos[d];

			pos[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			out[pos[(in[i].key >> sh) & ((1u << bits) - 1)]++] = in[i];
		in = out;
		out = out == a ? b : a;
	}
	free(pos);
	return (struct ent4 *)in;
}

/* Value val from start on: replaces a range of length zero at start and
 * merges with an equal neighbour, so the ranges stay minimal. */
static void emit4(uint32_t *s, uint32_t *v, size_t *m, uint32_t start, uint32_t val)
{
	if (*m && s[*m - 1] == start)
		(*m)--;
	if (*m && v[*m - 1] == val)
		return;
	s[*m] = start;
	v[*m] = val;
	(*m)++;
}

/* Sorted, deduplicated prefixes into ranges; s and v hold 2n + 1. */
static size_t sweep4(const struct ent4 *e, size_t n, uint32_t *s, uint32_t *v)
{
	struct { uint64_t last; uint32_t v; } st[33];	/* nested: lengths strictly rise */
	size_t m = 0, sp = 0;

	emit4(s, v, &m, 0, LPM_NONE);
	for (size_t i = 0; i < n; i++) {
		uint64_t start = e[i].key >> 6;
		unsigned len = e[i].key & 63;

		while (sp && st[sp - 1].last < start) {
			sp--;
			emit4(s, v, &m, (uint32_t)(st[sp].last + 1), sp ? st[sp - 1].v : LPM_NONE);
		}
		emit4(s, v, &m, (uint32_t)start, e[i].v);
		st[sp].last = start + (((uint64_t)1 << (32 - len)) - 1);
		st[sp].v = e[i].v;
		sp++;
	}
	while (sp) {
		sp--;
		if (st[sp].last < 0xffffffffu)
			emit4(s, v, &m, (uint32_t)(st[sp].last + 1), sp ? st[sp - 1].v : LPM_NONE);
	}
	return m;
}

/* One pass over the ranges, counting (l1 == NULL) or filling the levels. */
struct fill4 {
	const uint32_t *s, *v;
	size_t m;
	uint32_t *l1, *l2, *pool;
	size_t ngroups, npool;
	size_t one_i, grp_i;	/* the range whose one-range chunk / group ... */
	uint32_t one, grp;	/* ... these are */
};

static uint32_t chunk4(struct fill4 *f, size_t i, size_t n)
{
	size_t off = f->npool, kw = (n + 3) / 4;

	f->npool += 1 + kw + n;
	if (f->pool) {
		uint32_t *c = f->pool + off;
		uint8_t *k = (uint8_t *)(c + 1);

		c[0] = (uint32_t)n;
		memset(k, 0, kw * 4);
		for (size_t j = 0; j < n; j++) {
			/* The first range began at or before the /24. */
			k[j] = j ? (uint8_t)f->s[i + j] : 0;
			c[1 + kw + j] = f->v[i + j];
		}
	}
	return ENT_PTR | (uint32_t)off;
}

static uint32_t whole24(struct fill4 *f, size_t i)
{
	if (ENT_DIRECT(f->v[i]))
		return f->v[i];
	if (f->one_i != i) {
		f->one_i = i;
		f->one = chunk4(f, i, 1);
	}
	return f->one;
}

static uint32_t whole16(struct fill4 *f, size_t i)
{
	uint32_t e;

	if (ENT_DIRECT(f->v[i]))
		return f->v[i];
	if (f->grp_i != i) {
		f->grp_i = i;
		f->grp = ENT_PTR | (uint32_t)f->ngroups++;
		e = whole24(f, i);
		if (f->l2)
			for (size_t b = 0; b < 256; b++)
				f->l2[((size_t)(f->grp & ~ENT_PTR) << 8) | b] = e;
	}
	return f->grp;
}

static void fill4(struct fill4 *f)
{
	const uint32_t *s = f->s;
	size_t i = 0, m = f->m;

	f->ngroups = f->npool = 0;
	f->one_i = f->grp_i = SIZE_MAX;
	for (uint32_t h = 0; h < 65536; h++) {
		uint32_t base = h << 16, e;
		size_t g;

		while (i + 1 < m && s[i + 1] <= base)
			i++;
		if (i + 1 == m || s[i + 1] > (base | 0xffff)) {
			e = whole16(f, i);
		} else {
			g = f->ngroups++;
			for (uint32_t b = 0; b < 256; b++) {
				uint32_t bb = base | b << 8;
				size_t j;

				while (i + 1 < m && s[i + 1] <= bb)
					i++;
				for (j = i + 1; j < m && s[j] <= (bb | 0xff); j++)
					;
				e = j == i + 1 ? whole24(f, i) : chunk4(f, i, j - i);
				if (f->l2)
					f->l2[g << 8 | b] = e;
			}
			e = ENT_PTR | (uint32_t)g;
		}
		if (f->l1)
			f->l1[h] = e;
	}
}

static int build4(struct lpm *t, const struct lpm_builder *b)
{
	struct ent4 *wa = NULL, *wb = NULL, *e = NULL;
	uint32_t *s = NULL, *v = NULL;
	struct fill4 f;
	size_t n = 0, m;
	int err = WEIR_E_NOMEM;

	if (b->n4) {
		wa = malloc(b->n4 * sizeof(*wa));
		wb = malloc(b->n4 * sizeof(*wb));
		if (!wa || !wb)
			goto out;
		e = sort4(b->e4, b->n4, wa, wb);
		if (!e)
			goto out;
		/* Of equal prefixes keep the last added (the sort is stable). */
		for (size_t i = 0; i < b->n4; i++)
			if (i + 1 == b->n4 || e[i + 1].key != e[i].key)
				e[n++] = e[i];
	}
	s = malloc((2 * n + 1) * sizeof(*s));
	v = malloc((2 * n + 1) * sizeof(*v));
	if (!s || !v)
		goto out;
	m = sweep4(e, n, s, v);
	free(wa);
	free(wb);
	wa = wb = NULL;

	memset(&f, 0, sizeof(f));
	f.s = s;
	f.v = v;
	f.m = m;
	fill4(&f);
	if (f.npool >= SLOT_IDX)
		goto out;
	t->ngroups = f.ngroups;
	t->npool = f.npool;
	t->l1 = lpm_tbl_alloc(65536 * sizeof(uint32_t));
	t->l2 = lpm_tbl_alloc(t->ngroups * 256 * sizeof(uint32_t));
	t->pool = lpm_tbl_alloc(t->npool * sizeof(uint32_t));
	if (!t->l1 || !t->l2 || !t->pool)
		goto out;
	f.l1 = t->l1;
	f.l2 = t->l2;
	f.pool = t->pool;
	fill4(&f);
	t->prefixes4 = n;
	err = WEIR_OK;
out:
	free(wa);
	free(wb);
	free(s);
	free(v);
	return err;
}

static uint32_t chunk_find(const uint32_t *c, uint32_t x)
{
	uint32_t n = c[0], base = 0;
	const uint8_t *k = (const uint8_t *)(c + 1);

	while (n > 1) {
		uint32_t half = n >> 1;

		base = k[base + half] <= x ? base + half : base;
		n -= half;
	}
	return c[1 + ((c[0] + 3) >> 2) + base];
}

static inline uint32_t look4(const struct lpm *t, uint32_t a)
{
	uint32_t e = t->l1[a >> 16];

	if (ENT_DIRECT(e))
		return e;
	e = t->l2[(size_t)(e & ~ENT_PTR) << 8 | ((a >> 8) & 0xff)];
	if (ENT_DIRECT(e))
		return e;
	return chunk_find(t->pool + (e & ~ENT_PTR), a & 0xff);
}

/* ---- IPv6 lookups (the build is lpm6.c) ---- */

/* Index of the last of k[0..n) at or below x (k[0] is): halving while
 * many are left, then counting, whose loads do not wait on each other. */
static inline size_t key_find(const uint64_t *k, size_t n, uint64_t x)
{
	const uint64_t *p = k;
	size_t c = 0;

	while (n > LINEAR_MAX) {
		size_t half = n >> 1;

		p = p[half] <= x ? p + half : p;
		n -= half;
	}
	for (size_t i = 1; i < n; i++)
		c += p[i] <= x;
	return (size_t)(p - k) + c;
}

/* The same over ranges a .. a + n - 1 of the blocks (KEY6(r, a) <= x).
 * The starts are sorted over all blocks and range a + n starts past x, so
 * the answer is the last start at or below x anywhere: its block is found
 * by halving over the blocks' first starts (sum, an eighth of the keys,
 * in cache where the blocks are not), then the start by halving over the
 * block's eight (the unused ones past the last block are all ones). Only
 * that block is read, its starts' line and its entries' together: one
 * wait on memory, and few instructions, so that the next lookups' misses
 * fit in the window beside this one's. */
static inline size_t blk_find(const struct blk6 *r, const uint64_t *sum, size_t a, size_t n,
			      uint64_t x)
{
	size_t b = a + n - 1, q = a >> 3, nq = (b >> 3) - q + 1, j;
	const uint64_t *k;

	/* sum[a >> 3] may be a start before a, at or below x either way. */
	while (nq > 1) {
		size_t half = nq >> 1;

		q = sum[q + half] <= x ? q + half : q;
		nq -= half;
	}
	k = r[q].k;
	__builtin_prefetch(r[q].e);
	j = (size_t)(k[4] <= x) << 2;
	j += (size_t)(k[j + 2] <= x) << 1;
	j += k[j + 1] <= x;
	/* Past b only when x is all ones and the unused starts count. */
	j += q * 8;
	return j < b ? j : b;
}

static inline uint32_t look6(const struct lpm *t, uint64_t xh, uint64_t xl)
{
	unsigned sh = t->r6_shift, k = t->r6_k;
	const uint64_t *sl, *c;
	uint64_t s0;
	uint32_t e;

	if (sh) {
		uint64_t top = xh >> (64 - sh);

		if (top != t->r6_prefix) {
			e = ENT6(t->r6, top < t->r6_prefix ? 0 : t->m6 - 1);
			goto resolve;
		}
	}
	sl = t->slot + ((xh << sh) >> (64 - k));
	for (;;) {
		s0 = sl[0];
		if (s0 & SLOT_ONE) {
			e = (uint32_t)(s0 >> 32);
			goto resolve;
		}
		if (!(s0 >> 32))
			break;
		sh += k;
		k = (s0 >> 32) & 31;
		sl = t->slot + (s0 >> 37) + ((xh << sh) >> (64 - k));
	}
	s0 &= SLOT_IDX;
	e = ENT6(t->r6, blk_find(t->r6, t->sum6, s0, (sl[1] & SLOT_IDX) - s0 + 1, xh));
resolve:
	if (ENT_DIRECT(e))
		return e;
	c = t->lo6 + (e & ~ENT_PTR);
	return ((const uint32_t *)(c + 1 + c[0]))[key_find(c + 1, c[0], xl)];
}

/* ---- table ---- */

struct lpm *lpm_build(const struct lpm_builder *b)
{
	struct lpm *t;

	if (!b)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (build4(t, b) || lpm_build6(t, b)) {
		lpm_free(t);
		return NULL;
	}
	return t;
}

void lpm_free(struct lpm *t)
{
	if (!t)
		return;
	lpm_tbl_free(t->l1, 65536 * sizeof(uint32_t));
	lpm_tbl_free(t->l2, t->ngroups * 256 * sizeof(uint32_t));
	lpm_tbl_free(t->pool, t->npool * sizeof(uint32_t));
	lpm_tbl_free(t->r6, (t->m6 + 7) / 8 * sizeof(*t->r6));
	lpm_tbl_free(t->sum6, (t->m6 + 7) / 8 * sizeof(*t->sum6));
	lpm_tbl_free(t->lo6, t->nlo * sizeof(*t->lo6));
	lpm_tbl_free(t->slot, t->nslot * sizeof(*t->slot));
	free(t);
}

uint32_t lpm_lookup4(const struct lpm *t, uint32_t a)
{
	return look4(t, a);
}

uint32_t lpm_lookup(const struct lpm *t, const struct weir_addr *a)
{
	uint64_t hi, lo;

	memcpy(&hi, a->a, 8);
	memcpy(&lo, a->a + 8, 8);
	hi = be64toh(hi);
	lo = be64toh(lo);
	if (hi == 0 && lo >> 32 == 0xffff)
		return look4(t, (uint32_t)lo);
	return look6(t, hi, lo);
}

#define MANY_STEP	64	/* lookups of lpm_lookup_many() taken together */

void lpm_lookup_many(const struct lpm *t, const struct weir_addr *const *a, uint32_t *v, unsigned n)
{
	const uint32_t *at[MANY_STEP];
	uint32_t key[MANY_STEP], ent[MANY_STEP];

	/* In steps over all the addresses, so that the loads that miss the
	 * cache (the second level's entries: a large table's are spread over
	 * megabytes) come together in a short loop of their own, where the
	 * core has them all under way at once. Measured (bench/enrich_lpm
	 * (e), and the collector): a loop of whole lookups overlapped fewer
	 * of them, and prefetches did no better. */
	while (n) {
		unsigned m = n < MANY_STEP ? n : MANY_STEP;
		uint64_t v6 = 0;	/* bit i: a[i] is looked up on the v6 side */

		for (unsigned i = 0; i < m; i++) {
			uint32_t x, e;

			at[i] = NULL;
			ent[i] = LPM_NONE;
			if (!a[i])
				continue;
			if (!weir_addr_is_v4(a[i])) {
				v6 |= 1ull << i;
				continue;
			}
			memcpy(&x, a[i]->a + 12, 4);
			key[i] = x = be32toh(x);
			ent[i] = e = t->l1[x >> 16];
			if (!ENT_DIRECT(e))
				at[i] = &t->l2[(size_t)(e & ~ENT_PTR) << 8 | ((x >> 8) & 0xff)];
		}
		for (unsigned i = 0; i < m; i++)
			if (at[i])
				ent[i] = *at[i];
		for (unsigned i = 0; i < m; i++) {
			uint32_t e = ent[i];

			if (v6 >> i & 1)
				v[i] = lpm_lookup(t, a[i]);
			else
				v[i] = ENT_DIRECT(e) ? e : chunk_find(t->pool + (e & ~ENT_PTR), key[i] & 0xff);
		}
		a += m;
		v += m;
		n -= m;
	}
}

void lpm_stats(const struct lpm *t, struct lpm_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!t)
		return;
	st->prefixes4 = t->prefixes4;
	st->prefixes6 = t->prefixes6;
	st->bytes = sizeof(*t) + 65536 * sizeof(uint32_t) +
		    t->ngroups * 256 * sizeof(uint32_t) + t->npool * sizeof(uint32_t) +
		    (t->m6 + 7) / 8 * (sizeof(*t->r6) + sizeof(*t->sum6)) + t->nlo * sizeof(*t->lo6) +
		    t->nslot * sizeof(*t->slot);
}
