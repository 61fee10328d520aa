/* udp.c - see udp.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "prog_log.h"
#include "sock.h"
#include "tsave.h"
#include "udp.h"

struct col_rx {
	struct mmsghdr msgs[COL_BATCH];
	struct iovec iov[COL_BATCH];
	struct sockaddr_storage names[COL_BATCH];
	/* One uint32_t of SO_RXQ_OVFL per datagram. */
	uint8_t ctrl[COL_BATCH][CMSG_SPACE(sizeof(uint32_t))];
	uint8_t *data;			/* COL_BATCH x COL_DGRAM_MAX */
};

static void set_rcvbuf(int fd, uint32_t want, uint64_t *got)
{
	int v = (int)want, r = -1;
	socklen_t l = sizeof(v);

	/* SO_RCVBUFFORCE passes net.core.rmem_max; it needs CAP_NET_ADMIN. */
	if (geteuid() == 0)
		r = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	if (r < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	v = 0;
	getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l);
	*got = v > 0 ? (uint64_t)v : 0;
}

static int udp_socket(const struct col_cfg *cfg, int exclusive, uint64_t *got, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1, zero = 0, v4, fd = col_sock_listen(cfg, SOCK_DGRAM, &v4, &ss, &sl);

	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if ((!exclusive && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0 ||
	    (!v4 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)) {
		snprintf(err, errlen, "setsockopt: %s", strerror(errno));
		goto fail;
	}
	{
		struct timeval tv = { 0, COL_RCV_TIMEOUT_MS * 1000 };

		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
			snprintf(err, errlen, "setsockopt SO_RCVTIMEO: %s", strerror(errno));
			goto fail;
		}
	}
	set_rcvbuf(fd, cfg->rcvbuf, got);
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		col_sock_bind_error(cfg, v4, "UDP", errno, err, errlen);
		goto fail;
	}
	/* Bound alone: now the other workers' sockets may join it. */
	if (exclusive && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "setsockopt SO_REUSEPORT: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int col_udp_socket(const struct col_cfg *cfg, uint64_t *got, char *err, size_t errlen)
{
	return udp_socket(cfg, 0, got, err, errlen);
}

int col_udp_socket_first(const struct col_cfg *cfg, uint64_t *got, char *err, size_t errlen)
{
	return udp_socket(cfg, 1, got, err, errlen);
}

int col_rx_alloc(struct col_worker *w)
{
	struct col_rx *rx = calloc(1, sizeof(*rx));

	if (!rx)
		return WEIR_E_NOMEM;
	rx->data = malloc((size_t)COL_BATCH * COL_DGRAM_MAX);
	if (!rx->data) {
		free(rx);
		return WEIR_E_NOMEM;
	}
	w->rx = rx;
	return WEIR_OK;
}

void col_rx_free(struct col_rx *rx)
{
	if (!rx)
		return;
	free(rx->data);
	free(rx);
}

static void rx_arm(struct col_rx *rx)
{
	for (unsigned i = 0; i < COL_BATCH; i++) {
		struct msghdr *h = &rx->msgs[i].msg_hdr;

		rx->iov[i].iov_base = rx->data + (size_t)i * COL_DGRAM_MAX;
		rx->iov[i].iov_len = COL_DGRAM_MAX;
		h->msg_name = &rx->names[i];
		h->msg_namelen = sizeof(rx->names[i]);
		h->msg_iov = &rx->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = rx->ctrl[i];
		h->msg_controllen = sizeof(rx->ctrl[i]);
		h->msg_flags = 0;
	}
}

/* The kernel's count of datagrams dropped on this socket so far (a
 * wrapping 32-bit counter, SO_RXQ_OVFL), turned into a 64-bit total. */
static void note_ovfl(struct col_worker *w, const struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		uint32_t v;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL ||
		    c->cmsg_len < CMSG_LEN(sizeof(v)))
			continue;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		cnt_add(&w->c.kernel_drops, (uint32_t)(v - w->ovfl_last));
		w->ovfl_last = v;
	}
}

int col_udp_round(struct col_worker *w, int flags)
{
	struct col_rx *rx = w->rx;
	uint64_t recv_ns;
	int n;

	rx_arm(rx);
	n = recvmmsg(w->fd, rx->msgs, COL_BATCH, flags | MSG_WAITFORONE, NULL);
	w->now_ns = prog_now_mono();
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			if (!w->c.recv_errors)
				prog_log(PROG_LOG_ERROR, "worker %u: recvmmsg: %s", w->id, strerror(errno));
			cnt_add(&w->c.recv_errors, 1);
		}
		return -1;
	}
	/* One clock read per batch: the datagrams of a batch arrived within
	 * the time the batch took to fill. */
	recv_ns = prog_now_real();
	for (int i = 0; i < n; i++) {
		const struct msghdr *h = &rx->msgs[i].msg_hdr;
		struct weir_exporter e;

		if (h->msg_controllen)
			note_ovfl(w, h);
		col_sock_exporter(&rx->names[i], &e);
		col_worker_datagram(w, &e, rx->iov[i].iov_base, rx->msgs[i].msg_len, recv_ns);
	}
	return n;
}

void *col_udp_thread(void *arg)
{
	struct col_worker *w = arg;
	struct col_shared *sh = w->sh;
	unsigned rounds = 0;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		int n = col_udp_round(w, 0);

		col_buf_tick(&w->buf, w->now_ns);
		col_tsave_poll(w);
		col_enr_quiescent(&w->qs);
		if (n > 0 && n < COL_COALESCE_MIN) {
			struct timespec ts = { 0, COL_COALESCE_US * 1000L };

			nanosleep(&ts, NULL);
		}
	}
	/* Drain: what the socket already holds was sent to us; a bounded
	 * number of rounds so that a sender that does not stop cannot keep
	 * us here. */
	while (rounds++ < 1024 && col_udp_round(w, MSG_DONTWAIT) > 0)
		;
	col_buf_flush(&w->buf);
	return NULL;
}
