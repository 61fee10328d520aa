/* test_exp_xp_wait.c - the exporting process over TCP in its offline mode
 * (xp_cfg.wait_ms: wait for the collector instead of dropping), against
 * collectors of the test on real sockets, run in a thread of the test:
 * one that reads nothing for 300 ms and then everything (100,000 records
 * added, none lost, every one received once and decoded by the library's
 * decoder); one that goes away for a second and comes back on the same
 * port (xp waits, connects again, sends the templates first, loses
 * nothing); none at all (the first message waits the bound, the records
 * are counted lost, no later call waits); and one that comes after the
 * bound ran out (connected, and nothing added after that is lost). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xphelp.h"

static const struct xp_cfg base = { .domain = 5, .wait_ms = 10000 };

/* ---- the collector, in a thread ---- */

/* Listens on l (port): one connection, read after pause_ms to its end
 * into cap[0]. With away_ms: the first connection is read until it holds
 * upto bytes (set by the test when it knows), then it and the listener
 * are closed (gone), away_ms later the port is listened on again and a
 * second connection is read to its end into cap[1]. Assertions stay in
 * the test's thread: what went wrong is left in err. */
struct peer {
	int l;
	uint16_t port;
	unsigned pause_ms, away_ms;
	_Atomic uint64_t upto;
	atomic_int gone;
	struct xcap cap[2];
	const char *err;
	pthread_t th;
};

/* c into cap until its end, or with upto until cap holds *upto bytes
 * (0: not known yet); at most 60 s. 0, or -1. */
static int peer_read(int c, struct xcap *cap, _Atomic uint64_t *upto)
{
	uint64_t end = prog_now_mono() + 60 * SEC;
	uint8_t buf[65536];

	while (prog_now_mono() < end) {
		struct pollfd p = { .fd = c, .events = POLLIN };
		uint64_t u = upto ? atomic_load(upto) : 0;
		ssize_t r;

		if (u && cap->n >= u)
			return 0;
		if (poll(&p, 1, 20) <= 0)
			continue;
		r = read(c, buf, sizeof(buf));
		if (r == 0 && !upto)
			return 0;
		if (r <= 0)
			return -1;
		xcap_put(cap, buf, (size_t)r);
	}
	return -1;
}

static void *peer_run(void *arg)
{
	struct peer *p = arg;
	int c = xaccept(p->l, 10000);

	if (c < 0) {
		p->err = "no connection";
		return NULL;
	}
	if (p->pause_ms)	/* a slow collector: nothing read for a while */
		poll(NULL, 0, (int)p->pause_ms);
	if (!p->away_ms) {
		if (peer_read(c, &p->cap[0], NULL))
			p->err = "the stream did not end";
		close(c);
		return NULL;
	}
	if (peer_read(c, &p->cap[0], &p->upto))
		p->err = "the first connection did not bring what was sent on it";
	close(c);
	close(p->l);
	p->l = -1;
	atomic_store(&p->gone, 1);
	poll(NULL, 0, (int)p->away_ms);	/* away */
	p->l = xlisten(&p->port, 0);
	if (p->l < 0) {
		p->err = "could not listen on the port again";
		return NULL;
	}
	c = xaccept(p->l, 30000);
	if (c < 0) {
		p->err = "no second connection";
		return NULL;
	}
	if (peer_read(c, &p->cap[1], NULL))
		p->err = "the second stream did not end";
	close(c);
	return NULL;
}

static void peer_start(struct peer *p)
{
	cr_assert_eq(pthread_create(&p->th, NULL, peer_run, p), 0);
}

static void peer_end(struct peer *p)
{
	cr_assert_eq(pthread_join(p->th, NULL), 0);
	if (p->l >= 0)
		close(p->l);
	cr_assert_null(p->err, "collector: %s", p->err);
}

/* ---- the flows added and the records received ---- */

/* Flows [a, b) of xrec() (IPv4 and IPv6 in turn), each to xp at the
 * exporter clock *t, 1 ms apart. Returns the longest call, in ns. */
static uint64_t add_flows(struct xp *x, uint32_t a, uint32_t b, uint64_t *t)
{
	uint64_t worst = 0;

	for (uint32_t i = a; i < b; i++) {
		struct meter_rec r = xrec(i % 2, i);
		uint64_t s = prog_now_mono(), d;

		xp_add(x, &r, *t);
		d = prog_now_mono() - s;
		if (d > worst)
			worst = d;
		*t += MS;
	}
	return worst;
}

/* Which flow record of add_flows() a data record is: its flow's index and
 * direction, from the counts xrec() gives (forward: packets 10 + i, octets
 * 5000 + i; reverse: 8 + i, 9000 + i). -1 when it is none. */
static int64_t which(uint64_t packets, uint64_t octets, int *rev)
{
	if (octets - packets == 4990 && packets >= 10) {
		*rev = 0;
		return (int64_t)(packets - 10);
	}
	if (octets - packets == 8992 && packets >= 8) {
		*rev = 1;
		return (int64_t)(packets - 8);
	}
	return -1;
}

#define NFLOWS 50000

/* The data records of a stream: each flow record by index and direction,
 * how many times it came. */
struct seen {
	struct rlog *lg;		/* the decoder fixture's log (first RC_MAX) */
	uint8_t times[2][NFLOWS];
	uint64_t records, strays;
};

static uint64_t rec_u(const struct weir_record *rec, uint16_t id)
{
	for (unsigned i = 0; i < rec->t->nfields; i++)
		if (rec->t->f[i].pen == 0 && rec->t->f[i].id == id)
			return be_uint(rec->v[i].p, rec->v[i].len);
	return UINT64_MAX;
}

static int on_flow(const struct weir_record *rec, void *user)
{
	struct seen *s = user;
	int rev = 0;
	int64_t i;

	on_rec(rec, s->lg);	/* the log and its count: xcap_decode's sequence check */
	if (rec->is_options)
		return 0;
	s->records++;
	i = which(rec_u(rec, 2), rec_u(rec, 1), &rev);
	if (i < 0 || i >= NFLOWS || rec->t->id != (i % 2 ? XP_TID_V6 : XP_TID_V4) ||
	    rec_u(rec, 7) != (rev ? 443u : (uint16_t)(40000 + i))) {
		s->strays++;
		return 0;
	}
	if (s->times[rev][i] < UINT8_MAX)
		s->times[rev][i]++;
	return 0;
}

/* Decode a whole stream with a fresh decoder (a connection is a template
 * scope of its own): every message, no bytes after the last, the
 * templates first. Every field of the records in the log is checked
 * against the flow it came from. Returns the struct seen (to free). */
static struct seen *decode_stream(const struct xcap *cap, const char *what)
{
	struct seen *s = calloc(1, sizeof(*s));
	size_t at = 0, len, msgs = 0;
	struct fx f;

	cr_assert_not_null(s);
	cr_assert_gt(cap->n, 16, "%s: nothing received", what);
	cr_expect_eq(be_uint(cap->b + 16, 2), IPFIX_SET_TEMPLATE, "%s: templates first", what);
	while (at < cap->n && ipfix_msg_length(cap->b + at, cap->n - at, &len) == WEIR_OK) {
		at += len;
		msgs++;
	}
	cr_expect_eq(at, cap->n, "%s: %zu bytes after the last whole message", what, cap->n - at);
	fx_init(&f, 1);
	s->lg = f.lg;
	f.ctx.on_record = on_flow;
	f.ctx.user = s;
	cr_expect_eq(xcap_decode(&f, cap), msgs, "%s", what);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 0, "%s", what);
	cr_expect_eq(s->strays, 0, "%s: %llu records of no flow added", what,
		     (unsigned long long)s->strays);
	for (size_t k = 0; k < f.lg->n && k < RC_MAX; k++) {
		const struct rec_copy *c = &f.lg->r[k];
		int rev = 0;
		int64_t i;

		if (c->is_options)
			continue;
		i = which(fu(c, 0, 2), fu(c, 0, 1), &rev);
		if (i >= 0) {
			struct meter_rec r = xrec((int)(i % 2), (uint32_t)i);

			xcheck(c, &r, rev, 0);
		}
	}
	s->lg = NULL;
	fx_fini(&f);
	return s;
}

/* Flows [a, b) came once each way. */
static void expect_flows(const struct seen *s, uint32_t a, uint32_t b, const char *what)
{
	uint64_t missing = 0, twice = 0;

	for (uint32_t i = a; i < b; i++) {
		for (int d = 0; d < 2; d++) {
			missing += s->times[d][i] == 0;
			twice += s->times[d][i] > 1;
		}
	}
	cr_expect_eq(missing, 0, "%s: %llu of the %u flow records of [%u, %u) not received", what,
		     (unsigned long long)missing, 2 * (b - a), a, b);
	cr_expect_eq(twice, 0, "%s: %llu flow records received twice", what,
		     (unsigned long long)twice);
}

/* ---- the tests ---- */

/* A collector that reads nothing for 300 ms, then everything: the socket
 * and the queue fill up, xp waits for room, nothing is lost. */
Test(exp_xp_wait, slow_reader_loses_nothing, .timeout = 60)
{
	struct peer p = { .pause_ms = 300 };
	struct xp_stats st;
	struct seen *s;
	uint64_t t = T0, worst;
	struct xp *x;
	int rc;

	/* A small receive buffer: what waits is in the exporter's socket
	 * and queue, not in the collector's kernel. */
	p.l = xlistener(&p.port, 65536);
	x = xopen(&base, XP_TCP, p.port);
	peer_start(&p);
	worst = add_flows(x, 0, NFLOWS, &t);
	rc = xp_close(x, t, NULL, &st);
	peer_end(&p);
	cr_log_info("slow reader: the longest xp_add took %llu ms; %zu bytes received",
		    (unsigned long long)(worst / MS), p.cap[0].n);
	cr_expect_eq(rc, 0, "xp_close failed");
	cr_expect_eq(st.records, 2 * NFLOWS);
	cr_expect_eq(st.records_lost, 0);
	cr_expect_eq(st.send_errors, 0);
	cr_expect_eq(st.connects, 1);
	cr_expect_geq(worst, 100 * MS, "no call waited (%llu ns): the pause did not fill the "
		      "socket, the test tests nothing", (unsigned long long)worst);
	s = decode_stream(&p.cap[0], "slow reader");
	cr_expect_eq(s->records, 2 * NFLOWS);
	expect_flows(s, 0, NFLOWS, "slow reader");
	free(s);
	free(p.cap[0].b);
}

/* The collector reads what was sent, closes the connection and its
 * listener, and listens again on the same port 1 s later. The exporter
 * sees the close before its next message, waits for a new connection
 * (retrying with its backoff), sends the templates first on it, and
 * loses nothing. */
Test(exp_xp_wait, collector_away_and_back, .timeout = 60)
{
	const uint32_t n = 10000;
	struct peer p = { .away_ms = 1000 };
	struct pollfd pf;
	struct xp_stats st;
	struct seen *s;
	uint64_t t = T0, end, worst;
	struct xp *x;
	int rc;

	p.l = xlistener(&p.port, 0);
	x = xopen(&base, XP_TCP, p.port);
	peer_start(&p);
	add_flows(x, 0, n / 2, &t);
	/* The last message waited 1 s of the exporter clock: sent. Then
	 * until the kernel has it all. */
	end = prog_now_mono() + 10 * SEC;
	xp_tick(x, t + SEC, NULL);
	while (x->net.ecount && prog_now_mono() < end) {
		pf = (struct pollfd){ .fd = x->net.fd, .events = POLLOUT };
		poll(&pf, 1, 10);
		xp_tick(x, t + SEC, NULL);
	}
	cr_assert_eq(x->net.ecount, 0, "the first half was not sent within 10 s");
	cr_assert_eq(xp_stats(x)->records, n);
	atomic_store(&p.upto, x->net.qsent);
	while (!atomic_load(&p.gone) && prog_now_mono() < end)
		poll(NULL, 0, 10);
	cr_assert(atomic_load(&p.gone), "the collector did not read the first half within 10 s");
	/* Its close (FIN) has reached the exporter's socket. */
	pf = (struct pollfd){ .fd = x->net.fd, .events = POLLIN | POLLRDHUP };
	cr_assert_gt(poll(&pf, 1, 5000), 0);

	t += 2 * SEC;
	worst = add_flows(x, n / 2, n, &t);
	rc = xp_close(x, t, NULL, &st);
	peer_end(&p);
	cr_log_info("collector away: the longest xp_add took %llu ms",
		    (unsigned long long)(worst / MS));
	cr_expect_eq(rc, 0, "xp_close failed");
	cr_expect_eq(st.records, 2 * n);
	cr_expect_eq(st.records_lost, 0);
	cr_expect_eq(st.connects, 2);
	cr_expect_geq(worst, 500 * MS, "no call waited for the collector (%llu ns)",
		      (unsigned long long)worst);
	s = decode_stream(&p.cap[0], "first connection");
	cr_expect_eq(s->records, n);
	expect_flows(s, 0, n / 2, "first connection");
	free(s);
	s = decode_stream(&p.cap[1], "second connection");	/* sequence numbers from 0 */
	cr_expect_eq(s->records, n);
	expect_flows(s, n / 2, n, "second connection");
	free(s);
	free(p.cap[0].b);
	free(p.cap[1].b);
}

/* Flows added until xp gives up waiting for a collector on a port where
 * nobody listens (bound 300 ms): how many, in *added; the time it took. */
static uint64_t add_until_given_up(struct xp *x, uint32_t *added, uint64_t *t)
{
	uint64_t a = prog_now_mono();
	uint32_t i = 0;

	while (!x->net.gave_up && i < 1000) {
		add_flows(x, i, i + 1, t);
		i++;
	}
	cr_assert(x->net.gave_up, "xp did not give up after %u flows", i);
	*added = i;
	return prog_now_mono() - a;
}

/* Nobody listens: the first message waits the bound (300 ms) and is
 * counted lost; no later call waits (each would 300 ms); the close does
 * not wait either. */
Test(exp_xp_wait, no_collector_bounded, .timeout = 60)
{
	struct xp_cfg cfg = base;
	uint16_t port = 0;
	int l = xlistener(&port, 0);
	struct xp_stats st;
	uint64_t t = T0, first, a, rest;
	uint32_t i;
	struct xp *x;

	close(l);	/* the port is free now: connections are refused */
	cfg.wait_ms = 300;
	x = xopen(&cfg, XP_TCP, port);
	first = add_until_given_up(x, &i, &t);
	cr_expect_geq(first, 300 * MS, "gave up after %llu ns", (unsigned long long)first);
	cr_expect_lt(first, 3 * SEC, "gave up after %llu ns", (unsigned long long)first);
	/* ~270 messages more: 80 s if each waited */
	a = prog_now_mono();
	for (uint32_t k = 0; k < 2000; k += 100) {
		add_flows(x, i + k, i + k + 100, &t);
		xp_tick(x, t, NULL);
	}
	cr_expect_eq(xp_stats(x)->records, 0);
	cr_expect_eq(xp_stats(x)->connects, 0);
	cr_expect_eq(xp_close(x, t, NULL, &st), -1);
	rest = prog_now_mono() - a;
	cr_log_info("no collector: gave up after %llu ms, then %llu ms for 2000 flows and the "
		    "close", (unsigned long long)(first / MS), (unsigned long long)(rest / MS));
	cr_expect_lt(rest, 2 * SEC, "after the bound a call waited: %llu ns",
		     (unsigned long long)rest);
	cr_expect_eq(st.records, 0);
	cr_expect_eq(st.records_lost, 2 * (i + 2000));
}

/* After the bound ran out a collector comes: xp connects (retrying on
 * real time), waits again, and nothing added after the connection is
 * lost; every record is sent or counted lost, and what was sent is what
 * the collector received. */
Test(exp_xp_wait, collector_after_giving_up, .timeout = 60)
{
	const uint32_t m = 5000;
	struct xp_cfg cfg = base;
	struct peer p = { 0 };
	struct xp_stats st;
	struct seen *s;
	uint64_t t = T0, end;
	uint32_t i, at;
	struct xp *x;

	p.l = xlistener(&p.port, 0);
	close(p.l);
	cfg.wait_ms = 300;
	x = xopen(&cfg, XP_TCP, p.port);
	add_until_given_up(x, &i, &t);
	p.l = xlistener(&p.port, 0);
	peer_start(&p);
	end = prog_now_mono() + 10 * SEC;
	while (!xp_stats(x)->connects && prog_now_mono() < end && i < NFLOWS - m) {
		add_flows(x, i, i + 1, &t);
		i++;
		xp_tick(x, t, NULL);
		poll(NULL, 0, 2);
	}
	cr_assert_eq(xp_stats(x)->connects, 1, "no connection within 10 s");
	cr_expect_eq(x->net.gave_up, 0, "a connection made: waiting again");
	at = i;
	add_flows(x, at, at + m, &t);
	cr_expect_eq(xp_close(x, t, NULL, &st), 0);
	peer_end(&p);
	cr_log_info("collector after giving up: %u flows before the connection, %llu records "
		    "lost", at, (unsigned long long)st.records_lost);
	cr_expect_eq(st.records + st.records_lost, 2ull * (at + m));
	cr_expect_gt(st.records_lost, 0);
	s = decode_stream(&p.cap[0], "late collector");
	cr_expect_eq(s->records, st.records, "received %llu, sent %llu",
		     (unsigned long long)s->records, (unsigned long long)st.records);
	expect_flows(s, at, at + m, "after the connection");
	free(s);
	free(p.cap[0].b);
}
