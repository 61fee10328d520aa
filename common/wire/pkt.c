/* pkt.c - packet-header parser (see pkt.h for the contract).
 *
 * Each parse_*() takes the cursor at the start of its header, checks that the
 * fixed header is there, reads it, leaves the cursor after it and returns the
 * next protocol (an ethertype after a link layer, an IP protocol number after
 * a network layer), PKT_DONE when nothing further is to be parsed, or
 * PKT_STOP after stop() recorded why parsing ends early.
 */
#include <string.h>

#include "err.h"
#include "pkt.h"
#include "pkt_int.h"
#include "rd.h"
#include "wpcap.h"

#define PKT_DONE	(-1000)		/* stop, nothing wrong */
#define PKT_STOP	(-1001)		/* stop, pi->why says why */

#define ETH_HLEN	14
#define SLL_HLEN	16
#define SLL2_HLEN	20
#define LOOP_HLEN	4
#define VLAN_HLEN	4
#define MPLS_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define SCTP_HLEN	12
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

/* Linux ARPHRD_* types whose cooked-header protocol is not an ethertype
 * (include/uapi/linux/if_arp.h): Frame Relay, 802.11 with radiotap, netlink. */
#define ARPHRD_FRAD	770
#define ARPHRD_RADIOTAP	803
#define ARPHRD_NETLINK	824

/* Address families of the loopback header: AF_INET is 2 everywhere; AF_INET6
 * is 24 on NetBSD and OpenBSD, 28 on FreeBSD and DragonFly, 30 on macOS. */
#define BSD_AF_INET		2
#define BSD_AF_INET6_BSD	24
#define BSD_AF_INET6_FREEBSD	28
#define BSD_AF_INET6_DARWIN	30

#define IPP_HOPOPTS	0
#define IPP_ICMP	1
#define IPP_TCP		6
#define IPP_UDP		17
#define IPP_ROUTING	43
#define IPP_FRAGMENT	44
#define IPP_AH		51
#define IPP_ICMPV6	58
#define IPP_DSTOPTS	60
#define IPP_SCTP	132

static const uint8_t why_flag[PKT_WHY_MAX] = {
	[PKT_WHY_LINK_CUT] = PKT_F_TRUNCATED,
	[PKT_WHY_IP_CUT] = PKT_F_TRUNCATED,
	[PKT_WHY_IP_VERSION] = PKT_F_MALFORMED,
	[PKT_WHY_IP_HDRLEN] = PKT_F_MALFORMED,
	[PKT_WHY_IP_LENGTH] = PKT_F_MALFORMED,
	[PKT_WHY_VLAN_DEPTH] = PKT_F_DEPTH,
	[PKT_WHY_MPLS_DEPTH] = PKT_F_DEPTH,
	[PKT_WHY_OPT_CUT] = PKT_F_TRUNCATED,
	[PKT_WHY_EXT_CUT] = PKT_F_TRUNCATED,
	[PKT_WHY_EXT_DEPTH] = PKT_F_DEPTH,
	[PKT_WHY_L4_CUT] = PKT_F_TRUNCATED,
};

static const char *const why_names[PKT_WHY_MAX] = {
	[PKT_WHY_NONE] = "none",
	[PKT_WHY_LINK_CUT] = "link_cut",
	[PKT_WHY_IP_CUT] = "ip_cut",
	[PKT_WHY_IP_VERSION] = "ip_version",
	[PKT_WHY_IP_HDRLEN] = "ip_hdrlen",
	[PKT_WHY_IP_LENGTH] = "ip_length",
	[PKT_WHY_VLAN_DEPTH] = "vlan_depth",
	[PKT_WHY_MPLS_DEPTH] = "mpls_depth",
	[PKT_WHY_OPT_CUT] = "ipv4_options_cut",
	[PKT_WHY_EXT_CUT] = "ipv6_ext_cut",
	[PKT_WHY_EXT_DEPTH] = "ipv6_ext_depth",
	[PKT_WHY_L4_CUT] = "l4_cut",
};

const char *pkt_why_name(int why)
{
	if (why < 0 || why >= PKT_WHY_MAX)
		return "?";
	return why_names[why];
}

static int stop(struct pkt_info *pi, int why)
{
	pi->why = (uint8_t)why;
	pi->flags = why_flag[why];
	return PKT_STOP;
}

/* End the reader after n more bytes when it has more: the IP datagram's
 * length, so that link-layer padding is never read as a header. */
static void clip(struct rd *r, size_t n)
{
	if (rd_left(r) > n)
		r->len = r->off + n;
}

static int is_vlan(int type)
{
	return type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1;
}

static int parse_eth(struct rd *r, struct pkt_info *pi)
{
	uint16_t type;

	if (rd_left(r) < ETH_HLEN)
		return stop(pi, PKT_WHY_LINK_CUT);
	rd_copy(r, pi->dst_mac, 6);
	rd_copy(r, pi->src_mac, 6);
	type = rd_u16(r);
	pi->layers |= PKT_L_ETH;
	if (type < ETH_P_MIN)
		return PKT_DONE;	/* 802.3 length + LLC: no network layer we know */
	pi->etype = type;
	return type;
}

/* The cooked header's protocol is an ethertype unless the ARPHRD type says
 * otherwise or it is below 0x0600 (Linux's ETH_P_802_2 and friends). */
static int sll_protocol(struct pkt_info *pi, uint16_t hatype, uint16_t proto)
{
	pi->layers |= PKT_L_SLL;
	if (hatype == ARPHRD_FRAD || hatype == ARPHRD_RADIOTAP || hatype == ARPHRD_NETLINK)
		return PKT_DONE;
	if (proto < ETH_P_MIN)
		return PKT_DONE;
	pi->etype = proto;
	return proto;
}

/* libpcap's LINKTYPE_LINUX_SLL: packet type, ARPHRD type, address length,
 * 8 address bytes, protocol. */
static int parse_sll(struct rd *r, struct pkt_info *pi)
{
	uint16_t hatype, proto;

	if (rd_left(r) < SLL_HLEN)
		return stop(pi, PKT_WHY_LINK_CUT);
	rd_skip(r, 2);
	hatype = rd_u16(r);
	rd_skip(r, 10);
	proto = rd_u16(r);
	return sll_protocol(pi, hatype, proto);
}

/* LINKTYPE_LINUX_SLL2: protocol, reserved, interface index, ARPHRD type,
 * packet type, address length, 8 address bytes. */
static int parse_sll2(struct rd *r, struct pkt_info *pi)
{
	uint16_t hatype, proto;

	if (rd_left(r) < SLL2_HLEN)
		return stop(pi, PKT_WHY_LINK_CUT);
	proto = rd_u16(r);
	rd_skip(r, 6);
	hatype = rd_u16(r);
	rd_skip(r, 10);
	return sll_protocol(pi, hatype, proto);
}

/* LINKTYPE_NULL: the family in the capturing host's byte order, which the
 * file does not record; families are small, so a value with its upper half
 * set was written big-endian. LINKTYPE_LOOP: always big-endian. */
static int parse_loop(struct rd *r, struct pkt_info *pi, int host_order)
{
	uint32_t fam;

	if (rd_left(r) < LOOP_HLEN)
		return stop(pi, PKT_WHY_LINK_CUT);
	fam = rd_u32(r);
	if (host_order) {
		fam = __builtin_bswap32(fam);
		if (fam & 0xffff0000u)
			fam = __builtin_bswap32(fam);
	}
	pi->family = fam;
	pi->layers |= PKT_L_LOOP;
	switch (fam) {
	case BSD_AF_INET:
		return ETH_P_IP;
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return ETH_P_IPV6;
	}
	return PKT_DONE;
}

/* IEEE 802.1Q tags, stacked for 802.1ad; the first two ids are kept. */
static int parse_vlans(struct rd *r, struct pkt_info *pi, int type)
{
	for (int i = 0; i < PKT_VLAN_MAX_DEPTH; i++) {
		uint16_t tci;

		if (!is_vlan(type))
			return type;
		if (rd_left(r) < VLAN_HLEN)
			return stop(pi, PKT_WHY_LINK_CUT);
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
	return is_vlan(type) ? stop(pi, PKT_WHY_VLAN_DEPTH) : type;
}

/* The IP version nibble: raw IP, and the payload of an MPLS stack, where
 * anything else is no IP (raw) or not ours (a pseudowire's control word). */
static int ip_of_nibble(struct rd *r, struct pkt_info *pi, int raw)
{
	if (rd_left(r) < 1)
		return stop(pi, PKT_WHY_IP_CUT);
	switch (rd_ptr(r)[0] >> 4) {
	case 4:
		return ETH_P_IP;
	case 6:
		return ETH_P_IPV6;
	}
	return raw ? stop(pi, PKT_WHY_IP_VERSION) : PKT_DONE;
}

/* RFC 3032 label stack entries down to the bottom-of-stack bit; the payload
 * type is not on the wire, so it is told by the IP version nibble. */
static int parse_mpls(struct rd *r, struct pkt_info *pi)
{
	for (int i = 0; i < PKT_MPLS_MAX_DEPTH; i++) {
		uint32_t e;

		if (rd_left(r) < MPLS_HLEN)
			return stop(pi, PKT_WHY_LINK_CUT);
		e = rd_u32(r);
		if (i < PKT_MPLS_KEEP)
			pi->mpls[i] = e >> 12;
		pi->nlabels++;
		pi->layers |= PKT_L_MPLS;
		if (e & 0x100)		/* bottom of stack */
			return ip_of_nibble(r, pi, 0);
	}
	return stop(pi, PKT_WHY_MPLS_DEPTH);
}

/* RFC 791 section 3.1. The reader ends at the datagram's end afterwards.
 * wire: the frame's length on the wire (see pkt_parse_frame). */
static int parse_ipv4(struct rd *r, struct pkt_info *pi, size_t wire)
{
	uint8_t vihl, src[4] = {0}, dst[4] = {0};
	uint16_t ff, tot;
	size_t ihl;

	if (rd_left(r) < IPV4_HLEN)
		return stop(pi, PKT_WHY_IP_CUT);
	pi->l3_off = (uint32_t)r->off;
	vihl = rd_u8(r);
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (vihl >> 4 != 4)
		return stop(pi, PKT_WHY_IP_VERSION);
	if (ihl < IPV4_HLEN)
		return stop(pi, PKT_WHY_IP_HDRLEN);
	pi->tos = rd_u8(r);
	tot = rd_u16(r);
	if (tot == 0 && wire - pi->l3_off >= ihl && wire - pi->l3_off <= UINT32_MAX) {
		/* Segmentation offload: the frame is the datagram. */
		pi->ip_len = (uint32_t)(wire - pi->l3_off);
		pi->len_from_frame = 1;
	} else if (tot < ihl) {
		return stop(pi, PKT_WHY_IP_LENGTH);
	} else {
		pi->ip_len = tot;
	}
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
	clip(r, (size_t)pi->ip_len - IPV4_HLEN);
	if (!rd_skip(r, ihl - IPV4_HLEN))
		return stop(pi, PKT_WHY_OPT_CUT);
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

/* RFC 8200 section 4.5: the fragment header. An atomic fragment (offset 0,
 * M clear; RFC 6946) is no fragment. */
static int parse_ipv6_frag(struct rd *r, struct pkt_info *pi)
{
	uint16_t w;
	int nh;

	if (rd_left(r) < IPV6_FRAG_HLEN)
		return stop(pi, PKT_WHY_EXT_CUT);
	nh = rd_u8(r);
	rd_skip(r, 1);			/* reserved */
	w = rd_u16(r);
	pi->ip_id = rd_u32(r);
	pi->frag_off = w >> 3;
	if (w & 1)
		pi->ip_flags |= PKT_IP_MF;
	if (pi->frag_off || (w & 1))
		pi->layers |= PKT_L_FRAG;
	return nh;
}

/* RFC 8200 section 4: walk the extension headers to the upper layer.
 * Hop-by-hop, routing and destination options give their length in 8-octet
 * units not counting the first 8 (section 4.3); AH in 4-octet units minus
 * 2 (RFC 4302 section 2.2). ESP (50) and anything else end the walk. */
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
				return stop(pi, PKT_WHY_EXT_CUT);
			next = rd_u8(r);
			len = rd_u8(r);
			if (nh == IPP_AH)
				hlen = ((size_t)len + 2) * 4;
			else
				hlen = ((size_t)len + 1) * 8;
			if (!rd_skip(r, hlen - 2))
				return stop(pi, PKT_WHY_EXT_CUT);
		}
		pi->n_ext++;
		pi->layers |= PKT_L_IPV6_EXT;
		if (nh == IPP_FRAGMENT && pi->frag_off) {
			pi->proto = (uint8_t)next;
			return PKT_DONE;
		}
		nh = next;
	}
	return stop(pi, PKT_WHY_EXT_DEPTH);
}

/* RFC 2675 section 2: the Jumbo Payload option (type 0xC2, 4 bytes of
 * length) among the n bytes of options of a hop-by-hop header. 0: none. */
static uint32_t jumbo_len(const uint8_t *p, size_t n)
{
	struct rd o;

	rd_init(&o, p, n);
	while (rd_left(&o) >= 2) {
		uint8_t type = rd_u8(&o), len;

		if (type == 0)		/* Pad1: no length byte */
			continue;
		len = rd_u8(&o);
		if (type == 0xc2 && len == 4 && rd_left(&o) >= 4)
			return rd_u32(&o);
		if (!rd_skip(&o, len))
			break;
	}
	return 0;
}

/* The length of an IPv6 datagram whose payload length field is 0 (the
 * reader at the first next header nh): a jumbogram's (RFC 2675 section 2:
 * the hop-by-hop jumbo option, its length over 65535), else a capture of
 * segmentation offload (Linux BIG TCP): the frame's. A jumbo length that the
 * frame on the wire cannot hold is impossible: 0. */
static uint32_t ipv6_len_zero(struct rd *r, struct pkt_info *pi, int nh, size_t wire)
{
	size_t hbh = nh == IPP_HOPOPTS && rd_left(r) >= 2 ? ((size_t)rd_ptr(r)[1] + 1) * 8 : 0;
	uint32_t jumbo = hbh && rd_left(r) >= hbh ? jumbo_len(rd_ptr(r) + 2, hbh - 2) : 0;
	size_t frame = wire - pi->l3_off;

	if (jumbo) {
		if (jumbo <= 65535 || frame < IPV6_HLEN || jumbo > frame - IPV6_HLEN)
			return 0;
		return jumbo + IPV6_HLEN;
	}
	if (frame > UINT32_MAX)
		return 0;
	pi->len_from_frame = 1;
	return (uint32_t)frame;
}

/* RFC 8200 section 3. */
static int parse_ipv6(struct rd *r, struct pkt_info *pi, size_t wire)
{
	uint8_t src[16] = {0}, dst[16] = {0};
	uint16_t plen;
	uint32_t w;
	int nh;

	if (rd_left(r) < IPV6_HLEN)
		return stop(pi, PKT_WHY_IP_CUT);
	pi->l3_off = (uint32_t)r->off;
	w = rd_u32(r);
	if (w >> 28 != 6)
		return stop(pi, PKT_WHY_IP_VERSION);
	pi->tos = (w >> 20) & 0xff;
	pi->flow_label = w & 0xfffff;
	plen = rd_u16(r);
	nh = rd_u8(r);
	pi->ttl = rd_u8(r);
	rd_copy(r, src, 16);
	rd_copy(r, dst, 16);
	if (plen) {
		pi->ip_len = (uint32_t)plen + IPV6_HLEN;
		clip(r, plen);
	} else {
		pi->ip_len = ipv6_len_zero(r, pi, nh, wire);
		if (!pi->ip_len)
			return stop(pi, PKT_WHY_IP_LENGTH);
	}
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
		return stop(pi, PKT_WHY_L4_CUT);
	pi->l4_off = (uint32_t)r->off;
	pi->src_port = rd_u16(r);
	pi->dst_port = rd_u16(r);
	rd_skip(r, 8);			/* sequence, acknowledgment */
	pi->tcp_flags = rd_u16(r) & 0x01ff;
	rd_skip(r, 6);			/* window, checksum, urgent pointer */
	pi->layers |= PKT_L_TCP;
	return PKT_DONE;
}

/* UDP (RFC 768): ports, length, checksum. SCTP (RFC 9260 section 3.1): ports,
 * verification tag, checksum. */
static int parse_ports(struct rd *r, struct pkt_info *pi, size_t hlen, uint32_t layer)
{
	if (rd_left(r) < hlen)
		return stop(pi, PKT_WHY_L4_CUT);
	pi->l4_off = (uint32_t)r->off;
	pi->src_port = rd_u16(r);
	pi->dst_port = rd_u16(r);
	rd_skip(r, hlen - 4);
	pi->layers |= layer;
	return PKT_DONE;
}

/* RFC 792 / RFC 4443 section 2.1: type, code, checksum. */
static int parse_icmp(struct rd *r, struct pkt_info *pi, uint32_t layer)
{
	if (rd_left(r) < ICMP_HLEN)
		return stop(pi, PKT_WHY_L4_CUT);
	pi->l4_off = (uint32_t)r->off;
	pi->icmp_type = rd_u8(r);
	pi->icmp_code = rd_u8(r);
	rd_skip(r, 2);
	pi->layers |= layer;
	return PKT_DONE;
}

/* The link layer of start: the ethertype (or IP as one) that follows it,
 * PKT_DONE, PKT_STOP, or WEIR_E_INVALID for an unknown start. */
static int parse_link(struct rd *r, struct pkt_info *pi, int start)
{
	switch (start) {
	case PKT_START_ETH:
		return parse_eth(r, pi);
	case PKT_START_SLL:
		return parse_sll(r, pi);
	case PKT_START_SLL2:
		return parse_sll2(r, pi);
	case PKT_START_NULL:
		return parse_loop(r, pi, 1);
	case PKT_START_LOOP:
		return parse_loop(r, pi, 0);
	case PKT_START_IPV4:
		return ETH_P_IP;
	case PKT_START_IPV6:
		return ETH_P_IPV6;
	case PKT_START_RAW:
		return ip_of_nibble(r, pi, 1);
	}
	return WEIR_E_INVALID;
}

/* ---- the fast path ----
 *
 * Most frames have one shape: Ethernet, IPv4 without options or IPv6
 * without extension headers, not a fragment, a length field that is not 0,
 * and a whole TCP, UDP or ICMP header. For those the walk above spends
 * most of its time checking, per field, bounds that one check covers, and
 * dispatching on layers that are not there. The fast path takes a checked
 * view of the fixed headers (rd_bytes: one bounds check), reads the fields
 * at fixed offsets in it, and fills pi as the walk would, to the bit
 * (tests/fuzz/fuzz_pkt.c compares the two on every input); anything else
 * (a tag, options, a fragment, a cut or odd header, another protocol) is
 * left to the walk. Measured on bench/run-exporter's capture: pkt_parse_frame
 * from ~270 to ~80 instructions a frame (callgrind). */

/* The transport header of protocol proto (TCP, UDP, or ICMP for IPv4 and
 * ICMPv6 for IPv6: icmp) in the avail bytes at l4, offset off of the frame:
 * pi's transport fields, or 0 when the walk must decide. */
static inline int fast_l4(struct pkt_info *pi, const uint8_t *l4, size_t avail, uint8_t proto,
			  int icmp, uint32_t off)
{
	switch (proto) {
	case IPP_TCP:
		if (avail < TCP_HLEN)
			return 0;
		pi->tcp_flags = (uint16_t)(be_uint(l4 + 12, 2) & 0x01ff);
		pi->layers |= PKT_L_TCP;
		pi->hdr_len = off + TCP_HLEN;
		break;
	case IPP_UDP:
		if (avail < UDP_HLEN)
			return 0;
		pi->layers |= PKT_L_UDP;
		pi->hdr_len = off + UDP_HLEN;
		break;
	case IPP_ICMP:
	case IPP_ICMPV6:
		if (proto != icmp || avail < ICMP_HLEN)
			return 0;
		pi->icmp_type = l4[0];
		pi->icmp_code = l4[1];
		pi->layers |= proto == IPP_ICMP ? PKT_L_ICMP : PKT_L_ICMPV6;
		pi->hdr_len = off + ICMP_HLEN;
		pi->l4_off = off;
		return 1;
	default:
		return 0;
	}
	pi->src_port = (uint16_t)be_uint(l4, 2);
	pi->dst_port = (uint16_t)be_uint(l4 + 2, 2);
	pi->l4_off = off;
	return 1;
}

/* pi zeroed. Not one memset: for 124 bytes GCC emits `rep stos`, whose
 * start-up costs more than the rest of the fast path; two memsets of at
 * most 64 bytes become eight 16-byte stores. */
static inline void pkt_zero(struct pkt_info *pi)
{
	_Static_assert(sizeof(*pi) > 64 && sizeof(*pi) <= 128, "pkt_zero's halves");
	memset(pi, 0, 64);
	memset((uint8_t *)pi + 64, 0, sizeof(*pi) - 64);
}

/* An Ethernet frame of caplen bytes at buf of the common shape into pi:
 * 1, or 0 (pi half filled) for the walk. Inlined by force: a call
 * would keep pkt_parse_frame's arguments on the stack for the walk. */
static inline __attribute__((always_inline))
int parse_fast_eth(struct pkt_info *pi, const void *buf, size_t caplen)
{
	struct rd rr, *r = &rr;
	const uint8_t *p;
	uint16_t type;

	rd_init(r, buf, caplen);
	if (rd_left(r) < ETH_HLEN + IPV4_HLEN + ICMP_HLEN)
		return 0;
	pkt_zero(pi);
	p = rd_bytes(r, ETH_HLEN + IPV4_HLEN);	/* the one bounds check */
	type = (uint16_t)be_uint(p + 12, 2);
	if (type == ETH_P_IP) {
		uint16_t tot = (uint16_t)be_uint(p + 16, 2), ff = (uint16_t)be_uint(p + 20, 2);

		/* IHL 5, a total length the header fits in, not a fragment */
		if (p[14] != 0x45 || tot < IPV4_HLEN || (ff & 0x3fff))
			return 0;
		/* The transport header within the bytes and the datagram. */
		clip(r, (size_t)tot - IPV4_HLEN);
		pi->proto = p[23];
		if (!fast_l4(pi, rd_ptr(r), rd_left(r), pi->proto, IPP_ICMP, ETH_HLEN + IPV4_HLEN))
			return 0;
		pi->tos = p[15];
		pi->ip_len = tot;
		pi->ip_id = (uint16_t)be_uint(p + 18, 2);
		pi->ip_flags = (ff >> 8) & (PKT_IP_RS | PKT_IP_DF);
		pi->ttl = p[22];
		weir_addr_v4(&pi->src, p + 26);
		weir_addr_v4(&pi->dst, p + 30);
		pi->layers |= PKT_L_ETH | PKT_L_IPV4;
	} else if (type == ETH_P_IPV6) {
		uint32_t w;
		uint16_t plen;

		if (rd_left(r) < IPV6_HLEN - IPV4_HLEN + ICMP_HLEN)
			return 0;
		rd_skip(r, IPV6_HLEN - IPV4_HLEN);	/* checked above */
		w = (uint32_t)be_uint(p + 14, 4);
		plen = (uint16_t)be_uint(p + 18, 2);
		if (w >> 28 != 6 || !plen)
			return 0;
		clip(r, plen);
		pi->proto = p[20];
		if (!fast_l4(pi, rd_ptr(r), rd_left(r), pi->proto, IPP_ICMPV6, ETH_HLEN + IPV6_HLEN))
			return 0;
		pi->tos = (w >> 20) & 0xff;
		pi->flow_label = w & 0xfffff;
		pi->ip_len = (uint32_t)plen + IPV6_HLEN;
		pi->ttl = p[21];
		weir_addr_v6(&pi->src, p + 22);
		weir_addr_v6(&pi->dst, p + 38);
		pi->layers |= PKT_L_ETH | PKT_L_IPV6;
	} else {
		return 0;
	}
	memcpy(pi->dst_mac, p, 6);
	memcpy(pi->src_mac, p + 6, 6);
	pi->etype = type;
	pi->l3_off = ETH_HLEN;
	return 1;
}

int pkt_parse(struct pkt_info *pi, const void *buf, size_t len, int start)
{
	return pkt_parse_frame(pi, buf, len, len, start);
}

int pkt_parse_walk(struct pkt_info *pi, const void *buf, size_t caplen, size_t wirelen,
		   int start)
{
	struct rd r;
	int next;

	pkt_zero(pi);
	rd_init(&r, buf, caplen);
	if (wirelen < caplen)
		wirelen = caplen;
	next = parse_link(&r, pi, start);
	if (next == WEIR_E_INVALID) {
		memset(pi, 0, sizeof(*pi));
		return WEIR_E_INVALID;
	}
	if (next >= 0)
		next = parse_vlans(&r, pi, next);
	if (next == ETH_P_MPLS_UC || next == ETH_P_MPLS_MC)
		next = parse_mpls(&r, pi);
	if (next == ETH_P_IP)
		next = parse_ipv4(&r, pi, wirelen);
	else if (next == ETH_P_IPV6)
		next = parse_ipv6(&r, pi, wirelen);
	else if (next >= 0)
		next = PKT_DONE;	/* ARP, LLDP, ...: link layer only */

	switch (next) {
	case IPP_TCP:
		parse_tcp(&r, pi);
		break;
	case IPP_UDP:
		parse_ports(&r, pi, UDP_HLEN, PKT_L_UDP);
		break;
	case IPP_SCTP:
		parse_ports(&r, pi, SCTP_HLEN, PKT_L_SCTP);
		break;
	case IPP_ICMP:
		parse_icmp(&r, pi, PKT_L_ICMP);
		break;
	case IPP_ICMPV6:
		parse_icmp(&r, pi, PKT_L_ICMPV6);
		break;
	}
	pi->hdr_len = (uint32_t)r.off;
	return WEIR_OK;
}

int pkt_parse_frame(struct pkt_info *pi, const void *buf, size_t caplen, size_t wirelen,
		    int start)
{
	if (start == PKT_START_ETH && parse_fast_eth(pi, buf, caplen))
		return WEIR_OK;
	return pkt_parse_walk(pi, buf, caplen, wirelen, start);
}

int pkt_start_of_dlt(int dlt)
{
	switch (dlt) {
	case WPCAP_DLT_EN10MB:
		return PKT_START_ETH;
	case WPCAP_DLT_RAW:
	case WPCAP_LINKTYPE_RAW:
		return PKT_START_RAW;
	case WPCAP_DLT_IPV4:
		return PKT_START_IPV4;
	case WPCAP_DLT_IPV6:
		return PKT_START_IPV6;
	case WPCAP_DLT_LINUX_SLL:
		return PKT_START_SLL;
	case WPCAP_DLT_LINUX_SLL2:
		return PKT_START_SLL2;
	case WPCAP_DLT_NULL:
		return PKT_START_NULL;
	case WPCAP_DLT_LOOP:
		return PKT_START_LOOP;
	}
	return -1;
}
