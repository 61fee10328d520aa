/* flow.h - the normalized ("common") flow record and normalization.
 *
 * Any decoded record of any protocol maps onto one struct flow; field names
 * follow the JSON names of docs/design.md. Absolute times are nanoseconds
 * since the epoch; addresses are 16 bytes (IPv4 mapped). Which fields were
 * present is told by the has bitmask (FLOW_HAS_*): a zero value that was
 * on the wire differs from one that was never sent.
 */
#ifndef WEIR_FLOW_H
#define WEIR_FLOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "decode.h"

enum flow_has {
	FLOW_HAS_TIME_START	= 1ull << 0,
	FLOW_HAS_TIME_END	= 1ull << 1,
	FLOW_HAS_BYTES		= 1ull << 2,
	FLOW_HAS_PACKETS	= 1ull << 3,
	FLOW_HAS_SRC_ADDR	= 1ull << 4,
	FLOW_HAS_DST_ADDR	= 1ull << 5,
	FLOW_HAS_ETYPE		= 1ull << 6,
	FLOW_HAS_PROTO		= 1ull << 7,
	FLOW_HAS_SRC_PORT	= 1ull << 8,
	FLOW_HAS_DST_PORT	= 1ull << 9,
	FLOW_HAS_IN_IF		= 1ull << 10,
	FLOW_HAS_OUT_IF		= 1ull << 11,
	FLOW_HAS_SRC_MAC	= 1ull << 12,
	FLOW_HAS_DST_MAC	= 1ull << 13,
	FLOW_HAS_VLAN		= 1ull << 14,
	FLOW_HAS_TOS		= 1ull << 15,
	FLOW_HAS_TTL		= 1ull << 16,
	FLOW_HAS_TCP_FLAGS	= 1ull << 17,
	FLOW_HAS_ICMP		= 1ull << 18,
	FLOW_HAS_SRC_AS		= 1ull << 19,
	FLOW_HAS_DST_AS		= 1ull << 20,
	FLOW_HAS_NEXT_HOP	= 1ull << 21,
	FLOW_HAS_SRC_NET	= 1ull << 22,
	FLOW_HAS_DST_NET	= 1ull << 23,
	FLOW_HAS_BGP_NEXT_HOP	= 1ull << 24,
	FLOW_HAS_DIRECTION	= 1ull << 25,
	FLOW_HAS_FLOW_LABEL	= 1ull << 26,
	FLOW_HAS_FRAG		= 1ull << 27,
	FLOW_HAS_DST_VLAN	= 1ull << 28,
	FLOW_HAS_SAMPLER	= 1ull << 29,	/* sampler_address */
};

struct flow {
	uint64_t has;			/* FLOW_HAS_* */
	uint8_t type;			/* enum weir_proto of the source message */
	uint64_t time_received_ns;
	uint32_t sequence_num;
	uint32_t sampling_rate;		/* 0 = unknown, 1 = unsampled */
	struct weir_addr sampler_address; /* exporter / sFlow agent */
	uint32_t observation_domain_id;
	uint64_t time_flow_start_ns;
	uint64_t time_flow_end_ns;
	uint64_t bytes;
	uint64_t packets;
	struct weir_addr src_addr, dst_addr;
	uint16_t etype;			/* 0x0800 IPv4, 0x86dd IPv6 */
	uint8_t proto;
	uint16_t src_port, dst_port;
	uint32_t in_if, out_if;
	uint8_t src_mac[6], dst_mac[6];
	uint16_t vlan_id, dst_vlan_id;
	uint8_t ip_tos;
	uint8_t ip_ttl;
	uint16_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint32_t src_as, dst_as;
	struct weir_addr next_hop, bgp_next_hop;
	uint8_t src_net, dst_net;	/* prefix lengths (source/destination masks) */
	uint8_t flow_direction;		/* 0 ingress, 1 egress */
	uint32_t ipv6_flow_label;
	uint16_t fragment_offset;
	uint8_t ip_flags;		/* IPv4 DF/MF bits as in IE 197 */
};

/* Zero f. memset() of this 216-byte struct compiles to "rep stos", whose
 * start-up cost was a fifth of normalizing a record; 16-byte stores are not. */
typedef uint64_t flow_v16 __attribute__((vector_size(16), may_alias, aligned(8)));

static inline void flow_clear(struct flow *f)
{
	flow_v16 *p = (flow_v16 *)f;
	const flow_v16 z = { 0, 0 };

	_Static_assert(sizeof(*f) % 8 == 0, "struct flow is a whole number of words");
#pragma GCC unroll 16
	for (unsigned i = 0; i < sizeof(*f) / 16; i++)
		p[i] = z;
	if (sizeof(*f) % 16)
		memset((uint8_t *)f + sizeof(*f) - 8, 0, 8);
}

/* The common format's "type" value of a flow of type (enum weir_proto):
 * "NETFLOW_V5", "NETFLOW_V9", "IPFIX", "SFLOW_5", else "UNKNOWN"; the raw
 * format's "type" is the same. A static string. */
const char *flow_type_name(uint8_t type);

/* Whether normalization maps element (pen, id) onto a common field. */
int norm_ie_mapped(uint32_t pen, uint16_t id);

/* Fill f from one decoded data record of any protocol. Unmapped fields are
 * left out; f is zeroed first. Returns WEIR_OK, or WEIR_E_INVALID for an
 * options record (no flow in it). An options record that carries
 * systemInitTimeMilliseconds (IE 160) sets its source's time base
 * (tmpl_source.sys_init_ms), which IPFIX uptimes of later records of that
 * source count from. */
static inline int flow_from_record(const struct weir_record *rec, struct flow *f);

/* The sFlow part of normalization (norm_sflow.c). Fill f (zeroed first)
 * from an sFlow flow sample record: bytes = frame length (else the IP
 * length), packets = 1, start = end = receive time,
 * fields from the parsed header, else from the ethernet/IPv4/IPv6 data
 * records, interfaces, VLANs, next hops, masks and AS numbers from the
 * extended records. Returns WEIR_OK, or WEIR_E_INVALID for a counter
 * sample or a record that is not sFlow. */
int sflow_flow(const struct weir_record *rec, struct flow *f);

/* The other two ways, which flow_from_record() picks between: v5's one
 * fixed 48-byte layout in straight-line code (norm_nf5), and the plan
 * compiled for the record's template (norm_by_plan: v9, IPFIX, and any v5
 * record too). Callers use flow_from_record(). */
int norm_nf5(const struct weir_record *rec, struct flow *f);
int norm_by_plan(const struct weir_record *rec, struct flow *f);

/* The choice inlined where it is made, so that each way is one call that
 * saves only the registers it needs: the plan's engine needs many, v5's
 * straight line few (a shared function saved them for both: v5 lost 5%). */
static inline int flow_from_record(const struct weir_record *rec, struct flow *f)
{
	const struct tmpl *t = rec->t;
	const struct weir_value *v = rec->v;

	if (rec->sflow)
		return sflow_flow(rec, f);
	/* The v5 decoder's values lie back to back over the 48-byte record. */
	if (t && t->proto == WEIR_PROTO_NF5 && t->nfields == 20 && v[0].len == 4 &&
	    v[19].p == v[0].p + 46 && v[19].len == 2)
		return norm_nf5(rec, f);
	return norm_by_plan(rec, f);
}


/* Text a caller adds to a flow's line while a formatter writes it (the
 * collector's enrichment fields): JSON members (",\"k\":v", ...) before the
 * closing brace, CSV cells (",v", ...) before the newline. fn writes into
 * out (cap bytes) and returns the length, or SIZE_MAX when it does not
 * fit (the line is then not written). */
struct flow_extra {
	size_t (*fn)(void *arg, char *out, size_t cap);
	void *arg;
};

#endif
