/* ipfix.h - IPFIX (RFC 7011): constants, stream framing, and the encoder.
 *
 * The decoder is ipfix_decode() of decode.h. What it does where the RFC
 * leaves room:
 *
 * - A datagram longer than the message length of its header: the bytes
 *   past the message are ignored (some exporters send zero-filled
 *   datagrams); a datagram shorter than it is WEIR_E_LENGTH, a datagram
 *   shorter than the 16-byte header WEIR_E_TRUNCATED.
 * - Set ids 0, 1 and 4..255 (reserved, RFC 7011 section 3.3.2) are skipped
 *   whole; they are not counted as errors.
 * - A set length below 4 or past the end of the message is
 *   WEIR_E_SET_LENGTH and ends the message (the framing is lost).
 * - Padding (RFC 7011 section 3.3.1): at the end of a data set, fewer bytes
 *   than the minimum record length of its template are padding, whatever
 *   their value (the RFC says they SHOULD be zero; not every exporter zeroes
 *   them). At the end of a template set, fewer than 4 bytes, or a record
 *   header of template id 0 followed by zeros only, are padding.
 * - A malformed template (id < 256, fields past the set, more than
 *   TMPL_MAX_FIELDS fields, records of zero bytes, options scope count 0 or
 *   above the field count, a field count of 0 with an id that withdraws
 *   nothing) is WEIR_E_TEMPLATE: the rest of that set is skipped, decoding
 *   goes on with the next set.
 * - Template withdrawals (RFC 7011 section 8.1) are honoured whatever the
 *   transport: id >= 256 withdraws that template, id 2 in set 2 every
 *   template, id 3 in set 3 every options template of the source.
 * - A data set whose template is unknown is held in the cache
 *   (tmpl_pending_add) and decoded when the template arrives, and counted
 *   as WEIR_E_NO_TEMPLATE; without a cache, or with an ordered one (a TCP
 *   session, tmpl.h), it is only counted.
 * - A variable-length field past the end of its set is WEIR_E_VARLEN: the
 *   records before it are handed out, the rest of the set is skipped.
 * - Every basicList / subTemplateList / subTemplateMultiList value is
 *   validated (ipfix_list.h) with the bound ctx->max_list_depth; a bad list
 *   (WEIR_E_LIST, WEIR_E_NESTING) drops that record only.
 * - Options data records (is_options = 1) that carry sampling parameters
 *   teach the source its sampler rates: samplingInterval (34),
 *   samplerRandomInterval (50), samplingPacketInterval + samplingPacketSpace
 *   (305, 306: rate = (interval + space) / interval), samplingSize +
 *   samplingPopulation (309, 310), samplingProbability (311), selected by
 *   selectorAlgorithm (304) when present; under the samplerId (48) or
 *   selectorId (302) of the record, else under id 0, the exporter default.
 *   Data records take rec->sampling_rate from an inline samplingInterval or
 *   samplerRandomInterval (t->rate_field), else from the sampler named by
 *   their samplerId/selectorId (t->sampler_field; tmpl_sampler_get falls
 *   back to id 0), else from id 0; 0 when unknown. Lookups are made once per
 *   data set (and per distinct sampler id in it), not per record.
 * - Sequence numbers (RFC 7011 section 3.1) are checked per source with the
 *   number of data records of the message as step. When a set was held for
 *   an unknown template the step is unknown and tracking restarts with the
 *   next message; a message that lost its framing is not checked.
 */
#ifndef WEIR_IPFIX_H
#define WEIR_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "tmpl.h"
#include "wr.h"

#define IPFIX_VERSION		10
#define IPFIX_PORT		4739
#define IPFIX_HDR_LEN		16	/* RFC 7011 section 3.1 */
#define IPFIX_SET_HDR_LEN	4	/* RFC 7011 section 3.3.2 */
#define IPFIX_SET_TEMPLATE	2
#define IPFIX_SET_OPTIONS	3
#define IPFIX_SET_DATA_MIN	256
#define IPFIX_VARLEN_LONG	255	/* RFC 7011 section 7: a 2-byte length follows */
#define IPFIX_MSG_MAX		65535
#define IPFIX_ENTERPRISE_BIT	0x8000u

/* Framing a byte stream (TCP, RFC 5655 files): the length of the message
 * that starts at buf. WEIR_OK with *msg_len set; WEIR_E_TRUNCATED when fewer
 * bytes than the message are there yet; WEIR_E_VERSION once 2 bytes are
 * there and the version is not 10, WEIR_E_LENGTH once 4 are and the length
 * field is below 16 (the 16-bit field cannot say more than 65535). */
int ipfix_msg_length(const uint8_t *buf, size_t len, size_t *msg_len);

/* ---- Encoder: low-level pieces. Everything writes through wr.h; a write
 * that does not fit sets w->err = WEIR_E_NOSPACE (sticky) and the calls
 * return it. ---- */

/* One message being written. */
struct ipfix_wmsg {
	struct wr *w;
	size_t msg_at;			/* offset of the message header */
	size_t set_at;			/* offset of the open set's header, SIZE_MAX none */
	uint16_t set_id;		/* id of the open set */
	uint32_t records;		/* data records written (sequence step) */
};

/* Start a message at the writer's position: version, length (patched by
 * ipfix_msg_end), export time, sequence number, observation domain. */
int ipfix_msg_begin(struct ipfix_wmsg *m, struct wr *w, uint32_t export_time,
		    uint32_t sequence, uint32_t domain);
/* Close an open set, patch the message length. Returns the message length
 * (> 0) or an error: WEIR_E_NOSPACE, WEIR_E_INVALID past 65535 bytes. */
int ipfix_msg_end(struct ipfix_wmsg *m);

/* Open a set (2, 3, or a template id >= 256 for data); an open set is closed
 * first without padding. */
int ipfix_set_begin(struct ipfix_wmsg *m, uint16_t set_id);
/* Close the open set, padding it with zeros to a multiple of align bytes
 * (0 or 1: no padding; RFC 7011 section 3.3.1 allows 4-byte alignment).
 * Padding must stay shorter than a record: the caller chooses align so. */
int ipfix_set_end(struct ipfix_wmsg *m, unsigned align);

/* Template record of t into the open set: set 2 for t->scope_count == 0,
 * set 3 otherwise. Fields with pen != 0 get the enterprise bit and their
 * enterprise number. WEIR_E_INVALID for the wrong set, pen IE_PEN_V9, an id
 * >= 0x8000, or a scope count above nfields. */
int ipfix_write_template(struct ipfix_wmsg *m, const struct tmpl *t);
/* Bytes ipfix_write_template() writes for t (record header and field
 * specifiers, enterprise numbers included). */
size_t ipfix_template_size(const struct tmpl *t);
/* Withdrawal record (RFC 7011 section 8.1) into the open set 2 or 3: id
 * >= 256 withdraws that template, id equal to the set id all of its kind. */
int ipfix_write_withdrawal(struct ipfix_wmsg *m, uint16_t id);
/* Data record of t from v[0 .. t->nfields) into the open set t->id: fixed
 * fields need v[i].len equal to the template length (reduced-size encoding
 * is a template with the shorter length), variable-length ones get a
 * 1-byte length below 255 and the 3-byte form from 255 on. */
int ipfix_write_data(struct ipfix_wmsg *m, const struct tmpl *t, const struct weir_value *v);
/* Bytes ipfix_write_data() would write for this record. */
size_t ipfix_data_size(const struct tmpl *t, const struct weir_value *v);

/* A variable-length value with its prefix (RFC 7011 section 7); long_form
 * forces the 3-byte prefix for lengths below 255. WEIR_E_INVALID past 65535. */
int ipfix_put_varlen(struct wr *w, const void *p, size_t len, int long_form);

/* A template to fill in: calloc'd with room for nfields fields, id,
 * nfields, scope_count and proto set, sampler_field and rate_field -1.
 * The caller frees it with free(). NULL on allocation failure. */
struct tmpl *ipfix_tmpl_new(uint16_t id, uint16_t nfields, uint16_t scope_count);
/* Set field i; recomputes has_varlen and min_len of t. */
void ipfix_tmpl_field(struct tmpl *t, uint16_t i, uint32_t pen, uint16_t id, uint16_t len);

/* RFC 6313 lists, written as the bytes of one field value (without the
 * variable-length prefix: put them in a struct weir_value for
 * ipfix_write_data, or write them between ipfix_varlen_begin/end).
 * basicList: n elements of field (pen, id) with element length elem_len
 * (TMPL_VARLEN: each element with its own prefix; fixed: each v[i].len must
 * equal elem_len). */
int ipfix_write_basic_list(struct wr *w, uint8_t semantic, uint32_t pen, uint16_t id,
			   uint16_t elem_len, const struct weir_value *v, size_t n);
/* subTemplateList: n records of t, values v[r * t->nfields + i]. */
int ipfix_write_stl(struct wr *w, uint8_t semantic, const struct tmpl *t,
		    const struct weir_value *v, size_t n);
/* subTemplateMultiList: the semantic, then one block per call of
 * ipfix_write_stml_block (n records of t as above). */
int ipfix_write_stml_begin(struct wr *w, uint8_t semantic);
int ipfix_write_stml_block(struct wr *w, const struct tmpl *t, const struct weir_value *v,
			   size_t n);

/* A variable-length field written in place: reserve the 3-byte prefix,
 * write the value, patch its length. begin returns the prefix offset. */
size_t ipfix_varlen_begin(struct wr *w);
int ipfix_varlen_end(struct wr *w, size_t at);

/* ---- Encoder: struct flow[] -> IPFIX messages with standard templates. ----
 *
 * Templates (RFC 7012 elements; times as flowStart/EndMilliseconds, or
 * flowStart/EndNanoseconds when time_ns):
 *   IPv4: octetDeltaCount, packetDeltaCount, flowStart, flowEnd,
 *         sourceIPv4Address, destinationIPv4Address, sourceTransportPort,
 *         destinationTransportPort, protocolIdentifier, ipClassOfService,
 *         tcpControlBits (2 bytes), ingressInterface, egressInterface,
 *         bgpSourceAsNumber, bgpDestinationAsNumber,
 *         sourceIPv4PrefixLength, destinationIPv4PrefixLength,
 *         ipNextHopIPv4Address, sourceMacAddress, destinationMacAddress,
 *         vlanId [, samplerId]
 *   IPv6: the same with the IPv6 addresses, prefix lengths and next hop.
 * Sampling (sampling_interval > 1) is announced by an options template and
 * record sent with the templates:
 *   IPFIX_SAMPLING_PSAMP:  scope observationDomainId; selectorAlgorithm 1
 *                          (systematic count-based), samplingPacketInterval 1,
 *                          samplingPacketSpace interval - 1 (RFC 5477);
 *                          the exporter's default sampler.
 *   IPFIX_SAMPLING_LEGACY: scope samplerId; samplingInterval,
 *                          samplingAlgorithm 1 (deterministic); the data
 *                          templates then carry samplerId.
 * Missing flow fields (has bit clear) go out as zeros. */
enum ipfix_sampling_style {
	IPFIX_SAMPLING_PSAMP = 0,
	IPFIX_SAMPLING_LEGACY = 1,
};

/* The sampling announcement above on its own, for any exporter: the options
 * template of style (enum ipfix_sampling_style) with id tid (the caller
 * frees it with free(); NULL on allocation failure), and its one record
 * into the open data set t->id, 1 in interval packets (interval >= 1;
 * 1: every packet). scope: the observation domain (PSAMP) or the samplerId
 * (LEGACY, 1 byte). WEIR_E_INVALID for the wrong set, template or interval
 * 0; the record counts in m->records (it is a data record). */
struct tmpl *ipfix_sampling_tmpl_new(uint16_t tid, int style);
int ipfix_write_sampling(struct ipfix_wmsg *m, const struct tmpl *t, int style, uint32_t scope,
			 uint32_t interval);

struct ipfix_flow_enc_cfg {
	uint32_t domain;		/* observation domain id */
	uint8_t time_ns;		/* nanosecond timestamps instead of milliseconds */
	uint8_t sampling_style;		/* enum ipfix_sampling_style */
	uint8_t sampler_id;		/* LEGACY: samplerId value (0 = 1) */
	uint32_t sampling_interval;	/* 1 in N; 0 or 1: unsampled, no options */
	uint16_t tid_v4, tid_v6, tid_opt;	/* template ids; 0 = 256, 257, 258 */
};

struct ipfix_flow_enc {
	struct ipfix_flow_enc_cfg cfg;
	uint32_t sequence;		/* data records sent so far, mod 2^32 */
	struct tmpl *t4, *t6, *topt;	/* owned; topt NULL when unsampled */
};

/* WEIR_OK, WEIR_E_INVALID (equal template ids), WEIR_E_NOMEM. */
int ipfix_flow_enc_init(struct ipfix_flow_enc *e, const struct ipfix_flow_enc_cfg *cfg);
void ipfix_flow_enc_free(struct ipfix_flow_enc *e);

/* One message into buf[0..cap): the templates first when with_templates
 * (then the options template and its record when sampled), then as many of
 * flows[0..n) as fit, IPv4 and IPv6 in their own data sets. *used tells how
 * many flows went in. Returns the message length, or WEIR_E_NOSPACE when
 * cap holds not even the header, the templates and one flow (*used = 0). */
int ipfix_flow_enc_msg(struct ipfix_flow_enc *e, uint8_t *buf, size_t cap,
		       uint32_t export_time, const struct flow *flows, size_t n,
		       int with_templates, size_t *used);

/* How many flows of one family (v6 != 0: IPv6) fit in a message of mtu
 * bytes (the UDP payload), with or without the templates. */
size_t ipfix_flow_enc_fit(const struct ipfix_flow_enc *e, size_t mtu, int v6,
			  int with_templates);

#endif
