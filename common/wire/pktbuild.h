/* pktbuild.h - the one packet builder of weir: Ethernet, 802.1Q, IPv4,
 * IPv6, UDP, TCP, ICMP and ICMPv6 headers with their lengths and
 * checksums right.
 *
 * Layers are written in order, outermost first, through the bounded writer
 * of wr.h (a frame that does not fit sets its sticky error); pktb_finish()
 * then fills what depends on the bytes after a header: the IPv4 total
 * length and header checksum (RFC 791 section 3.1, RFC 1071), the IPv6
 * payload length (RFC 8200 section 3), the UDP length, and the UDP, TCP
 * and ICMPv6 checksums over their pseudo-header (RFC 768, RFC 9293
 * section 3.1, RFC 8200 section 8.1, RFC 4443 section 2.3) and the ICMP
 * checksum (RFC 792). A length given as non-zero is kept as given, so that
 * a test can build a frame that lies about itself. The generator's pcap
 * frames, the tests' frames and the exporter to come are built with it.
 *
 * One network layer and one transport layer per frame (the last of each
 * written); IPv6 extension headers go between them as raw bytes
 * (pktb_bytes) after pktb_ipv6() was told the first one's number.
 */
#ifndef WEIR_PKTBUILD_H
#define WEIR_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "wr.h"

#define PKTB_ETH_IPV4	0x0800
#define PKTB_ETH_IPV6	0x86dd
#define PKTB_ETH_VLAN	0x8100

enum {
	PKTB_ICMP = 1,
	PKTB_TCP = 6,
	PKTB_UDP = 17,
	PKTB_ICMPV6 = 58,
};

struct pktb {
	struct wr w;
	size_t l3_off, l4_off;	/* where the IP and transport headers start */
	uint8_t l3;		/* 0, 4 or 6 */
	uint8_t l4;		/* 0 or PKTB_UDP/TCP/ICMP/ICMPV6 */
	uint8_t keep_l3_len;	/* the length was given: leave it */
	uint8_t keep_udp_len;
};

struct pktb_ip4 {
	uint8_t src[4], dst[4];
	uint8_t tos, ttl, proto;
	uint16_t id;
	uint16_t frag;		/* flags (DF 0x4000, MF 0x2000) and offset in 8-byte units */
	uint16_t total;		/* 0: the frame's, set by pktb_finish */
	uint8_t optlen;		/* bytes of NOP options, a multiple of 4, at most 40 */
};

struct pktb_ip6 {
	uint8_t src[16], dst[16];
	uint8_t tc, hlim, nh;	/* nh: the first next header */
	uint32_t flow;		/* 20 bits */
	uint16_t plen;		/* 0: the frame's, set by pktb_finish */
};

struct pktb_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint16_t flags;		/* the 9 flag bits, NS..FIN */
	uint16_t window;
};

/* Start a frame in buf (cap bytes). */
void pktb_init(struct pktb *b, void *buf, size_t cap);
/* Ethernet II (dst, src, type), and one 802.1Q tag (TCI, next type). */
void pktb_eth(struct pktb *b, const uint8_t *dst, const uint8_t *src, uint16_t type);
void pktb_vlan(struct pktb *b, uint16_t tci, uint16_t type);
void pktb_ipv4(struct pktb *b, const struct pktb_ip4 *ip);
void pktb_ipv6(struct pktb *b, const struct pktb_ip6 *ip);
/* len 0: the datagram's, set by pktb_finish. */
void pktb_udp(struct pktb *b, uint16_t sport, uint16_t dport, uint16_t len);
void pktb_tcp(struct pktb *b, const struct pktb_tcp *t);
/* ICMP over IPv4, ICMPv6 over IPv6: type, code, the 4 bytes after the
 * checksum (identifier and sequence of an echo, ...). */
void pktb_icmp(struct pktb *b, uint8_t type, uint8_t code, uint32_t rest);
/* Raw bytes: payload, IPv6 extension headers, anything. */
void pktb_bytes(struct pktb *b, const void *p, size_t n);
/* Fill the lengths and checksums. The frame's length, or 0 when it did not
 * fit its buffer or a length does not fit its field. */
size_t pktb_finish(struct pktb *b);
/* The same for the headers of a packet cut short (an sFlow sampled
 * header): lengths as given (those left 0 from the bytes here), the IPv4
 * header checksum, and no transport checksum, whose bytes are not all
 * here: its field stays 0. */
size_t pktb_finish_cut(struct pktb *b);

/* RFC 1071: the ones' complement sum of p's big-endian 16-bit words added
 * to sum (an odd last byte padded with zero), unfolded; and the checksum
 * of a sum (folded, complemented). */
uint64_t pktb_sum(uint64_t sum, const void *p, size_t n);
uint16_t pktb_fold(uint64_t sum);

#endif
