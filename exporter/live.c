/* live.c - see live.h. The run: set up in an order that needs each
 * privilege while it is still held, the loop, and the teardown that loses
 * nothing the kernel counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_int.h"
#include "prog_clock.h"
#include "prog_log.h"
#include "weir_tc.skel.h"

/* The meter's records go to the exporting process at the wall clock. */
static void emit(void *arg, const struct meter_rec *rec)
{
	struct live *l = arg;

	xp_add(l->x, rec, prog_now_real());
}

/* The meter's counters with the kernel's beside them, as the exporting
 * process reports them: packets the spill ring had no room for were
 * counted nowhere (notSentPacketTotalCount); packets the parser refused
 * are ignored ones (ignoredPacketTotalCount). */
static void stats_view(struct live *l)
{
	l->ms = *meter_stats(l->m);
	l->ms.packets += l->wtc[WTC_ST_PACKETS];
	l->ms.sampled_out += l->wtc[WTC_ST_SAMPLED_OUT];
	l->ms.not_ip += l->wtc[WTC_ST_NOT_IP];
	l->ms.malformed += l->wtc[WTC_ST_MALFORMED];
	l->ms.refused_packets += l->wtc[WTC_ST_SPILL_LOST];
}

/* One poll: the kernel's flows into the meter, the timeouts on the wall
 * clock, the export's own time. */
static void tick(struct live *l)
{
	uint64_t now;

	live_drain(l);
	if (prog_now_mono() - l->clock_at >= LIVE_CLOCK_NS)
		live_clock(l);
	live_bpf_stats(l);
	stats_view(l);
	now = prog_now_real();
	meter_expire(l->m, now);
	xp_tick(l->x, now, &l->ms);
	live_metrics_publish(l);
}

static void loop(struct live *l, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		uint64_t now = prog_now_mono(), due = l->last_drain + LIVE_POLL_NS;
		int ms;

		if (l->event_pending && l->last_drain + LIVE_EVENT_GAP_NS < due)
			due = l->last_drain + LIVE_EVENT_GAP_NS;
		ms = due > now ? (int)((due - now + 999999) / 1000000) : 0;
		live_rings(l, ms);
		now = prog_now_mono();
		if (now >= due || (l->event_pending && now >= l->last_drain + LIVE_EVENT_GAP_NS))
			tick(l);
	}
}

/* --promiscuous on (on 1) or back as it was (0). */
static int promisc(struct live *l, int on, char *err, size_t errlen)
{
	for (unsigned i = 0; i < l->cfg->nifaces; i++) {
		int was = 0;

		if (on) {
			if (live_promisc(l->cfg->ifaces[i], 1, &was, err, errlen))
				return -1;
			l->promisc[i] = !was;	/* someone else's flag stays theirs */
		} else if (l->promisc[i]) {
			char why[256];

			if (live_promisc(l->cfg->ifaces[i], 0, NULL, why, sizeof(why)))
				prog_log(PROG_LOG_WARN, "%s", why);
			l->promisc[i] = 0;
		}
	}
	return 0;
}

/* Everything up to the loop. 0, or -1 with a sentence in err. */
static int setup(struct live *l, char *err, size_t errlen)
{
	struct meter_cfg mc;
	struct xp_cfg xc;

	exp_cfg_meter(l->cfg, &mc);
	mc.sampling = 1;	/* the programs sample */
	exp_cfg_xp(l->cfg, &xc);
	l->m = meter_new(&mc, emit, l);
	if (!l->m) {
		snprintf(err, errlen, "out of memory for --max-flows %u", l->cfg->max_flows);
		return -1;
	}
	l->x = xp_open(&xc, err, errlen);
	if (!l->x)
		return -1;
	if (live_bpf_load(l, &xc, err, errlen) || live_drain_init(l, err, errlen) ||
	    live_rings_open(l, err, errlen))
		return -1;
	if (l->cfg->promiscuous && promisc(l, 1, err, errlen))
		return -1;
	if (live_bpf_attach(l, err, errlen))
		return -1;
	if (live_caps_drop(err, errlen))
		return -1;
	return live_metrics_start(l, err, errlen);
}

/* Detach, then read what the kernel still holds: both generations (each
 * drain takes the one before its flip), and the rings. */
static void teardown_kernel(struct live *l)
{
	live_bpf_detach(l);
	live_drain(l);
	live_drain(l);
	ring_buffer__consume(l->rb);
	live_bpf_stats(l);
}

static void free_all(struct live *l)
{
	live_metrics_stop(l);
	if (l->nhooks)
		live_bpf_detach(l);
	promisc(l, 0, NULL, 0);
	ring_buffer__free(l->rb);
	live_drain_free(l);
	live_bpf_close(l);
	meter_free(l->m);
}

int live_run(const struct exp_cfg *c, volatile sig_atomic_t *stop, struct live_sum *sum,
	     char *err, size_t errlen)
{
	struct live l;
	uint64_t now;

	memset(sum, 0, sizeof(*sum));
	if (live_caps_check(err, errlen))
		return -1;
	memset(&l, 0, sizeof(l));
	l.cfg = c;
	l.flows_fd = l.stats_fd = l.sync_fd = l.sync_inner_fd = -1;
	if (setup(&l, err, errlen)) {
		xp_close(l.x, prog_now_real(), NULL, NULL);
		free_all(&l);
		return -1;
	}
	sum->hooks = l.nhooks;
	sum->how = l.nhooks && l.hooks[0].link_fd >= 0 ? "tcx" : "tc";
	prog_log(PROG_LOG_INFO, "metering %u interface%s, %s, attached by %s%s", c->nifaces,
		 c->nifaces == 1 ? "" : "s", c->direction == EXP_DIR_BOTH ? "ingress and egress" :
		 c->direction == EXP_DIR_INGRESS ? "ingress" : "egress", sum->how,
		 l.stale_removed ? " (filters a dead weir-exporter left: removed)" : "");
	l.last_drain = prog_now_mono();
	loop(&l, stop);

	sum->stopped = 1;
	teardown_kernel(&l);
	stats_view(&l);
	meter_flush(l.m, METER_END_FORCED);
	now = prog_now_real();
	sum->xp_failed = xp_close(l.x, now, &l.ms, &sum->xp) != 0;
	l.x = NULL;
	sum->meter = l.ms;
	memcpy(sum->wtc, l.wtc, sizeof(sum->wtc));
	sum->drains = l.c.drains;
	sum->stale_removed = l.stale_removed;
	free_all(&l);
	return 0;
}

void live_summary(const struct live_sum *s, char *buf, size_t len)
{
	const uint64_t *w = s->wtc;

	snprintf(buf, len, "%u hooks (%s), %llu packets seen (%llu sampled out, %llu of the own "
		 "export), %llu flows, %llu records in %llu messages (%llu lost); kernel: %llu "
		 "packets spilled (%llu lost), %llu FIN/RST events lost; not metered: not IP %llu, "
		 "malformed %llu; %llu drains",
		 s->hooks, s->how ? s->how : "-", (unsigned long long)w[WTC_ST_PACKETS],
		 (unsigned long long)w[WTC_ST_SAMPLED_OUT], (unsigned long long)w[WTC_ST_OWN_EXPORT],
		 (unsigned long long)s->meter.flows_created, (unsigned long long)s->xp.records,
		 (unsigned long long)s->xp.messages, (unsigned long long)s->xp.records_lost,
		 (unsigned long long)w[WTC_ST_SPILLED], (unsigned long long)w[WTC_ST_SPILL_LOST],
		 (unsigned long long)w[WTC_ST_EVENTS_LOST], (unsigned long long)w[WTC_ST_NOT_IP],
		 (unsigned long long)w[WTC_ST_MALFORMED], (unsigned long long)s->drains);
}
