/* lpm_int.h - what the parts of the longest-prefix-match tables share:
 * lpm.c (the builder, IPv4, the lookups) and lpm6.c (the IPv6 build). The
 * structure is described atop lpm.c. Internal to enrich/.
 */
#ifndef WEIR_LPM_INT_H
#define WEIR_LPM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lpm.h"

typedef unsigned __int128 u128;

#define ENT_PTR		0x80000000u
/* Entries that are the value itself: 0 .. 2^31 - 1 and LPM_NONE. */
#define ENT_DIRECT(e)	((uint32_t)((e) + 1) <= ENT_PTR)

#define LEAF_MAX	128		/* ranges a v6 slot may hold without a child */
#define MAX_DEPTH	3		/* v6 node levels, root included */
#define K_EXTRA		1		/* a v6 node's slots: 2^(log2(ranges) + this) */
#define KMAX_ROOT	20		/* 2^20 slots at most in the v6 root */
#define KMAX		16		/* ... and in any other node */
#define SLOT_ONE	(1ull << 31)	/* v6 slot: the high half is the entry */
#define SLOT_IDX	0x7fffffffu
#define CHILD_MAX	(1u << 27)	/* v6 slots: a child's offset has 27 bits */

struct ent4 {
	uint64_t key;	/* prefix << 6 | length: start order, shorter first */
	uint32_t v;
};

struct ent6 {
	u128 p;
	uint32_t v;
	uint32_t seq;	/* order of adds: of equal prefixes the last wins */
	uint8_t len;
};

struct lpm_builder {
	struct ent4 *e4;
	struct ent6 *e6;
	size_t n4, cap4, n6, cap6;
};

/* v6 ranges by eight: a cache line of starts, then one of their entries,
 * fetched together (blk_find) so that the entry costs no second wait. */
struct blk6 {
	uint64_t k[8];
	uint32_t e[8];
	uint32_t pad[8];
};

struct lpm {
	uint32_t *l1;		/* 65536 entries, by the top 16 bits */
	uint32_t *l2;		/* ngroups groups of 256, by the next 8 */
	uint32_t *pool;		/* chunks: n, ceil(n / 4) words of starts, n values */
	size_t ngroups, npool;
	struct blk6 *r6;	/* v6 ranges: starts (top 64 bits, the first 0), entries */
	uint64_t *sum6;		/* the first start of each block of r6 */
	uint64_t *lo6;		/* chunks of ranges inside one /64: n, starts, values */
	uint64_t *slot;		/* v6 slots, the root's first */
	size_t m6, nlo, nslot;
	uint64_t r6_prefix;	/* the root's leading r6_shift bits */
	uint8_t r6_shift, r6_k;
	size_t prefixes4, prefixes6;
};

#define KEY6(b, i)	((b)[(i) >> 3].k[(i) & 7])
#define ENT6(b, i)	((b)[(i) >> 3].e[(i) & 7])

static inline u128 mask6(unsigned len)
{
	return len ? ~(u128)0 << (128 - len) : 0;
}

static inline unsigned ceil_log2(size_t x)
{
	return x <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((unsigned long long)(x - 1));
}

/* Table arrays: from 2 MiB up mapped on huge pages (lpm.c); NULL without
 * memory. lpm_tbl_free takes the size given to lpm_tbl_alloc, and NULL. */
void *lpm_tbl_alloc(size_t bytes);
void lpm_tbl_free(void *p, size_t bytes);
/* Grow *p (*cap elements of size bytes) to hold need; WEIR_E_NOMEM. */
int lpm_grow(void **p, size_t *cap, size_t need, size_t size);
/* The IPv6 side of t from b's v6 prefixes (lpm6.c); WEIR_E_NOMEM. */
int lpm_build6(struct lpm *t, const struct lpm_builder *b);

#endif
