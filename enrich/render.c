/* render.c - value writers shared by the CSV and MaxMind DB sources: CSV
 * cells, JSON numbers (JSON strings and integers: txt.h). See internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "txt.h"

static const char replacement[3] = { (char)0xef, (char)0xbf, (char)0xbd };

void enr_csv_cell(struct wr *w, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i, run, k = 0, bad;
	int quote = 0, clean = 1;

	for (i = 0; i < n; ) {
		uint8_t c = p[i];

		if (c == ',' || c == '"' || c == '\r' || c == '\n')
			quote = 1;
		k = weir_utf8_seq(p + i, n - i, &bad);
		if (!k) {
			clean = 0;
			k = bad;
		}
		i += k;
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
		} else if (!(k = weir_utf8_seq(p + i, n - i, &bad))) {
			/* One U+FFFD per maximal ill-formed subpart, as the
			 * JSON escaper (txt.h) writes \ufffd. */
			wr_bytes(w, s + run, i - run);
			wr_bytes(w, replacement, 3);
			i += bad;
			run = i;
		} else {
			i += k;
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

void enr_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int enr_open_file(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		enr_errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		enr_errf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}
