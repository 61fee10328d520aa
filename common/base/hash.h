/* hash.h - the one open-addressing hash table of libweir.
 *
 * Keys are 64-bit numbers the user supplies: a template id, a pointer, a
 * file offset, or, for a key longer than that (a text), the user's hash of
 * it; values are 64-bit numbers (an index, or a pointer through uintptr_t).
 * Key 0 marks an empty slot and cannot be stored: a user whose keys may be
 * 0 stores key + 1. Several entries may share a key (oah_add does not look
 * for one first): oah_find_next walks them, and the user tells them apart
 * by their values (text dedupe confirms the bytes).
 *
 * Linear probing from the high bits of a multiplicative hash of the key
 * (keys that differ only in high bits, or that share their low bits, still
 * spread); the table doubles when it would be more than 3/4 full, and
 * holds at most max entries: an insert past the bound returns WEIR_E_LIMIT
 * and is counted in refused. Deletion shifts the later entries of the probe
 * run back (no tombstones), so a lookup never walks dead slots.
 *
 * Not thread-safe: one writer, and readers only where the writer is not
 * running. Pointers to slots are valid until the next oah_add or oah_del.
 */
#ifndef WEIR_HASH_H
#define WEIR_HASH_H

#include <stddef.h>
#include <stdint.h>

struct oah_slot {
	uint64_t key;		/* 0: empty */
	uint64_t val;
};

struct oah {
	struct oah_slot *slot;	/* cap slots, or NULL while cap == 0 */
	uint32_t cap;		/* 0 or a power of two */
	uint32_t n;		/* entries */
	uint32_t max;		/* bound on entries */
	unsigned shift;		/* 64 - log2(cap) */
	uint64_t refused;	/* inserts the bound refused */
};

/* An empty table that will hold at most max entries (no allocation yet). */
void oah_init(struct oah *t, uint32_t max);
/* Free the slots (the values are the user's); the table is empty after. */
void oah_free(struct oah *t);

/* Make room for n entries (at most max) now, so that inserts up to n never
 * allocate: for a table whose bound is known and whose inserts are on a hot
 * path. WEIR_OK or WEIR_E_NOMEM (the table is unchanged then). */
int oah_reserve(struct oah *t, uint32_t n);

/* Insert (key, val), key != 0; an entry with the same key is not looked
 * for. WEIR_OK, WEIR_E_LIMIT (the bound; counted in refused), WEIR_E_NOMEM,
 * WEIR_E_INVALID (key 0). */
int oah_add(struct oah *t, uint64_t key, uint64_t val);
/* Remove the entry at s (a slot of t found by a lookup or oah_iter). The
 * later entries of its run move back: an iteration that deletes looks at
 * the same slot index again (an entry may then be seen twice, never
 * missed). */
void oah_del(struct oah *t, struct oah_slot *s);

/* A 64-bit finalizer (MurmurHash3's fmix64: every input bit reaches every
 * output bit), for users that build a key from several fields. */
static inline uint64_t oah_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static inline uint32_t oah_home(const struct oah *t, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> t->shift);
}

/* The slot holding key, or NULL. Inline: the template lookup runs it once
 * per data set. */
static inline struct oah_slot *oah_find(const struct oah *t, uint64_t key)
{
	uint32_t i, mask = t->cap - 1;

	if (!t->cap)
		return NULL;
	for (i = oah_home(t, key);; i = (i + 1) & mask) {
		struct oah_slot *s = &t->slot[i];

		if (!s->key)
			return NULL;	/* key 0 too: never stored */
		if (s->key == key)
			return s;
	}
}

/* The next slot after s (found by oah_find or oah_find_next) that holds
 * the same key, or NULL. */
static inline struct oah_slot *oah_find_next(const struct oah *t, const struct oah_slot *s)
{
	uint32_t mask = t->cap - 1, i = (uint32_t)(s - t->slot);
	uint64_t key = s->key;

	for (i = (i + 1) & mask;; i = (i + 1) & mask) {
		struct oah_slot *n = &t->slot[i];

		if (n->key == key)
			return n;
		if (!n->key)
			return NULL;
	}
}

/* Iteration: for (i = 0; (s = oah_iter(t, &i)); ) ... visits every entry;
 * to delete the entry s while iterating, call oah_iter_del(t, s, &i). */
static inline struct oah_slot *oah_iter(const struct oah *t, uint32_t *i)
{
	while (*i < t->cap) {
		struct oah_slot *s = &t->slot[(*i)++];

		if (s->key)
			return s;
	}
	return NULL;
}

/* oah_del(t, s) inside an oah_iter loop: the next oah_iter looks at s's
 * index again, where a later entry may have moved. */
static inline void oah_iter_del(struct oah *t, struct oah_slot *s, uint32_t *i)
{
	*i = (uint32_t)(s - t->slot);
	oah_del(t, s);
}

#endif
