/* pktcount.h - a capture file through wpcap + pkt_start_of_dlt + pkt_parse,
 * counted the way the flow meter counts: IPv4 and IPv6 packets and their
 * IP bytes (pkt_info.ip_len), frames without IP, frames refused by reason.
 * Shared by tests/unit/test_pkt_pcaps.c and tests/tools/weir-pktcount.c.
 */
#ifndef WEIR_TESTS_PKTCOUNT_H
#define WEIR_TESTS_PKTCOUNT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pkt.h"
#include "wpcap.h"

struct pktcount {
	int dlt;			/* the file's link type */
	int start;			/* pkt_start_of_dlt(dlt): -1 not parsed */
	uint64_t frames;		/* read */
	uint64_t ipv4, ipv6;		/* frames with that IP layer */
	uint64_t ip_bytes;		/* sum of their ip_len */
	uint64_t not_ip;		/* no IP layer, nothing wrong */
	uint64_t refused;		/* no IP layer, why != 0 */
	uint64_t why[PKT_WHY_MAX];	/* every frame with why != 0, IP or not */
	int open_failed;		/* the file did not open */
	int read_failed;		/* a read error ended it early */
	char err[256];
};

/* Called per frame when given: its number (from 1) and what was parsed. */
typedef void (*pktcount_fn)(void *arg, uint64_t n, const struct wpcap_frame *f,
			    const struct pkt_info *pi);

/* Count path into *c (zeroed first). Frames of a link type weir does not
 * parse are read and counted in frames only. exact: parse a heap copy of
 * exactly caplen bytes, so that ASan sees a read past them (libpcap's
 * buffer goes on after a frame). WEIR_OK or WEIR_E_IO (c->err). */
static inline int pktcount_file(struct pktcount *c, const char *path, int exact, pktcount_fn fn,
				void *arg)
{
	struct wpcap_rd rd;
	struct wpcap_frame f;
	struct pkt_info pi;
	int r;

	memset(c, 0, sizeof(*c));
	c->dlt = -1;
	c->start = -1;
	if (wpcap_open_read(&rd, path, c->err, sizeof(c->err))) {
		c->open_failed = 1;
		return WEIR_E_IO;
	}
	c->dlt = rd.dlt;
	c->start = pkt_start_of_dlt(rd.dlt);
	while ((r = wpcap_next(&rd, &f)) == 1) {
		c->frames++;
		if (c->start < 0)
			continue;
		if (exact) {
			uint8_t *copy = malloc(f.caplen ? f.caplen : 1);

			if (!copy)
				abort();
			memcpy(copy, f.p, f.caplen);
			pkt_parse_frame(&pi, copy, f.caplen, f.len, c->start);
			free(copy);
		} else {
			pkt_parse_frame(&pi, f.p, f.caplen, f.len, c->start);
		}
		if (pi.why)
			c->why[pi.why]++;
		if (pi.layers & PKT_L_IPV4)
			c->ipv4++;
		else if (pi.layers & PKT_L_IPV6)
			c->ipv6++;
		else if (pi.why)
			c->refused++;
		else
			c->not_ip++;
		if (pi.layers & (PKT_L_IPV4 | PKT_L_IPV6))
			c->ip_bytes += pi.ip_len;
		if (fn)
			fn(arg, c->frames, &f, &pi);
	}
	if (r < 0) {
		c->read_failed = 1;
		snprintf(c->err, sizeof(c->err), "%s", wpcap_error(&rd));
	}
	wpcap_close_read(&rd);
	return r < 0 ? WEIR_E_IO : WEIR_OK;
}

#endif
