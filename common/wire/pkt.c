/* pkt.c - packet-header parser (see pkt.h for the contract).
 *
 * Each parse_*() takes the cursor at the start of its header, checks that the
 * fixed header is there, reads it, leaves the cursor after it and returns the
 * next protocol (an ethertype after a link layer, an IP protocol number after
 * a network layer), PKT_DONE when nothing further is to be parsed, or a
 * negative err.h value saying why parsing stopped.
 */
#include <string.h>

#include "err.h"
#include "pkt.h"
#include "rd.h"

#define PKT_DONE	(-1000)		/* stop, nothing wrong */

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define MPLS_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	4
#define IPV6_FRAG_HLEN	8

#define ETH_P_IP	0x0800
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88a8
#define ETH_P_QINQ1	0x9100		/* pre-802.1ad QinQ, still seen */
#define ETH_P_IPV6	0x86dd
#define ETH_P_MPLS_UC	0x8847
#define ETH_P_MPLS_MC	0x8848
#define ETH_P_MIN	0x0600		/* below: an 802.3 length, not a type */

#define IPP_HOPOPTS	0
#define IPP_ICMP	1
#define IPP_TCP		6
#define IPP_UDP		17
#define IPP_ROUTING	43
#define IPP_FRAGMENT	44
#define IPP_AH		51
#define IPP_ICMPV6	58
#define IPP_DSTOPTS	60

static int is_vlan(int type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1;
}

static int parse_eth(struct rd *r, struct pkt_info *pi)
{
	uint16_t type;

	if (rd_left(r) < ETH_HLEN)
		return WEIR_E_TRUNCATED;
	rd_copy(r, pi->dst_mac, 6);
	rd_copy(r, pi->src_mac, 6);
	type = rd_u16(r);
	pi->layers |= PKT_L_ETH;
	if (type < ETH_P_MIN)
		return PKT_DONE;	/* 802.3 length + LLC: no network layer we know */
	pi->etype = type;
	return type;
}

/* IEEE 802.1Q tags, stacked for 802.1ad; the first two ids are kept. */
static int parse_vlans(struct rd *r, struct pkt_info *pi, int type)
{
	for (int i = 0; i < PKT_VLAN_MAX_DEPTH; i++) {
		uint16_t tci;

		if (!is_vlan(type))
			return type;
		if (rd_left(r) < VLAN_HLEN)
			return WEIR_E_TRUNCATED;
		tci = rd_u16(r);
		type = rd_u16(r);
		if (i == 0) {
			pi->vlan_outer = tci & 0x0fff;
			pi->layers |= PKT_L_VLAN;
		} else if (i == 1) {
			pi->vlan_inner = tci & 0x0fff;
			pi->layers |= PKT_L_QINQ;
		}
		pi->nvlans++;
		if (type < ETH_P_MIN)
			return PKT_DONE;
		pi->etype = type;
	}
	return is_vlan(type) ? WEIR_E_LIMIT : type;
}

/* RFC 3032 label stack entries down to the bottom-of-stack bit; the payload
 * type is not on the wire, so it is told by the IP version nibble. */
static int parse_mpls(struct rd *r, struct pkt_info *pi)
{
	for (int i = 0; i < PKT_MPLS_MAX_DEPTH; i++) {
		uint32_t e;

		if (rd_left(r) < MPLS_HLEN)
			return WEIR_E_TRUNCATED;
		e = rd_u32(r);
		if (i < PKT_MPLS_KEEP)
			pi->mpls[i] = e >> 12;
		pi->nlabels++;
		pi->layers |= PKT_L_MPLS;
		if (!(e & 0x100))
			continue;
		if (rd_left(r) < 1)
			return WEIR_E_TRUNCATED;
		switch (rd_ptr(r)[0] >> 4) {
		case 4:
			return ETH_P_IP;
		case 6:
			return ETH_P_IPV6;
		default:
			return PKT_DONE;	/* pseudowire, control word, ... */
		}
	}
	return WEIR_E_LIMIT;
}

/* RFC 791 section 3.1. */
static int parse_ipv4(struct rd *r, struct pkt_info *pi)
{
	uint8_t vihl, src[4] = {0}, dst[4] = {0};
	uint16_t ff;
	size_t ihl;

	if (rd_left(r) < IPV4_HLEN)
		return WEIR_E_TRUNCATED;
	pi->l3_off = (uint32_t)r->off;
	vihl = rd_u8(r);
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4 || ihl < IPV4_HLEN)
		return WEIR_E_INVALID;
	pi->tos = rd_u8(r);
	pi->ip_len = rd_u16(r);
	pi->ip_id = rd_u16(r);
	ff = rd_u16(r);
	pi->ttl = rd_u8(r);
	pi->proto = rd_u8(r);
	rd_skip(r, 2);			/* header checksum */
	rd_copy(r, src, 4);
	rd_copy(r, dst, 4);
	weir_addr_v4(&pi->src, src);
	weir_addr_v4(&pi->dst, dst);
	pi->etype = ETH_P_IP;
	pi->ip_flags = (ff >> 8) & (PKT_IP_RS | PKT_IP_DF | PKT_IP_MF);
	pi->frag_off = ff & 0x1fff;
	pi->layers |= PKT_L_IPV4;
	if (pi->frag_off || (pi->ip_flags & PKT_IP_MF))
		pi->layers |= PKT_L_FRAG;
	if (!rd_skip(r, ihl - IPV4_HLEN))
		return WEIR_E_TRUNCATED;
	/* Only the first fragment carries the transport header. */
	if (pi->frag_off)
		return PKT_DONE;
	return pi->proto;
}

static int is_ipv6_ext(int nh)
{
	switch (nh) {
	case IPP_HOPOPTS:
	case IPP_ROUTING:
	case IPP_FRAGMENT:
	case IPP_AH:
	case IPP_DSTOPTS:
		return 1;
	}
	return 0;
}

/* RFC 8200 section 4.5: the fragment header. */
static int parse_ipv6_frag(struct rd *r, struct pkt_info *pi)
{
	uint16_t w;
	int nh;

	if (rd_left(r) < IPV6_FRAG_HLEN)
		return WEIR_E_TRUNCATED;
	nh = rd_u8(r);
	rd_skip(r, 1);			/* reserved */
	w = rd_u16(r);
	pi->ip_id = rd_u32(r);
	pi->frag_off = w >> 3;
	if (w & 1)
		pi->ip_flags |= PKT_IP_MF;
	pi->layers |= PKT_L_FRAG;
	return nh;
}

/* RFC 8200 section 4: walk the extension headers to the upper layer.
 * Hop-by-hop, routing and destination options give their length in 8-octet
 * units not counting the first 8 (section 4.3); AH in 4-octet units minus
 * 2 (RFC 4302 section 2.2). */
static int parse_ipv6_ext(struct rd *r, struct pkt_info *pi, int nh)
{
	for (int i = 0; i <= PKT_IPV6_MAX_EXT; i++) {
		size_t hlen;
		uint8_t len;
		int next;

		pi->proto = (uint8_t)nh;
		if (!is_ipv6_ext(nh))
			return nh;
		if (i == PKT_IPV6_MAX_EXT)
			break;
		if (nh == IPP_FRAGMENT) {
			next = parse_ipv6_frag(r, pi);
			if (next < 0)
				return next;
		} else {
			if (rd_left(r) < 2)
				return WEIR_E_TRUNCATED;
			next = rd_u8(r);
			len = rd_u8(r);
			if (nh == IPP_AH)
				hlen = ((size_t)len + 2) * 4;
			else
				hlen = ((size_t)len + 1) * 8;
			if (!rd_skip(r, hlen - 2))
				return WEIR_E_TRUNCATED;
		}
		pi->n_ext++;
		pi->layers |= PKT_L_IPV6_EXT;
		if (nh == IPP_FRAGMENT && pi->frag_off) {
			pi->proto = (uint8_t)next;
			return PKT_DONE;
		}
		nh = next;
	}
	return WEIR_E_LIMIT;
}

/* RFC 8200 section 3. */
static int parse_ipv6(struct rd *r, struct pkt_info *pi)
{
	uint8_t src[16] = {0}, dst[16] = {0};
	uint32_t w;
	int nh;

	if (rd_left(r) < IPV6_HLEN)
		return WEIR_E_TRUNCATED;
	pi->l3_off = (uint32_t)r->off;
	w = rd_u32(r);
	if (w >> 28 != 6)
		return WEIR_E_INVALID;
	pi->tos = (w >> 20) & 0xff;
	pi->flow_label = w & 0xfffff;
	pi->ip_len = (uint32_t)rd_u16(r) + IPV6_HLEN;
	nh = rd_u8(r);
	pi->ttl = rd_u8(r);
	rd_copy(r, src, 16);
	rd_copy(r, dst, 16);
	weir_addr_v6(&pi->src, src);
	weir_addr_v6(&pi->dst, dst);
	pi->etype = ETH_P_IPV6;
	pi->layers |= PKT_L_IPV6;
	return parse_ipv6_ext(r, pi, nh);
}

/* RFC 9293 section 3.1: data offset, 3 reserved bits, then the 9 flags
 * (NS of RFC 3540 as the lowest bit of the first octet). */
static int parse_tcp(struct rd *r, struct pkt_info *pi)
{
	if (rd_left(r) < TCP_HLEN)
		return WEIR_E_TRUNCATED;
	pi->l4_off = (uint32_t)r->off;
	pi->src_port = rd_u16(r);
	pi->dst_port = rd_u16(r);
	rd_skip(r, 8);			/* sequence, acknowledgment */
	pi->tcp_flags = rd_u16(r) & 0x01ff;
	rd_skip(r, 6);			/* window, checksum, urgent pointer */
	pi->layers |= PKT_L_TCP;
	return PKT_DONE;
}

static int parse_udp(struct rd *r, struct pkt_info *pi)
{
	if (rd_left(r) < UDP_HLEN)
		return WEIR_E_TRUNCATED;
	pi->l4_off = (uint32_t)r->off;
	pi->src_port = rd_u16(r);
	pi->dst_port = rd_u16(r);
	rd_skip(r, 4);			/* length, checksum */
	pi->layers |= PKT_L_UDP;
	return PKT_DONE;
}

/* RFC 792 / RFC 4443 section 2.1: type, code, checksum. */
static int parse_icmp(struct rd *r, struct pkt_info *pi, uint32_t layer)
{
	if (rd_left(r) < ICMP_HLEN)
		return WEIR_E_TRUNCATED;
	pi->l4_off = (uint32_t)r->off;
	pi->icmp_type = rd_u8(r);
	pi->icmp_code = rd_u8(r);
	rd_skip(r, 2);
	pi->layers |= layer;
	return PKT_DONE;
}

int pkt_parse(struct pkt_info *pi, const void *buf, size_t len, int start)
{
	struct rd r;
	int next;

	memset(pi, 0, sizeof(*pi));
	rd_init(&r, buf, len);
	switch (start) {
	case PKT_START_ETH:
		next = parse_eth(&r, pi);
		if (next >= 0)
			next = parse_vlans(&r, pi, next);
		break;
	case PKT_START_IPV4:
		next = ETH_P_IP;
		break;
	case PKT_START_IPV6:
		next = ETH_P_IPV6;
		break;
	default:
		return WEIR_E_INVALID;
	}

	if (next == ETH_P_MPLS_UC || next == ETH_P_MPLS_MC)
		next = parse_mpls(&r, pi);
	if (next == ETH_P_IP)
		next = parse_ipv4(&r, pi);
	else if (next == ETH_P_IPV6)
		next = parse_ipv6(&r, pi);
	else if (next >= 0)
		next = PKT_DONE;	/* ARP, LLDP, ...: link layer only */

	switch (next) {
	case IPP_TCP:
		next = parse_tcp(&r, pi);
		break;
	case IPP_UDP:
		next = parse_udp(&r, pi);
		break;
	case IPP_ICMP:
		next = parse_icmp(&r, pi, PKT_L_ICMP);
		break;
	case IPP_ICMPV6:
		next = parse_icmp(&r, pi, PKT_L_ICMPV6);
		break;
	}

	switch (next) {
	case WEIR_E_TRUNCATED:
		pi->flags |= PKT_F_TRUNCATED;
		break;
	case WEIR_E_INVALID:
		pi->flags |= PKT_F_MALFORMED;
		break;
	case WEIR_E_LIMIT:
		pi->flags |= PKT_F_DEPTH;
		break;
	}
	pi->hdr_len = (uint32_t)r.off;
	return WEIR_OK;
}
