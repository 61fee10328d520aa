/* txt.h - the text writers of libweir: decimal and hex numbers, MAC
 * addresses, UTF-8 checking and the one JSON string escaper, for every
 * JSON and CSV writer of the tree (flow_json.c, rec_json.c, flow_csv.c,
 * the enrichment sources, the generator's ledger).
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
extern const char weir_hexd[16];	/* "0123456789abcdef" */

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

/* Decimal v, with '-' when negative (WEIR_U64_DEC_MAX + 1 bytes suffice). */
static inline size_t weir_dec_i64(char *out, int64_t v)
{
	if (v >= 0)
		return weir_dec_u64(out, (uint64_t)v);
	*out = '-';
	return 1 + weir_dec_u64(out + 1, -(uint64_t)v);
}

static inline void wr_dec_i64(struct wr *w, int64_t v)
{
	if (v < 0) {
		wr_u8(w, '-');
		wr_dec_u64(w, -(uint64_t)v);
	} else {
		wr_dec_u64(w, (uint64_t)v);
	}
}

/* Lower-case hex of p[0..n) at out (2n bytes, no NUL); returns the end. */
static inline char *weir_hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*out++ = weir_hexd[p[i] >> 4];
		*out++ = weir_hexd[p[i] & 15];
	}
	return out;
}

/* The same through the bounded writer (nothing written when it does not
 * fit: the sticky error is set). */
static inline void wr_hex(struct wr *w, const uint8_t *p, size_t n)
{
	if (n > SIZE_MAX / 2 || !wr_room(w, 2 * n))
		return;
	weir_hex((char *)w->buf + w->off, p, n);
	w->off += 2 * n;
}

#define WEIR_MAC_STRLEN	17	/* "aa:bb:cc:dd:ee:ff" */

/* MAC address m as "aa:bb:cc:dd:ee:ff" at out (WEIR_MAC_STRLEN bytes, no
 * NUL). */
static inline void weir_mac_fmt(char *out, const uint8_t *m)
{
	for (int i = 0; i < 6; i++) {
		out[i * 3] = weir_hexd[m[i] >> 4];
		out[i * 3 + 1] = weir_hexd[m[i] & 15];
		if (i < 5)
			out[i * 3 + 2] = ':';
	}
}

/* UTF-8 (RFC 3629 section 4: no overlong forms, no surrogates, nothing
 * past U+10FFFF). The length of the well-formed character at p (1 for
 * ASCII, up to 4), or 0 with *bad set to the bytes of its maximal
 * ill-formed prefix (1..3), each such prefix standing for one U+FFFD
 * (Unicode 15, 3.9 "U+FFFD Substitution of Maximal Subparts"). n >= 1. */
size_t weir_utf8_seq(const uint8_t *p, size_t n, size_t *bad);
/* 1 when p[0..n) is well-formed UTF-8. */
int weir_utf8_valid(const uint8_t *p, size_t n);

/* s[0..n) as a quoted JSON string (RFC 8259 section 7): '"' and ''
 * escaped, \b \f \n \r \t for those controls and \u00XX for the other
 * ones below 0x20, every maximal ill-formed UTF-8 subpart as \ufffd, so
 * that the line stays valid JSON whatever bytes came in. Runs of plain
 * ASCII are copied whole. Through the bounded writer (sticky error). */
void wr_json_str(struct wr *w, const void *s, size_t n);

#endif
