/* test_txt.c - the decimal writer of txt.h against snprintf. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>

#include "txt.h"

static void check(uint64_t v)
{
	char want[32], got[WEIR_U64_DEC_MAX + 1];
	int n = snprintf(want, sizeof(want), "%" PRIu64, v);
	size_t k = weir_dec_u64(got, v);

	got[k] = 0;
	cr_assert_eq(k, (size_t)n, "%s: length %zu", want, k);
	cr_assert_str_eq(got, want);
	cr_assert_eq(weir_dec_len(v), (unsigned)n, "%s", want);
}

Test(txt, powers_of_ten_and_their_neighbours)
{
	uint64_t p = 1;

	check(0);
	for (int i = 0; i < 20; i++) {
		check(p - 1);
		check(p);
		check(p + 1);
		if (i < 19)
			p *= 10;
	}
	check(UINT64_MAX);
	check(UINT64_MAX - 1);
	for (int b = 0; b < 64; b++) {
		check(1ull << b);
		check((1ull << b) - 1);
	}
}

Test(txt, random_values_of_every_length)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 200000; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		check(s >> (s % 64));
	}
}

Test(txt, bounded_writer_sets_its_error_when_full)
{
	uint8_t buf[8];
	struct wr w;

	wr_init(&w, buf, sizeof(buf));
	wr_dec_u64(&w, 1234567);
	cr_assert_eq(w.err, WEIR_OK);
	cr_assert_eq(w.off, 7);
	cr_assert_eq(memcmp(buf, "1234567", 7), 0);
	wr_dec_u64(&w, 5);
	cr_assert_eq(w.err, WEIR_OK);
	cr_assert_eq(w.off, 8);
	wr_dec_u64(&w, 1);
	cr_assert_eq(w.err, WEIR_E_NOSPACE);
	cr_assert_eq(w.off, 8);
}
