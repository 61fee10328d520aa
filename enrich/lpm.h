/* lpm.h - longest-prefix-match tables for IPv4 and IPv6, built once, read
 * by many threads.
 *
 * A table maps prefixes to 32-bit values (row numbers of a source). It is
 * built from a list of (prefix, length, value) in any order, then frozen:
 * lookups never write and never lock, so any number of threads may look up
 * in one table while another builds its successor. Overlapping prefixes
 * resolve to the longest one; the same prefix given twice keeps the last.
 *
 * Addresses are struct weir_addr: IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d)
 * so one table answers both families. An IPv4 prefix of length L is entered
 * as the IPv4-mapped prefix of length 96 + L (or with lpm_builder_add4).
 * The families stay apart: an IPv6 prefix shorter than 96 bits (::/0 say)
 * never covers an IPv4 address, and an IPv4 prefix never an IPv6 one.
 */
#ifndef WEIR_LPM_H
#define WEIR_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define LPM_NONE	UINT32_MAX	/* lookup: no prefix covers the address */

struct lpm_builder;
struct lpm;

/* A builder, empty. NULL when out of memory. */
struct lpm_builder *lpm_builder_new(void);
/* Add prefix p/len (len 0..128 over the 16-byte form; IPv4 as 96 + L) with
 * value v (not LPM_NONE). Bits of p past len are ignored. WEIR_OK,
 * WEIR_E_INVALID (len > 128 or v == LPM_NONE) or WEIR_E_NOMEM. */
int lpm_builder_add(struct lpm_builder *b, const struct weir_addr *p, unsigned len, uint32_t v);
/* Same, IPv4 in host order with len 0..32. */
int lpm_builder_add4(struct lpm_builder *b, uint32_t p, unsigned len, uint32_t v);
size_t lpm_builder_count(const struct lpm_builder *b);
void lpm_builder_free(struct lpm_builder *b);

/* Freeze the builder's prefixes into a table (the builder is left as it
 * was and still must be freed). NULL when out of memory. */
struct lpm *lpm_build(const struct lpm_builder *b);
void lpm_free(struct lpm *t);

/* The value of the longest prefix covering a, or LPM_NONE. */
uint32_t lpm_lookup(const struct lpm *t, const struct weir_addr *a);
/* IPv4 in host order: the same as lpm_lookup of its IPv4-mapped form. */
uint32_t lpm_lookup4(const struct lpm *t, uint32_t a);

/* n lookups at once: v[i] = lpm_lookup(t, a[i]), LPM_NONE where a[i] is
 * NULL. Faster than n calls of lpm_lookup when the table is not in the
 * cache: their cache misses overlap. */
void lpm_lookup_many(const struct lpm *t, const struct weir_addr *const *a, uint32_t *v, unsigned n);

struct lpm_stats {
	size_t prefixes4, prefixes6;	/* distinct prefixes in the table */
	size_t bytes;			/* memory the table holds */
};
void lpm_stats(const struct lpm *t, struct lpm_stats *s);

#endif
