/* sflow.h - sFlow version 5: decoded sample view and encoder.
 *
 * Wire layouts are the XDR structures of the sFlow v5 specification
 * (sflow.org, sflow_version_5.txt); section names below are its structure
 * names. The decoder is sflow_decode() of decode.h: it hands every flow
 * sample and every counter sample to ctx->on_record as a struct
 * weir_record whose sflow member points at a struct sflow_sample. That
 * sample, and every pointer in it, is a view valid only during the call.
 */
#ifndef WEIR_SFLOW_H
#define WEIR_SFLOW_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "decode.h"
#include "flow.h"
#include "pkt.h"
#include "wr.h"

#define SFLOW_PORT		6343
#define SFLOW_VERSION		5

/* Bounds of the decoder. A count above a bound is WEIR_E_LIMIT; a count
 * that cannot fit the bytes left is WEIR_E_COUNT whatever the bound. */
#define SFLOW_MAX_SAMPLES	1024	/* samples per datagram */
#define SFLOW_MAX_RECORDS	256	/* flow or counter records per sample */
#define SFLOW_MAX_AS_SEGMENTS	64	/* extended_gateway dst_as_path<> */
#define SFLOW_MAX_AS_PER_SEG	1024	/* AS numbers in one segment */
#define SFLOW_MAX_COMMUNITIES	1024
#define SFLOW_AS_PATH_KEEP	16	/* AS numbers of the path kept in the view */

/* data_format: enterprise in the top 20 bits, format in the low 12. */
#define SFLOW_FMT(ent, fmt)	((uint32_t)(ent) << 12 | (uint32_t)(fmt))
#define SFLOW_FMT_ENT(df)	((df) >> 12)
#define SFLOW_FMT_NUM(df)	((df) & 0x0fff)

/* sample_data formats, enterprise 0. */
enum sflow_sample_format {
	SFLOW_SAMPLE_FLOW		= 1,	/* flow_sample */
	SFLOW_SAMPLE_COUNTERS		= 2,	/* counters_sample */
	SFLOW_SAMPLE_FLOW_EXP		= 3,	/* flow_sample_expanded */
	SFLOW_SAMPLE_COUNTERS_EXP	= 4,	/* counters_sample_expanded */
};

/* flow_data formats, enterprise 0. */
enum sflow_flow_format {
	SFLOW_REC_HEADER	= 1,	/* sampled_header */
	SFLOW_REC_ETHERNET	= 2,	/* sampled_ethernet */
	SFLOW_REC_IPV4		= 3,	/* sampled_ipv4 */
	SFLOW_REC_IPV6		= 4,	/* sampled_ipv6 */
	SFLOW_REC_SWITCH	= 1001,	/* extended_switch */
	SFLOW_REC_ROUTER	= 1002,	/* extended_router */
	SFLOW_REC_GATEWAY	= 1003,	/* extended_gateway */
};

/* counter_data formats, enterprise 0. */
enum sflow_counter_format {
	SFLOW_CNT_GENERIC	= 1,	/* if_counters */
	SFLOW_CNT_ETHERNET	= 2,	/* ethernet_counters */
};

/* header_protocol values the packet parser understands (same numbers as
 * enum pkt_start). */
enum sflow_header_proto {
	SFLOW_HDR_ETHERNET	= 1,
	SFLOW_HDR_IPV4		= 11,
	SFLOW_HDR_IPV6		= 12,
};

/* address type (sFlow v5 "union address"). */
enum sflow_addr_type {
	SFLOW_ADDR_UNKNOWN	= 0,
	SFLOW_ADDR_IPV4		= 1,
	SFLOW_ADDR_IPV6		= 2,
};

/* "interface": top 2 bits format, low 30 bits value (compact form); the
 * expanded form carries both as full words. */
enum sflow_if_format {
	SFLOW_IF_SINGLE		= 0,	/* value: ifIndex, 0 = unknown */
	SFLOW_IF_DISCARDED	= 1,	/* value: drop reason code */
	SFLOW_IF_MULTIPLE	= 2,	/* value: number of interfaces, 0 = unknown */
};
#define SFLOW_IF_LOCAL		0x3FFFFFFFu	/* single: the device itself */

struct sflow_if {
	uint32_t format;		/* enum sflow_if_format */
	uint32_t value;
};

enum sflow_kind {
	SFLOW_KIND_FLOW		= 1,
	SFLOW_KIND_COUNTER	= 2,
};

/* Which records a sample carried (sflow_sample.has). */
enum sflow_has {
	SFLOW_HAS_HEADER	= 1u << 0,
	SFLOW_HAS_ETHERNET	= 1u << 1,
	SFLOW_HAS_IPV4		= 1u << 2,
	SFLOW_HAS_IPV6		= 1u << 3,
	SFLOW_HAS_SWITCH	= 1u << 4,
	SFLOW_HAS_ROUTER	= 1u << 5,
	SFLOW_HAS_GATEWAY	= 1u << 6,
	SFLOW_HAS_IF_COUNTERS	= 1u << 7,
	SFLOW_HAS_ETH_COUNTERS	= 1u << 8,
};

/* sampled_header. */
struct sflow_raw_header {
	uint32_t protocol;		/* header_protocol */
	uint32_t frame_length;		/* original length, FCS included */
	uint32_t stripped;		/* octets removed before the header<> bytes */
	const uint8_t *bytes;		/* view of header<> */
	uint32_t len;
	uint8_t parsed;			/* pkt is valid (protocol 1, 11 or 12) */
	struct pkt_info pkt;
};

/* sampled_ethernet. */
struct sflow_ethernet {
	uint32_t length;
	uint8_t src_mac[6], dst_mac[6];
	uint32_t type;
};

/* sampled_ipv4 and sampled_ipv6 (tos is the IPv6 "priority"). */
struct sflow_ip {
	uint32_t length;
	uint32_t protocol;
	struct weir_addr src, dst;
	uint32_t src_port, dst_port;
	uint32_t tcp_flags;
	uint32_t tos;
};

/* extended_switch. */
struct sflow_switch {
	uint32_t src_vlan, src_priority;
	uint32_t dst_vlan, dst_priority;
};

/* extended_router. */
struct sflow_router {
	uint32_t nh_type;		/* enum sflow_addr_type */
	struct weir_addr next_hop;
	uint32_t src_mask, dst_mask;
};

/* extended_gateway. as_path keeps the first SFLOW_AS_PATH_KEEP AS numbers
 * of all segments in order; communities is a view of ncommunities
 * big-endian 32-bit words (sflow_community()). */
struct sflow_gateway {
	uint32_t nh_type;
	struct weir_addr next_hop;
	uint32_t as;			/* the router's own AS */
	uint32_t src_as, src_peer_as;
	uint32_t dst_as;		/* last AS of the path, 0 when empty */
	uint32_t dst_peer_as;		/* first AS of the path, 0 when empty */
	uint32_t nsegments;
	uint32_t as_path_len;		/* AS numbers in all segments */
	uint32_t as_path[SFLOW_AS_PATH_KEEP];
	uint32_t ncommunities;
	const uint8_t *communities;
	uint32_t local_pref;
};

/* if_counters (RFC 2233 names). */
struct sflow_if_counters {
	uint32_t if_index, if_type;
	uint64_t if_speed;
	uint32_t if_direction, if_status;
	uint64_t in_octets;
	uint32_t in_ucast, in_mcast, in_bcast, in_discards, in_errors, in_unknown_protos;
	uint64_t out_octets;
	uint32_t out_ucast, out_mcast, out_bcast, out_discards, out_errors;
	uint32_t promiscuous;
};

/* ethernet_counters (RFC 2358 dot3Stats*). */
struct sflow_eth_counters {
	uint32_t alignment_errors, fcs_errors;
	uint32_t single_collisions, multiple_collisions;
	uint32_t sqe_test_errors, deferred_transmissions;
	uint32_t late_collisions, excessive_collisions;
	uint32_t internal_mac_tx_errors, carrier_sense_errors;
	uint32_t frame_too_longs, internal_mac_rx_errors;
	uint32_t symbol_errors;
};

/* One flow or counter sample. When a sample carries a record format twice
 * the first is kept; unknown records are skipped and counted. A record part
 * (header, eth, ipv4, ..., ethc) is meaningful only when its SFLOW_HAS_ bit
 * is set in has: the decoder does not clear the parts a sample lacks. */
struct sflow_sample {
	uint8_t kind;			/* enum sflow_kind */
	uint8_t expanded;		/* formats 3 and 4 */
	uint32_t sequence;
	uint32_t source_id_type;	/* 0 ifIndex, 1 VLAN, 2 entPhysicalEntry */
	uint32_t source_id_index;
	/* flow samples only */
	uint32_t sampling_rate, sample_pool, drops;
	struct sflow_if input, output;
	uint32_t nrecords;		/* records the sample declared */
	uint32_t unknown_records;	/* of them skipped */
	uint32_t has;			/* SFLOW_HAS_* */
	struct sflow_raw_header header;
	struct sflow_ethernet eth;
	struct sflow_ip ipv4, ipv6;
	struct sflow_switch sw;
	struct sflow_router router;
	struct sflow_gateway gw;
	/* counter samples only */
	struct sflow_if_counters ifc;
	struct sflow_eth_counters ethc;
};

/* i-th community of an extended_gateway view (i < g->ncommunities). */
static inline uint32_t sflow_community(const struct sflow_gateway *g, uint32_t i)
{
	uint32_t v;

	memcpy(&v, g->communities + (size_t)i * 4, 4);
	return be32toh(v);
}

/* ---- Encoder ---------------------------------------------------------- */

/* The agent a datagram comes from, and its running counters. A datagram
 * carries sequence, which sflow_encode() then advances by one; each flow
 * sample first advances flow_seq by one and sample_pool by its sampling
 * rate and carries the new values. On failure sflow_encode() leaves all
 * three as they were. */
struct sflow_agent {
	struct weir_addr addr;		/* IPv4-mapped: address type 1, else 2 */
	uint32_t sub_agent;
	uint32_t sequence;		/* datagram sequence number */
	uint32_t uptime_ms;
	uint32_t flow_seq;		/* flow sample sequence number */
	uint32_t sample_pool;
	uint8_t expanded;		/* always the expanded sample formats; they
					 * are also used for a sample whose ifIndex
					 * does not fit 24 bits */
};

/* Whole datagram: one flow sample per flow, then one counter sample per
 * entry of counters (kind SFLOW_KIND_COUNTER; its has says which of ifc and
 * ethc go out). Each flow sample holds a raw packet header synthesized from
 * the flow (Ethernet, 802.1Q when it has a VLAN, IPv4 or IPv6 with a
 * fragment header when it is a fragment, TCP/UDP/ICMP/ICMPv6), and extended
 * switch / router / gateway records when the flow carries those facts.
 * Writes at w's position; WEIR_E_NOSPACE when it does not fit (w->err set,
 * a not advanced), WEIR_E_INVALID for a counters entry of another kind. */
int sflow_encode(struct wr *w, struct sflow_agent *a,
		 const struct flow *flows, size_t nflows,
		 const struct sflow_sample *counters, size_t ncounters);

/* Bytes sflow_encode() needs for a datagram header of a, and for the flow
 * sample of f (a decides the expanded format). */
size_t sflow_datagram_hdr_size(const struct sflow_agent *a);
size_t sflow_flow_sample_size(const struct sflow_agent *a, const struct flow *f);
/* How many of flows, from the first, fit one datagram of at most max_len
 * bytes (the UDP payload: MTU less the IP and UDP headers). */
size_t sflow_flows_fit(const struct sflow_agent *a, const struct flow *flows, size_t n,
		       size_t max_len);

/* Low-level pieces, for the encoder and for tests building odd datagrams.
 * Each writes through w and leaves errors in w->err. */

/* sample_datagram_v5 header up to and including the sample count. */
void sflow_put_datagram_hdr(struct wr *w, const struct sflow_agent *a, uint32_t nsamples);
/* "address": type and bytes; an all-zero address goes out as UNKNOWN. */
void sflow_put_address(struct wr *w, const struct weir_addr *addr);
/* A data_format and an opaque<> whose length is patched by
 * sflow_put_opaque_end(at), which also writes the XDR padding; returns
 * the offset to give it. Used for samples and records alike. */
size_t sflow_put_opaque_begin(struct wr *w, uint32_t data_format);
void sflow_put_opaque_end(struct wr *w, size_t at);
/* One flow sample for f, as sflow_encode() writes it; advances a's
 * flow_seq and sample_pool. */
void sflow_put_flow_sample(struct wr *w, struct sflow_agent *a, const struct flow *f);
/* One counter sample from s (s->kind must be SFLOW_KIND_COUNTER). */
void sflow_put_counter_sample(struct wr *w, const struct sflow_sample *s);
/* The packet headers sflow_encode() samples for f, into buf; returns their
 * length, or 0 when cap is too small. frame_len is the frame length the IP
 * total length is derived from. */
size_t sflow_synth_header(uint8_t *buf, size_t cap, const struct flow *f, uint32_t frame_len);

#endif
