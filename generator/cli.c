/* cli.c - see cli.h. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "pace.h"
#include "parse.h"
#include "prog_cli.h"
#include "prog_clock.h"

enum {
	OPT_DOMAIN = 256,
	OPT_TMPL_INTERVAL,
	OPT_SRC_CIDR,
	OPT_DST_CIDR,
	OPT_PROTOCOLS,
	OPT_SRC_PORTS,
	OPT_DST_PORTS,
	OPT_PROTOCOL,
	OPT_EXPORTERS,
	OPT_SAMPLING,
	OPT_SEED,
	OPT_DURATION,
	OPT_DISTRIBUTION,
	OPT_PCAP_OUT,
	OPT_LEDGER,
	OPT_MTU,
};

/* The underscore spellings, --help and --version come from prog_cli. */
static const struct prog_opt cli_opts[] = {
	{ "host", 'H', PROG_ARG_NONEMPTY },
	{ "port", 'p', PROG_ARG_VALUE },
	{ "rate", 'r', PROG_ARG_VALUE },
	{ "flows-per-packet", 'f', PROG_ARG_VALUE },
	{ "count", 'n', PROG_ARG_VALUE },
	{ "observation-domain-id", OPT_DOMAIN, PROG_ARG_VALUE },
	{ "template-interval", OPT_TMPL_INTERVAL, PROG_ARG_VALUE },
	{ "src-cidr", OPT_SRC_CIDR, PROG_ARG_VALUE },
	{ "dst-cidr", OPT_DST_CIDR, PROG_ARG_VALUE },
	{ "protocols", OPT_PROTOCOLS, PROG_ARG_VALUE },
	{ "src-port-range", OPT_SRC_PORTS, PROG_ARG_VALUE },
	{ "dst-port-range", OPT_DST_PORTS, PROG_ARG_VALUE },
	{ "protocol", OPT_PROTOCOL, PROG_ARG_VALUE },
	{ "exporters", OPT_EXPORTERS, PROG_ARG_VALUE },
	{ "sampling-rate", OPT_SAMPLING, PROG_ARG_VALUE },
	{ "seed", OPT_SEED, PROG_ARG_VALUE },
	{ "duration", OPT_DURATION, PROG_ARG_VALUE },
	{ "distribution", OPT_DISTRIBUTION, PROG_ARG_VALUE },
	{ "pcap-out", OPT_PCAP_OUT, PROG_ARG_NONEMPTY },
	{ "ledger", OPT_LEDGER, PROG_ARG_NONEMPTY },
	{ "mtu", OPT_MTU, PROG_ARG_VALUE },
	{ NULL, 0, 0 },
};

void cli_usage(FILE *fp)
{
	fputs("Usage: weir-generator [OPTION]...\n"
	      "Send synthetic IPFIX, NetFlow v9, NetFlow v5 or sFlow v5 export packets to a\n"
	      "collector at a controlled rate, and write down what was sent.\n"
	      "\n"
	      "  -H, --host ADDR               collector: IPv4, IPv6 or name   [127.0.0.1]\n"
	      "  -p, --port PORT               collector UDP port [4739 ipfix, 2055 v9 and v5,\n"
	      "                                6343 sflow: the --protocol's own]\n"
	      "  -r, --rate N                  export packets per second, 0 = as fast as\n"
	      "                                possible                         [1000]\n"
	      "  -f, --flows-per-packet N      flow records per packet          [10]\n"
	      "  -n, --count N                 data packets to send, 0 = until stopped [0]\n"
	      "      --observation-domain-id N observation domain of the first exporter [1]\n"
	      "      --template-interval S     seconds between template sends, 0 = once [30]\n"
	      "      --src-cidr CIDR[,CIDR]    source ranges, IPv4 or IPv6      [10.0.0.0/8]\n"
	      "      --dst-cidr CIDR[,CIDR]    destination ranges               [192.168.0.0/16]\n"
	      "      --protocols P[,P]         IP protocols (numbers or tcp, udp, icmp,\n"
	      "                                icmpv6, sctp)                    [6,17]\n"
	      "      --src-port-range LO-HI    source ports                     [1024-65535]\n"
	      "      --dst-port-range LO-HI    destination ports                [1-1024]\n"
	      "      --protocol NAME           ipfix, v9, v5 or sflow           [ipfix]\n"
	      "      --exporters N             simulated exporters, each its own socket,\n"
	      "                                source port, domain, sequence numbers [1]\n"
	      "      --sampling-rate N         1 in N sampling, announced in an options\n"
	      "                                template, the v5 header or the sFlow sample [1]\n"
	      "      --seed N                  same seed, same bytes (timestamps from a\n"
	      "                                schedule)                        [random]\n"
	      "      --duration T              stop after T seconds (also 5m, 1h) [none]\n"
	      "      --distribution D          address popularity: uniform, zipf, zipf:S\n"
	      "                                                                 [uniform]\n"
	      "      --pcap-out FILE           write the packets into a pcap file instead\n"
	      "      --ledger FILE             write the JSON ledger of what was sent\n"
	      "      --mtu BYTES               IP packet size the records should fit; more\n"
	      "                                is sent IP-fragmented, with a warning [1500]\n"
	      , fp);
	prog_cli_usage_tail(fp);
	fputs("Exit status: 0 all sent, 1 a failure or a datagram not sent, 2 bad flags.\n", fp);
}

static uint64_t random_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	return prog_now_real() * 1000000007ull ^ (uint64_t)getpid() << 32;
}

/* One option's value into cfg (prog_cli's set handler). */
static int cli_opt(void *cfg, int opt, const char *v, char *err, size_t errlen)
{
	struct gen_cfg *c = cfg;
	uint64_t u;
	int p;

	switch (opt) {
	case 'H':
		c->host = v;
		return WEIR_OK;
	case 'p':
		if (prog_parse_u64(v, 1, 65535, &u, "--port", err, errlen))
			return WEIR_E_INVALID;
		c->port = (uint16_t)u;
		c->port_set = 1;
		return WEIR_OK;
	case 'r':
		return prog_parse_u64(v, 0, PACE_MAX_RATE, &c->rate, "--rate", err, errlen);
	case 'f':
		if (prog_parse_u64(v, 1, 65535, &u, "--flows-per-packet", err, errlen))
			return WEIR_E_INVALID;
		c->flows_per_packet = (uint32_t)u;
		return WEIR_OK;
	case 'n':
		return prog_parse_u64(v, 0, UINT64_MAX, &c->count, "--count", err, errlen);
	case OPT_DOMAIN:
		if (prog_parse_u64(v, 0, UINT32_MAX, &u, "--observation-domain-id", err, errlen))
			return WEIR_E_INVALID;
		c->domain = (uint32_t)u;
		return WEIR_OK;
	case OPT_TMPL_INTERVAL:
		return prog_parse_u64(v, 0, 86400 * 365, &c->template_interval_s, "--template-interval",
				 err, errlen);
	case OPT_SRC_CIDR:
		return prog_parse_cidr_list(v, c->model.src, MODEL_MAX_RANGES, &c->model.nsrc,
				       err, errlen);
	case OPT_DST_CIDR:
		return prog_parse_cidr_list(v, c->model.dst, MODEL_MAX_RANGES, &c->model.ndst,
				       err, errlen);
	case OPT_PROTOCOLS:
		return parse_protocols(v, c->model.protos, MODEL_MAX_PROTOS, &c->model.nprotos,
				       err, errlen);
	case OPT_SRC_PORTS:
		return prog_parse_port_range(v, &c->model.sport, err, errlen);
	case OPT_DST_PORTS:
		return prog_parse_port_range(v, &c->model.dport, err, errlen);
	case OPT_PROTOCOL:
		p = gen_proto_parse(v);
		if (p < 0)
			break;
		c->proto = (enum gen_proto)p;
		return WEIR_OK;
	case OPT_EXPORTERS:
		if (prog_parse_u64(v, 1, GEN_MAX_EXPORTERS, &u, "--exporters", err, errlen))
			return WEIR_E_INVALID;
		c->exporters = (uint32_t)u;
		return WEIR_OK;
	case OPT_SAMPLING:
		if (prog_parse_u64(v, 1, UINT32_MAX, &u, "--sampling-rate", err, errlen))
			return WEIR_E_INVALID;
		c->sampling_rate = (uint32_t)u;
		return WEIR_OK;
	case OPT_SEED:
		if (prog_parse_u64(v, 0, UINT64_MAX, &c->seed, "--seed", err, errlen))
			return WEIR_E_INVALID;
		c->seeded = 1;
		return WEIR_OK;
	case OPT_DURATION:
		return prog_parse_duration(v, 1, GEN_DURATION_MAX_NS, &c->duration_ns, "--duration",
					   err, errlen);
	case OPT_DISTRIBUTION:
		if (parse_distribution(v, &c->model.zipf_s, err, errlen))
			return WEIR_E_INVALID;
		c->distribution = v;
		return WEIR_OK;
	case OPT_PCAP_OUT:
		c->pcap_out = v;
		return WEIR_OK;
	case OPT_LEDGER:
		c->ledger = v;
		return WEIR_OK;
	case OPT_MTU:
		if (prog_parse_u64(v, 576, 65535, &u, "--mtu", err, errlen))
			return WEIR_E_INVALID;
		c->mtu = (uint32_t)u;
		return WEIR_OK;
	}
	if (opt == OPT_PROTOCOL)
		snprintf(err, errlen, "--protocol: '%s' is not ipfix, v9, v5 or sflow", v);
	return WEIR_E_INVALID;
}

static void cli_defaults(void *cfg)
{
	gen_cfg_defaults(cfg);
}

static int cli_finish(void *cfg, char *err, size_t errlen)
{
	struct gen_cfg *c = cfg;

	(void)err;
	(void)errlen;
	/* Each protocol's own port unless -p says otherwise, whatever the
	 * order of -p and --protocol. */
	if (!c->port_set)
		c->port = gen_proto_port(c->proto);
	if (!c->seeded)
		c->seed = random_seed();
	return WEIR_OK;
}

enum cli_result cli_parse(int argc, char **argv, struct gen_cfg *c, FILE *out,
			  char *err, size_t errlen)
{
	static const struct prog_cli cli = {
		.prog = "weir-generator",
		.opts = cli_opts,
		.usage = cli_usage,
		.defaults = cli_defaults,
		.set = cli_opt,
		.finish = cli_finish,
	};
	enum cli_result r = (enum cli_result)prog_cli_parse(&cli, argc, argv, c, out, err, errlen);

	c->argc = argc;
	c->argv = argv;
	return r;
}
