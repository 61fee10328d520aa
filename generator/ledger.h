/* ledger.h - what the generator sent, per exporter, as JSON.
 *
 * Counting happens when a datagram's fate is known: ledger_sent() for one
 * that went out (the kernel accepted it, or it was written to the pcap
 * file), ledger_failed() for one that did not. A failed datagram counts in
 * send_errors only: every other number is of datagrams that went out, with
 * the values as encoded in them. The format is in docs/generator.md.
 */
#ifndef GEN_LEDGER_H
#define GEN_LEDGER_H

#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "sim.h"

struct ledger_exp {
	struct weir_addr addr;		/* exporter source address ... */
	uint16_t port;			/* ... and port */
	uint32_t domain;		/* observation domain / source id / sub-agent */
	uint64_t packets;		/* datagrams sent, templates included */
	uint64_t template_packets;	/* of them template datagrams (template sends) */
	uint64_t flow_records;		/* flow records (sFlow: flow samples) */
	uint64_t options_records;	/* options data records (sampling) */
	uint64_t flow_bytes;		/* sum of the byte fields */
	uint64_t flow_packets;		/* sum of the packet fields */
	uint64_t frame_bytes;		/* sFlow: sum of frame lengths */
	uint64_t scaled_bytes;		/* sFlow: sum of frame length * sampling rate */
	uint64_t scaled_packets;	/* sFlow: sum of sampling rates */
	uint64_t payload_bytes;		/* UDP payload bytes */
	uint64_t send_errors;		/* datagrams that did not go out */
	uint8_t have_seq;
	uint32_t first_sequence, last_sequence, next_sequence;
	uint8_t have_sample_seq;	/* sFlow */
	uint32_t first_sample_sequence, last_sample_sequence;
};

/* Facts of the run, written at the top of the ledger. Strings are borrowed
 * and must outlive the ledger. */
struct ledger_run {
	enum gen_proto proto;
	const char *host;		/* -H as given */
	struct weir_addr dst;		/* resolved collector address */
	uint16_t dport;
	const char *pcap_out;		/* NULL: sent over UDP */
	uint64_t seed;
	uint8_t seeded;			/* --seed given */
	uint64_t rate;
	uint32_t flows_per_packet;
	uint64_t count;
	uint32_t sampling_rate;
	uint32_t mtu;
	uint64_t template_interval_s;
	const char *distribution;
	int argc;
	char *const *argv;
	uint64_t start_unix_ns;		/* wall clock at start */
	uint64_t model_start_ns;	/* model time of the first datagram */
	double elapsed_s;
	const char *stop_reason;	/* "count", "duration", "signal", "error" */
	int first_errno;		/* first send error, 0 none */
};

struct ledger {
	struct ledger_run run;
	uint32_t n;
	struct ledger_exp *exp;
};

/* WEIR_OK or WEIR_E_NOMEM. */
int ledger_init(struct ledger *l, uint32_t nexp);
void ledger_free(struct ledger *l);
void ledger_sent(struct ledger *l, const struct dg_info *d);
void ledger_failed(struct ledger *l, const struct dg_info *d, int err);
/* The sum over exporters (sequence fields left zero). */
void ledger_totals(const struct ledger *l, struct ledger_exp *t);
/* The JSON document to fp. 0, or -1 on a write error. */
int ledger_print(const struct ledger *l, FILE *fp);
/* Write path atomically: a temporary file beside it, fsync, rename.
 * WEIR_OK, or WEIR_E_IO with a sentence in err. */
int ledger_write(const struct ledger *l, const char *path, char *err, size_t errlen);

#endif
