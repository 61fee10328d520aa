/* kafka.c - see kafka.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "err.h"
#include "kafka.h"
#include "out.h"
#include "prog_clock.h"
#include "prog_log.h"

struct col_kafka {
	const struct col_kafka_cfg *cfg;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	pthread_t poller;
	uint8_t polling;		/* the poll thread runs */
	uint8_t flushed;
	int poll_stop;			/* atomic */
	int stalled;			/* atomic: a message found no room in time */
	int last_dr_err;		/* atomic: last delivery error logged, 0 none */
	uint64_t next_client_log_ns;	/* atomic: error callbacks log from then on */
	int last_perr;			/* atomic: last produce error logged */
	uint64_t wait_ns;
	uint64_t deadline_ns;		/* atomic: 0, or when room waits end */
	/* Atomic adds: workers, the poll thread and librdkafka's callbacks. */
	uint64_t produced, produced_bytes, delivered, delivery_errors, waits, client_errors;
	uint64_t perr[COL_KAFKA_PE_MAX];
};

/* Throughput first (docs/collector.md, Kafka): batches of up to 20 ms, LZ4
 * when this librdkafka has it, a queue of a million messages or 256 MiB,
 * and no idempotence (a retried batch may then be written twice, which a
 * flow collector accepts; --kafka-opt enable.idempotence=true for exactly
 * once per partition). */
static const char *const kafka_defaults[][2] = {
	{ "client.id", "weir-collector" },
	{ "linger.ms", "20" },
	{ "batch.num.messages", "10000" },
	{ "queue.buffering.max.messages", "1000000" },
	{ "queue.buffering.max.kbytes", "262144" },
	{ "enable.idempotence", "false" },
	{ "log.connection.close", "false" },
};

static const char *const perr_names[COL_KAFKA_PE_MAX] = {
	[COL_KAFKA_PE_QUEUE_FULL] = "queue_full",
	[COL_KAFKA_PE_TOO_LARGE] = "too_large",
	[COL_KAFKA_PE_UNKNOWN_TOPIC] = "unknown_topic",
	[COL_KAFKA_PE_OTHER] = "other",
};

const char *col_kafka_perr_name(int kind)
{
	return kind >= 0 && kind < COL_KAFKA_PE_MAX ? perr_names[kind] : "other";
}

static void add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ---- configuration ---- */

int col_kafka_topic_check(const char *topic, char *err, size_t errlen)
{
	size_t n = strlen(topic);

	/* Kafka's own rule (Topic.validate): legal characters, at most 249. */
	if (n == 0 || n > 249 || strspn(topic, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
	    !strcmp(topic, ".") || !strcmp(topic, "..")) {
		snprintf(err, errlen, "'%s' is not a Kafka topic name (1..249 of A-Z a-z 0-9 . _ -)",
			 topic);
		return WEIR_E_INVALID;
	}
	return WEIR_OK;
}

int col_kafka_cfg_add(struct col_kafka_cfg *k, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char key[256], rerr[256];
	rd_kafka_conf_t *conf;
	rd_kafka_conf_res_t r;
	const char **nv;
	size_t kl;

	if (!eq || eq == kv) {
		snprintf(err, errlen, "'%s' is not KEY=VALUE", kv);
		return WEIR_E_INVALID;
	}
	kl = (size_t)(eq - kv);
	if (kl >= sizeof(key)) {
		snprintf(err, errlen, "'%.40s...': the key is too long", kv);
		return WEIR_E_INVALID;
	}
	memcpy(key, kv, kl);
	key[kl] = 0;
	if (!strcmp(key, "bootstrap.servers") || !strcmp(key, "metadata.broker.list")) {
		snprintf(err, errlen, "'%s': give the brokers with --kafka-brokers", kv);
		return WEIR_E_INVALID;
	}
	if (k->nopts >= COL_KAFKA_MAX_OPTS) {
		snprintf(err, errlen, "more than %u of them", COL_KAFKA_MAX_OPTS);
		return WEIR_E_INVALID;
	}
	conf = rd_kafka_conf_new();
	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	rerr[0] = 0;
	r = rd_kafka_conf_set(conf, key, eq + 1, rerr, sizeof(rerr));
	rd_kafka_conf_destroy(conf);
	if (r != RD_KAFKA_CONF_OK) {
		snprintf(err, errlen, "'%s': %s", kv, rerr[0] ? rerr : "refused by librdkafka");
		return WEIR_E_INVALID;
	}
	nv = realloc(k->opts, (k->nopts + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	nv[k->nopts++] = kv;
	k->opts = nv;
	return WEIR_OK;
}

void col_kafka_cfg_free(struct col_kafka_cfg *k)
{
	free(k->opts);
	k->opts = NULL;
	k->nopts = 0;
}

/* ---- callbacks (librdkafka's threads, or whoever polls) ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct col_kafka *k = opaque;

	(void)rk;
	if (!m->err) {
		add(&k->delivered, 1);
		if (__atomic_load_n(&k->last_dr_err, __ATOMIC_RELAXED) &&
		    __atomic_exchange_n(&k->last_dr_err, 0, __ATOMIC_RELAXED))
			prog_log(PROG_LOG_WARN, "kafka: delivery works again");
		return;
	}
	add(&k->delivery_errors, 1);
	/* Once per kind of failure, not once per message. */
	if (__atomic_exchange_n(&k->last_dr_err, (int)m->err, __ATOMIC_RELAXED) != (int)m->err)
		prog_log(PROG_LOG_ERROR, "kafka: delivery to %s failed: %s; counting the failures",
			rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	struct col_kafka *k = opaque;
	uint64_t now, next;
	char fatal[256];

	add(&k->client_errors, 1);
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		prog_log(PROG_LOG_ERROR, "kafka: fatal: %s; no more messages will be produced", fatal);
		return;
	}
	/* librdkafka reconnects by itself, and a broker that stays down comes
	 * back here at every attempt: one line per 30 s, the rest counted. */
	now = prog_now_mono();
	next = __atomic_load_n(&k->next_client_log_ns, __ATOMIC_RELAXED);
	if (now >= next && __atomic_compare_exchange_n(&k->next_client_log_ns, &next,
						       now + 30000000000ull, 0, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		prog_log(PROG_LOG_WARN, "kafka: %s (librdkafka retries; weir_kafka_client_errors_total counts)",
			reason);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* Errors reach on_error too: librdkafka's own lines are detail, but
	 * for what it says about --kafka-opt (a property it ignores). */
	if (!strcmp(fac, "CONFWARN"))
		prog_log(PROG_LOG_WARN, "kafka: %s", buf);
	else
		prog_log(level <= 4 ? PROG_LOG_INFO : PROG_LOG_DEBUG, "kafka: %s: %s", fac, buf);
}

static void *poll_thread(void *arg)
{
	struct col_kafka *k = arg;

	while (!__atomic_load_n(&k->poll_stop, __ATOMIC_ACQUIRE))
		rd_kafka_poll(k->rk, 100);
	return NULL;
}

/* ---- the producer ---- */

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *val, char *err,
		    size_t errlen)
{
	char rerr[256];

	if (rd_kafka_conf_set(conf, key, val, rerr, sizeof(rerr)) == RD_KAFKA_CONF_OK)
		return WEIR_OK;
	snprintf(err, errlen, "%s=%s: %s", key, val, rerr);
	return WEIR_E_INVALID;
}

static rd_kafka_conf_t *kafka_conf(struct col_kafka *k, char *err, size_t errlen)
{
	const struct col_kafka_cfg *cfg = k->cfg;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char key[256];

	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (conf_set(conf, "bootstrap.servers", cfg->brokers, err, errlen))
		goto bad;
	for (size_t i = 0; i < sizeof(kafka_defaults) / sizeof(kafka_defaults[0]); i++)
		if (conf_set(conf, kafka_defaults[i][0], kafka_defaults[i][1], err, errlen))
			goto bad;
	/* LZ4 is optional in a librdkafka build: without it, no compression. */
	if (conf_set(conf, "compression.codec", "lz4", err, errlen))
		prog_log(PROG_LOG_INFO, "kafka: no LZ4 in this librdkafka: messages go uncompressed");
	for (unsigned i = 0; i < cfg->nopts; i++) {
		const char *eq = strchr(cfg->opts[i], '=');
		size_t kl = eq ? (size_t)(eq - cfg->opts[i]) : 0;

		if (!eq || kl >= sizeof(key)) {
			snprintf(err, errlen, "'%s' is not KEY=VALUE", cfg->opts[i]);
			goto bad;
		}
		memcpy(key, cfg->opts[i], kl);
		key[kl] = 0;
		if (conf_set(conf, key, eq + 1, err, errlen))
			goto bad;
	}
	rd_kafka_conf_set_opaque(conf, k);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log);
	return conf;
bad:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

struct col_kafka *col_kafka_new(const struct col_kafka_cfg *cfg, int *code, char *err,
				size_t errlen)
{
	struct col_kafka *k = calloc(1, sizeof(*k));
	rd_kafka_conf_t *conf;
	char rerr[512];
	int r;

	*code = WEIR_E_NOMEM;
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->cfg = cfg;
	k->wait_ns = (uint64_t)(cfg->wait_ms ? cfg->wait_ms : COL_KAFKA_WAIT_MS) * 1000000ull;
	*code = WEIR_E_INVALID;
	if (col_kafka_topic_check(cfg->topic, err, errlen))
		goto free_k;
	conf = kafka_conf(k, err, errlen);
	if (!conf)
		goto free_k;
	/* rd_kafka_new() checks how the properties go together. */
	k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rerr, sizeof(rerr));
	if (!k->rk) {
		snprintf(err, errlen, "%s", rerr);
		rd_kafka_conf_destroy(conf);
		goto free_k;
	}
	k->rkt = rd_kafka_topic_new(k->rk, cfg->topic, NULL);
	if (!k->rkt) {
		snprintf(err, errlen, "topic %s: %s", cfg->topic, rd_kafka_err2str(rd_kafka_last_error()));
		goto destroy_rk;
	}
	*code = WEIR_E_IO;
	r = pthread_create(&k->poller, NULL, poll_thread, k);
	if (r) {
		snprintf(err, errlen, "cannot start the Kafka poll thread: %s", strerror(r));
		goto destroy_rkt;
	}
	k->polling = 1;
	*code = WEIR_OK;
	return k;
destroy_rkt:
	rd_kafka_topic_destroy(k->rkt);
destroy_rk:
	rd_kafka_destroy(k->rk);
free_k:
	free(k);
	return NULL;
}

static int perr_kind(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR__QUEUE_FULL:
		return COL_KAFKA_PE_QUEUE_FULL;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return COL_KAFKA_PE_TOO_LARGE;
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		return COL_KAFKA_PE_UNKNOWN_TOPIC;
	default:
		return COL_KAFKA_PE_OTHER;
	}
}

static void produce_error(struct col_kafka *k, rd_kafka_resp_err_t e)
{
	add(&k->perr[perr_kind(e)], 1);
	if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL &&
	    __atomic_exchange_n(&k->last_perr, (int)e, __ATOMIC_RELAXED) != (int)e)
		prog_log(PROG_LOG_ERROR, "kafka: cannot produce to %s: %s; dropping such messages",
			k->cfg->topic, rd_kafka_err2str(e));
}

/* One message's wait for room: from start until the bound or the stop
 * deadline, whichever comes first. */
struct room_wait {
	uint64_t start, until;		/* CLOCK_MONOTONIC ns; start 0: not yet */
};

/* Returns 1 to try again, 0 to give up (the output is then stalled). */
static int wait_room(struct col_kafka *k, struct room_wait *w)
{
	uint64_t now, dl;

	if (__atomic_load_n(&k->stalled, __ATOMIC_RELAXED))
		return 0;
	now = prog_now_mono();
	if (!w->start) {
		w->start = now;
		w->until = now + k->wait_ns;
		dl = __atomic_load_n(&k->deadline_ns, __ATOMIC_RELAXED);
		if (dl && dl < w->until)
			w->until = dl;
		add(&k->waits, 1);
	}
	if (now < w->until) {
		/* Delivery reports free room; serve them too. */
		rd_kafka_poll(k->rk, 5);
		return 1;
	}
	if (!__atomic_exchange_n(&k->stalled, 1, __ATOMIC_RELAXED))
		prog_log(PROG_LOG_ERROR,
			"kafka: the producer queue stayed full for %llu ms%s; dropping messages (counted) until it has room",
			(unsigned long long)((now - w->start) / 1000000),
			w->until < w->start + k->wait_ns ? " (stopping)" : "");
	return 0;
}

static int produce_one(struct col_kafka *k, const char *p, size_t len)
{
	struct room_wait w = { 0, 0 };
	rd_kafka_resp_err_t e;

	/* Bounded by wait_room's clock: it gives up at w.until. */
	for (;;) {
		e = rd_kafka_producev(k->rk, RD_KAFKA_V_RKT(k->rkt),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				      RD_KAFKA_V_VALUE((void *)p, len), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			add(&k->produced, 1);
			add(&k->produced_bytes, len);
			if (__atomic_load_n(&k->stalled, __ATOMIC_RELAXED) &&
			    __atomic_exchange_n(&k->stalled, 0, __ATOMIC_RELAXED))
				prog_log(PROG_LOG_WARN, "kafka: the producer queue has room again");
			return 0;
		}
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || !wait_room(k, &w))
			break;
	}
	produce_error(k, e);
	return -1;
}

size_t col_kafka_produce(struct col_kafka *k, const char *p, size_t n)
{
	const char *end = p + n;
	size_t lost = 0;

	/* Each round moves p forward by at least one byte. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len && produce_one(k, p, len))
			lost++;
		p += len + (nl != NULL);
	}
	return lost;
}

void col_kafka_deadline(struct col_kafka *k, uint64_t mono_ns)
{
	__atomic_store_n(&k->deadline_ns, mono_ns, __ATOMIC_RELAXED);
}

static uint64_t outstanding(struct col_kafka *k)
{
	uint64_t done = load(&k->delivered) + load(&k->delivery_errors), p = load(&k->produced);

	return p > done ? p - done : 0;
}

uint64_t col_kafka_flush(struct col_kafka *k, int timeout_ms)
{
	uint64_t left;

	if (k->polling) {
		__atomic_store_n(&k->poll_stop, 1, __ATOMIC_RELEASE);
		pthread_join(k->poller, NULL);
		k->polling = 0;
	}
	k->flushed = 1;
	if (rd_kafka_flush(k->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	left = outstanding(k);
	prog_log(PROG_LOG_ERROR, "kafka: %llu messages not delivered within %d ms; dropping them",
		(unsigned long long)left, timeout_ms);
	/* Their delivery reports (purged) count them as delivery errors. */
	rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	for (int i = 0; i < 100 && outstanding(k); i++)
		rd_kafka_poll(k->rk, 10);
	return left;
}

void col_kafka_stats(struct col_kafka *k, struct col_kafka_stats *s)
{
	s->produced = load(&k->produced);
	s->produced_bytes = load(&k->produced_bytes);
	s->delivered = load(&k->delivered);
	s->delivery_errors = load(&k->delivery_errors);
	for (int i = 0; i < COL_KAFKA_PE_MAX; i++)
		s->produce_errors[i] = load(&k->perr[i]);
	s->queue_full_waits = load(&k->waits);
	s->client_errors = load(&k->client_errors);
	s->queue_messages = (uint64_t)rd_kafka_outq_len(k->rk);
}

void col_kafka_close(struct col_kafka *k)
{
	struct col_kafka_stats s;
	uint64_t dropped = 0;

	if (!k)
		return;
	if (!k->flushed)
		col_kafka_flush(k, COL_KAFKA_FLUSH_MS);
	col_kafka_stats(k, &s);
	for (int i = 0; i < COL_KAFKA_PE_MAX; i++)
		dropped += s.produce_errors[i];
	prog_log(PROG_LOG_INFO,
		"kafka: %llu messages produced, %llu delivered, %llu delivery errors, %llu dropped before the queue",
		(unsigned long long)s.produced, (unsigned long long)s.delivered,
		(unsigned long long)s.delivery_errors, (unsigned long long)dropped);
	rd_kafka_topic_destroy(k->rkt);
	rd_kafka_destroy(k->rk);
	free(k);
}

/* ---- the output implementation (out.h) ---- */

/* Workers produce in parallel, without a lock: the counters are added to
 * atomically. One message a line: those produced reached the output. */
static int kout_write(struct col_out *o, const char *p, size_t n, uint64_t lines)
{
	size_t lost = col_kafka_produce(o->impl, p, n);

	col_out_add_mt(&o->flushes, 1);
	col_out_add_mt(&o->bytes, n);
	col_out_add_mt(&o->lines, lines > lost ? lines - lost : 0);
	if (lost) {
		col_out_add_mt(&o->lost[COL_LOST_WRITE_ERROR], lost);
		col_out_add_mt(&o->write_errors, 1);
	}
	return lost ? WEIR_E_IO : WEIR_OK;
}

static void kout_stopping(struct col_out *o, uint64_t now_ns)
{
	col_kafka_deadline(o->impl, now_ns + COL_KAFKA_STOP_WAIT_MS * 1000000ull);
}

static void kout_close(struct col_out *o)
{
	col_kafka_close(o->impl);
	o->impl = NULL;
}

/* No flush hook (a batch is produced in the worker's thread: librdkafka
 * queues by itself), no writer thread, nothing to reopen. */
static const struct col_out_ops kafka_ops = {
	.name = "kafka",
	.write = kout_write,
	.stopping = kout_stopping,
	.close = kout_close,
};

int col_out_open_kafka(struct col_out *o, const struct col_kafka_cfg *cfg, char *err,
		       size_t errlen)
{
	int code;

	memset(o, 0, sizeof(*o));
	o->impl = col_kafka_new(cfg, &code, err, errlen);
	if (!o->impl)
		return code;
	o->ops = &kafka_ops;
	prog_log(PROG_LOG_INFO, "kafka: producing to topic %s, brokers %s", cfg->topic, cfg->brokers);
	return WEIR_OK;
}

struct col_kafka *col_out_kafka(const struct col_out *o)
{
	return o && o->ops == &kafka_ops ? o->impl : NULL;
}
