/* parse.c - see parse.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "parse.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
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
static int all_digits(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int small_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!all_digits(s, n) || n > 10)
		return 0;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return 0;
	}
	*out = v;
	return 1;
}

int parse_cidr(const char *s, struct gen_cidr *c, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char abuf[64];
	unsigned long plen;
	unsigned max;

	if (alen == 0 || alen >= sizeof(abuf))
		return fail(err, errlen, "'%s' is not an address range (want e.g. 10.0.0.0/8)", s);
	memcpy(abuf, s, alen);
	abuf[alen] = 0;
	if (weir_addr_parse(&c->base, abuf) != WEIR_OK)
		return fail(err, errlen, "'%s': '%s' is not an IPv4 or IPv6 address", s, abuf);
	c->v6 = !weir_addr_is_v4(&c->base);
	max = c->v6 ? 128 : 32;
	if (!slash) {
		plen = max;
	} else if (!small_uint(slash + 1, strlen(slash + 1), max, &plen)) {
		return fail(err, errlen, "'%s': prefix length must be a number from 0 to %u", s, max);
	}
	c->plen = (uint8_t)plen;
	/* Clear the host bits: the range starts at its network address. */
	for (unsigned bit = (c->v6 ? 0 : 96) + c->plen; bit < 128; bit++)
		c->base.a[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return WEIR_OK;
}

int parse_cidr_list(const char *s, struct gen_cidr *out, unsigned max, unsigned *n,
		    char *err, size_t errlen)
{
	const char *p = s;
	char item[128];

	*n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == 0)
			return fail(err, errlen, "'%s': empty entry in the address range list", s);
		if (len >= sizeof(item))
			return fail(err, errlen, "'%.*s...': address range too long", 40, p);
		if (*n == max)
			return fail(err, errlen, "'%s': more than %u address ranges", s, max);
		memcpy(item, p, len);
		item[len] = 0;
		if (parse_cidr(item, &out[*n], err, errlen))
			return WEIR_E_INVALID;
		(*n)++;
		if (!comma)
			return WEIR_OK;
		p = comma + 1;
	}
}

int parse_port_range(const char *s, struct gen_range *r, char *err, size_t errlen)
{
	const char *dash = strchr(s, '-');
	unsigned long lo, hi;

	if (!dash) {
		if (!small_uint(s, strlen(s), 65535, &lo))
			return fail(err, errlen, "'%s' is not a port or port range (want LO-HI, 0..65535)", s);
		hi = lo;
	} else if (!small_uint(s, (size_t)(dash - s), 65535, &lo) ||
		   !small_uint(dash + 1, strlen(dash + 1), 65535, &hi)) {
		return fail(err, errlen, "'%s' is not a port range (want LO-HI, 0..65535)", s);
	}
	if (lo > hi)
		return fail(err, errlen, "'%s' is an empty port range (%lu > %lu)", s, lo, hi);
	r->lo = (uint16_t)lo;
	r->hi = (uint16_t)hi;
	return WEIR_OK;
}

static const struct {
	const char *name;
	uint8_t num;
} proto_names[] = {
	{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 }, { "ipv6-icmp", 58 },
	{ "sctp", 132 },
};

int parse_protocols(const char *s, uint8_t *out, unsigned max, unsigned *n,
		    char *err, size_t errlen)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		unsigned long v;
		int found = 0;

		if (len == 0)
			return fail(err, errlen, "'%s': empty entry in the protocol list", s);
		if (*n == max)
			return fail(err, errlen, "'%s': more than %u protocols", s, max);
		if (small_uint(p, len, 255, &v)) {
			found = 1;
		} else {
			for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
				if (strlen(proto_names[i].name) == len &&
				    strncasecmp(p, proto_names[i].name, len) == 0) {
					v = proto_names[i].num;
					found = 1;
					break;
				}
			}
		}
		if (!found)
			return fail(err, errlen, "'%.*s' is not an IP protocol (0..255, tcp, udp, icmp, icmpv6, sctp)",
				    (int)(len > 40 ? 40 : len), p);
		out[(*n)++] = (uint8_t)v;
		if (!comma)
			return WEIR_OK;
		p = comma + 1;
	}
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
	      char *err, size_t errlen)
{
	unsigned long long v;
	char *end;

	if (!all_digits(s, strlen(s)))
		return fail(err, errlen, "%s: '%s' is not a whole number", what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return fail(err, errlen, "%s: '%s' is out of range (%llu..%llu)", what, s,
			    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return WEIR_OK;
}

int parse_duration(const char *s, uint64_t *ns, const char *what, char *err, size_t errlen)
{
	double v, unit = 1;
	size_t len = strlen(s);
	char *end;

	if (len && (s[len - 1] == 's' || s[len - 1] == 'm' || s[len - 1] == 'h')) {
		unit = s[len - 1] == 'h' ? 3600 : s[len - 1] == 'm' ? 60 : 1;
		len--;
	}
	if (len == 0 || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return fail(err, errlen, "%s: '%s' is not a duration (seconds, e.g. 10 or 2.5 or 5m)", what, s);
	errno = 0;
	v = strtod(s, &end);
	if (errno || (size_t)(end - s) != len || !isfinite(v))
		return fail(err, errlen, "%s: '%s' is not a duration (seconds, e.g. 10 or 2.5 or 5m)", what, s);
	v *= unit;
	if (v <= 0 || v > 366.0 * 86400)
		return fail(err, errlen, "%s: '%s' must be above 0 and at most a year", what, s);
	*ns = (uint64_t)llround(v * 1e9);
	if (*ns == 0)
		return fail(err, errlen, "%s: '%s' is shorter than a nanosecond", what, s);
	return WEIR_OK;
}

int parse_distribution(const char *s, double *zipf_s, char *err, size_t errlen)
{
	char *end;
	double v;

	if (strcmp(s, "uniform") == 0) {
		*zipf_s = 0;
		return WEIR_OK;
	}
	if (strcmp(s, "zipf") == 0) {
		*zipf_s = 1.0;
		return WEIR_OK;
	}
	if (strncmp(s, "zipf:", 5) != 0 || !(isdigit((unsigned char)s[5]) || s[5] == '.'))
		return fail(err, errlen, "--distribution: '%s' is not uniform, zipf or zipf:S", s);
	errno = 0;
	v = strtod(s + 5, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > 10)
		return fail(err, errlen, "--distribution: exponent in '%s' must be above 0 and at most 10", s);
	*zipf_s = v;
	return WEIR_OK;
}
