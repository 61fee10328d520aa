/* sim.h - simulated exporters: per-exporter encoder state over the
 * library's flow encoders (ipfix_flow_enc_msg, nf9_encode_flows, nf5_encode,
 * sflow_encode), and what each datagram carried, for the ledger.
 *
 * Each exporter has its own observation domain (IPFIX domain, v9 source id,
 * v5 engine_type << 8 | engine_id, sFlow sub-agent id) and its own sequence
 * numbers. Templates (IPFIX, v9) go in datagrams of their own, never mixed
 * with data, so that every data datagram carries exactly -f records; with
 * --sampling-rate N > 1 the options template and its record announcing N
 * travel with them.
 */
#ifndef GEN_SIM_H
#define GEN_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "flow.h"
#include "ipfix.h"
#include "model.h"
#include "nf5.h"
#include "nf9.h"
#include "sflow.h"

enum gen_proto {
	GEN_IPFIX = 0,
	GEN_V9 = 1,
	GEN_V5 = 2,
	GEN_SFLOW = 3,
};

/* "ipfix", "v9", "v5", "sflow". */
const char *gen_proto_name(enum gen_proto p);
/* The inverse; -1 when s is none of them. */
int gen_proto_parse(const char *s);

struct sim_cfg {
	enum gen_proto proto;
	uint32_t sampling_rate;		/* 1 = unsampled */
	uint64_t template_interval_ns;	/* 0: templates once, at start */
	uint64_t boot_ns;		/* the exporters' boot time (uptimes) */
};

struct sim_exporter {
	struct sim_cfg cfg;
	uint32_t index;
	uint32_t domain;
	uint8_t templates_sent;		/* at least once */
	uint64_t next_template_ns;
	struct ipfix_flow_enc ipfix;
	struct nf9_enc nf9;
	uint32_t nf5_sequence;		/* flows sent before the next datagram */
	struct sflow_agent agent;
};

/* What one datagram carried. Sums are of the values as encoded. */
struct dg_info {
	uint32_t exporter;		/* index */
	uint8_t is_template;		/* a template datagram (IPFIX, v9) */
	uint32_t len;			/* UDP payload bytes */
	uint64_t time_ns;		/* model time it was made for */
	uint32_t sequence;		/* the header's sequence number */
	uint32_t sequence_step;		/* what it adds: the next one is sequence + step */
	uint32_t records;		/* flow records (sFlow: flow samples) */
	uint32_t options_records;	/* options data records (IPFIX, v9) */
	uint64_t bytes, packets;	/* sums of the byte and packet fields */
	uint64_t frame_bytes;		/* sFlow: sum of frame lengths */
	uint64_t scaled_bytes;		/* sFlow: sum of frame length * sampling rate */
	uint64_t scaled_packets;	/* sFlow: sum of sampling rates */
	uint32_t sample_seq_first;	/* sFlow: flow sample sequence numbers */
	uint32_t sample_seq_last;
};

/* agent: the sFlow agent address (the exporter's own address); ignored by
 * the other protocols. WEIR_OK, WEIR_E_NOMEM. */
int sim_init(struct sim_exporter *x, const struct sim_cfg *cfg, uint32_t index,
	     uint32_t domain, const struct weir_addr *agent);
void sim_free(struct sim_exporter *x);

/* Whether the next datagram of x, made at now_ns, must be its templates:
 * never for v5 and sFlow; at the first datagram, then every
 * template_interval_ns. */
int sim_template_due(const struct sim_exporter *x, uint64_t now_ns);

/* The template datagram into buf (cap bytes); info filled. WEIR_OK or the
 * encoder's error (state unchanged). */
int sim_templates(struct sim_exporter *x, uint64_t now_ns, uint8_t *buf, size_t cap,
		  struct dg_info *info);

/* A data datagram of all n flows (1 <= n) into buf; info filled. When not
 * all n fit, WEIR_E_NOSPACE and the state of x is unchanged (sim_fit_check
 * rules that out beforehand). */
int sim_data(struct sim_exporter *x, uint64_t now_ns, const struct flow *flows, size_t n,
	     uint8_t *buf, size_t cap, struct dg_info *info);

/* Whether f records of any mix the model can draw, and the templates, fit
 * datagrams of payload bytes (the UDP payload limit). WEIR_OK; or
 * WEIR_E_INVALID with a sentence in err and *max_fit set to the largest
 * record count that always fits (0 when not even the templates fit). agent
 * as for sim_init (its family decides the sFlow header size). */
int sim_fit_check(const struct sim_cfg *cfg, const struct model *m,
		  const struct weir_addr *agent, size_t payload, uint32_t f,
		  uint32_t *max_fit, char *err, size_t errlen);

#endif
