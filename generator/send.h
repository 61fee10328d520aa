/* send.h - UDP out: one socket per simulated exporter, sendmmsg batches.
 *
 * Each socket is connected to the collector (the route is looked up once,
 * not per datagram) and bound by the kernel to its own ephemeral source
 * port. A datagram is either sent or failed with an errno, and the caller
 * learns which, one by one: ENOBUFS/EAGAIN/ENOMEM are retried a few times,
 * ECONNREFUSED (an ICMP port unreachable from an earlier datagram; Linux
 * reports it on the next send, which then did not go out) too, EINTR
 * always; anything else fails that datagram and sending goes on with the
 * next.
 */
#ifndef GEN_SEND_H
#define GEN_SEND_H

#include <stdint.h>
#include <sys/socket.h>

#include "addr.h"

struct udp_out {
	uint32_t n;			/* sockets, one per exporter */
	int *fd;
	struct weir_addr *local;	/* each socket's source address ... */
	uint16_t *port;			/* ... and port */
	uint64_t refused;		/* ECONNREFUSED met (retried) */
	uint64_t retries;		/* ENOBUFS/EAGAIN/ENOMEM met (retried) */
};

/* n sockets of dst's family connected to dst. WEIR_OK, or WEIR_E_IO with a
 * sentence in err (everything opened is closed again). */
int udp_open(struct udp_out *u, const struct sockaddr *dst, socklen_t dlen, uint32_t n,
	     char *err, size_t errlen);
void udp_close(struct udp_out *u);

struct mmsghdr;
/* Send the n datagrams of mm through exporter i's socket. status[k] gets 0
 * for a datagram sent, else its errno. Returns the number sent. */
unsigned udp_send(struct udp_out *u, uint32_t i, struct mmsghdr *mm, unsigned n, int *status);

/* The address and port of an AF_INET or AF_INET6 socket address (zeros
 * for another family). */
void udp_sockaddr(const struct sockaddr *sa, struct weir_addr *a, uint16_t *port);

#endif
