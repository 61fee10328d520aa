/* test_txt.c - the decimal writer of txt.h against snprintf. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
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

Test(txt, signed_decimal)
{
	char got[WEIR_U64_DEC_MAX + 2], want[32];
	int64_t v[] = { 0, -1, 1, -9, -10, INT64_MIN, INT64_MAX, -1234567890123ll };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = weir_dec_i64(got, v[i]);
		uint8_t b[32];
		struct wr w;

		got[n] = 0;
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		cr_assert_str_eq(got, want);
		wr_init(&w, b, sizeof(b));
		wr_dec_i64(&w, v[i]);
		cr_assert_eq(w.off, strlen(want));
		cr_assert_eq(memcmp(b, want, w.off), 0);
	}
}

Test(txt, hex_and_mac)
{
	const uint8_t p[] = { 0x00, 0x1b, 0x21, 0xaa, 0xbf, 0x0e, 0xff };
	char out[32], want[32];
	uint8_t b[13];
	struct wr w;

	for (size_t i = 0; i < sizeof(p); i++)
		snprintf(want + 2 * i, 3, "%02x", p[i]);
	cr_assert_eq(weir_hex(out, p, sizeof(p)) - out, 14);
	cr_assert_eq(memcmp(out, want, 14), 0);
	weir_mac_fmt(out, p);
	out[WEIR_MAC_STRLEN] = 0;
	cr_assert_str_eq(out, "00:1b:21:aa:bf:0e");
	/* The bounded writer: all or nothing. */
	wr_init(&w, b, sizeof(b));
	wr_hex(&w, p, 7);
	cr_assert_eq(w.err, WEIR_E_NOSPACE);
	cr_assert_eq(w.off, 0);
	wr_init(&w, b, sizeof(b));
	wr_hex(&w, p, 6);
	cr_assert_eq(w.err, WEIR_OK);
	cr_assert_eq(memcmp(b, want, 12), 0);
}

static const char *json(const void *s, size_t n)
{
	static uint8_t buf[4096];
	struct wr w;

	wr_init(&w, buf, sizeof(buf) - 1);
	wr_json_str(&w, s, n);
	cr_assert_eq(w.err, WEIR_OK);
	buf[w.off] = 0;
	return (const char *)buf;
}

#define JS(lit)	json(lit, sizeof(lit) - 1)

Test(txt, json_escapes)
{
	cr_assert_str_eq(JS(""), "\"\"");
	cr_assert_str_eq(JS("plain text"), "\"plain text\"");
	cr_assert_str_eq(JS("a\"b\\c"), "\"a\\\"b\\\\c\"");
	cr_assert_str_eq(JS("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
	cr_assert_str_eq(JS("\x01\x1f\x00" "x\x7f"), "\"\\u0001\\u001f\\u0000x\x7f\"");
	cr_assert_str_eq(JS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Maximal subparts: E2 82 (cut 3-byte) is one, C0 and AF one each,
	 * ED A0 80 (a surrogate) three, F4 90 (past U+10FFFF) two. */
	cr_assert_str_eq(JS("a\xe2\x82z"), "\"a\\ufffdz\"");
	cr_assert_str_eq(JS("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
	cr_assert_str_eq(JS("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
	cr_assert_str_eq(JS("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	cr_assert_str_eq(JS("\xe2\x82"), "\"\\ufffd\"", "cut at the end");
}

Test(txt, json_does_not_fit)
{
	uint8_t b[6];
	struct wr w;

	wr_init(&w, b, sizeof(b));
	wr_json_str(&w, "a\nb", 3);
	cr_assert_eq(w.err, WEIR_OK, "6 bytes fit 6");
	cr_assert_eq(memcmp(b, "\"a\\nb\"", 6), 0);
	wr_init(&w, b, sizeof(b));
	wr_json_str(&w, "a\x01", 2);
	cr_assert_eq(w.err, WEIR_E_NOSPACE, "9 bytes do not fit 6");
}

/* Decode a JSON string the writer made (an independent reader of RFC 8259
 * section 7): the bytes back, or -1 on anything that is not JSON. */
static long unjson(const char *s, uint8_t *out)
{
	long n = 0;

	if (*s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		unsigned c = (uint8_t)*s, v;

		if (!c || c < 0x20)
			return -1;
		if (c != '\\') {
			out[n++] = (uint8_t)c;
			continue;
		}
		switch (*++s) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case '/': out[n++] = '/'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			if (sscanf(s + 1, "%4x", &v) != 1)
				return -1;
			s += 4;
			if (v < 0x80) {
				out[n++] = (uint8_t)v;
			} else {	/* U+FFFD */
				out[n++] = 0xef;
				out[n++] = 0xbf;
				out[n++] = 0xbd;
			}
			break;
		default:
			return -1;
		}
	}
	return s[1] ? -1 : n;
}

/* Random bytes: the text is always JSON, and valid UTF-8 comes back as it
 * went in. */
Test(txt, json_round_trip)
{
	uint64_t x = 0x243f6a8885a308d3ull;
	uint8_t in[64], back[512];

	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)(i % 64);
		long m;

		for (size_t k = 0; k < n; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* Mostly ASCII and controls, some high bytes. */
			in[k] = (uint8_t)(i % 3 ? x & 0x7f : x);
		}
		m = unjson(json(in, n), back);
		cr_assert_geq(m, 0, "not JSON: %s", json(in, n));
		if (weir_utf8_valid(in, n)) {
			cr_assert_eq((size_t)m, n);
			cr_assert_eq(memcmp(in, back, n), 0);
		} else {
			cr_assert(memmem(back, (size_t)m, "\xef\xbf\xbd", 3), "a replacement");
		}
	}
}
