/* cli.c - see cli.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "meter.h"
#include "prog_cli.h"
#include "prog_clock.h"
#include "prog_val.h"
#include "xp.h"

/* --help, and (prog_cli.h) the table of the options. */
static const char exp_usage[] =
	"Usage: weir-exporter [OPTION]...\n"
	"Meter traffic into flows and export them as IPFIX (RFC 7011) over UDP or\n"
	"TCP, or into a file. The packets are those of interfaces, metered live by\n"
	"eBPF programs on tc (-i; needs CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON), or\n"
	"those of capture files (--pcap).\n"
	"\n"
	"  -i, --interface IFACE         interface to meter live; repeatable  [lo]\n"
	"      --direction DIR           ingress, egress or both          [both]\n"
	"      --attach HOW              tcx (kernel links, Linux 6.6), tc (a filter\n"
	"                                on the clsact qdisc) or auto: tcx where the\n"
	"                                kernel has it                    [auto]\n"
	"  -H, --collector-host HOST     collector: IPv4 or IPv6 address, or a name\n"
	"                                                                 [127.0.0.1]\n"
	"  -p, --collector-port PORT     collector port                   [4739]\n"
	"      --transport PROTO         udp or tcp                       [udp]\n"
	"      --tcp-wait-timeout T      --pcap over TCP: wait for a collector that\n"
	"                                is slow or away, until it has taken nothing\n"
	"                                for T; then drop and count (0: never\n"
	"                                wait)                            [30s]\n"
	"      --ipfix-file FILE         write the IPFIX messages into FILE (RFC 5655\n"
	"                                file format; - for stdout) instead of\n"
	"                                sending them\n"
	"      --pcap FILE               meter the packets of a capture file (pcap or\n"
	"                                pcapng; - for stdin) instead of an\n"
	"                                interface; timeouts run on the packets'\n"
	"                                times; repeatable, files read in order\n"
	"      --observation-domain-id N observation domain id            [1]\n"
	"      --active-timeout T        a record of a flow every T while it goes on:\n"
	"                                60 (seconds), 90s, 2m, 500ms     [60s]\n"
	"      --inactive-timeout T      a flow ends after T without a packet [15s]\n"
	"      --template-refresh-rate T templates and options records sent again\n"
	"                                every T (UDP and --ipfix-file; TCP sends\n"
	"                                them once per connection)        [300s]\n"
	"      --sampling-packet-interval N\n"
	"                                meter 1 packet in N (count-based, announced\n"
	"                                per RFC 5477; counts not scaled up) [1]\n"
	"      --biflow                  one bidirectional record per flow (RFC 5103)\n"
	"                                instead of one record per direction\n"
	"      --max-flows N             flows held at once; a new flow beyond ends\n"
	"                                the one idle longest (flowEndReason 5,\n"
	"                                lack of resources)               [65536]\n"
	"      --mtu BYTES               largest IPFIX message (UDP payload) [1400]\n"
	"      --promiscuous             put the interfaces in promiscuous mode while\n"
	"                                metering (the live path; nothing with --pcap)\n"
	"      --metrics-host HOST       address of the /metrics endpoint [127.0.0.1]\n"
	"      --metrics-port PORT       its TCP port; 0: no endpoint     [0]\n";

static const char exp_usage_end[] =
	"Signals: SIGINT/SIGTERM end every flow (forced end), send the records and\n"
	"close the export, as at the end of the --pcap files; live, the programs\n"
	"are detached first.\n"
	"Exit status: 0 done, 1 a run-time failure (unreadable file, export not\n"
	"sent, no privilege or kernel support to meter live), 2 bad flags.\n";

void exp_cfg_defaults(struct exp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->interface = "lo";
	c->host = "127.0.0.1";
	c->port = EXP_PORT_DEFAULT;
	c->transport = EXP_T_UDP;
	c->domain = 1;
	c->active_ns = 60 * PROG_NS_PER_S;
	c->inactive_ns = 15 * PROG_NS_PER_S;
	c->refresh_ns = 300 * PROG_NS_PER_S;
	c->sampling = 1;
	c->max_flows = EXP_MAX_FLOWS_DEFAULT;
	c->mtu = EXP_MTU_DEFAULT;
	c->direction = EXP_DIR_BOTH;
	c->attach = EXP_ATTACH_AUTO;
	c->metrics_host = "127.0.0.1";
	c->tcp_wait_ns = EXP_TCP_WAIT_DEFAULT_S * PROG_NS_PER_S;
}

/* The options that take a whole number: where it goes and its bounds.
 * 1 when o is none of them. */
static int exp_opt_number(struct exp_cfg *c, const char *o, const char *v, char *err,
			  size_t errlen)
{
	const struct {
		const char *name;
		uint64_t min, max;
		uint32_t *to32;
		uint16_t *to16;
	} nums[] = {
		{ "collector-port", 1, 65535, NULL, &c->port },
		{ "observation-domain-id", 0, UINT32_MAX, &c->domain, NULL },
		{ "sampling-packet-interval", 1, UINT32_MAX, &c->sampling, NULL },
		{ "max-flows", 1, EXP_MAX_FLOWS_MAX, &c->max_flows, NULL },
		{ "mtu", EXP_MTU_MIN, EXP_MTU_MAX, &c->mtu, NULL },
		{ "metrics-port", 0, 65535, NULL, &c->metrics_port },
	};
	char what[48];
	uint64_t u;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (!prog_opt_is(o, nums[i].name))
			continue;
		snprintf(what, sizeof(what), "--%s", o);
		if (prog_parse_u64(v, nums[i].min, nums[i].max, &u, what, err, errlen))
			return WEIR_E_INVALID;
		if (nums[i].to16)
			*nums[i].to16 = (uint16_t)u;
		else
			*nums[i].to32 = (uint32_t)u;
		c->collector_set |= prog_opt_is(o, "collector-port");
		return WEIR_OK;
	}
	return 1;
}

/* The durations. 1 when o is none of them. A flow timeout of 0 would
 * mean "never" to some and "at once" to others: at least a millisecond,
 * at most a year. --tcp-wait-timeout: 0 says "never wait", and at most a
 * day (the exporting process counts it in milliseconds). */
static int exp_opt_duration(struct exp_cfg *c, const char *o, const char *v, char *err,
			    size_t errlen)
{
	const uint64_t min = PROG_NS_PER_S / 1000, max = 366 * 86400 * PROG_NS_PER_S;
	uint64_t *to = prog_opt_is(o, "active-timeout") ? &c->active_ns :
		       prog_opt_is(o, "inactive-timeout") ? &c->inactive_ns :
		       prog_opt_is(o, "template-refresh-rate") ? &c->refresh_ns : NULL;
	char what[48];

	snprintf(what, sizeof(what), "--%s", o);
	if (prog_opt_is(o, "tcp-wait-timeout")) {
		c->tcp_wait_set = 1;
		return prog_parse_duration(v, 0, 86400 * PROG_NS_PER_S, &c->tcp_wait_ns, what,
					   err, errlen);
	}
	if (!to)
		return 1;
	return prog_parse_duration(v, min, max, to, what, err, errlen);
}

/* One option's value into cfg (prog_cli's set handler). */
static int exp_opt(void *cfg, const char *o, const char *v, char *err, size_t errlen)
{
	struct exp_cfg *c = cfg;
	int r = exp_opt_number(c, o, v, err, errlen);

	if (r <= 0)
		return r;
	r = exp_opt_duration(c, o, v, err, errlen);
	if (r <= 0)
		return r;
	if (prog_opt_is(o, "interface")) {
		if (!*v)
			return prog_fail(err, errlen, "--interface: the name is empty");
		if (strlen(v) >= 16)	/* IFNAMSIZ */
			return prog_fail(err, errlen, "--interface: '%s' is longer than an "
					 "interface name (15 bytes)", v);
		for (unsigned i = 0; i < c->nifaces; i++)
			if (strcmp(c->ifaces[i], v) == 0)
				return prog_fail(err, errlen, "--interface: %s given twice", v);
		if (c->nifaces == EXP_MAX_IFACES)
			return prog_fail(err, errlen, "--interface: at most %d interfaces",
					 EXP_MAX_IFACES);
		if (!c->nifaces)
			c->interface = v;
		c->ifaces[c->nifaces++] = v;
		c->interface_set = 1;
	} else if (prog_opt_is(o, "direction")) {
		c->direction = strcmp(v, "ingress") == 0 ? EXP_DIR_INGRESS :
			       strcmp(v, "egress") == 0 ? EXP_DIR_EGRESS :
			       strcmp(v, "both") == 0 ? EXP_DIR_BOTH : 0;
		if (!c->direction)
			return prog_fail(err, errlen, "--direction: '%s' is not ingress, egress or "
					 "both", v);
	} else if (prog_opt_is(o, "attach")) {
		if (strcmp(v, "auto") == 0)
			c->attach = EXP_ATTACH_AUTO;
		else if (strcmp(v, "tcx") == 0)
			c->attach = EXP_ATTACH_TCX;
		else if (strcmp(v, "tc") == 0)
			c->attach = EXP_ATTACH_TC;
		else
			return prog_fail(err, errlen, "--attach: '%s' is not auto, tcx or tc", v);
	} else if (prog_opt_is(o, "metrics-host")) {
		c->metrics_host = v;
	} else if (prog_opt_is(o, "collector-host")) {
		c->host = v;
		c->collector_set = 1;
	} else if (prog_opt_is(o, "transport")) {
		if (strcmp(v, "udp") == 0)
			c->transport = EXP_T_UDP;
		else if (strcmp(v, "tcp") == 0)
			c->transport = EXP_T_TCP;
		else
			return prog_fail(err, errlen, "--transport: '%s' is not udp or tcp", v);
		c->collector_set = 1;
	} else if (prog_opt_is(o, "pcap")) {
		if (c->npcaps == EXP_MAX_PCAPS)
			return prog_fail(err, errlen, "--pcap: at most %d files", EXP_MAX_PCAPS);
		c->pcaps[c->npcaps++] = v;
	} else if (prog_opt_is(o, "ipfix-file")) {
		c->ipfix_file = v;
	} else if (prog_opt_is(o, "biflow")) {
		c->biflow = 1;
	} else {
		c->promiscuous = 1;
	}
	return WEIR_OK;
}

/* Combinations no single flag can check (prog_cli's finish handler). */
static int exp_check(void *cfg, char *err, size_t errlen)
{
	struct exp_cfg *c = cfg;
	unsigned stdin_n = 0;

	if (c->ipfix_file && c->collector_set)
		return prog_fail(err, errlen, "--ipfix-file writes a file: it takes no -H, -p or "
				 "--transport");
	if (c->tcp_wait_set && (c->ipfix_file || c->transport != EXP_T_TCP))
		return prog_fail(err, errlen, "--tcp-wait-timeout is for --transport tcp (over UDP "
				 "the exporter cannot know whether the collector keeps up)");
	if (c->tcp_wait_set && !c->npcaps)
		return prog_fail(err, errlen, "--tcp-wait-timeout is for --pcap: metering live, "
				 "the export never waits (what a collector cannot take is counted)");
	if (!c->ipfix_file && c->transport == EXP_T_UDP && c->mtu > EXP_MTU_UDP_MAX)
		return prog_fail(err, errlen, "--mtu: %u is more than a UDP datagram holds (%u)",
				 c->mtu, EXP_MTU_UDP_MAX);
	for (unsigned i = 0; i < c->npcaps; i++)
		stdin_n += strcmp(c->pcaps[i], "-") == 0;
	if (stdin_n > 1)
		return prog_fail(err, errlen, "--pcap: stdin (-) can be read once only");
	if (!c->nifaces)
		c->ifaces[c->nifaces++] = c->interface;
	return WEIR_OK;
}

void exp_cfg_meter(const struct exp_cfg *c, struct meter_cfg *m)
{
	memset(m, 0, sizeof(*m));
	m->active_ns = c->active_ns;
	m->inactive_ns = c->inactive_ns;
	m->max_flows = c->max_flows;
	m->sampling = c->sampling;
}

void exp_cfg_xp(const struct exp_cfg *c, struct xp_cfg *x)
{
	memset(x, 0, sizeof(*x));
	if (c->ipfix_file) {
		x->transport = XP_FILE;
		x->path = c->ipfix_file;
	} else {
		x->transport = c->transport == EXP_T_TCP ? XP_TCP : XP_UDP;
		x->host = c->host;
		x->port = c->port;
	}
	x->domain = c->domain;
	x->mtu = c->mtu;
	x->refresh_ns = c->refresh_ns;
	x->biflow = c->biflow;
	x->sampling = c->sampling;
}

static const struct prog_cli exp_cli = {
	.prog = "weir-exporter", .usage = exp_usage, .usage_end = exp_usage_end,
	.set = exp_opt, .finish = exp_check,
};

enum exp_cli_result exp_cli_parse(int argc, char **argv, struct exp_cfg *c, FILE *out,
				  char *err, size_t errlen)
{
	exp_cfg_defaults(c);
	return (enum exp_cli_result)prog_cli_parse(&exp_cli, argc, argv, c, out, err, errlen);
}
