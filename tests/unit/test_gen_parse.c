/* Unit tests of the generator's own flag parsers (generator/parse.c) and
 * its command line (generator/cli.c); the shared value parsers are
 * test_prog_val.c's. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>

#include "cli.h"
#include "err.h"
#include "parse.h"

static char err[256];

static void expect_addr(const struct weir_addr *a, const char *text)
{
	char buf[64];

	cr_assert_str_eq(weir_addr_str(a, buf, sizeof(buf)), text);
}

struct bad {
	char s[48];
};

Test(gen_parse, protocols)
{
	uint8_t p[8];
	unsigned n;

	cr_assert_eq(parse_protocols("6,17", p, 8, &n, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0], 6);
	cr_assert_eq(p[1], 17);
	cr_assert_eq(parse_protocols("tcp,UDP,icmp,icmpv6,sctp,0,255", p, 8, &n, err, sizeof(err)),
		     WEIR_OK);
	cr_assert_eq(n, 7);
	cr_assert_arr_eq(p, ((uint8_t[]){ 6, 17, 1, 58, 132, 0, 255 }), 7);
	cr_assert_eq(parse_protocols("256", p, 8, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_protocols("6,,17", p, 8, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_protocols("tcpx", p, 8, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_protocols("", p, 8, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_protocols("1,2,3", p, 2, &n, err, sizeof(err)), WEIR_E_INVALID);
}

Test(gen_parse, distribution)
{
	double s;

	cr_assert_eq(parse_distribution("uniform", &s, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 0);
	cr_assert_eq(parse_distribution("zipf", &s, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 1.0);
	cr_assert_eq(parse_distribution("zipf:1.5", &s, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 1.5);
	cr_assert_eq(parse_distribution("zipf:0", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_distribution("zipf:-1", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_distribution("zipf:", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_distribution("zipf:1x", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(parse_distribution("pareto", &s, err, sizeof(err)), WEIR_E_INVALID);
}

/* ---- the command line ---- */

static enum cli_result parse_argv(struct gen_cfg *c, const char *const *args)
{
	static char store[64][128];
	static char *argv[65];
	int argc = 0;

	for (; args[argc]; argc++) {
		cr_assert_lt(argc, 64);
		snprintf(store[argc], sizeof(store[argc]), "%s", args[argc]);
		argv[argc] = store[argc];
	}
	argv[argc] = NULL;
	err[0] = 0;
	return cli_parse(argc, argv, c, stdout, err, sizeof(err));
}

#define ARGS(...) ((const char *const[]){ "weir-generator", __VA_ARGS__, NULL })

Test(gen_cli, defaults)
{
	struct gen_cfg c;

	cr_assert_eq(parse_argv(&c, ((const char *const[]){ "weir-generator", NULL })), CLI_RUN);
	cr_assert_str_eq(c.host, "127.0.0.1");
	cr_assert_eq(c.port, 4739);
	cr_assert_eq(c.rate, 1000);
	cr_assert_eq(c.flows_per_packet, 10);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(c.domain, 1);
	cr_assert_eq(c.template_interval_s, 30);
	cr_assert_eq(c.model.nsrc, 1);
	expect_addr(&c.model.src[0].base, "10.0.0.0");
	cr_assert_eq(c.model.src[0].plen, 8);
	expect_addr(&c.model.dst[0].base, "192.168.0.0");
	cr_assert_eq(c.model.dst[0].plen, 16);
	cr_assert_eq(c.model.nprotos, 2);
	cr_assert_eq(c.model.sport.lo, 1024);
	cr_assert_eq(c.model.sport.hi, 65535);
	cr_assert_eq(c.model.dport.lo, 1);
	cr_assert_eq(c.model.dport.hi, 1024);
	cr_assert_eq(c.proto, GEN_IPFIX);
	cr_assert_eq(c.exporters, 1);
	cr_assert_eq(c.sampling_rate, 1);
	cr_assert_eq(c.mtu, 1500);
	cr_assert_eq(c.seeded, 0);
	cr_assert_null(c.pcap_out);
	cr_assert_null(c.ledger);
}

Test(gen_cli, short_and_long_options)
{
	struct gen_cfg c;

	cr_assert_eq(parse_argv(&c, ARGS("-H", "::1", "-p", "2055", "-r", "0", "-f", "20", "-n",
					 "5", "--protocol", "v9", "--seed", "42",
					 "--observation-domain-id", "7", "--template-interval", "0",
					 "--exporters", "3", "--sampling-rate", "100",
					 "--duration", "1.5", "--distribution", "zipf:1.2",
					 "--pcap-out", "x.pcap", "--ledger", "l.json", "--mtu",
					 "9000", "--protocols", "tcp,17")), CLI_RUN, "%s", err);
	cr_assert_str_eq(c.host, "::1");
	cr_assert_eq(c.port, 2055);
	cr_assert_eq(c.rate, 0);
	cr_assert_eq(c.flows_per_packet, 20);
	cr_assert_eq(c.count, 5);
	cr_assert_eq(c.proto, GEN_V9);
	cr_assert_eq(c.seeded, 1);
	cr_assert_eq(c.seed, 42);
	cr_assert_eq(c.domain, 7);
	cr_assert_eq(c.template_interval_s, 0);
	cr_assert_eq(c.exporters, 3);
	cr_assert_eq(c.sampling_rate, 100);
	cr_assert_eq(c.duration_ns, 1500000000ull);
	cr_assert_float_eq(c.model.zipf_s, 1.2, 1e-12);
	cr_assert_str_eq(c.pcap_out, "x.pcap");
	cr_assert_str_eq(c.ledger, "l.json");
	cr_assert_eq(c.mtu, 9000);
}

/* Every multi-word long option, both spellings. */
Test(gen_cli, underscore_spellings)
{
	static const char *const names[][2] = {
		{ "--src-cidr", "--src_cidr" }, { "--dst-cidr", "--dst_cidr" },
		{ "--src-port-range", "--src_port_range" }, { "--dst-port-range", "--dst_port_range" },
		{ "--flows-per-packet", "--flows_per_packet" },
		{ "--observation-domain-id", "--observation_domain_id" },
		{ "--template-interval", "--template_interval" },
		{ "--sampling-rate", "--sampling_rate" }, { "--pcap-out", "--pcap_out" },
	};
	static const char *const vals[] = { "172.16.0.0/12", "2001:db8::/64", "5-6", "7-8", "3",
					    "9", "11", "13", "y.pcap" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct gen_cfg a, b;

		cr_assert_eq(parse_argv(&a, ARGS(names[i][0], vals[i])), CLI_RUN, "%s: %s",
			     names[i][0], err);
		cr_assert_eq(parse_argv(&b, ARGS(names[i][1], vals[i])), CLI_RUN, "%s: %s",
			     names[i][1], err);
		a.argv = b.argv = NULL;
		a.seed = b.seed = 0;
		cr_assert_eq(memcmp(&a.model, &b.model, sizeof(a.model)), 0, "%s", names[i][1]);
		cr_assert_eq(a.flows_per_packet, b.flows_per_packet);
		cr_assert_eq(a.domain, b.domain);
		cr_assert_eq(a.template_interval_s, b.template_interval_s);
		cr_assert_eq(a.sampling_rate, b.sampling_rate);
		cr_assert_eq(a.pcap_out == NULL, b.pcap_out == NULL);
	}
	{
		struct gen_cfg c;

		cr_assert_eq(parse_argv(&c, ARGS("--src_cidr", "172.16.0.0/12", "--dst_port_range",
						 "7-8")), CLI_RUN);
		expect_addr(&c.model.src[0].base, "172.16.0.0");
		cr_assert_eq(c.model.dport.lo, 7);
		cr_assert_eq(c.model.dport.hi, 8);
	}
}

ParameterizedTestParameters(gen_cli, bad_flags)
{
	static struct bad b[][3] = {
		{ { "--src-cidr" }, { "10.0.0.0/33" } }, { { "--dst-cidr" }, { "nonsense" } },
		{ { "--src-port-range" }, { "9-1" } }, { { "--protocol" }, { "v7" } },
		{ { "--protocols" }, { "300" } }, { { "-p" }, { "0" } }, { { "-p" }, { "65536" } },
		{ { "-f" }, { "0" } }, { { "-r" }, { "fast" } }, { { "--exporters" }, { "0" } },
		{ { "--sampling-rate" }, { "0" } }, { { "--mtu" }, { "100" } },
		{ { "--distribution" }, { "zipf:0" } }, { { "--duration" }, { "0" } },
		{ { "--bogus" }, { "1" } }, { { "-H" }, { "" } }, { { "-n" }, { "-3" } },
	};
	return cr_make_param_array(struct bad[3], b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad (*b)[3], gen_cli, bad_flags)
{
	struct gen_cfg c;

	cr_assert_eq(parse_argv(&c, ARGS((*b)[0].s, (*b)[1].s)), CLI_USAGE, "%s %s accepted",
		     (*b)[0].s, (*b)[1].s);
	cr_assert_neq(err[0], 0);
}

Test(gen_cli, missing_value_and_stray_argument)
{
	struct gen_cfg c;

	cr_assert_eq(parse_argv(&c, ARGS("--port")), CLI_USAGE);
	cr_assert_not_null(strstr(err, "--port"), "%s", err);
	cr_assert_eq(parse_argv(&c, ARGS("-r", "5", "extra")), CLI_USAGE);
	cr_assert_not_null(strstr(err, "extra"), "%s", err);
}

Test(gen_cli, help_and_version)
{
	const char *const *args[] = { ARGS("--version"), ARGS("-h"), ARGS("-V"), ARGS("--help") };
	const char *want[] = { "weir-generator 0.1.0\n", "--src-cidr", "weir-generator ",
			       "--observation-domain-id" };

	for (unsigned i = 0; i < 4; i++) {
		char *argv[3] = { (char *)args[i][0], (char *)args[i][1], NULL };
		struct gen_cfg c;
		size_t len;
		char *text;
		FILE *fp = open_memstream(&text, &len);

		cr_assert_not_null(fp);
		cr_assert_eq(cli_parse(2, argv, &c, fp, err, sizeof(err)), CLI_DONE);
		fclose(fp);
		cr_assert_not_null(strstr(text, want[i]), "%s printed: %s", argv[1], text);
		free(text);
	}
}

Test(gen_cli, template_interval_units)
{
	struct gen_cfg c;

	cr_assert_eq(parse_argv(&c, ARGS("--template-interval", "5m")), CLI_RUN, "%s", err);
	cr_assert_eq(c.template_interval_s, 300);
	cr_assert_eq(parse_argv(&c, ARGS("--template-interval", "90")), CLI_RUN, "%s", err);
	cr_assert_eq(c.template_interval_s, 90);
	cr_assert_eq(parse_argv(&c, ARGS("--template-interval", "2.5s")), CLI_USAGE);
}

/* Issue 11, fault 9: without -p each protocol goes to its own port (sFlow
 * 6343, NetFlow 2055, IPFIX 4739); -p wins, before or after --protocol. */
Test(gen_cli, default_port_follows_protocol)
{
	static const struct {
		const char *proto;
		uint16_t port;
	} want[] = { { "ipfix", 4739 }, { "v9", 2055 }, { "v5", 2055 }, { "sflow", 6343 } };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct gen_cfg c;

		cr_assert_eq(parse_argv(&c, ARGS("--protocol", want[i].proto)), CLI_RUN, "%s", err);
		cr_assert_eq(c.port, want[i].port, "--protocol %s: port %u", want[i].proto, c.port);
		cr_assert_eq(parse_argv(&c, ARGS("-p", "9999", "--protocol", want[i].proto)), CLI_RUN);
		cr_assert_eq(c.port, 9999, "-p before --protocol %s", want[i].proto);
		cr_assert_eq(parse_argv(&c, ARGS("--protocol", want[i].proto, "--port", "4739")),
			     CLI_RUN);
		cr_assert_eq(c.port, 4739, "--port after --protocol %s", want[i].proto);
	}
}
