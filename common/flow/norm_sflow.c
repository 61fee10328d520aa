/* norm_sflow.c - an sFlow flow sample -> struct flow: the sFlow part of
 * normalization, beside the template-driven one of norm.c. A sample is a
 * decoded packet header plus optional records, not IEs, so it maps by the
 * records it carries rather than through the field table.
 */
#include <string.h>

#include "flow.h"
#include "sflow.h"

static void flow_from_pkt(const struct pkt_info *p, struct flow *f)
{
	if (p->layers & PKT_L_ETH) {
		memcpy(f->src_mac, p->src_mac, 6);
		memcpy(f->dst_mac, p->dst_mac, 6);
		f->has |= FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC;
	}
	if (p->layers & PKT_L_VLAN) {
		f->vlan_id = p->vlan_outer;
		f->has |= FLOW_HAS_VLAN;
	}
	if (p->etype) {
		f->etype = p->etype;
		f->has |= FLOW_HAS_ETYPE;
	}
	if (!(p->layers & (PKT_L_IPV4 | PKT_L_IPV6)))
		return;
	f->src_addr = p->src;
	f->dst_addr = p->dst;
	f->proto = p->proto;
	f->ip_tos = p->tos;
	f->ip_ttl = p->ttl;
	f->has |= FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO |
		  FLOW_HAS_TOS | FLOW_HAS_TTL;
	if (p->layers & PKT_L_IPV6) {
		f->ipv6_flow_label = p->flow_label;
		f->has |= FLOW_HAS_FLOW_LABEL;
	}
	/* IPv4 always carries its fragment fields; IPv6 only in a fragment
	 * header. */
	if (p->layers & (PKT_L_IPV4 | PKT_L_FRAG)) {
		f->fragment_offset = p->frag_off;
		f->ip_flags = p->ip_flags;
		f->has |= FLOW_HAS_FRAG;
	}
	if (p->layers & (PKT_L_TCP | PKT_L_UDP)) {
		f->src_port = p->src_port;
		f->dst_port = p->dst_port;
		f->has |= FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT;
	}
	if (p->layers & PKT_L_TCP) {
		f->tcp_flags = p->tcp_flags;
		f->has |= FLOW_HAS_TCP_FLAGS;
	}
	if (p->layers & (PKT_L_ICMP | PKT_L_ICMPV6)) {
		f->icmp_type = p->icmp_type;
		f->icmp_code = p->icmp_code;
		f->has |= FLOW_HAS_ICMP;
	}
}

/* sampled_ipv4 / sampled_ipv6, when the header gave no network layer. */
static void flow_from_ip(const struct sflow_ip *ip, uint16_t etype, struct flow *f)
{
	f->src_addr = ip->src;
	f->dst_addr = ip->dst;
	f->proto = (uint8_t)ip->protocol;
	f->ip_tos = (uint8_t)ip->tos;
	f->etype = etype;
	f->has |= FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO |
		  FLOW_HAS_TOS | FLOW_HAS_ETYPE;
	switch (ip->protocol) {
	case 6:
		f->tcp_flags = (uint16_t)(ip->tcp_flags & 0x01ff);
		f->has |= FLOW_HAS_TCP_FLAGS;
		/* fall through */
	case 17:
	case 132:
		f->src_port = (uint16_t)ip->src_port;
		f->dst_port = (uint16_t)ip->dst_port;
		f->has |= FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT;
		break;
	}
}

static uint8_t mask_len(uint32_t v)
{
	return v > 128 ? 128 : (uint8_t)v;
}

static void flow_from_ext(const struct sflow_sample *s, struct flow *f)
{
	if (s->has & SFLOW_HAS_SWITCH) {
		/* For untagged ports the switch reports the port's VLAN. */
		if (!(f->has & FLOW_HAS_VLAN) && s->sw.src_vlan) {
			f->vlan_id = (uint16_t)s->sw.src_vlan;
			f->has |= FLOW_HAS_VLAN;
		}
		if (s->sw.dst_vlan) {
			f->dst_vlan_id = (uint16_t)s->sw.dst_vlan;
			f->has |= FLOW_HAS_DST_VLAN;
		}
	}
	if (s->has & SFLOW_HAS_ROUTER) {
		if (s->router.nh_type != SFLOW_ADDR_UNKNOWN) {
			f->next_hop = s->router.next_hop;
			f->has |= FLOW_HAS_NEXT_HOP;
		}
		f->src_net = mask_len(s->router.src_mask);
		f->dst_net = mask_len(s->router.dst_mask);
		f->has |= FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET;
	}
	if (s->has & SFLOW_HAS_GATEWAY) {
		if (s->gw.nh_type != SFLOW_ADDR_UNKNOWN) {
			f->bgp_next_hop = s->gw.next_hop;
			f->has |= FLOW_HAS_BGP_NEXT_HOP;
		}
		f->src_as = s->gw.src_as;
		f->has |= FLOW_HAS_SRC_AS;
		if (s->gw.as_path_len) {
			f->dst_as = s->gw.dst_as;
			f->has |= FLOW_HAS_DST_AS;
		}
	}
}

static int addr_is_zero(const struct weir_addr *a)
{
	static const struct weir_addr zero;

	return weir_addr_eq(a, &zero);
}

int sflow_flow(const struct weir_record *rec, struct flow *f)
{
	const struct sflow_sample *s = rec->sflow;
	const struct weir_msg *m = rec->msg;
	const struct pkt_info *p = NULL;

	flow_clear(f);
	if (!s || s->kind != SFLOW_KIND_FLOW)
		return WEIR_E_INVALID;
	f->type = WEIR_PROTO_SFLOW;
	f->sampling_rate = rec->sampling_rate;
	if (m) {
		f->time_received_ns = m->recv_time_ns;
		f->time_flow_start_ns = m->recv_time_ns;
		f->time_flow_end_ns = m->recv_time_ns;
		f->has |= FLOW_HAS_TIME_START | FLOW_HAS_TIME_END;
		f->sequence_num = m->sequence;
		f->observation_domain_id = m->domain;
		if (!addr_is_zero(&m->agent)) {
			f->sampler_address = m->agent;
			f->has |= FLOW_HAS_SAMPLER;
		} else if (m->exporter) {
			f->sampler_address = m->exporter->addr;
			f->has |= FLOW_HAS_SAMPLER;
		}
	}
	f->packets = 1;
	f->has |= FLOW_HAS_PACKETS;

	if ((s->has & SFLOW_HAS_HEADER) && s->header.parsed)
		p = &s->header.pkt;
	if (p)
		flow_from_pkt(p, f);
	if (!(f->has & FLOW_HAS_SRC_MAC) && (s->has & SFLOW_HAS_ETHERNET)) {
		memcpy(f->src_mac, s->eth.src_mac, 6);
		memcpy(f->dst_mac, s->eth.dst_mac, 6);
		f->has |= FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC;
		if (!(f->has & FLOW_HAS_ETYPE) && s->eth.type) {
			f->etype = (uint16_t)s->eth.type;
			f->has |= FLOW_HAS_ETYPE;
		}
	}
	if (!(f->has & FLOW_HAS_SRC_ADDR)) {
		if (s->has & SFLOW_HAS_IPV4)
			flow_from_ip(&s->ipv4, 0x0800, f);
		else if (s->has & SFLOW_HAS_IPV6)
			flow_from_ip(&s->ipv6, 0x86dd, f);
	}

	if ((s->has & SFLOW_HAS_HEADER) && s->header.frame_length)
		f->bytes = s->header.frame_length;
	else if ((s->has & SFLOW_HAS_ETHERNET) && s->eth.length)
		f->bytes = s->eth.length;
	else if ((s->has & SFLOW_HAS_IPV4) && s->ipv4.length)
		f->bytes = s->ipv4.length;
	else if ((s->has & SFLOW_HAS_IPV6) && s->ipv6.length)
		f->bytes = s->ipv6.length;
	else if (p && p->ip_len)
		f->bytes = p->ip_len;
	if (f->bytes)
		f->has |= FLOW_HAS_BYTES;

	/* interface: format 0 with value 0 is "not known". */
	if (s->input.format == SFLOW_IF_SINGLE && s->input.value) {
		f->in_if = s->input.value;
		f->has |= FLOW_HAS_IN_IF;
	}
	if (s->output.format == SFLOW_IF_SINGLE && s->output.value) {
		f->out_if = s->output.value;
		f->has |= FLOW_HAS_OUT_IF;
	}
	flow_from_ext(s, f);
	return WEIR_OK;
}
