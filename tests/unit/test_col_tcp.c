/* Unit tests of the collector's IPFIX-over-TCP input (collector/tcp.c) on
 * real loopback sockets: the stream framing (a message split at every byte,
 * many messages in one write, bad headers, a message that never ends), the
 * template scope of a connection (RFC 7011 section 8: two exporters with the
 * same template id, a closed session's templates gone, withdrawals), the
 * connection limit, SIGTERM with data buffered; and the stream checked
 * against tshark's IPFIX dissector. The in-process tests drive the input
 * round by round (col_tcp_round); the others run weir-collector. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "ipfix.h"
#include "ipfixhelp.h"
#include "pktbuild.h"
#include "tcp.h"
#include "worker.h"
#include "wpcap.h"

TestSuite(col_tcp, .init = suite_init, .fini = suite_fini);

/* ---- IPFIX messages ---- */

/* Two layouts under the same template id 256. A: sourceIPv4Address,
 * octetDeltaCount, packetDeltaCount. B: destinationTransportPort,
 * protocolIdentifier, destinationIPv4Address. */
static struct tmpl *layout(int b)
{
	static const uint32_t a_spec[][3] = { { 0, 8, 4 }, { 0, 1, 8 }, { 0, 2, 4 } };
	static const uint32_t b_spec[][3] = { { 0, 11, 2 }, { 0, 4, 1 }, { 0, 12, 4 } };

	return mkt(256, 0, 3, b ? b_spec : a_spec);
}

static size_t tmsg(uint8_t *buf, size_t cap, struct tmpl *t)
{
	return msg_templates(buf, cap, 0, &t, 1);
}

/* nrec records of t whose fields all hold first + r. */
static size_t dmsg(uint8_t *buf, size_t cap, const struct tmpl *t, uint32_t first, size_t nrec)
{
	return data_msg(buf, cap, 1000, first, t, first, nrec);
}

/* A withdrawal (RFC 7011 section 8.1) of template id (2: all of them). */
static size_t wmsg(uint8_t *buf, size_t cap, uint16_t id)
{
	struct ipfix_wmsg m;
	struct wr w;
	int n;

	wr_init(&w, buf, cap);
	cr_assert_eq(ipfix_msg_begin(&m, &w, 1000, 0, 0), WEIR_OK);
	cr_assert_eq(ipfix_set_begin(&m, IPFIX_SET_TEMPLATE), WEIR_OK);
	cr_assert_eq(ipfix_write_withdrawal(&m, id), WEIR_OK);
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* A header only: version ver, length len (what a hostile peer sends). */
static size_t hdr(uint8_t *buf, uint16_t ver, uint16_t len)
{
	memset(buf, 0, 16);
	buf[0] = (uint8_t)(ver >> 8);
	buf[1] = (uint8_t)ver;
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	return 16;
}

/* ---- sockets ---- */

/* A blocking TCP connection to 127.0.0.1:port from source address src
 * (NULL: the kernel's pick) and port sport (0: any). Reads time out after
 * 3 s. */
static int tcp_to(uint16_t port, const char *src, uint16_t sport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { 3, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (src || sport) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(sport) };

		inet_pton(AF_INET, src ? src : "127.0.0.1", &me.sin_addr);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		cr_assert_eq(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0, "bind %s:%u: %s",
			     src ? src : "127.0.0.1", sport, strerror(errno));
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s",
		     strerror(errno));
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

		cr_assert_gt(k, 0, "send: %s", strerror(errno));
		b += k;
		n -= (size_t)k;
	}
}

/* Close with a reset (SO_LINGER 0): no TIME_WAIT, so that the same source
 * port can connect again at once. */
static void close_reset(int fd)
{
	struct linger l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/* Whether the collector closed fd: a read sees the end or a reset within
 * ms. Data the collector sent (none is expected) fails the test. */
static int closed_by_peer(int fd, unsigned ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t b[16];
	ssize_t n;

	if (poll(&p, 1, (int)ms) <= 0)
		return 0;
	n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
	cr_assert_leq(n, 0, "the collector sent bytes");
	return n == 0 || errno == ECONNRESET;
}

/* ---- in process: the input driven round by round ---- */

struct rig {
	struct col_cfg cfg;
	struct col_shared sh;
	struct col_worker *w[1];
};

static struct col_worker *rig_start(struct rig *r, uint32_t max_conn)
{
	char err[256];
	struct col_worker *w;

	col_cfg_defaults(&r->cfg);
	cr_assert_eq(col_parse_listen("127.0.0.1", &r->cfg.listen_addr, &r->cfg.listen_v4,
				      &r->cfg.listen_any), WEIR_OK);
	r->cfg.listen = "127.0.0.1";
	r->cfg.port = 0;
	r->cfg.transport = COL_X_TCP;
	r->cfg.tcp_max_conn = max_conn;
	memset(&r->sh, 0, sizeof(r->sh));
	pthread_mutex_init(&r->sh.labels.mu, NULL);
	r->sh.cfg = &r->cfg;
	r->sh.nw = 1;
	r->sh.ntcp = 1;
	r->sh.w = r->w;
	w = col_worker_new_tcp(&r->sh, 0, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	r->w[0] = w;
	cr_assert_eq(col_tcp_open(w, &r->cfg, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_gt(col_tcp_port(w), 0);
	return w;
}

static void rig_stop(struct rig *r)
{
	col_tcp_free(r->w[0]->tcp);
	col_worker_free(r->w[0]);
}

/* Rounds until *ctr reaches want, 3 s at most; its value. */
static uint64_t pump(struct col_worker *w, const uint64_t *ctr, uint64_t want)
{
	for (int i = 0; i < 300 && *ctr < want; i++)
		col_tcp_round(w, 10);
	return *ctr;
}

#define RECS(w) ((w)->c.records[COL_P_IPFIX])

Test(col_tcp, framing_judges_each_field_when_it_is_there)
{
	uint8_t b[32];
	size_t n = 0;

	hdr(b, 10, 20);
	cr_assert_eq(ipfix_msg_length(b, 1, &n), WEIR_E_TRUNCATED);
	cr_assert_eq(ipfix_msg_length(b, 3, &n), WEIR_E_TRUNCATED);
	cr_assert_eq(ipfix_msg_length(b, 19, &n), WEIR_E_TRUNCATED);
	cr_assert_eq(ipfix_msg_length(b, 20, &n), WEIR_OK);
	cr_assert_eq(n, 20);
	hdr(b, 9, 20);
	cr_assert_eq(ipfix_msg_length(b, 2, &n), WEIR_E_VERSION, "a version is told by 2 bytes");
	hdr(b, 10, 8);
	cr_assert_eq(ipfix_msg_length(b, 3, &n), WEIR_E_TRUNCATED);
	cr_assert_eq(ipfix_msg_length(b, 4, &n), WEIR_E_LENGTH, "a length by 4");
	hdr(b, 10, 0);
	cr_assert_eq(ipfix_msg_length(b, 16, &n), WEIR_E_LENGTH);
}

/* Templates then data on one connection, each message split at every byte
 * boundary: nothing decodes before the last byte of a message, everything
 * after it. */
Test(col_tcp, a_message_split_at_every_byte)
{
	static uint8_t tb[256], db[512];
	struct tmpl *t = layout(0);
	size_t tl = tmsg(tb, sizeof(tb), t), dl = dmsg(db, sizeof(db), t, 1, 5);
	uint64_t bytes = 0, recs = 0, msgs = 0;
	struct rig r;
	struct col_worker *w = rig_start(&r, 4);
	int fd = tcp_to(col_tcp_port(w), NULL, 0);

	cr_assert_eq(pump(w, &w->c.tcp_accepted, 1), 1);
	for (size_t k = 1; k < tl; k++) {
		send_all(fd, tb, k);
		bytes += k;
		cr_assert_eq(pump(w, &w->c.tcp_bytes, bytes), bytes);
		cr_assert_eq(w->c.tcp_messages, msgs, "template cut at %zu decoded early", k);
		send_all(fd, tb + k, tl - k);
		bytes += tl - k;
		cr_assert_eq(pump(w, &w->c.tcp_messages, msgs + 1), msgs + 1, "cut at %zu", k);
		msgs++;
	}
	cr_assert_eq(tmpl_cache_stats(w->ctx.cache)->refreshed, tl - 2, "the same template again");
	for (size_t k = 1; k < dl; k++) {
		send_all(fd, db, k);
		bytes += k;
		cr_assert_eq(pump(w, &w->c.tcp_bytes, bytes), bytes);
		cr_assert_eq(RECS(w), recs, "data cut at %zu decoded early", k);
		send_all(fd, db + k, dl - k);
		bytes += dl - k;
		cr_assert_eq(pump(w, &RECS(w), recs + 5), recs + 5, "data cut at %zu", k);
		recs += 5;
	}
	cr_assert_eq(w->c.tcp_messages, (tl - 1) + (dl - 1));
	cr_assert_eq(w->ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	for (int k = 0; k < COL_TF_MAX; k++)
		cr_assert_eq(w->c.tcp_framing[k], 0);
	close(fd);
	cr_assert_eq(pump(w, &w->c.tcp_closed[COL_TC_EOF], 1), 1);
	cr_assert_eq(w->c.tcp_open, 0);
	cr_assert_eq(w->c.tcp_framing[COL_TF_TRUNCATED], 0, "closed between messages");
	free(t);
	rig_stop(&r);
}

/* Many messages in one write, more than a connection's buffer holds: every
 * one decoded, in order, across reads. */
Test(col_tcp, many_messages_in_one_write)
{
	enum { N = 1500, RECS_PER = 7 };
	size_t cap = 256 + (size_t)N * 256, len;
	uint8_t *b = malloc(cap);
	struct tmpl *t = layout(0);
	struct rig r;
	struct col_worker *w = rig_start(&r, 4);
	int fd = tcp_to(col_tcp_port(w), NULL, 0);

	cr_assert_not_null(b);
	len = tmsg(b, cap, t);
	for (unsigned i = 0; i < N; i++)
		len += dmsg(b + len, cap - len, t, i * RECS_PER, RECS_PER);
	cr_assert_gt(len, 2 * COL_TCP_BUF, "the write spans several buffers");
	/* One send() call takes as much as the kernel buffers hold; the
	 * input runs between them (this thread is the collector too). */
	for (size_t off = 0; off < len;) {
		ssize_t k = send(fd, b + off, len - off, MSG_DONTWAIT);

		cr_assert(k > 0 || errno == EAGAIN, "send: %s", strerror(errno));
		off += k > 0 ? (size_t)k : 0;
		col_tcp_round(w, 0);
	}
	cr_assert_eq(pump(w, &RECS(w), N * RECS_PER), N * RECS_PER);
	cr_assert_eq(w->c.tcp_messages, N + 1);
	cr_assert_eq(w->c.tcp_bytes, len);
	cr_assert_eq(w->ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	close(fd);
	free(t);
	free(b);
	rig_stop(&r);
}

/* Sixteen exporters at once, each its own session: the same template id
 * with one of two layouts, messages interleaved; each connection's close
 * ends its session and nothing else. */
Test(col_tcp, many_sessions_at_once)
{
	enum { NC = 16 };
	static uint8_t b[1024];
	struct tmpl *t[2] = { layout(0), layout(1) };
	int fd[NC];
	struct rig r;
	struct col_worker *w = rig_start(&r, NC);
	const struct tmpl_stats *st = tmpl_cache_stats(w->ctx.cache);

	for (int i = 0; i < NC; i++)
		fd[i] = tcp_to(col_tcp_port(w), NULL, 0);
	cr_assert_eq(pump(w, &w->c.tcp_accepted, NC), NC);
	for (int i = 0; i < NC; i++)
		send_all(fd[i], b, tmsg(b, sizeof(b), t[i % 2]));
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < NC; i++)
			send_all(fd[i], b, dmsg(b, sizeof(b), t[i % 2], 100 * i, 4));
	cr_assert_eq(pump(w, &RECS(w), NC * 3 * 4), NC * 3 * 4);
	cr_assert_eq(st->sources, NC, "one source per connection");
	cr_assert_eq(st->templates, NC);
	for (int i = 0; i < NC; i += 2)
		close(fd[i]);
	cr_assert_eq(pump(w, &w->c.tcp_closed[COL_TC_EOF], NC / 2), NC / 2);
	cr_assert_eq(st->templates, NC / 2, "the closed sessions' templates are gone");
	cr_assert_eq(st->ended, NC / 2);
	cr_assert_eq(st->sources, NC / 2);
	for (int i = 1; i < NC; i += 2)
		send_all(fd[i], b, dmsg(b, sizeof(b), t[1], 7, 2));
	cr_assert_eq(pump(w, &RECS(w), NC * 12 + NC), NC * 12 + NC, "the others go on");
	cr_assert_eq(w->ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	for (int i = 1; i < NC; i += 2)
		close(fd[i]);
	cr_assert_eq(pump(w, &w->c.tcp_closed[COL_TC_EOF], NC), NC);
	cr_assert_eq(st->templates, 0);
	cr_assert_eq(st->sources, 0);
	cr_assert_leq(tmpl_cache_nsources(w->ctx.cache), NC);
	free(t[0]);
	free(t[1]);
	rig_stop(&r);
}

/* At stop, what the connections already sent is read and decoded; a
 * message cut by the stop counts as truncated; the listening socket is
 * closed first, so that no connection comes in meanwhile. */
Test(col_tcp, stop_reads_what_is_buffered)
{
	static uint8_t b[4096];
	struct tmpl *t = layout(0);
	struct rig r;
	struct col_worker *w = rig_start(&r, 4);
	uint16_t port = col_tcp_port(w);
	int fd = tcp_to(port, NULL, 0), late;
	size_t n;

	cr_assert_eq(pump(w, &w->c.tcp_accepted, 1), 1);
	send_all(fd, b, tmsg(b, sizeof(b), t));
	for (int i = 0; i < 20; i++)
		send_all(fd, b, dmsg(b, sizeof(b), t, 10 * i, 10));
	n = dmsg(b, sizeof(b), t, 0, 3);
	send_all(fd, b, n / 2);
	cr_assert_eq(RECS(w), 0, "nothing read before the stop");
	col_tcp_stop(w);
	cr_assert_eq(RECS(w), 200);
	cr_assert_eq(w->c.tcp_closed[COL_TC_STOP], 1);
	cr_assert_eq(w->c.tcp_framing[COL_TF_TRUNCATED], 1);
	cr_assert_eq(w->c.tcp_open, 0);
	late = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_neq(connect(late, (struct sockaddr *)&sa, sizeof(sa)), 0,
			      "nobody listens after the stop");
	}
	close(late);
	close(fd);
	free(t);
	rig_stop(&r);
}

/* ---- the binary ---- */

struct coll {
	pid_t pid;
	uint16_t port, mport;
	char ps[8], ms[8];
	const char *out, *errf;
	char page[1 << 17];
};

/* weir-collector --transport tcp on free ports, writing raw JSON to
 * <name>.json, with the NULL-terminated extra arguments; up and answering. */
static void coll_start(struct coll *c, const char *name, char *const *extra)
{
	char of[64], ef[64];
	char *argv[40] = { "weir-collector", "--transport", "tcp", "-p", c->ps, "--metrics-port",
			   c->ms, "--listen", "0.0.0.0", "-o", NULL };
	int n = 10;

	snprintf(of, sizeof(of), "%s.json", name);
	snprintf(ef, sizeof(ef), "%s.err", name);
	c->out = path_of(of);
	c->errf = path_of(ef);
	c->port = free_port(SOCK_STREAM);
	c->mport = free_port(SOCK_STREAM);
	snprintf(c->ps, sizeof(c->ps), "%u", c->port);
	snprintf(c->ms, sizeof(c->ms), "%u", c->mport);
	argv[n++] = (char *)c->out;
	for (int i = 0; extra && extra[i] && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	c->pid = spawn(argv, c->errf, "WEIR_LOG=info");
	cr_assert(wait_up(c->pid, c->mport, c->page, sizeof(c->page), c->errf, 5000),
		  "the collector did not come up");
}

/* series scraped until it reaches want (5 s at most); its value. c->page
 * keeps the scrape. */
static long long coll_wait(struct coll *c, const char *series, long long want)
{
	return scrape_until(c->mport, c->page, sizeof(c->page), series, want, 5000);
}

static long long coll_now(struct coll *c, const char *series)
{
	cr_assert_eq(http_get(c->mport, "/metrics", c->page, sizeof(c->page)), 0);
	return metric(c->page, series);
}

/* SIGTERM: exit 0 within 10 s. */
static void coll_stop(struct coll *c)
{
	int st;

	cr_assert_eq(kill(c->pid, SIGTERM), 0);
	st = wait_for(c->pid, 10000);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, slurp(c->errf, NULL));
}

#define M_RECS		"weir_records_total{protocol=\"ipfix\"}"
#define M_NOTPL		"weir_decode_errors_total{kind=\"no_template\"}"
#define M_CLOSED(r)	"weir_tcp_connections_closed_total{reason=\"" r "\"}"
#define M_FRAMING(k)	"weir_tcp_framing_errors_total{kind=\"" k "\"}"

/* Lines of the output that hold both needles (a NULL needle: any). */
static size_t lines_with(const char *path, const char *a, const char *b)
{
	char *s = slurp(path, NULL), *l = s, *e;
	size_t n = 0;

	for (; *l; l = e + 1) {
		e = strchr(l, '\n');
		cr_assert_not_null(e, "a line without its end");
		*e = 0;
		n += (!a || strstr(l, a)) && (!b || strstr(l, b));
	}
	free(s);
	return n;
}

/* Two exporters at once, the same template id 256 with different layouts:
 * each connection decodes with its own (RFC 7011 section 8), and the
 * records reach the output with their exporter. */
Test(col_tcp, two_exporters_same_template_id)
{
	static struct coll c;
	static uint8_t b[1024];
	struct tmpl *ta = layout(0), *tb = layout(1);
	int fa, fb;

	coll_start(&c, "two", NULL);
	fa = tcp_to(c.port, "127.0.0.2", 0);
	fb = tcp_to(c.port, "127.0.0.3", 0);
	send_all(fa, b, tmsg(b, sizeof(b), ta));
	send_all(fb, b, tmsg(b, sizeof(b), tb));
	for (int i = 0; i < 5; i++) {
		send_all(fa, b, dmsg(b, sizeof(b), ta, 1000 + i, 3));
		send_all(fb, b, dmsg(b, sizeof(b), tb, 2000 + i, 4));
	}
	cr_assert_eq(coll_wait(&c, M_RECS, 35), 35);
	cr_assert_eq(coll_now(&c, "weir_tcp_connections"), 2);
	cr_assert_eq(metric(c.page, "weir_templates"), 2, "one template 256 per session");
	cr_assert_eq(metric(c.page, "weir_templates_replaced_total"), 0, "neither replaced the other");
	cr_assert_eq(metric(c.page, "weir_tcp_messages_total"), 12);
	cr_assert_eq(metric(c.page, M_NOTPL), 0);
	close(fa);
	close(fb);
	cr_assert_eq(coll_wait(&c, M_CLOSED("eof"), 2), 2);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), 35);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.2\"", "\"octetDeltaCount\":1004"), 3);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.2\"", "sourceIPv4Address"), 15);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.2\"", "destinationTransportPort"), 0);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.3\"", "\"destinationTransportPort\":2004"), 4);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.3\"", "destinationIPv4Address"), 20);
	cr_assert_eq(lines_with(c.out, "\"exporter\":\"127.0.0.3\"", "octetDeltaCount"), 0);
	free(ta);
	free(tb);
}

/* A closed connection's templates are gone: a new connection of the same
 * address, from a new port or from the very same one, that sends data
 * without a template does not decode it with the old session's template:
 * it is counted as no_template. */
Test(col_tcp, a_closed_session_keeps_no_template)
{
	static struct coll c;
	static uint8_t b[1024];
	struct tmpl *t = layout(0);
	uint16_t sport = free_port(SOCK_STREAM);
	int fd;

	coll_start(&c, "closed", NULL);
	fd = tcp_to(c.port, NULL, sport);
	send_all(fd, b, tmsg(b, sizeof(b), t));
	send_all(fd, b, dmsg(b, sizeof(b), t, 1, 10));
	cr_assert_eq(coll_wait(&c, M_RECS, 10), 10);
	close_reset(fd);
	cr_assert_eq(coll_wait(&c, M_CLOSED("error"), 1), 1, "a reset is a read error");
	cr_assert_eq(metric(c.page, "weir_templates_session_ended_total"), 1);
	cr_assert_eq(metric(c.page, "weir_templates"), 0);

	fd = tcp_to(c.port, NULL, sport);		/* the same address and port */
	send_all(fd, b, dmsg(b, sizeof(b), t, 11, 10));
	cr_assert_eq(coll_wait(&c, M_NOTPL, 1), 1);
	cr_assert_eq(metric(c.page, M_RECS), 10, "not decoded with the old session's template");
	close(fd);
	fd = tcp_to(c.port, NULL, 0);			/* a new port */
	send_all(fd, b, dmsg(b, sizeof(b), t, 21, 10));
	cr_assert_eq(coll_wait(&c, M_NOTPL, 2), 2);
	cr_assert_eq(metric(c.page, M_RECS), 10);
	/* Its own template decodes what follows it. What came before it
	 * stays undecoded: over TCP a template sent later was not in force
	 * when that data was sent. */
	send_all(fd, b, tmsg(b, sizeof(b), t));
	send_all(fd, b, dmsg(b, sizeof(b), t, 31, 10));
	cr_assert_eq(coll_wait(&c, M_RECS, 20), 20);
	cr_assert_eq(metric(c.page, "weir_held_sets_total"), 0);
	close(fd);
	cr_assert_eq(coll_wait(&c, M_CLOSED("eof"), 2), 2);
	cr_assert_eq(metric(c.page, "weir_sources"), 0);
	cr_assert_eq(metric(c.page, M_RECS), 20);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), 20);
	cr_assert_eq(lines_with(c.out, "\"octetDeltaCount\":40", NULL), 1, "the last record");
	free(t);
}

/* Withdrawals (RFC 7011 section 8.1) are honoured: data of a withdrawn
 * template is not decoded; a new template under the id is. */
Test(col_tcp, withdrawal)
{
	static struct coll c;
	static uint8_t b[1024];
	struct tmpl *ta = layout(0), *tb = layout(1);
	int fd;

	coll_start(&c, "withdraw", NULL);
	fd = tcp_to(c.port, NULL, 0);
	send_all(fd, b, tmsg(b, sizeof(b), ta));
	send_all(fd, b, dmsg(b, sizeof(b), ta, 1, 5));
	cr_assert_eq(coll_wait(&c, M_RECS, 5), 5);
	send_all(fd, b, wmsg(b, sizeof(b), 256));
	cr_assert_eq(coll_wait(&c, "weir_templates_withdrawn_total", 1), 1);
	cr_assert_eq(metric(c.page, "weir_templates"), 0);
	send_all(fd, b, dmsg(b, sizeof(b), ta, 6, 5));
	cr_assert_eq(coll_wait(&c, M_NOTPL, 1), 1);
	cr_assert_eq(metric(c.page, M_RECS), 5);
	/* The id again, another layout: what follows decodes with it (the
	 * set sent while the id was withdrawn does not); then "every
	 * template" (id 2). */
	send_all(fd, b, tmsg(b, sizeof(b), tb));
	send_all(fd, b, dmsg(b, sizeof(b), tb, 11, 5));
	cr_assert_eq(coll_wait(&c, M_RECS, 10), 10);
	send_all(fd, b, wmsg(b, sizeof(b), IPFIX_SET_TEMPLATE));
	cr_assert_eq(coll_wait(&c, "weir_templates_withdrawn_total", 2), 2);
	send_all(fd, b, dmsg(b, sizeof(b), tb, 16, 5));
	cr_assert_eq(coll_wait(&c, M_NOTPL, 2), 2);
	cr_assert_eq(metric(c.page, M_RECS), 10);
	close(fd);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, "destinationTransportPort", NULL), 5);
	cr_assert_eq(lines_with(c.out, "sourceIPv4Address", NULL), 5);
	free(ta);
	free(tb);
}

/* send_all() to a peer that may close: what it takes. */
static size_t send_some(int fd, const uint8_t *p, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t k = send(fd, p + off, n - off, MSG_NOSIGNAL);

		if (k <= 0)
			break;
		off += (size_t)k;
	}
	return off;
}

/* Hostile peers (not IPFIX, a length of 0 or 8, more than 65535 bytes as
 * one message, bytes that never make a whole message) are closed and
 * counted, one by one, while another exporter's connection goes on. */
Test(col_tcp, hostile_peers_closed_while_another_works)
{
	static struct coll c;
	static uint8_t b[70000];
	char *extra[] = { "--tcp-message-timeout", "1", NULL };
	struct tmpl *t = layout(0);
	long long recs = 0;
	uint64_t t0;
	int good, h, closed = 0;

	coll_start(&c, "hostile", extra);
	good = tcp_to(c.port, NULL, 0);
	send_all(good, b, tmsg(b, sizeof(b), t));
#define GOOD_GOES_ON()								\
	do {									\
		send_all(good, b, dmsg(b, sizeof(b), t, (uint32_t)recs, 4));	\
		recs += 4;							\
		cr_assert_eq(coll_wait(&c, M_RECS, recs), recs);		\
	} while (0)
	GOOD_GOES_ON();

	h = tcp_to(c.port, NULL, 0);
	send_all(h, b, hdr(b, 9, 16));		/* NetFlow v9's version */
	cr_assert(closed_by_peer(h, 3000), "a bad version is closed");
	close(h);
	cr_assert_eq(coll_wait(&c, M_FRAMING("version"), 1), 1);
	GOOD_GOES_ON();
	for (int i = 0; i < 2; i++) {
		h = tcp_to(c.port, NULL, 0);
		send_all(h, b, hdr(b, 10, i ? 8 : 0));
		cr_assert(closed_by_peer(h, 3000), "length %d is closed", i ? 8 : 0);
		close(h);
		cr_assert_eq(coll_wait(&c, M_FRAMING("length"), i + 1), i + 1);
		GOOD_GOES_ON();
	}
	/* 70000 bytes as one message: the 16-bit length says 65535 at most,
	 * so the first 65535 bytes are a message (zeros: no set in them
	 * frames, a decode error) and the rest is no IPFIX header. */
	hdr(b, 10, 65535);
	memset(b + 16, 0, 65535 - 16);
	memset(b + 65535, 0xff, sizeof(b) - 65535);
	h = tcp_to(c.port, NULL, 0);
	send_some(h, b, sizeof(b));
	cr_assert(closed_by_peer(h, 3000), "the bytes past 65535 are closed");
	close(h);
	cr_assert_eq(coll_wait(&c, M_FRAMING("version"), 2), 2);
	cr_assert_geq(metric(c.page, "weir_decode_errors_total{kind=\"set_length\"}"), 1);
	send_all(good, b, tmsg(b, sizeof(b), t));
	GOOD_GOES_ON();
	/* Bytes that never make a message: a header that says 65535, then
	 * 100 bytes every 50 ms. The message timeout (1 s) closes it. */
	h = tcp_to(c.port, NULL, 0);
	t0 = now_ms();
	send_all(h, b, hdr(b, 10, 65535));
	memset(b, 0x5a, 100);
	while (now_ms() - t0 < 5000 && !(closed = closed_by_peer(h, 50)))
		send_some(h, b, 100);
	cr_assert(closed, "a message that never ends is closed");
	cr_assert_geq(now_ms() - t0, 1000, "not before its timeout");
	close(h);
	cr_assert_eq(coll_wait(&c, M_FRAMING("timeout"), 1), 1);
	GOOD_GOES_ON();

	cr_assert_eq(coll_now(&c, "weir_tcp_connections"), 1, "the good one is still open");
	cr_assert_eq(metric(c.page, M_CLOSED("framing")), 4);
	cr_assert_eq(metric(c.page, M_CLOSED("timeout")), 1);
	cr_assert_eq(metric(c.page, "weir_tcp_connections_accepted_total"), 6);
	cr_assert_eq(metric(c.page, M_FRAMING("truncated")), 0);
	close(good);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), (size_t)recs);
	cr_assert(lines_with(c.errf, "not IPFIX", NULL) >= 1, "the closes are logged");
	free(t);
}

/* --tcp-max-connections: the ones past the bound are closed at once and
 * counted; a slot freed takes a new one. */
Test(col_tcp, connection_limit)
{
	static struct coll c;
	static uint8_t b[1024];
	char *extra[] = { "--tcp-max-connections", "2", NULL };
	struct tmpl *t = layout(0);
	int c1, c2, c3, c4;

	coll_start(&c, "limit", extra);
	c1 = tcp_to(c.port, NULL, 0);
	c2 = tcp_to(c.port, NULL, 0);
	cr_assert_eq(coll_wait(&c, "weir_tcp_connections_accepted_total", 2), 2);
	c3 = tcp_to(c.port, NULL, 0);
	cr_assert(closed_by_peer(c3, 3000), "the third is closed");
	close(c3);
	cr_assert_eq(coll_wait(&c, "weir_tcp_connections_refused_total{reason=\"limit\"}", 1), 1);
	cr_assert_eq(metric(c.page, "weir_tcp_connections_accepted_total"), 2);
	cr_assert_eq(metric(c.page, "weir_tcp_connections"), 2);
	send_all(c1, b, tmsg(b, sizeof(b), t));
	send_all(c1, b, dmsg(b, sizeof(b), t, 0, 3));
	cr_assert_eq(coll_wait(&c, M_RECS, 3), 3, "the open ones work");
	close(c2);
	cr_assert_eq(coll_wait(&c, M_CLOSED("eof"), 1), 1);
	c4 = tcp_to(c.port, NULL, 0);
	send_all(c4, b, tmsg(b, sizeof(b), t));
	send_all(c4, b, dmsg(b, sizeof(b), t, 0, 3));
	cr_assert_eq(coll_wait(&c, M_RECS, 6), 6, "a freed slot takes a new one");
	cr_assert_eq(metric(c.page, "weir_tcp_connections_accepted_total"), 3);
	cr_assert_eq(metric(c.page, "weir_tcp_connections_refused_total{reason=\"limit\"}"), 1);
	close(c1);
	close(c4);
	coll_stop(&c);
	free(t);
}

/* SIGTERM right after an exporter sent: what its connection holds is read,
 * decoded and written before the exit (0). */
Test(col_tcp, sigterm_with_data_buffered)
{
	enum { N = 400 };
	static struct coll c;
	size_t cap = 256 + (N + 1) * 256, len;
	uint8_t *b = malloc(cap);
	struct tmpl *t = layout(0);
	char want[64];
	int fd;

	cr_assert_not_null(b);
	coll_start(&c, "term", NULL);
	fd = tcp_to(c.port, NULL, 0);
	cr_assert_eq(coll_wait(&c, "weir_tcp_connections_accepted_total", 1), 1);
	len = tmsg(b, cap, t);
	for (unsigned i = 0; i < N; i++)
		len += dmsg(b + len, cap - len, t, 10 * i, 10);
	len += dmsg(b + len, cap - len, t, 0, 10) / 2;	/* and half a message */
	send_all(fd, b, len);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), N * 10);
	snprintf(want, sizeof(want), "%u TCP messages on 1 connections", N + 1);
	cr_assert_eq(lines_with(c.errf, want, NULL), 1, "%s", slurp(c.errf, NULL));
	close(fd);
	free(t);
	free(b);
}

/* ---- against tshark ---- */

/* The stream as a capture: the handshake, the bytes in segments of seg
 * bytes with their sequence numbers (cut anywhere in the messages), the
 * close. Ethernet, 10.0.0.1:40000 -> 10.0.0.2:port. */
static void stream_pcap(const char *path, uint16_t port, const uint8_t *s, size_t n, size_t seg)
{
	static uint8_t f[2048];
	const uint8_t mac_c[6] = { 2, 0, 0, 0, 0, 1 }, mac_s[6] = { 2, 0, 0, 0, 0, 2 };
	const uint8_t ip_c[4] = { 10, 0, 0, 1 }, ip_s[4] = { 10, 0, 0, 2 };
	uint32_t cseq = 1000, sseq = 5000;
	uint64_t t_ns = 1700000000000000000ull;
	struct wpcap_wr w;
	char err[256];

	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_OK, "%s", err);
	/* SYN, SYN-ACK, ACK, the data (PSH ACK), FIN ACK both ways. */
	for (int k = 0; k < 7; k++) {
		int from_c = k != 1 && k != 5 && k != 6;
		size_t off = 0, len = 0;
		struct pktb b;
		struct pktb_ip4 ip = { .ttl = 64, .proto = PKTB_TCP };
		struct pktb_tcp tcp = { .window = 65535 };
		size_t fl;

		do {
			memcpy(ip.src, from_c ? ip_c : ip_s, 4);
			memcpy(ip.dst, from_c ? ip_s : ip_c, 4);
			tcp.sport = from_c ? 40000 : port;
			tcp.dport = from_c ? port : 40000;
			tcp.seq = from_c ? cseq : sseq;
			tcp.ack = k ? (from_c ? sseq : cseq) : 0;
			tcp.flags = k == 0 ? 0x02 : k == 1 ? 0x12 : k == 3 ? 0x18 : k >= 4 ? 0x11 : 0x10;
			if (k == 6)
				tcp.flags = 0x10;		/* the last ACK, from the client */
			len = k == 3 ? (n - off < seg ? n - off : seg) : 0;
			pktb_init(&b, f, sizeof(f));
			pktb_eth(&b, from_c ? mac_s : mac_c, from_c ? mac_c : mac_s, PKTB_ETH_IPV4);
			pktb_ipv4(&b, &ip);
			pktb_tcp(&b, &tcp);
			pktb_bytes(&b, s + off, len);
			fl = pktb_finish(&b);
			cr_assert_gt(fl, 0);
			cr_assert_eq(wpcap_write(&w, f, fl, t_ns += 1000), WEIR_OK);
			off += len;
			if (from_c)
				cseq += (uint32_t)len + (k == 0 || k == 4);
			else
				sseq += k == 1 || k == 5;
		} while (k == 3 && off < n);
	}
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
}

/* A number a shell command prints. */
static long long cmd_number(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	long long v = -1;

	cr_assert_not_null(p, "%s", cmd);
	cr_assert_eq(fscanf(p, "%lld", &v), 1, "%s printed no number", cmd);
	pclose(p);
	return v;
}

/* The stream an exporter sends (templates, then 2,000 flows in messages
 * of at most 1,400 bytes) is valid IPFIX over TCP as tshark reads it (no
 * malformed packet and no expert warning, such as a set longer than its
 * message, with segments cut across messages), and the collector decodes
 * as many records from it as tshark's dissector finds. */
Test(col_tcp, tshark_reads_the_stream_as_ipfix)
{
	enum { NF = 2000 };
	static struct coll c;
	static struct flow fl[NF];
	static uint8_t s[NF * 128];
	struct ipfix_flow_enc_cfg ecfg = { .domain = 7 };
	struct ipfix_flow_enc e;
	const char *pcap = path_of("stream.pcap");
	size_t n = 0, done = 0, used;
	long long shark, malformed;
	char cmd[1024];
	int fd;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		fprintf(stderr, "SKIPPED: tshark is not installed: the stream was not checked\n");
		SKIP("tshark is not installed");
	}
	mkflows(fl, NF, 0);
	cr_assert_eq(ipfix_flow_enc_init(&e, &ecfg), WEIR_OK);
	while (done < NF) {
		int len = ipfix_flow_enc_msg(&e, s + n, 1400, 1700000000u, fl + done, NF - done,
					     n == 0, &used);

		cr_assert_gt(len, 0);
		n += (size_t)len;
		done += used;
	}
	ipfix_flow_enc_free(&e);
	stream_pcap(pcap, 4739, s, n, 1000);
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -d tcp.port==4739,cflow "
		 "-Y '_ws.malformed || _ws.expert.severity >= \"Warning\"' 2>/dev/null | wc -l", pcap);
	malformed = cmd_number(cmd);
	cr_assert_eq(malformed, 0, "tshark finds malformed packets or warnings: %s", cmd);
	/* One octetDeltaCount per flow record, over the reassembled PDUs
	 * (several in a frame: one word each). */
	snprintf(cmd, sizeof(cmd),
		 "tshark -n -r '%s' -d tcp.port==4739,cflow -T fields -E occurrence=a "
		 "-E aggregator=/s -e cflow.octets 2>/dev/null | wc -w", pcap);
	shark = cmd_number(cmd);
	cr_assert_eq(shark, NF, "tshark counts %lld records: %s", shark, cmd);

	coll_start(&c, "shark", NULL);
	fd = tcp_to(c.port, NULL, 0);
	send_all(fd, s, n);
	cr_assert_eq(coll_wait(&c, M_RECS, shark), shark, "the collector and tshark disagree");
	cr_assert_eq(metric(c.page, "weir_tcp_received_bytes_total"), (long long)n);
	close(fd);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), (size_t)shark);
}

/* ---- the flags ---- */

/* Exit status and stderr of weir-collector with args (a shell word list). */
static int run_collector(const char *args, const char *errf)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "%s/weir-collector %s 2>'%s' </dev/null >/dev/null", COL_TEST_BIN,
		 args, errf);
	st = system(cmd);
	cr_assert(WIFEXITED(st), "%s: status %d", cmd, st);
	return WEXITSTATUS(st);
}

Test(col_tcp, flags_that_do_not_go_together)
{
	static const struct {
		const char *args, *says;
	} bad[] = {
		{ "--transport sctp", "is not udp, tcp or both" },
		{ "--transport tcp -t sflow", "sFlow is sent over UDP only" },
		{ "--transport both -t sflow", "sFlow is sent over UDP only" },
		{ "--transport tcp --pcap x.pcap", "a capture is read, not listened to" },
		{ "--transport tcp --template-file t.bin", "TCP templates end with their connection" },
		{ "--tcp-max-connections 0", "--tcp-max-connections" },
		{ "--tcp-max-connections 65537", "--tcp-max-connections" },
		{ "--tcp-message-timeout 0", "--tcp-message-timeout" },
	};
	const char *errf = path_of("flags.err");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *e;

		cr_assert_eq(run_collector(bad[i].args, errf), 2, "%s", bad[i].args);
		e = slurp(errf, NULL);
		cr_assert_not_null(strstr(e, bad[i].says), "%s: %s", bad[i].args, e);
		free(e);
	}
}

/* A TCP port another program holds: exit 1, saying so, also when the UDP
 * port of the same number is free (--transport both). */
Test(col_tcp, port_in_use)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int l = socket(AF_INET, SOCK_STREAM, 0);
	const char *errf = path_of("inuse.err");
	char args[128], *e;

	cr_assert_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(l, 1), 0);
	snprintf(args, sizeof(args), "--transport both -p %u --metrics-port 0 -s null", local_port(l));
	cr_assert_eq(run_collector(args, errf), 1);
	e = slurp(errf, NULL);
	cr_assert_not_null(strstr(e, "cannot listen on TCP [::]:"), "%s", e);
	cr_assert_not_null(strstr(e, "another weir-collector"), "%s", e);
	free(e);
	close(l);
}

/* --transport both: UDP and TCP on one port number, into one output. */
Test(col_tcp, udp_and_tcp_at_once)
{
	static struct coll c;
	static uint8_t b[2048];
	char *extra[] = { "--transport", "both", "-w", "2", NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct tmpl *t = layout(0);
	int fd, u = socket(AF_INET, SOCK_DGRAM, 0);

	coll_start(&c, "both", extra);
	sa.sin_port = htons(c.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(u, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fd = tcp_to(c.port, NULL, 0);
	send_all(fd, b, tmsg(b, sizeof(b), t));
	send_all(fd, b, dmsg(b, sizeof(b), t, 0, 9));
	for (uint32_t i = 0; i < 4; i++) {
		size_t n = v5_flows(b, 10, 10 * i);

		cr_assert_eq(send(u, b, n, 0), (ssize_t)n);
	}
	cr_assert_eq(coll_wait(&c, M_RECS, 9), 9);
	cr_assert_eq(coll_wait(&c, "weir_records_total{protocol=\"netflow_v5\"}", 40), 40);
	cr_assert_eq(metric(c.page, "weir_workers"), 2, "the UDP workers");
	cr_assert_eq(metric(c.page, "weir_datagrams_total{protocol=\"ipfix\"}"), 0,
		     "TCP messages are not datagrams");
	cr_assert_eq(metric(c.page, "weir_tcp_messages_total"), 2);
	close(fd);
	close(u);
	coll_stop(&c);
	cr_assert_eq(lines_with(c.out, NULL, NULL), 49);
	cr_assert_eq(lines_with(c.errf, "listening on TCP", NULL), 1);
	cr_assert_eq(lines_with(c.errf, "listening on UDP", NULL), 1);
	free(t);
}
