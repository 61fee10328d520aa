/* offline.c - see offline.h.
 *
 * The loop per packet is what the offline benchmark measures
 * (bench/run-exporter): read a frame (wpcap), parse its headers into a
 * batch of METER_BATCH, hand the batch to the meter (which overlaps the
 * cache misses of its lookups). Nothing else runs per packet: no clock is
 * read (the packet's time is the clock), nothing is allocated, and the
 * exporting process hears the time only when it has moved on by
 * OFF_TICK_NS. The records a batch ends are dated with the batch's latest
 * packet time, at most METER_BATCH packets late.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "offline.h"
#include "pkt.h"
#include "prog_clock.h"
#include "prog_log.h"
#include "wpcap.h"

/* How often, in packet time, the exporting process hears the time. */
#define OFF_TICK_NS	(100 * 1000 * 1000ull)

/* What the meter's records go out with. */
struct off_run {
	struct meter *m;
	struct xp *x;
	uint64_t now;			/* the latest packet time: the exporter's clock */
	uint64_t next_tick;
	struct off_sum *sum;
};

static void off_emit(void *arg, const struct meter_rec *rec)
{
	struct off_run *run = arg;

	xp_add(run->x, rec, run->now);
}

/* The frames of one open file into the meter, until its end, a read error
 * or a stop request. Returns the wpcap_next() value that ended it (0 at
 * the end, WEIR_E_IO), or 1 when stopped. */
static int off_frames(struct off_run *run, struct wpcap_rd *r, int start,
		      volatile sig_atomic_t *stop)
{
	struct off_sum *sum = run->sum;
	struct wpcap_frame f;
	struct pkt_info pi[METER_BATCH];
	uint64_t t[METER_BATCH];
	uint64_t frames = 0, cut = 0;
	uint64_t *why = sum->why;
	size_t n = 0;
	int rc;

	while ((rc = wpcap_next(r, &f)) == 1) {
		if (*stop)
			break;
		frames++;
		cut += f.caplen < f.len;
		if (f.t_ns > run->now)
			run->now = f.t_ns;
		pkt_parse_frame(&pi[n], f.p, f.caplen, f.len, start);
		why[pi[n].why]++;
		t[n++] = f.t_ns;
		if (n < METER_BATCH)
			continue;
		/* A batch: the meter overlaps its table lookups. */
		meter_packets(run->m, pi, t, n, 0, WFLOW_DIR_INGRESS);
		n = 0;
		if (run->now >= run->next_tick) {
			xp_tick(run->x, run->now, meter_stats(run->m));
			run->next_tick = run->now + OFF_TICK_NS;
		}
	}
	if (n)
		meter_packets(run->m, pi, t, n, 0, WFLOW_DIR_INGRESS);
	sum->frames += frames;
	sum->frames_cut += cut;
	return *stop ? 1 : rc;
}

/* One file: open, check its link type, meter its frames, close. Returns 1
 * when a stop request ended it, else 0. */
static int off_file(struct off_run *run, const char *path, volatile sig_atomic_t *stop)
{
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	struct off_sum *sum = run->sum;
	struct wpcap_rd r;
	char err[512];
	int start, rc;

	if (wpcap_open_read(&r, path, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "%s", err);
		sum->files_failed++;
		return 0;
	}
	start = pkt_start_of_dlt(r.dlt);
	if (start < 0) {
		prog_log(PROG_LOG_ERROR, "%s: link type %d (%s) is not one the exporter parses; "
			 "file skipped", name, r.dlt, wpcap_dlt_name(r.dlt));
		sum->files_failed++;
		wpcap_close_read(&r);
		return 0;
	}
	sum->files++;
	prog_log(PROG_LOG_DEBUG, "%s: link type %s", name, wpcap_dlt_name(r.dlt));
	r.stop = stop;		/* a stop request ends a read that waits */
	rc = off_frames(run, &r, start, stop);
	if (rc == WEIR_E_IO && *stop)
		rc = 1;
	if (rc == WEIR_E_IO) {
		prog_log(PROG_LOG_ERROR, "%s: %s (after %llu frames; the file ends there)", name,
			 wpcap_error(&r), (unsigned long long)r.frames);
		sum->read_errors++;
	}
	wpcap_close_read(&r);
	return rc == 1;
}

int off_run(const struct exp_cfg *c, volatile sig_atomic_t *stop, struct off_sum *sum,
	    char *err, size_t errlen)
{
	struct off_run run = { .sum = sum };
	struct meter_cfg mc;
	struct xp_cfg xc;

	memset(sum, 0, sizeof(*sum));
	exp_cfg_meter(c, &mc);
	exp_cfg_xp(c, &xc);
	/* Offline nothing is lost by waiting for the collector (TCP); the
	 * live path never waits. Rounded up: a bound under 1 ms is 1 ms. */
	xc.wait_ms = (uint32_t)((c->tcp_wait_ns + PROG_NS_PER_S / 1000 - 1) / (PROG_NS_PER_S / 1000));
	run.m = meter_new(&mc, off_emit, &run);
	if (!run.m) {
		snprintf(err, errlen, "no memory for a table of %u flows (--max-flows)",
			 c->max_flows);
		return -1;
	}
	run.x = xp_open(&xc, err, errlen);
	if (!run.x) {
		meter_free(run.m);
		return -1;
	}
	for (unsigned i = 0; i < c->npcaps && !sum->stopped; i++)
		sum->stopped = off_file(&run, c->pcaps[i], stop);
	sum->stopped |= *stop != 0;
	sum->last_ns = run.now;
	/* No packet at all: the export still goes out (templates, the
	 * statistics), dated now. */
	if (!run.now)
		run.now = prog_now_real();
	meter_flush(run.m, METER_END_FORCED);
	sum->meter = *meter_stats(run.m);
	/* Records lost at any time fail the run, not only those lost at close. */
	sum->xp_failed = xp_close(run.x, run.now, &sum->meter, &sum->xp) != 0 ||
			 sum->xp.records_lost || sum->xp.send_errors;
	meter_free(run.m);
	return 0;
}

void off_summary(const struct off_sum *s, char *buf, size_t len)
{
	const struct meter_stats *m = &s->meter;
	const char *sep = "; parser stopped early:";
	size_t n;

	n = (size_t)snprintf(buf, len,
		 "%u file%s, %llu packets (%llu sampled out), %llu flows, %llu records in %llu "
		 "messages (%llu lost); --max-flows: %llu flows ended to make room, %llu "
		 "refused (%llu packets); "
		 "not metered: not IP %llu, truncated %llu, malformed %llu, fragments without "
		 "their first %llu; frames cut by the capture %llu",
		 s->files, s->files == 1 ? "" : "s", (unsigned long long)s->frames,
		 (unsigned long long)m->sampled_out, (unsigned long long)m->flows_created,
		 (unsigned long long)s->xp.records, (unsigned long long)s->xp.messages,
		 (unsigned long long)s->xp.records_lost, (unsigned long long)m->evicted,
		 (unsigned long long)m->refused_flows,
		 (unsigned long long)m->refused_packets, (unsigned long long)m->not_ip,
		 (unsigned long long)m->truncated, (unsigned long long)m->malformed,
		 (unsigned long long)m->frag_orphaned, (unsigned long long)s->frames_cut);
	/* The parser's reasons, each one that occurred. */
	for (int w = 1; w < PKT_WHY_MAX && n < len; w++) {
		if (!s->why[w])
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s %s %llu", sep, pkt_why_name(w),
				      (unsigned long long)s->why[w]);
		sep = ",";
	}
}
