/* prog_val.c - see prog_val.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "prog_val.h"

#define PROG_NS	1000000000ull

/* "WHAT: " in front of a sentence, or nothing when what is NULL. */
static const char *named(const char *what, char *buf, size_t len)
{
	if (!what)
		return "";
	snprintf(buf, len, "%s: ", what);
	return buf;
}

int prog_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return WEIR_E_INVALID;
}

/* Digits only, no sign, no blanks: strtoull alone accepts " -1". */
static size_t digits(const char *s)
{
	size_t n = 0;

	while (isdigit((unsigned char)s[n]))
		n++;
	return n;
}

int prog_small_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10 || digits(s) < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return 0;
	}
	*out = v;
	return 1;
}

/* The leading digits of s as a number: 0 when there are none or they
 * overflow. */
static int lead_u64(const char *s, size_t *n, uint64_t *out)
{
	unsigned long long v;

	*n = digits(s);
	if (*n == 0)
		return 0;
	errno = 0;
	v = strtoull(s, NULL, 10);
	if (errno)
		return 0;
	*out = v;
	return 1;
}

int prog_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		   char *err, size_t errlen)
{
	char w[64];
	uint64_t v;
	size_t n;

	if (!lead_u64(s, &n, &v) || s[n] || v < min || v > max)
		return prog_fail(err, errlen, "%s'%s' is not a number in %llu..%llu",
				 named(what, w, sizeof(w)), s, (unsigned long long)min,
				 (unsigned long long)max);
	*out = v;
	return WEIR_OK;
}

int prog_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		    char *err, size_t errlen)
{
	unsigned shift = 0;
	uint64_t v;
	size_t n;

	if (!lead_u64(s, &n, &v))
		goto bad;
	if (s[n] && !s[n + 1]) {
		switch (s[n] | 0x20) {
		case 'k': shift = 10; break;
		case 'm': shift = 20; break;
		case 'g': shift = 30; break;
		default: goto bad;
		}
		n++;
	}
	if (s[n] || (v << shift) >> shift != v)
		goto bad;
	v <<= shift;
	if (v < min || v > max)
		goto bad;
	*out = v;
	return WEIR_OK;
bad:
	return prog_fail(err, errlen, "%s: '%s' is not a size in %llu..%llu bytes (k, M, G: powers of 1024)",
			 what, s, (unsigned long long)min, (unsigned long long)max);
}

static const struct {
	const char *name;
	double ns;
} prog_units[] = {
	{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
};

int prog_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ns,
			const char *what, char *err, size_t errlen)
{
	size_t whole = digits(s), frac = 0, len;
	double v, unit = -1;
	uint64_t u;

	len = whole;
	if (s[len] == '.') {
		frac = digits(s + len + 1);
		len += 1 + frac;
	}
	if (whole + frac == 0)
		goto bad;
	if (!s[len]) {
		unit = 1e9;
	} else {
		for (size_t i = 0; i < sizeof(prog_units) / sizeof(prog_units[0]); i++)
			if (strcmp(s + len, prog_units[i].name) == 0)
				unit = prog_units[i].ns;
	}
	if (unit < 0)
		goto bad;
	/* Only digits and one dot are left for strtod: no sign, exponent,
	 * "nan" or "inf"; v >= 0, rounded to the nearest. */
	v = strtod(s, NULL) * unit;
	u = v < 9.2e18 ? (uint64_t)(v + 0.5) : UINT64_MAX;
	if (u < min_ns || u > max_ns || v >= 9.2e18)
		return prog_fail(err, errlen, "%s: '%s' is out of range (%llu ns..%llu ns)", what, s,
				 (unsigned long long)min_ns, (unsigned long long)max_ns);
	*ns = u;
	return WEIR_OK;
bad:
	return prog_fail(err, errlen,
			 "%s: '%s' is not a duration (a number with ns, us, ms, s, m or h; seconds without)",
			 what, s);
}

int prog_parse_seconds(const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out_s,
		       const char *what, char *err, size_t errlen)
{
	uint64_t ns, max_ns = max_s > UINT64_MAX / PROG_NS ? UINT64_MAX : max_s * PROG_NS;

	if (prog_parse_duration(s, min_s * PROG_NS, max_ns, &ns, what, err, errlen))
		return WEIR_E_INVALID;
	if (ns % PROG_NS)
		return prog_fail(err, errlen, "%s: '%s' is not a whole number of seconds", what, s);
	*out_s = ns / PROG_NS;
	return WEIR_OK;
}

int prog_parse_addr(const char *s, struct weir_addr *a, uint8_t *v4, const char *what,
		    char *err, size_t errlen)
{
	const char *v = s;
	size_t n = strlen(s);
	char host[64], w[64];

	if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
		v++;
		n -= 2;
		if (!memchr(v, ':', n))
			goto bad;	/* brackets are for IPv6 */
	}
	if (n == 0 || n >= sizeof(host))
		goto bad;
	memcpy(host, v, n);
	host[n] = 0;
	if (weir_addr_parse(a, host))
		goto bad;
	*v4 = weir_addr_is_v4(a) && !strchr(host, ':');
	return WEIR_OK;
bad:
	return prog_fail(err, errlen, "%s'%s' is not an IPv4 or IPv6 address",
			 named(what, w, sizeof(w)), s);
}

int prog_parse_cidr(const char *s, struct prog_cidr *c, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char abuf[64];
	unsigned long plen;
	unsigned max;

	if (alen == 0 || alen >= sizeof(abuf))
		return prog_fail(err, errlen, "'%s' is not an address range (want e.g. 10.0.0.0/8)", s);
	memcpy(abuf, s, alen);
	abuf[alen] = 0;
	if (weir_addr_parse(&c->base, abuf) != WEIR_OK)
		return prog_fail(err, errlen, "'%s': '%s' is not an IPv4 or IPv6 address", s, abuf);
	c->v6 = !weir_addr_is_v4(&c->base);
	max = c->v6 ? 128 : 32;
	if (!slash)
		plen = max;
	else if (!prog_small_uint(slash + 1, strlen(slash + 1), max, &plen))
		return prog_fail(err, errlen, "'%s': prefix length must be a number from 0 to %u", s, max);
	c->plen = (uint8_t)plen;
	/* Clear the host bits: the range starts at its network address. */
	for (unsigned bit = (c->v6 ? 0 : 96) + c->plen; bit < 128; bit++)
		c->base.a[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return WEIR_OK;
}

int prog_parse_cidr_list(const char *s, struct prog_cidr *out, unsigned max, unsigned *n,
			 char *err, size_t errlen)
{
	const char *p = s;
	char item[128];

	*n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0)
			return prog_fail(err, errlen, "'%s': empty entry in the address range list", s);
		if (len >= sizeof(item))
			return prog_fail(err, errlen, "'%.*s...': address range too long", 40, p);
		if (*n == max)
			return prog_fail(err, errlen, "'%s': more than %u address ranges", s, max);
		memcpy(item, p, len);
		item[len] = 0;
		if (prog_parse_cidr(item, &out[*n], err, errlen))
			return WEIR_E_INVALID;
		(*n)++;
		if (!comma)
			return WEIR_OK;
		p = comma + 1;
	}
}

int prog_parse_port_range(const char *s, struct prog_range *r, char *err, size_t errlen)
{
	const char *dash = strchr(s, '-');
	unsigned long lo, hi;

	if (!dash) {
		if (!prog_small_uint(s, strlen(s), 65535, &lo))
			return prog_fail(err, errlen, "'%s' is not a port or port range (want LO-HI, 0..65535)", s);
		hi = lo;
	} else if (!prog_small_uint(s, (size_t)(dash - s), 65535, &lo) ||
		   !prog_small_uint(dash + 1, strlen(dash + 1), 65535, &hi)) {
		return prog_fail(err, errlen, "'%s' is not a port range (want LO-HI, 0..65535)", s);
	}
	if (lo > hi)
		return prog_fail(err, errlen, "'%s' is an empty port range (%lu > %lu)", s, lo, hi);
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return WEIR_OK;
}
