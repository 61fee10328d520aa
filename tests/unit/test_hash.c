/* test_hash.c - the open-addressing table of hash.h against a plain array
 * that holds what the table should. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "err.h"
#include "hash.h"

#define N 20000

/* xorshift64: keys spread like hashes, and keys of the form k * 2^32 that
 * share all their low bits. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint32_t count_entries(const struct oah *t)
{
	uint32_t i = 0, n = 0;

	while (oah_iter(t, &i))
		n++;
	return n;
}

Test(hash, add_find_grow)
{
	struct oah t;

	oah_init(&t, N);
	for (uint64_t k = 1; k <= N; k++)
		cr_assert_eq(oah_add(&t, k << 32, k * 3), WEIR_OK);
	cr_assert_eq(t.n, N);
	/* Doubling stops at the first power of two that keeps a quarter
	 * empty. */
	cr_assert_eq(t.cap, 32768u);
	for (uint64_t k = 1; k <= N; k++) {
		struct oah_slot *s = oah_find(&t, k << 32);

		cr_assert_not_null(s, "key %lu", (unsigned long)k);
		cr_assert_eq(s->val, k * 3);
	}
	cr_assert_null(oah_find(&t, (uint64_t)(N + 1) << 32));
	cr_assert_null(oah_find(&t, 7));
	cr_assert_null(oah_find(&t, 0), "key 0 is the empty slot, never found");
	cr_assert_eq(count_entries(&t), N);
	cr_assert_eq(t.refused, 0);
	oah_free(&t);
	cr_assert_null(oah_find(&t, 1 << 0));
}

/* A reserved table takes its n entries without moving its slots, keeps
 * what it held before, and never reserves past its bound. */
Test(hash, reserve_then_no_growth)
{
	struct oah_slot *slots;
	struct oah t;

	oah_init(&t, N);
	for (uint64_t k = 1; k <= 10; k++)
		cr_assert_eq(oah_add(&t, k, k), WEIR_OK);
	cr_assert_eq(oah_reserve(&t, N), WEIR_OK);
	cr_assert_eq(t.cap, 32768u, "the cap oah_add's doubling would reach for N");
	slots = t.slot;
	for (uint64_t k = 1; k <= 10; k++)
		cr_assert_eq(oah_find(&t, k)->val, k);
	for (uint64_t k = 11; k <= N; k++)
		cr_assert_eq(oah_add(&t, k, k), WEIR_OK);
	cr_assert_eq(t.slot, slots, "no insert up to n moved the slots");
	cr_assert_eq(oah_add(&t, N + 1, 0), WEIR_E_LIMIT);
	cr_assert_eq(oah_reserve(&t, 4 * N), WEIR_OK);
	cr_assert_eq(t.cap, 32768u, "a reserve past max reserves max");
	oah_free(&t);
}

Test(hash, bound_refuses_and_counts)
{
	struct oah t;

	oah_init(&t, 5);
	for (uint64_t k = 1; k <= 5; k++)
		cr_assert_eq(oah_add(&t, k, k), WEIR_OK);
	cr_assert_eq(oah_add(&t, 6, 6), WEIR_E_LIMIT);
	cr_assert_eq(oah_add(&t, 7, 7), WEIR_E_LIMIT);
	cr_assert_eq(t.refused, 2);
	cr_assert_null(oah_find(&t, 6));
	cr_assert_eq(t.n, 5);
	cr_assert_leq(t.cap, 16u, "grows only as far as the bound needs");
	/* Room again after a delete. */
	oah_del(&t, oah_find(&t, 3));
	cr_assert_eq(oah_add(&t, 6, 6), WEIR_OK);
	cr_assert_eq(t.refused, 2);
	cr_assert_eq(oah_find(&t, 6)->val, 6);
	oah_free(&t);

	oah_init(&t, 0);
	cr_assert_eq(oah_add(&t, 1, 1), WEIR_E_LIMIT);
	cr_assert_eq(t.refused, 1);
	cr_assert_eq(oah_add(&t, 0, 1), WEIR_E_INVALID);
	oah_free(&t);
}

/* Random inserts and deletes against a reference: after each round every
 * live key is found with its value, and no deleted one is. */
Test(hash, delete_keeps_runs_whole)
{
	static uint64_t key[N];
	static uint8_t live[N];
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct oah t;

	oah_init(&t, N);
	for (int i = 0; i < N; i++) {
		/* Few distinct high bits: long probe runs that wrap the end. */
		key[i] = (rnd(&seed) & 0xffffff) | 1;
		for (int j = 0; j < i; j++)
			if (key[j] == key[i]) {
				key[i] = 0;
				break;
			}
		if (key[i] && oah_add(&t, key[i], (uint64_t)i) == WEIR_OK)
			live[i] = 1;
		if (i % 3 == 2) {
			int d = (int)(rnd(&seed) % (uint64_t)(i + 1));

			if (live[d]) {
				oah_del(&t, oah_find(&t, key[d]));
				live[d] = 0;
			}
		}
	}
	for (int i = 0; i < N; i++) {
		struct oah_slot *s;

		if (!key[i])
			continue;
		s = oah_find(&t, key[i]);
		if (live[i]) {
			cr_assert_not_null(s, "live key %d lost", i);
			cr_assert_eq(s->val, (uint64_t)i);
		} else {
			cr_assert_null(s, "deleted key %d still there", i);
		}
	}
	oah_free(&t);
}

Test(hash, same_key_many_values)
{
	struct oah t;
	unsigned seen = 0, n = 0;

	oah_init(&t, 64);
	for (uint64_t v = 0; v < 10; v++) {
		cr_assert_eq(oah_add(&t, 42, v), WEIR_OK);
		cr_assert_eq(oah_add(&t, 43 + v, 100 + v), WEIR_OK);
	}
	for (struct oah_slot *s = oah_find(&t, 42); s; s = oah_find_next(&t, s)) {
		cr_assert_eq(s->key, 42);
		seen |= 1u << s->val;
		n++;
	}
	cr_assert_eq(n, 10);
	cr_assert_eq(seen, 0x3ffu);
	oah_free(&t);
}

Test(hash, iterate_and_delete)
{
	struct oah t;
	struct oah_slot *s;
	uint32_t i = 0;
	uint64_t sum = 0;

	oah_init(&t, 1000);
	for (uint64_t k = 1; k <= 1000; k++)
		cr_assert_eq(oah_add(&t, k * 0x10000, k), WEIR_OK);
	/* Delete the even values while iterating: each odd one stays. */
	while ((s = oah_iter(&t, &i)))
		if (s->val % 2 == 0)
			oah_iter_del(&t, s, &i);
	cr_assert_eq(t.n, 500);
	i = 0;
	while ((s = oah_iter(&t, &i))) {
		cr_assert_eq(s->val % 2, 1);
		sum += s->val;
	}
	cr_assert_eq(sum, 500ull * 500ull, "every odd value once");
	for (uint64_t k = 1; k <= 1000; k += 2)
		cr_assert_not_null(oah_find(&t, k * 0x10000));
	oah_free(&t);
}
