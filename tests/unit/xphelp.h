/* xphelp.h - what the exporting process's unit tests (test_exp_xp*.c)
 * share: flow records with chosen values, the check of every field of a
 * decoded flow record against the record it came from, a byte stream of
 * the messages caught (UDP datagrams, a TCP stream or a file, all kept back
 * to back as RFC 5655 has them) and its decoding with the library's own
 * decoder (ipfixhelp.h's record log). */
#ifndef WEIR_TEST_XPHELP_H
#define WEIR_TEST_XPHELP_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ie.h"
#include "meter.h"
#include "prog_clock.h"
#include "xp.h"
#include "xp_int.h"

#include "ipfixhelp.h"

#define T0	(1700000000ull * 1000000000ull)	/* ns */
#define MS	1000000ull
#define SEC	1000000000ull

/* ---- flow records ---- */

/* A TCP flow of IPv4 (v6 0) or IPv6 with both directions, every value set
 * and different from the others. */
static inline struct meter_rec xrec(int v6, uint32_t i)
{
	struct meter_rec r;

	memset(&r, 0, sizeof(r));
	if (v6) {
		static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
		static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53 };

		memcpy(r.key.src, s6, 16);
		memcpy(r.key.dst, d6, 16);
		r.key.src[15] = (uint8_t)i;
		r.key.ipver = 6;
	} else {
		uint8_t s4[4] = { 10, 1, 2, (uint8_t)i }, d4[4] = { 192, 0, 2, 44 };

		memcpy(r.key.src, s4, 4);
		memcpy(r.key.dst, d4, 4);
		r.key.ipver = 4;
	}
	r.key.src_port = (uint16_t)(40000 + i);
	r.key.dst_port = 443;
	r.key.proto = 6;
	r.key.vlan = 100;
	r.key.ifindex = 7;
	r.key.dir = WFLOW_DIR_INGRESS;
	r.fwd = (struct wflow_val){
		.first_ns = T0 + 123456789 + i * SEC, .last_ns = T0 + 5 * SEC + 987654321 + i * SEC,
		.packets = 10 + i, .octets = 5000 + i,
		.flag_cnt = { [WFLOW_FIN] = 1, [WFLOW_SYN] = 2, [WFLOW_RST] = 3, [WFLOW_PSH] = 4,
			      [WFLOW_ACK] = 9, [WFLOW_URG] = 5, [WFLOW_ECE] = 6, [WFLOW_CWR] = 7 },
		.tcp_flags = 0x1ff, .min_ttl = 60, .max_ttl = 64, .tos = 0x10,
	};
	r.rev = (struct wflow_val){
		.first_ns = T0 + 200 * MS + i * SEC, .last_ns = T0 + 5500 * MS + i * SEC,
		.packets = 8 + i, .octets = 9000 + i,
		.flag_cnt = { [WFLOW_FIN] = 11, [WFLOW_SYN] = 12, [WFLOW_RST] = 13, [WFLOW_PSH] = 14,
			      [WFLOW_ACK] = 18, [WFLOW_URG] = 15 },
		.tcp_flags = 0x13, .min_ttl = 50, .max_ttl = 52, .tos = 0x28,
	};
	r.end_reason = METER_END_EOF;
	return r;
}

/* Check one direction's values: pen 0 (forward) or IE_PEN_REVERSE. */
static inline void xcheck_val(const struct rec_copy *c, uint32_t pen, const struct wflow_val *v,
			      const char *what)
{
	cr_expect_eq(fu(c, pen, 152), v->first_ns / MS, "%s flowStartMilliseconds", what);
	cr_expect_eq(fu(c, pen, 153), v->last_ns / MS, "%s flowEndMilliseconds", what);
	cr_expect_eq(fu(c, pen, 1), v->octets, "%s octetDeltaCount", what);
	cr_expect_eq(fu(c, pen, 2), v->packets, "%s packetDeltaCount", what);
	cr_expect_eq(fu(c, pen, 6), v->tcp_flags, "%s tcpControlBits", what);
	cr_expect_eq(fu(c, pen, 5), v->tos, "%s ipClassOfService", what);
	cr_expect_eq(fu(c, pen, 52), v->min_ttl, "%s minimumTTL", what);
	cr_expect_eq(fu(c, pen, 53), v->max_ttl, "%s maximumTTL", what);
	cr_expect_eq(fu(c, pen, 218), v->flag_cnt[WFLOW_SYN], "%s tcpSynTotalCount", what);
	cr_expect_eq(fu(c, pen, 219), v->flag_cnt[WFLOW_FIN], "%s tcpFinTotalCount", what);
	cr_expect_eq(fu(c, pen, 220), v->flag_cnt[WFLOW_RST], "%s tcpRstTotalCount", what);
	cr_expect_eq(fu(c, pen, 221), v->flag_cnt[WFLOW_PSH], "%s tcpPshTotalCount", what);
	cr_expect_eq(fu(c, pen, 222), v->flag_cnt[WFLOW_ACK], "%s tcpAckTotalCount", what);
	cr_expect_eq(fu(c, pen, 223), v->flag_cnt[WFLOW_URG], "%s tcpUrgTotalCount", what);
}

/* Every field of a decoded flow record c against r: its forward direction
 * (reverse 0) or its reverse with the key swapped (reverse 1); biflow: the
 * reverse elements too. */
static inline void xcheck(const struct rec_copy *c, const struct meter_rec *r, int reverse,
			  int biflow)
{
	const struct wflow_key *k = &r->key;
	int v6 = k->ipver == 6, icmp = k->proto == (v6 ? 58 : 1);
	size_t alen = v6 ? 16 : 4;
	uint32_t len = 0;
	const uint8_t *src = fv(c, 0, v6 ? 27 : 8, &len);
	const uint8_t *dst = fv(c, 0, v6 ? 28 : 12, NULL);
	uint16_t sport = k->src_port, dport = k->dst_port;

	cr_assert_not_null(src);
	cr_assert_not_null(dst);
	cr_expect_eq(c->tid, v6 ? XP_TID_V6 : XP_TID_V4);
	cr_expect_eq(c->nfields, biflow ? 39 : 25);
	cr_expect_eq(len, alen);
	cr_expect_eq(memcmp(src, reverse ? k->dst : k->src, alen), 0, "source address");
	cr_expect_eq(memcmp(dst, reverse ? k->src : k->dst, alen), 0, "destination address");
	if (reverse && !icmp) {
		sport = k->dst_port;
		dport = k->src_port;
	}
	cr_expect_eq(fu(c, 0, 7), sport, "sourceTransportPort");
	cr_expect_eq(fu(c, 0, 11), dport, "destinationTransportPort");
	cr_expect_eq(fu(c, 0, 4), k->proto, "protocolIdentifier");
	cr_expect_eq(fu(c, 0, 58), k->vlan, "vlanId");
	cr_expect_eq(fu(c, 0, 10), k->dir == WFLOW_DIR_INGRESS ? k->ifindex : 0, "ingressInterface");
	cr_expect_eq(fu(c, 0, 14), k->dir == WFLOW_DIR_EGRESS ? k->ifindex : 0, "egressInterface");
	cr_expect_eq(fu(c, 0, 61), k->dir, "flowDirection");
	cr_expect_eq(fu(c, 0, 136), r->end_reason, "flowEndReason");
	cr_expect_eq(fu(c, 0, v6 ? 139 : 32), icmp ? (uint64_t)(r->icmp_type << 8 | r->icmp_code) : 0,
		     "icmpTypeCode");
	xcheck_val(c, 0, reverse ? &r->rev : &r->fwd, reverse ? "reverse record" : "forward");
	if (biflow)
		xcheck_val(c, IE_PEN_REVERSE, &r->rev, "reverse element");
	/* what weir-collector's normalization makes of it */
	cr_expect_eq(c->flow_err, WEIR_OK);
	cr_expect_eq(c->fl.bytes, (reverse ? r->rev : r->fwd).octets);
	cr_expect_eq(c->fl.time_flow_start_ns, (reverse ? r->rev : r->fwd).first_ns / MS * MS);
}

/* ---- the messages caught, back to back ---- */

struct xcap {
	uint8_t *b;
	size_t n, cap;
};

static inline void xcap_put(struct xcap *x, const void *p, size_t n)
{
	if (x->n + n > x->cap) {
		x->cap = (x->n + n) * 2 + 65536;
		x->b = realloc(x->b, x->cap);
		cr_assert_not_null(x->b);
	}
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

/* The messages: their offsets into off[] (max), their count returned. A
 * partial message at the end is left out. */
static inline size_t xcap_split(const struct xcap *x, size_t *off, size_t max)
{
	size_t at = 0, k = 0, len;

	while (at < x->n && ipfix_msg_length(x->b + at, x->n - at, &len) == WEIR_OK) {
		if (k < max)
			off[k] = at;
		k++;
		at += len;
	}
	return k;
}

static inline uint32_t xbe32(const uint8_t *p)
{
	return (uint32_t)be_uint(p, 4);
}

/* Decode every whole message caught; returns their count. Each message's
 * sequence number must be the data records of the messages before it. */
static inline size_t xcap_decode(struct fx *f, const struct xcap *x)
{
	size_t at = 0, k = 0, len;
	uint32_t seq = 0;

	while (at < x->n && ipfix_msg_length(x->b + at, x->n - at, &len) == WEIR_OK) {
		size_t before = f->lg->n;

		cr_expect_eq(xbe32(x->b + at + 8), seq, "message %zu sequence", k);
		cr_expect_eq(dec(f, x->b + at, len), WEIR_OK, "message %zu", k);
		seq += (uint32_t)(f->lg->n - before);
		at += len;
		k++;
	}
	return k;
}

/* A UDP socket on 127.0.0.1 (port in *port), non-blocking. */
static inline int udp_rx(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), big = 8 << 20;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Every datagram waiting, and up to want in all within 5 s; each one's
 * length into lens[] when not NULL. Returns how many. */
static inline size_t udp_catch(int fd, struct xcap *x, size_t want, size_t *lens)
{
	uint8_t buf[65536];
	uint64_t end = prog_now_mono() + 5 * SEC;
	size_t k = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			if (lens)
				lens[k] = (size_t)r;
			xcap_put(x, buf, (size_t)r);
			k++;
			continue;
		}
		if (k >= want || prog_now_mono() >= end)
			return k;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 50);
	}
}

/* A TCP listener on 127.0.0.1:port (0: any; the port in *port), with
 * SO_RCVBUF rcvbuf when not 0; -1 on failure (errno). No assertion: a
 * collector thread of a test may call it. */
static inline int xlisten(uint16_t *port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(*port) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* xlisten() that must succeed (the test's own thread). */
static inline int xlistener(uint16_t *port, int rcvbuf)
{
	int fd = xlisten(port, rcvbuf);

	cr_assert_geq(fd, 0, "listen on 127.0.0.1:%u: %s", *port, strerror(errno));
	return fd;
}

/* A connection waiting on listener l, or -1 after ms milliseconds. */
static inline int xaccept(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return accept(l, NULL, NULL);
}

/* An xp to 127.0.0.1:port over transport, the rest of cfg from base. */
static inline struct xp *xopen(const struct xp_cfg *base, int transport, uint16_t port)
{
	struct xp_cfg c = *base;
	char err[256] = "";
	struct xp *x;

	c.transport = transport;
	c.host = "127.0.0.1";
	c.port = port;
	x = xp_open(&c, err, sizeof(err));
	cr_assert_not_null(x, "xp_open: %s", err);
	return x;
}

#endif
