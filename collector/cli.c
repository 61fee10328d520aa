/* cli.c - see cli.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "prog_cli.h"
#include "prog_val.h"

enum {
	OPT_PCAP = 256,
	OPT_IE_MAPPING,
	OPT_METRICS_HOST,
	OPT_METRICS_PORT,
	OPT_LISTEN,
	OPT_RCVBUF,
	OPT_TEMPLATE_FILE,
	OPT_TEMPLATE_LIFETIME,
	OPT_SAMPLING,
	OPT_RENORMALIZE,
	OPT_ENRICH,
	OPT_KAFKA_BROKERS,
	OPT_KAFKA_TOPIC,
	OPT_KAFKA_OPT,
};

/* The underscore spellings, --help and --version come from prog_cli. */
static const struct prog_opt col_opts[] = {
	{ "type", 't', PROG_ARG_VALUE },
	{ "port", 'p', PROG_ARG_VALUE },
	{ "pcap", OPT_PCAP, PROG_ARG_NONEMPTY },
	{ "format", 'f', PROG_ARG_VALUE },
	{ "serializer", 's', PROG_ARG_VALUE },
	{ "output", 'o', PROG_ARG_NONEMPTY },
	{ "ie-mapping", OPT_IE_MAPPING, PROG_ARG_NONEMPTY },
	{ "metrics-host", OPT_METRICS_HOST, PROG_ARG_NONEMPTY },
	{ "metrics-port", OPT_METRICS_PORT, PROG_ARG_VALUE },
	{ "listen", OPT_LISTEN, PROG_ARG_VALUE },
	{ "workers", 'w', PROG_ARG_VALUE },
	{ "rcvbuf", OPT_RCVBUF, PROG_ARG_VALUE },
	{ "template-file", OPT_TEMPLATE_FILE, PROG_ARG_NONEMPTY },
	{ "template-lifetime", OPT_TEMPLATE_LIFETIME, PROG_ARG_VALUE },
	{ "sampling-rate", OPT_SAMPLING, PROG_ARG_VALUE },
	{ "renormalize", OPT_RENORMALIZE, PROG_ARG_NONE },
	{ "enrich", OPT_ENRICH, PROG_ARG_VALUE },
	{ "kafka-brokers", OPT_KAFKA_BROKERS, PROG_ARG_NONEMPTY },
	{ "kafka-topic", OPT_KAFKA_TOPIC, PROG_ARG_VALUE },
	{ "kafka-opt", OPT_KAFKA_OPT, PROG_ARG_VALUE },
	{ NULL, 0, 0 },
};

void col_cli_usage(FILE *fp)
{
	fputs("Usage: weir-collector [OPTION]...\n"
	      "Receive IPFIX, NetFlow v9/v5 or sFlow v5 export packets over UDP (or from a\n"
	      "pcap file), decode them and write one JSON object or CSV row per record.\n"
	      "\n"
	      "  -t, --type TYPE               netflow (v5, v9 and IPFIX on one port) or\n"
	      "                                sflow                            [netflow]\n"
	      "  -p, --port PORT               UDP port to listen on [2055 netflow, 6343 sflow];\n"
	      "                                with --pcap: only datagrams to this port\n"
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
	      "  -w, --workers N               receiving threads, each its own socket\n"
	      "                                [number of cores]\n"
	      "      --rcvbuf BYTES            socket receive buffer (k, m, g suffixes) [8m]\n"
	      "      --template-file FILE      load templates at start, save them every 60 s\n"
	      "                                and at exit\n"
	      "      --template-lifetime S     seconds a template lives without a refresh,\n"
	      "                                0 = forever                      [1800]\n"
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
	      "                                ...) over weir's defaults; repeatable\n"
	      , fp);
	prog_cli_usage_tail(fp);
	fputs("Signals: SIGHUP reopens -o and reloads --enrich files; SIGTERM/SIGINT flush (Kafka: up to 10 s), save\n"
	      "templates, exit 0.\n"
	      "Exit status: 0 stopped cleanly, 1 a run-time failure, 2 bad flags.\n", fp);
}

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

/* One option's value into cfg (prog_cli's set handler). */
static int col_opt(void *cfg, int opt, const char *v, char *err, size_t errlen)
{
	struct col_cfg *c = cfg;
	static const char *const types[] = { "netflow", "sflow" };
	static const char *const formats[] = { "raw", "common" };
	static const char *const sers[] = { "json", "csv", "null" };
	uint64_t u;
	int k;

	switch (opt) {
	case 't':
		k = one_of(v, types, 2);
		if (k < 0) {
			snprintf(err, errlen, "--type: '%s' is not netflow or sflow", v);
			return WEIR_E_INVALID;
		}
		c->type = (enum col_type)k;
		return WEIR_OK;
	case 'p':
		if (prog_parse_u64(v, 1, 65535, &u, "--port", err, errlen))
			return WEIR_E_INVALID;
		c->port = (uint16_t)u;
		c->port_set = 1;
		return WEIR_OK;
	case 'f':
		k = one_of(v, formats, 2);
		if (k < 0) {
			snprintf(err, errlen, "--format: '%s' is not raw or common", v);
			return WEIR_E_INVALID;
		}
		c->format = (enum col_format)k;
		return WEIR_OK;
	case 's':
		k = one_of(v, sers, 3);
		if (k < 0) {
			snprintf(err, errlen, "--serializer: '%s' is not json, csv or null", v);
			return WEIR_E_INVALID;
		}
		c->ser = (enum col_ser)k;
		return WEIR_OK;
	case 'w':
		if (prog_parse_u64(v, 1, COL_MAX_WORKERS, &u, "--workers", err, errlen))
			return WEIR_E_INVALID;
		c->workers = (unsigned)u;
		return WEIR_OK;
	case OPT_METRICS_PORT:
		if (prog_parse_u64(v, 0, 65535, &u, "--metrics-port", err, errlen))
			return WEIR_E_INVALID;
		c->metrics_port = (uint16_t)u;
		c->metrics_port_set = 1;
		return WEIR_OK;
	case OPT_RCVBUF:
		if (prog_parse_size(v, 1024, 1u << 30, &u, "--rcvbuf", err, errlen))
			return WEIR_E_INVALID;
		c->rcvbuf = (uint32_t)u;
		return WEIR_OK;
	case OPT_TEMPLATE_LIFETIME:
		return prog_parse_u64(v, 0, 86400ull * 365 * 10, &c->template_lifetime_s,
				     "--template-lifetime", err, errlen);
	case OPT_LISTEN:
		if (col_parse_listen(v, &c->listen_addr, &c->listen_v4, &c->listen_any)) {
			snprintf(err, errlen, "--listen: '%s' is not an IPv4 or IPv6 address", v);
			return WEIR_E_INVALID;
		}
		c->listen = v;
		return WEIR_OK;
	case OPT_SAMPLING: {
		char m[256];

		if (col_samp_parse(&c->samp, v, m, sizeof(m)) == WEIR_OK)
			return WEIR_OK;
		snprintf(err, errlen, "--sampling-rate: %s", m);
		return WEIR_E_INVALID;
	}
	case OPT_ENRICH:
		if (c->nenrich >= COL_CLI_ENRICH_MAX) {
			snprintf(err, errlen, "--enrich: at most %d are allowed", COL_CLI_ENRICH_MAX);
			return WEIR_E_INVALID;
		}
		c->enrich[c->nenrich++] = v;
		return WEIR_OK;
	case OPT_RENORMALIZE:
		c->renormalize = 1;
		return WEIR_OK;
	case OPT_KAFKA_TOPIC:
		c->kafka.topic = v;
		return col_kafka_topic_check(v, err, errlen);
	case OPT_KAFKA_OPT:
		return col_kafka_cfg_add(&c->kafka, v, err, errlen);
	}
	/* The options that take a file or host name (never "": the table
	 * says so). */
	switch (opt) {
	case OPT_PCAP: c->pcap = v; break;
	case 'o': c->output = v; break;
	case OPT_IE_MAPPING: c->ie_mapping = v; break;
	case OPT_METRICS_HOST: c->metrics_host = v; break;
	case OPT_TEMPLATE_FILE: c->template_file = v; break;
	case OPT_KAFKA_BROKERS: c->kafka.brokers = v; break;
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

static void col_defaults(void *cfg)
{
	col_cfg_defaults(cfg);
}

enum col_cli_result col_cli_parse(int argc, char **argv, struct col_cfg *c, FILE *out,
				  char *err, size_t errlen)
{
	static const struct prog_cli cli = {
		.prog = "weir-collector",
		.opts = col_opts,
		.usage = col_cli_usage,
		.defaults = col_defaults,
		.set = col_opt,
		.finish = col_check,
	};

	return (enum col_cli_result)prog_cli_parse(&cli, argc, argv, c, out, err, errlen);
}
