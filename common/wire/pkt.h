/* pkt.h - packet-header parser: Ethernet / 802.1Q / MPLS / IPv4 / IPv6 / L4.
 *
 * One parser for every place that meets raw packet bytes: sFlow raw packet
 * header records (sFlow v5 sampled_header, usually cut at 128 bytes) and
 * the exporter's pcap path. It walks the headers with a cursor built on the
 * reader of rd.h; each layer checks its bounds before it reads, advances,
 * and names the next protocol. Every loop (VLAN tags, MPLS labels, IPv6
 * extension headers) has a constant bound.
 *
 * A layer is reported (its PKT_L_* bit set, its fields filled) only when its
 * fixed header is complete: Ethernet 14 bytes, a VLAN tag 4, an MPLS entry
 * 4, IPv4 20, IPv6 40, TCP 20, UDP 8, ICMP/ICMPv6 4 (type, code, checksum).
 * Bytes that end before a header the parser wanted set PKT_F_TRUNCATED and
 * keep everything parsed so far: a short capture is not an error.
 */
#ifndef WEIR_PKT_H
#define WEIR_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where the bytes start; the values are sFlow's header_protocol numbers
 * (sFlow v5, "enum header_protocol"). */
enum pkt_start {
	PKT_START_ETH	= 1,	/* ETHERNET-ISO88023 */
	PKT_START_IPV4	= 11,
	PKT_START_IPV6	= 12,
};

/* Loop bounds. */
#define PKT_VLAN_MAX_DEPTH	4	/* 802.1Q / 802.1ad tags */
#define PKT_MPLS_MAX_DEPTH	8	/* label stack entries */
#define PKT_MPLS_KEEP		3	/* labels kept in pkt_info */
#define PKT_IPV6_MAX_EXT	8	/* IPv6 extension headers */

/* Layers found (pkt_info.layers). */
enum pkt_layer {
	PKT_L_ETH	= 1u << 0,
	PKT_L_VLAN	= 1u << 1,	/* at least one tag */
	PKT_L_QINQ	= 1u << 2,	/* at least two tags */
	PKT_L_MPLS	= 1u << 3,
	PKT_L_IPV4	= 1u << 4,
	PKT_L_IPV6	= 1u << 5,
	PKT_L_IPV6_EXT	= 1u << 6,	/* at least one extension header walked */
	PKT_L_FRAG	= 1u << 7,	/* a fragment: MF set or offset != 0 */
	PKT_L_TCP	= 1u << 8,
	PKT_L_UDP	= 1u << 9,
	PKT_L_ICMP	= 1u << 10,
	PKT_L_ICMPV6	= 1u << 11,
};

/* Why parsing stopped early (pkt_info.flags). */
enum pkt_flag {
	PKT_F_TRUNCATED	= 1u << 0,	/* the bytes ended inside a header */
	PKT_F_MALFORMED	= 1u << 1,	/* IP version or header length impossible */
	PKT_F_DEPTH	= 1u << 2,	/* a loop bound above was reached */
};

/* IPv4 flags and the IPv6 fragment M bit, laid out as IPFIX fragmentFlags
 * (IE 197): the top three bits of the IPv4 flags/offset word. */
#define PKT_IP_RS	0x80
#define PKT_IP_DF	0x40
#define PKT_IP_MF	0x20

struct pkt_info {
	uint32_t layers;		/* PKT_L_* */
	uint8_t flags;			/* PKT_F_* */
	uint8_t dst_mac[6], src_mac[6];
	uint8_t nvlans;			/* tags parsed */
	uint16_t vlan_outer, vlan_inner;/* 12-bit VLAN ids of the first two tags */
	uint16_t etype;			/* ethertype of the network layer: after the
					 * tags; 0x0800/0x86dd when IP was found under
					 * MPLS or the bytes started at IP */
	uint8_t nlabels;		/* MPLS entries parsed */
	uint32_t mpls[PKT_MPLS_KEEP];	/* 20-bit labels, outermost first */
	struct weir_addr src, dst;
	uint8_t proto;			/* IPv4 protocol; IPv6: the last next-header
					 * value reached (upper layer unless stopped
					 * inside the extension chain) */
	uint8_t tos;			/* IPv4 TOS / IPv6 traffic class */
	uint8_t ttl;			/* TTL / hop limit */
	uint8_t ip_flags;		/* PKT_IP_* */
	uint16_t frag_off;		/* fragment offset in 8-octet units */
	uint32_t ip_id;			/* IPv4 identification / IPv6 fragment id */
	uint32_t flow_label;		/* IPv6 */
	uint32_t ip_len;		/* IPv4 total length; IPv6 payload length + 40 */
	uint8_t n_ext;			/* IPv6 extension headers walked */
	uint16_t src_port, dst_port;	/* TCP, UDP */
	uint16_t tcp_flags;		/* the 9 flag bits, NS..FIN */
	uint8_t icmp_type, icmp_code;	/* ICMP, ICMPv6 */
	uint32_t l3_off, l4_off;	/* offsets of the IP and transport headers */
	uint32_t hdr_len;		/* bytes consumed by the headers parsed */
};

/* Parse len bytes at buf starting at layer start (enum pkt_start) into *pi,
 * which is zeroed first. Returns WEIR_OK, also for short or odd bytes (see
 * pi->flags), or WEIR_E_INVALID for an unknown start (pi stays zeroed).
 * pi keeps no pointer into buf. */
int pkt_parse(struct pkt_info *pi, const void *buf, size_t len, int start);

#endif
