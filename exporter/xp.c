/* xp.c - the IPFIX exporting process (RFC 7011): flow records into
 * messages filled up to the MTU, templates and options records at start,
 * at each refresh and on each new TCP connection, the statistics of what
 * was exported and lost, the withdrawal at close. Templates and the record
 * writer are in xp_tmpl.c, the transports in xp_net.c.
 *
 * Two message buffers: the data message being filled with flow records
 * (sent when full, when its first record has waited XP_WAIT_NS of the
 * caller's clock, or at close), and a control message for templates,
 * options records and withdrawals, built and sent in one go. Sequence
 * numbers (RFC 7011 section 3.1) are given when a message is finished:
 * the data records (options records included) of the messages finished
 * before it in the stream, those later lost included, so that a collector
 * sees a loss as a gap. A new TCP connection is a new stream: it starts
 * at 0 with the templates.
 *
 * With cfg.wait_ms over TCP each message, before it is begun (a control
 * message) or numbered (a data message), waits in tcp_ready() for a
 * connection and room in the queue (xp_net_wait), so that a message is
 * numbered for the stream it goes on; a new connection met there gets its
 * templates first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_int.h"

#define NS_PER_MS	1000000ull
#define NS_PER_S	1000000000ull

/* ---- counters ---- */

static void mark_drop(struct xp *x)
{
	uint64_t ms = x->now_ns / NS_PER_MS;

	if (!x->first_drop_ms)
		x->first_drop_ms = ms;
	x->last_drop_ms = ms;
}

void xp_count_sent(struct xp *x, const struct xp_msg_info *mi)
{
	x->st.messages++;
	x->st.records += mi->flows;
	x->st.packets += mi->packets;
	x->st.octets += mi->octets;
	x->msg_octets += mi->len;
}

void xp_count_lost(struct xp *x, const struct xp_msg_info *mi)
{
	if (!mi->flows)
		return;
	x->st.records_lost += mi->flows;
	x->lost_packets += mi->packets;
	x->lost_octets += mi->octets;
	mark_drop(x);
}

/* ---- templates ---- */

/* The exporting process reliability statistics (RFC 7011 section 4.3,
 * with the exported totals of section 4.1): scope exportingProcessId. */
static const uint16_t stats_ids[] = {
	144,	/* exportingProcessId (scope): the observation domain id */
	41,	/* exportedMessageTotalCount */
	42,	/* exportedFlowRecordTotalCount */
	40,	/* exportedOctetTotalCount: message bytes */
	166,	/* notSentFlowTotalCount */
	167,	/* notSentPacketTotalCount */
	168,	/* notSentOctetTotalCount */
	164,	/* ignoredPacketTotalCount */
	323,	/* observationTimeMilliseconds: the first flow not sent */
	323,	/* observationTimeMilliseconds: the last flow not sent */
};
#define NSTATS	(sizeof(stats_ids) / sizeof(stats_ids[0]))

static struct tmpl *stats_template(void)
{
	struct tmpl *t = ipfix_tmpl_new(XP_TID_STATS, NSTATS, 1);

	if (!t)
		return NULL;
	for (uint16_t i = 0; i < NSTATS; i++)
		t->f[i] = (struct tmpl_field){ .id = stats_ids[i], .len = i ? 8 : 4 };
	tmpl_finish(NULL, t);
	return t;
}

/* ---- control messages: templates, options records, withdrawals ---- */

static void stream_start(struct xp *x);

/* cfg.wait_ms over TCP: wait for a connection with room for a message (the
 * new stream's templates go first). Not while those templates are being
 * sent: a new connection's queue is empty and holds them all (xp_net.c's
 * queue is at least 4 MTUs). */
static void tcp_ready(struct xp *x)
{
	if (x->cfg.transport != XP_TCP || !x->cfg.wait_ms || x->in_tmpl)
		return;
	while (!xp_net_wait(x, x->cfg.mtu) && x->net.fresh)
		stream_start(x);
}

static uint32_t export_time(const struct xp *x)
{
	return (uint32_t)(x->now_ns / NS_PER_S);
}

static void ctl_end(struct xp *x)
{
	struct xp_msg_info mi = { 0 };
	int len;

	if (!x->copen)
		return;
	x->copen = 0;
	len = ipfix_msg_end(&x->cm);
	if (len <= 0)	/* cannot be: every item was given room */
		return;
	x->seq += x->cm.records;
	mi.len = (size_t)len;
	xp_net_send(x, x->cbuf, &mi);
}

/* need bytes in set set_id of the control message: a new set, or a new
 * message when they do not fit (xp_open made sure one item always fits). */
static void ctl_room(struct xp *x, uint16_t set_id, size_t need)
{
	int same = x->copen && x->cm.set_at != SIZE_MAX && x->cm.set_id == set_id;

	if (x->copen && wr_left(&x->cw) < need + (same ? 0 : IPFIX_SET_HDR_LEN)) {
		ctl_end(x);
		same = 0;
	}
	if (!x->copen) {
		tcp_ready(x);
		wr_init(&x->cw, x->cbuf, x->cfg.mtu);
		ipfix_msg_begin(&x->cm, &x->cw, export_time(x), x->seq, x->cfg.domain);
		x->copen = 1;
	}
	if (!same)
		ipfix_set_begin(&x->cm, set_id);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_stats(struct xp *x)
{
	const struct meter_stats *ms = &x->meter;
	uint64_t v[NSTATS] = {
		x->cfg.domain,
		x->st.messages,
		x->st.records,
		x->msg_octets,
		x->st.records_lost + ms->refused_flows,
		x->lost_packets + ms->refused_packets,
		x->lost_octets + ms->refused_octets,
		ms->truncated + ms->malformed + ms->frag_orphaned,
		x->first_drop_ms,
		x->last_drop_ms,
	};
	uint8_t b[NSTATS][8];
	struct weir_value wv[NSTATS];

	for (size_t i = 0; i < NSTATS; i++) {
		put_u64(b[i], i ? v[i] : v[i] << 32);
		wv[i] = (struct weir_value){ b[i], x->tstats->f[i].len };
	}
	ctl_room(x, XP_TID_STATS, x->tstats->min_len);
	ipfix_write_data(&x->cm, x->tstats, wv);
}

static void put_template(struct xp *x, const struct tmpl *t)
{
	ctl_room(x, t->scope_count ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE,
		 ipfix_template_size(t));
	ipfix_write_template(&x->cm, t);
}

/* The templates, the options templates, and the options records. */
static void send_templates(struct xp *x)
{
	put_template(x, x->lay[0].t);
	put_template(x, x->lay[1].t);
	if (x->tsamp)
		put_template(x, x->tsamp);
	put_template(x, x->tstats);
	if (x->tsamp) {
		ctl_room(x, XP_TID_SAMPLING, x->tsamp->min_len);
		ipfix_write_sampling(&x->cm, x->tsamp, IPFIX_SAMPLING_PSAMP, x->cfg.domain,
				     x->cfg.sampling);
	}
	put_stats(x);
	ctl_end(x);
}

static void send_stats(struct xp *x)
{
	put_stats(x);
	ctl_end(x);
}

/* RFC 7011 section 8.1: each template withdrawn by its id. */
static void send_withdrawals(struct xp *x)
{
	ctl_room(x, IPFIX_SET_TEMPLATE, 8);
	ipfix_write_withdrawal(&x->cm, XP_TID_V4);
	ipfix_write_withdrawal(&x->cm, XP_TID_V6);
	ctl_room(x, IPFIX_SET_OPTIONS, 8);
	if (x->tsamp)
		ipfix_write_withdrawal(&x->cm, XP_TID_SAMPLING);
	ipfix_write_withdrawal(&x->cm, XP_TID_STATS);
	ctl_end(x);
}

/* A new TCP stream: sequence numbers from 0, the templates first. */
static void stream_start(struct xp *x)
{
	x->net.fresh = 0;
	x->seq = 0;
	x->started = 1;
	x->refresh_at = x->now_ns;
	x->in_tmpl = 1;
	send_templates(x);
	x->in_tmpl = 0;
}

/* ---- the data message ---- */

static void data_finish(struct xp *x)
{
	int len;

	if (!x->open)
		return;
	tcp_ready(x);
	x->open = 0;
	len = ipfix_msg_end(&x->m);
	if (len <= 0)
		return;
	wr_put_u32(&x->w, 4, export_time(x));	/* RFC 7011 section 3.1 header */
	wr_put_u32(&x->w, 8, x->seq);
	x->seq += x->m.records;
	x->mi.len = (size_t)len;
	xp_net_send(x, x->buf, &x->mi);
}

/* One flow record of l: rec's forward direction (reverse 0) or its reverse
 * (1), in the set of its template, in a new message when it does not fit. */
static void data_record(struct xp *x, const struct xp_layout *l, const struct meter_rec *rec,
			int reverse)
{
	uint16_t tid = l->t->id;
	size_t need = l->t->min_len;

	if (x->open) {
		int same = x->m.set_at != SIZE_MAX && x->m.set_id == tid;

		if (wr_left(&x->w) < need + (same ? 0 : IPFIX_SET_HDR_LEN))
			data_finish(x);
		else if (!same)
			ipfix_set_begin(&x->m, tid);
	}
	if (!x->open) {
		wr_init(&x->w, x->buf, x->cfg.mtu);
		ipfix_msg_begin(&x->m, &x->w, 0, 0, x->cfg.domain);	/* time, seq: at the end */
		ipfix_set_begin(&x->m, tid);
		memset(&x->mi, 0, sizeof(x->mi));
		x->open = 1;
		x->open_ns = x->now_ns;
	}
	xp_put_flow(&x->w, l, rec, reverse);
	x->m.records++;
	x->mi.flows++;
	if (x->cfg.biflow) {
		x->mi.packets += rec->fwd.packets + rec->rev.packets;
		x->mi.octets += rec->fwd.octets + rec->rev.octets;
	} else {
		x->mi.packets += reverse ? rec->rev.packets : rec->fwd.packets;
		x->mi.octets += reverse ? rec->rev.octets : rec->fwd.octets;
	}
}

/* ---- time ---- */

/* The clock moves to now_ns: a new TCP stream gets the templates first, the
 * first call sends them (UDP, file), a refresh is sent when due, a data
 * message that waited long enough goes. full: the whole TCP upkeep
 * (xp_net_poll), not only a reconnect when due. */
static void clock_to(struct xp *x, uint64_t now_ns, int full)
{
	x->now_ns = now_ns;
	if (x->cfg.transport == XP_TCP) {
		xp_net_poll(x, full);
		if (x->net.fresh)
			stream_start(x);
	} else if (!x->started) {
		x->started = 1;
		x->refresh_at = now_ns;
		send_templates(x);
	}
	if (now_ns < x->refresh_at)		/* the clock went back (offline) */
		x->refresh_at = now_ns;
	if (x->started && now_ns - x->refresh_at >= x->cfg.refresh_ns) {
		x->refresh_at = now_ns;
		if (x->cfg.transport == XP_TCP)
			send_stats(x);
		else
			send_templates(x);
	}
	if (x->open) {
		if (now_ns < x->open_ns)
			x->open_ns = now_ns;
		if (now_ns - x->open_ns >= XP_WAIT_NS)
			data_finish(x);
	}
}

static void meter_seen(struct xp *x, const struct meter_stats *ms)
{
	if (!ms)
		return;
	/* refused_packets alone: packets the live path lost in the kernel
	 * (its spill ring full), whose flows are unknown. */
	if (ms->refused_flows > x->meter.refused_flows ||
	    ms->refused_packets > x->meter.refused_packets)
		mark_drop(x);
	x->meter = *ms;
}

/* ---- the interface ---- */

void xp_add(struct xp *x, const struct meter_rec *rec, uint64_t now_ns)
{
	const struct xp_layout *l;

	if (!x || !rec)
		return;
	clock_to(x, now_ns, 0);
	if (rec->key.ipver != 4 && rec->key.ipver != 6) {
		struct xp_msg_info mi = { .flows = 1, .packets = rec->fwd.packets + rec->rev.packets,
					  .octets = rec->fwd.octets + rec->rev.octets };

		xp_count_lost(x, &mi);	/* no template for it: a meter fault */
		return;
	}
	l = &x->lay[rec->key.ipver == 6];
	if (x->cfg.biflow) {
		if (rec->fwd.packets || rec->rev.packets)
			data_record(x, l, rec, 0);
		return;
	}
	if (rec->fwd.packets)
		data_record(x, l, rec, 0);
	if (rec->rev.packets)
		data_record(x, l, rec, 1);
}

void xp_tick(struct xp *x, uint64_t now_ns, const struct meter_stats *meter)
{
	if (!x)
		return;
	x->now_ns = now_ns;
	meter_seen(x, meter);
	clock_to(x, now_ns, 1);
}

const struct xp_stats *xp_stats(const struct xp *x)
{
	return &x->st;
}

static void xp_free(struct xp *x)
{
	xp_layout_free(&x->lay[0]);
	xp_layout_free(&x->lay[1]);
	free(x->tsamp);
	free(x->tstats);
	free(x->buf);
	free(x->cbuf);
	free(x->net.q);
	free(x->net.ents);
	free(x);
}

int xp_close(struct xp *x, uint64_t now_ns, const struct meter_stats *meter,
	     struct xp_stats *out)
{
	uint64_t lost, errs;
	int rc;

	if (!x) {
		if (out)
			memset(out, 0, sizeof(*out));
		return 0;
	}
	x->now_ns = now_ns;
	meter_seen(x, meter);
	clock_to(x, now_ns, 1);
	lost = x->st.records_lost;
	errs = x->st.send_errors;
	data_finish(x);
	if (x->started) {
		send_stats(x);
		if (x->cfg.transport == XP_TCP && x->net.state != XP_TCP_DOWN)
			send_withdrawals(x);
	}
	rc = xp_net_close(x, 2000);
	if (x->st.records_lost != lost || x->st.send_errors != errs)
		rc = -1;
	if (out)
		*out = x->st;
	xp_free(x);
	return rc;
}

/* The largest item a message must hold alone: a template or a record. */
static size_t largest_item(const struct xp *x)
{
	const struct tmpl *ts[] = { x->lay[0].t, x->lay[1].t, x->tsamp, x->tstats };
	size_t n = 0;

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		if (!ts[i])
			continue;
		if (ipfix_template_size(ts[i]) > n)
			n = ipfix_template_size(ts[i]);
		if (ts[i]->min_len > n)
			n = ts[i]->min_len;
	}
	return n;
}

struct xp *xp_open(const struct xp_cfg *cfg, char *err, size_t errlen)
{
	struct xp *x = calloc(1, sizeof(*x));
	size_t need;

	if (!x)
		goto nomem;
	x->cfg = *cfg;
	x->net.fd = -1;
	if (!x->cfg.mtu)
		x->cfg.mtu = XP_MTU_DEFAULT;
	if (!x->cfg.refresh_ns)
		x->cfg.refresh_ns = XP_REFRESH_DEFAULT;
	if (x->cfg.mtu > IPFIX_MSG_MAX) {
		snprintf(err, errlen, "MTU %u is above the largest IPFIX message (65535)",
			 x->cfg.mtu);
		goto fail;
	}
	if (xp_layout_init(&x->lay[0], XP_TID_V4, 0, x->cfg.biflow) ||
	    xp_layout_init(&x->lay[1], XP_TID_V6, 1, x->cfg.biflow))
		goto nomem;
	if (x->cfg.sampling > 1 &&
	    !(x->tsamp = ipfix_sampling_tmpl_new(XP_TID_SAMPLING, IPFIX_SAMPLING_PSAMP)))
		goto nomem;
	if (!(x->tstats = stats_template()))
		goto nomem;
	need = IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN + largest_item(x);
	if (x->cfg.mtu < need) {
		snprintf(err, errlen, "MTU %u is too small: a message must hold %zu bytes "
			 "(header, set header and the largest template or record)", x->cfg.mtu,
			 need);
		goto fail;
	}
	x->buf = malloc(x->cfg.mtu);
	x->cbuf = malloc(x->cfg.mtu);
	if (!x->buf || !x->cbuf)
		goto nomem;
	if (xp_net_open(x, err, errlen))
		goto fail;
	return x;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	if (x)
		xp_free(x);
	return NULL;
}
