/* sflow_enc.c - sFlow version 5 encoder (see sflow.h).
 *
 * Layouts as in sflow.c: sFlow v5 specification, XDR (RFC 4506). Every
 * write goes through wr.h; an encoder checks w->err once at the end.
 */
#include <string.h>

#include "pktbuild.h"
#include "sflow.h"
#include "wr.h"

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define IPV6_FRAG_HLEN	8
#define FCS_LEN		4
#define SYNTH_MAX	(ETH_HLEN + VLAN_HLEN + IPV6_HLEN + IPV6_FRAG_HLEN + 20)

#define SAMPLE_FLOW_LEN		32	/* flow_sample up to flow_records<> count */
#define SAMPLE_FLOW_EXP_LEN	44
#define SAMPLE_CNT_LEN		12
#define SAMPLE_CNT_EXP_LEN	16
#define IF_COUNTERS_LEN		88
#define ETH_COUNTERS_LEN	52

static const struct weir_addr addr_none;

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static int addr_known(const struct weir_addr *a)
{
	return !weir_addr_eq(a, &addr_none);
}

static size_t address_size(const struct weir_addr *a)
{
	if (!addr_known(a))
		return 4;
	return weir_addr_is_v4(a) ? 8 : 20;
}

void sflow_put_address(struct wr *w, const struct weir_addr *a)
{
	if (!addr_known(a)) {
		wr_u32(w, SFLOW_ADDR_UNKNOWN);
	} else if (weir_addr_is_v4(a)) {
		wr_u32(w, SFLOW_ADDR_IPV4);
		wr_bytes(w, a->a + 12, 4);
	} else {
		wr_u32(w, SFLOW_ADDR_IPV6);
		wr_bytes(w, a->a, 16);
	}
}

size_t sflow_datagram_hdr_size(const struct sflow_agent *a)
{
	return 4 + address_size(&a->addr) + 16;
}

void sflow_put_datagram_hdr(struct wr *w, const struct sflow_agent *a, uint32_t nsamples)
{
	wr_u32(w, SFLOW_VERSION);
	sflow_put_address(w, &a->addr);
	wr_u32(w, a->sub_agent);
	wr_u32(w, a->sequence);
	wr_u32(w, a->uptime_ms);
	wr_u32(w, nsamples);
}

size_t sflow_put_opaque_begin(struct wr *w, uint32_t data_format)
{
	wr_u32(w, data_format);
	return wr_reserve(w, 4);
}

void sflow_put_opaque_end(struct wr *w, size_t at)
{
	size_t len;

	if (w->err || at == SIZE_MAX)
		return;
	len = w->off - at - 4;
	wr_zero(w, pad4(len) - len);
	wr_put_u32(w, at, (uint32_t)len);
}

/* ---- Synthesized packet headers --------------------------------------- */

static int flow_is_v6(const struct flow *f)
{
	if (f->has & FLOW_HAS_SRC_ADDR)
		return !weir_addr_is_v4(&f->src_addr);
	if (f->has & FLOW_HAS_DST_ADDR)
		return !weir_addr_is_v4(&f->dst_addr);
	return (f->has & FLOW_HAS_ETYPE) && f->etype == 0x86dd;
}

static int flow_is_ip(const struct flow *f)
{
	if (f->has & (FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR))
		return 1;
	return (f->has & FLOW_HAS_ETYPE) && (f->etype == 0x0800 || f->etype == 0x86dd);
}

/* Protocol number written; 255 (reserved) when the flow has none, since 0
 * would read as an IPv6 hop-by-hop header. */
static uint8_t flow_proto(const struct flow *f)
{
	return (f->has & FLOW_HAS_PROTO) ? f->proto : 255;
}

static size_t l4_hlen(const struct flow *f)
{
	if ((f->has & FLOW_HAS_FRAG) && f->fragment_offset)
		return 0;		/* non-first fragment: no transport header */
	switch (flow_proto(f)) {
	case 6:
		return 20;
	case 17:
	case 1:
	case 58:
		return 8;
	}
	return 0;
}

static size_t l2_hlen(const struct flow *f)
{
	return ETH_HLEN + ((f->has & FLOW_HAS_VLAN) ? VLAN_HLEN : 0);
}

static size_t l3_hlen(const struct flow *f)
{
	if (!flow_is_ip(f))
		return 0;
	if (!flow_is_v6(f))
		return IPV4_HLEN;
	return IPV6_HLEN + ((f->has & FLOW_HAS_FRAG) ? IPV6_FRAG_HLEN : 0);
}

static size_t synth_len(const struct flow *f)
{
	size_t l3 = l3_hlen(f);

	return l2_hlen(f) + l3 + (l3 ? l4_hlen(f) : 0);
}

static void synth_l4(struct pktb *b, const struct flow *f, size_t ip_payload)
{
	struct pktb_tcp t = { .sport = f->src_port, .dport = f->dst_port, .flags = f->tcp_flags };

	if (!l4_hlen(f))
		return;
	switch (flow_proto(f)) {
	case 6:				/* RFC 9293 section 3.1 */
		pktb_tcp(b, &t);
		break;
	case 17:			/* RFC 768 */
		pktb_udp(b, f->src_port, f->dst_port,
			 (uint16_t)(ip_payload > 0xffff ? 0xffff : ip_payload));
		break;
	default:			/* ICMP, ICMPv6 */
		pktb_icmp(b, f->icmp_type, f->icmp_code, 0);
		break;
	}
}

/* The headers of a sampled packet (pktbuild.h): the lengths of the whole
 * packet, the IPv4 header checksum, no transport checksum (the payload is
 * not in the record). */
size_t sflow_synth_header(uint8_t *buf, size_t cap, const struct flow *f, uint32_t frame_len)
{
	size_t l2 = l2_hlen(f), l3 = l3_hlen(f), l4 = l3 ? l4_hlen(f) : 0;
	size_t ip_len = l3 + l4;
	uint8_t proto = flow_proto(f);
	uint8_t ttl = (f->has & FLOW_HAS_TTL) ? f->ip_ttl : 64;
	uint16_t etype;
	struct pktb b;

	/* IP length from the frame: less link header and FCS, at least the
	 * headers written. */
	if (frame_len > l2 + FCS_LEN && frame_len - l2 - FCS_LEN > ip_len)
		ip_len = frame_len - l2 - FCS_LEN;
	if (ip_len > 0xffff)
		ip_len = 0xffff;

	if (!l3)
		etype = (f->has & FLOW_HAS_ETYPE) ? f->etype : 0;
	else
		etype = flow_is_v6(f) ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;

	pktb_init(&b, buf, cap);
	if (f->has & FLOW_HAS_VLAN) {
		pktb_eth(&b, f->dst_mac, f->src_mac, PKTB_ETH_VLAN);
		pktb_vlan(&b, f->vlan_id & 0x0fff, etype);
	} else {
		pktb_eth(&b, f->dst_mac, f->src_mac, etype);
	}
	if (l3 == IPV4_HLEN) {		/* RFC 791 section 3.1 */
		struct pktb_ip4 ip = { .tos = f->ip_tos, .total = (uint16_t)ip_len, .ttl = ttl,
				       .proto = proto };

		if (f->has & FLOW_HAS_FRAG)
			ip.frag = (uint16_t)((f->ip_flags & 0xe0) << 8 | (f->fragment_offset & 0x1fff));
		memcpy(ip.src, f->src_addr.a + 12, 4);
		memcpy(ip.dst, f->dst_addr.a + 12, 4);
		pktb_ipv4(&b, &ip);
	} else if (l3) {		/* RFC 8200 sections 3 and 4.5 */
		int frag = (f->has & FLOW_HAS_FRAG) != 0;
		struct pktb_ip6 ip = { .tc = f->ip_tos, .flow = f->ipv6_flow_label,
				       .plen = (uint16_t)(ip_len - IPV6_HLEN), .nh = frag ? 44 : proto,
				       .hlim = ttl };

		memcpy(ip.src, f->src_addr.a, 16);
		memcpy(ip.dst, f->dst_addr.a, 16);
		pktb_ipv6(&b, &ip);
		if (frag) {
			wr_u8(&b.w, proto);
			wr_u8(&b.w, 0);
			wr_u16(&b.w, (uint16_t)((f->fragment_offset & 0x1fff) << 3 |
						((f->ip_flags & 0x20) ? 1 : 0)));
			wr_u32(&b.w, 0);	/* identification */
		}
	}
	if (l3)
		synth_l4(&b, f, ip_len - l3);
	return pktb_finish_cut(&b);
}

/* ---- Samples ---------------------------------------------------------- */

static int flow_expanded(const struct sflow_agent *a, const struct flow *f)
{
	/* sFlow v5: the compact forms hold ifIndex values below 2^24. */
	if (a->expanded)
		return 1;
	if ((f->has & FLOW_HAS_IN_IF) && f->in_if > 0x00ffffff)
		return 1;
	return (f->has & FLOW_HAS_OUT_IF) && f->out_if > 0x00ffffff;
}

static uint32_t flow_frame_len(const struct flow *f)
{
	uint64_t b;

	if (!(f->has & FLOW_HAS_BYTES) || !f->bytes)
		return (uint32_t)(synth_len(f) + FCS_LEN);
	b = f->bytes;
	if ((f->has & FLOW_HAS_PACKETS) && f->packets > 1)
		b /= f->packets;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static int has_switch(const struct flow *f)
{
	return (f->has & (FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN)) != 0;
}

static int has_router(const struct flow *f)
{
	return (f->has & (FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET)) != 0;
}

static int has_gateway(const struct flow *f)
{
	return (f->has & (FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP)) != 0;
}

static const struct weir_addr *next_hop(const struct flow *f, uint64_t bit,
					const struct weir_addr *a)
{
	return (f->has & bit) ? a : &addr_none;
}

size_t sflow_flow_sample_size(const struct sflow_agent *a, const struct flow *f)
{
	size_t n = 8 + (flow_expanded(a, f) ? SAMPLE_FLOW_EXP_LEN : SAMPLE_FLOW_LEN);

	n += 8 + 16 + pad4(synth_len(f));
	if (has_switch(f))
		n += 8 + 16;
	if (has_router(f))
		n += 8 + address_size(next_hop(f, FLOW_HAS_NEXT_HOP, &f->next_hop)) + 8;
	if (has_gateway(f))
		n += 8 + address_size(next_hop(f, FLOW_HAS_BGP_NEXT_HOP, &f->bgp_next_hop)) +
		     12 + 4 + ((f->has & FLOW_HAS_DST_AS) ? 12 : 0) + 4 + 4;
	return n;
}

size_t sflow_flows_fit(const struct sflow_agent *a, const struct flow *flows, size_t n,
		       size_t max_len)
{
	size_t total = sflow_datagram_hdr_size(a), i;

	for (i = 0; i < n; i++) {
		size_t s = sflow_flow_sample_size(a, &flows[i]);

		if (total > max_len || max_len - total < s)
			break;
		total += s;
	}
	return i;
}

static void put_if(struct wr *w, uint32_t v, int expanded)
{
	if (expanded) {
		wr_u32(w, SFLOW_IF_SINGLE);
		wr_u32(w, v);
	} else {
		wr_u32(w, v & 0x3fffffff);
	}
}

static void put_source_id(struct wr *w, uint32_t type, uint32_t index, int expanded)
{
	if (expanded) {
		wr_u32(w, type);
		wr_u32(w, index);
	} else {
		wr_u32(w, type << 24 | (index & 0x00ffffff));
	}
}

/* sampled_header */
static void put_raw_header(struct wr *w, const struct flow *f)
{
	uint8_t hdr[SYNTH_MAX];
	uint32_t frame_len = flow_frame_len(f);
	size_t n = sflow_synth_header(hdr, sizeof(hdr), f, frame_len);
	size_t at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_HEADER));

	wr_u32(w, SFLOW_HDR_ETHERNET);
	wr_u32(w, frame_len);
	wr_u32(w, FCS_LEN);		/* stripped: the FCS */
	wr_u32(w, (uint32_t)n);
	wr_bytes(w, hdr, n);
	wr_zero(w, pad4(n) - n);
	sflow_put_opaque_end(w, at);
}

/* extended_switch, extended_router, extended_gateway */
static void put_extended(struct wr *w, const struct flow *f)
{
	size_t at;

	if (has_switch(f)) {
		at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_SWITCH));
		wr_u32(w, (f->has & FLOW_HAS_VLAN) ? f->vlan_id : 0);
		wr_u32(w, 0);
		wr_u32(w, (f->has & FLOW_HAS_DST_VLAN) ? f->dst_vlan_id : 0);
		wr_u32(w, 0);
		sflow_put_opaque_end(w, at);
	}
	if (has_router(f)) {
		at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_ROUTER));
		sflow_put_address(w, next_hop(f, FLOW_HAS_NEXT_HOP, &f->next_hop));
		wr_u32(w, (f->has & FLOW_HAS_SRC_NET) ? f->src_net : 0);
		wr_u32(w, (f->has & FLOW_HAS_DST_NET) ? f->dst_net : 0);
		sflow_put_opaque_end(w, at);
	}
	if (has_gateway(f)) {
		at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_REC_GATEWAY));
		sflow_put_address(w, next_hop(f, FLOW_HAS_BGP_NEXT_HOP, &f->bgp_next_hop));
		wr_u32(w, 0);		/* as: not in struct flow */
		wr_u32(w, (f->has & FLOW_HAS_SRC_AS) ? f->src_as : 0);
		wr_u32(w, 0);		/* src_peer_as */
		if (f->has & FLOW_HAS_DST_AS) {
			wr_u32(w, 1);	/* one segment */
			wr_u32(w, 2);	/* AS_SEQUENCE */
			wr_u32(w, 1);
			wr_u32(w, f->dst_as);
		} else {
			wr_u32(w, 0);
		}
		wr_u32(w, 0);		/* communities */
		wr_u32(w, 0);		/* localpref */
		sflow_put_opaque_end(w, at);
	}
}

void sflow_put_flow_sample(struct wr *w, struct sflow_agent *a, const struct flow *f)
{
	int exp = flow_expanded(a, f);
	uint32_t rate = f->sampling_rate ? f->sampling_rate : 1;
	uint32_t in = (f->has & FLOW_HAS_IN_IF) ? f->in_if : 0;
	uint32_t out = (f->has & FLOW_HAS_OUT_IF) ? f->out_if : 0;
	uint32_t nrec = 1 + has_switch(f) + has_router(f) + has_gateway(f);
	size_t at;

	a->flow_seq++;
	a->sample_pool += rate;
	at = sflow_put_opaque_begin(w, SFLOW_FMT(0, exp ? SFLOW_SAMPLE_FLOW_EXP :
						     SFLOW_SAMPLE_FLOW));
	wr_u32(w, a->flow_seq);
	put_source_id(w, 0, in, exp);
	wr_u32(w, rate);
	wr_u32(w, a->sample_pool);
	wr_u32(w, 0);			/* drops */
	put_if(w, in, exp);
	put_if(w, out, exp);
	wr_u32(w, nrec);
	put_raw_header(w, f);
	put_extended(w, f);
	sflow_put_opaque_end(w, at);
}

static void put_if_counters(struct wr *w, const struct sflow_if_counters *c)
{
	size_t at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_CNT_GENERIC));

	wr_u32(w, c->if_index);
	wr_u32(w, c->if_type);
	wr_u64(w, c->if_speed);
	wr_u32(w, c->if_direction);
	wr_u32(w, c->if_status);
	wr_u64(w, c->in_octets);
	wr_u32(w, c->in_ucast);
	wr_u32(w, c->in_mcast);
	wr_u32(w, c->in_bcast);
	wr_u32(w, c->in_discards);
	wr_u32(w, c->in_errors);
	wr_u32(w, c->in_unknown_protos);
	wr_u64(w, c->out_octets);
	wr_u32(w, c->out_ucast);
	wr_u32(w, c->out_mcast);
	wr_u32(w, c->out_bcast);
	wr_u32(w, c->out_discards);
	wr_u32(w, c->out_errors);
	wr_u32(w, c->promiscuous);
	sflow_put_opaque_end(w, at);
}

static void put_eth_counters(struct wr *w, const struct sflow_eth_counters *c)
{
	size_t at = sflow_put_opaque_begin(w, SFLOW_FMT(0, SFLOW_CNT_ETHERNET));

	wr_u32(w, c->alignment_errors);
	wr_u32(w, c->fcs_errors);
	wr_u32(w, c->single_collisions);
	wr_u32(w, c->multiple_collisions);
	wr_u32(w, c->sqe_test_errors);
	wr_u32(w, c->deferred_transmissions);
	wr_u32(w, c->late_collisions);
	wr_u32(w, c->excessive_collisions);
	wr_u32(w, c->internal_mac_tx_errors);
	wr_u32(w, c->carrier_sense_errors);
	wr_u32(w, c->frame_too_longs);
	wr_u32(w, c->internal_mac_rx_errors);
	wr_u32(w, c->symbol_errors);
	sflow_put_opaque_end(w, at);
}

void sflow_put_counter_sample(struct wr *w, const struct sflow_sample *s)
{
	int exp = s->expanded || s->source_id_index > 0x00ffffff || s->source_id_type > 0xff;
	uint32_t nrec = !!(s->has & SFLOW_HAS_IF_COUNTERS) +
			!!(s->has & SFLOW_HAS_ETH_COUNTERS);
	size_t at;

	at = sflow_put_opaque_begin(w, SFLOW_FMT(0, exp ? SFLOW_SAMPLE_COUNTERS_EXP :
						     SFLOW_SAMPLE_COUNTERS));
	wr_u32(w, s->sequence);
	put_source_id(w, s->source_id_type, s->source_id_index, exp);
	wr_u32(w, nrec);
	if (s->has & SFLOW_HAS_IF_COUNTERS)
		put_if_counters(w, &s->ifc);
	if (s->has & SFLOW_HAS_ETH_COUNTERS)
		put_eth_counters(w, &s->ethc);
	sflow_put_opaque_end(w, at);
}

int sflow_encode(struct wr *w, struct sflow_agent *a,
		 const struct flow *flows, size_t nflows,
		 const struct sflow_sample *counters, size_t ncounters)
{
	struct sflow_agent saved = *a;
	size_t n;

	if (__builtin_add_overflow(nflows, ncounters, &n) || n > UINT32_MAX)
		return WEIR_E_INVALID;
	for (size_t i = 0; i < ncounters; i++)
		if (counters[i].kind != SFLOW_KIND_COUNTER)
			return WEIR_E_INVALID;
	sflow_put_datagram_hdr(w, a, (uint32_t)n);
	for (size_t i = 0; i < nflows; i++)
		sflow_put_flow_sample(w, a, &flows[i]);
	for (size_t i = 0; i < ncounters; i++)
		sflow_put_counter_sample(w, &counters[i]);
	if (w->err) {
		*a = saved;
		return w->err;
	}
	a->sequence++;
	return WEIR_OK;
}
