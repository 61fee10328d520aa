/* cli.h - the command line of weir-exporter (docs/exporter.md).
 *
 * A handler per option on top of prog_cli.h (which adds the underscore
 * spellings, --help, --version and the error style). The flags and their
 * defaults are the reference exporter's (-i, -H, -p, the timeouts, the
 * template refresh, 1-in-N sampling, --promiscuous) plus weir's own
 * (--pcap, --transport, --biflow, --max-flows, --mtu, --ipfix-file,
 * --tcp-wait-timeout).
 */
#ifndef EXP_CLI_H
#define EXP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXP_MAX_PCAPS		256	/* --pcap files of one run */
#define EXP_MAX_IFACES		64	/* -i interfaces of one run */
#define EXP_PORT_DEFAULT	4739	/* IANA's IPFIX port (RFC 7011 §10.3) */
#define EXP_MAX_FLOWS_DEFAULT	65536
#define EXP_MAX_FLOWS_MAX	(1u << 26)
#define EXP_MTU_DEFAULT		1400
#define EXP_MTU_MIN		512
#define EXP_MTU_UDP_MAX		65507	/* the largest UDP payload over IPv4 */
#define EXP_MTU_MAX		65535	/* the IPFIX message length field */
#define EXP_TCP_WAIT_DEFAULT_S	30	/* --tcp-wait-timeout */

/* --direction: which tc hooks the live path attaches to (bits). */
enum exp_dir {
	EXP_DIR_INGRESS = 1,
	EXP_DIR_EGRESS = 2,
	EXP_DIR_BOTH = 3,
};

/* --attach: how the programs are attached. */
enum exp_attach {
	EXP_ATTACH_AUTO = 0,		/* TCX links where the kernel has them, else tc */
	EXP_ATTACH_TCX = 1,
	EXP_ATTACH_TC = 2,		/* a cls_bpf filter on the clsact qdisc */
};

enum exp_transport {
	EXP_T_UDP = 0,
	EXP_T_TCP = 1,
};

struct exp_cfg {
	const char *interface;		/* -i: the live path's (first) interface */
	uint8_t interface_set;
	const char *ifaces[EXP_MAX_IFACES];	/* every -i, in order (none: "lo") */
	unsigned nifaces;
	uint8_t direction;		/* --direction: enum exp_dir bits */
	uint8_t attach;			/* --attach: enum exp_attach */
	const char *metrics_host;	/* --metrics-host */
	uint16_t metrics_port;		/* --metrics-port; 0: no endpoint */
	const char *host;		/* -H */
	uint16_t port;			/* -p */
	uint8_t collector_set;		/* -H, -p or --transport given */
	enum exp_transport transport;
	const char *pcaps[EXP_MAX_PCAPS];	/* --pcap, in order; "-": stdin */
	unsigned npcaps;
	const char *ipfix_file;		/* --ipfix-file: IPFIX into a file ("-": stdout) */
	uint32_t domain;		/* --observation-domain-id */
	uint64_t active_ns;		/* --active-timeout */
	uint64_t inactive_ns;		/* --inactive-timeout */
	uint64_t refresh_ns;		/* --template-refresh-rate */
	uint32_t sampling;		/* --sampling-packet-interval; 1: every packet */
	uint32_t max_flows;		/* --max-flows */
	uint32_t mtu;			/* --mtu */
	uint8_t biflow;			/* --biflow */
	uint8_t promiscuous;		/* --promiscuous (live path) */
	uint64_t tcp_wait_ns;		/* --tcp-wait-timeout (offline, TCP); 0: never wait */
	uint8_t tcp_wait_set;
};

enum exp_cli_result {
	EXP_CLI_RUN = 0,		/* c is ready */
	EXP_CLI_DONE = 1,		/* --help or --version printed to out: exit 0 */
	EXP_CLI_USAGE = 2,		/* bad flags: err says why, exit 2 */
};

void exp_cfg_defaults(struct exp_cfg *c);
/* Fill c (defaults first) from argv; c keeps pointers into argv. --help
 * and --version print to out. */
enum exp_cli_result exp_cli_parse(int argc, char **argv, struct exp_cfg *c, FILE *out,
				  char *err, size_t errlen);

struct meter_cfg;
struct xp_cfg;
/* The meter's and the exporting process's settings from c (the fields c
 * does not set are left 0: their defaults). The exporting process's are
 * the live path's: xp_cfg.wait_ms 0, never waiting; the offline path sets
 * it from c->tcp_wait_ns. */
void exp_cfg_meter(const struct exp_cfg *c, struct meter_cfg *m);
void exp_cfg_xp(const struct exp_cfg *c, struct xp_cfg *x);

#endif
