/* tcp.c - see tcp.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "ipfix.h"
#include "prog_log.h"
#include "sock.h"
#include "tcp.h"

#define TCP_LOG_EVERY_NS	1000000000ull	/* warnings: one a second at most */

struct col_tcp_conn {
	int fd;				/* -1: a free slot */
	struct weir_exporter e;		/* the peer: the session's scope */
	uint32_t len;			/* bytes in buf: the start of a message */
	uint64_t partial_ns;		/* CLOCK_MONOTONIC when that message began, 0 none */
	uint8_t *buf;			/* COL_TCP_BUF, allocated on the slot's first use */
};

struct col_tcp {
	int lfd, ep;
	int spare;			/* a descriptor given up to refuse when none is left */
	uint16_t port;
	uint32_t max, nopen;
	struct col_tcp_conn *conn;	/* max slots */
	uint32_t *freel, nfree;		/* free slots, a stack */
	uint64_t timeout_ns;
	uint64_t next_sweep_ns;
	uint64_t logged_ns;		/* the last warning */
};

/* Warnings come one a second at most: a hostile peer must not flood the
 * log. 1 when one may be written now. */
static int log_due(struct col_worker *w)
{
	struct col_tcp *t = w->tcp;

	if (t->logged_ns && w->now_ns - t->logged_ns < TCP_LOG_EVERY_NS)
		return 0;
	t->logged_ns = w->now_ns;
	return 1;
}

static void tcp_warn(struct col_worker *w, const struct weir_exporter *e, const char *what)
{
	char a[WEIR_ADDR_STRLEN];

	if (log_due(w))
		prog_log(PROG_LOG_WARN, "TCP %s port %u: %s", weir_addr_str(&e->addr, a, sizeof(a)),
			 e->port, what);
}

/* The listening socket: non-blocking, SO_REUSEADDR (a restart does not
 * wait for TIME_WAIT), without SO_REUSEPORT (a second collector on the
 * port fails, as over UDP), dual-stack for "::". */
static int tcp_listen(struct col_tcp *t, const struct col_cfg *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1, zero = 0, v4, fd = col_sock_listen(cfg, SOCK_STREAM | SOCK_NONBLOCK, &v4, &ss, &sl);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return WEIR_E_IO;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (!v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, COL_TCP_BACKLOG) < 0) {
		col_sock_bind_error(cfg, v4, "TCP", errno, err, errlen);
		goto fail;
	}
	sl = sizeof(ss);
	t->port = cfg->port;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		t->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	t->lfd = fd;
	return WEIR_OK;
fail:
	close(fd);
	return WEIR_E_IO;
}

int col_tcp_open(struct col_worker *w, const struct col_cfg *cfg, char *err, size_t errlen)
{
	struct col_tcp *t = calloc(1, sizeof(*t));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

	if (!t)
		goto nomem;
	t->lfd = t->ep = t->spare = -1;
	t->max = cfg->tcp_max_conn ? cfg->tcp_max_conn : COL_TCP_CONN_DEFAULT;
	t->timeout_ns = (cfg->tcp_timeout_s ? cfg->tcp_timeout_s : COL_TCP_TIMEOUT_DEFAULT) *
			1000000000ull;
	t->conn = calloc(t->max, sizeof(*t->conn));
	t->freel = calloc(t->max, sizeof(*t->freel));
	if (!t->conn || !t->freel)
		goto nomem;
	for (uint32_t i = 0; i < t->max; i++) {
		t->conn[i].fd = -1;
		t->freel[t->nfree++] = t->max - 1 - i;	/* slot 0 first */
	}
	w->tcp = t;
	if (tcp_listen(t, cfg, err, errlen))
		return WEIR_E_IO;
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, t->lfd, &ev) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		return WEIR_E_IO;
	}
	t->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return WEIR_OK;
nomem:
	if (t) {
		free(t->conn);
		free(t->freel);
		free(t);
	}
	snprintf(err, errlen, "out of memory for %u TCP connections", cfg->tcp_max_conn);
	return WEIR_E_NOMEM;
}

void col_tcp_free(struct col_tcp *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->max; i++) {
		if (t->conn[i].fd >= 0)
			close(t->conn[i].fd);
		free(t->conn[i].buf);
	}
	if (t->lfd >= 0)
		close(t->lfd);
	if (t->ep >= 0)
		close(t->ep);
	if (t->spare >= 0)
		close(t->spare);
	free(t->conn);
	free(t->freel);
	free(t);
}

uint16_t col_tcp_port(const struct col_worker *w)
{
	return w->tcp ? w->tcp->port : 0;
}

/* ---- connections ---- */

/* Close k for reason (enum col_tcp_close) and end its session: the
 * templates it taught go (RFC 7011 section 8). A message it had begun is
 * counted as truncated, unless the close is for its timeout or its bad
 * header (counted already). */
static void conn_close(struct col_worker *w, struct col_tcp_conn *k, int reason)
{
	struct col_tcp *t = w->tcp;

	if (k->len && (reason == COL_TC_EOF || reason == COL_TC_ERROR || reason == COL_TC_STOP))
		cnt_add(&w->c.tcp_framing[COL_TF_TRUNCATED], 1);
	close(k->fd);		/* leaves the epoll set with it */
	k->fd = -1;
	k->len = 0;
	k->partial_ns = 0;
	tmpl_exporter_end(w->ctx.cache, &k->e);
	t->freel[t->nfree++] = (uint32_t)(k - t->conn);
	t->nopen--;
	cnt_sub(&w->c.tcp_open, 1);
	cnt_add(&w->c.tcp_closed[reason], 1);
}

/* Decode the whole messages k holds and keep the start of the next one.
 * The close reason when the stream is not IPFIX, else -1. */
static int conn_frame(struct col_worker *w, struct col_tcp_conn *k, uint64_t recv_ns)
{
	size_t off = 0, mlen = 0;
	int reason = -1;

	while (off < k->len) {
		int r = ipfix_msg_length(k->buf + off, k->len - off, &mlen);

		if (r == WEIR_E_TRUNCATED)
			break;
		if (r != WEIR_OK) {
			cnt_add(&w->c.tcp_framing[r == WEIR_E_VERSION ? COL_TF_VERSION : COL_TF_LENGTH], 1);
			tcp_warn(w, &k->e, r == WEIR_E_VERSION ? "not IPFIX (version is not 10): closed"
							       : "IPFIX length below 16: closed");
			reason = COL_TC_FRAMING;
			break;
		}
		cnt_add(&w->c.tcp_messages, 1);
		col_worker_message(w, &k->e, WEIR_PROTO_IPFIX, k->buf + off, mlen, recv_ns);
		off += mlen;
	}
	if (off) {
		k->len -= (uint32_t)off;
		memmove(k->buf, k->buf + off, k->len);
		k->partial_ns = 0;
	}
	if (k->len && !k->partial_ns)
		k->partial_ns = w->now_ns;
	return reason;
}

/* One read of k and the messages it completes: the bytes read (> 0), 0
 * when there was nothing, -1 when k was closed. */
static ssize_t conn_read(struct col_worker *w, struct col_tcp_conn *k)
{
	ssize_t n = recv(k->fd, k->buf + k->len, COL_TCP_BUF - k->len, 0);
	int reason;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		conn_close(w, k, n == 0 ? COL_TC_EOF : COL_TC_ERROR);
		return -1;
	}
	cnt_add(&w->c.tcp_bytes, (uint64_t)n);
	k->len += (uint32_t)n;
	/* The receive time of every message the read completes. */
	reason = conn_frame(w, k, prog_now_real());
	if (reason >= 0) {
		conn_close(w, k, reason);
		return -1;
	}
	return n;
}

/* A connection accepted: into a free slot, or refused (counted). */
static void conn_add(struct col_worker *w, int fd, const struct sockaddr_storage *ss)
{
	struct col_tcp *t = w->tcp;
	struct epoll_event ev = { .events = EPOLLIN };
	struct weir_exporter e;
	struct col_tcp_conn *k;
	uint32_t slot;

	col_sock_exporter(ss, &e);
	if (!t->nfree) {
		close(fd);
		cnt_add(&w->c.tcp_refused[COL_TR_LIMIT], 1);
		tcp_warn(w, &e, "refused: --tcp-max-connections are open");
		return;
	}
	slot = t->freel[t->nfree - 1];
	k = &t->conn[slot];
	if (!k->buf)
		k->buf = malloc(COL_TCP_BUF);
	ev.data.u32 = slot + 1;
	if (!k->buf || epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		cnt_add(&w->c.tcp_refused[COL_TR_ERROR], 1);
		tcp_warn(w, &e, "refused: no memory for the connection");
		return;
	}
	t->nfree--;
	k->fd = fd;
	k->e = e;
	k->len = 0;
	k->partial_ns = 0;
	t->nopen++;
	cnt_add(&w->c.tcp_accepted, 1);
	cnt_add(&w->c.tcp_open, 1);
}

/* No descriptor left (EMFILE): the pending connection would wake every
 * round. Give up the spare one, take the connection and close it. */
static void refuse_without_fd(struct col_worker *w)
{
	struct col_tcp *t = w->tcp;
	int fd, e = errno;

	if (t->spare >= 0) {
		close(t->spare);
		fd = accept(t->lfd, NULL, NULL);
		if (fd >= 0)
			close(fd);
		t->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	cnt_add(&w->c.tcp_refused[COL_TR_ERROR], 1);
	if (log_due(w))
		prog_log(PROG_LOG_WARN, "TCP: a connection refused: %s", strerror(e));
}

static void tcp_accept(struct col_worker *w)
{
	struct col_tcp *t = w->tcp;

	for (int i = 0; i < COL_TCP_ACCEPT_BATCH && t->lfd >= 0; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(t->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			conn_add(w, fd, &ss);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		/* accept(2): errors of the new connection itself; it is gone. */
		if (errno == ECONNABORTED || errno == EPROTO || errno == EPERM)
			continue;
		refuse_without_fd(w);
		return;
	}
}

/* Close the connections whose message stayed incomplete too long. */
static void sweep(struct col_worker *w)
{
	struct col_tcp *t = w->tcp;

	t->next_sweep_ns = w->now_ns + COL_TCP_SWEEP_MS * 1000000ull;
	for (uint32_t i = 0; i < t->max && t->nopen; i++) {
		struct col_tcp_conn *k = &t->conn[i];

		if (k->fd < 0 || !k->partial_ns || w->now_ns - k->partial_ns <= t->timeout_ns)
			continue;
		cnt_add(&w->c.tcp_framing[COL_TF_TIMEOUT], 1);
		tcp_warn(w, &k->e, "a message stayed incomplete past --tcp-message-timeout: closed");
		conn_close(w, k, COL_TC_TIMEOUT);
	}
}

int col_tcp_round(struct col_worker *w, int timeout_ms)
{
	struct col_tcp *t = w->tcp;
	struct epoll_event ev[COL_TCP_EVENTS];
	int n = epoll_wait(t->ep, ev, COL_TCP_EVENTS, timeout_ms);

	w->now_ns = prog_now_mono();
	for (int i = 0; i < n; i++) {
		uint32_t id = ev[i].data.u32;
		struct col_tcp_conn *k;

		if (!id) {
			tcp_accept(w);
			continue;
		}
		/* Closed earlier in this round (its slot may hold a new
		 * connection: a read finds nothing, or its first bytes). */
		k = &t->conn[id - 1];
		if (k->fd >= 0)
			conn_read(w, k);
	}
	if (w->now_ns >= t->next_sweep_ns)
		sweep(w);
	return n > 0 ? n : -1;
}

void col_tcp_stop(struct col_worker *w)
{
	struct col_tcp *t = w->tcp;

	/* No more connections: the ones in the backlog are reset. */
	if (t->lfd >= 0) {
		close(t->lfd);
		t->lfd = -1;
	}
	w->now_ns = prog_now_mono();
	for (uint32_t i = 0; i < t->max && t->nopen; i++) {
		struct col_tcp_conn *k = &t->conn[i];
		unsigned r = 0;

		if (k->fd < 0)
			continue;
		while (r++ < COL_TCP_DRAIN_READS && conn_read(w, k) > 0)
			;
		if (k->fd >= 0)
			conn_close(w, k, COL_TC_STOP);
	}
	col_buf_flush(&w->buf);
}

void *col_tcp_thread(void *arg)
{
	struct col_worker *w = arg;

	while (!__atomic_load_n(&w->sh->stop, __ATOMIC_ACQUIRE)) {
		col_tcp_round(w, COL_TCP_TICK_MS);
		col_buf_tick(&w->buf, w->now_ns);
		col_enr_quiescent(&w->qs);
	}
	col_tcp_stop(w);
	return NULL;
}
