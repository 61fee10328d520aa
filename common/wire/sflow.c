/* sflow.c - sFlow version 5 decoder and its normalization.
 *
 * Layouts: sFlow v5 specification (sflow.org, sflow_version_5.txt), XDR
 * (RFC 4506): every item a multiple of 4 bytes, opaque<> and arrays a 32-bit
 * length or count first, opaque data padded to 4.
 *
 * Errors: the datagram header short is WEIR_E_TRUNCATED; a sample whose
 * length passes the datagram ends the walk (WEIR_E_RECORD), the samples
 * before it stay handed out. Inside a sample, a record whose length passes
 * the sample, or whose fields pass its own length, is WEIR_E_RECORD; a count
 * that cannot fit the bytes left is WEIR_E_COUNT, one above a bound
 * WEIR_E_LIMIT; such a sample is dropped and the walk goes on with the
 * next sample, since its length still says where that starts.
 */
#include <stddef.h>
#include <string.h>

#include "decode.h"
#include "rd.h"
#include "sflow.h"
#include "tmpl.h"

#define SFLOW_OPAQUE_MIN	8	/* data_format + opaque length */

struct sflow_dec {
	struct weir_ctx *ctx;
	struct weir_msg msg;
	struct weir_record rec;
	struct sflow_sample s;
};

/* A count of items of at least unit bytes each, against the bytes left and
 * a bound. */
static int check_count(const struct rd *r, uint32_t n, size_t unit, uint32_t max)
{
	size_t need;

	if (__builtin_mul_overflow((size_t)n, unit, &need) || need > rd_left(r))
		return WEIR_E_COUNT;
	if (n > max)
		return WEIR_E_LIMIT;
	return WEIR_OK;
}

/* opaque<>: length, data, padding to 4. *sub is the data without padding. */
static int xdr_opaque(struct rd *r, struct rd *sub)
{
	uint32_t len = rd_u32(r);
	size_t padded;

	if (r->err)
		return WEIR_E_RECORD;
	if (__builtin_add_overflow((size_t)len, (size_t)(-len & 3u), &padded) ||
	    padded > rd_left(r))
		return WEIR_E_RECORD;
	rd_sub(r, len, sub);
	rd_skip(r, padded - len);
	return WEIR_OK;
}

/* "address": type, then 4, 16 or no bytes. */
static int xdr_address(struct rd *r, uint32_t *type, struct weir_addr *a)
{
	uint8_t b[16];

	memset(a, 0, sizeof(*a));
	*type = rd_u32(r);
	switch (*type) {
	case SFLOW_ADDR_UNKNOWN:
		return WEIR_OK;
	case SFLOW_ADDR_IPV4:
		if (rd_copy(r, b, 4))
			weir_addr_v4(a, b);
		return WEIR_OK;
	case SFLOW_ADDR_IPV6:
		if (rd_copy(r, b, 16))
			weir_addr_v6(a, b);
		return WEIR_OK;
	}
	return r->err ? WEIR_OK : WEIR_E_INVALID;	/* a short read is the caller's */
}

static void xdr_mac(struct rd *r, uint8_t mac[6])
{
	rd_copy(r, mac, 6);
	rd_skip(r, 2);			/* opaque mac[6], padded to 8 */
}

static void dec_if(struct rd *r, struct sflow_if *i, int expanded)
{
	uint32_t v;

	if (expanded) {
		i->format = rd_u32(r);
		i->value = rd_u32(r);
		return;
	}
	v = rd_u32(r);
	i->format = v >> 30;
	i->value = v & 0x3fffffff;
}

static void dec_source_id(struct rd *r, struct sflow_sample *s, int expanded)
{
	uint32_t v;

	if (expanded) {
		s->source_id_type = rd_u32(r);
		s->source_id_index = rd_u32(r);
		return;
	}
	v = rd_u32(r);
	s->source_id_type = v >> 24;
	s->source_id_index = v & 0x00ffffff;
}

/* sampled_header */
static int rec_header(struct rd *r, struct sflow_raw_header *h)
{
	struct rd hr;
	int err;

	h->protocol = rd_u32(r);
	h->frame_length = rd_u32(r);
	h->stripped = rd_u32(r);
	if (r->err)
		return WEIR_E_RECORD;
	err = xdr_opaque(r, &hr);
	if (err)
		return err;
	h->bytes = rd_ptr(&hr);
	h->len = (uint32_t)rd_left(&hr);
	switch (h->protocol) {
	case SFLOW_HDR_ETHERNET:
	case SFLOW_HDR_IPV4:
	case SFLOW_HDR_IPV6:
		/* The header's bytes stand for frame_length - stripped on
		 * the wire (an offload capture's IP length is the frame's). */
		pkt_parse_frame(&h->pkt, h->bytes, h->len,
				h->frame_length > h->stripped ? h->frame_length - h->stripped : 0,
				(int)h->protocol);
		h->parsed = 1;
		break;
	}
	return WEIR_OK;
}

/* sampled_ethernet */
static int rec_ethernet(struct rd *r, struct sflow_ethernet *e)
{
	e->length = rd_u32(r);
	xdr_mac(r, e->src_mac);
	xdr_mac(r, e->dst_mac);
	e->type = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* sampled_ipv4 / sampled_ipv6 */
static int rec_ip(struct rd *r, struct sflow_ip *ip, int v6)
{
	uint8_t b[16];

	ip->length = rd_u32(r);
	ip->protocol = rd_u32(r);
	if (v6) {
		if (rd_copy(r, b, 16))
			weir_addr_v6(&ip->src, b);
		if (rd_copy(r, b, 16))
			weir_addr_v6(&ip->dst, b);
	} else {
		if (rd_copy(r, b, 4))
			weir_addr_v4(&ip->src, b);
		if (rd_copy(r, b, 4))
			weir_addr_v4(&ip->dst, b);
	}
	ip->src_port = rd_u32(r);
	ip->dst_port = rd_u32(r);
	ip->tcp_flags = rd_u32(r);
	ip->tos = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* extended_switch */
static int rec_switch(struct rd *r, struct sflow_switch *sw)
{
	sw->src_vlan = rd_u32(r);
	sw->src_priority = rd_u32(r);
	sw->dst_vlan = rd_u32(r);
	sw->dst_priority = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* extended_router */
static int rec_router(struct rd *r, struct sflow_router *rt)
{
	int err = xdr_address(r, &rt->nh_type, &rt->next_hop);

	if (err)
		return err;
	rt->src_mask = rd_u32(r);
	rt->dst_mask = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* extended_gateway: dst_as_path<> is an array of as_path_type, each a
 * segment type and an array of AS numbers. The destination AS is the last
 * AS of the path, the destination peer AS its first. */
static int rec_gateway(struct rd *r, struct sflow_gateway *g)
{
	int err = xdr_address(r, &g->nh_type, &g->next_hop);

	if (err)
		return err;
	g->as = rd_u32(r);
	g->src_as = rd_u32(r);
	g->src_peer_as = rd_u32(r);
	g->nsegments = rd_u32(r);
	if (r->err)
		return WEIR_E_RECORD;
	err = check_count(r, g->nsegments, 8, SFLOW_MAX_AS_SEGMENTS);
	if (err)
		return err;
	for (uint32_t i = 0; i < g->nsegments; i++) {
		uint32_t n;

		rd_skip(r, 4);		/* AS_SET / AS_SEQUENCE */
		n = rd_u32(r);
		if (r->err)
			return WEIR_E_RECORD;
		err = check_count(r, n, 4, SFLOW_MAX_AS_PER_SEG);
		if (err)
			return err;
		for (uint32_t j = 0; j < n; j++) {
			uint32_t as = rd_u32(r);

			if (g->as_path_len == 0)
				g->dst_peer_as = as;
			if (g->as_path_len < SFLOW_AS_PATH_KEEP)
				g->as_path[g->as_path_len] = as;
			g->as_path_len++;
			g->dst_as = as;
		}
	}
	g->ncommunities = rd_u32(r);
	if (r->err)
		return WEIR_E_RECORD;
	err = check_count(r, g->ncommunities, 4, SFLOW_MAX_COMMUNITIES);
	if (err)
		return err;
	g->communities = rd_bytes(r, (size_t)g->ncommunities * 4);
	g->local_pref = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* if_counters */
static int rec_if_counters(struct rd *r, struct sflow_if_counters *c)
{
	c->if_index = rd_u32(r);
	c->if_type = rd_u32(r);
	c->if_speed = rd_u64(r);
	c->if_direction = rd_u32(r);
	c->if_status = rd_u32(r);
	c->in_octets = rd_u64(r);
	c->in_ucast = rd_u32(r);
	c->in_mcast = rd_u32(r);
	c->in_bcast = rd_u32(r);
	c->in_discards = rd_u32(r);
	c->in_errors = rd_u32(r);
	c->in_unknown_protos = rd_u32(r);
	c->out_octets = rd_u64(r);
	c->out_ucast = rd_u32(r);
	c->out_mcast = rd_u32(r);
	c->out_bcast = rd_u32(r);
	c->out_discards = rd_u32(r);
	c->out_errors = rd_u32(r);
	c->promiscuous = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* ethernet_counters */
static int rec_eth_counters(struct rd *r, struct sflow_eth_counters *c)
{
	c->alignment_errors = rd_u32(r);
	c->fcs_errors = rd_u32(r);
	c->single_collisions = rd_u32(r);
	c->multiple_collisions = rd_u32(r);
	c->sqe_test_errors = rd_u32(r);
	c->deferred_transmissions = rd_u32(r);
	c->late_collisions = rd_u32(r);
	c->excessive_collisions = rd_u32(r);
	c->internal_mac_tx_errors = rd_u32(r);
	c->carrier_sense_errors = rd_u32(r);
	c->frame_too_longs = rd_u32(r);
	c->internal_mac_rx_errors = rd_u32(r);
	c->symbol_errors = rd_u32(r);
	return r->err ? WEIR_E_RECORD : WEIR_OK;
}

/* Flow record (data_format flow_format, opaque flow_data<>). */
static int flow_record(struct sflow_sample *s, uint32_t df, struct rd *r)
{
	uint32_t bit;

	if (SFLOW_FMT_ENT(df) != 0)
		goto unknown;
	switch (SFLOW_FMT_NUM(df)) {
	case SFLOW_REC_HEADER:
		bit = SFLOW_HAS_HEADER;
		break;
	case SFLOW_REC_ETHERNET:
		bit = SFLOW_HAS_ETHERNET;
		break;
	case SFLOW_REC_IPV4:
		bit = SFLOW_HAS_IPV4;
		break;
	case SFLOW_REC_IPV6:
		bit = SFLOW_HAS_IPV6;
		break;
	case SFLOW_REC_SWITCH:
		bit = SFLOW_HAS_SWITCH;
		break;
	case SFLOW_REC_ROUTER:
		bit = SFLOW_HAS_ROUTER;
		break;
	case SFLOW_REC_GATEWAY:
		bit = SFLOW_HAS_GATEWAY;
		break;
	default:
		goto unknown;
	}
	if (s->has & bit)
		return WEIR_OK;
	s->has |= bit;
	switch (bit) {
	/* Each part is cleared when its record comes (sample() clears only
	 * the sample's own fields: the whole struct is 664 bytes). */
	case SFLOW_HAS_HEADER:
		memset(&s->header, 0, sizeof(s->header));
		return rec_header(r, &s->header);
	case SFLOW_HAS_ETHERNET:
		memset(&s->eth, 0, sizeof(s->eth));
		return rec_ethernet(r, &s->eth);
	case SFLOW_HAS_IPV4:
		memset(&s->ipv4, 0, sizeof(s->ipv4));
		return rec_ip(r, &s->ipv4, 0);
	case SFLOW_HAS_IPV6:
		memset(&s->ipv6, 0, sizeof(s->ipv6));
		return rec_ip(r, &s->ipv6, 1);
	case SFLOW_HAS_SWITCH:
		memset(&s->sw, 0, sizeof(s->sw));
		return rec_switch(r, &s->sw);
	case SFLOW_HAS_ROUTER:
		memset(&s->router, 0, sizeof(s->router));
		return rec_router(r, &s->router);
	default:
		memset(&s->gw, 0, sizeof(s->gw));
		return rec_gateway(r, &s->gw);
	}
unknown:
	s->unknown_records++;
	return WEIR_OK;
}

/* Counter record (data_format counter_format, opaque counter_data<>). */
static int counter_record(struct sflow_sample *s, uint32_t df, struct rd *r)
{
	if (df == SFLOW_FMT(0, SFLOW_CNT_GENERIC) && !(s->has & SFLOW_HAS_IF_COUNTERS)) {
		s->has |= SFLOW_HAS_IF_COUNTERS;
		memset(&s->ifc, 0, sizeof(s->ifc));
		return rec_if_counters(r, &s->ifc);
	}
	if (df == SFLOW_FMT(0, SFLOW_CNT_ETHERNET) && !(s->has & SFLOW_HAS_ETH_COUNTERS)) {
		s->has |= SFLOW_HAS_ETH_COUNTERS;
		memset(&s->ethc, 0, sizeof(s->ethc));
		return rec_eth_counters(r, &s->ethc);
	}
	if (df != SFLOW_FMT(0, SFLOW_CNT_GENERIC) && df != SFLOW_FMT(0, SFLOW_CNT_ETHERNET))
		s->unknown_records++;
	return WEIR_OK;
}

/* The records<> array that ends flow and counter samples. */
static int sample_records(struct sflow_sample *s, struct rd *r)
{
	int err;

	s->nrecords = rd_u32(r);
	if (r->err)
		return WEIR_E_RECORD;
	err = check_count(r, s->nrecords, SFLOW_OPAQUE_MIN, SFLOW_MAX_RECORDS);
	if (err)
		return err;
	for (uint32_t i = 0; i < s->nrecords; i++) {
		struct rd rr;
		uint32_t df;

		if (rd_left(r) < SFLOW_OPAQUE_MIN)
			return WEIR_E_COUNT;
		df = rd_u32(r);
		err = xdr_opaque(r, &rr);
		if (!err)
			err = s->kind == SFLOW_KIND_FLOW ? flow_record(s, df, &rr) :
							    counter_record(s, df, &rr);
		if (err)
			return err;
	}
	return WEIR_OK;
}

/* flow_sample (format 1) and flow_sample_expanded (format 3). */
static int flow_sample(struct sflow_sample *s, struct rd *r, int expanded)
{
	s->kind = SFLOW_KIND_FLOW;
	s->expanded = (uint8_t)expanded;
	s->sequence = rd_u32(r);
	dec_source_id(r, s, expanded);
	s->sampling_rate = rd_u32(r);
	s->sample_pool = rd_u32(r);
	s->drops = rd_u32(r);
	dec_if(r, &s->input, expanded);
	dec_if(r, &s->output, expanded);
	return sample_records(s, r);
}

/* counters_sample (format 2) and counters_sample_expanded (format 4). */
static int counters_sample(struct sflow_sample *s, struct rd *r, int expanded)
{
	s->kind = SFLOW_KIND_COUNTER;
	s->expanded = (uint8_t)expanded;
	s->sequence = rd_u32(r);
	dec_source_id(r, s, expanded);
	return sample_records(s, r);
}

/* sample_record: returns WEIR_OK for a sample handed out or skipped. */
static int sample(struct sflow_dec *d, uint32_t df, struct rd *r)
{
	struct sflow_sample *s = &d->s;
	struct weir_ctx *ctx = d->ctx;
	int err;

	if (SFLOW_FMT_ENT(df) != 0)
		return WEIR_OK;
	memset(s, 0, offsetof(struct sflow_sample, header));
	switch (SFLOW_FMT_NUM(df)) {
	case SFLOW_SAMPLE_FLOW:
	case SFLOW_SAMPLE_FLOW_EXP:
		err = flow_sample(s, r, SFLOW_FMT_NUM(df) == SFLOW_SAMPLE_FLOW_EXP);
		break;
	case SFLOW_SAMPLE_COUNTERS:
	case SFLOW_SAMPLE_COUNTERS_EXP:
		err = counters_sample(s, r, SFLOW_FMT_NUM(df) == SFLOW_SAMPLE_COUNTERS_EXP);
		break;
	default:
		return WEIR_OK;
	}
	if (err)
		return err;
	d->rec.sampling_rate = s->kind == SFLOW_KIND_FLOW ? s->sampling_rate : 0;
	ctx->records++;
	if (ctx->on_record && ctx->on_record(&d->rec, ctx->user))
		return WEIR_E_STOPPED;
	return WEIR_OK;
}

/* sample_datagram: version, then sample_datagram_v5 up to samples<>. */
static int datagram_header(struct sflow_dec *d, struct rd *r, uint32_t *nsamples)
{
	uint32_t atype;
	int err;

	if (rd_u32(r) != SFLOW_VERSION)
		return r->err ? WEIR_E_TRUNCATED : WEIR_E_VERSION;
	err = xdr_address(r, &atype, &d->msg.agent);
	if (err)
		return err;
	d->msg.domain = rd_u32(r);
	d->msg.sequence = rd_u32(r);
	d->msg.sys_uptime_ms = rd_u32(r);
	*nsamples = rd_u32(r);
	if (r->err)
		return WEIR_E_TRUNCATED;
	return check_count(r, *nsamples, SFLOW_OPAQUE_MIN, SFLOW_MAX_SAMPLES);
}

int sflow_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		 const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	struct sflow_dec d;
	uint32_t nsamples;
	struct rd r;
	int err, first = WEIR_OK;

	memset(&d.msg, 0, sizeof(d.msg));
	d.ctx = ctx;
	d.msg.proto = WEIR_PROTO_SFLOW;
	d.msg.exporter = e;
	d.msg.recv_time_ns = recv_ns;
	rd_init(&r, msg, len);
	err = datagram_header(&d, &r, &nsamples);
	if (err)
		return weir_count(ctx, err);

	/* Datagram sequence numbers count per sub-agent of an agent
	 * (sample_datagram_v5): the source is the agent address (port 0) and
	 * the sub-agent, not the UDP sender, which may relay several agents
	 * (or send from another address than the agent's). */
	if (ctx->cache && e) {
		struct weir_exporter ag;

		memset(&ag, 0, sizeof(ag));
		ag.addr = d.msg.agent;
		d.msg.src = tmpl_source_get(ctx->cache, &ag, d.msg.domain, 1);
		if (d.msg.src)
			tmpl_seq_check(d.msg.src, d.msg.sequence, 1);
	}
	memset(&d.rec, 0, sizeof(d.rec));
	d.rec.msg = &d.msg;
	d.rec.sflow = &d.s;

	for (uint32_t i = 0; i < nsamples; i++) {
		struct rd sr;
		uint32_t df;

		if (rd_left(&r) < SFLOW_OPAQUE_MIN) {
			err = WEIR_E_COUNT;	/* fewer samples than the count said */
			goto fatal;
		}
		df = rd_u32(&r);
		err = xdr_opaque(&r, &sr);
		if (err)
			goto fatal;
		err = sample(&d, df, &sr);
		if (err == WEIR_E_STOPPED)
			return weir_count(ctx, err);
		if (err) {
			weir_count(ctx, err);
			if (!first)
				first = err;
		}
	}
	ctx->messages++;
	return first;

fatal:
	weir_count(ctx, err);
	return first ? first : err;
}
