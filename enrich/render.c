/* render.c - value writers shared by the CSV and MaxMind DB sources: JSON
 * strings, CSV cells, numbers. See internal.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when the
 * bytes there are not one (RFC 3629 section 4: no overlong forms, no
 * surrogates, nothing past U+10FFFF). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

int enr_utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

static const char replacement[3] = { (char)0xef, (char)0xbf, (char)0xbd };

void enr_json_str(struct wr *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, run = 0, k;

	wr_u8(w, '"');
	while (i < n) {
		uint8_t c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			k = utf8_seq(p + i, n - i);
			if (k) {
				i += k;
				continue;
			}
		}
		wr_bytes(w, s + run, i - run);
		if (c >= 0x80) {
			wr_bytes(w, replacement, 3);
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			wr_bytes(w, e, 2);
		} else {
			/* RFC 8259 section 7: the two-character forms where
			 * they exist, \u00XX for the other controls. */
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			switch (c) {
			case '\b': wr_bytes(w, "\\b", 2); break;
			case '\f': wr_bytes(w, "\\f", 2); break;
			case '\n': wr_bytes(w, "\\n", 2); break;
			case '\r': wr_bytes(w, "\\r", 2); break;
			case '\t': wr_bytes(w, "\\t", 2); break;
			default:   wr_bytes(w, e, 6); break;
			}
		}
		i++;
		run = i;
	}
	wr_bytes(w, s + run, i - run);
	wr_u8(w, '"');
}

void enr_csv_cell(struct wr *w, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i, run, k = 0;
	int quote = 0, clean = 1;

	for (i = 0; i < n; ) {
		uint8_t c = p[i];

		if (c == ',' || c == '"' || c == '\r' || c == '\n')
			quote = 1;
		if (c >= 0x80) {
			k = utf8_seq(p + i, n - i);
			if (!k) {
				clean = 0;
				k = 1;
			}
			i += k;
		} else {
			i++;
		}
	}
	if (!quote && clean) {
		wr_bytes(w, s, n);
		return;
	}
	if (quote)
		wr_u8(w, '"');
	for (i = 0, run = 0; i < n; ) {
		uint8_t c = p[i];

		if (c == '"') {
			/* RFC 4180 section 2, rule 7: a quote inside a
			 * quoted cell is doubled. */
			wr_bytes(w, s + run, i + 1 - run);
			wr_u8(w, '"');
			run = ++i;
		} else if (c >= 0x80 && !(k = utf8_seq(p + i, n - i))) {
			wr_bytes(w, s + run, i - run);
			wr_bytes(w, replacement, 3);
			run = ++i;
		} else {
			i += c >= 0x80 ? k : 1;
		}
	}
	wr_bytes(w, s + run, n - run);
	if (quote)
		wr_u8(w, '"');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* number = [ minus ] int [ frac ] [ exp ] (RFC 8259 section 6). */
int enr_is_json_number(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < n && is_digit(s[i]))
			i++;
	} else {
		return 0;
	}
	if (i < n && s[i] == '.') {
		i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

/* The shortest %.Ng that reads back as the same value: 1.5 rather than
 * 1.5000000000000000, still exact where 15 digits are not enough. printf
 * and strtod run in the C locale (no weir program calls setlocale), so
 * the decimal point is a point. */
size_t enr_fmt_double(char *buf, double v)
{
	char tmp[40];
	int n = 0;

	if (!isfinite(v))
		return 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (n <= 0 || (size_t)n >= sizeof(tmp))
		return 0;
	memcpy(buf, tmp, (size_t)n);
	return (size_t)n;
}

size_t enr_fmt_float(char *buf, float v)
{
	char tmp[40];
	int n = 0;

	if (!isfinite(v))
		return 0;
	for (int prec = 6; prec <= 9; prec++) {
		n = snprintf(tmp, sizeof(tmp), "%.*g", prec, (double)v);
		if (strtof(tmp, NULL) == v)
			break;
	}
	if (n <= 0 || (size_t)n >= sizeof(tmp))
		return 0;
	memcpy(buf, tmp, (size_t)n);
	return (size_t)n;
}

size_t enr_fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

size_t enr_fmt_i64(char *buf, int64_t v)
{
	if (v >= 0)
		return enr_fmt_u64(buf, (uint64_t)v);
	buf[0] = '-';
	/* -(v + 1) + 1 stays in range for INT64_MIN. */
	return 1 + enr_fmt_u64(buf + 1, (uint64_t)(-(v + 1)) + 1);
}

void enr_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
