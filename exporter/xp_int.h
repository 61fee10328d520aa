/* xp_int.h - what the exporting process's files share: xp.c (messages,
 * refresh, options records, close), xp_tmpl.c (templates and the flow
 * record writer), xp_net.c (UDP, TCP, file). Not an interface: only these
 * three include it (and the unit test, to name the template ids). */
#ifndef WEIR_XP_INT_H
#define WEIR_XP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipfix.h"
#include "wr.h"
#include "xp.h"

/* Template ids (data set ids >= 256, RFC 7011 section 3.4.1). */
enum {
	XP_TID_V4 = 256,	/* IPv4 flow records (biflow: RFC 5103 records) */
	XP_TID_V6 = 257,	/* IPv6 flow records */
	XP_TID_SAMPLING = 258,	/* options: RFC 5477 sampling (cfg.sampling > 1) */
	XP_TID_STATS = 259,	/* options: RFC 7011 section 4.3 reliability statistics */
};

#define XP_MTU_DEFAULT		1400u
#define XP_REFRESH_DEFAULT	(300ull * 1000000000ull)
#define XP_WAIT_NS		1000000000ull	/* a record waits this long at most */
#define XP_MAX_FIELDS		48

/* ---- flow templates and records (xp_tmpl.c) ---- */

/* A flow template and how to fill its records: what[i] names the value of
 * field i (enum in xp_tmpl.c), rev[i] says it comes from the reverse
 * direction (an RFC 5103 reverse element). */
struct xp_layout {
	struct tmpl *t;			/* owned */
	uint16_t nfields;
	uint8_t what[XP_MAX_FIELDS];
	uint8_t rev[XP_MAX_FIELDS];
};

/* The layout of family v6 (0: IPv4), biflow or not, with template id tid.
 * 0, or -1 on allocation failure. xp_layout_free() accepts a zeroed one. */
int xp_layout_init(struct xp_layout *l, uint16_t tid, int v6, int biflow);
void xp_layout_free(struct xp_layout *l);

/* One flow record of l into w, which has room for l->t->min_len bytes:
 * rec as it is (reverse 0), or its reverse direction with the key swapped
 * (reverse 1, uniflow only). */
void xp_put_flow(struct wr *w, const struct xp_layout *l, const struct meter_rec *rec,
		 int reverse);

/* ---- transports (xp_net.c) ---- */

/* What a message carries, for the counters when it is sent or lost. */
struct xp_msg_info {
	uint32_t flows;			/* flow data records */
	uint64_t packets, octets;	/* of those flows */
	size_t len;			/* message bytes */
};

struct xp_qent {
	uint64_t end;			/* queue byte offset (since the stream began) past it */
	struct xp_msg_info info;
};

enum xp_tcp_state { XP_TCP_DOWN = 0, XP_TCP_CONNECTING, XP_TCP_UP };

struct xp_net {
	int fd;				/* -1 none */
	int own_fd;			/* close it (not stdout) */
	struct sockaddr_storage addr;	/* UDP/TCP: the collector */
	socklen_t addrlen;
	char peer[80];			/* "host:port", for log lines */
	/* TCP */
	int state;			/* enum xp_tcp_state */
	int fresh;			/* a new stream began: templates go first */
	int warned;			/* the loss of the collector was logged */
	uint64_t retry_ns, backoff_ns;	/* next attempt (xp_net clock), its wait */
	/* cfg.wait_ms */
	int gave_up;			/* a wait ran out: none until progress */
	uint64_t progress;		/* connections made + sends that took bytes */
	uint8_t *q;			/* messages waiting for the socket: q[qhead, qtail) */
	size_t qcap, qhead, qtail;
	uint64_t qsent;			/* bytes of the stream handed to the kernel */
	uint64_t qin;			/* bytes of the stream queued */
	struct xp_qent *ents;		/* ring of the queued messages */
	uint32_t ecap, ehead, ecount;
};

/* ---- the exporting process ---- */

struct xp {
	struct xp_cfg cfg;
	struct xp_stats st;
	struct xp_net net;
	struct xp_layout lay[2];	/* IPv4, IPv6 */
	struct tmpl *tsamp;		/* NULL when unsampled */
	struct tmpl *tstats;
	uint32_t seq;			/* data records of the stream before the next message */
	uint64_t now_ns;		/* the latest clock given */
	int started;			/* the first templates went out */
	int in_tmpl;			/* sending a new stream's templates */
	uint64_t refresh_at;		/* exporter clock of the last template/options send */
	/* the data message being filled */
	uint8_t *buf;
	struct wr w;
	struct ipfix_wmsg m;
	int open;
	uint64_t open_ns;		/* clock of its first record */
	struct xp_msg_info mi;
	/* control messages (templates, options records, withdrawals) */
	uint8_t *cbuf;
	struct wr cw;
	struct ipfix_wmsg cm;
	int copen;
	/* reliability statistics (RFC 7011 section 4.3) */
	uint64_t msg_octets;		/* bytes of the messages sent */
	uint64_t lost_packets, lost_octets;	/* of the flow records lost */
	uint64_t first_drop_ms, last_drop_ms;	/* 0: none yet */
	struct meter_stats meter;	/* the last the caller gave */
};

/* Open the transport of x->cfg. 0, or -1 with a sentence in err. */
int xp_net_open(struct xp *x, char *err, size_t errlen);
/* TCP: start a connection when none is up or under way and its retry is
 * due; with full, also finish a connection under way, see a collector that
 * closed, and write what waits. A new connection sets net.fresh. The
 * retries run on the exporter's clock (x->now_ns), or with cfg.wait_ms on
 * real time (offline the exporter's clock is the packets'). */
void xp_net_poll(struct xp *x, int full);
/* TCP with cfg.wait_ms: wait until a connection is up and the queue has
 * room for a message of need bytes; 0 then (net.fresh set when the
 * connection is a new one). -1 at once without cfg.wait_ms, or while
 * given up; -1 when the collector took nothing (no connection made, no
 * byte sent) for cfg.wait_ms, which gives up until it takes something. */
int xp_net_wait(struct xp *x, size_t need);
/* Hand one finished message to the transport: sent (counted in x->st), or
 * queued (TCP), or lost (counted). */
void xp_net_send(struct xp *x, const uint8_t *msg, const struct xp_msg_info *mi);
/* Write what waits, for at most wait_ms milliseconds (TCP; with
 * cfg.wait_ms for as long as the collector takes bytes, giving up after
 * cfg.wait_ms without), then close. 0, or -1 when something could not be
 * sent. */
int xp_net_close(struct xp *x, unsigned wait_ms);

/* Counters, for xp_net.c: a message sent, or lost (at x->now_ns). */
void xp_count_sent(struct xp *x, const struct xp_msg_info *mi);
void xp_count_lost(struct xp *x, const struct xp_msg_info *mi);

#endif
