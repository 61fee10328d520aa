#include <arpa/inet.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"

static const char hexd[] = "0123456789abcdef";
static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Dotted quad at o; returns its length (7..15). */
size_t weir_fmt_v4(char *o, const uint8_t *a)
{
	char *s = o;

	for (int i = 0; i < 4; i++) {
		unsigned b = a[i];

		if (b >= 100) {
			*o++ = (char)('0' + b / 100);
			memcpy(o, digits2 + 2 * (b % 100), 2);
			o += 2;
		} else if (b >= 10) {
			memcpy(o, digits2 + 2 * b, 2);
			o += 2;
		} else {
			*o++ = (char)('0' + b);
		}
		if (i < 3)
			*o++ = '.';
	}
	return (size_t)(o - s);
}

/* RFC 5952 text of a 16-byte address at o (at most 45 bytes): lower case,
 * no leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::", IPv4-mapped addresses as ::ffff:a.b.c.d. */
size_t weir_fmt_v6(char *o, const uint8_t *a)
{
	char *s = o;
	int bs = -1, bl = 0, cs = -1, cl = 0;
	uint16_t g[8];

	if (memcmp(a, weir_v4_prefix, 12) == 0) {
		memcpy(o, "::ffff:", 7);
		return 7 + weir_fmt_v4(o + 7, a + 12);
	}
	for (int i = 0; i < 8; i++) {
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		if (g[i] == 0) {
			if (cs < 0) {
				cs = i;
				cl = 0;
			}
			if (++cl > bl && cl >= 2) {
				bs = cs;
				bl = cl;
			}
		} else {
			cs = -1;
		}
	}
	for (int i = 0; i < 8;) {
		unsigned v = g[i];
		int started = 0;

		if (i == bs) {
			*o++ = ':';
			*o++ = ':';
			i += bl;
			continue;
		}
		if (i > 0 && i != bs + bl)
			*o++ = ':';
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = (v >> sh) & 15;

			if (d || started || sh == 0) {
				*o++ = hexd[d];
				started = 1;
			}
		}
		i++;
	}
	return (size_t)(o - s);
}

size_t weir_addr_fmt(const struct weir_addr *x, char *out)
{
	if (weir_addr_is_v4(x))
		return weir_fmt_v4(out, x->a + 12);
	return weir_fmt_v6(out, x->a);
}

/* Written by hand, not with inet_ntop(): that one goes through sprintf and
 * was half the cost of writing a common JSON line. */
const char *weir_addr_str(const struct weir_addr *x, char *buf, size_t len)
{
	char tmp[WEIR_ADDR_STRLEN];
	size_t n = weir_addr_fmt(x, tmp);

	if (len == 0)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

int weir_addr_parse(struct weir_addr *x, const char *s)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		weir_addr_v4(x, b);
		return WEIR_OK;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		weir_addr_v6(x, b);
		return WEIR_OK;
	}
	return WEIR_E_INVALID;
}
