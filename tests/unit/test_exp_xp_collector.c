/* test_exp_xp_collector.c - both ends of IPFIX over TCP are ours: the
 * exporting process (exporter/xp.c, XP_TCP) sends to weir-collector
 * --transport tcp, which must decode every flow record with no error of
 * any kind, write them with their octets, and see the templates withdrawn
 * and the connection closed cleanly at xp_close. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xphelp.h"

#ifdef EXP_TEST_BUILD
#define COL_TEST_BUILD EXP_TEST_BUILD
#endif
#include "colhelp.h"

TestSuite(exp_xp_collector, .init = suite_init, .fini = suite_fini);

/* The sum of the "bytes" members of the JSON lines of path, and their
 * number in *lines. */
static unsigned long long bytes_in(const char *path, size_t *lines)
{
	char *s = slurp(path, NULL), *p = s;
	unsigned long long sum = 0;

	*lines = 0;
	for (char *e; (e = strchr(p, '\n')); p = e + 1) {
		char *b;

		*e = 0;
		b = strstr(p, "\"bytes\":");
		cr_assert_not_null(b, "a flow without bytes: %s", p);
		sum += strtoull(b + 8, NULL, 10);
		(*lines)++;
	}
	free(s);
	return sum;
}

Test(exp_xp_collector, the_collector_decodes_what_xp_sends, .timeout = 60)
{
	enum { N = 300 };
	static char page[1 << 17];
	static const struct xp_cfg base = { .domain = 9 };
	uint16_t port = free_port(SOCK_STREAM), mport = free_port(SOCK_STREAM);
	const char *out = path_of("xp.json"), *errf = path_of("xp.err");
	char ps[8], ms[8];
	char *argv[] = { "weir-collector", "--transport", "tcp", "-p", ps, "--metrics-port", ms,
			 "--listen", "127.0.0.1", "-f", "common", "-o", (char *)out, NULL };
	unsigned long long octets = 0;
	struct xp_stats st;
	struct xp *x;
	uint64_t t = T0;
	long long recs;
	size_t lines;
	pid_t pid;
	int status;

	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(ms, sizeof(ms), "%u", mport);
	pid = spawn(argv, errf, NULL);
	cr_assert(wait_up(pid, mport, page, sizeof(page), errf, 5000), "the collector did not come up");
	x = xopen(&base, XP_TCP, port);
	for (uint32_t i = 0; i < N; i++) {
		struct meter_rec r = xrec(i % 3 == 2, i % 200);

		xp_add(x, &r, t += 10 * MS);
		octets += r.fwd.octets + r.rev.octets;
		xp_tick(x, t, NULL);
	}
	cr_assert_eq(xp_close(x, t + SEC, NULL, &st), 0);
	cr_assert_eq(st.records, 2 * N, "both directions of each flow");
	cr_assert_eq(st.records_lost, 0);

	/* Closed by the exporter after its withdrawals: every message is in. */
	cr_assert_eq(scrape_until(mport, page, sizeof(page),
				  "weir_tcp_connections_closed_total{reason=\"eof\"}", 1, 5000), 1);
	recs = metric(page, "weir_records_total{protocol=\"ipfix\"}");
	cr_assert_geq(recs, (long long)st.records);
	cr_assert_eq(metric(page, "weir_records_skipped_total{reason=\"no_flow\"}"),
		     recs - (long long)st.records, "the rest are options records");
	cr_assert_eq(metric(page, "weir_tcp_messages_total"), (long long)st.messages,
		     "every message xp sent, its withdrawal too");
	cr_assert_geq(metric(page, "weir_templates_withdrawn_total"), 1);
	cr_assert_eq(metric(page, "weir_templates_session_ended_total"), 0,
		     "everything was withdrawn before the close");
	for (int k = 1; k < WEIR_E_MAX; k++) {
		char series[96];

		snprintf(series, sizeof(series), "weir_decode_errors_total{kind=\"%s\"}",
			 weir_errname(-k));
		cr_assert_eq(metric(page, series), 0, "%s", series);
	}
	cr_assert_eq(metric(page, "weir_decode_quirks_total{kind=\"sequence_convention\"}"), 0);
	cr_assert_eq(metric(page, "weir_sequence_gaps_total{exporter=\"127.0.0.1\"}"), 0);
	cr_assert_eq(metric(page, "weir_tcp_framing_errors_total{kind=\"truncated\"}"), 0);

	cr_assert_eq(kill(pid, SIGTERM), 0);
	status = wait_for(pid, 10000);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_eq(bytes_in(out, &lines), octets, "the octets of every flow, both ways");
	cr_assert_eq(lines, 2 * N);
}
