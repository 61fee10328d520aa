/* nf5.h - NetFlow v5: the fixed record layout and the encoder.
 *
 * The decoder is nf5_decode() of decode.h. A v5 datagram is a 24-byte header
 * and count (1..30) records of 48 bytes, nothing else (Cisco's NetFlow
 * export datagram format). Records are handed out through the same record
 * view as v9 and IPFIX: rec->t is nf5_template(), which names each of the 48
 * bytes with its IANA element id, so normalization needs no v5 special case.
 */
#ifndef WEIR_NF5_H
#define WEIR_NF5_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "tmpl.h"

#define NF5_VERSION	5
#define NF5_HDR_LEN	24
#define NF5_REC_LEN	48
#define NF5_MAX_RECORDS	30
#define NF5_MAX_LEN	(NF5_HDR_LEN + NF5_MAX_RECORDS * NF5_REC_LEN)

/* The 48-byte record as a template (proto 5, id 0, 20 fields, min_len 48):
 *
 *   8 sourceIPv4Address 4        12 destinationIPv4Address 4
 *  15 ipNextHopIPv4Address 4     10 ingressInterface 2
 *  14 egressInterface 2           2 packetDeltaCount 4
 *   1 octetDeltaCount 4          22 flowStartSysUpTime 4
 *  21 flowEndSysUpTime 4          7 sourceTransportPort 2
 *  11 destinationTransportPort 2 210 paddingOctets 1
 *   6 tcpControlBits 1            4 protocolIdentifier 1
 *   5 ipClassOfService 1         16 bgpSourceAsNumber 2
 *  17 bgpDestinationAsNumber 2    9 sourceIPv4PrefixLength 1
 *  13 destinationIPv4PrefixLength 1  210 paddingOctets 2
 *
 * The pad bytes are fields (paddingOctets, IE 210) so that the values of a
 * record cover its 48 bytes back to back. def/norm are filled once, by
 * tmpl_finish(NULL, ...) on first use (thread-safe). Never NULL; static. */
const struct tmpl *nf5_template(void);

/* Header of a datagram to encode. */
struct nf5_hdr {
	uint32_t sys_uptime_ms;		/* exporter uptime at export */
	uint32_t unix_secs;		/* export time */
	uint32_t unix_nsecs;
	uint32_t flow_sequence;		/* flows sent before this datagram */
	uint8_t engine_type;
	uint8_t engine_id;
	uint8_t sampling_mode;		/* 2 bits: 0 none, 1 deterministic, 2 random */
	uint16_t sampling_interval;	/* 14 bits */
};

/* Encode n (1..NF5_MAX_RECORDS) flows after header h into buf (cap bytes);
 * *len gets the datagram length (NF5_HDR_LEN + n * NF5_REC_LEN).
 *
 * Flow times become uptimes: First/Last = the flow time in ms minus the boot
 * time (unix_secs/unix_nsecs minus sys_uptime_ms), modulo 2^32; a flow
 * without FLOW_HAS_TIME_START/END gets the header's uptime. An AS number
 * above 65535 is written as AS_TRANS 23456 (RFC 6793 section 9). The flows'
 * sampling_rate is not used: the header carries sampling.
 *
 * WEIR_E_INVALID: n out of range, an IPv6 address (src, dst, next hop; an
 * all-zero one is written as 0.0.0.0), an ifindex above 65535 or a counter
 * above 2^32-1 (v5 cannot carry them);
 * WEIR_E_NOSPACE: cap too small. Nothing useful is in buf on error. */
int nf5_encode(const struct nf5_hdr *h, const struct flow *flows, size_t n,
	       void *buf, size_t cap, size_t *len);

#endif
