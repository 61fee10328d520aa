/* samp.h - --sampling-rate [EXPORTER=]N: a default rate and overrides per
 * exporter address.
 *
 * A record's sampling rate is, in this order: the override for its exporter
 * (the UDP source address), the rate the record carries (options data, v5
 * header, sFlow sample), the default; 0 when none of them is known.
 */
#ifndef COL_SAMP_H
#define COL_SAMP_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define COL_SAMP_MAX	65536	/* overrides on one command line */

struct col_samp_ent {
	struct weir_addr addr;
	uint32_t rate;
};

struct col_samp {
	uint32_t def;			/* 0 = no default */
	uint32_t n, cap;
	uint8_t sorted;			/* col_samp_finish() ran since the last parse */
	struct col_samp_ent *ent;	/* sorted by address after col_samp_finish() */
};

/* Parse one flag value, "N" (the default) or "ADDR=N" (an override; ADDR is
 * IPv4 or IPv6, optionally in brackets), N in 1..4294967295. A later value
 * for the same exporter wins. WEIR_OK, or WEIR_E_INVALID / WEIR_E_LIMIT /
 * WEIR_E_NOMEM with a sentence in err. */
int col_samp_parse(struct col_samp *s, const char *v, char *err, size_t errlen);
/* Sort and drop duplicates (the later one wins); call once after parsing. */
void col_samp_finish(struct col_samp *s);
/* The override for exporter a, or 0. */
uint32_t col_samp_lookup(const struct col_samp *s, const struct weir_addr *a);

/* The rate of a record: override, else the record's own, else the default. */
static inline uint32_t col_samp_rate(const struct col_samp *s, uint32_t override, uint32_t rec)
{
	if (override)
		return override;
	return rec ? rec : s->def;
}

void col_samp_free(struct col_samp *s);

#endif
