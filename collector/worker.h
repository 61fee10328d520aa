/* worker.h - one receiving thread's state: its socket, decoder context and
 * template cache, its output batch and its counters.
 *
 * A worker is single-threaded: only its own thread touches its cache and
 * batch. The metrics thread reads the counters (uint64_t written by the
 * worker with relaxed atomic stores, cnt_add, read with relaxed atomic
 * loads, cnt_load) and walks the sources of the cache through its
 * thread-safe index (tmpl_cache_source): no lock on the hot path.
 */
#ifndef COL_WORKER_H
#define COL_WORKER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cli.h"
#include "decode.h"
#include "enr.h"
#include "flow_json.h"
#include "out.h"
#include "prog_clock.h"
#include "rec_json.h"
#include "tmpl.h"

/* Protocol of a datagram (weir_sniff), as an index of the counters. */
enum col_proto {
	COL_P_NF5 = 0,
	COL_P_NF9,
	COL_P_IPFIX,
	COL_P_SFLOW,
	COL_P_OTHER,
	COL_P_MAX
};

const char *col_proto_name(int p);	/* metric label value */

/* The TCP input (tcp.h): why a connection was closed, refused, and the
 * framing errors of its byte stream, as indexes of the counters. */
enum col_tcp_close {
	COL_TC_EOF = 0,			/* the exporter closed it */
	COL_TC_ERROR,			/* a read failed (reset by the peer, ...) */
	COL_TC_FRAMING,			/* not an IPFIX stream (bad version or length) */
	COL_TC_TIMEOUT,			/* a message begun stayed incomplete too long */
	COL_TC_STOP,			/* the collector stopped */
	COL_TC_MAX
};
enum col_tcp_refuse {
	COL_TR_LIMIT = 0,		/* --tcp-max-connections open already */
	COL_TR_ERROR,			/* accept() failed: no file descriptor, no memory */
	COL_TR_MAX
};
enum col_tcp_ferr {
	COL_TF_VERSION = 0,		/* a header whose version is not 10 */
	COL_TF_LENGTH,			/* a header whose length is below 16 */
	COL_TF_TRUNCATED,		/* the stream ended inside a message */
	COL_TF_TIMEOUT,			/* a message stayed incomplete too long */
	COL_TF_MAX
};
const char *col_tcp_close_name(int r);	/* metric label values */
const char *col_tcp_refuse_name(int r);
const char *col_tcp_ferr_name(int k);

/* Exporter addresses named in per-exporter metrics: the first
 * COL_EXPORTER_LABELS met; later ones are summed under "other". */
#define COL_EXPORTER_LABELS	1000
#define COL_LABEL_OTHER		COL_EXPORTER_LABELS

struct col_labels {
	pthread_mutex_t mu;
	uint32_t n;
	uint8_t other_used;
	struct weir_addr addr[COL_EXPORTER_LABELS];
};

/* The label index of a, assigning the next free one (COL_LABEL_OTHER once
 * all are taken). Thread-safe. */
uint32_t col_labels_get(struct col_labels *l, const struct weir_addr *a);

/* Template cache bounds of a worker (docs/collector.md). */
#define COL_MAX_TEMPLATES	262144
#define COL_MAX_SOURCES		262144
void col_limits(const struct col_cfg *cfg, struct tmpl_limits *lim);

struct col_worker;

/* What every worker shares. */
struct col_shared {
	const struct col_cfg *cfg;
	struct col_out *out;			/* NULL: records are formatted, not written */
	const struct ie_registry *ies;
	struct col_enr *enr;			/* --enrich (NULL or n == 0: none) */
	struct col_labels labels;
	int stop;				/* atomic: stop receiving, drain, flush */
	uint64_t save_gen;			/* atomic: template save asked for */
	uint64_t tsave_ok, tsave_err;		/* template file saves */
	uint64_t start_time_ns;
	unsigned nw;				/* workers: the UDP ones, then ntcp */
	unsigned ntcp;				/* 1: the last worker is the TCP input */
	struct col_worker **w;
};

/* The UDP workers (or the one --pcap worker): the first of sh->w. */
static inline unsigned col_nudp(const struct col_shared *sh)
{
	return sh->nw - sh->ntcp;
}

struct col_counters {
	uint64_t datagrams[COL_P_MAX];
	uint64_t bytes[COL_P_MAX];		/* UDP payload bytes */
	uint64_t records[COL_P_MAX];		/* data and options records decoded */
	uint64_t records_out;			/* lines formatted (out.h counts those written) */
	uint64_t skipped_no_flow;		/* common format: options records, counter samples */
	uint64_t skipped_too_large;		/* a record the formatter could not fit */
	uint64_t kernel_drops;			/* SO_RXQ_OVFL */
	uint64_t recv_errors;			/* recvmmsg() failures other than a timeout */
	uint64_t pcap_frames, pcap_skipped;	/* --pcap: frames read, not UDP export */
	uint64_t rcvbuf;			/* gauge: what the kernel gave the socket */
	/* The TCP input (tcp.c). */
	uint64_t tcp_accepted;
	uint64_t tcp_refused[COL_TR_MAX];
	uint64_t tcp_closed[COL_TC_MAX];
	uint64_t tcp_open;			/* gauge: connections open now */
	uint64_t tcp_bytes;			/* stream bytes read */
	uint64_t tcp_messages;			/* IPFIX messages framed */
	uint64_t tcp_framing[COL_TF_MAX];
};

struct col_rx;
struct col_tcp;

/* The pipeline of a datagram: an input (udp.c, pcapin.c) hands it to
 * col_worker_datagram(), which reads its version once and decodes it
 * (weir_decode_as); each record goes to the worker's sink, chosen once
 * from -f and -s: raw JSON, common JSON, CSV, or null (raw: counted; common:
 * normalized). A sink formats into the worker's batch, which goes to the
 * output (out.h: a file, stdout, or Kafka). */
struct col_sink {
	const char *name;
	void (*record)(struct col_worker *w, const struct weir_record *rec);
	/* Common formats: a flow's line with x's extra text (enrichment);
	 * NULL: normalized, not written. */
	size_t (*line)(struct col_worker *w, const struct flow *f, char *out, size_t cap,
		       const struct flow_extra *x);
	size_t line_max;			/* longest line, without extra text */
	uint8_t csv;				/* extra text as CSV cells */
};

const struct col_sink *col_sink_of(const struct col_cfg *cfg);

struct col_worker {
	unsigned id;
	struct col_shared *sh;
	struct weir_ctx ctx;
	const struct col_sink *sink;		/* col_sink_of(sh->cfg) */
	struct col_buf buf;
	struct flow_json_cache jcache;		/* common JSON: the message's shared members */
	struct rec_json_cache rcache;		/* raw JSON: head and keys of the last template */
	struct col_counters c;
	struct col_enr_counts ec;		/* lookups and misses per --enrich */
	/* With --enrich: the datagram's flows, normalized in place, waiting
	 * to be looked up and written together at the end of the datagram. */
	struct flow *pend_f;			/* COL_ENR_BATCH of them */
	struct col_enr_batch *batch;
	uint64_t qs;				/* quiescent points passed (enr.h) */
	uint64_t now_ns;			/* CLOCK_MONOTONIC of the current batch */
	uint32_t override;			/* sampling override of this datagram's exporter */
	int fd;					/* UDP socket, -1 none */
	uint32_t ovfl_last;
	struct col_rx *rx;
	struct col_tcp *tcp;			/* the TCP input's worker: its connections */
	/* The exporter label of each source of the cache (tmpl_cache_source),
	 * for the per-exporter sequence metrics: the metrics thread's alone
	 * (it renders one scrape at a time), filled as sources appear. */
	uint32_t *src_label;
	uint32_t nlabelled, label_cap;
	/* Template save handshake with the main thread (tsave.c). */
	uint64_t save_done;			/* atomic */
	int save_err;
	pthread_t thr;
	uint8_t started;
};

/* A worker with its cache (col_limits(), the registry of sh) and a batch of
 * COL_BUF_SIZE bytes for sh->out. NULL with a sentence in err. */
struct col_worker *col_worker_new(struct col_shared *sh, unsigned id, char *err, size_t errlen);
/* The same for the TCP input: its templates never expire by time (RFC
 * 7011 section 8.4 is for UDP alone); they end with their connection. Its
 * cache is ordered (tmpl.h): data of an unknown template is not held for a
 * template that comes later. */
struct col_worker *col_worker_new_tcp(struct col_shared *sh, unsigned id, char *err,
				      size_t errlen);
void col_worker_free(struct col_worker *w);

/* Decode one datagram from exporter e received at recv_ns (ns since the
 * epoch) and format its records into the batch. Counted; returns what the
 * decoder returned (WEIR_E_VERSION for a datagram of the other --type). */
int col_worker_datagram(struct col_worker *w, const struct weir_exporter *e,
			const uint8_t *p, size_t len, uint64_t recv_ns);
/* The same for a message of protocol proto (weir_sniff) that the caller
 * counts itself (the TCP input counts messages, not datagrams). */
int col_worker_message(struct col_worker *w, const struct weir_exporter *e, uint8_t proto,
		       const uint8_t *p, size_t len, uint64_t recv_ns);

#endif
