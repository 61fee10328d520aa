/* Unit tests of weir-collector's command line (collector/cli.c) and of the
 * --sampling-rate parser (collector/samp.c): every flag in both spellings,
 * the defaults, and errors that name the flag (exit status 2 in main); and
 * --template-file checked at start, a failed save an error (the real
 * weir-collector). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "colhelp.h"
#include "cli.h"
#include "err.h"
#include "samp.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

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

/* Parse and expect a usage error whose text holds want. */
static void refuse(int argc, char **argv, const char *want)
{
	cr_assert_eq(parse(argc, argv), COL_CLI_USAGE, "accepted: %s", argv[1]);
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err, want);
	col_cfg_free(&cfg);
}

static struct weir_addr addr(const char *s)
{
	struct weir_addr a;

	cr_assert_eq(weir_addr_parse(&a, s), 0, "%s", s);
	return a;
}

Test(col_cli, defaults)
{
	char *argv[] = { "weir-collector", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.type, COL_T_NETFLOW);
	cr_assert_eq(cfg.port, 2055);
	cr_assert_eq(cfg.format, COL_F_RAW);
	cr_assert_eq(cfg.ser, COL_S_JSON);
	cr_assert_null(cfg.output);
	cr_assert_null(cfg.pcap);
	cr_assert_str_eq(cfg.metrics_host, "127.0.0.1");
	cr_assert_eq(cfg.metrics_port, 9090);
	cr_assert(cfg.listen_any && !cfg.listen_v4, "default listen is dual-stack ::");
	cr_assert_geq(cfg.workers, 1);
	cr_assert_eq(cfg.rcvbuf, 8u << 20);
	cr_assert_eq(cfg.template_lifetime_s, 1800);
	cr_assert_null(cfg.template_file);
	cr_assert_eq(cfg.samp.def, 0);
	cr_assert_eq(cfg.samp.n, 0);
	cr_assert_eq(cfg.renormalize, 0);
	col_cfg_free(&cfg);
}

Test(col_cli, sflow_default_port)
{
	char *argv[] = { "weir-collector", "-t", "sflow", NULL };
	char *argv2[] = { "weir-collector", "--port", "9995", "--type", "sflow", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.type, COL_T_SFLOW);
	cr_assert_eq(cfg.port, 6343);
	col_cfg_free(&cfg);
	/* A port given wins over the type's default, whatever the order. */
	cr_assert_eq(parse(ARGC(argv2), argv2), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.port, 9995);
	col_cfg_free(&cfg);
}

Test(col_cli, short_flags)
{
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", "9995", "-f", "common", "-s", "csv",
			 "-o", "flows.csv", "-w", "3", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.type, COL_T_NETFLOW);
	cr_assert_eq(cfg.port, 9995);
	cr_assert(cfg.port_set);
	cr_assert_eq(cfg.format, COL_F_COMMON);
	cr_assert_eq(cfg.ser, COL_S_CSV);
	cr_assert_str_eq(cfg.output, "flows.csv");
	cr_assert_eq(cfg.workers, 3);
	col_cfg_free(&cfg);
}

/* Every flag, long form with dashes, then the same with underscores. */
static void check_long(const char *sep)
{
	char o[16][40];
	const char *names[] = { "ie%smapping", "metrics%shost", "metrics%sport", "template%sfile",
				"template%slifetime", "sampling%srate" };
	char *argv[40];
	int n = 0;

	for (int i = 0; i < 6; i++) {
		char tmp[40];

		snprintf(tmp, sizeof(tmp), "--%s", names[i]);
		/* tmp is "--ie%smapping" and the like. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(o[i], sizeof(o[i]), tmp, sep);
#pragma GCC diagnostic pop
	}
	argv[n++] = "weir-collector";
	argv[n++] = "--type"; argv[n++] = "sflow";
	argv[n++] = "--port"; argv[n++] = "7000";
	argv[n++] = "--pcap"; argv[n++] = "cap.pcap";
	argv[n++] = "--format"; argv[n++] = "common";
	argv[n++] = "--serializer"; argv[n++] = "csv";
	argv[n++] = "--output"; argv[n++] = "out.csv";
	argv[n++] = o[0]; argv[n++] = "ies.csv";
	argv[n++] = o[1]; argv[n++] = "::1";
	argv[n++] = o[2]; argv[n++] = "9100";
	argv[n++] = "--listen"; argv[n++] = "192.0.2.7";
	argv[n++] = "--workers"; argv[n++] = "5";
	argv[n++] = "--rcvbuf"; argv[n++] = "4m";
	argv[n++] = o[3]; argv[n++] = "tpl.bin";
	argv[n++] = o[4]; argv[n++] = "60";
	argv[n++] = o[5]; argv[n++] = "100";
	argv[n++] = o[5]; argv[n++] = "192.0.2.1=7";
	argv[n++] = "--renormalize";
	argv[n] = NULL;

	cr_assert_eq(parse(n, argv), COL_CLI_RUN, "%s: %s", sep, err);
	cr_assert_eq(cfg.type, COL_T_SFLOW);
	cr_assert_eq(cfg.port, 7000);
	cr_assert_str_eq(cfg.pcap, "cap.pcap");
	cr_assert_eq(cfg.format, COL_F_COMMON);
	cr_assert_eq(cfg.ser, COL_S_CSV);
	cr_assert_str_eq(cfg.output, "out.csv");
	cr_assert_str_eq(cfg.ie_mapping, "ies.csv");
	cr_assert_str_eq(cfg.metrics_host, "::1");
	cr_assert_eq(cfg.metrics_port, 9100, "given explicitly, it stays on with --pcap");
	cr_assert_str_eq(cfg.listen, "192.0.2.7");
	cr_assert(cfg.listen_v4 && !cfg.listen_any);
	cr_assert_eq(cfg.workers, 5);
	cr_assert_eq(cfg.rcvbuf, 4u << 20);
	cr_assert_str_eq(cfg.template_file, "tpl.bin");
	cr_assert_eq(cfg.template_lifetime_s, 60);
	cr_assert_eq(cfg.samp.def, 100);
	cr_assert_eq(cfg.samp.n, 1);
	cr_assert_eq(cfg.renormalize, 1);
	col_cfg_free(&cfg);
}

Test(col_cli, long_flags_dashes)
{
	check_long("-");
}

Test(col_cli, long_flags_underscores)
{
	check_long("_");
}

/* Durations have units, as everywhere in weir (prog_val.h). */
Test(col_cli, template_lifetime_units)
{
	char *argv[] = { "weir-collector", "--template-lifetime", "45m", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.template_lifetime_s, 2700);
	col_cfg_free(&cfg);
}

Test(col_cli, pcap_turns_metrics_off_unless_asked)
{
	char *argv[] = { "weir-collector", "--pcap", "x.pcap", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.metrics_port, 0);
	cr_assert_eq(cfg.port_set, 0, "no -p: every UDP datagram of the capture");
	col_cfg_free(&cfg);
}

Test(col_cli, metrics_port_zero_disables)
{
	char *argv[] = { "weir-collector", "--metrics-port", "0", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.metrics_port, 0);
	col_cfg_free(&cfg);
}

Test(col_cli, listen_forms)
{
	char *v6[] = { "weir-collector", "--listen", "[2001:db8::1]", NULL };
	char *any4[] = { "weir-collector", "--listen", "0.0.0.0", NULL };
	char *any6[] = { "weir-collector", "--listen", "::", NULL };
	struct weir_addr a = addr("2001:db8::1");

	cr_assert_eq(parse(ARGC(v6), v6), COL_CLI_RUN, "%s", err);
	cr_assert(!cfg.listen_v4 && !cfg.listen_any);
	cr_assert(weir_addr_eq(&cfg.listen_addr, &a));
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(any4), any4), COL_CLI_RUN, "%s", err);
	cr_assert(cfg.listen_v4, "0.0.0.0 is an IPv4 socket");
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(any6), any6), COL_CLI_RUN, "%s", err);
	cr_assert(cfg.listen_any && !cfg.listen_v4);
	col_cfg_free(&cfg);
}

Test(col_cli, help_and_version)
{
	char *h[] = { "weir-collector", "--help", NULL };
	char *v[] = { "weir-collector", "-V", NULL };
	char buf[4096] = { 0 };
	FILE *out = fmemopen(buf, sizeof(buf) - 1, "w");

	cr_assert_eq(col_cli_parse(ARGC(h), h, &cfg, out, err, sizeof(err)), COL_CLI_DONE);
	fflush(out);
	cr_assert_not_null(strstr(buf, "--template-lifetime"), "usage lists the flags");
	cr_assert_not_null(strstr(buf, "WEIR_LOG"));
	col_cfg_free(&cfg);
	rewind(out);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(col_cli_parse(ARGC(v), v, &cfg, out, err, sizeof(err)), COL_CLI_DONE);
	fflush(out);
	cr_assert(strncmp(buf, "weir-collector ", 15) == 0, "%s", buf);
	fclose(out);
	col_cfg_free(&cfg);
}

Test(col_cli, csv_needs_common)
{
	char *a[] = { "weir-collector", "-s", "csv", NULL };
	char *b[] = { "weir-collector", "-f", "raw", "--serializer", "csv", NULL };
	char *c[] = { "weir-collector", "--renormalize", NULL };

	refuse(ARGC(a), a, "-s csv needs -f common");
	refuse(ARGC(b), b, "-s csv needs -f common");
	refuse(ARGC(c), c, "--renormalize needs -f common");
}

Test(col_cli, null_serializer_and_enrich_combinations)
{
	char *ok[] = { "weir-collector", "-f", "common", "-s", "null", NULL };
	char *raw[] = { "weir-collector", "-s", "null", NULL };
	char *a[] = { "weir-collector", "-s", "null", "-o", "x.json", NULL };
	char *b[] = { "weir-collector", "-f", "common", "-s", "null", "--enrich", "type=prefix_lookup", NULL };
	char *c[] = { "weir-collector", "--enrich", "type=prefix_lookup,source=a.csv,key=src_addr,fields=x:y", NULL };
	char *two[] = { "weir-collector", "-f", "common", "--enrich", "A", "--enrich", "B", NULL };

	cr_assert_eq(parse(ARGC(ok), ok), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.ser, COL_S_NULL);
	col_cfg_free(&cfg);
	cr_assert_eq(parse(ARGC(raw), raw), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.format, COL_F_RAW);
	col_cfg_free(&cfg);
	refuse(ARGC(a), a, "-s null writes nothing");
	refuse(ARGC(b), b, "--enrich with -s null");
	refuse(ARGC(c), c, "--enrich needs -f common");
	/* The specs are kept as given, in order; enr.c parses them. */
	cr_assert_eq(parse(ARGC(two), two), COL_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.nenrich, 2);
	cr_assert_str_eq(cfg.enrich[0], "A");
	cr_assert_str_eq(cfg.enrich[1], "B");
	col_cfg_free(&cfg);
}

Test(col_cli, bad_values_name_the_flag)
{
	static const struct {
		const char *flag, *value, *want;
	} bad[] = {
		{ "-t", "ipfix", "--type: 'ipfix' is not netflow or sflow" },
		{ "--type", "", "--type" },
		{ "-p", "0", "--port: '0'" },
		{ "-p", "65536", "--port: '65536'" },
		{ "--port", "12x", "--port: '12x'" },
		{ "-f", "json", "--format: 'json' is not raw or common" },
		{ "-s", "xml", "--serializer: 'xml' is not json, csv or null" },
		{ "-w", "0", "--workers: '0'" },
		{ "--workers", "257", "--workers: '257'" },
		{ "--metrics-port", "70000", "--metrics-port: '70000'" },
		{ "--metrics_port", "-1", "--metrics-port: '-1'" },
		{ "--rcvbuf", "10", "--rcvbuf: '10'" },
		{ "--rcvbuf", "4q", "--rcvbuf: '4q'" },
		{ "--rcvbuf", "2g", "--rcvbuf: '2g'" },
		{ "--template-lifetime", "soon", "--template-lifetime: 'soon'" },
		{ "--template-lifetime", "1.5", "--template-lifetime: '1.5' is not a whole number of seconds" },
		{ "--listen", "example.org", "--listen: 'example.org' is not an IPv4 or IPv6 address" },
		{ "--listen", "[192.0.2.1]", "--listen" },
		{ "--sampling-rate", "0", "--sampling-rate: '0'" },
		{ "--sampling_rate", "10.0.0.1=", "--sampling-rate" },
		{ "--sampling-rate", "nothost=5", "--sampling-rate: 'nothost' is not an IPv4 or IPv6 address" },
		{ "-o", "", "-o: an empty value" },
		{ "--output", "", "--output: an empty value" },
		{ "--pcap", "", "--pcap: an empty value" },
		{ "--ie-mapping", "", "--ie-mapping: an empty value" },
		{ "--template_file", "", "--template_file: an empty value" },
		{ "--metrics-host", "", "--metrics-host: an empty value" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "weir-collector", (char *)bad[i].flag, (char *)bad[i].value, NULL };

		refuse(ARGC(argv), argv, bad[i].want);
	}
}

Test(col_cli, usage_errors)
{
	char *unknown[] = { "weir-collector", "--frobnicate", NULL };
	char *unknown_short[] = { "weir-collector", "-z", NULL };
	char *missing[] = { "weir-collector", "-p", NULL };
	char *extra[] = { "weir-collector", "stray", NULL };

	refuse(ARGC(unknown), unknown, "unknown or ambiguous option --frobnicate");
	refuse(ARGC(unknown_short), unknown_short, "unknown option -z");
	refuse(ARGC(missing), missing, "-p needs a value");
	refuse(ARGC(extra), extra, "unexpected argument 'stray'");
}

/* ---- --sampling-rate [EXPORTER=]N ---- */

Test(col_samp, default_and_overrides)
{
	struct col_samp s = { 0 };
	struct weir_addr a1 = addr("192.0.2.1"), a2 = addr("2001:db8::2"), a3 = addr("192.0.2.3");

	cr_assert_eq(col_samp_parse(&s, "1000", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_samp_parse(&s, "192.0.2.1=10", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_samp_parse(&s, "[2001:db8::2]=20", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_samp_parse(&s, "192.0.2.1=30", err, sizeof(err)), WEIR_OK);
	col_samp_finish(&s);
	cr_assert_eq(s.def, 1000);
	cr_assert_eq(s.n, 2, "the repeated exporter is one entry");
	cr_assert_eq(col_samp_lookup(&s, &a1), 30, "the later value wins");
	cr_assert_eq(col_samp_lookup(&s, &a2), 20);
	cr_assert_eq(col_samp_lookup(&s, &a3), 0);
	/* Override, else the record's rate, else the default. */
	cr_assert_eq(col_samp_rate(&s, 30, 5), 30);
	cr_assert_eq(col_samp_rate(&s, 0, 5), 5);
	cr_assert_eq(col_samp_rate(&s, 0, 0), 1000);
	col_samp_free(&s);
}

Test(col_samp, ipv6_without_brackets)
{
	struct col_samp s = { 0 };
	struct weir_addr a = addr("fe80::1");

	cr_assert_eq(col_samp_parse(&s, "fe80::1=64", err, sizeof(err)), WEIR_OK, "%s", err);
	col_samp_finish(&s);
	cr_assert_eq(col_samp_lookup(&s, &a), 64);
	col_samp_free(&s);
}

Test(col_samp, many_sorted)
{
	struct col_samp s = { 0 };
	char v[64];

	/* Given in descending order; lookups are by binary search. */
	for (int i = 200; i >= 1; i--) {
		snprintf(v, sizeof(v), "10.0.%d.%d=%d", i / 100, i % 100, i);
		cr_assert_eq(col_samp_parse(&s, v, err, sizeof(err)), WEIR_OK, "%s", err);
	}
	col_samp_finish(&s);
	cr_assert_eq(s.n, 200);
	for (int i = 1; i <= 200; i++) {
		struct weir_addr a;

		snprintf(v, sizeof(v), "10.0.%d.%d", i / 100, i % 100);
		a = addr(v);
		cr_assert_eq(col_samp_lookup(&s, &a), (uint32_t)i, "%s", v);
	}
	col_samp_free(&s);
}

Test(col_samp, bad)
{
	static const char *const bad[] = {
		"", "0", "-5", "4294967296", "1e3", "x", "=5", "192.0.2.1=0", "192.0.2.1=",
		"192.0.2.999=5", "[192.0.2.1=5", "10",
	};
	struct col_samp s = { 0 };

	for (size_t i = 0; i + 1 < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(col_samp_parse(&s, bad[i], err, sizeof(err)), WEIR_OK, "'%s'", bad[i]);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(s.def, 0, "nothing bad left a value behind");
	cr_assert_eq(col_samp_parse(&s, "4294967295", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s.def, 4294967295u);
	col_samp_free(&s);
}

/* ---- --template-file: checked at start, a failed save is an error ---- */

TestSuite(col_tfile, .init = suite_init, .fini = suite_fini);

/* weir-collector on a free loopback port with --template-file tf, stderr
 * into errf, logging at info. */
static pid_t start_tfile(const char *tf, const char *errf, char *port, size_t plen)
{
	char *argv[] = { "weir-collector", "--listen", "127.0.0.1", "-p", port, "--metrics-port",
			 "0", "-w", "2", "-s", "null", "--template-file", (char *)tf, NULL };

	snprintf(port, plen, "%u", free_port(SOCK_DGRAM));
	return spawn(argv, errf, "WEIR_LOG=info");
}

/* Issue 11, fault 6: a path that cannot be written stopped nothing at
 * start; now the collector refuses it at once, naming the cause, exit 1. */
Test(col_tfile, unwritable_path_refused_at_start)
{
	const char *errf = path_of("err1"), *errd = path_of("err2");
	char port[8], *text;
	int st;

	st = wait_for(start_tfile(path_of("no-such-dir/t.bin"), errf, port, sizeof(port)), 5000);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	text = slurp(errf, NULL);
	cr_assert_not_null(strstr(text, "weir-collector: error: --template-file: cannot create "),
			   "%s", text);
	cr_assert_not_null(strstr(text, "no-such-dir/t.bin.tmp: No such file or directory"), "%s", text);
	cr_assert_null(strstr(text, "listening"), "refused before receiving: %s", text);
	free(text);
	st = wait_for(start_tfile(tmpdir, errd, port, sizeof(port)), 5000);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	text = slurp(errd, NULL);
	cr_assert_not_null(strstr(text, " is a directory"), "%s", text);
	free(text);
}

/* A save that fails at exit (here: its folder is gone) is an error that
 * names the cause, and the exit status is 1, not 0. */
Test(col_tfile, failed_save_at_exit_is_an_error)
{
	const char *dir = path_of("d"), *errf = path_of("err");
	char tf[256], port[8], *text = NULL;
	pid_t pid;
	int st;

	snprintf(tf, sizeof(tf), "%s/t.bin", dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	pid = start_tfile(tf, errf, port, sizeof(port));
	/* Up: it logs "listening" after the start check and the sockets. */
	for (unsigned t = 0; t < 10000; t += 10) {
		free(text);
		text = access(errf, F_OK) == 0 ? slurp(errf, NULL) : strdup("");
		if (strstr(text, "listening on UDP"))
			break;
		sleep_ms(10);
	}
	cr_assert_not_null(strstr(text, "listening on UDP"), "%s", text);
	free(text);
	cr_assert_eq(rmdir(dir), 0, "the start check left nothing behind");
	st = term_wait(pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	text = slurp(errf, NULL);
	cr_assert_not_null(strstr(text, "save failed: cannot create "), "%s", text);
	cr_assert_not_null(strstr(text, "d/t.bin"), "%s", text);
	cr_assert_not_null(strstr(text, ": No such file or directory"), "%s", text);
	free(text);
}
