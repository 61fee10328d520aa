/* parse.h - the generator's flag values: CIDR ranges, port ranges, IP
 * protocol lists, numbers, durations, the address popularity distribution.
 *
 * Every parser takes the whole string: trailing characters, empty lists,
 * empty ranges and out-of-range numbers are errors. On error it returns
 * WEIR_E_INVALID, writes one sentence naming the bad value into err (errlen
 * bytes, always terminated when errlen > 0) and leaves its out-params in an
 * unspecified state.
 */
#ifndef GEN_PARSE_H
#define GEN_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* An address range: base with the host bits cleared, and the prefix length
 * in the address family's own terms (0..32 for IPv4, 0..128 for IPv6). */
struct gen_cidr {
	struct weir_addr base;		/* IPv4 mapped for v6 == 0 */
	uint8_t plen;
	uint8_t v6;
};

/* Inclusive port range, lo <= hi <= 65535. */
struct gen_range {
	uint16_t lo, hi;
};

/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). Host bits
 * below the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8). */
int parse_cidr(const char *s, struct gen_cidr *c, char *err, size_t errlen);
/* Comma-separated CIDRs, at most max of them; *n gets the count (>= 1). */
int parse_cidr_list(const char *s, struct gen_cidr *out, unsigned max, unsigned *n,
		    char *err, size_t errlen);
/* "LO-HI" or a single port "P". */
int parse_port_range(const char *s, struct gen_range *r, char *err, size_t errlen);
/* Comma-separated IP protocol numbers 0..255, or the names tcp, udp, icmp,
 * icmpv6, sctp; at most max entries (repeats are kept: they weigh the
 * choice). */
int parse_protocols(const char *s, uint8_t *out, unsigned max, unsigned *n,
		    char *err, size_t errlen);
/* Decimal unsigned integer within [min, max]; what names the flag in err. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
	      char *err, size_t errlen);
/* Seconds as a decimal number ("10", "2.5"), optionally followed by s, m
 * or h; > 0 and at most a year. *ns gets nanoseconds. */
int parse_duration(const char *s, uint64_t *ns, const char *what, char *err, size_t errlen);
/* "uniform" (*zipf_s = 0), "zipf" (exponent 1) or "zipf:S" with
 * 0 < S <= 10. */
int parse_distribution(const char *s, double *zipf_s, char *err, size_t errlen);

#endif
