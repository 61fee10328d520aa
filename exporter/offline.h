/* offline.h - weir-exporter's offline path: the packets of pcap files
 * through the flow meter into the IPFIX exporting process.
 *
 * The files are one stream, read in the order given: the packets' own
 * times drive the meter's timeouts and the exporting process's clock
 * (template refresh, statistics), so a capture gives the same flows
 * whenever and however fast it is read. At the end of the last file (or
 * at a stop request) every flow still held ends with flowEndReason 4
 * (forced end) and the exporting process sends what it holds and closes.
 */
#ifndef EXP_OFFLINE_H
#define EXP_OFFLINE_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "meter.h"
#include "pkt.h"
#include "xp.h"

/* What a run did, besides the meter's and the exporting process's own
 * counters. */
struct off_sum {
	unsigned files;			/* opened */
	unsigned files_failed;		/* could not be opened, or a link type not parsed */
	unsigned read_errors;		/* files that ended in a read error */
	uint64_t frames;		/* read */
	uint64_t frames_cut;		/* captured shorter than on the wire (snap length) */
	uint64_t why[PKT_WHY_MAX];	/* frames by the parser's reason (enum pkt_why) */
	uint64_t last_ns;		/* the latest packet time seen */
	int stopped;			/* a stop request ended the run */
	struct meter_stats meter;	/* at the end */
	struct xp_stats xp;		/* after xp_close */
	int xp_failed;			/* something was not sent (records lost, send
					 * errors, or xp_close said so) */
};

/* Meter c->pcaps in order and export as c says. stop: polled once per
 * packet; when it becomes non-zero the run ends as at the end of the files.
 * Fills *sum. Returns 0, or -1 when the run could not start (a sentence in
 * err: no memory, the exporting process could not open). A file that
 * cannot be read is logged and counted in *sum, and the run goes on with
 * the next. */
int off_run(const struct exp_cfg *c, volatile sig_atomic_t *stop, struct off_sum *sum,
	    char *err, size_t errlen);

/* The one-line summary of a run (packets, flows, records, refusals,
 * frames not metered, the parser's reasons) into buf. */
void off_summary(const struct off_sum *s, char *buf, size_t len);

#endif
