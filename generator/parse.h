/* parse.h - the generator's own flag values: IP protocol lists and the
 * address popularity distribution. Numbers, durations, address and port
 * ranges are prog_val.h's (the rules every weir program shares).
 *
 * Every parser takes the whole string. On error it returns WEIR_E_INVALID,
 * writes one sentence naming the bad value into err (errlen bytes, always
 * terminated when errlen > 0) and leaves its out-params in an unspecified
 * state.
 */
#ifndef GEN_PARSE_H
#define GEN_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "prog_val.h"

/* Comma-separated IP protocol numbers 0..255, or the names tcp, udp, icmp,
 * icmpv6, sctp; at most max entries (repeats are kept: they weigh the
 * choice). */
int parse_protocols(const char *s, uint8_t *out, unsigned max, unsigned *n,
		    char *err, size_t errlen);
/* "uniform" (*zipf_s = 0), "zipf" (exponent 1) or "zipf:S" with
 * 0 < S <= 10. */
int parse_distribution(const char *s, double *zipf_s, char *err, size_t errlen);

#endif
