/* kafka.h - the Kafka output of weir-collector (--kafka-brokers), on
 * librdkafka's producer. docs/collector.md, section Kafka.
 *
 * One message per output line, without its newline. Workers produce their
 * batches concurrently (rd_kafka_producev is thread-safe) with
 * RD_KAFKA_MSG_F_COPY: a worker refills its batch buffer as soon as the call
 * returns, so librdkafka must own a copy. A thread of this module calls
 * rd_kafka_poll() to serve delivery reports, which are counted.
 *
 * Backpressure: when the producer queue is full, the producing worker polls
 * and retries for up to wait_ms per message, so that the kernel's socket
 * buffer absorbs the burst (its drops are weir_kernel_drops_total). A
 * message that still finds no room is dropped and counted, and the output is
 * "stalled": further messages that find the queue full are dropped at once,
 * until one gets in. That bounds how long a dead cluster holds up a worker.
 *
 * It plugs into the collector as an output implementation (out.h):
 * col_out_open_kafka makes a struct col_out whose batches go to
 * col_kafka_produce.
 */
#ifndef COL_KAFKA_H
#define COL_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#define COL_KAFKA_TOPIC		"flows"
#define COL_KAFKA_MAX_OPTS	256		/* --kafka-opt given at most */
#define COL_KAFKA_WAIT_MS	1000		/* a message waits for room at most */
#define COL_KAFKA_FLUSH_MS	10000		/* delivery wait at exit */
#define COL_KAFKA_STOP_WAIT_MS	2000		/* room waits end this long after a stop */

/* The flags (cli.c); strings are argv's, opts an array this owns. */
struct col_kafka_cfg {
	const char *brokers;		/* NULL: no Kafka output */
	const char *topic;
	const char **opts;		/* "KEY=VALUE" in the order given */
	unsigned nopts;
	unsigned wait_ms;		/* 0: COL_KAFKA_WAIT_MS (tests set less) */
};

/* Check "KEY=VALUE" with librdkafka (rd_kafka_conf_set on a scratch
 * configuration) and append it. WEIR_OK, WEIR_E_NOMEM, or WEIR_E_INVALID
 * with librdkafka's sentence in err. */
int col_kafka_cfg_add(struct col_kafka_cfg *k, const char *kv, char *err, size_t errlen);
/* A Kafka topic name: 1..249 of [A-Za-z0-9._-], not "." or "..".
 * WEIR_OK or WEIR_E_INVALID with a sentence in err. */
int col_kafka_topic_check(const char *topic, char *err, size_t errlen);
void col_kafka_cfg_free(struct col_kafka_cfg *k);

/* Produce errors, by kind (the label of weir_kafka_produce_errors_total). */
enum col_kafka_perr {
	COL_KAFKA_PE_QUEUE_FULL = 0,	/* no room after the wait: dropped */
	COL_KAFKA_PE_TOO_LARGE,		/* over message.max.bytes */
	COL_KAFKA_PE_UNKNOWN_TOPIC,	/* topic or partition unknown to the cluster */
	COL_KAFKA_PE_OTHER,
	COL_KAFKA_PE_MAX
};
const char *col_kafka_perr_name(int kind);

struct col_kafka_stats {
	uint64_t produced;		/* messages taken by the producer queue */
	uint64_t produced_bytes;	/* their payload bytes */
	uint64_t delivered;		/* acknowledged by the cluster */
	uint64_t delivery_errors;	/* failed for good (timeout, purge, broker error) */
	uint64_t produce_errors[COL_KAFKA_PE_MAX];
	uint64_t queue_full_waits;	/* messages that waited for room */
	uint64_t client_errors;		/* error callbacks (transport, brokers down) */
	uint64_t queue_messages;	/* gauge: rd_kafka_outq_len() */
};

struct col_kafka;
struct col_out;

/* A producer for cfg->brokers and cfg->topic with weir's defaults, then
 * cfg->opts over them, and its poll thread. cfg must outlive the result.
 * The cluster is not contacted here: librdkafka connects (and reconnects)
 * in the background. NULL with a sentence in err and *code WEIR_E_INVALID
 * (the configuration was refused) or another error. */
struct col_kafka *col_kafka_new(const struct col_kafka_cfg *cfg, int *code, char *err,
				size_t errlen);
/* One message per line of p[0..n): newlines split, empty lines are skipped,
 * a last line without a newline is a message too. Thread-safe. Returns the
 * number of messages lost (produce errors), 0 when every one was queued. */
size_t col_kafka_produce(struct col_kafka *k, const char *p, size_t n);
/* Room waits started after mono_ns (CLOCK_MONOTONIC, prog_now_mono()) end
 * by then: set at a stop, so that draining workers finish. */
void col_kafka_deadline(struct col_kafka *k, uint64_t mono_ns);
/* Stop the poll thread and wait up to timeout_ms for the queue to be
 * delivered. Returns the messages left undelivered (then purged: their
 * delivery reports count as delivery errors). Call once, after the
 * producers stopped. */
uint64_t col_kafka_flush(struct col_kafka *k, int timeout_ms);
void col_kafka_stats(struct col_kafka *k, struct col_kafka_stats *s);
/* Flush (COL_KAFKA_FLUSH_MS, unless col_kafka_flush ran), log a summary,
 * free. NULL is a no-op. */
void col_kafka_close(struct col_kafka *k);

/* The Kafka output: o on a producer for cfg (which must outlive o). WEIR_OK,
 * or WEIR_E_INVALID (librdkafka refused the configuration) or another
 * error, with a sentence in err. In o's counters, bytes then counts the
 * bytes of the batches handed to the producer, lines the messages it took,
 * write_errors the batches that lost a message before the queue; writes,
 * reopens, cut_lines and the queue's stay 0. Reopen is a no-op; a stop
 * (col_out_stopping) ends room waits COL_KAFKA_STOP_WAIT_MS later; close is
 * col_kafka_close. */
int col_out_open_kafka(struct col_out *o, const struct col_kafka_cfg *cfg, char *err,
		       size_t errlen);
/* The producer of a Kafka output (its metrics), or NULL for another. */
struct col_kafka *col_out_kafka(const struct col_out *o);

#endif
