/* parse.c - see parse.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "parse.h"

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
			return prog_fail(err, errlen, "'%s': empty entry in the protocol list", s);
		if (*n == max)
			return prog_fail(err, errlen, "'%s': more than %u protocols", s, max);
		if (prog_small_uint(p, len, 255, &v)) {
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
			return prog_fail(err, errlen, "'%.*s' is not an IP protocol (0..255, tcp, udp, icmp, icmpv6, sctp)",
				    (int)(len > 40 ? 40 : len), p);
		out[(*n)++] = (uint8_t)v;
		if (!comma)
			return WEIR_OK;
		p = comma + 1;
	}
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
		return prog_fail(err, errlen, "--distribution: '%s' is not uniform, zipf or zipf:S", s);
	errno = 0;
	v = strtod(s + 5, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > 10)
		return prog_fail(err, errlen, "--distribution: exponent in '%s' must be above 0 and at most 10", s);
	*zipf_s = v;
	return WEIR_OK;
}
