/* send.c - see send.h. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "send.h"

#define UDP_SNDBUF	(4 << 20)
#define UDP_TRIES	8		/* attempts per datagram on a transient error */

void udp_sockaddr(const struct sockaddr *sa, struct weir_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	*port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		weir_addr_v4(a, (const uint8_t *)&s4->sin_addr);
		*port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		weir_addr_v6(a, s6->sin6_addr.s6_addr);
		*port = ntohs(s6->sin6_port);
	}
}

void udp_close(struct udp_out *u)
{
	for (uint32_t i = 0; u->fd && i < u->n; i++)
		if (u->fd[i] >= 0)
			close(u->fd[i]);
	free(u->fd);
	free(u->local);
	free(u->port);
	memset(u, 0, sizeof(*u));
}

int udp_open(struct udp_out *u, const struct sockaddr *dst, socklen_t dlen, uint32_t n,
	     char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	u->fd = malloc(n * sizeof(*u->fd));
	u->local = calloc(n, sizeof(*u->local));
	u->port = calloc(n, sizeof(*u->port));
	if (!u->fd || !u->local || !u->port) {
		snprintf(err, errlen, "out of memory for %u sockets", n);
		goto fail;
	}
	u->n = n;
	for (uint32_t i = 0; i < n; i++)
		u->fd[i] = -1;
	for (uint32_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int sz = UDP_SNDBUF;

		u->fd[i] = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (u->fd[i] < 0) {
			snprintf(err, errlen, "socket %u of %u: %s", i + 1, n, strerror(errno));
			goto fail;
		}
		/* A larger buffer absorbs bursts at -r 0; failure is harmless. */
		(void)setsockopt(u->fd[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		if (connect(u->fd[i], dst, dlen) < 0) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			goto fail;
		}
		if (getsockname(u->fd[i], (struct sockaddr *)&ss, &sl) < 0) {
			snprintf(err, errlen, "getsockname: %s", strerror(errno));
			goto fail;
		}
		udp_sockaddr((struct sockaddr *)&ss, &u->local[i], &u->port[i]);
	}
	return WEIR_OK;
fail:
	udp_close(u);
	return WEIR_E_IO;
}

static void backoff(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000 };

	nanosleep(&ts, NULL);
}

unsigned udp_send(struct udp_out *u, uint32_t i, struct mmsghdr *mm, unsigned n, int *status)
{
	unsigned done = 0, sent = 0;
	int tries = 0;

	while (done < n) {
		int r = sendmmsg(u->fd[i], mm + done, n - done, 0);
		int e;

		if (r > 0) {
			for (int k = 0; k < r; k++)
				status[done + k] = 0;
			done += (unsigned)r;
			sent += (unsigned)r;
			tries = 0;
			continue;
		}
		e = r < 0 ? errno : EIO;
		if (e == EINTR)
			continue;
		if (++tries < UDP_TRIES) {
			if (e == ECONNREFUSED) {
				u->refused++;
				continue;
			}
			if (e == ENOBUFS || e == EAGAIN || e == ENOMEM) {
				u->retries++;
				backoff();
				continue;
			}
		}
		/* mm[done] did not go out: fail it, go on with the next. */
		status[done++] = e;
		tries = 0;
	}
	return sent;
}
