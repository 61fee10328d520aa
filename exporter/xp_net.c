/* xp_net.c - the transports of the exporting process: UDP (a connected
 * socket, one datagram per message), TCP (RFC 7011 section 10.4: messages
 * back to back on a stream, through a bounded queue, never blocking), and
 * files (RFC 5655: messages back to back; "-" is stdout).
 *
 * TCP: the socket is non-blocking, the connection is made in the
 * background and retried after a failure with an exponential backoff on
 * the exporter's clock (XP_BACKOFF_MIN doubling up to XP_BACKOFF_MAX). A
 * new connection is a new stream (net.fresh): xp.c puts the templates
 * first in its queue. Finished messages wait in the queue (at most
 * XP_QUEUE_BYTES bytes and XP_QUEUE_MSGS messages) until the socket takes
 * them; a message that finds the queue full or no connection is lost and
 * counted, and so is every message still queued when the connection ends.
 * A collector sends nothing on an IPFIX stream, so a readable socket means
 * it closed (or reset) the connection.
 *
 * With cfg.wait_ms (offline) xp.c asks xp_net_wait() for a connection and
 * room in the queue before it begins each message, and that waits: for
 * POLLOUT while the queue is full, for the connection under way, for the
 * next attempt while there is none. Retries then run on real time, the
 * backoff capped at XP_BACKOFF_WAIT_MAX (the exporter does nothing else
 * meanwhile, and a collector back is found soon). A wait gives up after
 * cfg.wait_ms of real time without progress (a connection made, a send
 * that took bytes); from then on messages are dropped and counted as
 * without cfg.wait_ms, until the next progress, so that a dead collector
 * costs one bound, not one per message. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prog_clock.h"
#include "prog_log.h"
#include "xp_int.h"

#define XP_BACKOFF_MIN	(250ull * 1000000ull)		/* 250 ms */
#define XP_BACKOFF_MAX	(30ull * 1000000000ull)		/* 30 s */
#define XP_BACKOFF_WAIT_MAX (1000ull * 1000000ull)	/* 1 s, with cfg.wait_ms */
#define XP_NS_PER_MS	1000000ull
#define XP_QUEUE_BYTES	(256u * 1024u)
#define XP_QUEUE_MSGS	4096u

/* ---- TCP ---- */

/* The clock of the retries: the exporter's, or real time when the caller
 * may be kept waiting (offline, the exporter's clock is the packets' and
 * stands still while it waits). */
static uint64_t net_now(const struct xp *x)
{
	return x->cfg.wait_ms ? prog_now_mono() : x->now_ns;
}

/* The collector took something: a wait that had given up waits again. */
static void tcp_progress(struct xp *x)
{
	struct xp_net *n = &x->net;

	n->progress++;
	if (!n->gave_up)
		return;
	n->gave_up = 0;
	prog_log(PROG_LOG_INFO, "IPFIX over TCP to %s: the collector takes data again; the "
		 "exporter waits for it again", n->peer);
}

static void queue_drop(struct xp *x)
{
	struct xp_net *n = &x->net;

	while (n->ecount) {
		xp_count_lost(x, &n->ents[n->ehead].info);
		n->ehead = (n->ehead + 1) % n->ecap;
		n->ecount--;
	}
	n->ehead = 0;
	n->qhead = n->qtail = 0;
	n->qsent = n->qin = 0;
}

/* The connection is gone (or never came): what waits is lost, the next
 * attempt is due after the backoff. err: errno, or 0 for a close by the
 * collector. */
static void tcp_fail(struct xp *x, int err)
{
	struct xp_net *n = &x->net;
	const char *why = err ? strerror(err) : "closed by the collector";
	uint64_t max = x->cfg.wait_ms ? XP_BACKOFF_WAIT_MAX : XP_BACKOFF_MAX;

	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	queue_drop(x);
	n->fresh = 0;
	n->state = XP_TCP_DOWN;
	if (!n->backoff_ns)
		n->backoff_ns = XP_BACKOFF_MIN;
	if (n->backoff_ns > max)
		n->backoff_ns = max;
	n->retry_ns = net_now(x) + n->backoff_ns;
	prog_log(n->warned ? PROG_LOG_DEBUG : PROG_LOG_WARN,
		 "IPFIX over TCP to %s: %s; %s, next try in %llu ms", n->peer, why,
		 x->cfg.wait_ms && !n->gave_up ?
		 "the exporter waits for a new connection (what was queued is lost)" :
		 "records are dropped (and counted) until a connection is made again",
		 (unsigned long long)(n->backoff_ns / XP_NS_PER_MS));
	n->warned = 1;
	n->backoff_ns *= 2;
	if (n->backoff_ns > max)
		n->backoff_ns = max;
}

static void tcp_up(struct xp *x)
{
	struct xp_net *n = &x->net;

	n->state = XP_TCP_UP;
	n->backoff_ns = 0;
	x->st.connects++;
	tcp_progress(x);
	if (n->warned)
		prog_log(PROG_LOG_INFO, "IPFIX over TCP to %s: connected again", n->peer);
	n->warned = 0;
}

static void tcp_start(struct xp *x)
{
	struct xp_net *n = &x->net;
	int one = 1;

	n->fd = socket(n->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		tcp_fail(x, errno);
		return;
	}
	/* Messages go out whole as they are finished; nothing to coalesce. */
	setsockopt(n->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	queue_drop(x);
	if (connect(n->fd, (struct sockaddr *)&n->addr, n->addrlen) == 0) {
		tcp_up(x);
	} else if (errno == EINPROGRESS) {
		n->state = XP_TCP_CONNECTING;
	} else {
		tcp_fail(x, errno);
		return;
	}
	n->fresh = 1;
}

/* A connection under way: made, failed, or still under way. */
static void tcp_connecting(struct xp *x, short revents)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (!revents)
		return;
	if (getsockopt(x->net.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr)
		tcp_fail(x, soerr);
	else
		tcp_up(x);
}

/* The collector closed or reset the connection? -1 then (handled). */
static int tcp_check_peer(struct xp *x)
{
	struct pollfd p = { .fd = x->net.fd, .events = POLLIN | POLLRDHUP };
	uint8_t junk[512];
	ssize_t r;

	if (poll(&p, 1, 0) <= 0 || !p.revents)
		return 0;
	r = recv(x->net.fd, junk, sizeof(junk), MSG_DONTWAIT);
	if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
		return 0;	/* bytes from a collector: not IPFIX's business, dropped */
	tcp_fail(x, r < 0 ? errno : 0);
	return -1;
}

/* Write what the queue holds, as far as the socket takes it. */
static void tcp_drain(struct xp *x)
{
	struct xp_net *n = &x->net;

	if (n->state != XP_TCP_UP || tcp_check_peer(x))
		return;
	while (n->qhead < n->qtail) {
		ssize_t r = send(n->fd, n->q + n->qhead, n->qtail - n->qhead,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			x->st.send_errors++;
			tcp_fail(x, errno);
			return;
		}
		n->qhead += (size_t)r;
		n->qsent += (uint64_t)r;
		if (r)
			tcp_progress(x);
		while (n->ecount && n->ents[n->ehead].end <= n->qsent) {
			xp_count_sent(x, &n->ents[n->ehead].info);
			n->ehead = (n->ehead + 1) % n->ecap;
			n->ecount--;
		}
	}
	if (n->qhead == n->qtail)
		n->qhead = n->qtail = 0;
}

static void tcp_send(struct xp *x, const uint8_t *msg, const struct xp_msg_info *mi)
{
	struct xp_net *n = &x->net;
	struct xp_qent *e;

	if (n->state == XP_TCP_DOWN || n->ecount == n->ecap) {
		xp_count_lost(x, mi);
		return;
	}
	if (n->qtail + mi->len > n->qcap && n->qhead) {
		memmove(n->q, n->q + n->qhead, n->qtail - n->qhead);
		n->qtail -= n->qhead;
		n->qhead = 0;
	}
	if (n->qtail + mi->len > n->qcap) {
		xp_count_lost(x, mi);
		if (n->state == XP_TCP_UP)
			tcp_drain(x);
		return;
	}
	memcpy(n->q + n->qtail, msg, mi->len);
	n->qtail += mi->len;
	n->qin += mi->len;
	e = &n->ents[(n->ehead + n->ecount) % n->ecap];
	e->end = n->qin;
	e->info = *mi;
	n->ecount++;
	if (n->state == XP_TCP_CONNECTING) {
		struct pollfd p = { .fd = n->fd, .events = POLLOUT };

		if (poll(&p, 1, 0) > 0)
			tcp_connecting(x, p.revents);
	}
	tcp_drain(x);
}

void xp_net_poll(struct xp *x, int full)
{
	struct xp_net *n = &x->net;

	if (x->cfg.transport != XP_TCP)
		return;
	if (n->state == XP_TCP_DOWN && net_now(x) >= n->retry_ns)
		tcp_start(x);
	if (!full)
		return;
	if (n->state == XP_TCP_CONNECTING) {
		struct pollfd p = { .fd = n->fd, .events = POLLOUT };

		if (poll(&p, 1, 0) > 0)
			tcp_connecting(x, p.revents);
	}
	tcp_drain(x);
}

/* ---- TCP, waiting (cfg.wait_ms) ---- */

/* Room in the queue for a message of need bytes. */
static int tcp_room(const struct xp_net *n, size_t need)
{
	return n->ecount < n->ecap && n->qcap - (n->qtail - n->qhead) >= need;
}

/* Wait at most ms for what the state waits for, and act on it: the time
 * of the next attempt (none up), the connection under way, the socket
 * writable or closed by the collector (up). A signal ends it early. */
static void tcp_wait_once(struct xp *x, uint64_t ms)
{
	struct xp_net *n = &x->net;
	struct pollfd p = { .fd = n->fd, .events = POLLOUT };
	uint64_t now = prog_now_mono();

	if (n->state == XP_TCP_DOWN) {
		if (now < n->retry_ns) {
			uint64_t d = (n->retry_ns - now) / XP_NS_PER_MS + 1;

			poll(NULL, 0, (int)(d < ms ? d : ms));
		}
		if (prog_now_mono() >= n->retry_ns)
			tcp_start(x);
		return;
	}
	if (n->state == XP_TCP_UP)
		p.events |= POLLIN | POLLRDHUP;
	if (poll(&p, 1, (int)ms) <= 0 || !p.revents)
		return;
	if (n->state == XP_TCP_CONNECTING)
		tcp_connecting(x, p.revents);
	else
		tcp_drain(x);
}

int xp_net_wait(struct xp *x, size_t need)
{
	struct xp_net *n = &x->net;
	uint64_t bound = (uint64_t)x->cfg.wait_ms * XP_NS_PER_MS, last, seen;

	if (x->cfg.transport != XP_TCP || !x->cfg.wait_ms)
		return -1;
	/* Every message: a collector that closed is seen before the message
	 * is numbered for a stream that is gone. */
	if (n->state == XP_TCP_UP)
		tcp_drain(x);
	if (n->state == XP_TCP_UP && tcp_room(n, need))
		return 0;
	if (n->gave_up)
		return -1;
	last = prog_now_mono();
	seen = n->progress;
	for (;;) {
		uint64_t now;

		if (n->state == XP_TCP_CONNECTING) {
			struct pollfd p = { .fd = n->fd, .events = POLLOUT };

			if (poll(&p, 1, 0) > 0)
				tcp_connecting(x, p.revents);
		}
		if (n->state == XP_TCP_UP && tcp_room(n, need))
			return 0;
		now = prog_now_mono();
		if (n->progress != seen) {
			seen = n->progress;
			last = now;
		}
		if (now - last >= bound)
			break;
		tcp_wait_once(x, (bound - (now - last)) / XP_NS_PER_MS + 1);
	}
	n->gave_up = 1;
	prog_log(PROG_LOG_WARN, "IPFIX over TCP to %s: %s for %u ms; records are dropped (and "
		 "counted) until it takes data again", n->peer,
		 n->state == XP_TCP_UP ? "the collector took nothing" : "no connection",
		 x->cfg.wait_ms);
	return -1;
}

/* ---- UDP and files ---- */

static void udp_send(struct xp *x, const uint8_t *msg, const struct xp_msg_info *mi)
{
	ssize_t r;

	do
		r = send(x->net.fd, msg, mi->len, 0);
	while (r < 0 && errno == EINTR);
	if (r == (ssize_t)mi->len) {
		xp_count_sent(x, mi);
		return;
	}
	if (!x->st.send_errors)
		prog_log(PROG_LOG_WARN, "IPFIX over UDP to %s: %s (counted from now on)",
			 x->net.peer, r < 0 ? strerror(errno) : "short send");
	x->st.send_errors++;
	xp_count_lost(x, mi);
}

static void file_send(struct xp *x, const uint8_t *msg, const struct xp_msg_info *mi)
{
	size_t off = 0;

	/* After a failed write the file may end in half a message: nothing
	 * more goes to it, or every later message would be misread. */
	while (x->net.fd >= 0 && off < mi->len) {
		ssize_t r = write(x->net.fd, msg + off, mi->len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			prog_log(PROG_LOG_ERROR, "IPFIX file %s: %s; nothing more is written",
				 x->net.peer, r < 0 ? strerror(errno) : "nothing written");
			x->st.send_errors++;
			if (x->net.own_fd)
				close(x->net.fd);
			x->net.fd = -1;
			break;
		}
		off += (size_t)r;
	}
	if (off == mi->len)
		xp_count_sent(x, mi);
	else
		xp_count_lost(x, mi);
}

void xp_net_send(struct xp *x, const uint8_t *msg, const struct xp_msg_info *mi)
{
	switch (x->cfg.transport) {
	case XP_UDP:	udp_send(x, msg, mi); break;
	case XP_TCP:	tcp_send(x, msg, mi); break;
	default:	file_send(x, msg, mi); break;
	}
}

/* ---- open and close ---- */

int xp_sockaddrs(const struct xp *x, struct sockaddr_storage *local,
		 struct sockaddr_storage *peer)
{
	socklen_t len = sizeof(*local);

	if (!x || x->cfg.transport == XP_FILE)
		return -1;
	memset(local, 0, sizeof(*local));
	if (x->net.fd >= 0 && getsockname(x->net.fd, (struct sockaddr *)local, &len) < 0)
		memset(local, 0, sizeof(*local));
	memcpy(peer, &x->net.addr, sizeof(*peer));
	return 0;
}

static int resolve(struct xp *x, int socktype, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = socktype, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	int e;

	snprintf(port, sizeof(port), "%u", x->cfg.port);
	snprintf(x->net.peer, sizeof(x->net.peer), "%s:%u", x->cfg.host, x->cfg.port);
	e = getaddrinfo(x->cfg.host, port, &hints, &ai);
	if (e) {
		snprintf(err, errlen, "collector %s: %s", x->cfg.host, gai_strerror(e));
		return -1;
	}
	memcpy(&x->net.addr, ai->ai_addr, ai->ai_addrlen);
	x->net.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int udp_open(struct xp *x, char *err, size_t errlen)
{
	struct xp_net *n = &x->net;

	if (resolve(x, SOCK_DGRAM, err, errlen))
		return -1;
	n->fd = socket(n->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0 || connect(n->fd, (struct sockaddr *)&n->addr, n->addrlen) < 0) {
		snprintf(err, errlen, "UDP to %s: %s", n->peer, strerror(errno));
		return -1;
	}
	n->own_fd = 1;
	return 0;
}

static int tcp_open(struct xp *x, char *err, size_t errlen)
{
	struct xp_net *n = &x->net;

	if (resolve(x, SOCK_STREAM, err, errlen))
		return -1;
	n->qcap = XP_QUEUE_BYTES > 4u * x->cfg.mtu ? XP_QUEUE_BYTES : 4u * x->cfg.mtu;
	n->ecap = XP_QUEUE_MSGS;
	n->q = malloc(n->qcap);
	n->ents = calloc(n->ecap, sizeof(*n->ents));
	if (!n->q || !n->ents) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n->own_fd = 1;
	tcp_start(x);	/* refused is no failure: tried again when due */
	n->retry_ns = 0;
	return 0;
}

static int file_open(struct xp *x, char *err, size_t errlen)
{
	struct xp_net *n = &x->net;
	const char *path = x->cfg.path ? x->cfg.path : "-";

	snprintf(n->peer, sizeof(n->peer), "%s", strcmp(path, "-") ? path : "(stdout)");
	if (!strcmp(path, "-")) {
		n->fd = STDOUT_FILENO;
		return 0;
	}
	n->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n->own_fd = 1;
	return 0;
}

int xp_net_open(struct xp *x, char *err, size_t errlen)
{
	switch (x->cfg.transport) {
	case XP_UDP:	return udp_open(x, err, errlen);
	case XP_TCP:	return tcp_open(x, err, errlen);
	case XP_FILE:	return file_open(x, err, errlen);
	}
	snprintf(err, errlen, "unknown transport %d", x->cfg.transport);
	return -1;
}

/* TCP at close: a connection under way is waited for, the queue written,
 * for at most wait_ms of real time; with cfg.wait_ms (and not given up)
 * for as long as the collector takes bytes, giving up after cfg.wait_ms
 * without. */
static void tcp_flush(struct xp *x, unsigned wait_ms)
{
	struct xp_net *n = &x->net;
	int patient = x->cfg.wait_ms && !n->gave_up;
	uint64_t span = (uint64_t)(patient ? x->cfg.wait_ms : wait_ms) * XP_NS_PER_MS;
	uint64_t end = prog_now_mono() + span, seen = n->progress;

	while (n->state != XP_TCP_DOWN && (n->state == XP_TCP_CONNECTING || n->ecount)) {
		uint64_t now = prog_now_mono();
		struct pollfd p = { .fd = n->fd, .events = POLLOUT };

		if (patient && n->progress != seen) {
			seen = n->progress;
			end = now + span;
		}
		if (now >= end || poll(&p, 1, (int)((end - now) / XP_NS_PER_MS) + 1) < 0)
			break;
		if (n->state == XP_TCP_CONNECTING)
			tcp_connecting(x, p.revents);
		else if (p.revents)
			tcp_drain(x);
	}
}

int xp_net_close(struct xp *x, unsigned wait_ms)
{
	struct xp_net *n = &x->net;
	int rc = 0;

	if (x->cfg.transport == XP_TCP) {
		tcp_flush(x, wait_ms);
		if (n->ecount)
			rc = -1;
		queue_drop(x);
	}
	if (n->fd >= 0 && n->own_fd && close(n->fd) < 0) {
		prog_log(PROG_LOG_ERROR, "%s: %s", n->peer, strerror(errno));
		x->st.send_errors++;
		rc = -1;
	}
	n->fd = -1;
	return rc;
}
