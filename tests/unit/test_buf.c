/* test_buf.c - the bounded growable buffer of buf.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "err.h"

Test(buf, add_grows_and_keeps_bytes)
{
	struct dbuf b;
	char want[100000];

	dbuf_init(&b, sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (char)(i * 7 + i / 251);
	for (size_t off = 0; off < sizeof(want); off += 1000) {
		size_t last = b.cap;

		cr_assert_eq(dbuf_add(&b, want + off, 1000), WEIR_OK);
		cr_assert(b.cap == last || b.cap == 2 * last || last == 0 || b.cap == b.max,
			  "doubles: %zu after %zu", b.cap, last);
	}
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_eq(memcmp(b.p, want, sizeof(want)), 0);
	cr_assert_eq(b.refused, 0);
	dbuf_trim(&b);
	cr_assert_eq(b.cap, b.len);
	cr_assert_eq(memcmp(b.p, want, sizeof(want)), 0);
	dbuf_free(&b);
	cr_assert_null(b.p);
}

Test(buf, bound_refuses_leaves_buffer_and_counts)
{
	struct dbuf b;
	char x[200];

	memset(x, 'x', sizeof(x));
	dbuf_init(&b, 100);
	cr_assert_eq(dbuf_add(&b, x, 60), WEIR_OK);
	cr_assert_eq(dbuf_add(&b, "abcdefghij", 50), WEIR_E_LIMIT);
	cr_assert_eq(b.len, 60, "a refused append adds nothing");
	cr_assert_eq(b.refused, 1);
	cr_assert_eq(dbuf_add(&b, x, 40), WEIR_OK);
	cr_assert_eq(b.len, 100);
	cr_assert_leq(b.cap, 100u, "never past the bound");
	cr_assert_eq(dbuf_add(&b, x, 1), WEIR_E_LIMIT);
	cr_assert_eq(dbuf_reserve(&b, SIZE_MAX), WEIR_E_LIMIT, "no overflow");
	cr_assert_eq(b.refused, 3);
	cr_assert_eq(dbuf_add(&b, NULL, 0), WEIR_OK);
	dbuf_free(&b);
}

Test(buf, printf_appends_and_stays_nul_terminated)
{
	struct dbuf b;
	static char want[40000];
	size_t wl = 0;

	dbuf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++) {
		cr_assert_eq(dbuf_printf(&b, "metric_%d{x=\"%s\"} %u\n", i, "y", i * 3u), WEIR_OK);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "metric_%d{x=\"%s\"} %u\n", i, "y", i * 3u);
	}
	cr_assert_eq(b.len, wl);
	cr_assert_eq(strlen(b.p), b.len, "NUL after the text");
	cr_assert_str_eq(b.p, want);
	dbuf_free(&b);

	dbuf_init(&b, 16);
	cr_assert_eq(dbuf_printf(&b, "%s", "0123456789"), WEIR_OK);
	cr_assert_eq(dbuf_printf(&b, "%s", "0123456789"), WEIR_E_LIMIT);
	cr_assert_eq(b.len, 10);
	cr_assert_str_eq(b.p, "0123456789");
	cr_assert_eq(b.refused, 1);
	dbuf_free(&b);
}

Test(buf, grow_array_within_bound)
{
	struct item {
		uint64_t a, b;
	} *arr = NULL;
	size_t cap = 0;

	for (size_t n = 1; n <= 1000; n++) {
		cr_assert_eq(dbuf_grow(&arr, &cap, n, sizeof(*arr), 1000), WEIR_OK);
		cr_assert_geq(cap, n);
		cr_assert_leq(cap, 1000u);
		arr[n - 1].a = n;
		arr[n - 1].b = ~n;
	}
	cr_assert_eq(cap, 1000u);
	for (size_t n = 1; n <= 1000; n++)
		cr_assert(arr[n - 1].a == n && arr[n - 1].b == ~n);
	cr_assert_eq(dbuf_grow(&arr, &cap, 1001, sizeof(*arr), 1000), WEIR_E_LIMIT);
	cr_assert_eq(cap, 1000u, "unchanged when refused");
	cr_assert_eq(dbuf_grow(&arr, &cap, (SIZE_MAX / 8) + 2, sizeof(*arr), SIZE_MAX), WEIR_E_NOMEM,
		     "a size that overflows is refused");
	cr_assert_eq(cap, 1000u);
	free(arr);
}
