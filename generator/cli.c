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

/* --help, and (prog_cli.h) the table of the options. */
static const char gen_usage[] =
	"Usage: weir-generator [OPTION]...\n"
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
	"      --template-interval T     time between template sends (30, 5m),\n"
	"                                0 = once                         [30s]\n"
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
	"      --duration T              stop after T: 10 (seconds), 2.5s, 500ms, 5m, 1h\n"
	"                                                                 [none]\n"
	"      --distribution D          address popularity: uniform, zipf, zipf:S\n"
	"                                                                 [uniform]\n"
	"      --pcap-out FILE           write the packets into a pcap file instead\n"
	"      --ledger FILE             write the JSON ledger of what was sent\n"
	"      --mtu BYTES               IP packet size the records should fit; more\n"
	"                                is sent IP-fragmented, with a warning [1500]\n";

static const char gen_usage_end[] =
	"Exit status: 0 all sent, 1 a failure or a datagram not sent, 2 bad flags.\n";

static int cli_opt(void *cfg, const char *o, const char *v, char *err, size_t errlen);
static int cli_finish(void *cfg, char *err, size_t errlen);

static const struct prog_cli gen_cli = {
	.prog = "weir-generator", .usage = gen_usage, .usage_end = gen_usage_end,
	.set = cli_opt, .finish = cli_finish,
};

static uint64_t random_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	return prog_now_real() * 1000000007ull ^ (uint64_t)getpid() << 32;
}

/* The options that take a whole number: where it goes (of what width) and
 * its bounds. 1 when o is none of them. */
static int cli_number(struct gen_cfg *c, const char *o, const char *v, char *err, size_t errlen)
{
	const struct {
		const char *name;
		uint64_t min, max;
		void *to;
		size_t size;
	} nums[] = {
		{ "port", 1, 65535, &c->port, sizeof(c->port) },
		{ "rate", 0, PACE_MAX_RATE, &c->rate, sizeof(c->rate) },
		{ "flows-per-packet", 1, 65535, &c->flows_per_packet, sizeof(c->flows_per_packet) },
		{ "count", 0, UINT64_MAX, &c->count, sizeof(c->count) },
		{ "observation-domain-id", 0, UINT32_MAX, &c->domain, sizeof(c->domain) },
		{ "exporters", 1, GEN_MAX_EXPORTERS, &c->exporters, sizeof(c->exporters) },
		{ "sampling-rate", 1, UINT32_MAX, &c->sampling_rate, sizeof(c->sampling_rate) },
		{ "seed", 0, UINT64_MAX, &c->seed, sizeof(c->seed) },
		{ "mtu", 576, 65535, &c->mtu, sizeof(c->mtu) },
	};
	char what[48];
	uint64_t u;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!prog_opt_is(o, nums[i].name))
			continue;
		snprintf(what, sizeof(what), "--%s", o);
		if (prog_parse_u64(v, nums[i].min, nums[i].max, &u, what, err, errlen))
			return WEIR_E_INVALID;
		if (nums[i].size == 2)
			*(uint16_t *)nums[i].to = (uint16_t)u;
		else if (nums[i].size == 4)
			*(uint32_t *)nums[i].to = (uint32_t)u;
		else
			*(uint64_t *)nums[i].to = u;
		c->port_set |= prog_opt_is(o, "port");
		c->seeded |= prog_opt_is(o, "seed");
		return WEIR_OK;
	}
	return 1;
}

/* One option's value into cfg (prog_cli's set handler). */
static int cli_opt(void *cfg, const char *o, const char *v, char *err, size_t errlen)
{
	struct gen_cfg *c = cfg;
	struct model_cfg *m = &c->model;
	int r = cli_number(c, o, v, err, errlen);

	if (r <= 0)
		return r;
	if (prog_opt_is(o, "host"))
		c->host = v;
	else if (prog_opt_is(o, "src-cidr"))
		return prog_parse_cidr_list(v, m->src, MODEL_MAX_RANGES, &m->nsrc, err, errlen);
	else if (prog_opt_is(o, "dst-cidr"))
		return prog_parse_cidr_list(v, m->dst, MODEL_MAX_RANGES, &m->ndst, err, errlen);
	else if (prog_opt_is(o, "protocols"))
		return parse_protocols(v, m->protos, MODEL_MAX_PROTOS, &m->nprotos, err, errlen);
	else if (prog_opt_is(o, "src-port-range"))
		return prog_parse_port_range(v, &m->sport, err, errlen);
	else if (prog_opt_is(o, "dst-port-range"))
		return prog_parse_port_range(v, &m->dport, err, errlen);
	else if (prog_opt_is(o, "template-interval"))
		return prog_parse_seconds(v, 0, 86400 * 365, &c->template_interval_s,
					  "--template-interval", err, errlen);
	else if (prog_opt_is(o, "duration"))
		return prog_parse_duration(v, 1, GEN_DURATION_MAX_NS, &c->duration_ns, "--duration",
					   err, errlen);
	else if (prog_opt_is(o, "pcap-out"))
		c->pcap_out = v;
	else if (prog_opt_is(o, "ledger"))
		c->ledger = v;
	else if (prog_opt_is(o, "distribution")) {
		if (parse_distribution(v, &m->zipf_s, err, errlen))
			return WEIR_E_INVALID;
		c->distribution = v;
	} else {
		r = gen_proto_parse(v);
		if (r < 0) {
			snprintf(err, errlen, "--protocol: '%s' is not ipfix, v9, v5 or sflow", v);
			return WEIR_E_INVALID;
		}
		c->proto = (enum gen_proto)r;
	}
	return WEIR_OK;
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
	gen_cfg_defaults(c);
	c->argc = argc;
	c->argv = argv;
	return (enum cli_result)prog_cli_parse(&gen_cli, argc, argv, c, out, err, errlen);
}
