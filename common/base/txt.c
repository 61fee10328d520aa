/* txt.c - the tables of txt.h, UTF-8 checking and the JSON string escaper. */
#include "txt.h"

const char weir_digits2[200] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

const char weir_hexd[16] = "0123456789abcdef";

size_t weir_utf8_seq(const uint8_t *p, size_t n, size_t *bad)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;		/* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;		/* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;		/* nothing past U+10FFFF */
	} else {
		*bad = 1;
		return 0;
	}
	for (size_t k = 1; k <= need; k++) {
		if (k >= n || p[k] < lo || p[k] > hi) {
			*bad = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

int weir_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k, bad;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = weir_utf8_seq(p + i, n - i, &bad);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

void wr_json_str(struct wr *w, const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t i = 0;

	wr_u8(w, '"');
	while (i < n && !w->err) {
		size_t run = i, len, bad;
		uint8_t c;

		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			wr_bytes(w, p + i, run - i);
			i = run;
			continue;
		}
		c = p[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			wr_bytes(w, esc, 2);
			i++;
		} else if (c < 0x20) {
			/* RFC 8259 section 7: the two-character forms where
			 * they exist. */
			static const char two[32] = {
				['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
			};
			char esc[6] = { '\\', 'u', '0', '0', weir_hexd[c >> 4], weir_hexd[c & 15] };

			if (two[c]) {
				esc[1] = two[c];
				wr_bytes(w, esc, 2);
			} else {
				wr_bytes(w, esc, 6);
			}
			i++;
		} else if ((len = weir_utf8_seq(p + i, n - i, &bad)) > 0) {
			wr_bytes(w, p + i, len);
			i += len;
		} else {
			wr_bytes(w, "\\ufffd", 6);
			i += bad;
		}
	}
	wr_u8(w, '"');
}
