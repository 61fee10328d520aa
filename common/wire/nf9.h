/* nf9.h - NetFlow v9 (RFC 3954): template conventions and the encoder.
 *
 * The decoder is nf9_decode() of decode.h. How v9 maps onto struct tmpl:
 *
 *  - field types 1..32767 are IANA element ids (pen 0): v9 and IPFIX share
 *    them (RFC 5102 took the v9 numbers); types 32768..65535 are vendor
 *    types, pen IE_PEN_V9 and id = the type itself (v9 has no enterprise
 *    bit and no enterprise number);
 *  - options templates (flowset 1, RFC 3954 section 6.1): the scope fields
 *    come first (scope_count of them), with pen IE_PEN_V9 and id = the v9
 *    scope type (1 System, 2 Interface, 3 Line Card, 4 Cache, 5 Template).
 *    Scope types are not IPFIX element ids, and IE_PEN_V9 ids below 32768
 *    are otherwise unused, so (IE_PEN_V9, 1..5) names them without clash;
 *  - a field length of 65535 is read as an IPFIX variable-length field
 *    (RFC 7011 section 7): RFC 3954 has none, but H3C NetStream sends them.
 */
#ifndef WEIR_NF9_H
#define WEIR_NF9_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "tmpl.h"
#include "wr.h"

#define NF9_VERSION		9
#define NF9_HDR_LEN		20
#define NF9_SET_TEMPLATE	0
#define NF9_SET_OPTIONS		1
#define NF9_SET_DATA_MIN	256

/* v9 scope types (RFC 3954 section 6.1), as scope field ids under IE_PEN_V9. */
enum nf9_scope {
	NF9_SCOPE_SYSTEM = 1,
	NF9_SCOPE_INTERFACE = 2,
	NF9_SCOPE_LINECARD = 3,
	NF9_SCOPE_CACHE = 4,
	NF9_SCOPE_TEMPLATE = 5,
};

struct nf9_hdr {
	uint32_t sys_uptime_ms;
	uint32_t unix_secs;
	uint32_t sequence;		/* export packets sent before this one */
	uint32_t source_id;
};

/* ---- low level: one message in a caller's buffer ----
 *
 * nf9_msg_begin(); then per flowset nf9_set_begin(), templates or records,
 * nf9_set_end(); then nf9_msg_end(), which patches the header count (every
 * template, options template and data record written). Errors are sticky in
 * m->w.err (WEIR_E_NOSPACE, WEIR_E_INVALID) and returned by nf9_msg_end(). */
struct nf9_wr {
	struct wr w;
	size_t set_at;			/* offset of the open flowset, SIZE_MAX none */
	uint16_t set_id;
	uint16_t count;			/* records so far */
};

void nf9_msg_begin(struct nf9_wr *m, void *buf, size_t cap, const struct nf9_hdr *h);
/* *len gets the message length. */
int nf9_msg_end(struct nf9_wr *m, size_t *len);
void nf9_set_begin(struct nf9_wr *m, uint16_t set_id);
/* Pads the flowset with zeros to a multiple of 4 bytes (RFC 3954 section
 * 5.3) and patches its length. */
void nf9_set_end(struct nf9_wr *m);
/* A template (scope_count == 0, into flowset 0) or options template
 * (scope_count > 0, into flowset 1; the scope fields' ids are written as the
 * scope types). Fields of an enterprise other than IANA / IE_PEN_V9, ids
 * that do not fit the v9 type space, or the wrong open flowset:
 * WEIR_E_INVALID. */
void nf9_put_template(struct nf9_wr *m, const struct tmpl *t);
/* One data record of template t (the open flowset must be t->id) from
 * t->nfields values: a fixed-length field takes exactly f.len bytes (else
 * WEIR_E_INVALID), a variable-length one gets its length prefix. */
void nf9_put_record(struct nf9_wr *m, const struct tmpl *t, const struct weir_value *v);

/* ---- high level: flows -> messages with the standard templates ----
 *
 * Template 256 carries IPv4 flows, 257 IPv6 flows (with the IANA ids):
 *   octetDeltaCount(1)/8 packetDeltaCount(2)/8 flowStartSysUpTime(22)/4
 *   flowEndSysUpTime(21)/4, addresses (8, 12, 15 / 27, 28, 62),
 *   ingressInterface(10)/4 egressInterface(14)/4 bgpSourceAsNumber(16)/4
 *   bgpDestinationAsNumber(17)/4 ports (7, 11)/2 icmpTypeCode (32 / 139)/2
 *   vlanId(58)/2 postVlanId(59)/2 sourceMacAddress(56)/6
 *   destinationMacAddress(80)/6 protocolIdentifier(4)/1 ipClassOfService(5)/1
 *   tcpControlBits(6)/1 prefix lengths (9, 13 / 29, 30)/1 flowDirection(61)/1,
 *   and for IPv6 flowLabelIPv6(31)/3.
 * Options template 258: scope System/4, samplingInterval(34)/4,
 * samplingAlgorithm(35)/1; its data record (scope value 0) announces the
 * sampling interval of every flow of the source. */
#define NF9_TID_V4	256
#define NF9_TID_V6	257
#define NF9_TID_SAMPLING 258

/* The standard templates, finished with tmpl_finish(NULL, ...); static. */
const struct tmpl *nf9_std_template(int v6);
const struct tmpl *nf9_sampling_template(void);

struct nf9_enc {
	struct nf9_hdr hdr;		/* the caller sets uptime and export time
					 * before each call; sequence goes up by
					 * one per message written */
	uint32_t sampling_interval;	/* > 0: announce it with the templates */
	uint8_t sampling_algorithm;	/* 1 deterministic, 2 random */
};

/* Write one message into buf: with with_templates, first both data
 * templates (and, when sampling_interval > 0, the options template and its
 * data record), then as many of the n flows as fit, in order, IPv4 ones into
 * flowsets of 256 and IPv6 ones into 257. *len gets the message length,
 * *used the number of flows written. Flow times become uptimes relative to
 * the boot time unix_secs * 1000 - sys_uptime_ms (modulo 2^32), so times are
 * carried to the millisecond. A flow's tcp_flags above 0xff lose their high
 * bits (v9 TCP_FLAGS is one byte).
 * WEIR_E_NOSPACE when not even the templates, or (n > 0) not one flow, fit:
 * then e->hdr.sequence is unchanged. */
int nf9_encode_flows(struct nf9_enc *e, const struct flow *flows, size_t n, int with_templates,
		     void *buf, size_t cap, size_t *len, size_t *used);

#endif
