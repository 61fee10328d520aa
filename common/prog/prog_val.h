/* prog_val.h - the values of command-line flags, with one set of rules for
 * every weir program: unsigned numbers within bounds, sizes (k, M, G),
 * durations with units, addresses, address ranges (CIDR) and port ranges.
 *
 * Every parser takes the whole string: blanks, signs, trailing characters,
 * empty lists, empty ranges and out-of-range values are errors. On error it
 * returns WEIR_E_INVALID, writes one sentence naming the bad value (and,
 * where a parser takes what, the flag: "WHAT: 'V' is not ..."; what may be
 * NULL for prog_parse_u64 and prog_parse_addr) into err (errlen bytes, always
 * terminated when errlen > 0) and leaves its out-params in an unspecified
 * state.
 */
#ifndef PROG_VAL_H
#define PROG_VAL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* An address range: base with the host bits cleared, and the prefix length
 * in the address family's own terms (0..32 for IPv4, 0..128 for IPv6). */
struct prog_cidr {
	struct weir_addr base;		/* IPv4 mapped for v6 == 0 */
	uint8_t plen;
	uint8_t v6;
};

/* Inclusive port range, lo <= hi <= 65535. */
struct prog_range {
	uint16_t lo, hi;
};

/* Decimal digits only, within [min, max]. */
int prog_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		   char *err, size_t errlen);
/* A byte count: decimal digits, optionally followed by one of k, M, G
 * (either case; powers of 1024), within [min, max] bytes. */
int prog_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, const char *what,
		    char *err, size_t errlen);
/* A duration: a decimal number ("10", "2.5", ".5") optionally followed by
 * a unit, ns, us, ms, s, m or h; without one it is seconds. *ns gets
 * nanoseconds (rounded), within [min_ns, max_ns]. */
int prog_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *ns,
			const char *what, char *err, size_t errlen);
/* A duration as prog_parse_duration() reads it ("1800", "30m", "1h") that
 * is a whole number of seconds, within [min_s, max_s]; *out_s gets it. */
int prog_parse_seconds(const char *s, uint64_t min_s, uint64_t max_s, uint64_t *out_s,
		       const char *what, char *err, size_t errlen);
/* An address literal: IPv4, IPv6, or IPv6 in brackets ("[::1]"). *v4 gets
 * 1 for an IPv4 address written as such ("::ffff:a.b.c.d" stays IPv6). */
int prog_parse_addr(const char *s, struct weir_addr *a, uint8_t *v4, const char *what,
		    char *err, size_t errlen);
/* "10.0.0.0/8", "2001:db8::/32", or a bare address (/32, /128). Host bits
 * below the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8). */
int prog_parse_cidr(const char *s, struct prog_cidr *c, char *err, size_t errlen);
/* Comma-separated CIDRs, at most max of them; *n gets the count (>= 1). */
int prog_parse_cidr_list(const char *s, struct prog_cidr *out, unsigned max, unsigned *n,
			 char *err, size_t errlen);
/* "LO-HI" or a single port "P", 0..65535. */
int prog_parse_port_range(const char *s, struct prog_range *r, char *err, size_t errlen);

/* Helpers for a program's own value lists. The n bytes at s are decimal
 * digits (n >= 1) of a value <= max: 1 with *out set, else 0. */
int prog_small_uint(const char *s, size_t n, unsigned long max, unsigned long *out);
/* Write the sentence into err (when errlen > 0); returns WEIR_E_INVALID. */
int prog_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
