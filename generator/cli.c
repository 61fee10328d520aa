/* cli.c - see cli.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "pace.h"
#include "parse.h"
#include "version.h"

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

static const struct option cli_opts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "rate", required_argument, NULL, 'r' },
	{ "flows-per-packet", required_argument, NULL, 'f' },
	{ "flows_per_packet", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'n' },
	{ "observation-domain-id", required_argument, NULL, OPT_DOMAIN },
	{ "observation_domain_id", required_argument, NULL, OPT_DOMAIN },
	{ "template-interval", required_argument, NULL, OPT_TMPL_INTERVAL },
	{ "template_interval", required_argument, NULL, OPT_TMPL_INTERVAL },
	{ "src-cidr", required_argument, NULL, OPT_SRC_CIDR },
	{ "src_cidr", required_argument, NULL, OPT_SRC_CIDR },
	{ "dst-cidr", required_argument, NULL, OPT_DST_CIDR },
	{ "dst_cidr", required_argument, NULL, OPT_DST_CIDR },
	{ "protocols", required_argument, NULL, OPT_PROTOCOLS },
	{ "src-port-range", required_argument, NULL, OPT_SRC_PORTS },
	{ "src_port_range", required_argument, NULL, OPT_SRC_PORTS },
	{ "dst-port-range", required_argument, NULL, OPT_DST_PORTS },
	{ "dst_port_range", required_argument, NULL, OPT_DST_PORTS },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "exporters", required_argument, NULL, OPT_EXPORTERS },
	{ "sampling-rate", required_argument, NULL, OPT_SAMPLING },
	{ "sampling_rate", required_argument, NULL, OPT_SAMPLING },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "distribution", required_argument, NULL, OPT_DISTRIBUTION },
	{ "pcap-out", required_argument, NULL, OPT_PCAP_OUT },
	{ "pcap_out", required_argument, NULL, OPT_PCAP_OUT },
	{ "ledger", required_argument, NULL, OPT_LEDGER },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void cli_usage(FILE *fp)
{
	fputs("Usage: weir-generator [OPTION]...\n"
	      "Send synthetic IPFIX, NetFlow v9, NetFlow v5 or sFlow v5 export packets to a\n"
	      "collector at a controlled rate, and write down what was sent.\n"
	      "\n"
	      "  -H, --host ADDR               collector: IPv4, IPv6 or name   [127.0.0.1]\n"
	      "  -p, --port PORT               collector UDP port               [4739]\n"
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
	      "      --mtu BYTES               IP packet size limit of the datagrams [1500]\n"
	      "  -h, --help                    this text\n"
	      "  -V, --version                 the version\n"
	      "\n"
	      "Every multi-word option is also accepted with underscores (--src_cidr).\n"
	      "Log level from WEIR_LOG=error|warn|info|debug (default warn), on stderr.\n"
	      "Exit status: 0 all sent, 1 a failure or a datagram not sent, 2 bad flags.\n", fp);
}

static uint64_t random_seed(void)
{
	uint64_t s;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
	       (uint64_t)getpid() << 32;
}

/* One option's value into c. */
static int cli_opt(int opt, const char *v, struct gen_cfg *c, char *err, size_t errlen)
{
	uint64_t u;
	int p;

	switch (opt) {
	case 'H':
		if (!*v)
			break;
		c->host = v;
		return WEIR_OK;
	case 'p':
		if (parse_u64(v, 1, 65535, &u, "--port", err, errlen))
			return WEIR_E_INVALID;
		c->port = (uint16_t)u;
		return WEIR_OK;
	case 'r':
		return parse_u64(v, 0, PACE_MAX_RATE, &c->rate, "--rate", err, errlen);
	case 'f':
		if (parse_u64(v, 1, 65535, &u, "--flows-per-packet", err, errlen))
			return WEIR_E_INVALID;
		c->flows_per_packet = (uint32_t)u;
		return WEIR_OK;
	case 'n':
		return parse_u64(v, 0, UINT64_MAX, &c->count, "--count", err, errlen);
	case OPT_DOMAIN:
		if (parse_u64(v, 0, UINT32_MAX, &u, "--observation-domain-id", err, errlen))
			return WEIR_E_INVALID;
		c->domain = (uint32_t)u;
		return WEIR_OK;
	case OPT_TMPL_INTERVAL:
		return parse_u64(v, 0, 86400 * 365, &c->template_interval_s, "--template-interval",
				 err, errlen);
	case OPT_SRC_CIDR:
		return parse_cidr_list(v, c->model.src, MODEL_MAX_RANGES, &c->model.nsrc,
				       err, errlen);
	case OPT_DST_CIDR:
		return parse_cidr_list(v, c->model.dst, MODEL_MAX_RANGES, &c->model.ndst,
				       err, errlen);
	case OPT_PROTOCOLS:
		return parse_protocols(v, c->model.protos, MODEL_MAX_PROTOS, &c->model.nprotos,
				       err, errlen);
	case OPT_SRC_PORTS:
		return parse_port_range(v, &c->model.sport, err, errlen);
	case OPT_DST_PORTS:
		return parse_port_range(v, &c->model.dport, err, errlen);
	case OPT_PROTOCOL:
		p = gen_proto_parse(v);
		if (p < 0)
			break;
		c->proto = (enum gen_proto)p;
		return WEIR_OK;
	case OPT_EXPORTERS:
		if (parse_u64(v, 1, GEN_MAX_EXPORTERS, &u, "--exporters", err, errlen))
			return WEIR_E_INVALID;
		c->exporters = (uint32_t)u;
		return WEIR_OK;
	case OPT_SAMPLING:
		if (parse_u64(v, 1, UINT32_MAX, &u, "--sampling-rate", err, errlen))
			return WEIR_E_INVALID;
		c->sampling_rate = (uint32_t)u;
		return WEIR_OK;
	case OPT_SEED:
		if (parse_u64(v, 0, UINT64_MAX, &c->seed, "--seed", err, errlen))
			return WEIR_E_INVALID;
		c->seeded = 1;
		return WEIR_OK;
	case OPT_DURATION:
		return parse_duration(v, &c->duration_ns, "--duration", err, errlen);
	case OPT_DISTRIBUTION:
		if (parse_distribution(v, &c->model.zipf_s, err, errlen))
			return WEIR_E_INVALID;
		c->distribution = v;
		return WEIR_OK;
	case OPT_PCAP_OUT:
		if (!*v)
			break;
		c->pcap_out = v;
		return WEIR_OK;
	case OPT_LEDGER:
		if (!*v)
			break;
		c->ledger = v;
		return WEIR_OK;
	case OPT_MTU:
		if (parse_u64(v, 576, 65535, &u, "--mtu", err, errlen))
			return WEIR_E_INVALID;
		c->mtu = (uint32_t)u;
		return WEIR_OK;
	}
	if (opt == OPT_PROTOCOL)
		snprintf(err, errlen, "--protocol: '%s' is not ipfix, v9, v5 or sflow", v);
	else
		snprintf(err, errlen, "an empty value is not allowed here");
	return WEIR_E_INVALID;
}

/* Name the option in a message that does not name it yet. */
static void name_option(int opt, int longindex, char *err, size_t errlen)
{
	char msg[512];

	if (strncmp(err, "--", 2) == 0)
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	if (longindex >= 0)
		snprintf(err, errlen, "--%s: %s", cli_opts[longindex].name, msg);
	else
		snprintf(err, errlen, "-%c: %s", opt, msg);
}

enum cli_result cli_parse(int argc, char **argv, struct gen_cfg *c, FILE *out,
			  char *err, size_t errlen)
{
	int opt, longindex = -1;

	gen_cfg_defaults(c);
	c->argc = argc;
	c->argv = argv;
	opterr = 0;
	optind = 0;		/* glibc: start over (tests parse several times) */
	while ((opt = getopt_long(argc, argv, ":H:p:r:f:n:hV", cli_opts, &longindex)) != -1) {
		switch (opt) {
		case 'h':
			cli_usage(out);
			return CLI_DONE;
		case 'V':
			fprintf(out, "weir-generator %s\n", WEIR_VERSION);
			return CLI_DONE;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return CLI_USAGE;
		case '?':
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown or ambiguous option %s", argv[optind - 1]);
			return CLI_USAGE;
		default:
			if (cli_opt(opt, optarg, c, err, errlen)) {
				name_option(opt, longindex, err, errlen);
				return CLI_USAGE;
			}
		}
		longindex = -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_USAGE;
	}
	if (!c->seeded)
		c->seed = random_seed();
	return CLI_RUN;
}
