/* tcp.h - the IPFIX-over-TCP input (RFC 7011 section 10.4): --transport
 * tcp or both.
 *
 * One thread of its own, with a worker of its own (decoder context,
 * template cache, output batch, counters), holds the listening socket and
 * every connection in one epoll set. Not inside the UDP workers: they block
 * in recvmmsg() with a wait tuned for datagrams (udp.h), and the templates
 * of a connection belong to that connection (RFC 7011 section 8), so the
 * thread that reads it must own the cache they live in. A thread of its
 * own leaves the UDP path as it was, and one thread is enough for what TCP
 * brings: a few long-lived exporters (docs/collector.md gives its rate).
 *
 * A connection is a stream of IPFIX messages, framed by the length field of
 * each header (ipfix_msg_length). Each connection has one buffer of
 * COL_TCP_BUF bytes, enough for the longest message the 16-bit length can
 * announce; it is read into with one recv() per epoll round
 * (level-triggered), so a busy or hostile peer takes its turn like the
 * others and never holds the thread. A header whose version is not 10 or
 * whose length is below 16 closes the connection (counted by kind); so does
 * a message begun and not complete within --tcp-message-timeout, and the
 * end of the stream inside a message is counted as truncated.
 *
 * Scope: the exporter is the peer's address and port, so every connection
 * is a session of its own; when it closes, tmpl_exporter_end() drops what
 * it taught the cache. Its templates never expire by time (the worker is
 * made by col_worker_new_tcp), and withdrawals are honoured (the decoder
 * does). At most --tcp-max-connections are open; the ones past that are
 * accepted and closed at once, and counted.
 */
#ifndef COL_TCP_H
#define COL_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "worker.h"

#define COL_TCP_BUF		65536	/* per connection: any IPFIX message fits */
#define COL_TCP_TICK_MS		50	/* how often an idle thread looks up */
#define COL_TCP_EVENTS		64	/* epoll events per round */
#define COL_TCP_ACCEPT_BATCH	64	/* accept() calls per round */
#define COL_TCP_SWEEP_MS	250	/* how often message timeouts are checked */
#define COL_TCP_DRAIN_READS	256	/* reads per connection at stop (16 MiB) */
#define COL_TCP_BACKLOG		128

/* The listening socket on cfg's --listen and -p (port 0: one the kernel
 * picks, col_tcp_port() tells which) and the connection table of
 * cfg->tcp_max_conn slots, into w->tcp. WEIR_OK, or an error with a
 * sentence in err (a port in use names the reason). */
int col_tcp_open(struct col_worker *w, const struct col_cfg *cfg, char *err, size_t errlen);
/* Close every socket and free; NULL is fine. */
void col_tcp_free(struct col_tcp *t);
uint16_t col_tcp_port(const struct col_worker *w);

/* One epoll round: accept, read and decode what is ready, waiting up to
 * timeout_ms; close connections whose message timed out. The number of
 * events handled, or -1 on a timeout or an error. */
int col_tcp_round(struct col_worker *w, int timeout_ms);

/* Stop: close the listening socket (no more connections), read what every
 * connection already holds (up to COL_TCP_DRAIN_READS reads each), decode
 * it, close them all and flush the batch. */
void col_tcp_stop(struct col_worker *w);

/* The thread of the TCP input: rounds until sh->stop, then col_tcp_stop().
 * arg is its worker. */
void *col_tcp_thread(void *arg);

#endif
