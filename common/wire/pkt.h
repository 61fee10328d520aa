/* pkt.h - packet-header parser: the link layers of pcap and sFlow, 802.1Q,
 * MPLS, IPv4, IPv6 with its extension headers, TCP, UDP, SCTP, ICMP.
 *
 * One parser for every place that meets raw packet bytes: sFlow raw packet
 * header records (sFlow v5 sampled_header, usually cut at 128 bytes), the
 * collector's --pcap input and the exporter's pcap path. It walks the
 * headers with a cursor built on the reader of rd.h; each layer checks its
 * bounds before it reads, advances, and names the next protocol. Every loop
 * (VLAN tags, MPLS labels, IPv6 extension headers) has a constant bound.
 *
 * A layer is reported (its PKT_L_* bit set, its fields filled) only when its
 * fixed header is complete: Ethernet 14 bytes, Linux cooked capture 16 (v1)
 * or 20 (v2), BSD loopback 4, a VLAN tag 4, an MPLS entry 4, IPv4 20, IPv6
 * 40, TCP 20, UDP 8, SCTP 12 (its common header), ICMP/ICMPv6 4 (type, code,
 * checksum). Fields of a layer whose bit is clear are meaningless.
 *
 * The IP datagram ends where its length field says (IPv4 total length, IPv6
 * payload length + 40) or where the bytes end, whichever comes first: bytes
 * after it (Ethernet padding) are not parsed as a transport header. A length
 * field of 0 does not bound it: an IPv6 jumbogram (RFC 2675: the hop-by-hop
 * jumbo option gives the length; one the frame cannot hold is refused) or,
 * without that option and for IPv4, a
 * capture of segmentation offload (a TSO/GSO super-packet, Linux BIG TCP)
 * whose length is the frame's (as tcpdump and Wireshark read them).
 * ip_len is set whenever the IP fixed header is complete and sane, also
 * when the bytes end right after it.
 *
 * When parsing stops early, pi->why says why (enum pkt_why, one value per
 * frame, the first problem met) and pi->flags gives its class: bytes that end
 * inside a header the parser wanted (PKT_F_TRUNCATED: a short capture is not
 * an error, everything parsed so far is kept), an impossible IP header
 * (PKT_F_MALFORMED), a loop bound reached (PKT_F_DEPTH). A frame is thus
 * exactly one of: IP (PKT_L_IPV4 or PKT_L_IPV6 set; why is 0, or one of the
 * reasons at or after PKT_WHY_IP_FIRST, met above the IP header), not IP
 * (no IP bit, why 0: ARP, LLDP, an unknown ethertype or loopback family), or
 * refused before IP (no IP bit, why below PKT_WHY_IP_FIRST and not 0).
 */
#ifndef WEIR_PKT_H
#define WEIR_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where the bytes start. The first three are sFlow's header_protocol
 * numbers (sFlow v5, "enum header_protocol"); the others are pcap link types
 * sFlow has no number for, numbered past sFlow's. */
enum pkt_start {
	PKT_START_ETH	= 1,	/* ETHERNET-ISO88023 */
	PKT_START_IPV4	= 11,
	PKT_START_IPV6	= 12,
	PKT_START_RAW	= 0x100,	/* raw IP: the version nibble says 4 or 6 */
	PKT_START_SLL	= 0x101,	/* Linux cooked capture v1, 16 bytes */
	PKT_START_SLL2	= 0x102,	/* Linux cooked capture v2, 20 bytes */
	PKT_START_NULL	= 0x103,	/* BSD loopback: a 4-byte address family
					 * in the capturing host's byte order */
	PKT_START_LOOP	= 0x104,	/* OpenBSD loopback: the same in network order */
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
	PKT_L_SCTP	= 1u << 12,
	PKT_L_SLL	= 1u << 13,	/* Linux cooked capture, v1 or v2 */
	PKT_L_LOOP	= 1u << 14,	/* BSD or OpenBSD loopback family word */
};

/* The class of why parsing stopped early (pkt_info.flags). */
enum pkt_flag {
	PKT_F_TRUNCATED	= 1u << 0,	/* the bytes ended inside a header */
	PKT_F_MALFORMED	= 1u << 1,	/* IP version or a length impossible */
	PKT_F_DEPTH	= 1u << 2,	/* a loop bound above was reached */
};

/* Why parsing stopped early (pkt_info.why), for callers to count by reason
 * (pkt_why_name() gives a token fit for a metric label). Below
 * PKT_WHY_IP_FIRST the frame has no IP layer; from it on the IP layer is
 * reported and the problem lies above its fixed header. */
enum pkt_why {
	PKT_WHY_NONE = 0,
	PKT_WHY_LINK_CUT = 1,		/* T: inside the link layer: Ethernet, cooked
					 * header, loopback family, VLAN tag, MPLS entry */
	PKT_WHY_IP_CUT = 2,		/* T: inside the IPv4/IPv6 fixed header, or no
					 * byte after a link layer that named IP */
	PKT_WHY_IP_VERSION = 3,		/* M: version nibble not the one the link layer
					 * named (raw IP: neither 4 nor 6) */
	PKT_WHY_IP_HDRLEN = 4,		/* M: IPv4 IHL below 5 */
	PKT_WHY_IP_LENGTH = 5,		/* M: IPv4 total length below IHL * 4; IPv6
					 * jumbo length not over 65535 or longer
					 * than the frame on the wire */
	PKT_WHY_VLAN_DEPTH = 6,		/* D: more than PKT_VLAN_MAX_DEPTH tags */
	PKT_WHY_MPLS_DEPTH = 7,		/* D: no bottom of stack in PKT_MPLS_MAX_DEPTH */
	PKT_WHY_IP_FIRST = 8,
	PKT_WHY_OPT_CUT = 8,		/* T: inside the IPv4 options */
	PKT_WHY_EXT_CUT = 9,		/* T: inside an IPv6 extension header */
	PKT_WHY_EXT_DEPTH = 10,		/* D: more than PKT_IPV6_MAX_EXT extension headers */
	PKT_WHY_L4_CUT = 11,		/* T: inside the TCP, UDP, SCTP or ICMP header */
	PKT_WHY_MAX = 12,		/* number of values, PKT_WHY_NONE included */
};

/* IPv4 flags and the IPv6 fragment M bit, laid out as IPFIX fragmentFlags
 * (IE 197): the top three bits of the IPv4 flags/offset word. */
#define PKT_IP_RS	0x80
#define PKT_IP_DF	0x40
#define PKT_IP_MF	0x20

struct pkt_info {
	uint32_t layers;		/* PKT_L_* */
	uint8_t flags;			/* PKT_F_*: the class of why */
	uint8_t why;			/* enum pkt_why */
	uint8_t dst_mac[6], src_mac[6];
	uint8_t nvlans;			/* tags parsed */
	uint16_t vlan_outer, vlan_inner;/* 12-bit VLAN ids of the first two tags */
	uint16_t etype;			/* ethertype of the network layer: after the
					 * tags (the cooked header's protocol); 0x0800/
					 * 0x86dd when IP was found under MPLS, after a
					 * loopback family or the bytes started at IP */
	uint32_t family;		/* loopback address family (PKT_L_LOOP) */
	uint8_t nlabels;		/* MPLS entries parsed */
	uint32_t mpls[PKT_MPLS_KEEP];	/* 20-bit labels, outermost first */
	struct weir_addr src, dst;
	uint8_t proto;			/* IPv4 protocol; IPv6: the last next-header
					 * value reached (upper layer unless stopped
					 * inside the extension chain) */
	uint8_t tos;			/* IPv4 TOS / IPv6 traffic class */
	uint8_t ttl;			/* TTL / hop limit */
	uint8_t ip_flags;		/* PKT_IP_* */
	uint16_t frag_off;		/* fragment offset in 8-octet units; not 0: a
					 * later fragment, reported without its
					 * transport layer (PKT_L_FRAG, proto kept) */
	uint32_t ip_id;			/* IPv4 identification / IPv6 fragment id */
	uint32_t flow_label;		/* IPv6 */
	uint32_t ip_len;		/* IPv4 total length; IPv6 payload length + 40,
					 * or the jumbo payload length + 40; when the
					 * length field is 0, see len_from_frame */
	uint8_t len_from_frame;		/* the IP length field said 0 and no jumbo
					 * option: a capture of segmentation offload
					 * (TSO/GSO, Linux BIG TCP), so ip_len is the
					 * frame's wire length from the IP header on */
	uint8_t n_ext;			/* IPv6 extension headers walked */
	uint16_t src_port, dst_port;	/* TCP, UDP, SCTP */
	uint16_t tcp_flags;		/* the 9 flag bits, NS..FIN */
	uint8_t icmp_type, icmp_code;	/* ICMP, ICMPv6 */
	uint32_t l3_off, l4_off;	/* offsets of the IP and transport headers */
	uint32_t hdr_len;		/* bytes consumed by the headers parsed */
};

/* Parse len bytes at buf starting at layer start (enum pkt_start) into *pi,
 * which is zeroed first. Returns WEIR_OK, also for short or odd bytes (see
 * pi->why), or WEIR_E_INVALID for an unknown start (pi stays zeroed).
 * pi keeps no pointer into buf. */
int pkt_parse(struct pkt_info *pi, const void *buf, size_t len, int start);

/* The same for a frame of wirelen bytes on the wire of which caplen were
 * captured (a pcap record's len and caplen): the wire length is the IP
 * length of a segmentation-offload capture (len_from_frame). pkt_parse()
 * takes len for both. */
int pkt_parse_frame(struct pkt_info *pi, const void *buf, size_t caplen, size_t wirelen,
		    int start);

/* The start for frames of a pcap link type (libpcap's DLT_* value, as
 * wpcap_rd.dlt gives it; LINKTYPE_RAW 101 too), or -1 for a link type weir
 * does not parse. */
int pkt_start_of_dlt(int dlt);

/* A short lower-case token for a pkt_why value ("ip_cut", ...); "none" for
 * 0, "?" out of range. Never NULL. */
const char *pkt_why_name(int why);

#endif
