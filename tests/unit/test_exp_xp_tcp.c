/* test_exp_xp_tcp.c - the IPFIX exporting process (exporter/xp.c) over TCP
 * (RFC 7011 section 10.4), against a listener of the test: templates then
 * data on a connection, a new connection with the templates again after
 * the collector went away and came back, records counted as lost and
 * xp_add never blocking when no collector listens or it stops reading, the
 * templates withdrawn at close. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xphelp.h"

static const struct xp_cfg base = { .domain = 5 };

/* Read the stream of c into cap until it holds want whole messages (or
 * the peer closed, with want 0) within 5 s. Returns the messages held. */
static size_t stream_read(int c, struct xcap *cap, size_t want)
{
	uint64_t end = prog_now_mono() + 5 * SEC;
	uint8_t buf[65536];
	size_t off[1];

	while (prog_now_mono() < end) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		ssize_t r;

		if (want && xcap_split(cap, off, 1) >= want)
			break;
		if (poll(&p, 1, 50) <= 0)
			continue;
		r = read(c, buf, sizeof(buf));
		if (r <= 0)
			break;
		xcap_put(cap, buf, (size_t)r);
	}
	return xcap_split(cap, off, 1);
}

/* Templates and data on one connection; the collector goes away, comes
 * back on the same port; xp connects again, the templates come first, the
 * sequence numbers start again; at close the templates are withdrawn. */
Test(exp_xp_tcp, reconnect_resends_templates, .timeout = 30)
{
	uint16_t port = 0;
	int l = xlistener(&port, 0), c;
	struct xp *x = xopen(&base, XP_TCP, port);
	struct meter_rec r = xrec(0, 1), r6 = xrec(1, 2);
	struct xcap cap = { 0 };
	struct xp_stats st;
	uint64_t t = T0, end;
	struct fx f;

	xp_add(x, &r, t);
	xp_add(x, &r6, t);
	xp_tick(x, t + SEC, NULL);		/* the data waited 1 s */
	c = xaccept(l, 5000);
	cr_assert_geq(c, 0);
	cr_assert_eq(stream_read(c, &cap, 2), 2);
	cr_expect_eq(be_uint(cap.b + 16, 2), IPFIX_SET_TEMPLATE, "templates first");
	fx_init(&f, 1);
	cr_assert_eq(xcap_decode(&f, &cap), 2);
	cr_assert_eq(f.lg->n, 5);
	xcheck(&f.lg->r[1], &r, 0, 0);
	xcheck(&f.lg->r[2], &r, 1, 0);
	xcheck(&f.lg->r[3], &r6, 0, 0);
	xcheck(&f.lg->r[4], &r6, 1, 0);
	cr_expect_eq(xp_stats(x)->connects, 1);
	cr_expect_eq(xp_stats(x)->records, 4);
	fx_fini(&f);

	/* the collector goes away and comes back */
	close(c);
	close(l);
	l = xlistener(&port, 0);
	c = -1;
	end = prog_now_mono() + 10 * SEC;
	while (c < 0 && prog_now_mono() < end) {
		t += 100 * MS;
		xp_add(x, &r, t);
		xp_tick(x, t, NULL);
		c = xaccept(l, 10);
	}
	cr_assert_geq(c, 0, "no new connection");
	t += 2 * SEC;
	xp_add(x, &r6, t);
	xp_tick(x, t + SEC, NULL);
	free(cap.b);
	cap = (struct xcap){ 0 };
	cr_assert_geq(stream_read(c, &cap, 2), 2);
	cr_expect_eq(be_uint(cap.b + 16, 2), IPFIX_SET_TEMPLATE, "templates first again");
	cr_expect_eq(xbe32(cap.b + 8), 0, "a new stream starts at 0");
	cr_expect_eq(xp_stats(x)->connects, 2);

	/* close: statistics, withdrawal, end of stream */
	cr_assert_eq(xp_close(x, t + 2 * SEC, NULL, &st), 0);
	stream_read(c, &cap, 0);
	close(c);
	close(l);
	fx_init(&f, 1);	/* a fresh decoder: no template from the first connection */
	xcap_decode(&f, &cap);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	cr_expect_eq(tmpl_cache_stats(f.c)->added, 3);
	cr_expect_eq(tmpl_cache_stats(f.c)->withdrawn, 3);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 0);
	/* the last record before the withdrawal: statistics */
	cr_expect_eq(f.lg->r[f.lg->n - 1].tid, XP_TID_STATS);
	cr_expect_eq(fu(&f.lg->r[f.lg->n - 1], 0, 166), st.records_lost);
	/* r and r6 (2 records each), the loop's r, the last r6 */
	cr_expect_eq(st.records + st.records_lost, 6 + 2 * ((t - T0 - 2 * SEC) / (100 * MS)),
		     "every record sent or counted lost: %llu + %llu", (unsigned long long)st.records,
		     (unsigned long long)st.records_lost);
	cr_expect_eq(st.send_errors, 0);
	fx_fini(&f);
	free(cap.b);
}

/* Nobody listens: every record is counted lost, no call waits. (A call
 * that blocked would wait for good; the 1 s bound leaves a loaded machine
 * room to deschedule the test.) */
Test(exp_xp_tcp, no_listener_counts_and_never_blocks, .timeout = 30)
{
	uint16_t port = 0;
	int l = xlistener(&port, 0);
	struct meter_rec r = xrec(0, 1);
	struct xp *x;
	struct xp_stats st;
	uint64_t t = T0, worst = 0;

	close(l);	/* the port is free now: connections are refused */
	x = xopen(&base, XP_TCP, port);
	for (int i = 0; i < 5000; i++) {
		uint64_t a = prog_now_mono(), d;

		xp_add(x, &r, t);
		if (i % 10 == 9)
			xp_tick(x, t, NULL);
		d = prog_now_mono() - a;
		if (d > worst)
			worst = d;
		t += 10 * MS;
	}
	cr_expect_lt(worst, SEC, "a call took %llu ns", (unsigned long long)worst);
	cr_expect_eq(xp_stats(x)->messages, 0);
	cr_expect_eq(xp_stats(x)->connects, 0);
	/* closing does not wait for a collector that is not there */
	uint64_t a = prog_now_mono();

	cr_expect_eq(xp_close(x, t, NULL, &st), -1);
	cr_expect_lt(prog_now_mono() - a, SEC);
	cr_expect_eq(st.records_lost, 10000);
	cr_expect_eq(st.records, 0);
}

/* A collector that accepts and stops reading: the kernel's buffers and then
 * the queue fill up, records are counted lost, no call blocks; when it
 * resets the connection what was queued is counted lost too. */
Test(exp_xp_tcp, stalled_collector_bounded, .timeout = 60)
{
	uint16_t port = 0;
	int l = xlistener(&port, 4096), c;
	struct xp *x = xopen(&base, XP_TCP, port);
	struct meter_rec r = xrec(0, 1);
	struct xp_stats st;
	uint64_t t = T0, worst = 0, n = 0;

	xp_tick(x, t, NULL);
	c = xaccept(l, 5000);
	cr_assert_geq(c, 0);
	while (!xp_stats(x)->records_lost && n < 1000000) {
		uint64_t a = prog_now_mono(), d;

		xp_add(x, &r, t);
		d = prog_now_mono() - a;
		if (d > worst)
			worst = d;
		n++;
	}
	cr_log_info("first loss after %llu records", (unsigned long long)n);
	cr_expect_gt(xp_stats(x)->records_lost, 0, "nothing lost after %llu records",
		     (unsigned long long)n);
	cr_expect_lt(worst, SEC, "a call took %llu ns", (unsigned long long)worst);
	/* a reset: unread data makes close() send RST */
	close(c);
	close(l);
	xp_tick(x, t, NULL);
	cr_expect_eq(xp_close(x, t, NULL, &st), -1);
	cr_expect_eq(st.records + st.records_lost, 2 * n, "sent %llu, lost %llu of %llu",
		     (unsigned long long)st.records, (unsigned long long)st.records_lost,
		     (unsigned long long)(2 * n));
}

/* A connection up at close: what is buffered is sent before the close. */
Test(exp_xp_tcp, close_sends_buffered, .timeout = 30)
{
	uint16_t port = 0;
	int l = xlistener(&port, 0), c;
	struct xp_cfg cfg = base;
	struct xp *x;
	struct xcap cap = { 0 };
	struct xp_stats st;
	struct fx f;

	cfg.biflow = 1;
	cfg.sampling = 4;
	x = xopen(&cfg, XP_TCP, port);
	for (uint32_t i = 0; i < 300; i++) {
		struct meter_rec r = xrec(i % 2, i);

		xp_add(x, &r, T0);
	}
	cr_assert_eq(xp_close(x, T0, NULL, &st), 0);
	c = xaccept(l, 5000);
	cr_assert_geq(c, 0);
	stream_read(c, &cap, 0);
	close(c);
	close(l);
	fx_init(&f, 1);
	xcap_decode(&f, &cap);
	/* sampling, statistics, 300 flows, statistics */
	cr_expect_eq(f.lg->n, 303);
	cr_expect_eq(st.records, 300);
	cr_expect_eq(st.records_lost, 0);
	cr_expect_eq(tmpl_cache_stats(f.c)->withdrawn, 4);
	for (uint32_t i = 0; i < 300 && i + 2 < RC_MAX; i += 37) {
		struct meter_rec r = xrec(i % 2, i);

		xcheck(&f.lg->r[2 + i], &r, 0, 1);
	}
	fx_fini(&f);
	free(cap.b);
}
