/* Unit tests of the collector's output (collector/out.c) and the worker's
 * batching (collector/worker.c): one write() per flush, batches of several
 * threads that never mix, the CSV header once per file, reopen (SIGHUP),
 * write errors counted. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "flow_json.h"
#include "kafka.h"
#include "out.h"
#include "worker.h"

TestSuite(col_out, .init = suite_init, .fini = suite_fini);

static size_t count_lines(const char *s, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);

	for (const char *l = s; *l; ) {
		const char *e = strchr(l, '\n');

		cr_assert_not_null(e, "last line not terminated");
		if (!strncmp(l, prefix, pl))
			n++;
		l = e + 1;
	}
	return n;
}

Test(col_out, one_write_per_flush)
{
	struct col_out o;
	struct col_buf b;
	char err[256], *s;
	size_t len;

	cr_assert_eq(col_out_open(&o, path_of("a.json"), NULL, 0, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_str_eq(o.ops->name, "file", "the file implementation, chosen at open");
	cr_assert_null(col_out_kafka(&o), "not a Kafka output");
	cr_assert_eq(col_buf_init(&b, &o, 4096), WEIR_OK);
	for (int i = 0; i < 50; i++)
		b.len += (size_t)sprintf(b.p + b.len, "{\"n\":%d}\n", i);
	cr_assert_eq(o.writes, 0, "nothing written before the flush");
	cr_assert_eq(col_buf_flush(&b), WEIR_OK);
	cr_assert_eq(o.flushes, 1);
	cr_assert_eq(o.writes, 1, "50 lines, one write()");
	cr_assert_eq(col_buf_flush(&b), WEIR_OK);
	cr_assert_eq(o.writes, 1, "an empty batch writes nothing");
	col_buf_free(&b);
	col_out_close(&o);
	s = slurp(path_of("a.json"), &len);
	cr_assert_eq(count_lines(s, "{\"n\":"), 50);
	cr_assert(strstr(s, "{\"n\":49}\n") != NULL);
	cr_assert_eq(o.bytes, len);
	free(s);
}

Test(col_out, tick_flushes_after_100ms)
{
	struct col_out o;
	struct col_buf b;
	char err[256];

	cr_assert_eq(col_out_open(&o, path_of("t.json"), NULL, 0, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_buf_init(&b, &o, 4096), WEIR_OK);
	b.first_ns = 1000000000ull;
	b.len = (size_t)sprintf(b.p, "x\n");
	col_buf_tick(&b, b.first_ns + COL_FLUSH_NS - 1);
	cr_assert_eq(o.writes, 0, "younger than 100 ms: kept");
	col_buf_tick(&b, b.first_ns + COL_FLUSH_NS);
	cr_assert_eq(o.writes, 1, "100 ms old: flushed");
	cr_assert_eq(b.len, 0);
	col_buf_free(&b);
	col_out_close(&o);
}

Test(col_out, appends)
{
	struct col_out o;
	char err[256], *s;
	size_t len;
	FILE *fp = fopen(path_of("ap.json"), "w");

	fputs("old line\n", fp);
	fclose(fp);
	cr_assert_eq(col_out_open(&o, path_of("ap.json"), NULL, 0, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_out_write(&o, "new line\n", 9), WEIR_OK);
	col_out_close(&o);
	s = slurp(path_of("ap.json"), &len);
	cr_assert_str_eq(s, "old line\nnew line\n");
	free(s);
}

Test(col_out, csv_header_once_and_on_reopen)
{
	static const char hdr[] = "type,bytes\n";
	struct col_out o;
	char err[256], *s;
	size_t len;

	cr_assert_eq(col_out_open(&o, path_of("f.csv"), hdr, strlen(hdr), err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_out_write(&o, "IPFIX,1\n", 8), WEIR_OK);
	/* SIGHUP without a rotation: same, non-empty file, no second header. */
	cr_assert_eq(col_out_reopen(&o, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(col_out_write(&o, "IPFIX,2\n", 8), WEIR_OK);
	/* logrotate: the file moves away, SIGHUP, a new file with a header. */
	cr_assert_eq(rename(path_of("f.csv"), path_of("f.csv.1")), 0);
	cr_assert_eq(col_out_write(&o, "IPFIX,3\n", 8), WEIR_OK, "still the old file");
	cr_assert_eq(col_out_reopen(&o, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(col_out_write(&o, "IPFIX,4\n", 8), WEIR_OK);
	cr_assert_eq(o.reopens, 2);
	col_out_close(&o);
	s = slurp(path_of("f.csv.1"), &len);
	cr_assert_str_eq(s, "type,bytes\nIPFIX,1\nIPFIX,2\nIPFIX,3\n");
	free(s);
	s = slurp(path_of("f.csv"), &len);
	cr_assert_str_eq(s, "type,bytes\nIPFIX,4\n");
	free(s);
	/* Reopening an existing non-empty file on start: no header either. */
	cr_assert_eq(col_out_open(&o, path_of("f.csv"), hdr, strlen(hdr), err, sizeof(err)), WEIR_OK);
	col_out_close(&o);
	s = slurp(path_of("f.csv"), &len);
	cr_assert_eq(count_lines(s, "type,"), 1);
	free(s);
}

Test(col_out, reopen_failure_keeps_the_old_file)
{
	struct col_out o;
	char err[256], dir[160], file[200], *s;
	size_t len;

	snprintf(dir, sizeof(dir), "%s/sub", tmpdir);
	snprintf(file, sizeof(file), "%s/x.json", dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	cr_assert_eq(col_out_open(&o, file, NULL, 0, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(rename(dir, path_of("moved")), 0);
	cr_assert_neq(col_out_reopen(&o, err, sizeof(err)), WEIR_OK, "the directory is gone");
	cr_assert_not_null(strstr(err, "cannot open"), "%s", err);
	cr_assert_eq(col_out_write(&o, "kept\n", 5), WEIR_OK);
	col_out_close(&o);
	snprintf(file, sizeof(file), "%s/moved/x.json", tmpdir);
	s = slurp(file, &len);
	cr_assert_str_eq(s, "kept\n");
	free(s);
}

Test(col_out, open_failure_says_why)
{
	struct col_out o;
	char err[256];

	cr_assert_eq(col_out_open(&o, "/nonexistent-dir/x.json", NULL, 0, err, sizeof(err)),
		     WEIR_E_IO);
	cr_assert_not_null(strstr(err, "/nonexistent-dir/x.json"), "%s", err);
}

Test(col_out, write_errors_counted)
{
	struct col_out o;
	char err[256];

	if (access("/dev/full", W_OK) < 0)
		SKIP("/dev/full absent");
	cr_assert_eq(col_out_open(&o, "/dev/full", NULL, 0, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(col_out_write(&o, "a\n", 2), WEIR_E_IO);
	cr_assert_eq(col_out_write(&o, "b\n", 2), WEIR_E_IO);
	cr_assert_eq(o.write_errors, 2);
	cr_assert_eq(o.bytes, 0);
	col_out_close(&o);
}

/* A full disk (here RLIMIT_FSIZE, which makes write() take part of a batch
 * and then fail with EFBIG, as ENOSPC does) must leave whole lines only:
 * the cut line is taken back, and when room comes back the next batch does
 * not start glued to it. What reached the file is counted as written, the
 * rest as lost. */
static size_t fill_batch(struct col_buf *b, unsigned *next, unsigned lines)
{
	for (unsigned i = 0; i < lines; i++, (*next)++) {
		int d = snprintf(NULL, 0, "%u", *next);

		/* 100 bytes a line */
		b->len += (size_t)sprintf(b->p + b->len, "{\"n\":%u,\"pad\":\"%0*u\"}\n", *next,
					  84 - d, *next);
	}
	return lines;
}

Test(col_out, full_disk_leaves_whole_lines)
{
	struct rlimit rl, small;
	struct col_out o;
	struct col_buf b;
	char err[256], *s;
	size_t len, sent = 0, got = 0;
	unsigned next = 0, want = 0;

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	cr_assert_eq(col_out_open(&o, path_of("full.json"), NULL, 0, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_buf_init(&b, &o, 1 << 16), WEIR_OK);
	small = rl;
	small.rlim_cur = 10050;		/* 100.5 lines of 100 bytes */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0, "%s", strerror(errno));
	for (int i = 0; i < 8; i++) {
		sent += fill_batch(&b, &next, 33);	/* the 4th batch is cut in its 2nd line */
		col_buf_flush(&b);
	}
	cr_assert_gt(o.write_errors, 0, "the limit refused writes");
	/* Room again: the next batch must start on a line of its own. */
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	sent += fill_batch(&b, &next, 5);
	cr_assert_eq(col_buf_flush(&b), WEIR_OK);
	col_buf_free(&b);
	col_out_close(&o);

	s = slurp(path_of("full.json"), &len);
	for (char *l = s, *e; *l; l = e + 1, got++) {
		unsigned n, m;
		int end = 0;

		e = strchr(l, '\n');
		cr_assert_not_null(e, "the last line is cut: %s", l);
		*e = '\0';
		cr_assert_eq(sscanf(l, "{\"n\":%u,\"pad\":\"%u\"}%n", &n, &m, &end), 2,
			     "line %zu is not a whole record: %s", got, l);
		cr_assert_eq((size_t)end, strlen(l), "line %zu has more after it: %s", got, l);
		cr_assert_eq(n, m, "line %zu mixes two records: %s", got, l);
		/* The first three batches, then the last one. */
		want = got < 100 ? (unsigned)got : (unsigned)(8 * 33 + got - 100);
		cr_assert_eq(n, want, "line %zu: record %u, want %u", got, n, want);
	}
	cr_assert_eq(got, 100 + 5, "3 batches, a line of the 4th, the last; %zu lines", got);
	cr_assert_eq(o.lines, got, "written = lines in the file");
	cr_assert_eq(o.lines + o.lost[COL_LOST_WRITE_ERROR], sent, "written + lost = formatted");
	cr_assert_eq(o.bytes, len);
	free(s);
}

/* Two threads, each with its own batch of whole lines of one letter: in the
 * file every line is whole and of one letter. */
struct mixer {
	struct col_out *o;
	char letter;
};

static void *mix_thread(void *arg)
{
	struct mixer *m = arg;
	struct col_buf b;

	cr_assert_eq(col_buf_init(&b, m->o, 1 << 16), WEIR_OK);
	for (int round = 0; round < 200; round++) {
		while (b.cap - b.len > 101) {
			memset(b.p + b.len, m->letter, 99);
			b.p[b.len + 99] = '\n';
			b.len += 100;
		}
		col_buf_flush(&b);
	}
	col_buf_free(&b);
	return NULL;
}

Test(col_out, batches_never_mix)
{
	struct col_out o;
	struct mixer m[2];
	pthread_t t[2];
	char err[256], *s;
	size_t len, lines = 0;

	cr_assert_eq(col_out_open(&o, path_of("mix"), NULL, 0, err, sizeof(err)), WEIR_OK);
	for (int i = 0; i < 2; i++) {
		m[i].o = &o;
		m[i].letter = (char)('a' + i);
		cr_assert_eq(pthread_create(&t[i], NULL, mix_thread, &m[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert_eq(o.flushes, 400);
	cr_assert_eq(o.writes, 400, "one write per flush");
	col_out_close(&o);
	s = slurp(path_of("mix"), &len);
	cr_assert_eq(len % 100, 0);
	for (size_t off = 0; off < len; off += 100, lines++) {
		cr_assert_eq(s[off + 99], '\n');
		for (int k = 1; k < 99; k++)
			cr_assert_eq(s[off + k], s[off], "line %zu mixes", lines);
	}
	cr_assert_eq(lines, 2 * 200 * (size_t)((65536 - 101) / 100 + 1));
	free(s);
}

/* The writer thread: batches of two threads, each line numbered by its
 * thread, come out whole, complete, in each thread's order, one write() a
 * batch; the queue is empty after close. */
struct seq_writer {
	struct col_out *o;
	char letter;
	unsigned lines;
};

static void *seq_thread(void *arg)
{
	struct seq_writer *m = arg;
	struct col_buf b;
	unsigned n = 0;

	cr_assert_eq(col_buf_init(&b, m->o, 1 << 16), WEIR_OK);
	for (int round = 0; round < 300; round++) {
		while (b.cap - b.len > 32)
			b.len += (size_t)sprintf(b.p + b.len, "%c %09u\n", m->letter, n++);
		cr_assert_eq(col_buf_flush(&b), WEIR_OK);
		cr_assert_eq(b.len, 0);
		cr_assert_geq(b.cap, (size_t)1 << 16, "the buffer handed back is as large");
	}
	m->lines = n;
	col_buf_free(&b);
	return NULL;
}

Test(col_out, writer_thread_keeps_order_and_loses_nothing)
{
	struct col_out o;
	struct seq_writer m[2];
	pthread_t t[2];
	unsigned next[2] = { 0, 0 };
	char err[256], *s, *line, *save = NULL;
	unsigned nchunks = 0;
	size_t len;

	cr_assert_eq(col_out_open(&o, path_of("seq"), NULL, 0, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_out_start_writer(&o), WEIR_OK);
	cr_assert(col_out_file_writer(&o, &nchunks), "the writer thread runs");
	for (int i = 0; i < 2; i++) {
		m[i].o = &o;
		m[i].letter = (char)('a' + i);
		cr_assert_eq(pthread_create(&t[i], NULL, seq_thread, &m[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	cr_assert(col_out_file_writer(&o, &nchunks));
	col_out_close(&o);
	cr_assert_eq(o.flushes, 600);
	cr_assert_eq(o.writes, 600, "one write per batch");
	cr_assert_eq(o.queued_bytes, 0);
	cr_assert_gt(nchunks, 0);
	cr_assert_leq((size_t)nchunks * (1 << 16), (size_t)COL_OUT_QUEUE_MAX, "the queue is bounded");
	s = slurp(path_of("seq"), &len);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned k, v;

		cr_assert_eq(strlen(line), 11, "whole line: '%s'", line);
		k = (unsigned)(line[0] - 'a');
		cr_assert_lt(k, 2);
		v = (unsigned)strtoul(line + 2, NULL, 10);
		cr_assert_eq(v, next[k], "thread %c: line %u after %u", line[0], v, next[k]);
		next[k]++;
	}
	cr_assert_eq(next[0], m[0].lines);
	cr_assert_eq(next[1], m[1].lines);
	free(s);
}

/* ---- a worker's batching: records into one buffer, a write per flush ---- */

static void worker_batching(enum col_format fmt, enum col_ser ser, const char *name)
{
	static uint8_t dg[24 + 48 * 30];
	struct col_cfg cfg;
	struct col_shared sh;
	struct col_out o;
	struct col_worker *w;
	struct weir_exporter e = { .port = 2055 };
	char err[256], *s;
	size_t len, n, per_flush;
	uint64_t datagrams = 400;

	col_cfg_defaults(&cfg);
	cfg.format = fmt;
	cfg.ser = ser;
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.labels.mu, NULL);
	sh.cfg = &cfg;
	sh.out = &o;
	sh.nw = 1;
	sh.w = &w;
	cr_assert_eq(col_out_open(&o, path_of(name), NULL, 0, err, sizeof(err)), WEIR_OK);
	w = col_worker_new(&sh, 0, err, sizeof(err));
	cr_assert_not_null(w, "%s", err);
	weir_addr_v4u(&e.addr, 0xc0000201);
	for (uint64_t i = 0; i < datagrams; i++) {
		n = v5_flows(dg, 30, (uint32_t)(i * 30));
		cr_assert_eq(col_worker_datagram(w, &e, dg, n, 1700000000000000000ull), WEIR_OK);
	}
	cr_assert_eq(w->c.records_out, datagrams * 30);
	col_buf_flush(&w->buf);
	cr_assert_eq(o.writes, o.flushes, "one write() per flush");
	/* A flush happens only when less than COL_BUF_LOW is free. */
	per_flush = COL_BUF_SIZE - COL_BUF_LOW - FLOW_JSON_MAX;
	cr_assert_leq(o.flushes, o.bytes / per_flush + 1, "%llu flushes for %llu bytes",
		      (unsigned long long)o.flushes, (unsigned long long)o.bytes);
	cr_assert_eq(w->ctx.errors[-WEIR_E_COUNT], 0);
	cr_assert_eq(w->c.datagrams[COL_P_NF5], datagrams);
	col_worker_free(w);
	col_out_close(&o);
	s = slurp(path_of(name), &len);
	cr_assert_eq(len, o.bytes);
	cr_assert_eq(count_lines(s, ser == COL_S_CSV ? "NETFLOW_V5," : "{"), datagrams * 30);
	free(s);
}

Test(col_out, worker_batches_raw_json)
{
	worker_batching(COL_F_RAW, COL_S_JSON, "w-raw.json");
}

Test(col_out, worker_batches_common_json)
{
	worker_batching(COL_F_COMMON, COL_S_JSON, "w-common.json");
}

Test(col_out, worker_batches_common_csv)
{
	worker_batching(COL_F_COMMON, COL_S_CSV, "w-common.csv");
}

/* A worker whose batches the writer cannot take (the queue is full, the
 * FIFO's reader reads nothing) must not wait forever once the collector
 * stops: after COL_OUT_STOP_WAIT_MS without progress it drops its batch,
 * counted lost, and close ends too. */
struct stuck_worker {
	struct col_out *o;
	uint64_t sent;
	int done;
};

static void *stuck_thread(void *arg)
{
	struct stuck_worker *sw = arg;
	struct col_buf b;
	unsigned next = 0;

	cr_assert_eq(col_buf_init(&b, sw->o, 1 << 16), WEIR_OK);
	for (;;) {
		sw->sent += fill_batch(&b, &next, 600);
		if (col_buf_flush(&b) != WEIR_OK)
			break;
	}
	col_buf_free(&b);
	__atomic_store_n(&sw->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(col_out, stop_ends_waits_for_a_stalled_fifo)
{
	struct stuck_worker sw = { 0 };
	struct col_out o;
	pthread_t t;
	char err[256];
	uint64_t t0;
	int rd;

	alarm(30);		/* a hang is a failure, not a stuck suite */
	cr_assert_eq(mkfifo(path_of("q.fifo"), 0600), 0);
	rd = open(path_of("q.fifo"), O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0);
	cr_assert_eq(col_out_open(&o, path_of("q.fifo"), NULL, 0, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(col_out_start_writer(&o), WEIR_OK);
	sw.o = &o;
	cr_assert_eq(pthread_create(&t, NULL, stuck_thread, &sw), 0);
	while (!__atomic_load_n(&o.queue_waits, __ATOMIC_RELAXED))
		sleep_ms(10);		/* the queue is full: the worker waits */
	t0 = now_ms();
	col_out_stopping(&o, prog_now_mono());
	pthread_join(t, NULL);
	col_out_close(&o);
	cr_assert_lt(now_ms() - t0, COL_OUT_STOP_WAIT_MS + 2000, "the stop took %llu ms",
		     (unsigned long long)(now_ms() - t0));
	cr_assert_gt(o.lost[COL_LOST_STALLED], 0);
	cr_assert_eq(o.lines + o.lost[COL_LOST_STALLED], sw.sent, "written %llu + lost %llu of %llu",
		     (unsigned long long)o.lines, (unsigned long long)o.lost[COL_LOST_STALLED],
		     (unsigned long long)sw.sent);
	close(rd);
}

/* The sink a worker hands its records to is chosen once from -f and -s. */
Test(col_out, sink_by_format_and_serialization)
{
	static const struct {
		int format, ser;
		const char *name;
		int writes, csv;
	} cases[] = {
		{ COL_F_RAW, COL_S_JSON, "raw JSON", 0, 0 },
		{ COL_F_RAW, COL_S_NULL, "raw null", 0, 0 },
		{ COL_F_COMMON, COL_S_JSON, "common JSON", 1, 0 },
		{ COL_F_COMMON, COL_S_CSV, "CSV", 1, 1 },
		{ COL_F_COMMON, COL_S_NULL, "common null", 0, 0 },
	};
	struct col_cfg cfg;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct col_sink *s;

		col_cfg_defaults(&cfg);
		cfg.format = cases[i].format;
		cfg.ser = cases[i].ser;
		s = col_sink_of(&cfg);
		cr_assert_str_eq(s->name, cases[i].name);
		cr_assert_eq(s->line != NULL, cases[i].writes, "%s", s->name);
		cr_assert_eq(s->csv, cases[i].csv, "%s", s->name);
		cr_assert_not_null(s->record);
	}
}
