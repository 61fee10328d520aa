/* udp.h - the UDP input: one SO_REUSEPORT socket per worker, recvmmsg()
 * batches, SO_RXQ_OVFL for the kernel's drop counter.
 */
#ifndef COL_UDP_H
#define COL_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "worker.h"

#define COL_BATCH	64		/* datagrams per recvmmsg() */
/* After a round that got fewer than COL_COALESCE_MIN datagrams, a worker
 * waits COL_COALESCE_US before the next: at a low rate each datagram would
 * otherwise cost a wake-up (10 microseconds or more of kernel time on a VM,
 * more than decoding its 30 records). Measured at 10,000 datagrams/s: 1 ms
 * cut the CPU per record by a fifth against 200 us, 2 ms by a further
 * fifth, 4 ms little more. The socket buffer holds 2 ms of traffic up to
 * about 1.5 million datagrams/s (8 MB of ~2.3 KB loopback buffers); busy
 * workers, whose rounds come back full, never wait; and records already
 * wait up to COL_FLUSH_NS (100 ms) in their batch. */
#define COL_COALESCE_MIN	(COL_BATCH / 2)
#define COL_COALESCE_US		2000
#define COL_DGRAM_MAX	65536		/* bytes per datagram buffer */
#define COL_RCV_TIMEOUT_MS 50		/* how often an idle worker looks up */

/* A bound socket for cfg's --listen and -p, with SO_REUSEPORT, SO_RXQ_OVFL
 * and the receive buffer asked for (SO_RCVBUFFORCE when allowed, else
 * SO_RCVBUF). *got is what the kernel reports it gave. The fd, or -1 with a
 * sentence in err. */
int col_udp_socket(const struct col_cfg *cfg, uint64_t *got, char *err, size_t errlen);
/* The same for a process's first socket: bound without SO_REUSEPORT, so
 * that the bind fails (EADDRINUSE) when any other socket holds the port,
 * a second weir-collector's workers included (SO_REUSEPORT lets sockets of
 * one user share a port, so a second collector would silently take part
 * of the traffic); SO_REUSEPORT is set after the bind, for the process's
 * other workers (col_udp_socket) to join it. */
int col_udp_socket_first(const struct col_cfg *cfg, uint64_t *got, char *err, size_t errlen);

/* Receive buffers of a worker (COL_BATCH x COL_DGRAM_MAX bytes). */
int col_rx_alloc(struct col_worker *w);
void col_rx_free(struct col_rx *rx);

/* The thread of a worker: receive until sh->stop, then drain what the
 * socket holds, flush the batch and return. arg is the worker. */
void *col_udp_thread(void *arg);

/* One recvmmsg() round: the number of datagrams it got (> 0), or -1 on a
 * timeout or error. flags: 0 (wait for one, up to COL_RCV_TIMEOUT_MS) or
 * MSG_DONTWAIT. */
int col_udp_round(struct col_worker *w, int flags);

#endif
