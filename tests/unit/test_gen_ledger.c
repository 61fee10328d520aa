/* Unit tests of the generator's ledger (generator/ledger.c): counting, the
 * JSON document (parsed back here by a small strict parser), the atomic
 * write, and ledgers of whole runs checked against what they sent. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ledger.h"
#include "prog_log.h"
#include "run.h"
#include "sim.h"
#include "wpcap.h"

/* ---- a strict little JSON reader (RFC 8259): every scalar of the
 * document under its path ("totals.packets", "exporters[1].source_port")
 * ---- */

#define J_MAX 4096

struct jv {
	char path[96];
	char val[256];
	char type;			/* s string, n number, b boolean, z null */
};

struct jdoc {
	struct jv v[J_MAX];
	int n;
	const char *p;
	const char *err;
};

static void j_ws(struct jdoc *d)
{
	while (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')
		d->p++;
}

static int j_fail(struct jdoc *d, const char *why)
{
	if (!d->err)
		d->err = why;
	return -1;
}

static int j_string(struct jdoc *d, char *out, size_t cap)
{
	size_t n = 0;

	if (*d->p != '"')
		return j_fail(d, "string expected");
	d->p++;
	for (;;) {
		unsigned char c = (unsigned char)*d->p++;

		if (c == '"')
			break;
		if (c < 0x20)
			return j_fail(d, "control character or end in a string");
		if (c == '\\') {
			c = (unsigned char)*d->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned v = 0;

				for (int i = 0; i < 4; i++, d->p++) {
					if (!isxdigit((unsigned char)*d->p))
						return j_fail(d, "bad \\u escape");
					v = v * 16 + (unsigned)(isdigit((unsigned char)*d->p) ?
						*d->p - '0' : (tolower((unsigned char)*d->p) - 'a' + 10));
				}
				c = v < 0x80 ? (unsigned char)v : '?';
				break;
			}
			default:
				return j_fail(d, "bad escape");
			}
		}
		if (n + 1 < cap)
			out[n++] = (char)c;
	}
	out[n] = 0;
	return 0;
}

static int j_add(struct jdoc *d, const char *path, const char *val, size_t len, char type)
{
	struct jv *v;

	if (d->n == J_MAX)
		return j_fail(d, "too many values");
	v = &d->v[d->n++];
	snprintf(v->path, sizeof(v->path), "%s", path);
	snprintf(v->val, sizeof(v->val), "%.*s", (int)len, val);
	v->type = type;
	return 0;
}

static int j_value(struct jdoc *d, const char *path, int depth)
{
	char sub[96], key[64], s[256];
	const char *start;

	if (depth > 16)
		return j_fail(d, "too deep");
	j_ws(d);
	switch (*d->p) {
	case '{':
		d->p++;
		j_ws(d);
		if (*d->p == '}') {
			d->p++;
			return 0;
		}
		for (;;) {
			j_ws(d);
			if (j_string(d, key, sizeof(key)))
				return -1;
			j_ws(d);
			if (*d->p++ != ':')
				return j_fail(d, "':' expected");
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
			if (j_value(d, sub, depth + 1))
				return -1;
			j_ws(d);
			if (*d->p == ',') {
				d->p++;
				continue;
			}
			if (*d->p++ != '}')
				return j_fail(d, "',' or '}' expected");
			return 0;
		}
	case '[':
		d->p++;
		j_ws(d);
		if (*d->p == ']') {
			d->p++;
			return 0;
		}
		for (int i = 0;; i++) {
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
			if (j_value(d, sub, depth + 1))
				return -1;
			j_ws(d);
			if (*d->p == ',') {
				d->p++;
				continue;
			}
			if (*d->p++ != ']')
				return j_fail(d, "',' or ']' expected");
			return 0;
		}
	case '"':
		if (j_string(d, s, sizeof(s)))
			return -1;
		return j_add(d, path, s, strlen(s), 's');
	case 't':
	case 'f':
	case 'n': {
		const char *w = *d->p == 't' ? "true" : *d->p == 'f' ? "false" : "null";

		if (strncmp(d->p, w, strlen(w)))
			return j_fail(d, "bad literal");
		d->p += strlen(w);
		return j_add(d, path, w, strlen(w), w[0] == 'n' ? 'z' : 'b');
	}
	default:
		start = d->p;
		if (*d->p == '-')
			d->p++;
		if (!isdigit((unsigned char)*d->p))
			return j_fail(d, "value expected");
		if (*d->p == '0' && isdigit((unsigned char)d->p[1]))
			return j_fail(d, "leading zero");
		while (isdigit((unsigned char)*d->p))
			d->p++;
		if (*d->p == '.') {
			d->p++;
			if (!isdigit((unsigned char)*d->p))
				return j_fail(d, "digit expected after '.'");
			while (isdigit((unsigned char)*d->p))
				d->p++;
		}
		if (*d->p == 'e' || *d->p == 'E') {
			d->p++;
			if (*d->p == '+' || *d->p == '-')
				d->p++;
			if (!isdigit((unsigned char)*d->p))
				return j_fail(d, "bad exponent");
			while (isdigit((unsigned char)*d->p))
				d->p++;
		}
		return j_add(d, path, start, (size_t)(d->p - start), 'n');
	}
}

static struct jdoc *j_parse(const char *text)
{
	struct jdoc *d = calloc(1, sizeof(*d));

	cr_assert_not_null(d);
	d->p = text;
	if (j_value(d, "", 0) == 0) {
		j_ws(d);
		if (*d->p)
			j_fail(d, "text after the document");
	}
	cr_assert_null(d->err, "ledger is not JSON: %s at \"%.30s\"", d->err, d->p);
	return d;
}

static const struct jv *j_get(const struct jdoc *d, const char *path)
{
	for (int i = 0; i < d->n; i++)
		if (strcmp(d->v[i].path, path) == 0)
			return &d->v[i];
	return NULL;
}

static uint64_t j_num(const struct jdoc *d, const char *path)
{
	const struct jv *v = j_get(d, path);

	cr_assert_not_null(v, "no %s in the ledger", path);
	cr_assert_eq(v->type, 'n', "%s is not a number: %s", path, v->val);
	return strtoull(v->val, NULL, 10);
}

static const char *j_str(const struct jdoc *d, const char *path)
{
	const struct jv *v = j_get(d, path);

	cr_assert_not_null(v, "no %s in the ledger", path);
	cr_assert_eq(v->type, 's', "%s is not a string", path);
	return v->val;
}

/* The reader itself rejects what is not JSON. */
Test(gen_ledger, reader_is_strict)
{
	static const char *const bad[] = {
		"{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "01", "1.", "\"\\x\"", "tru",
		"{\"a\":1} x", "\"a\nb\"", "-", "[1 2]",
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jdoc *d = calloc(1, sizeof(*d));

		d->p = bad[i];
		if (j_value(d, "", 0) == 0) {
			j_ws(d);
			if (*d->p)
				j_fail(d, "text after the document");
		}
		cr_assert_not_null(d->err, "accepted: %s", bad[i]);
		free(d);
	}
}

/* ---- the ledger ---- */

static char *print_ledger(const struct ledger *l)
{
	char *text;
	size_t len;
	FILE *fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(ledger_print(l, fp), 0);
	fclose(fp);
	return text;
}

static struct dg_info dg(uint32_t exporter, int tmpl, uint32_t seq, uint32_t step,
			 uint32_t records, uint64_t bytes, uint64_t packets, uint32_t len)
{
	struct dg_info d;

	memset(&d, 0, sizeof(d));
	d.exporter = exporter;
	d.is_template = (uint8_t)tmpl;
	d.sequence = seq;
	d.sequence_step = step;
	d.records = records;
	d.options_records = tmpl ? 1 : 0;
	d.bytes = bytes;
	d.packets = packets;
	d.len = len;
	return d;
}

Test(gen_ledger, counts_and_json)
{
	static char *argv[] = { "weir-generator", "-n", "3", "--ledger", "we\"ird\\name\t.json" };
	struct ledger l;
	struct dg_info d;
	struct jdoc *j;
	char *text;

	cr_assert_eq(ledger_init(&l, 2), WEIR_OK);
	l.run.proto = GEN_IPFIX;
	l.run.host = "collector.example";
	weir_addr_v4u(&l.run.dst, 0xc0000205);
	l.run.dport = 4739;
	l.run.seed = 18446744073709551615ull;
	l.run.seeded = 1;
	l.run.rate = 1000;
	l.run.flows_per_packet = 10;
	l.run.count = 3;
	l.run.sampling_rate = 100;
	l.run.argc = 5;
	l.run.argv = argv;
	l.run.stop_reason = "count";
	weir_addr_v4u(&l.exp[0].addr, 0x7f000001);
	l.exp[0].port = 40000;
	l.exp[0].domain = 1;
	l.exp[1].port = 40001;
	l.exp[1].domain = 2;

	d = dg(0, 1, 0, 1, 0, 0, 0, 100);
	ledger_sent(&l, &d);
	d = dg(0, 0, 1, 10, 10, 15000, 12, 860);
	ledger_sent(&l, &d);
	d = dg(0, 0, 11, 10, 10, 5000000000ull, 7, 860);
	ledger_sent(&l, &d);
	d = dg(1, 0, 0, 10, 10, 999, 9, 860);
	ledger_failed(&l, &d, 111);	/* ECONNREFUSED-like: not sent */
	d = dg(1, 0, 10, 10, 10, 1234, 5, 860);
	ledger_sent(&l, &d);

	text = print_ledger(&l);
	j = j_parse(text);
	cr_assert_str_eq(j_str(j, "generator"), "weir-generator");
	cr_assert_str_eq(j_str(j, "protocol"), "ipfix");
	cr_assert_str_eq(j_str(j, "command_line[4]"), "we\"ird\\name\t.json");
	cr_assert_str_eq(j_str(j, "collector.host"), "collector.example");
	cr_assert_str_eq(j_str(j, "collector.address"), "192.0.2.5");
	cr_assert_eq(j_num(j, "collector.port"), 4739);
	cr_assert_eq(j_num(j, "seed"), 18446744073709551615ull);
	cr_assert_str_eq(j_get(j, "seeded")->val, "true");
	cr_assert_eq(j_num(j, "sampling_rate"), 100);
	cr_assert_str_eq(j_str(j, "stop_reason"), "count");
	cr_assert_str_eq(j_str(j, "output"), "udp");
	cr_assert_eq(j_get(j, "pcap_file")->type, 'z');
	cr_assert_not_null(j_get(j, "first_send_error"));
	cr_assert_eq(j_get(j, "first_send_error")->type, 's');

	cr_assert_str_eq(j_str(j, "exporters[0].source_address"), "127.0.0.1");
	cr_assert_eq(j_num(j, "exporters[0].source_port"), 40000);
	cr_assert_eq(j_num(j, "exporters[0].observation_domain_id"), 1);
	cr_assert_eq(j_num(j, "exporters[0].packets"), 3);
	cr_assert_eq(j_num(j, "exporters[0].data_packets"), 2);
	cr_assert_eq(j_num(j, "exporters[0].template_sends"), 1);
	cr_assert_eq(j_num(j, "exporters[0].flow_records"), 20);
	cr_assert_eq(j_num(j, "exporters[0].options_records"), 1);
	cr_assert_eq(j_num(j, "exporters[0].bytes"), 5000015000ull);
	cr_assert_eq(j_num(j, "exporters[0].flow_packets"), 19);
	cr_assert_eq(j_num(j, "exporters[0].payload_bytes"), 1820);
	cr_assert_eq(j_num(j, "exporters[0].first_sequence"), 0);
	cr_assert_eq(j_num(j, "exporters[0].last_sequence"), 11);
	cr_assert_eq(j_num(j, "exporters[0].next_sequence"), 21);
	cr_assert_eq(j_num(j, "exporters[0].send_errors"), 0);

	/* the failed datagram counts as an error only */
	cr_assert_eq(j_num(j, "exporters[1].packets"), 1);
	cr_assert_eq(j_num(j, "exporters[1].flow_records"), 10);
	cr_assert_eq(j_num(j, "exporters[1].bytes"), 1234);
	cr_assert_eq(j_num(j, "exporters[1].send_errors"), 1);
	cr_assert_eq(j_num(j, "exporters[1].first_sequence"), 10);

	cr_assert_eq(j_num(j, "totals.exporters"), 2);
	cr_assert_eq(j_num(j, "totals.packets"), 4);
	cr_assert_eq(j_num(j, "totals.flow_records"), 30);
	cr_assert_eq(j_num(j, "totals.bytes"), 5000016234ull);
	cr_assert_eq(j_num(j, "totals.flow_packets"), 24);
	cr_assert_eq(j_num(j, "totals.send_errors"), 1);
	cr_assert_null(j_get(j, "totals.samples"), "no sFlow keys for IPFIX");
	free(j);
	free(text);
	ledger_free(&l);
}

Test(gen_ledger, sflow_keys_and_nothing_sent)
{
	struct ledger l;
	struct dg_info d;
	struct jdoc *j;
	char *text;

	cr_assert_eq(ledger_init(&l, 2), WEIR_OK);
	l.run.proto = GEN_SFLOW;
	memset(&d, 0, sizeof(d));
	d.records = 2;
	d.bytes = 164;
	d.packets = 2;
	d.frame_bytes = 164;
	d.scaled_bytes = 164 * 512;
	d.scaled_packets = 1024;
	d.sample_seq_first = 1;
	d.sample_seq_last = 2;
	d.sequence = 0;
	d.sequence_step = 1;
	d.len = 300;
	ledger_sent(&l, &d);
	d.sample_seq_first = 3;
	d.sample_seq_last = 4;
	d.sequence = 1;
	ledger_sent(&l, &d);
	text = print_ledger(&l);
	j = j_parse(text);
	cr_assert_eq(j_num(j, "exporters[0].samples"), 4);
	cr_assert_eq(j_num(j, "exporters[0].frame_bytes"), 328);
	cr_assert_eq(j_num(j, "exporters[0].scaled_bytes"), 328 * 512);
	cr_assert_eq(j_num(j, "exporters[0].scaled_packets"), 2048);
	cr_assert_eq(j_num(j, "exporters[0].first_sample_sequence"), 1);
	cr_assert_eq(j_num(j, "exporters[0].last_sample_sequence"), 4);
	cr_assert_eq(j_num(j, "exporters[0].last_sequence"), 1);
	/* exporter 1 sent nothing: its sequence numbers are null */
	cr_assert_eq(j_num(j, "exporters[1].packets"), 0);
	cr_assert_eq(j_get(j, "exporters[1].first_sequence")->type, 'z');
	cr_assert_eq(j_get(j, "exporters[1].first_sample_sequence")->type, 'z');
	cr_assert_eq(j_num(j, "totals.scaled_packets"), 2048);
	free(j);
	free(text);
	ledger_free(&l);
}

/* ---- files: a private temp directory per test ---- */

static char tmpdir[64];

static void mk_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_gen_ledger.XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp");
	prog_log_set(PROG_LOG_ERROR);
}

static void rm_tmpdir(void)
{
	char cmd[128];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(fp, "%s missing", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

Test(gen_ledger, atomic_write, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	struct ledger l;
	char path[128], err[256], *text;
	struct stat st;
	struct jdoc *j;

	snprintf(path, sizeof(path), "%s/ledger.json", tmpdir);
	cr_assert_eq(ledger_init(&l, 1), WEIR_OK);
	l.run.stop_reason = "signal";
	cr_assert_eq(ledger_write(&l, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_neq(st.st_mode & 0044, 0, "readable by others (umask permitting)");
	text = slurp(path);
	j = j_parse(text);
	cr_assert_str_eq(j_str(j, "stop_reason"), "signal");
	free(j);
	free(text);
	{
		/* no temporary file is left beside it */
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", tmpdir);
		cr_assert_eq(system(cmd), 0);
	}
	/* a directory that does not exist: an error, nothing written */
	snprintf(path, sizeof(path), "%s/none/ledger.json", tmpdir);
	cr_assert_eq(ledger_write(&l, path, err, sizeof(err)), WEIR_E_IO);
	cr_assert_not_null(strstr(err, "none"), "%s", err);
	ledger_free(&l);
}

/* ---- whole runs ---- */

static volatile sig_atomic_t no_stop;

static struct gen_cfg run_cfg(enum gen_proto p, const char *pcap, const char *ledger)
{
	struct gen_cfg c;

	gen_cfg_defaults(&c);
	c.proto = p;
	c.pcap_out = pcap;
	c.ledger = ledger;
	c.rate = 0;
	c.seed = 5;
	c.seeded = 1;
	c.quiet = 1;
	return c;
}

struct pcap_sum {
	uint64_t frames, payload, per_port[4];
};

static struct pcap_sum pcap_count(const char *path)
{
	char ebuf[256];
	struct wpcap_frame f;
	struct wpcap_rd p;
	struct pcap_sum s;

	memset(&s, 0, sizeof(s));
	cr_assert_eq(wpcap_open_read(&p, path, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	while (wpcap_next(&p, &f) == 1) {
		uint16_t sport = (uint16_t)(f.p[34] << 8 | f.p[35]);

		cr_assert_eq(f.caplen, f.len);
		s.frames++;
		s.payload += f.caplen - 42;	/* Ethernet, IPv4, UDP */
		if (sport >= GEN_PCAP_SPORT && sport < GEN_PCAP_SPORT + 4)
			s.per_port[sport - GEN_PCAP_SPORT]++;
	}
	wpcap_close_read(&p);
	return s;
}

/* The ledger of a pcap run adds up to the pcap file, for every protocol. */
Test(gen_ledger, run_ledger_matches_pcap, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	for (int p = 0; p < 4; p++) {
		char pcap[128], led[128], key[64], *text;
		struct gen_cfg c;
		struct pcap_sum s;
		struct jdoc *j;
		uint64_t tmpl = p == GEN_IPFIX || p == GEN_V9 ? 1 : 0;

		snprintf(pcap, sizeof(pcap), "%s/%s.pcap", tmpdir, gen_proto_name(p));
		snprintf(led, sizeof(led), "%s/%s.json", tmpdir, gen_proto_name(p));
		c = run_cfg((enum gen_proto)p, pcap, led);
		c.count = 250;
		c.exporters = 3;
		c.domain = 40;
		cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK, "%s", gen_proto_name(p));
		s = pcap_count(pcap);
		text = slurp(led);
		j = j_parse(text);
		cr_assert_str_eq(j_str(j, "protocol"), gen_proto_name(p));
		cr_assert_str_eq(j_str(j, "output"), "pcap");
		cr_assert_str_eq(j_str(j, "stop_reason"), "count");
		cr_assert_eq(j_num(j, "totals.packets"), s.frames, "%s", gen_proto_name(p));
		cr_assert_eq(j_num(j, "totals.payload_bytes"), s.payload);
		cr_assert_eq(j_num(j, "totals.data_packets"), 250);
		cr_assert_eq(j_num(j, "totals.template_sends"), 3 * tmpl);
		cr_assert_eq(j_num(j, "totals.flow_records"), 2500);
		cr_assert_eq(j_num(j, "totals.send_errors"), 0);
		for (int e = 0; e < 3; e++) {
			snprintf(key, sizeof(key), "exporters[%d].packets", e);
			cr_assert_eq(j_num(j, key), s.per_port[e], "%s exporter %d",
				     gen_proto_name(p), e);
			snprintf(key, sizeof(key), "exporters[%d].observation_domain_id", e);
			cr_assert_eq(j_num(j, key), 40u + e);
			snprintf(key, sizeof(key), "exporters[%d].source_port", e);
			cr_assert_eq(j_num(j, key), GEN_PCAP_SPORT + e);
		}
		/* 250 data datagrams in runs of GEN_RUN_LEN (16), run r to
		 * exporter r mod 3: runs 0, 3, ..., 12 and the last 10 (run 15)
		 * to exporter 0, five runs each to the others */
		cr_assert_eq(j_num(j, "exporters[0].data_packets"), 5 * 16 + 10);
		cr_assert_eq(j_num(j, "exporters[1].data_packets"), 5 * 16);
		cr_assert_eq(j_num(j, "exporters[2].data_packets"), 5 * 16);
		free(j);
		free(text);
	}
}

/* Over UDP, the ledger counts what a socket receives, from one source
 * port per exporter. A thread reads while the run sends, so that the
 * socket buffer never overflows. */
struct sink {
	int fd;
	uint64_t got, bytes;
	uint16_t from[4096];		/* source port of each datagram */
};

static void *sink_read(void *arg)
{
	struct sink *k = arg;
	uint8_t buf[2048];

	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(k->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return NULL;		/* 1 s of silence: the run is over */
		if (k->got < 4096)
			k->from[k->got] = ntohs(from.sin_port);
		k->got++;
		k->bytes += (uint64_t)n;
	}
}

Test(gen_ledger, run_ledger_matches_udp, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	struct sink k = { .fd = socket(AF_INET, SOCK_DGRAM, 0) };
	uint64_t per_port[3] = { 0 };
	uint16_t ports[3];
	char led[128], *text, key[64];
	struct gen_cfg c;
	struct jdoc *j;
	pthread_t tid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(k.fd, 0);
	setsockopt(k.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_assert_eq(bind(k.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(k.fd, (struct sockaddr *)&sa, &sl), 0);
	cr_assert_eq(pthread_create(&tid, NULL, sink_read, &k), 0);
	snprintf(led, sizeof(led), "%s/udp.json", tmpdir);
	c = run_cfg(GEN_SFLOW, NULL, led);
	c.port = ntohs(sa.sin_port);
	c.count = 300;
	c.exporters = 3;
	c.rate = 5000;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	pthread_join(tid, NULL);
	close(k.fd);
	text = slurp(led);
	j = j_parse(text);
	for (int e = 0; e < 3; e++) {
		snprintf(key, sizeof(key), "exporters[%d].source_port", e);
		ports[e] = (uint16_t)j_num(j, key);
		cr_assert_neq(ports[e], 0);
	}
	cr_assert(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
	for (uint64_t i = 0; i < k.got && i < 4096; i++)
		for (int e = 0; e < 3; e++)
			per_port[e] += k.from[i] == ports[e];
	cr_assert_eq(j_num(j, "totals.packets"), k.got);
	cr_assert_eq(j_num(j, "totals.payload_bytes"), k.bytes);
	cr_assert_eq(j_num(j, "totals.samples"), 3000);
	cr_assert_str_eq(j_str(j, "output"), "udp");
	for (int e = 0; e < 3; e++) {
		snprintf(key, sizeof(key), "exporters[%d].packets", e);
		cr_assert_eq(j_num(j, key), per_port[e]);
	}
	free(j);
	free(text);
}

/* SIGINT before anything went out: a clean stop, and the ledger says so. */
Test(gen_ledger, stopped_run_still_writes_ledger, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	static volatile sig_atomic_t stop = 1;
	char pcap[128], led[128], *text;
	struct gen_cfg c;
	struct jdoc *j;

	snprintf(pcap, sizeof(pcap), "%s/s.pcap", tmpdir);
	snprintf(led, sizeof(led), "%s/s.json", tmpdir);
	c = run_cfg(GEN_V9, pcap, led);
	cr_assert_eq(gen_run(&c, &stop), GEN_EXIT_OK);
	text = slurp(led);
	j = j_parse(text);
	cr_assert_str_eq(j_str(j, "stop_reason"), "signal");
	cr_assert_eq(j_num(j, "totals.packets"), 0);
	free(j);
	free(text);
}
