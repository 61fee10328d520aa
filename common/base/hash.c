/* hash.c - the open-addressing hash table (see hash.h). */
#include <stdlib.h>
#include <sys/mman.h>

#include "err.h"
#include "hash.h"

#define OAH_MIN_CAP	8u
#define OAH_HUGE	(2u << 20)	/* a transparent huge page */

/* Zeroed slots for cap entries. An array of a huge page or more is mapped
 * on huge pages where the kernel gives them (THP in madvise mode): a large
 * table is probed at random, and on 4 KiB pages most probes would also
 * miss the TLB (the flow meter's table on bench/run-exporter: 3 ms of
 * 115). Its size, a power of two, is then a whole number of huge pages. */
static struct oah_slot *slots_new(uint32_t cap)
{
	size_t len = (size_t)cap * sizeof(struct oah_slot);
	void *p;

	if (len < OAH_HUGE)
		return calloc(cap, sizeof(struct oah_slot));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_HUGEPAGE);		/* a hint: no error */
	return p;
}

static void slots_free(struct oah_slot *s, uint32_t cap)
{
	size_t len = (size_t)cap * sizeof(struct oah_slot);

	if (len < OAH_HUGE)
		free(s);
	else if (s)
		munmap(s, len);
}

void oah_init(struct oah *t, uint32_t max)
{
	t->slot = NULL;
	t->cap = 0;
	t->n = 0;
	t->max = max;
	t->shift = 64;
	t->refused = 0;
}

void oah_free(struct oah *t)
{
	slots_free(t->slot, t->cap);
	t->slot = NULL;
	t->cap = 0;
	t->n = 0;
	t->shift = 64;
}

/* Put (key, val) into its run; the caller made sure a slot is free. */
static void place(struct oah *t, uint64_t key, uint64_t val)
{
	uint32_t i, mask = t->cap - 1;

	for (i = oah_home(t, key); t->slot[i].key; i = (i + 1) & mask)
		;
	t->slot[i].key = key;
	t->slot[i].val = val;
}

/* Move the entries to ncap slots (a power of two above cap). */
static int resize(struct oah *t, uint32_t ncap)
{
	struct oah_slot *old = t->slot;
	uint32_t ocap = t->cap;

	t->slot = slots_new(ncap);
	if (!t->slot) {
		t->slot = old;
		return WEIR_E_NOMEM;
	}
	t->cap = ncap;
	t->shift = 64 - (unsigned)__builtin_ctz(ncap);
	for (uint32_t i = 0; i < ocap; i++)
		if (old[i].key)
			place(t, old[i].key, old[i].val);
	slots_free(old, ocap);
	return WEIR_OK;
}

/* Double the slots (the first time: OAH_MIN_CAP) and place every entry
 * again. The bound keeps cap below 2 * max rounded up to a power of two. */
static int grow(struct oah *t)
{
	uint32_t ncap = t->cap ? t->cap * 2 : OAH_MIN_CAP;

	if (ncap < t->cap)
		return WEIR_E_NOMEM;	/* 2^32 slots: never reached below the bound */
	return resize(t, ncap);
}

int oah_reserve(struct oah *t, uint32_t n)
{
	uint64_t ncap = t->cap ? t->cap : OAH_MIN_CAP;

	if (n > t->max)
		n = t->max;
	/* The same 3/4 rule as oah_add's, so that n inserts never grow. */
	while ((uint64_t)n * 4 > ncap * 3)
		ncap *= 2;
	if (ncap > UINT32_MAX)
		return WEIR_E_NOMEM;
	if (ncap == t->cap)
		return WEIR_OK;
	return resize(t, (uint32_t)ncap);
}

int oah_add(struct oah *t, uint64_t key, uint64_t val)
{
	int err;

	if (!key)
		return WEIR_E_INVALID;
	if (t->n >= t->max) {
		t->refused++;
		return WEIR_E_LIMIT;
	}
	/* At most 3/4 full after the insert: with the keys in the slots a
	 * probe is a compare in the same cache line, and the template cache
	 * (one table per source) keeps the memory of the tables it replaced. */
	if ((uint64_t)(t->n + 1) * 4 > (uint64_t)t->cap * 3 && (err = grow(t)))
		return err;
	place(t, key, val);
	t->n++;
	return WEIR_OK;
}

void oah_del(struct oah *t, struct oah_slot *s)
{
	uint32_t mask = t->cap - 1;
	uint32_t i = (uint32_t)(s - t->slot), j = i;

	t->slot[i].key = 0;
	t->n--;
	/* Backward shift: pull later entries of the run into the hole. */
	for (;;) {
		uint32_t k;

		j = (j + 1) & mask;
		if (!t->slot[j].key)
			return;
		k = oah_home(t, t->slot[j].key);
		/* The entry at j may move to the hole at i unless its home
		 * slot k lies cyclically in (i, j]. */
		if (i <= j ? !(i < k && k <= j) : !(i < k || k <= j)) {
			t->slot[i] = t->slot[j];
			t->slot[j].key = 0;
			i = j;
		}
	}
}
