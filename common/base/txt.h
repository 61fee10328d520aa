/* txt.h - decimal text for the JSON and CSV writers (flow_json.c,
 * rec_json.c, flow_csv.c): one fast, bounded unsigned-to-decimal routine.
 *
 * A collector writes three 19-digit nanosecond timestamps and a dozen
 * smaller numbers per record; a digit-at-a-time loop of divisions showed as
 * half of the collector's time. This one finds the length first, then
 * writes two digits per step from a table, in 32-bit arithmetic after at
 * most two 64-bit splits at 10^8.
 */
#ifndef WEIR_TXT_H
#define WEIR_TXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wr.h"

#define WEIR_U64_DEC_MAX 20	/* digits of UINT64_MAX */

extern const char weir_digits2[200];	/* "00".."99" */

/* Number of decimal digits of v (1..20). */
static inline unsigned weir_dec_len(uint64_t v)
{
	static const uint64_t p10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
		100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
		1000000000000ull, 10000000000000ull, 100000000000000ull,
		1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	/* log10(2) ~ 1233/4096: a first guess from the bit length, off by one
	 * at most, corrected against the table. */
	unsigned bits = 64 - (unsigned)__builtin_clzll(v | 1);
	unsigned n = (bits * 1233) >> 12;

	return n + (v >= p10[n]) + (v == 0);
}

/* Write the exactly-n digits of x (x < 10^n, n <= 8) ending at end. */
static inline void weir_dec_u32_tail(char *end, uint32_t x, unsigned n)
{
	while (n >= 2) {
		end -= 2;
		memcpy(end, weir_digits2 + 2 * (x % 100), 2);
		x /= 100;
		n -= 2;
	}
	if (n)
		end[-1] = (char)('0' + x);
}

/* Exactly 8 digits of x < 10^8 at p: two independent halves, so the
 * divisions do not form one long dependent chain. */
static inline void weir_dec8(char *p, uint32_t x)
{
	uint32_t hi = x / 10000, lo = x % 10000;

	memcpy(p, weir_digits2 + 2 * (hi / 100), 2);
	memcpy(p + 2, weir_digits2 + 2 * (hi % 100), 2);
	memcpy(p + 4, weir_digits2 + 2 * (lo / 100), 2);
	memcpy(p + 6, weir_digits2 + 2 * (lo % 100), 2);
}

/* Decimal v at out (WEIR_U64_DEC_MAX bytes always suffice), no NUL;
 * returns the length. */
static inline __attribute__((always_inline)) size_t weir_dec_u64(char *out, uint64_t v)
{
	unsigned n;

	/* Most fields of a flow (protocol, TOS, flags, ports...) are small:
	 * inlined at each call site, these tests predict well. */
	if (v < 10) {
		*out = (char)('0' + v);
		return 1;
	}
	if (v < 100) {
		memcpy(out, weir_digits2 + 2 * v, 2);
		return 2;
	}
	n = weir_dec_len(v);
	if (n <= 8) {
		weir_dec_u32_tail(out + n, (uint32_t)v, n);
	} else if (n <= 16) {
		weir_dec8(out + n - 8, (uint32_t)(v % 100000000u));
		weir_dec_u32_tail(out + n - 8, (uint32_t)(v / 100000000u), n - 8);
	} else {
		uint64_t top = v / 100000000u;

		weir_dec8(out + n - 8, (uint32_t)(v % 100000000u));
		weir_dec8(out + n - 16, (uint32_t)(top % 100000000u));
		weir_dec_u32_tail(out + n - 16, (uint32_t)(top / 100000000u), n - 16);
	}
	return n;
}

/* Decimal v through the bounded writer (sticky error when it does not fit). */
static inline __attribute__((always_inline)) void wr_dec_u64(struct wr *w, uint64_t v)
{
	if (wr_left(w) < WEIR_U64_DEC_MAX) {
		char tmp[WEIR_U64_DEC_MAX];
		size_t n = weir_dec_u64(tmp, v);

		wr_bytes(w, tmp, n);
		return;
	}
	w->off += weir_dec_u64((char *)w->buf + w->off, v);
}

#endif
