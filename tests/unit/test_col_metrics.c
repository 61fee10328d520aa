/* Unit tests of the collector's metrics (collector/metrics.c): the text
 * parsed back line by line as the Prometheus text format 0.0.4 defines it,
 * counters that match what a worker was fed, the bound on exporter labels,
 * and the HTTP endpoint (/metrics, /healthz) over a real TCP connection. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "prog_log.h"
#include "metrics.h"
#include "worker.h"

static struct col_cfg cfg;
static struct col_shared sh;
static struct col_worker *wk[2];

static void setup(void)
{
	char err[256];

	prog_log_set(PROG_LOG_ERROR);
	col_cfg_defaults(&cfg);
	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.labels.mu, NULL);
	sh.cfg = &cfg;
	sh.out = NULL;		/* records are formatted, not written */
	sh.nw = 2;
	sh.w = wk;
	for (unsigned i = 0; i < 2; i++) {
		wk[i] = col_worker_new(&sh, i, err, sizeof(err));
		cr_assert_not_null(wk[i], "%s", err);
	}
}

static void teardown(void)
{
	for (unsigned i = 0; i < 2; i++)
		col_worker_free(wk[i]);
}

TestSuite(col_metrics, .init = setup, .fini = teardown);

/* A NetFlow v5 datagram of count TCP records, sequence given. */
static size_t v5_tcp(uint8_t *b, unsigned count, uint32_t seq)
{
	size_t n = v5_dgram(b, count, seq);

	for (unsigned i = 0; i < count; i++)
		b[24 + 48 * i + 38] = 6;
	return n;
}

static void feed_v5(struct col_worker *w, uint32_t addr, unsigned count, uint32_t seq)
{
	static uint8_t dg[24 + 48 * 30];
	struct weir_exporter e = { .port = 9000 };
	size_t n = v5_tcp(dg, count, seq);

	weir_addr_v4u(&e.addr, addr);
	cr_assert_eq(col_worker_datagram(w, &e, dg, n, 1700000000000000000ull), WEIR_OK);
}

static char *render(void)
{
	struct prog_text t = { 0 };

	cr_assert_eq(col_metrics_render(&sh, &t), WEIR_OK);
	cr_assert_not_null(t.p);
	cr_assert_eq(strlen(t.p), t.len, "no NUL inside");
	return t.p;
}

/* ---- a small parser of the text format ---- */

struct family {
	char name[96];
	char type[16];
	int help;
};

static int name_ok(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return 0;
	return 1;
}

/* Check every line; returns the number of samples. Samples are also
 * copied (name{labels} value) to want-able text in *series. */
static size_t parse_text(const char *text, struct family *fam, size_t *nfam)
{
	size_t samples = 0;
	const char *l = text;

	*nfam = 0;
	while (*l) {
		const char *e = strchr(l, '\n');
		char line[512];
		size_t n;

		cr_assert_not_null(e, "unterminated last line");
		n = (size_t)(e - l);
		cr_assert_lt(n, sizeof(line));
		memcpy(line, l, n);
		line[n] = 0;
		l = e + 1;
		if (line[0] == '#') {
			char kw[8], name[96], rest[400];

			cr_assert_eq(sscanf(line, "# %7s %95s %399[^\n]", kw, name, rest), 3, "'%s'", line);
			cr_assert(name_ok(name, strlen(name)), "bad name in '%s'", line);
			if (!strcmp(kw, "HELP")) {
				cr_assert_lt(*nfam, 256);
				cr_assert(!*nfam || strcmp(fam[*nfam - 1].name, name),
					  "HELP twice for %s", name);
				snprintf(fam[*nfam].name, sizeof(fam[*nfam].name), "%s", name);
				fam[*nfam].type[0] = 0;
				fam[*nfam].help = 1;
				(*nfam)++;
			} else {
				cr_assert_str_eq(kw, "TYPE", "'%s'", line);
				cr_assert(*nfam && !strcmp(fam[*nfam - 1].name, name),
					  "TYPE %s without its HELP just before", name);
				cr_assert(!strcmp(rest, "counter") || !strcmp(rest, "gauge"), "'%s'", line);
				snprintf(fam[*nfam - 1].type, sizeof(fam[*nfam - 1].type), "%.15s", rest);
			}
			continue;
		}
		/* name{labels} value | name value */
		{
			char *sp = strrchr(line, ' '), *brace = strchr(line, '{'), *end;
			size_t nl;

			cr_assert_not_null(sp, "'%s'", line);
			nl = (size_t)((brace && brace < sp ? brace : sp) - line);
			cr_assert(name_ok(line, nl), "bad sample name in '%s'", line);
			cr_assert(!strncmp(line, "weir_", 5), "'%s' lacks the weir_ prefix", line);
			cr_assert(*nfam && strlen(fam[*nfam - 1].name) == nl &&
				  !strncmp(fam[*nfam - 1].name, line, nl),
				  "sample '%s' outside its family", line);
			cr_assert(fam[*nfam - 1].type[0], "family of '%s' has no TYPE", line);
			if (!strcmp(fam[*nfam - 1].type, "counter"))
				cr_assert(nl > 6 && !strncmp(line + nl - 6, "_total", 6),
					  "counter '%s' not _total", line);
			else
				cr_assert(strncmp(line + nl - 6, "_total", 6), "gauge '%s' is _total", line);
			if (brace && brace < sp) {
				/* label="value"(,label="value")* } */
				const char *p = brace + 1;

				for (;;) {
					const char *eq = strchr(p, '=');

					cr_assert_not_null(eq, "'%s'", line);
					cr_assert(name_ok(p, (size_t)(eq - p)), "label in '%s'", line);
					cr_assert_eq(eq[1], '"', "'%s'", line);
					p = eq + 2;
					while (*p && *p != '"') {
						if (*p == '\\')
							p++;
						p++;
					}
					cr_assert_eq(*p, '"', "'%s'", line);
					p++;
					if (*p == ',') {
						p++;
						continue;
					}
					cr_assert_eq(*p, '}', "'%s'", line);
					cr_assert_eq(p + 1, sp, "'%s'", line);
					break;
				}
			}
			strtoull(sp + 1, &end, 10);
			cr_assert(sp[1] && !*end, "value of '%s'", line);
			samples++;
		}
	}
	return samples;
}

static size_t series_count(const char *text, const char *name)
{
	size_t n = 0, k = strlen(name);

	for (const char *l = text; *l; l = strchr(l, '\n') + 1)
		if (!strncmp(l, name, k) && (l[k] == '{' || l[k] == ' '))
			n++;
	return n;
}

Test(col_metrics, text_parses_back)
{
	struct family fam[256];
	size_t nfam, samples;
	char *t;

	feed_v5(wk[0], 0xc0000201, 30, 0);
	t = render();
	samples = parse_text(t, fam, &nfam);
	cr_assert_geq(nfam, 30, "the families documented");
	cr_assert_gt(samples, nfam);
	for (size_t i = 0; i < nfam; i++)
		for (size_t j = i + 1; j < nfam; j++)
			cr_assert(strcmp(fam[i].name, fam[j].name), "%s twice", fam[i].name);
	free(t);
}

Test(col_metrics, counters_follow_the_traffic)
{
	static const uint8_t sflow_hdr[28] = { 0, 0, 0, 5, 0, 0, 0, 1, 192, 0, 2, 9 };
	static const uint8_t junk[3] = { 1, 2, 3 };
	struct weir_exporter e = { .port = 1 };
	char *t;

	feed_v5(wk[0], 0xc0000201, 30, 0);
	feed_v5(wk[0], 0xc0000201, 30, 30);
	feed_v5(wk[1], 0xc0000201, 30, 90);	/* the same source in another worker */
	feed_v5(wk[0], 0xc0000201, 30, 120);	/* 30 lost after seq 30..59 */
	weir_addr_v4u(&e.addr, 0xc0000202);
	cr_assert_eq(col_worker_datagram(wk[1], &e, sflow_hdr, sizeof(sflow_hdr), 1), WEIR_E_VERSION,
		     "sFlow on a netflow collector is refused");
	cr_assert_eq(col_worker_datagram(wk[1], &e, junk, sizeof(junk), 1), WEIR_E_TRUNCATED);
	t = render();
	cr_assert_eq(metric(t, "weir_datagrams_total{protocol=\"netflow_v5\"}"), 4);
	cr_assert_eq(metric(t, "weir_datagrams_total{protocol=\"sflow\"}"), 1);
	cr_assert_eq(metric(t, "weir_datagrams_total{protocol=\"unknown\"}"), 1);
	cr_assert_eq(metric(t, "weir_received_bytes_total{protocol=\"netflow_v5\"}"), 4 * (24 + 48 * 30));
	cr_assert_eq(metric(t, "weir_records_total{protocol=\"netflow_v5\"}"), 120);
	cr_assert_eq(metric(t, "weir_records_formatted_total"), 120);
	cr_assert_eq(metric(t, "weir_records_written_total"), 0, "no output: formatted, not written");
	cr_assert_eq(metric(t, "weir_worker_datagrams_total{worker=\"0\"}"), 3);
	cr_assert_eq(metric(t, "weir_worker_datagrams_total{worker=\"1\"}"), 3);
	cr_assert_eq(metric(t, "weir_decode_errors_total{kind=\"version\"}"), 1);
	cr_assert_eq(metric(t, "weir_decode_errors_total{kind=\"truncated\"}"), 1);
	cr_assert_eq(metric(t, "weir_decode_errors_total{kind=\"no_template\"}"), 0);
	/* Worker 0 saw 0, 30, 120: one gap of 60 records (60..119); worker 1
	 * saw its first datagram of the source, no gap. */
	cr_assert_eq(metric(t, "weir_sequence_gaps_total{exporter=\"192.0.2.1\"}"), 1);
	cr_assert_eq(metric(t, "weir_sequence_lost_total{exporter=\"192.0.2.1\"}"), 60);
	cr_assert_eq(metric(t, "weir_sequence_reordered_total{exporter=\"192.0.2.1\"}"), 0);
	cr_assert_eq(metric(t, "weir_sources"), 2, "one source in each worker");
	cr_assert_eq(metric(t, "weir_workers"), 2);
	cr_assert_eq(metric(t, "weir_kernel_drops_total{worker=\"1\"}"), 0);
	cr_assert_eq(series_count(t, "weir_output_bytes_total"), 0, "no output: no output metrics");
	free(t);
}

Test(col_metrics, exporter_labels_are_bounded)
{
	char *t;

	/* 1010 exporters, each with a gap of 30 records. Labels go to the
	 * exporters in the order scrapes find them: 1000 before a scrape, 10
	 * after it. */
	for (uint32_t i = 0; i < 1010; i++) {
		if (i == 1000)
			free(render());
		feed_v5(wk[i & 1], 0x0a000000 + i, 30, 0);
		feed_v5(wk[i & 1], 0x0a000000 + i, 30, 60);
	}
	t = render();
	cr_assert_eq(series_count(t, "weir_sequence_gaps_total"), COL_EXPORTER_LABELS + 1);
	cr_assert_eq(metric(t, "weir_sequence_gaps_total{exporter=\"10.0.0.0\"}"), 1);
	cr_assert_eq(metric(t, "weir_sequence_lost_total{exporter=\"10.0.3.231\"}"), 30,
		     "the 1000th exporter has its own series");
	cr_assert_eq(metric(t, "weir_sequence_gaps_total{exporter=\"10.0.3.232\"}"), -1,
		     "the 1001st has not");
	cr_assert_eq(metric(t, "weir_sequence_gaps_total{exporter=\"other\"}"), 10);
	cr_assert_eq(metric(t, "weir_sequence_lost_total{exporter=\"other\"}"), 300);
	free(t);
}

Test(col_metrics, ipv6_exporter_label)
{
	static uint8_t dg[24 + 48];
	struct weir_exporter e = { .port = 5 };
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	char *t;

	weir_addr_v6(&e.addr, a6);
	cr_assert_eq(col_worker_datagram(wk[0], &e, dg, v5_tcp(dg, 1, 0), 1), WEIR_OK);
	cr_assert_eq(col_worker_datagram(wk[0], &e, dg, v5_tcp(dg, 1, 5), 1), WEIR_OK);
	t = render();
	cr_assert_eq(metric(t, "weir_sequence_lost_total{exporter=\"2001:db8::7\"}"), 4);
	free(t);
}

/* ---- the HTTP endpoint ---- */

/* The whole answer to req, malloc'd. */
static char *http(uint16_t port, const char *req)
{
	size_t cap = (1 << 20) + 1;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	cr_assert_eq(http_req(port, req, buf, cap), 0, "%s", req);
	return buf;
}

Test(col_metrics, http_endpoint)
{
	struct col_metrics *m;
	struct family fam[256];
	size_t nfam;
	char err[256], *r, *body;

	feed_v5(wk[0], 0xc0000201, 30, 0);
	m = col_metrics_start(&sh, "127.0.0.1", 0, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	cr_assert_gt(col_metrics_port(m), 0);

	r = http(col_metrics_port(m), "GET /metrics HTTP/1.0\r\n\r\n");
	cr_assert(!strncmp(r, "HTTP/1.0 200", 12) || !strncmp(r, "HTTP/1.1 200", 12), "%.40s", r);
	cr_assert_not_null(strstr(r, "text/plain; version=0.0.4"), "content type");
	body = strstr(r, "\r\n\r\n");
	cr_assert_not_null(body);
	body += 4;
	parse_text(body, fam, &nfam);
	cr_assert_eq(metric(body, "weir_records_total{protocol=\"netflow_v5\"}"), 30);
	free(r);

	/* Counters move between scrapes. */
	feed_v5(wk[1], 0xc0000202, 30, 0);
	r = http(col_metrics_port(m), "GET /metrics HTTP/1.0\r\n\r\n");
	body = strstr(r, "\r\n\r\n") + 4;
	cr_assert_eq(metric(body, "weir_records_total{protocol=\"netflow_v5\"}"), 60);
	free(r);

	r = http(col_metrics_port(m), "GET /healthz HTTP/1.0\r\n\r\n");
	cr_assert(strstr(r, " 200 ") && strstr(r, "\r\n\r\nok\n"), "%s", r);
	free(r);
	r = http(col_metrics_port(m), "GET /other HTTP/1.0\r\n\r\n");
	cr_assert_not_null(strstr(r, " 404 "), "%.40s", r);
	free(r);
	r = http(col_metrics_port(m), "DELETE /metrics HTTP/1.0\r\n\r\n");
	cr_assert_not_null(strstr(r, " 405 "), "%.40s", r);
	free(r);
	col_metrics_stop(m);
}

Test(col_metrics, port_in_use_is_an_error)
{
	struct col_metrics *m, *m2;
	char err[256], want[64];

	m = col_metrics_start(&sh, "127.0.0.1", 0, err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	m2 = col_metrics_start(&sh, "127.0.0.1", col_metrics_port(m), err, sizeof(err));
	cr_assert_null(m2);
	snprintf(want, sizeof(want), "127.0.0.1:%u", col_metrics_port(m));
	cr_assert_not_null(strstr(err, want), "%s", err);
	cr_assert_not_null(strstr(err, "in use"), "%s", err);
	col_metrics_stop(m);
	cr_assert_null(col_metrics_start(&sh, "no-such-host.invalid", 0, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "--metrics-host"), "%s", err);
}
