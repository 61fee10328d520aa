/* Unit tests of the longest-prefix-match tables (enrich/lpm.c), against a
 * brute-force reference: for each address, every prefix is scanned and the
 * longest covering one wins, the last added among equal ones; an IPv4
 * prefix (IPv4-mapped, 96 bits or more) covers only IPv4 addresses, any
 * other prefix only IPv6 ones. Prefixes and addresses come from a seeded
 * PRNG, so every run checks the same cases. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lpm.h"

typedef unsigned __int128 u128;

static uint64_t rng_state;

static uint64_t rnd64(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd32(void)
{
	return (uint32_t)(rnd64() >> 32);
}

static unsigned below(unsigned n)
{
	return (unsigned)(rnd64() % n);
}

static u128 rnd128(void)
{
	return (u128)rnd64() << 64 | rnd64();
}

/* x >> n for n up to 128 (a shift by 128 is undefined in C). */
static u128 shr128(u128 x, unsigned n)
{
	return n >= 128 ? 0 : x >> n;
}

static u128 mask(unsigned len)
{
	return len ? ~(u128)0 << (128 - len) : 0;
}

static const u128 V4MAPPED = (u128)0xffff << 32;

static struct weir_addr addr_of(u128 x)
{
	struct weir_addr a;

	for (int i = 15; i >= 0; i--) {
		a.a[i] = (uint8_t)x;
		x >>= 8;
	}
	return a;
}

static int is_v4(u128 x)
{
	return (x >> 32) == 0xffff;
}

/* The reference: prefixes as added, in the 16-byte form. */
struct ref {
	u128 p;		/* masked */
	u128 m;		/* mask(len) */
	unsigned len;	/* 0..128 */
	uint32_t v;
	int v4;		/* an IPv4 prefix (mapped, len >= 96) */
};

struct refset {
	struct ref *r;
	size_t n, cap;
};

static void ref_add(struct refset *rs, u128 p, unsigned len, uint32_t v)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		cr_assert_not_null(rs->r);
	}
	rs->r[rs->n].p = p & mask(len);
	rs->r[rs->n].m = mask(len);
	rs->r[rs->n].len = len;
	rs->r[rs->n].v = v;
	rs->r[rs->n].v4 = len >= 96 && (p >> 32) == 0xffff;
	rs->n++;
}

static uint32_t ref_lookup(const struct refset *rs, u128 a)
{
	int fam4 = is_v4(a), best = -1;
	uint32_t v = LPM_NONE;

	for (size_t i = 0; i < rs->n; i++) {
		const struct ref *r = &rs->r[i];

		if (r->v4 != fam4 || (a & r->m) != r->p)
			continue;
		if ((int)r->len >= best) {
			best = (int)r->len;
			v = r->v;
		}
	}
	return v;
}

/* Add to both the builder and the reference. IPv4 prefixes go in half the
 * time by lpm_builder_add4, half by their mapped form. */
static void add6(struct lpm_builder *b, struct refset *rs, u128 p, unsigned len, uint32_t v)
{
	struct weir_addr a = addr_of(p);

	cr_assert_eq(lpm_builder_add(b, &a, len, v), WEIR_OK);
	ref_add(rs, p, len, v);
}

static void add4(struct lpm_builder *b, struct refset *rs, uint32_t p, unsigned len, uint32_t v)
{
	if (rnd64() & 1) {
		cr_assert_eq(lpm_builder_add4(b, p, len, v), WEIR_OK);
		ref_add(rs, V4MAPPED | p, 96 + len, v);
	} else {
		add6(b, rs, V4MAPPED | p, 96 + len, v);
	}
}

/* Values: small row numbers mostly, but also 2^31 and above (stored
 * through the indirect entries), never LPM_NONE. */
static uint32_t rnd_value(void)
{
	uint32_t v;

	switch (below(4)) {
	case 0:
		v = rnd32() | 0x80000000u;
		return v == LPM_NONE ? 0xfffffffeu : v;
	case 1:
		return below(3);	/* a few values, so neighbours merge */
	default:
		return rnd32() & 0xfffff;
	}
}

/* Check one address against the reference; both entry points for IPv4. */
static void check(const struct lpm *t, const struct refset *rs, u128 x)
{
	struct weir_addr a = addr_of(x);
	uint32_t want = ref_lookup(rs, x), got = lpm_lookup(t, &a);
	char buf[WEIR_ADDR_STRLEN];

	cr_assert_eq(got, want, "%s: got %#x, want %#x", weir_addr_str(&a, buf, sizeof(buf)),
		     got, want);
	if (is_v4(x))
		cr_assert_eq(lpm_lookup4(t, (uint32_t)x), want, "lookup4 %s",
			     weir_addr_str(&a, buf, sizeof(buf)));
}

/* Every prefix's first and last address and their neighbours, then nq
 * addresses drawn uniformly (in the family of the table when fam is 4 or
 * 6, else either) and nq inside random prefixes. */
static void check_all(const struct lpm *t, const struct refset *rs, unsigned nq, int fam)
{
	for (size_t i = 0; i < rs->n; i++) {
		u128 first = rs->r[i].p, last = first | ~mask(rs->r[i].len);

		check(t, rs, first);
		check(t, rs, last);
		check(t, rs, last + 1);
		check(t, rs, first - 1);
	}
	for (unsigned q = 0; q < nq; q++) {
		u128 x = rnd128();

		if (fam == 4 || (fam == 0 && (rnd64() & 1)))
			x = V4MAPPED | (uint32_t)x;
		check(t, rs, x);
	}
	for (unsigned q = 0; rs->n && q < nq; q++) {
		const struct ref *r = &rs->r[below((unsigned)rs->n)];

		check(t, rs, r->p | (rnd128() & ~mask(r->len)));
	}
}

/* Heavily overlapping IPv4 prefixes: around a few anchors, so they nest
 * deeply; /0 and /32 often; every tenth a duplicate of an earlier one
 * (with other bits past its length, which must not matter). */
static void gen4(struct lpm_builder *b, struct refset *rs, size_t n, unsigned nanchor)
{
	uint32_t anchor[16];

	for (unsigned i = 0; i < nanchor; i++)
		anchor[i] = rnd32();
	for (size_t i = 0; i < n; i++) {
		unsigned len = below(10) == 0 ? (below(2) ? 32 : 0) : below(33);
		uint32_t p = anchor[below(nanchor)] ^ (uint32_t)((uint64_t)rnd32() >> below(33));

		if (rs->n && below(10) == 0) {
			const struct ref *r = &rs->r[below((unsigned)rs->n)];

			if (r->v4) {
				len = r->len - 96;
				p = (uint32_t)r->p | (len < 32 ? rnd32() >> len : 0);
			}
		}
		add4(b, rs, p, len, rnd_value());
	}
}

/* IPv6 the same way, lengths weighted to /0, /128 and the usual /29-/64,
 * plus prefixes shorter than /96 around ::ffff:0:0/96 that must never
 * cover an IPv4 address. */
static void gen6(struct lpm_builder *b, struct refset *rs, size_t n, unsigned nanchor)
{
	u128 anchor[16];

	for (unsigned i = 0; i < nanchor; i++)
		anchor[i] = rnd128();
	anchor[0] = V4MAPPED | rnd32();
	for (size_t i = 0; i < n; i++) {
		unsigned len;
		u128 p;

		switch (below(8)) {
		case 0:
			len = below(2) ? 128 : 0;
			break;
		case 1:
			len = 29 + below(36);
			break;
		default:
			len = below(129);
		}
		p = anchor[below(nanchor)] ^ shr128(rnd128(), below(129));
		if (rs->n && below(10) == 0) {
			const struct ref *r = &rs->r[below((unsigned)rs->n)];

			len = r->len;
			p = r->p | (len < 128 ? rnd128() >> len : 0);
		}
		add6(b, rs, p, len, rnd_value());
	}
}

static void property(uint64_t seed, size_t n4, size_t n6, unsigned nanchor, unsigned nq)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct lpm *t;

	rng_state = seed;
	cr_assert_not_null(b);
	gen4(b, &rs, n4, nanchor);
	gen6(b, &rs, n6, nanchor);
	/* Interleave the families in the reference order too. */
	t = lpm_build(b);
	cr_assert_not_null(t);
	cr_assert_eq(lpm_builder_count(b), n4 + n6);
	check_all(t, &rs, nq, n6 == 0 ? 4 : n4 == 0 ? 6 : 0);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

Test(lpm, property_v4_small)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		property(seed, 1 + seed * 3, 0, 1 + seed % 4, 300);
}

Test(lpm, property_v4_large)
{
	property(1001, 2500, 0, 8, 2500);
	property(1002, 2000, 0, 1, 2000);	/* one anchor: chunks of many ranges */
}

Test(lpm, property_v6_small)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		property(100 + seed, 0, 1 + seed * 3, 1 + seed % 4, 300);
}

Test(lpm, property_v6_large)
{
	property(2001, 0, 2500, 8, 2500);
	property(2002, 0, 2000, 1, 2000);
}

Test(lpm, property_mixed)
{
	for (uint64_t seed = 1; seed <= 10; seed++)
		property(300 + seed, 150 * seed, 150 * seed, 4, 1000);
}

/* Clusters inside clusters: /128s at many scales below one another, so the
 * v6 index grows children down to its depth cap and searches past it. */
Test(lpm, v6_nested_clusters)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	u128 base;
	struct lpm *t;

	rng_state = 77;
	base = rnd128() & mask(8);
	for (unsigned sc = 120; sc > 0; sc -= 6) {
		for (unsigned i = 0; i < 30; i++) {
			u128 off = sc < 128 ? rnd128() >> (128 - sc) : 0;

			add6(b, &rs, base | off, 128, rnd_value());
			add6(b, &rs, base | off, 128 - sc / 2, rnd_value());
		}
	}
	/* And 300 consecutive host routes. */
	for (unsigned i = 0; i < 300; i++)
		add6(b, &rs, base + 1000 + i, 128, i % 7);
	t = lpm_build(b);
	cr_assert_not_null(t);
	check_all(t, &rs, 2000, 6);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

/* Thousands of ranges inside one /48 beside prefixes spread over the whole
 * space: the index needs child levels there, down to its depth cap and a
 * search by halving past it; plus a cluster of /128s in one /64. */
Test(lpm, v6_dense_clusters)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct lpm *t;

	rng_state = 21;
	for (unsigned i = 0; i < 64; i++)
		add6(b, &rs, rnd128(), 8 + below(40), rnd_value());
	for (unsigned c = 0; c < 2; c++) {
		u128 base = rnd128() & mask(48);

		for (unsigned i = 0; i < 900; i++)
			add6(b, &rs, base | (rnd128() & ~mask(48)), 49 + below(16), rnd_value());
		for (unsigned i = 0; i < 300; i++)
			add6(b, &rs, base | (u128)i << 64 | rnd64(), 128, rnd_value());
	}
	t = lpm_build(b);
	cr_assert_not_null(t);
	check_all(t, &rs, 2000, 6);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

/* The benchmark's shape, scaled down: allocations (/29, /32) in six
 * /12s and longer prefixes inside them. The root then indexes /18s of
 * which few hold all the ranges, a dozen or more each: the search goes
 * from the blocks' first starts to one block of eight, across several
 * blocks of one slot, with large values through chunks of one range. */
Test(lpm, v6_clustered_blocks)
{
	static const uint16_t blk[] = { 0x2000, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	u128 alloc[1200];
	struct lpm *t;

	rng_state = 55;
	for (unsigned i = 0; i < 1200; i++) {
		unsigned len = below(3) ? 32 : 29;

		alloc[i] = ((u128)blk[below(6)] << 112 | rnd128() >> 12) & mask(len);
		add6(b, &rs, alloc[i], len, rnd_value());
	}
	for (unsigned i = 0; i < 3000; i++) {
		static const unsigned lens[] = { 36, 40, 44, 48, 48, 48, 56, 64, 128 };
		u128 al = alloc[below(1200)];

		add6(b, &rs, al | (rnd128() & ~mask(32)), lens[below(9)], rnd_value());
	}
	t = lpm_build(b);
	cr_assert_not_null(t);
	check_all(t, &rs, 4000, 6);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

/* Tables of 1 to 40 ranges and every count of unused starts in the last
 * block of eight: the all-ones address and its neighbours must not count
 * those (they are all ones too). */
Test(lpm, v6_last_block_padding)
{
	for (unsigned n = 1; n <= 20; n++) {
		struct lpm_builder *b = lpm_builder_new();
		struct refset rs = { 0 };
		struct lpm *t;

		rng_state = 600 + n;
		for (unsigned i = 0; i < n; i++)
			add6(b, &rs, ~(u128)0 - ((u128)below(1u << 20) << 64), 64, rnd_value());
		if (n % 2)
			add6(b, &rs, ~(u128)0, 128, 0x80000001u);
		t = lpm_build(b);
		cr_assert_not_null(t);
		for (unsigned i = 0; i < 4; i++) {
			check(t, &rs, ~(u128)0 - i);
			check(t, &rs, ~(u128)0 - ((u128)i << 64));
		}
		check_all(t, &rs, 200, 6);
		lpm_free(t);
		lpm_builder_free(b);
		free(rs.r);
	}
}

/* Enough scattered host routes that the root is at its cap of 2^20 slots
 * (the reference scan is too slow for that many: each route's address
 * gives its value, the addresses beside it LPM_NONE, unless a neighbour). */
Test(lpm, v6_root_at_cap)
{
	struct lpm_builder *b = lpm_builder_new();
	struct weir_addr a;
	struct lpm *t;
	size_t n = 300000;
	u128 *p = malloc(n * sizeof(*p));

	cr_assert_not_null(p);
	rng_state = 4242;
	for (size_t i = 0; i < n; i++) {
		p[i] = (u128)0x2 << 124 | rnd128() >> 4;
		a = addr_of(p[i]);
		cr_assert_eq(lpm_builder_add(b, &a, 128, i % 3 ? (uint32_t)i : 0x80000000u + (uint32_t)i),
			     WEIR_OK);
	}
	t = lpm_build(b);
	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++) {
		uint32_t want = i % 3 ? (uint32_t)i : 0x80000000u + (uint32_t)i;

		a = addr_of(p[i]);
		cr_assert_eq(lpm_lookup(t, &a), want, "route %zu", i);
		/* Random 124-bit routes: a neighbour one apart is not expected. */
		a = addr_of(p[i] + 1);
		cr_assert_eq(lpm_lookup(t, &a), LPM_NONE, "after route %zu", i);
		a = addr_of(p[i] - 1);
		cr_assert_eq(lpm_lookup(t, &a), LPM_NONE, "before route %zu", i);
	}
	a = addr_of(0);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	a = addr_of(~(u128)0);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	lpm_free(t);
	lpm_builder_free(b);
	free(p);
}

/* Every /64 of one /60 and more inside: the starts share 60 of the 64 top
 * bits, fewer than the root would like to index. */
Test(lpm, v6_narrow_root)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	u128 base;
	struct lpm *t;

	rng_state = 31;
	base = rnd128() & mask(60);
	for (unsigned i = 0; i < 16; i++) {
		add6(b, &rs, base | (u128)i << 64, 64, i % 3 ? i : 0x80000000u + i);
		add6(b, &rs, base | (u128)i << 64 | rnd64(), 65 + below(64), rnd_value());
	}
	add6(b, &rs, base, 62, 99);
	t = lpm_build(b);
	cr_assert_not_null(t);
	check_all(t, &rs, 2000, 6);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

/* Every host route of the last /120 of the space: 256 range starts within
 * 8 bits, more than the 8 bits left can index at once. */
Test(lpm, v6_dense_top_of_space)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct lpm *t;

	rng_state = 11;
	for (unsigned i = 0; i < 256; i++)
		add6(b, &rs, ~(u128)0 - i, 128, i);
	t = lpm_build(b);
	cr_assert_not_null(t);
	for (unsigned i = 0; i < 600; i++)
		check(t, &rs, ~(u128)0 - i);
	check_all(t, &rs, 100, 6);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

/* Every /32 of one /24, then /25../31 over them: a chunk of 256 ranges. */
Test(lpm, v4_full_chunk)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct lpm *t;

	rng_state = 5;
	for (uint32_t i = 0; i < 256; i++)
		add4(b, &rs, 0x0a000000 | i, 32, i * 2 + (i & 1 ? 0x80000000u : 0));
	for (unsigned len = 25; len < 32; len++)
		add4(b, &rs, 0x0a000000 | (rnd32() & 0xff), len, 1000 + len);
	add4(b, &rs, 0x0a000000, 8, 0x90000000u);
	t = lpm_build(b);
	cr_assert_not_null(t);
	for (uint32_t a = 0x09ffff00; a < 0x0a000200; a++)
		check(t, &rs, V4MAPPED | a);
	check_all(t, &rs, 1000, 4);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

Test(lpm, edges_of_the_space)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct lpm *t;

	rng_state = 9;
	add4(b, &rs, 0, 32, 1);
	add4(b, &rs, 0xffffffff, 32, 2);
	add4(b, &rs, 0, 1, 3);
	add4(b, &rs, 0x80000000, 1, 0xfffffffe);
	add6(b, &rs, 0, 128, 5);
	add6(b, &rs, ~(u128)0, 128, 6);
	add6(b, &rs, 1, 128, 7);			/* ::1 */
	add6(b, &rs, (u128)1 << 127, 1, 8);
	add6(b, &rs, 0, 96, 9);				/* ::/96, IPv4-compatible: IPv6 */
	t = lpm_build(b);
	cr_assert_not_null(t);
	check_all(t, &rs, 1000, 0);
	cr_assert_eq(lpm_lookup4(t, 0), 1);
	cr_assert_eq(lpm_lookup4(t, 1), 3);
	cr_assert_eq(lpm_lookup4(t, 0xffffffff), 2);
	cr_assert_eq(lpm_lookup4(t, 0xfffffffe), 0xfffffffe);
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
}

Test(lpm, family_separation)
{
	struct lpm_builder *b = lpm_builder_new();
	struct weir_addr a;
	struct lpm_stats st;
	struct lpm *t;

	a = addr_of(0);
	cr_assert_eq(lpm_builder_add(b, &a, 0, 10), WEIR_OK);		/* ::/0 */
	a = addr_of(V4MAPPED);
	cr_assert_eq(lpm_builder_add(b, &a, 95, 11), WEIR_OK);		/* ::fffe:0:0/95 */
	a = addr_of((u128)0x20010db8 << 96);
	cr_assert_eq(lpm_builder_add(b, &a, 32, 12), WEIR_OK);
	t = lpm_build(b);
	cr_assert_not_null(t);
	/* No IPv4 prefix: every IPv4 address misses, whatever covers its
	 * mapped form among the IPv6 prefixes. */
	cr_assert_eq(lpm_lookup4(t, 0x0a000001), LPM_NONE);
	cr_assert_eq(lpm_lookup4(t, 0), LPM_NONE);
	cr_assert_eq(lpm_lookup4(t, 0xffffffff), LPM_NONE);
	a = addr_of(V4MAPPED | 0xc0000201);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	a = addr_of(V4MAPPED - 1);				/* ::fffe:ffff:ffff */
	cr_assert_eq(lpm_lookup(t, &a), 11);
	a = addr_of((V4MAPPED | 0xffffffff) + 1);		/* ::1:0:0:0 */
	cr_assert_eq(lpm_lookup(t, &a), 10);
	a = addr_of((u128)0x20010db8 << 96 | 5);
	cr_assert_eq(lpm_lookup(t, &a), 12);
	lpm_free(t);

	/* IPv4 0/0, the mapped ::ffff:0:0/96 and add4(0, 0) are one prefix
	 * (the last wins); it never covers an IPv6 address. */
	cr_assert_eq(lpm_builder_add4(b, 0, 0, 20), WEIR_OK);
	a = addr_of(V4MAPPED);
	cr_assert_eq(lpm_builder_add(b, &a, 96, 21), WEIR_OK);
	a = addr_of(V4MAPPED | 0x0a000000);
	cr_assert_eq(lpm_builder_add(b, &a, 104, 22), WEIR_OK);	/* 10.0.0.0/8 */
	cr_assert_eq(lpm_builder_add4(b, 0x0a000000, 8, 23), WEIR_OK);
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	cr_assert_eq(st.prefixes4, 2);
	cr_assert_eq(st.prefixes6, 3);
	cr_assert_eq(lpm_lookup4(t, 0x0b000001), 21);
	cr_assert_eq(lpm_lookup4(t, 0x0a000001), 23);
	a = addr_of(V4MAPPED | 0x0a000001);
	cr_assert_eq(lpm_lookup(t, &a), 23);
	a = addr_of(1);						/* ::1 */
	cr_assert_eq(lpm_lookup(t, &a), 10);
	a = addr_of(V4MAPPED - 1);
	cr_assert_eq(lpm_lookup(t, &a), 11);
	lpm_free(t);
	lpm_builder_free(b);
}

Test(lpm, duplicates_last_wins)
{
	struct lpm_builder *b = lpm_builder_new();
	struct weir_addr a;
	struct lpm_stats st;
	struct lpm *t;

	cr_assert_eq(lpm_builder_add4(b, 0xc0a80000, 16, 1), WEIR_OK);
	cr_assert_eq(lpm_builder_add4(b, 0xc0a8ffff, 16, 2), WEIR_OK);	/* bits past /16 ignored */
	cr_assert_eq(lpm_builder_add4(b, 0xc0a80100, 24, 3), WEIR_OK);
	cr_assert_eq(lpm_builder_add4(b, 0xc0a80000, 16, 0x80000005), WEIR_OK);
	a = addr_of((u128)0x20010db8 << 96);
	cr_assert_eq(lpm_builder_add(b, &a, 32, 7), WEIR_OK);
	a = addr_of((u128)0x20010db8 << 96 | 0xffff);
	cr_assert_eq(lpm_builder_add(b, &a, 32, 8), WEIR_OK);
	cr_assert_eq(lpm_builder_count(b), 6);
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	cr_assert_eq(st.prefixes4, 2);
	cr_assert_eq(st.prefixes6, 1);
	cr_assert_eq(lpm_lookup4(t, 0xc0a80203), 0x80000005);
	cr_assert_eq(lpm_lookup4(t, 0xc0a801ff), 3);
	cr_assert_eq(lpm_lookup4(t, 0xc0a90000), LPM_NONE);
	a = addr_of((u128)0x20010db8 << 96 | 1);
	cr_assert_eq(lpm_lookup(t, &a), 8);
	lpm_free(t);
	lpm_builder_free(b);
}

Test(lpm, empty_table)
{
	struct lpm_builder *b = lpm_builder_new();
	struct lpm_stats st;
	struct weir_addr a;
	struct lpm *t;

	cr_assert_eq(lpm_builder_count(b), 0);
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	cr_assert_eq(st.prefixes4, 0);
	cr_assert_eq(st.prefixes6, 0);
	cr_assert_gt(st.bytes, 0);
	rng_state = 3;
	for (int i = 0; i < 1000; i++) {
		a = addr_of(rnd128());
		cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
		cr_assert_eq(lpm_lookup4(t, rnd32()), LPM_NONE);
	}
	a = addr_of(0);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	a = addr_of(~(u128)0);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	lpm_free(t);
	lpm_builder_free(b);
	cr_assert_null(lpm_build(NULL));
	lpm_free(NULL);
	lpm_builder_free(NULL);
}

Test(lpm, builder_add_errors)
{
	struct lpm_builder *b = lpm_builder_new();
	struct weir_addr a = addr_of(0);
	struct lpm *t;

	cr_assert_eq(lpm_builder_add(b, &a, 129, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add(b, &a, 1000, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add(b, &a, 64, LPM_NONE), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add(b, NULL, 64, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add(NULL, &a, 64, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add4(b, 0, 33, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add4(b, 0, 8, LPM_NONE), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_add4(NULL, 0, 8, 1), WEIR_E_INVALID);
	a = addr_of(V4MAPPED);
	cr_assert_eq(lpm_builder_add(b, &a, 129, 1), WEIR_E_INVALID);
	cr_assert_eq(lpm_builder_count(b), 0);
	/* The boundaries themselves are fine. */
	cr_assert_eq(lpm_builder_add(b, &a, 128, 0), WEIR_OK);
	cr_assert_eq(lpm_builder_add4(b, 1, 32, LPM_NONE - 1), WEIR_OK);
	cr_assert_eq(lpm_builder_count(b), 2);
	t = lpm_build(b);
	cr_assert_not_null(t);
	cr_assert_eq(lpm_lookup4(t, 0), 0);
	cr_assert_eq(lpm_lookup4(t, 1), LPM_NONE - 1);
	cr_assert_eq(lpm_lookup4(t, 2), LPM_NONE);
	lpm_free(t);
	lpm_builder_free(b);
}

/* lpm_build leaves the builder as it was: build, add, build again. */
Test(lpm, rebuild_from_builder)
{
	struct lpm_builder *b = lpm_builder_new();
	struct lpm *t1, *t2;

	cr_assert_eq(lpm_builder_add4(b, 0x0a000000, 8, 1), WEIR_OK);
	t1 = lpm_build(b);
	cr_assert_eq(lpm_builder_add4(b, 0x0a010000, 16, 2), WEIR_OK);
	cr_assert_eq(lpm_builder_add4(b, 0x0a000000, 8, 3), WEIR_OK);
	t2 = lpm_build(b);
	cr_assert(t1 && t2);
	cr_assert_eq(lpm_lookup4(t1, 0x0a010101), 1);
	cr_assert_eq(lpm_lookup4(t2, 0x0a010101), 2);
	cr_assert_eq(lpm_lookup4(t2, 0x0a020101), 3);
	cr_assert_eq(lpm_builder_count(b), 3);
	lpm_free(t1);
	lpm_free(t2);
	lpm_builder_free(b);
}

/* 100k IPv4 and 20k IPv6 prefixes of realistic lengths, spot-checked. */
Test(lpm, large_table_spot_check)
{
	static const unsigned len4[] = { 24, 24, 24, 24, 24, 24, 22, 23, 20, 21, 16, 19, 8, 12, 15, 25, 28, 32 };
	static const unsigned len6[] = { 48, 48, 48, 32, 32, 40, 44, 36, 29, 56, 64, 128 };
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs4 = { 0 }, rs6 = { 0 };
	struct lpm_stats st;
	struct lpm *t;

	rng_state = 4242;
	for (int i = 0; i < 100000; i++)
		add4(b, &rs4, rnd32(), len4[below(sizeof(len4) / sizeof(len4[0]))], rnd_value());
	for (int i = 0; i < 20000; i++)
		add6(b, &rs6, (u128)1 << 125 | rnd128() >> 3,
		     len6[below(sizeof(len6) / sizeof(len6[0]))], rnd_value());
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	cr_assert_gt(st.prefixes4, 90000);
	cr_assert_gt(st.prefixes6, 19000);
	for (int q = 0; q < 300; q++) {
		const struct ref *r4 = &rs4.r[below((unsigned)rs4.n)];
		const struct ref *r6 = &rs6.r[below((unsigned)rs6.n)];

		check(t, &rs4, V4MAPPED | rnd32());
		check(t, &rs4, r4->p | (rnd128() & ~mask(r4->len)));
		check(t, &rs4, r4->p | ~mask(r4->len));
		check(t, &rs6, r6->p | (rnd128() & ~mask(r6->len)));
		check(t, &rs6, (r6->p | ~mask(r6->len)) + 1);
	}
	lpm_free(t);
	lpm_builder_free(b);
	free(rs4.r);
	free(rs6.r);
}

/* Memory stays linear on adversarial input: scattered host routes split
 * every /16 and a /24 each (v4), or share no structure at all (v6). */
Test(lpm, memory_bounded)
{
	struct lpm_builder *b = lpm_builder_new();
	struct lpm_stats st;
	struct weir_addr a;
	struct lpm *t;
	size_t n = 200000;

	rng_state = 99;
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(lpm_builder_add4(b, rnd32(), 32, (uint32_t)i), WEIR_OK);
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	/* 64 MiB of groups at most, then ~20 bytes a route. */
	cr_assert_lt(st.bytes, (64u << 20) + (1u << 20) + 32 * n, "%zu bytes", st.bytes);
	lpm_free(t);
	lpm_builder_free(b);

	b = lpm_builder_new();
	for (size_t i = 0; i < n; i++) {
		a = addr_of(rnd128() | (u128)1 << 127);
		cr_assert_eq(lpm_builder_add(b, &a, 128, (uint32_t)i), WEIR_OK);
	}
	t = lpm_build(b);
	cr_assert_not_null(t);
	lpm_stats(t, &st);
	cr_assert_lt(st.bytes, (1u << 20) + 128 * n, "%zu bytes", st.bytes);
	a = addr_of(rnd128() | (u128)1 << 127);
	cr_assert_eq(lpm_lookup(t, &a), LPM_NONE);
	lpm_free(t);
	lpm_builder_free(b);
}

/* Lookups from several threads on one frozen table agree with the answers
 * of one thread. */
struct thr {
	const struct lpm *t;
	const u128 *q;
	const uint32_t *want;
	size_t n;
	size_t bad;
};

static void *thr_run(void *p)
{
	struct thr *th = p;

	for (int rep = 0; rep < 20; rep++)
		for (size_t i = 0; i < th->n; i++) {
			struct weir_addr a = addr_of(th->q[i]);

			th->bad += lpm_lookup(th->t, &a) != th->want[i];
		}
	return NULL;
}

Test(lpm, concurrent_lookups)
{
	struct lpm_builder *b = lpm_builder_new();
	struct refset rs = { 0 };
	struct thr th[4];
	pthread_t tid[4];
	size_t n = 5000;
	u128 *q = malloc(n * sizeof(*q));
	uint32_t *want = malloc(n * sizeof(*want));
	struct lpm *t;

	rng_state = 1234;
	gen4(b, &rs, 2000, 4);
	gen6(b, &rs, 2000, 4);
	t = lpm_build(b);
	cr_assert(t && q && want);
	for (size_t i = 0; i < n; i++) {
		const struct ref *r = &rs.r[below((unsigned)rs.n)];

		q[i] = r->p | (rnd128() & ~mask(r->len));
		want[i] = ref_lookup(&rs, q[i]);
	}
	for (int i = 0; i < 4; i++) {
		th[i] = (struct thr){ t, q, want, n, 0 };
		cr_assert_eq(pthread_create(&tid[i], NULL, thr_run, &th[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		cr_assert_eq(th[i].bad, 0);
	}
	lpm_free(t);
	lpm_builder_free(b);
	free(rs.r);
	free(q);
	free(want);
}

/* lpm_lookup_many() answers what lpm_lookup() does, LPM_NONE for a NULL
 * address, in calls of any size (one, a step of its own, more than a step,
 * uneven remainders): empty, IPv4-only, IPv6-only and mixed tables,
 * addresses of both families inside and outside their prefixes (lengths
 * 8 to 32 put many /24s in chunks). ASan checks its reads. */
Test(lpm, lookup_many_agrees_with_lookup)
{
	static const unsigned sizes[] = { 1, 7, 64, 65, 200, 2000 };

	for (int shape = 0; shape < 4; shape++) {
		struct lpm_builder *b = lpm_builder_new();
		static uint32_t want[2000], got[2000];
		static struct weir_addr a[2000];
		static const struct weir_addr *pa[2000];
		struct lpm *t;

		rng_state = 100 + (uint64_t)shape;
		for (int i = 0; i < 3000; i++) {
			if (shape & 1)
				cr_assert_eq(lpm_builder_add4(b, rnd32(), 8 + rnd32() % 25, (uint32_t)i), WEIR_OK);
			if (shape & 2) {
				struct weir_addr p = addr_of(rnd128() | (u128)0x2 << 124);

				cr_assert_eq(lpm_builder_add(b, &p, 16 + rnd32() % 113, (uint32_t)i), WEIR_OK);
			}
		}
		t = lpm_build(b);
		cr_assert_not_null(t);
		for (int i = 0; i < 2000; i++) {
			if (i % 2)
				weir_addr_v4u(&a[i], rnd32());
			else
				a[i] = addr_of(rnd128() | (i % 4 ? (u128)0x2 << 124 : 0));
			pa[i] = i % 13 == 5 ? NULL : &a[i];
			want[i] = pa[i] ? lpm_lookup(t, &a[i]) : LPM_NONE;
		}
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			unsigned n = sizes[k];

			for (unsigned off = 0; off + n <= 2000; off += n) {
				memset(got, 0xa5, sizeof(got));
				lpm_lookup_many(t, pa + off, got, n);
				for (unsigned i = 0; i < n; i++)
					cr_assert_eq(got[i], want[off + i], "shape %d size %u address %u",
						     shape, n, off + i);
				/* Nothing past the n asked for. */
				if (off + n < 2000)
					cr_assert_eq(got[n], 0xa5a5a5a5u);
			}
		}
		lpm_free(t);
		lpm_builder_free(b);
	}
}
