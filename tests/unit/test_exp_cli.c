/* Unit tests of weir-exporter's command line (exporter/cli.c): the
 * defaults of the reference exporter, every flag in its short, long and
 * underscore spellings, durations with units, and refusals that name the
 * flag (exit status 2 in main); and the settings the meter and the
 * exporting process get from it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "meter.h"
#include "xp.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)
#define SEC 1000000000ull

static char err[512];
static struct exp_cfg cfg;

static enum exp_cli_result parse(int argc, char **argv)
{
	FILE *out = fopen("/dev/null", "w");
	enum exp_cli_result r;

	cr_assert_not_null(out);
	err[0] = 0;
	r = exp_cli_parse(argc, argv, &cfg, out, err, sizeof(err));
	fclose(out);
	return r;
}

/* Parse and expect a usage error whose text holds want. */
static void refuse(int argc, char **argv, const char *want)
{
	cr_assert_eq(parse(argc, argv), EXP_CLI_USAGE, "accepted: %s %s", argv[1],
		     argc > 2 ? argv[2] : "");
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err, want);
}

Test(exp_cli, defaults)
{
	char *argv[] = { "weir-exporter", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), EXP_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.interface, "lo");
	cr_assert_eq(cfg.interface_set, 0);
	cr_assert_str_eq(cfg.host, "127.0.0.1");
	cr_assert_eq(cfg.port, 4739);
	cr_assert_eq(cfg.transport, EXP_T_UDP);
	cr_assert_eq(cfg.domain, 1);
	cr_assert_eq(cfg.active_ns, 60 * SEC);
	cr_assert_eq(cfg.inactive_ns, 15 * SEC);
	cr_assert_eq(cfg.refresh_ns, 300 * SEC);
	cr_assert_eq(cfg.sampling, 1);
	cr_assert_eq(cfg.max_flows, 65536);
	cr_assert_eq(cfg.mtu, 1400);
	cr_assert_eq(cfg.npcaps, 0);
	cr_assert_null(cfg.ipfix_file);
	cr_assert_eq(cfg.biflow, 0);
	cr_assert_eq(cfg.promiscuous, 0);
	cr_assert_eq(cfg.tcp_wait_ns, 30 * SEC);
}

/* The reference exporter's examples, as the issue lists them. */
Test(exp_cli, reference_examples)
{
	char *a1[] = { "weir-exporter", "-i", "eth0", "-H", "192.168.1.100", "-p", "4739", NULL };
	char *a2[] = { "weir-exporter", "-i", "eth0", "-H", "10.0.0.1", "-p", "2055", "--promiscuous",
		       "--active-timeout", "120", "--inactive-timeout", "30", NULL };
	char *a3[] = { "weir-exporter", "-i", "eth0", "-H", "10.0.0.1", "-p", "4739",
		       "--sampling-packet-interval", "100", NULL };
	char *a4[] = { "weir-exporter", "--pcap", "capture.pcap", "-H", "127.0.0.1", "-p", "4739",
		       NULL };

	cr_assert_eq(parse(ARGC(a1), a1), EXP_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.interface, "eth0");
	cr_assert(cfg.interface_set);
	cr_assert_str_eq(cfg.host, "192.168.1.100");
	cr_assert_eq(cfg.port, 4739);
	cr_assert_eq(parse(ARGC(a2), a2), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.port, 2055);
	cr_assert(cfg.promiscuous);
	cr_assert_eq(cfg.active_ns, 120 * SEC);
	cr_assert_eq(cfg.inactive_ns, 30 * SEC);
	cr_assert_eq(parse(ARGC(a3), a3), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.sampling, 100);
	cr_assert_eq(parse(ARGC(a4), a4), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.npcaps, 1);
	cr_assert_str_eq(cfg.pcaps[0], "capture.pcap");
	cr_assert_eq(cfg.interface_set, 0);
}

/* Every long flag with dashes, then with underscores. */
static void check_long(const char *sep)
{
	const char *names[] = { "collector%shost", "collector%sport", "observation%sdomain%sid",
				"active%stimeout", "inactive%stimeout", "template%srefresh%srate",
				"sampling%spacket%sinterval", "max%sflows", "tcp%swait%stimeout" };
	char o[9][48], *argv[42];
	int n = 0;

	for (int i = 0; i < 9; i++) {
		char tmp[48];

		snprintf(tmp, sizeof(tmp), "--%s", names[i]);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		snprintf(o[i], sizeof(o[i]), tmp, sep, sep);
#pragma GCC diagnostic pop
	}
	argv[n++] = "weir-exporter";
	argv[n++] = "--interface"; argv[n++] = "eth1";
	argv[n++] = o[0]; argv[n++] = "::1";
	argv[n++] = o[1]; argv[n++] = "9995";
	argv[n++] = "--transport"; argv[n++] = "tcp";
	argv[n++] = o[2]; argv[n++] = "4294967295";
	argv[n++] = o[3]; argv[n++] = "2m";
	argv[n++] = o[4]; argv[n++] = "500ms";
	argv[n++] = o[5]; argv[n++] = "1.5";
	argv[n++] = o[6]; argv[n++] = "7";
	argv[n++] = o[7]; argv[n++] = "1000";
	argv[n++] = o[8]; argv[n++] = "2m";
	argv[n++] = "--mtu"; argv[n++] = "9000";
	argv[n++] = "--biflow";
	argv[n++] = "--promiscuous";
	argv[n++] = "--pcap"; argv[n++] = "a.pcap";
	argv[n++] = "--pcap"; argv[n++] = "-";
	argv[n++] = "--pcap"; argv[n++] = "c.pcapng";
	argv[n] = NULL;

	cr_assert_eq(parse(n, argv), EXP_CLI_RUN, "%s: %s", sep, err);
	cr_assert_str_eq(cfg.interface, "eth1");
	cr_assert_str_eq(cfg.host, "::1");
	cr_assert_eq(cfg.port, 9995);
	cr_assert_eq(cfg.transport, EXP_T_TCP);
	cr_assert_eq(cfg.domain, 4294967295u);
	cr_assert_eq(cfg.active_ns, 120 * SEC);
	cr_assert_eq(cfg.inactive_ns, SEC / 2);
	cr_assert_eq(cfg.refresh_ns, 3 * SEC / 2);
	cr_assert_eq(cfg.sampling, 7);
	cr_assert_eq(cfg.max_flows, 1000);
	cr_assert_eq(cfg.tcp_wait_ns, 120 * SEC);
	cr_assert_eq(cfg.mtu, 9000);
	cr_assert(cfg.biflow && cfg.promiscuous);
	cr_assert_eq(cfg.npcaps, 3, "--pcap is repeatable");
	cr_assert_str_eq(cfg.pcaps[0], "a.pcap");
	cr_assert_str_eq(cfg.pcaps[1], "-");
	cr_assert_str_eq(cfg.pcaps[2], "c.pcapng");
}

Test(exp_cli, long_flags_dashes)
{
	check_long("-");
}

Test(exp_cli, long_flags_underscores)
{
	check_long("_");
}

Test(exp_cli, ipfix_file)
{
	char *argv[] = { "weir-exporter", "--pcap", "x.pcap", "--ipfix-file", "out.ipfix", NULL };

	cr_assert_eq(parse(ARGC(argv), argv), EXP_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.ipfix_file, "out.ipfix");
}

Test(exp_cli, refusals)
{
	char *bad[][4] = {
		{ "weir-exporter", "-p", "0", "-p" },
		{ "weir-exporter", "-p", "65536", "-p" },
		{ "weir-exporter", "--collector-port", "47x", "--collector-port" },
		{ "weir-exporter", "--transport", "sctp", "'sctp' is not udp or tcp" },
		{ "weir-exporter", "--active-timeout", "0", "--active-timeout" },
		{ "weir-exporter", "--inactive-timeout", "10parsecs", "--inactive-timeout" },
		{ "weir-exporter", "--template-refresh-rate", "-5", "--template-refresh-rate" },
		{ "weir-exporter", "--sampling-packet-interval", "0", "--sampling-packet-interval" },
		{ "weir-exporter", "--max-flows", "0", "--max-flows" },
		{ "weir-exporter", "--max-flows", "67108865", "--max-flows" },
		{ "weir-exporter", "--mtu", "100", "--mtu" },
		{ "weir-exporter", "--mtu", "65536", "--mtu" },
		{ "weir-exporter", "--observation-domain-id", "4294967296", "--observation-domain-id" },
		{ "weir-exporter", "--pcap", "", "--pcap" },
		{ "weir-exporter", "--ipfix-file", "", "--ipfix-file" },
		{ "weir-exporter", "-H", "", "-H" },
		{ "weir-exporter", "-i", "", "--interface" },
		{ "weir-exporter", "-i", "a-name-too-long-for-linux", "longer than" },
		{ "weir-exporter", "--direction", "sideways", "'sideways' is not ingress" },
		{ "weir-exporter", "--attach", "xdp", "'xdp' is not auto" },
		{ "weir-exporter", "--metrics-port", "65536", "--metrics-port" },
		{ "weir-exporter", "--bogus", "1", "--bogus" },
		{ "weir-exporter", "--tcp-wait-timeout", "25h", "--tcp-wait-timeout" },
		{ "weir-exporter", "--tcp-wait-timeout", "-1", "--tcp-wait-timeout" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { bad[i][0], bad[i][1], bad[i][2], NULL };

		refuse(ARGC(argv), argv, bad[i][3]);
	}
}

/* The live path's flags: interfaces in order, direction, attachment,
 * metrics. */
Test(exp_cli, live_flags)
{
	char *a1[] = { "weir-exporter", "-i", "veth0", "--interface", "eth1", "--direction", "egress",
		       "--attach", "tc", "--metrics-port", "9101", "--metrics-host", "::1", NULL };
	char *a2[] = { "weir-exporter", "-i", "eth0", "-i", "eth0", NULL };
	char *a3[] = { "weir-exporter", NULL };
	char *a4[] = { "weir-exporter", "--direction", "ingress", "--attach", "tcx", NULL };

	cr_assert_eq(parse(ARGC(a1), a1), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.nifaces, 2);
	cr_assert_str_eq(cfg.ifaces[0], "veth0");
	cr_assert_str_eq(cfg.ifaces[1], "eth1");
	cr_assert_str_eq(cfg.interface, "veth0");
	cr_assert_eq(cfg.direction, EXP_DIR_EGRESS);
	cr_assert_eq(cfg.attach, EXP_ATTACH_TC);
	cr_assert_eq(cfg.metrics_port, 9101);
	cr_assert_str_eq(cfg.metrics_host, "::1");
	refuse(ARGC(a2), a2, "given twice");
	cr_assert_eq(parse(ARGC(a3), a3), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.nifaces, 1);
	cr_assert_str_eq(cfg.ifaces[0], "lo");
	cr_assert_eq(cfg.direction, EXP_DIR_BOTH);
	cr_assert_eq(cfg.attach, EXP_ATTACH_AUTO);
	cr_assert_eq(cfg.metrics_port, 0);
	cr_assert_eq(parse(ARGC(a4), a4), EXP_CLI_RUN, "%s", err);
	cr_assert_eq(cfg.direction, EXP_DIR_INGRESS);
	cr_assert_eq(cfg.attach, EXP_ATTACH_TCX);
}

Test(exp_cli, combinations_refused)
{
	char *a1[] = { "weir-exporter", "--ipfix-file", "f", "-H", "10.0.0.1", NULL };
	char *a2[] = { "weir-exporter", "--ipfix-file", "f", "--transport", "tcp", NULL };
	char *a3[] = { "weir-exporter", "--mtu", "65535", NULL };
	char *a4[] = { "weir-exporter", "--pcap", "-", "--pcap", "-", NULL };
	char *a5[] = { "weir-exporter", "--mtu", "65535", "--transport", "tcp", NULL };
	char *a6[] = { "weir-exporter", "--tcp-wait-timeout", "5", NULL };
	char *a7[] = { "weir-exporter", "--ipfix-file", "f", "--tcp-wait-timeout", "5", NULL };
	char *a8[] = { "weir-exporter", "--tcp-wait-timeout", "0", "--transport", "tcp", "--pcap",
		       "x", NULL };
	char *a9[] = { "weir-exporter", "--tcp-wait-timeout", "5", "--transport", "tcp", NULL };

	refuse(ARGC(a1), a1, "--ipfix-file");
	refuse(ARGC(a2), a2, "--ipfix-file");
	refuse(ARGC(a3), a3, "UDP");
	refuse(ARGC(a4), a4, "stdin");
	cr_assert_eq(parse(ARGC(a5), a5), EXP_CLI_RUN, "TCP carries 65535-byte messages: %s", err);
	refuse(ARGC(a6), a6, "--transport tcp");
	refuse(ARGC(a7), a7, "--transport tcp");
	cr_assert_eq(parse(ARGC(a8), a8), EXP_CLI_RUN, "0: never wait: %s", err);
	cr_assert_eq(cfg.tcp_wait_ns, 0);
	refuse(ARGC(a9), a9, "metering live");
}

Test(exp_cli, help_and_version)
{
	char *a1[] = { "weir-exporter", "--help", NULL };
	char *a2[] = { "weir-exporter", "-V", NULL };
	char buf[8192] = { 0 };
	FILE *out = fmemopen(buf, sizeof(buf) - 1, "w");

	cr_assert_not_null(out);
	cr_assert_eq(exp_cli_parse(ARGC(a1), a1, &cfg, out, err, sizeof(err)), EXP_CLI_DONE);
	fclose(out);
	for (const char *w = "--pcap FILE|--ipfix-file FILE|--biflow|--max-flows N|--direction DIR|[4739]|"
			     "[60s]|[15s]|[300s]|--promiscuous|nothing with --pcap|WEIR_LOG|"
			     "--tcp-wait-timeout T|[30s]";
	     *w; w += strcspn(w, "|") + (w[strcspn(w, "|")] != 0)) {
		char word[64];

		snprintf(word, sizeof(word), "%.*s", (int)strcspn(w, "|"), w);
		cr_assert_not_null(strstr(buf, word), "--help lacks '%s'", word);
	}
	out = fmemopen(buf, sizeof(buf) - 1, "w");
	cr_assert_eq(exp_cli_parse(ARGC(a2), a2, &cfg, out, err, sizeof(err)), EXP_CLI_DONE);
	fclose(out);
	cr_assert_eq(strncmp(buf, "weir-exporter ", 14), 0, "%s", buf);
}

/* What the meter and the exporting process are told. */
Test(exp_cli, run_settings)
{
	char *a1[] = { "weir-exporter", "--pcap", "x", "-H", "::1", "-p", "4740", "--transport",
		       "tcp", "--biflow", "--sampling-packet-interval", "10", "--max-flows", "77",
		       "--active-timeout", "30", "--inactive-timeout", "5", "--mtu", "1200",
		       "--observation-domain-id", "9", "--template-refresh-rate", "60", NULL };
	char *a2[] = { "weir-exporter", "--pcap", "x", "--ipfix-file", "out.ipfix", NULL };
	struct meter_cfg m;
	struct xp_cfg x;

	cr_assert_eq(parse(ARGC(a1), a1), EXP_CLI_RUN, "%s", err);
	exp_cfg_meter(&cfg, &m);
	exp_cfg_xp(&cfg, &x);
	cr_assert_eq(m.active_ns, 30 * SEC);
	cr_assert_eq(m.inactive_ns, 5 * SEC);
	cr_assert_eq(m.max_flows, 77);
	cr_assert_eq(m.sampling, 10);
	cr_assert_eq(m.linger_ns, 0, "the meter's default");
	cr_assert_eq(x.transport, XP_TCP);
	cr_assert_str_eq(x.host, "::1");
	cr_assert_eq(x.port, 4740);
	cr_assert_null(x.path);
	cr_assert_eq(x.domain, 9);
	cr_assert_eq(x.mtu, 1200);
	cr_assert_eq(x.refresh_ns, 60 * SEC);
	cr_assert_eq(x.biflow, 1);
	cr_assert_eq(x.sampling, 10);
	cr_assert_eq(x.wait_ms, 0, "the live path never waits; offline.c sets it");
	cr_assert_eq(parse(ARGC(a2), a2), EXP_CLI_RUN, "%s", err);
	exp_cfg_xp(&cfg, &x);
	cr_assert_eq(x.transport, XP_FILE);
	cr_assert_str_eq(x.path, "out.ipfix");
	cr_assert_null(x.host);
}
