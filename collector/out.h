/* out.h - the output every worker writes to, and each worker's batch.
 *
 * One struct col_out is shared by the workers. It is an interface: the
 * implementation (struct col_out_ops) is chosen once, at open, and every
 * call below goes to it:
 * - the file output (outfile.c; col_out_open, col_out_open_wait): stdout,
 *   a file or a FIFO, a file descriptor behind a mutex, so that a batch goes
 *   out in one write() and batches of two workers never mix, written by a
 *   writer thread of its own (col_out_start_writer);
 * - the Kafka output (kafka.c; col_out_open_kafka in kafka.h): each batch
 *   is split into one message per line, produced without a lock.
 * The counters the metrics thread reads (metrics.c) are kept here, the same
 * for both; each implementation says which of them it leaves at 0.
 *
 * Each worker fills its own struct col_buf (COL_BUF_SIZE bytes) and hands it
 * over when it is nearly full or COL_FLUSH_NS old: never a system call per
 * record.
 *
 * -o FILE is opened for appending (created 0644). A CSV header row is
 * written when the file is empty at open or at reopen (SIGHUP, for
 * logrotate), and on stdout when stdout is not a non-empty regular file.
 * Kafka gets no header row.
 */
#ifndef COL_OUT_H
#define COL_OUT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "rec_json.h"

#define COL_BUF_SIZE	(REC_JSON_MAX > (1u << 20) ? REC_JSON_MAX : (1u << 20))
#define COL_BUF_LOW	(64u << 10)	/* flush when less than this is free */
#define COL_FLUSH_NS	100000000ull	/* and at least every 100 ms */

/* Why a formatted line did not reach the output (weir_records_lost_total). */
enum col_lost {
	COL_LOST_WRITE_ERROR = 0,	/* write() failed: disk full, I/O error, closed pipe; Kafka: dropped before the queue */
	COL_LOST_STALLED,		/* at stop, the output took nothing within COL_OUT_STOP_WAIT_MS */
	COL_LOST_MAX
};

const char *col_lost_name(int reason);	/* metric label value */

struct col_out;
struct col_buf;

/* An output implementation. write and close are required; a NULL hook
 * does nothing (start, stopping, reopen: WEIR_OK) or falls back (flush:
 * write in the caller's thread). */
struct col_out_ops {
	const char *name;		/* "file", "kafka" */
	/* n bytes of whole lines, lines of them (counted as they were added):
	 * WEIR_OK, or WEIR_E_IO when some did not reach the output (counted
	 * in lost[], never a cut line left behind). Thread-safe. */
	int (*write)(struct col_out *o, const char *p, size_t n, uint64_t lines);
	/* Take b's batch (b->len > 0, b->lines counted), leaving b an empty
	 * buffer of at least its size. Thread-safe. */
	int (*flush)(struct col_out *o, struct col_buf *b);
	int (*start)(struct col_out *o);			/* col_out_start_writer */
	void (*stopping)(struct col_out *o, uint64_t now_ns);	/* after stop_ns is set */
	int (*reopen)(struct col_out *o, char *err, size_t errlen);
	void (*close)(struct col_out *o);			/* frees impl */
};

struct col_out {
	const struct col_out_ops *ops;
	void *impl;			/* the implementation's state */
	/* Counters, read by the metrics thread with relaxed loads; each is
	 * written with an atomic store or add (col_out_add, col_out_add_mt). */
	uint64_t bytes;			/* bytes written */
	uint64_t writes;		/* write() calls */
	uint64_t flushes;		/* batches handed over */
	uint64_t write_errors;		/* batches (or parts) that failed */
	uint64_t reopens;
	uint64_t lines;			/* lines that reached the output whole */
	uint64_t lost[COL_LOST_MAX];	/* lines that did not, by reason */
	uint64_t cut_lines;		/* a cut line that could not be taken back */
	uint64_t queued_bytes;		/* gauge: batches waiting for a writer thread */
	uint64_t queue_waits;		/* a worker waited for a free batch */
	uint64_t stop_ns;		/* atomic: 0, or when the collector stopped */
	/* col_out_set_stop_poll(): asked while its thread waits for the output. */
	int (*stop_poll)(void *arg);
	void *stop_poll_arg;
	pthread_t stop_poll_thr;
};

/* Bytes of batches the writer may have queued: past it, a worker waits
 * (and its socket buffer fills) rather than memory growing. */
#define COL_OUT_QUEUE_MAX	(64u << 20)

/* After col_out_stopping(), once the output has taken nothing for this
 * long, what waits for it (workers with a full queue, the writer polling a
 * full pipe, col_out_close) gives up and counts the lines lost
 * (COL_LOST_STALLED). A slow output that keeps taking bytes gets all. */
#define COL_OUT_STOP_WAIT_MS	2000
#define COL_OUT_POLL_MS		100

/* ---- the file output (outfile.c) ---- */

/* Open path for appending (NULL: stdout). header (may be NULL) is copied by
 * reference and must outlive o. WEIR_OK, or WEIR_E_IO with a sentence in
 * err. */
int col_out_open(struct col_out *o, const char *path, const char *header, size_t header_len,
		 char *err, size_t errlen);
/* The same; when path is a FIFO with no reader yet, wait for one without
 * blocking in open(): stop(arg), which should wait up to COL_OUT_POLL_MS
 * for a reason to stop, is called between tries and ends the wait when it
 * returns non-zero: WEIR_E_STOPPED then, with a sentence in err. (Without
 * stop, col_out_open, a FIFO with no reader is WEIR_E_IO at once.) */
int col_out_open_wait(struct col_out *o, const char *path, const char *header,
		      size_t header_len, int (*stop)(void *arg), void *arg, char *err,
		      size_t errlen);
/* Tests: 1 when o is a file output whose writer thread runs, with the
 * batches it allocated in *nchunks. */
int col_out_file_writer(const struct col_out *o, unsigned *nchunks);

/* ---- every output ---- */

/* The collector stops at now_ns (CLOCK_MONOTONIC): waits for an output that
 * takes nothing end COL_OUT_STOP_WAIT_MS later (a Kafka output's waits for
 * room COL_KAFKA_STOP_WAIT_MS later). */
void col_out_stopping(struct col_out *o, uint64_t now_ns);
/* A thread that both feeds the output and takes the signals (the main
 * thread of --pcap, which decodes in it, and which closes the output) gives
 * poll, called from that thread alone every COL_OUT_POLL_MS while it waits
 * for the output (queue room, the writer at close): when poll returns
 * non-zero the stop starts (col_out_stopping), so a stalled output cannot
 * make that thread deaf to SIGTERM. Call it from that thread. (Kafka bounds
 * its waits itself and never calls it.) */
void col_out_set_stop_poll(struct col_out *o, int (*poll)(void *arg), void *arg);
/* For implementations: ask the stop_poll, when the caller is its thread;
 * when it says so, the stop starts now. */
void col_out_poll_stop(struct col_out *o);
/* Reopen the same path (SIGHUP); the old descriptor stays when that fails.
 * A no-op for stdout and Kafka. WEIR_OK or WEIR_E_IO with a sentence in
 * err. */
int col_out_reopen(struct col_out *o, char *err, size_t errlen);
/* Write n bytes of whole lines in one write() (more only when the kernel
 * takes part of them). WEIR_OK or WEIR_E_IO (counted; the lines not written
 * are lost, and a line cut by the failure is taken back from a regular file
 * with ftruncate, so that the file holds whole lines only). Kafka: one
 * message per line (col_kafka_produce); WEIR_E_IO when one was lost. */
int col_out_write(struct col_out *o, const void *p, size_t n);
/* Write batches handed over by col_buf_flush() in a thread of their own
 * (file and stdout outputs; Kafka queues by itself). Without it,
 * col_buf_flush() writes in the caller's thread. WEIR_OK or WEIR_E_NOMEM. */
int col_out_start_writer(struct col_out *o);
/* Write what is queued, then close. The file output, after
 * col_out_stopping(): a writer stuck in write() (a hung file system) a
 * second past the stop's bound is left behind: what it had is counted
 * lost, and its state is left as it is (the process is about to exit).
 * Kafka: flush (up to COL_KAFKA_FLUSH_MS), log what was not delivered.
 * The counters stay readable. */
void col_out_close(struct col_out *o);

/* Lines (newlines) in p[0..n). */
uint64_t col_out_lines(const char *p, size_t n);

/* A counter only one thread at a time adds to (under the implementation's
 * lock): a plain add, stored atomically for the metrics thread. */
static inline void col_out_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* A counter several threads add to at once. */
static inline void col_out_add_mt(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

struct col_buf {
	char *p;
	size_t len, cap;
	uint64_t lines;			/* lines in p, counted as they are added */
	uint64_t first_ns;		/* when the oldest byte in p was added */
	struct col_out *out;
};

int col_buf_init(struct col_buf *b, struct col_out *out, size_t cap);
/* Hand the batch to the output (when there is one). */
int col_buf_flush(struct col_buf *b);
/* Flush when the batch is older than COL_FLUSH_NS at now_ns. */
static inline int col_buf_tick(struct col_buf *b, uint64_t now_ns)
{
	if (b->len && now_ns - b->first_ns >= COL_FLUSH_NS)
		return col_buf_flush(b);
	return 0;
}
void col_buf_free(struct col_buf *b);

#endif
