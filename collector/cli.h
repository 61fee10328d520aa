/* cli.h - the command line of weir-collector (docs/collector.md).
 *
 * A table and a handler per option on top of prog_cli.h (which adds the
 * underscore spellings, --help, --version and the error style).
 */
#ifndef COL_CLI_H
#define COL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "kafka.h"
#include "samp.h"

enum col_type {
	COL_T_NETFLOW = 0,		/* v5, v9 and IPFIX, told apart by version */
	COL_T_SFLOW = 1,		/* sFlow v5 */
};

enum col_transport {
	COL_X_UDP = 1,			/* bits: which inputs listen */
	COL_X_TCP = 2,			/* IPFIX over TCP (RFC 7011 section 10.4) */
	COL_X_BOTH = 3,
};

enum col_format {
	COL_F_RAW = 0,			/* rec_json(): every field by its IANA name */
	COL_F_COMMON = 1,		/* struct flow */
};

enum col_ser {
	COL_S_JSON = 0,
	COL_S_CSV = 1,			/* common format only */
	COL_S_NULL = 2,			/* decode (and normalize), count, write nothing */
};

#define COL_PORT_NETFLOW	2055
#define COL_PORT_SFLOW		6343
#define COL_METRICS_PORT	9090
#define COL_MAX_WORKERS		256
#define COL_CLI_ENRICH_MAX	16	/* = COL_ENRICH_MAX of enr.h */
#define COL_RCVBUF_DEFAULT	(8u << 20)
#define COL_LIFETIME_DEFAULT	1800	/* seconds */
#define COL_TCP_CONN_DEFAULT	256	/* --tcp-max-connections */
#define COL_TCP_CONN_MAX	65536
#define COL_TCP_TIMEOUT_DEFAULT	30	/* --tcp-message-timeout, seconds */

struct col_cfg {
	enum col_type type;
	uint16_t port;
	uint8_t port_set;		/* -p given (with --pcap: filters by port) */
	const char *pcap;		/* --pcap FILE, NULL = listen */
	enum col_transport transport;	/* --transport */
	uint8_t transport_set;
	uint32_t tcp_max_conn;		/* --tcp-max-connections */
	uint64_t tcp_timeout_s;		/* --tcp-message-timeout */
	enum col_format format;
	enum col_ser ser;
	const char *output;		/* NULL = stdout */
	const char *ie_mapping;
	const char *metrics_host;
	uint16_t metrics_port;		/* 0 = no metrics endpoint */
	uint8_t metrics_port_set;
	const char *listen;		/* as given */
	struct weir_addr listen_addr;
	uint8_t listen_v4;		/* an IPv4 address: AF_INET socket */
	uint8_t listen_any;		/* "::": dual stack */
	unsigned workers;
	uint32_t rcvbuf;		/* bytes asked for each socket */
	const char *template_file;
	uint64_t template_lifetime_s;	/* 0 = templates never expire */
	struct col_samp samp;
	uint8_t renormalize;
	const char *enrich[COL_CLI_ENRICH_MAX];	/* --enrich, as given (parsed by enr.c) */
	unsigned nenrich;
	struct col_kafka_cfg kafka;	/* --kafka-*: brokers set = Kafka output */
};

enum col_cli_result {
	COL_CLI_RUN = 0,		/* c is ready */
	COL_CLI_DONE = 1,		/* --help or --version printed to out: exit 0 */
	COL_CLI_USAGE = 2,		/* bad flags: err says why, exit 2 */
};

void col_cfg_defaults(struct col_cfg *c);
/* Fill c (defaults first) from argv. --help and --version print to out.
 * c->samp and c->kafka own memory: col_cfg_free() releases it (also after
 * an error). */
enum col_cli_result col_cli_parse(int argc, char **argv, struct col_cfg *c, FILE *out,
				  char *err, size_t errlen);
void col_cfg_free(struct col_cfg *c);

/* An address literal for --listen (prog_parse_addr()); *any: all zeros. */
int col_parse_listen(const char *v, struct weir_addr *a, uint8_t *v4, uint8_t *any);

#endif
