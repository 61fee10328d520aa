/* xp.h - the IPFIX exporting process of weir-exporter (RFC 7011): flow
 * records in, IPFIX messages out over UDP, TCP or to a file (RFC 5655).
 *
 * Templates: IPv4 and IPv6 flow records, and with biflow their RFC 5103
 * bidirectional twins (reverse elements under PEN 29305); an options
 * template for sampling (RFC 5477) when 1-in-N is on, and one for the
 * exporting process's reliability statistics (RFC 7011 §4.3, counts of
 * exported messages, flows and octets, and of flows and packets not sent
 * or refused). docs/exporter.md lists every element.
 *
 * Over UDP the templates and options records go out at start and every
 * refresh interval; over TCP on each new connection, and the templates are
 * withdrawn at close (RFC 7011 §8.1). Sequence numbers count data records
 * per observation domain. Messages are filled up to the MTU.
 *
 * By default TCP never blocks the caller (the live path, where waiting
 * would lose packets): the socket is non-blocking, a connection lost is
 * retried with a backoff, and what cannot be sent while it is down is
 * dropped and counted (xp_stats.records_lost), never held without bound.
 * With cfg.wait_ms (offline, where nothing is lost by waiting) a message
 * that finds the queue full waits for the socket to take bytes, and one
 * that finds no connection waits for a new one, until the collector has
 * taken nothing for wait_ms; then records are dropped and counted as
 * above until it takes bytes again.
 */
#ifndef WEIR_XP_H
#define WEIR_XP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "meter.h"

enum xp_transport {
	XP_UDP = 0,
	XP_TCP = 1,
	XP_FILE = 2,		/* RFC 5655: messages back to back in a file */
};

struct xp_cfg {
	int transport;			/* enum xp_transport */
	const char *host;		/* UDP/TCP: the collector (name or address) */
	uint16_t port;
	const char *path;		/* XP_FILE: the file ("-": stdout) */
	uint32_t domain;		/* observation domain id */
	uint32_t mtu;			/* largest message (UDP payload), default 1400 */
	uint64_t refresh_ns;		/* template refresh (UDP, file), default 300 s */
	int biflow;			/* RFC 5103 records: one per flow */
	uint32_t sampling;		/* 1-in-N announced; 0 or 1: none */
	uint32_t wait_ms;		/* TCP: 0 never wait (the default, the live
					 * path); else wait for the collector, giving
					 * up after wait_ms of real time in which it
					 * took nothing (offline) */
};

struct xp_stats {
	uint64_t messages;		/* sent or written */
	uint64_t records;		/* data records in them */
	uint64_t octets;		/* flows' octets in them */
	uint64_t packets;		/* flows' packets in them */
	uint64_t records_lost;		/* could not be sent (TCP down, send error) */
	uint64_t send_errors;
	uint64_t connects;		/* TCP connections made */
};

struct xp;

/* xp_add and xp_tick return at once and xp_close waits 2 s at most,
 * except over TCP with cfg.wait_ms: then each may wait for the collector
 * as said above. */

/* Open the exporting process: resolve, connect or open the file. NULL with
 * a sentence in err when that fails (TCP: a refused first connection is not
 * a failure; it is retried). */
struct xp *xp_open(const struct xp_cfg *cfg, char *err, size_t errlen);

/* One flow record at now_ns (the exporter's clock: the packet time offline):
 * one data record, or two (forward and reverse) without biflow; a direction
 * without packets gives none. */
void xp_add(struct xp *x, const struct meter_rec *rec, uint64_t now_ns);

/* Time passes: template refresh, options records, TCP reconnects, and the
 * message being filled sent when it has waited long enough. meter: the
 * meter whose refusals the statistics report (may be NULL). */
void xp_tick(struct xp *x, uint64_t now_ns, const struct meter_stats *meter);

/* Send what is buffered, the statistics once more, withdraw the templates
 * (TCP), close. NULL is fine. Returns 0, or -1 when something could not be
 * sent or written (counted in the stats given back in *out when not NULL). */
int xp_close(struct xp *x, uint64_t now_ns, const struct meter_stats *meter,
	     struct xp_stats *out);

const struct xp_stats *xp_stats(const struct xp *x);

/* The export's own addresses, so that the live path can leave its own
 * traffic unmetered: *local the socket's (getsockname: over TCP the
 * connection's now; family AF_UNSPEC while there is none) and *peer the
 * collector's. 0, or -1 for a file export (no socket: both untouched). */
int xp_sockaddrs(const struct xp *x, struct sockaddr_storage *local,
		 struct sockaddr_storage *peer);

#endif
