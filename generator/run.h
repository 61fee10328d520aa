/* run.h - one generator run: configuration, and the loop that makes,
 * paces, sends (or writes) and ledgers the datagrams.
 *
 * Time. Every timestamp in the bytes comes from the model clock:
 *  - live sending without --seed: the wall clock read once at start plus
 *    CLOCK_MONOTONIC elapsed since then;
 *  - with --seed, or with --pcap-out: a schedule. Datagram k (templates
 *    included, k from 0) is made at T0 + k / rate seconds (k * 10 us at
 *    -r 0), where T0 is GEN_SEED_EPOCH_S + (seed mod 10^6) seconds with
 *    --seed, else the wall clock at start. The bytes then depend on the
 *    seed and the flags only: same seed, same bytes.
 * Exporter uptimes count from GEN_UPTIME_AT_START before the model's start.
 *
 * Exporters. Data datagram j (j from 0) belongs to exporter
 * (j / GEN_RUN_LEN) mod --exporters; an exporter whose templates are due
 * sends them first, in a datagram of their own. -n counts data datagrams;
 * -r paces all datagrams (the template ones too) over all exporters.
 */
#ifndef GEN_RUN_H
#define GEN_RUN_H

#include <signal.h>
#include <stdint.h>

#include "model.h"
#include "sim.h"

#define GEN_EXIT_OK		0
#define GEN_EXIT_FAIL		1	/* a run-time failure, or a datagram not sent */
#define GEN_EXIT_USAGE		2	/* bad flags */

#define GEN_BATCH		64	/* datagrams per sendmmsg at most */
#define GEN_RUN_LEN		16	/* consecutive data datagrams per exporter */
#define GEN_MAX_EXPORTERS	10000
#define GEN_SEED_EPOCH_S	1700000000ull	/* 2023-11-14T22:13:20Z */
#define GEN_NOMINAL_PERIOD_NS	10000ull	/* schedule step at -r 0 */
#define GEN_UPTIME_AT_START	(3600ull * 1000000000ull)
#define GEN_PCAP_SPORT		40000	/* pcap: exporter i sends from 40000 + i */

/* Where each protocol goes without -p: IANA's ipfix (4739), the
 * customary NetFlow port (2055) and IANA's sflow (6343). */
#define GEN_PORT_IPFIX		4739
#define GEN_PORT_NETFLOW	2055
#define GEN_PORT_SFLOW		6343
/* The largest UDP payloads: an IPv4 datagram of 65535 bytes less 20 + 8 of
 * headers; IPv6's payload length of 65535 less the UDP header. */
#define GEN_UDP_MAX_V4		65507
#define GEN_UDP_MAX_V6		65527
#define GEN_DURATION_MAX_NS	(366ull * 86400 * 1000000000ull)	/* --duration */

struct gen_cfg {
	const char *host;
	uint16_t port;
	uint8_t port_set;		/* -p given: else the protocol's port */
	uint64_t rate;			/* datagrams per second, 0 = unpaced */
	uint32_t flows_per_packet;
	uint64_t count;			/* data datagrams, 0 = until stopped */
	uint32_t domain;		/* of exporter 0; exporter i has domain + i */
	uint64_t template_interval_s;
	struct model_cfg model;		/* ranges, ports, protocols, Zipf exponent */
	const char *distribution;	/* as given, for the ledger */
	enum gen_proto proto;
	uint32_t exporters;
	uint32_t sampling_rate;		/* 1 = unsampled */
	uint8_t seeded;
	uint64_t seed;			/* --seed, or a random one */
	uint64_t duration_ns;		/* 0 = no limit */
	const char *pcap_out;
	const char *ledger;
	uint32_t mtu;			/* IP packet size limit */
	uint8_t live;			/* live line on stderr each second */
	uint8_t quiet;			/* no summary (tests) */
	int argc;
	char *const *argv;
};

/* The defaults of docs/generator.md (seed 0, not seeded). */
void gen_cfg_defaults(struct gen_cfg *c);

/* The default collector port of a protocol (GEN_PORT_*). */
uint16_t gen_proto_port(enum gen_proto p);
/* The model time of datagram k on the schedule starting at t0_ns. */
uint64_t gen_schedule_ns(uint64_t t0_ns, uint64_t rate, uint64_t k);
/* T0 of a seeded run. */
uint64_t gen_seed_epoch_ns(uint64_t seed);
/* UDP payload limit for an IP packet size mtu to an address family. */
size_t gen_payload_max(uint32_t mtu, int v6);

/* Run until -n, --duration or *stop. Returns GEN_EXIT_OK, GEN_EXIT_FAIL or
 * GEN_EXIT_USAGE (a flag combination found impossible: IPv6 with v5,
 * records that do not fit, a host that does not resolve: said on stderr as
 * a usage error, "weir-generator: ...; see --help"); other messages go to
 * the log, the summary to stderr, the ledger to cfg->ledger. */
int gen_run(const struct gen_cfg *cfg, volatile sig_atomic_t *stop);

#endif
