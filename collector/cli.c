/* cli.c - see cli.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "prog_cli.h"
#include "prog_val.h"

/* --help, and (prog_cli.h) the table of the options. */
static const char col_usage[] =
	"Usage: weir-collector [OPTION]...\n"
	"Receive IPFIX, NetFlow v9/v5 or sFlow v5 export packets over UDP, IPFIX over\n"
	"TCP, or from a pcap file; decode them and write one JSON object or CSV row\n"
	"per record.\n"
	"\n"
	"  -t, --type TYPE               netflow (v5, v9 and IPFIX on one port) or\n"
	"                                sflow                            [netflow]\n"
	"  -p, --port PORT               UDP (and TCP) port to listen on [2055 netflow,\n"
	"                                6343 sflow]; with --pcap: only datagrams to\n"
	"                                this port\n"
	"      --transport T             udp, tcp (IPFIX only) or both    [udp]\n"
	"      --tcp-max-connections N   TCP connections open at once; more are\n"
	"                                refused and counted              [256]\n"
	"      --tcp-message-timeout T   close a TCP connection whose message stays\n"
	"                                incomplete this long (30, 1m)    [30]\n"
	"      --pcap FILE               decode the export packets of a capture file\n"
	"                                instead of listening\n"
	"  -f, --format FORMAT           raw (every field by its IANA name) or common\n"
	"                                (normalized flows)               [raw]\n"
	"  -s, --serializer SER          json, csv (csv needs -f common) or null\n"
	"                                (decode and count, write nothing) [json]\n"
	"  -o, --output FILE             append to FILE; SIGHUP reopens it [stdout]\n"
	"      --ie-mapping FILE         extra information elements (CSV, see\n"
	"                                ie-defs/README.md)\n"
	"      --metrics-host HOST       address of the /metrics endpoint [127.0.0.1]\n"
	"      --metrics-port PORT       its TCP port, 0 = no endpoint    [9090;\n"
	"                                with --pcap: off unless given]\n"
	"      --listen ADDR             address to listen on, IPv4 or IPv6 [:: = both]\n"
	"  -w, --workers N               UDP receiving threads, each its own socket\n"
	"                                [number of cores]\n"
	"      --rcvbuf BYTES            UDP socket receive buffer (k, M, G suffixes) [8m]\n"
	"      --template-file FILE      load templates at start, save them every 60 s\n"
	"                                and at exit\n"
	"      --template-lifetime T     how long a UDP template lives without a refresh\n"
	"                                (1800, 30m, 1h), 0 = forever     [30m]\n"
	"      --sampling-rate [ADDR=]N  default sampling rate, or the rate of exporter\n"
	"                                ADDR (replaces what it announces); repeatable\n"
	"      --renormalize             multiply bytes and packets by the sampling rate\n"
	"                                (common format)\n"
	"      --enrich SPEC             add fields by address prefix from a CSV or\n"
	"                                MaxMind DB file (common format;\n"
	"                                docs/enrichment.md); repeatable, in order\n"
	"      --kafka-brokers LIST      produce to Kafka instead of -o: one message per\n"
	"                                record, LIST is host:port[,host:port...]\n"
	"      --kafka-topic NAME        the topic                        [flows]\n"
	"      --kafka-opt KEY=VALUE     a librdkafka property (linger.ms=50, acks=1,\n"
	"                                ...) over weir's defaults; repeatable\n";

static const char col_usage_end[] =
	"Signals: SIGHUP reopens -o and reloads --enrich files; SIGTERM/SIGINT flush (Kafka: up to 10 s), save\n"
	"templates, exit 0.\n"
	"Exit status: 0 stopped cleanly, 1 a run-time failure (or a failed template\n"
	"save at exit), 2 bad flags.\n";

void col_cfg_defaults(struct col_cfg *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	c->type = COL_T_NETFLOW;
	c->port = COL_PORT_NETFLOW;
	c->format = COL_F_RAW;
	c->ser = COL_S_JSON;
	c->metrics_host = "127.0.0.1";
	c->metrics_port = COL_METRICS_PORT;
	c->listen = "::";
	c->listen_any = 1;
	c->workers = n < 1 ? 1 : n > COL_MAX_WORKERS ? COL_MAX_WORKERS : (unsigned)n;
	c->rcvbuf = COL_RCVBUF_DEFAULT;
	c->template_lifetime_s = COL_LIFETIME_DEFAULT;
	c->transport = COL_X_UDP;
	c->tcp_max_conn = COL_TCP_CONN_DEFAULT;
	c->tcp_timeout_s = COL_TCP_TIMEOUT_DEFAULT;
}

void col_cfg_free(struct col_cfg *c)
{
	col_samp_free(&c->samp);
	col_kafka_cfg_free(&c->kafka);
}

int col_parse_listen(const char *v, struct weir_addr *a, uint8_t *v4, uint8_t *any)
{
	static const uint8_t zero[16];

	if (prog_parse_addr(v, a, v4, "--listen", NULL, 0))
		return WEIR_E_INVALID;
	*any = !memcmp(a->a, zero, 16);
	return WEIR_OK;
}

static int one_of(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

/* -t, -f, -s: one of a list of words. */
static int col_opt_word(struct col_cfg *c, const char *o, const char *v, char *err, size_t errlen)
{
	static const char *const types[] = { "netflow", "sflow" };
	static const char *const formats[] = { "raw", "common" };
	static const char *const sers[] = { "json", "csv", "null" };
	static const char *const transports[] = { "udp", "tcp", "both" };
	int k;

	if (prog_opt_is(o, "type")) {
		k = one_of(v, types, 2);
		if (k >= 0)
			c->type = (enum col_type)k;
		else
			snprintf(err, errlen, "--type: '%s' is not netflow or sflow", v);
	} else if (prog_opt_is(o, "transport")) {
		k = one_of(v, transports, 3);
		if (k >= 0) {
			c->transport = (enum col_transport)(k + 1);
			c->transport_set = 1;
		} else {
			snprintf(err, errlen, "--transport: '%s' is not udp, tcp or both", v);
		}
	} else if (prog_opt_is(o, "format")) {
		k = one_of(v, formats, 2);
		if (k >= 0)
			c->format = (enum col_format)k;
		else
			snprintf(err, errlen, "--format: '%s' is not raw or common", v);
	} else {
		k = one_of(v, sers, 3);
		if (k >= 0)
			c->ser = (enum col_ser)k;
		else
			snprintf(err, errlen, "--serializer: '%s' is not json, csv or null", v);
	}
	return k >= 0 ? WEIR_OK : WEIR_E_INVALID;
}

/* The options that take a number, a size or a duration. */
static int col_opt_number(struct col_cfg *c, const char *o, const char *v, char *err,
			  size_t errlen)
{
	uint64_t u;

	if (prog_opt_is(o, "port")) {
		if (prog_parse_u64(v, 1, 65535, &u, "--port", err, errlen))
			return WEIR_E_INVALID;
		c->port = (uint16_t)u;
		c->port_set = 1;
	} else if (prog_opt_is(o, "workers")) {
		if (prog_parse_u64(v, 1, COL_MAX_WORKERS, &u, "--workers", err, errlen))
			return WEIR_E_INVALID;
		c->workers = (unsigned)u;
	} else if (prog_opt_is(o, "metrics-port")) {
		if (prog_parse_u64(v, 0, 65535, &u, "--metrics-port", err, errlen))
			return WEIR_E_INVALID;
		c->metrics_port = (uint16_t)u;
		c->metrics_port_set = 1;
	} else if (prog_opt_is(o, "rcvbuf")) {
		if (prog_parse_size(v, 1024, 1u << 30, &u, "--rcvbuf", err, errlen))
			return WEIR_E_INVALID;
		c->rcvbuf = (uint32_t)u;
	} else if (prog_opt_is(o, "tcp-max-connections")) {
		if (prog_parse_u64(v, 1, COL_TCP_CONN_MAX, &u, "--tcp-max-connections", err, errlen))
			return WEIR_E_INVALID;
		c->tcp_max_conn = (uint32_t)u;
	} else if (prog_opt_is(o, "tcp-message-timeout")) {
		return prog_parse_seconds(v, 1, 3600, &c->tcp_timeout_s, "--tcp-message-timeout",
					  err, errlen);
	} else {
		return prog_parse_seconds(v, 0, 86400ull * 365 * 10, &c->template_lifetime_s,
					  "--template-lifetime", err, errlen);
	}
	return WEIR_OK;
}

/* One option's value into cfg (prog_cli's set handler). */
static int col_opt(void *cfg, const char *o, const char *v, char *err, size_t errlen)
{
	struct col_cfg *c = cfg;
	char m[256];

	if (prog_opt_is(o, "type") || prog_opt_is(o, "format") || prog_opt_is(o, "serializer") ||
	    prog_opt_is(o, "transport"))
		return col_opt_word(c, o, v, err, errlen);
	if (prog_opt_is(o, "port") || prog_opt_is(o, "workers") || prog_opt_is(o, "metrics-port") ||
	    prog_opt_is(o, "rcvbuf") || prog_opt_is(o, "template-lifetime") ||
	    prog_opt_is(o, "tcp-max-connections") || prog_opt_is(o, "tcp-message-timeout"))
		return col_opt_number(c, o, v, err, errlen);
	if (prog_opt_is(o, "listen")) {
		if (col_parse_listen(v, &c->listen_addr, &c->listen_v4, &c->listen_any)) {
			snprintf(err, errlen, "--listen: '%s' is not an IPv4 or IPv6 address", v);
			return WEIR_E_INVALID;
		}
		c->listen = v;
	} else if (prog_opt_is(o, "sampling-rate")) {
		if (col_samp_parse(&c->samp, v, m, sizeof(m)) == WEIR_OK)
			return WEIR_OK;
		snprintf(err, errlen, "--sampling-rate: %s", m);
		return WEIR_E_INVALID;
	} else if (prog_opt_is(o, "enrich")) {
		if (c->nenrich >= COL_CLI_ENRICH_MAX) {
			snprintf(err, errlen, "--enrich: at most %d are allowed", COL_CLI_ENRICH_MAX);
			return WEIR_E_INVALID;
		}
		c->enrich[c->nenrich++] = v;
	} else if (prog_opt_is(o, "renormalize")) {
		c->renormalize = 1;
	} else if (prog_opt_is(o, "kafka-topic")) {
		c->kafka.topic = v;
		return col_kafka_topic_check(v, err, errlen);
	} else if (prog_opt_is(o, "kafka-opt")) {
		return col_kafka_cfg_add(&c->kafka, v, err, errlen);
	} else {
		/* A file or host name (never "": prog_cli.h). */
		const char **to = prog_opt_is(o, "pcap") ? &c->pcap :
				  prog_opt_is(o, "output") ? &c->output :
				  prog_opt_is(o, "ie-mapping") ? &c->ie_mapping :
				  prog_opt_is(o, "metrics-host") ? &c->metrics_host :
				  prog_opt_is(o, "template-file") ? &c->template_file :
				  &c->kafka.brokers;

		*to = v;
	}
	return WEIR_OK;
}

/* Combinations no single flag can check (prog_cli's finish handler). */
static int col_check(void *cfg, char *err, size_t errlen)
{
	struct col_cfg *c = cfg;

	if (c->ser == COL_S_CSV && c->format != COL_F_COMMON) {
		snprintf(err, errlen, "-s csv needs -f common: raw records have no fixed columns");
		return WEIR_E_INVALID;
	}
	if (c->nenrich && c->format != COL_F_COMMON) {
		snprintf(err, errlen, "--enrich needs -f common: enrichment keys are common fields (src_addr, ...)");
		return WEIR_E_INVALID;
	}
	if (c->nenrich && c->ser == COL_S_NULL) {
		snprintf(err, errlen, "--enrich with -s null: nothing would be written");
		return WEIR_E_INVALID;
	}
	if (c->ser == COL_S_NULL && (c->output || c->kafka.brokers)) {
		snprintf(err, errlen, "-s null writes nothing: it takes no -o or --kafka-brokers");
		return WEIR_E_INVALID;
	}
	if (c->renormalize && c->format != COL_F_COMMON) {
		snprintf(err, errlen, "--renormalize needs -f common: raw records are written as received");
		return WEIR_E_INVALID;
	}
	if (c->kafka.brokers && c->output) {
		snprintf(err, errlen, "--kafka-brokers and -o exclude each other: one output, Kafka or a file");
		return WEIR_E_INVALID;
	}
	if (!c->kafka.brokers && (c->kafka.topic || c->kafka.nopts)) {
		snprintf(err, errlen, "%s needs --kafka-brokers",
			 c->kafka.topic ? "--kafka-topic" : "--kafka-opt");
		return WEIR_E_INVALID;
	}
	if (c->transport_set && c->pcap) {
		snprintf(err, errlen, "--transport with --pcap: a capture is read, not listened to");
		return WEIR_E_INVALID;
	}
	if ((c->transport & COL_X_TCP) && c->type == COL_T_SFLOW) {
		snprintf(err, errlen, "--transport %s with -t sflow: sFlow is sent over UDP only; TCP carries IPFIX",
			 c->transport == COL_X_TCP ? "tcp" : "both");
		return WEIR_E_INVALID;
	}
	if (c->transport == COL_X_TCP && c->template_file) {
		snprintf(err, errlen, "--template-file with --transport tcp: TCP templates end with their connection (RFC 7011 section 8), there is nothing to keep");
		return WEIR_E_INVALID;
	}
	if (!c->kafka.topic)
		c->kafka.topic = COL_KAFKA_TOPIC;
	if (!c->port_set)
		c->port = c->type == COL_T_SFLOW ? COL_PORT_SFLOW : COL_PORT_NETFLOW;
	/* A capture is decoded offline: the endpoint only when asked for. */
	if (c->pcap && !c->metrics_port_set)
		c->metrics_port = 0;
	col_samp_finish(&c->samp);
	return WEIR_OK;
}

static const struct prog_cli col_cli = {
	.prog = "weir-collector", .usage = col_usage, .usage_end = col_usage_end,
	.set = col_opt, .finish = col_check,
};

enum col_cli_result col_cli_parse(int argc, char **argv, struct col_cfg *c, FILE *out,
				  char *err, size_t errlen)
{
	col_cfg_defaults(c);
	return (enum col_cli_result)prog_cli_parse(&col_cli, argc, argv, c, out, err, errlen);
}
