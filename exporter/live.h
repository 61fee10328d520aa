/* live.h - weir-exporter's live path: interfaces metered by the tc
 * programs of bpf/weir_tc.bpf.c, their flows read from the kernel into the
 * flow meter and exported (docs/exporter.md, "Live metering: user space").
 *
 * The run: check the capabilities; open the exporting process (its
 * socket's addresses go to the programs, so the export is not metered);
 * load the programs with the settings; remove what a dead weir-exporter
 * left attached; attach to every -i in the directions asked (TCX links
 * where the kernel has them, else a tc filter on the clsact qdisc); drop
 * every capability but the three it needs; then every LIVE_POLL_NS drain
 * the kernel's flows into the meter, read the spill and event rings, run
 * the meter's timeouts on the wall clock and let the exporting process
 * send. At a stop request: detach, drain what the kernel still holds, end
 * every flow (flowEndReason 4), close the export.
 */
#ifndef EXP_LIVE_H
#define EXP_LIVE_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "meter.h"
#include "weir_tc.h"
#include "xp.h"

struct live_sum {
	unsigned hooks;			/* interfaces x directions attached */
	const char *how;		/* "tcx" or "tc" */
	int stopped;			/* a stop request ended the run */
	uint64_t wtc[WTC_ST_COUNT];	/* the programs' counters at the end */
	uint64_t drains;
	uint64_t stale_removed;		/* filters of dead weir-exporters removed */
	struct meter_stats meter;	/* at the end */
	struct xp_stats xp;		/* after xp_close */
	int xp_failed;
};

/* Meter c->ifaces live until *stop becomes non-zero. Fills *sum. Returns 0,
 * or -1 when the run could not start (a sentence in err: no privilege, no
 * kernel support, an interface that does not exist, the export that
 * cannot open). */
int live_run(const struct exp_cfg *c, volatile sig_atomic_t *stop, struct live_sum *sum,
	     char *err, size_t errlen);

/* The one-line summary of a run into buf. */
void live_summary(const struct live_sum *s, char *buf, size_t len);

#endif
