/* out.h - the output file every worker writes to, and each worker's batch.
 *
 * One struct col_out is shared: a file descriptor behind a mutex, so that a
 * batch goes out in one write() and batches of two workers never mix. Each
 * worker fills its own struct col_buf (COL_BUF_SIZE bytes) and hands it over
 * when it is nearly full or COL_FLUSH_NS old: never a system call per record.
 *
 * -o FILE is opened for appending (created 0644). A CSV header row is
 * written when the file is empty at open or at reopen (SIGHUP, for
 * logrotate), and on stdout when stdout is not a non-empty regular file.
 *
 * Or the output is Kafka (col_out_open_kafka, kafka.h): each batch is split
 * into one message per line, produced without the mutex; no header row.
 */
#ifndef COL_OUT_H
#define COL_OUT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka.h"
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

struct col_out {
	pthread_mutex_t mu;
	int fd;
	uint8_t own_fd;			/* opened by us (not stdout) */
	const char *path;		/* NULL = stdout */
	const char *header;		/* CSV header row, or NULL */
	size_t header_len;
	/* Updated under mu; read by the metrics thread with relaxed loads. */
	uint64_t bytes;			/* bytes written */
	uint64_t writes;		/* write() calls */
	uint64_t flushes;		/* batches handed over */
	uint64_t write_errors;		/* batches (or parts) that failed */
	uint64_t reopens;
	uint64_t lines;			/* lines that reached the output whole */
	uint64_t lost[COL_LOST_MAX];	/* lines that did not, by reason */
	uint64_t cut_lines;		/* a cut line that could not be taken back */
	int last_errno;
	/* A pipe, FIFO or socket is written in O_NONBLOCK mode (poll for room),
	 * so that a reader that stops reading cannot hold a stop forever.
	 * Written under mu (atomic: the writer thread peeks without it). */
	uint8_t nonblock;
	int fd_flags;			/* the flags of stdout to give back */
	uint64_t stop_ns;		/* atomic: 0, or when the collector stopped */
	uint64_t progress_ns;		/* atomic: the last write() that took bytes after it */
	uint8_t abandoned;		/* close gave up on a writer stuck in write() */
	/* col_out_set_stop_poll(): asked while its thread waits for the output. */
	int (*stop_poll)(void *arg);
	void *stop_poll_arg;
	pthread_t stop_poll_thr;
	/* Non-NULL: the Kafka output (fd unused). bytes then counts the
	 * batches handed to the producer, write_errors the batches that lost
	 * a message before the queue; writes and reopens stay 0. */
	struct col_kafka *kafka;
	/* The writer thread (col_out_start_writer): workers queue their full
	 * batches and go back to receiving while it writes them, so a slow
	 * write() (page cache, disk, a pipe) does not stop receiving. */
	struct col_chunk *q_head, *q_tail;	/* batches to write, oldest first */
	struct col_chunk *free_chunks;		/* written, to hand back */
	pthread_mutex_t qmu;
	pthread_cond_t q_work, q_free;
	unsigned nchunks;			/* allocated, queued or free */
	uint8_t writer, writer_stop;
	pthread_t writer_thr;
	uint64_t queued_bytes;			/* gauge */
	uint64_t queue_waits;			/* a worker waited for a free batch */
};

/* A batch's buffer travelling between a worker and the writer thread. */
struct col_chunk {
	struct col_chunk *next;
	char *p;
	size_t len, cap;
	uint64_t lines;
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
/* A Kafka output on cfg (which must outlive o). WEIR_OK, or WEIR_E_INVALID
 * (librdkafka refused the configuration) or another error, with a
 * sentence in err. */
int col_out_open_kafka(struct col_out *o, const struct col_kafka_cfg *cfg, char *err,
		       size_t errlen);
/* The collector stops at now_ns (CLOCK_MONOTONIC): waits for an output that
 * takes nothing end COL_OUT_STOP_WAIT_MS later (a Kafka output's waits for
 * room COL_KAFKA_STOP_WAIT_MS later). */
void col_out_stopping(struct col_out *o, uint64_t now_ns);
/* A thread that both feeds the output and takes the signals (the main
 * thread of --pcap, which decodes in it, and which closes the output) gives
 * poll, called from that thread alone every COL_OUT_POLL_MS while it waits
 * for the output (queue room, the writer at close): when poll returns
 * non-zero the stop starts (col_out_stopping), so a stalled output cannot
 * make that thread deaf to SIGTERM. Call it from that thread. */
void col_out_set_stop_poll(struct col_out *o, int (*poll)(void *arg), void *arg);
/* Reopen the same path (SIGHUP); the old descriptor stays when that fails.
 * A no-op for stdout. WEIR_OK or WEIR_E_IO with a sentence in err. */
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
/* Writer thread: write what is queued, then stop it. After
 * col_out_stopping(), a writer stuck in write() (a hung file system) a
 * second past the stop's bound is left behind: what it had is counted
 * lost, o is left as it is (the process is about to exit) and
 * o->abandoned is set. Kafka: flush (up to COL_KAFKA_FLUSH_MS), log what
 * was not delivered. */
void col_out_close(struct col_out *o);

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
