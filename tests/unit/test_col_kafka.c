/* Unit tests of weir-collector's Kafka output (collector/kafka.c, its use in
 * out.c, the --kafka-* flags in cli.c, the weir_kafka_* metrics), against a
 * real Kafka protocol peer: librdkafka's mock cluster (rdkafka_mock.h),
 * started inside this process on 127.0.0.1, because Debian packages no
 * Kafka broker. What was produced is read back with an rdkafka consumer.
 *
 * Covered: flag parsing and its errors; a batch split into exactly one
 * message per line (no empty message, a last line without its newline);
 * a worker's batches in raw JSON, common JSON and CSV (no header row);
 * backpressure that waits rather than drops, the bound after which it drops
 * and counts, recovery; a broker down at start; produce errors by kind;
 * what a flush leaves undelivered; the metrics; and the binary end to end
 * (weir-generator -> weir-collector --kafka-brokers -> consumer) against
 * the generator's ledger, in JSON and CSV, and with no broker at all. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "flow_csv.h"
#include "kafka.h"
#include "metrics.h"
#include "out.h"
#include "worker.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

TestSuite(col_kafka, .init = suite_init, .fini = suite_fini);

/* ---- the flags ---- */

static char err[512];
static struct col_cfg cfg;

static enum col_cli_result parse(int argc, char **argv)
{
	FILE *out = fopen("/dev/null", "w");
	enum col_cli_result r;

	cr_assert_not_null(out);
	err[0] = 0;
	r = col_cli_parse(argc, argv, &cfg, out, err, sizeof(err));
	fclose(out);
	return r;
}

static void refuse(int argc, char **argv, const char *want)
{
	cr_assert_eq(parse(argc, argv), COL_CLI_USAGE, "accepted: %s %s", argv[1], argv[2]);
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err, want);
	col_cfg_free(&cfg);
}

Test(col_kafka, flags_both_spellings)
{
	char *a[] = { "weir-collector", "--kafka-brokers", "k1:9092,k2:9092", "--kafka-topic",
		      "netflow.v1", "--kafka-opt", "linger.ms=50", "--kafka_opt", "acks=1", NULL };
	char *b[] = { "weir-collector", "--kafka_brokers", "k1:9092", "--kafka_topic", "t_2", NULL };
	char *c[] = { "weir-collector", "--kafka-brokers", "k1:9092", NULL };
	char *d[] = { "weir-collector", NULL };

	cr_assert_eq(parse(ARGC(a), a), COL_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.kafka.brokers, "k1:9092,k2:9092");
	cr_assert_str_eq(cfg.kafka.topic, "netflow.v1");
	cr_assert_eq(cfg.kafka.nopts, 2);
	cr_assert_str_eq(cfg.kafka.opts[0], "linger.ms=50", "kept in order");
	cr_assert_str_eq(cfg.kafka.opts[1], "acks=1");
	cr_assert_null(cfg.output);
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(b), b), COL_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.kafka.brokers, "k1:9092");
	cr_assert_str_eq(cfg.kafka.topic, "t_2");
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(c), c), COL_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.kafka.topic, "flows", "the default topic");
	cr_assert_eq(cfg.kafka.nopts, 0);
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(d), d), COL_CLI_RUN, "%s", err);
	cr_assert_null(cfg.kafka.brokers, "no Kafka unless asked for");
	col_cfg_free(&cfg);
}

Test(col_kafka, flags_refused)
{
	char *o1[] = { "weir-collector", "--kafka-brokers", "k:9092", "-o", "f.json", NULL };
	char *o2[] = { "weir-collector", "--output", "f.json", "--kafka_brokers", "k:9092", NULL };
	char *t1[] = { "weir-collector", "--kafka-topic", "t", NULL };
	char *p1[] = { "weir-collector", "--kafka-opt", "acks=1", NULL };
	char *k1[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-opt", "no.such.property=1", NULL };
	char *k2[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-opt", "linger.ms=soon", NULL };
	char *k3[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-opt", "linger.ms", NULL };
	char *k4[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-opt", "=5", NULL };
	char *k5[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-opt", "bootstrap.servers=x:1", NULL };
	char *k6[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka_opt", "compression.codec=zip", NULL };
	char *n1[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-topic", "a b", NULL };
	char *n2[] = { "weir-collector", "--kafka-brokers", "k:9092", "--kafka-topic", "..", NULL };
	char *e1[] = { "weir-collector", "--kafka-brokers", "", NULL };

	refuse(ARGC(o1), o1, "exclude each other");
	refuse(ARGC(o2), o2, "exclude each other");
	refuse(ARGC(t1), t1, "--kafka-topic needs --kafka-brokers");
	refuse(ARGC(p1), p1, "--kafka-opt needs --kafka-brokers");
	refuse(ARGC(k1), k1, "--kafka-opt: 'no.such.property=1'");
	refuse(ARGC(k1), k1, "No such configuration property");
	refuse(ARGC(k2), k2, "--kafka-opt: 'linger.ms=soon'");
	refuse(ARGC(k3), k3, "'linger.ms' is not KEY=VALUE");
	refuse(ARGC(k4), k4, "'=5' is not KEY=VALUE");
	refuse(ARGC(k5), k5, "--kafka-brokers");
	refuse(ARGC(k6), k6, "--kafka_opt: 'compression.codec=zip'");
	refuse(ARGC(n1), n1, "--kafka-topic: 'a b' is not a Kafka topic name");
	refuse(ARGC(n2), n2, "is not a Kafka topic name");
	refuse(ARGC(e1), e1, "--kafka-brokers");
}

Test(col_kafka, help_names_the_flags)
{
	char *h[] = { "weir-collector", "--help", NULL };
	FILE *fp = fopen(path_of("help"), "w");
	char *s;

	cr_assert_eq(col_cli_parse(ARGC(h), h, &cfg, fp, err, sizeof(err)), COL_CLI_DONE);
	fclose(fp);
	col_cfg_free(&cfg);
	s = slurp(path_of("help"), NULL);
	cr_assert_not_null(strstr(s, "--kafka-brokers LIST"));
	cr_assert_not_null(strstr(s, "--kafka-topic NAME"));
	cr_assert_not_null(strstr(s, "--kafka-opt KEY=VALUE"));
	free(s);
}

/* ---- a mock cluster in this process, and a consumer ---- */

struct mock {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	char boot[256];
};

static void mock_start(struct mock *m, int brokers, const char *topic, int parts)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char e[256];

	cr_assert_eq(rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e)), RD_KAFKA_CONF_OK);
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
	cr_assert_not_null(m->rk, "%s", e);
	m->mc = rd_kafka_mock_cluster_new(m->rk, brokers);
	cr_assert_not_null(m->mc);
	cr_assert_eq(rd_kafka_mock_topic_create(m->mc, topic, parts, 1), 0);
	snprintf(m->boot, sizeof(m->boot), "%s", rd_kafka_mock_cluster_bootstraps(m->mc));
}

static void mock_stop(struct mock *m)
{
	rd_kafka_mock_cluster_destroy(m->mc);
	rd_kafka_destroy(m->rk);
}

struct msgs {
	char **v;
	size_t *len;
	size_t n, cap;
};

static void msgs_free(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	free(m->len);
	memset(m, 0, sizeof(*m));
}

/* Every message of topic's parts partitions, from the beginning to the end
 * (each partition at EOF, and at least want read), bounded by 15 s. */
static void consume(const char *boot, const char *topic, int parts, size_t want, struct msgs *out)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(parts);
	uint8_t eof[64] = { 0 };
	uint64_t deadline = now_ms() + 15000;
	rd_kafka_t *rk;
	char e[256];
	int at_end = 0;

	cr_assert_leq(parts, 64);
	memset(out, 0, sizeof(*out));
	cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", boot, e, sizeof(e)), 0, "%s", e);
	cr_assert_eq(rd_kafka_conf_set(conf, "group.id", "weir-test", e, sizeof(e)), 0, "%s", e);
	cr_assert_eq(rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof(e)), 0);
	cr_assert_eq(rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof(e)), 0);
	cr_assert_eq(rd_kafka_conf_set(conf, "log_level", "0", e, sizeof(e)), 0);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
	cr_assert_not_null(rk, "%s", e);
	for (int p = 0; p < parts; p++)
		rd_kafka_topic_partition_list_add(tp, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	cr_assert_eq(rd_kafka_assign(rk, tp), 0);
	rd_kafka_topic_partition_list_destroy(tp);
	while ((at_end < parts || out->n < want) && now_ms() < deadline) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (!m)
			continue;
		cr_assert(m->partition >= 0 && m->partition < parts, "partition %d", m->partition);
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (!eof[m->partition]++)
				at_end++;
		} else {
			cr_assert_eq(m->err, 0, "consume: %s", rd_kafka_message_errstr(m));
			if (eof[m->partition]) {
				eof[m->partition] = 0;
				at_end--;
			}
			if (out->n == out->cap) {
				out->cap = out->cap ? out->cap * 2 : 256;
				out->v = realloc(out->v, out->cap * sizeof(*out->v));
				out->len = realloc(out->len, out->cap * sizeof(*out->len));
			}
			out->v[out->n] = malloc(m->len + 1);
			memcpy(out->v[out->n], m->payload, m->len);
			out->v[out->n][m->len] = 0;
			out->len[out->n++] = m->len;
		}
		rd_kafka_message_destroy(m);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
}

/* A Kafka output on m's cluster with extra librdkafka properties. */
static void kout_open(struct col_out *o, struct col_kafka_cfg *kc, const struct mock *m,
		      const char *topic, const char **opts, unsigned nopts, unsigned wait_ms)
{
	char e[512];

	memset(kc, 0, sizeof(*kc));
	kc->brokers = m ? m->boot : "127.0.0.1:1";
	kc->topic = topic;
	kc->opts = opts;
	kc->nopts = nopts;
	kc->wait_ms = wait_ms;
	cr_assert_eq(col_out_open_kafka(o, kc, e, sizeof(e)), WEIR_OK, "%s", e);
	cr_assert_str_eq(o->ops->name, "kafka", "the Kafka implementation, chosen at open");
	cr_assert_not_null(col_out_kafka(o));
	cr_assert_eq(col_out_start_writer(o), WEIR_OK, "no writer thread: a no-op");
	cr_assert_eq(col_out_reopen(o, e, sizeof(e)), WEIR_OK, "nothing to reopen");
}

static struct col_kafka_stats kstats(struct col_out *o)
{
	struct col_kafka_stats s;

	col_kafka_stats(col_out_kafka(o), &s);
	return s;
}

/* ---- splitting a batch into messages ---- */

Test(col_kafka, one_message_per_line_exact_payloads)
{
	static const char *want[] = { "a", "bb", "ccc", "{\"x\":1}", "last without newline" };
	static const char *opts[] = { "linger.ms=5" };
	struct col_kafka_cfg kc;
	struct col_kafka_stats s;
	struct col_out o;
	struct mock m;
	struct msgs got;

	mock_start(&m, 1, "t1", 1);		/* one partition: order is kept */
	kout_open(&o, &kc, &m, "t1", opts, 1, 0);
	cr_assert_eq(col_out_write(&o, "a\n\nbb\n\n\nccc\n", 12), WEIR_OK);
	cr_assert_eq(col_out_write(&o, "\n\n\n", 3), WEIR_OK, "empty lines: no message");
	cr_assert_eq(col_out_write(&o, "{\"x\":1}\nlast without newline", 28), WEIR_OK);
	cr_assert_eq(o.flushes, 3);
	cr_assert_eq(o.bytes, 12 + 3 + 28);
	cr_assert_eq(o.writes, 0, "no write() for Kafka");
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0, "all delivered");
	s = kstats(&o);
	cr_assert_eq(s.produced, 5);
	cr_assert_eq(s.produced_bytes, 1 + 2 + 3 + 7 + 20);
	cr_assert_eq(s.delivered, 5);
	cr_assert_eq(s.delivery_errors, 0);
	cr_assert_eq(s.queue_messages, 0);
	col_out_close(&o);
	consume(m.boot, "t1", 1, 5, &got);
	cr_assert_eq(got.n, 5, "%zu messages", got.n);
	for (size_t i = 0; i < 5; i++) {
		cr_assert_eq(got.len[i], strlen(want[i]), "message %zu: %zu bytes", i, got.len[i]);
		cr_assert_str_eq(got.v[i], want[i]);
	}
	msgs_free(&got);
	mock_stop(&m);
}

/* ---- a worker's batches ---- */

/* A strict JSON validator (RFC 8259): *p advances past one value. */
static int json_value(const char **p, int depth);

static void json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int json_string(const char **p)
{
	if (*(*p)++ != '"')
		return -1;
	while (**p != '"') {
		unsigned char c = (unsigned char)**p;

		if (c < 0x20)
			return -1;
		if (c == '\\') {
			(*p)++;
			if (**p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", (*p)[i]) || !(*p)[i])
						return -1;
				*p += 4;
			} else if (!**p || !strchr("\"\\/bfnrt", **p)) {
				return -1;
			}
		}
		(*p)++;
	}
	(*p)++;
	return 0;
}

static int json_number(const char **p)
{
	const char *s = *p;

	if (**p == '-')
		(*p)++;
	if (**p == '0')
		(*p)++;
	else if (**p >= '1' && **p <= '9')
		while (**p >= '0' && **p <= '9')
			(*p)++;
	else
		return -1;
	if (**p == '.') {
		(*p)++;
		if (**p < '0' || **p > '9')
			return -1;
		while (**p >= '0' && **p <= '9')
			(*p)++;
	}
	if (**p == 'e' || **p == 'E') {
		(*p)++;
		if (**p == '+' || **p == '-')
			(*p)++;
		if (**p < '0' || **p > '9')
			return -1;
		while (**p >= '0' && **p <= '9')
			(*p)++;
	}
	return *p > s ? 0 : -1;
}

static int json_value(const char **p, int depth)
{
	char close;

	if (depth > 32)
		return -1;
	json_ws(p);
	switch (**p) {
	case '"':
		return json_string(p);
	case '{':
	case '[':
		close = **p == '{' ? '}' : ']';
		(*p)++;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				json_ws(p);
				if (json_string(p))
					return -1;
				json_ws(p);
				if (*(*p)++ != ':')
					return -1;
			}
			if (json_value(p, depth + 1))
				return -1;
			json_ws(p);
			if (**p == close) {
				(*p)++;
				return 0;
			}
			if (*(*p)++ != ',')
				return -1;
		}
	case 't':
		return strncmp(*p, "true", 4) ? -1 : (*p += 4, 0);
	case 'f':
		return strncmp(*p, "false", 5) ? -1 : (*p += 5, 0);
	case 'n':
		return strncmp(*p, "null", 4) ? -1 : (*p += 4, 0);
	default:
		return json_number(p);
	}
}

/* s is one JSON object and nothing else. */
static int json_object(const char *s)
{
	const char *p = s;

	json_ws(&p);
	if (*p != '{' || json_value(&p, 0))
		return 0;
	json_ws(&p);
	return *p == 0;
}

Test(col_kafka, json_validator_refuses)
{
	cr_assert(json_object("{\"a\":[1,2.5e3,-0,\"x\\u00e9\",true,null,{}]}"));
	cr_assert(!json_object("{\"a\":1,}"));
	cr_assert(!json_object("{\"a\":01}"));
	cr_assert(!json_object("{\"a\":1}\n{\"b\":2}"));
	cr_assert(!json_object("[1]"));
	cr_assert(!json_object("{\"a\":\"\x01\"}"));
	cr_assert(!json_object("{\"a\":1"));
}

/* Cells of one CSV line (no quoted cells in the common format). */
static size_t csv_cells(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == ',';
	return n;
}

static void worker_to_kafka(enum col_format fmt, enum col_ser ser)
{
	static uint8_t dg[24 + 48 * 30];
	static const char *opts[] = { "linger.ms=5" };
	const uint64_t datagrams = 200;
	struct col_kafka_cfg kc;
	struct col_cfg wc;
	struct col_shared sh;
	struct col_out o;
	struct col_worker *w;
	struct weir_exporter e = { .port = 2055 };
	struct mock m;
	struct msgs got;
	char e2[256], hdr[FLOW_CSV_MAX];
	size_t hlen = flow_csv_header(hdr, sizeof(hdr));

	mock_start(&m, 1, "w", 3);
	col_cfg_defaults(&wc);
	wc.format = fmt;
	wc.ser = ser;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.labels.mu, NULL);
	sh.cfg = &wc;
	sh.out = &o;
	sh.nw = 1;
	sh.w = &w;
	kout_open(&o, &kc, &m, "w", opts, 1, 0);
	w = col_worker_new(&sh, 0, e2, sizeof(e2));
	cr_assert_not_null(w, "%s", e2);
	weir_addr_v4u(&e.addr, 0xc0000201);
	for (uint64_t i = 0; i < datagrams; i++) {
		size_t n = v5_flows(dg, 30, (uint32_t)(i * 30));

		cr_assert_eq(col_worker_datagram(w, &e, dg, n, 1700000000000000000ull), WEIR_OK);
	}
	col_buf_flush(&w->buf);
	cr_assert_eq(w->c.records_out, datagrams * 30);
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0);
	cr_assert_eq(kstats(&o).produced, datagrams * 30);
	cr_assert_eq(kstats(&o).delivered, datagrams * 30);
	cr_assert_eq(o.write_errors, 0);
	col_worker_free(w);
	col_out_close(&o);

	consume(m.boot, "w", 3, datagrams * 30, &got);
	cr_assert_eq(got.n, datagrams * 30, "%zu messages", got.n);
	cr_assert_gt(hlen, 1);
	hdr[hlen - 1] = 0;
	for (size_t i = 0; i < got.n; i++) {
		const char *s = got.v[i];

		cr_assert_gt(got.len[i], 0, "an empty message");
		cr_assert_null(strchr(s, '\n'), "a newline in message %zu", i);
		cr_assert_eq(strlen(s), got.len[i], "a NUL in message %zu", i);
		if (ser == COL_S_CSV) {
			cr_assert_str_neq(s, hdr, "a header row in Kafka");
			cr_assert_eq(strncmp(s, "NETFLOW_V5,", 11), 0, "%s", s);
			cr_assert_eq(csv_cells(s), csv_cells(hdr), "%s", s);
		} else {
			cr_assert(json_object(s), "not one JSON object: %s", s);
			cr_assert_not_null(strstr(s, fmt == COL_F_RAW ? "\"sourceIPv4Address\":\"10.0.0."
							   : "\"src_addr\":\"10.0.0."), "%s", s);
		}
	}
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, worker_raw_json)
{
	worker_to_kafka(COL_F_RAW, COL_S_JSON);
}

Test(col_kafka, worker_common_json)
{
	worker_to_kafka(COL_F_COMMON, COL_S_JSON);
}

Test(col_kafka, worker_csv_without_header)
{
	worker_to_kafka(COL_F_COMMON, COL_S_CSV);
}

/* ---- backpressure ---- */

/* n lines "<prefix><i>\n" from i = first. */
static size_t lines(char *buf, size_t cap, const char *prefix, unsigned first, unsigned n)
{
	size_t len = 0;

	for (unsigned i = first; i < first + n; i++) {
		int k = snprintf(buf + len, cap - len, "%s%u\n", prefix, i);

		cr_assert(k > 0 && (size_t)k < cap - len);
		len += (size_t)k;
	}
	return len;
}

Test(col_kafka, full_queue_waits_rather_than_drops)
{
	static const char *opts[] = { "queue.buffering.max.messages=10", "linger.ms=0" };
	static char buf[16384];
	struct col_kafka_cfg kc;
	struct col_kafka_stats s;
	struct col_out o;
	struct mock m;
	struct msgs got;
	size_t n = lines(buf, sizeof(buf), "m", 0, 500);

	mock_start(&m, 1, "bp", 1);
	kout_open(&o, &kc, &m, "bp", opts, 2, 0);
	cr_assert_eq(col_out_write(&o, buf, n), WEIR_OK);
	s = kstats(&o);
	cr_assert_eq(s.produced, 500, "nothing dropped");
	cr_assert_gt(s.queue_full_waits, 0, "a queue of 10 made the worker wait");
	for (int k = 0; k < COL_KAFKA_PE_MAX; k++)
		cr_assert_eq(s.produce_errors[k], 0, "%s", col_kafka_perr_name(k));
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0);
	cr_assert_eq(kstats(&o).delivered, 500);
	col_out_close(&o);
	consume(m.boot, "bp", 1, 500, &got);
	cr_assert_eq(got.n, 500);
	cr_assert_str_eq(got.v[0], "m0");
	cr_assert_str_eq(got.v[499], "m499", "in order on one partition");
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, broker_down_bound_then_drop_then_recover)
{
	static const char *opts[] = { "queue.buffering.max.messages=10", "linger.ms=0",
				      "reconnect.backoff.ms=20", "reconnect.backoff.max.ms=100" };
	static char buf[4096];
	struct col_kafka_cfg kc;
	struct col_kafka_stats s;
	struct col_out o;
	struct mock m;
	struct msgs got;
	uint64_t t0, took;
	size_t n;

	mock_start(&m, 1, "down", 1);
	/* Down before the producer ever connects: the collector starts all
	 * the same and queues. */
	cr_assert_eq(rd_kafka_mock_broker_set_down(m.mc, -1), 0);
	kout_open(&o, &kc, &m, "down", opts, 4, 300);
	n = lines(buf, sizeof(buf), "d", 0, 30);
	t0 = now_ms();
	cr_assert_eq(col_out_write(&o, buf, n), WEIR_E_IO, "messages were lost");
	took = now_ms() - t0;
	s = kstats(&o);
	cr_assert_eq(s.produced, 10, "the queue took 10");
	cr_assert_eq(s.produce_errors[COL_KAFKA_PE_QUEUE_FULL], 20, "the other 20 dropped, counted");
	cr_assert_eq(s.queue_full_waits, 1, "only the first waited: then the output is stalled");
	cr_assert_geq(took, 290, "it waited its bound (%llu ms)", (unsigned long long)took);
	cr_assert_lt(took, 3000, "and not 20 times (%llu ms)", (unsigned long long)took);
	cr_assert_eq(o.write_errors, 1);
	cr_assert_eq(s.delivered, 0);

	/* The broker comes back: the queue drains, the stall ends. */
	cr_assert_eq(rd_kafka_mock_broker_set_up(m.mc, -1), 0);
	for (int i = 0; i < 500 && kstats(&o).delivered < 10; i++)
		sleep_ms(10);
	cr_assert_eq(kstats(&o).delivered, 10);
	n = lines(buf, sizeof(buf), "d", 30, 5);
	cr_assert_eq(col_out_write(&o, buf, n), WEIR_OK);
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0);
	s = kstats(&o);
	cr_assert_eq(s.produced, 15);
	cr_assert_eq(s.delivered, 15);
	cr_assert_eq(s.produce_errors[COL_KAFKA_PE_QUEUE_FULL], 20);
	cr_assert_eq(s.delivery_errors, 0);
	cr_assert_gt(s.client_errors, 0, "the refused connections were counted");
	col_out_close(&o);
	consume(m.boot, "down", 1, 15, &got);
	cr_assert_eq(got.n, 15);
	for (unsigned i = 0; i < 15; i++) {
		char want[16];

		snprintf(want, sizeof(want), "d%u", i < 10 ? i : i + 20);
		cr_assert_str_eq(got.v[i], want);
	}
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, stop_deadline_ends_waits)
{
	static const char *opts[] = { "queue.buffering.max.messages=5" };
	static char buf[1024];
	struct col_kafka_cfg kc;
	struct col_out o;
	uint64_t t0;
	size_t n = lines(buf, sizeof(buf), "s", 0, 8);

	kout_open(&o, &kc, NULL, "flows", opts, 1, 60000);	/* nobody listens on port 1 */
	col_kafka_deadline(col_out_kafka(&o), 1);			/* long past */
	t0 = now_ms();
	cr_assert_eq(col_out_write(&o, buf, n), WEIR_E_IO);
	cr_assert_lt(now_ms() - t0, 1000, "no wait past the deadline");
	cr_assert_eq(kstats(&o).produced, 5);
	cr_assert_eq(kstats(&o).produce_errors[COL_KAFKA_PE_QUEUE_FULL], 3);
	/* Nothing can be delivered: the flush gives up and counts them. */
	t0 = now_ms();
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 300), 5, "5 left undelivered");
	cr_assert_lt(now_ms() - t0, 3000);
	cr_assert_eq(kstats(&o).delivery_errors, 5, "purged: delivery errors");
	cr_assert_eq(kstats(&o).queue_messages, 0);
	col_out_close(&o);
}

Test(col_kafka, produce_errors_by_kind)
{
	static const char *opts[] = { "message.max.bytes=1000", "linger.ms=0" };
	static char buf[4096];
	struct col_kafka_cfg kc;
	struct col_kafka_stats s;
	struct col_out o;
	struct mock m;
	struct msgs got;
	size_t n;

	mock_start(&m, 1, "big", 1);
	kout_open(&o, &kc, &m, "big", opts, 2, 0);
	memcpy(buf, "small\n", 6);
	memset(buf + 6, 'x', 2000);
	memcpy(buf + 2006, "\nsmall2\n", 8);
	n = 2014;
	cr_assert_eq(col_out_write(&o, buf, n), WEIR_E_IO);
	s = kstats(&o);
	cr_assert_eq(s.produce_errors[COL_KAFKA_PE_TOO_LARGE], 1);
	cr_assert_eq(s.produce_errors[COL_KAFKA_PE_QUEUE_FULL], 0);
	cr_assert_eq(s.produced, 2, "the lines around it went");
	cr_assert_eq(o.write_errors, 1);
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0);
	col_out_close(&o);
	consume(m.boot, "big", 1, 2, &got);
	cr_assert_eq(got.n, 2);
	cr_assert_str_eq(got.v[0], "small");
	cr_assert_str_eq(got.v[1], "small2");
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, configuration_refused_at_start)
{
	static const char *opts[] = { "enable.idempotence=true", "acks=1" };
	struct col_kafka_cfg kc = { .brokers = "127.0.0.1:1", .topic = "flows", .opts = opts,
				    .nopts = 2 };
	struct col_out o;
	char e[512];

	/* Each is a valid value; together librdkafka refuses them. */
	cr_assert_eq(col_out_open_kafka(&o, &kc, e, sizeof(e)), WEIR_E_INVALID);
	cr_assert_not_null(strstr(e, "idempotence"), "%s", e);
}

/* ---- metrics ---- */

Test(col_kafka, metrics_only_with_kafka)
{
	static const char *opts[] = { "linger.ms=0" };
	struct col_kafka_cfg kc;
	struct col_cfg mc;
	struct col_shared sh;
	struct col_out o;
	struct prog_text t = { 0 };
	struct mock m;

	col_cfg_defaults(&mc);
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.labels.mu, NULL);
	sh.cfg = &mc;
	cr_assert_eq(col_metrics_render(&sh, &t), WEIR_OK);
	cr_assert_null(strstr(t.p, "weir_kafka_"), "no Kafka metrics without Kafka");
	prog_text_free(&t);

	mock_start(&m, 1, "mt", 1);
	kout_open(&o, &kc, &m, "mt", opts, 1, 0);
	sh.out = &o;
	cr_assert_eq(col_out_write(&o, "1\n22\n333\n", 9), WEIR_OK);
	cr_assert_eq(col_kafka_flush(col_out_kafka(&o), 5000), 0);
	cr_assert_eq(col_metrics_render(&sh, &t), WEIR_OK);
	cr_assert_eq(metric(t.p, "weir_kafka_messages_produced_total"), 3, "%s", t.p);
	cr_assert_eq(metric(t.p, "weir_kafka_produced_bytes_total"), 6);
	cr_assert_eq(metric(t.p, "weir_kafka_messages_delivered_total"), 3);
	cr_assert_eq(metric(t.p, "weir_kafka_delivery_errors_total"), 0);
	cr_assert_eq(metric(t.p, "weir_kafka_queue_messages"), 0);
	cr_assert_eq(metric(t.p, "weir_kafka_queue_full_waits_total"), 0);
	for (int k = 0; k < COL_KAFKA_PE_MAX; k++) {
		char series[128];

		snprintf(series, sizeof(series), "weir_kafka_produce_errors_total{kind=\"%s\"}",
			 col_kafka_perr_name(k));
		cr_assert_eq(metric(t.p, series), 0, "%s", series);
	}
	cr_assert_not_null(strstr(t.p, "# TYPE weir_kafka_queue_messages gauge\n"));
	cr_assert_not_null(strstr(t.p, "# TYPE weir_kafka_messages_delivered_total counter\n"));
	cr_assert_eq(metric(t.p, "weir_output_flushes_total"), 1);
	prog_text_free(&t);
	col_out_close(&o);
	mock_stop(&m);
}

/* ---- the binary ---- */

struct run {
	pid_t pid;
	uint16_t port, mport;
	char page[1 << 16];
};

/* weir-collector --kafka-brokers boot with args (NULL-terminated), up and
 * serving /healthz; its stderr in path_of(log). */
static void collector_start(struct run *r, const char *boot, const char *topic, const char *log,
			    char *const *args)
{
	char ps[8], ms[8];
	char *argv[32];
	int n = 0;

	r->port = free_port(SOCK_DGRAM);
	r->mport = free_port(SOCK_STREAM);
	snprintf(ps, sizeof(ps), "%u", r->port);
	snprintf(ms, sizeof(ms), "%u", r->mport);
	argv[n++] = "weir-collector";
	argv[n++] = "-p";
	argv[n++] = ps;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--metrics-port";
	argv[n++] = ms;
	argv[n++] = "--kafka-brokers";
	argv[n++] = (char *)boot;
	argv[n++] = "--kafka-topic";
	argv[n++] = (char *)topic;
	while (*args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	r->pid = spawn(argv, path_of(log), "WEIR_LOG=info");
	cr_assert(wait_up(r->pid, r->mport, r->page, sizeof(r->page), path_of(log), 5000),
		  "the collector did not come up (see %s)", path_of(log));
}

static void collector_stop(struct run *r)
{
	int status = term_wait(r->pid);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

/* Scrape until delivered reaches want (bounded); then produced, delivered
 * and the queue must be exact. */
static void wait_delivered(struct run *r, unsigned long long want)
{
	scrape_until(r->mport, r->page, sizeof(r->page), "weir_kafka_messages_delivered_total",
		     (long long)want, 5000);
	cr_assert_eq(metric(r->page, "weir_kafka_messages_delivered_total"), (long long)want);
	cr_assert_eq(metric(r->page, "weir_kafka_messages_produced_total"), (long long)want);
	cr_assert_eq(metric(r->page, "weir_kafka_delivery_errors_total"), 0);
	cr_assert_eq(metric(r->page, "weir_records_written_total"), (long long)want);
	cr_assert_eq(metric(r->page, "weir_kafka_produce_errors_total{kind=\"queue_full\"}"), 0);
}

/* The JSON number after "key": in s. */
static unsigned long long json_num(const char *s, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(s, pat);
	cr_assert_not_null(p, "%s not in %s", key, s);
	return strtoull(p + strlen(pat), NULL, 10);
}

Test(col_kafka, binary_json_end_to_end)
{
	static struct run r;
	char *args[] = { "-w", "2", "-f", "common", NULL };
	const char *ledger = path_of("json-ledger.json");
	unsigned long long flows, bytes = 0, packets = 0;
	struct mock m;
	struct msgs got;

	mock_start(&m, 3, "flows", 3);
	collector_start(&r, m.boot, "flows", "json.log", args);
	generate(r.port, NULL, "--protocol v9 -n 200 -r 20000 --exporters 4 --seed 5", ledger);
	flows = ledger_total(ledger, "flow_records");
	cr_assert_eq(flows, 2000);
	wait_delivered(&r, flows);
	collector_stop(&r);

	consume(m.boot, "flows", 3, flows, &got);
	cr_assert_eq(got.n, flows, "%zu messages, %llu flows in the ledger", got.n, flows);
	for (size_t i = 0; i < got.n; i++) {
		cr_assert(json_object(got.v[i]), "not one JSON object: %s", got.v[i]);
		cr_assert_not_null(strstr(got.v[i], "{\"type\":\"NETFLOW_V9\","), "%s", got.v[i]);
		cr_assert_not_null(strstr(got.v[i], "\"src_addr\":\"10."), "%s", got.v[i]);
		cr_assert_not_null(strstr(got.v[i], "\"dst_addr\":\"192.168."), "%s", got.v[i]);
		bytes += json_num(got.v[i], "bytes");
		packets += json_num(got.v[i], "packets");
	}
	cr_assert_eq(bytes, ledger_total(ledger, "bytes"));
	cr_assert_eq(packets, ledger_total(ledger, "flow_packets"));
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, binary_csv_end_to_end)
{
	static struct run r;
	char *args[] = { "-w", "1", "-f", "common", "-s", "csv", NULL };
	const char *ledger = path_of("csv-ledger.json");
	char hdr[FLOW_CSV_MAX];
	size_t hlen = flow_csv_header(hdr, sizeof(hdr));
	unsigned long long flows;
	struct mock m;
	struct msgs got;

	cr_assert_gt(hlen, 1);
	hdr[hlen - 1] = 0;
	mock_start(&m, 1, "csv", 2);
	collector_start(&r, m.boot, "csv", "csv.log", args);
	generate(r.port, NULL, "--protocol ipfix -n 50 -r 20000 --seed 6", ledger);
	flows = ledger_total(ledger, "flow_records");
	cr_assert_eq(flows, 500);
	wait_delivered(&r, flows);
	collector_stop(&r);

	consume(m.boot, "csv", 2, flows, &got);
	cr_assert_eq(got.n, flows, "%zu messages: no header row, one per flow", got.n);
	for (size_t i = 0; i < got.n; i++) {
		cr_assert_eq(strncmp(got.v[i], "IPFIX,", 6), 0, "%s", got.v[i]);
		cr_assert_eq(csv_cells(got.v[i]), csv_cells(hdr), "%s", got.v[i]);
		cr_assert_null(strchr(got.v[i], '\n'));
	}
	msgs_free(&got);
	mock_stop(&m);
}

Test(col_kafka, binary_broker_down_at_start)
{
	static struct run r;
	char *args[] = { "-w", "1", "-f", "common", "--kafka-opt", "message.timeout.ms=1000", NULL };
	char boot[32], cmd[256];
	uint64_t t0;

	/* A port nobody listens on. */
	snprintf(boot, sizeof(boot), "127.0.0.1:%u", free_port(SOCK_STREAM));
	collector_start(&r, boot, "flows", "down.log", args);
	generate(r.port, NULL, "--protocol v5 -n 3 -f 10 -r 1000", path_of("down-ledger.json"));
	scrape_until(r.mport, r.page, sizeof(r.page), "weir_kafka_messages_produced_total", 30, 3000);
	cr_assert_eq(metric(r.page, "weir_kafka_messages_produced_total"), 30, "queued");
	cr_assert_eq(metric(r.page, "weir_kafka_messages_delivered_total"), 0);
	cr_assert_gt(metric(r.page, "weir_kafka_client_errors_total"), 0, "the refusals counted");
	t0 = now_ms();
	collector_stop(&r);
	cr_assert_lt(now_ms() - t0, 8000, "exit within the message timeout and the flush bound");
	snprintf(cmd, sizeof(cmd), "grep -q 'delivery to flows failed' '%s' && "
		 "grep -q '30 messages produced, 0 delivered, 30 delivery errors' '%s'",
		 path_of("down.log"), path_of("down.log"));
	cr_assert_eq(system(cmd), 0, "the log says what was lost: %s", cmd);
}

Test(col_kafka, binary_usage_errors)
{
	static const char *const cases[][2] = {
		{ "--kafka-brokers 127.0.0.1:1 -o x.json", "exclude each other" },
		{ "--kafka-brokers 127.0.0.1:1 --kafka-opt no.such=1", "no.such" },
		/* Refused by rd_kafka_new(), after the flags: exit 2 as well. */
		{ "--kafka-brokers 127.0.0.1:1 --kafka-opt enable.idempotence=true --kafka-opt acks=1",
		  "--kafka-opt:" },
	};
	char cmd[512];
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s/weir-collector --metrics-port 0 -p %u %s 2>'%s'",
			 COL_TEST_BIN, free_port(SOCK_DGRAM), cases[i][0], path_of("u.err"));
		st = system(cmd);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d", cases[i][0], st);
		snprintf(cmd, sizeof(cmd), "grep -q -- '%s' '%s'", cases[i][1], path_of("u.err"));
		cr_assert_eq(system(cmd), 0, "%s: the error lacks '%s'", cases[i][0], cases[i][1]);
	}
}
