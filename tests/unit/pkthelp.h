/* pkthelp.h - frame builders and checks shared by the parser's tests
 * (test_pkt*.c): pktbuild.h with the lengths each test wants, and a parse
 * from a heap copy of exactly the frame's bytes, so ASan sees any overread,
 * checked against the parser's general walk (pkt_int.h).
 */
#ifndef WEIR_TESTS_PKTHELP_H
#define WEIR_TESTS_PKTHELP_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pkt_int.h"
#include "pktbuild.h"

static const uint8_t MAC_D[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_S[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
static const uint8_t V4_S[4] = { 192, 0, 2, 1 };
static const uint8_t V4_D[4] = { 198, 51, 100, 7 };
static const uint8_t V6_S[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t V6_D[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd };

/* ---- frame builders: pktbuild.h, the lengths given as each test wants ---- */

static inline void eth(struct pktb *b, uint16_t type)
{
	pktb_eth(b, MAC_D, MAC_S, type);
}

static inline void vlan(struct pktb *b, uint16_t tci, uint16_t type)
{
	pktb_vlan(b, tci, type);
}

static inline void mpls(struct pktb *b, uint32_t label, int bos)
{
	wr_u32(&b->w, label << 12 | (bos ? 0x100 : 0) | 64);
}

/* IPv4 with optlen bytes of options (a multiple of 4), ff = flags/offset word. */
static inline void ipv4(struct pktb *b, uint8_t tos, uint16_t total, uint16_t id, uint16_t ff,
		 uint8_t ttl, uint8_t proto, size_t optlen)
{
	struct pktb_ip4 ip = {
		.tos = tos, .total = total, .id = id, .frag = ff, .ttl = ttl, .proto = proto,
		.optlen = (uint8_t)optlen,
	};

	memcpy(ip.src, V4_S, 4);
	memcpy(ip.dst, V4_D, 4);
	pktb_ipv4(b, &ip);
}

static inline void ipv6(struct pktb *b, uint8_t tc, uint32_t fl, uint16_t plen, uint8_t nh, uint8_t hl)
{
	struct pktb_ip6 ip = { .tc = tc, .flow = fl, .plen = plen, .nh = nh, .hlim = hl };

	memcpy(ip.src, V6_S, 16);
	memcpy(ip.dst, V6_D, 16);
	pktb_ipv6(b, &ip);
}

/* Hop-by-hop, routing or destination options: (len8 + 1) * 8 bytes. */
static inline void ext(struct pktb *b, uint8_t nh, uint8_t len8)
{
	wr_u8(&b->w, nh);
	wr_u8(&b->w, len8);
	wr_zero(&b->w, (size_t)(len8 + 1) * 8 - 2);
}

/* AH: (len + 2) * 4 bytes. */
static inline void ah(struct pktb *b, uint8_t nh, uint8_t len)
{
	wr_u8(&b->w, nh);
	wr_u8(&b->w, len);
	wr_zero(&b->w, (size_t)(len + 2) * 4 - 2);
}

static inline void frag6(struct pktb *b, uint8_t nh, uint16_t off, int more, uint32_t id)
{
	wr_u8(&b->w, nh);
	wr_u8(&b->w, 0);
	wr_u16(&b->w, (uint16_t)(off << 3 | (more ? 1 : 0)));
	wr_u32(&b->w, id);
}

static inline void tcp(struct pktb *b, uint16_t sp, uint16_t dp, uint16_t flags)
{
	struct pktb_tcp t = { .sport = sp, .dport = dp, .seq = 12345, .flags = flags,
			      .window = 65535 };

	pktb_tcp(b, &t);
}

static inline void udp(struct pktb *b, uint16_t sp, uint16_t dp)
{
	pktb_udp(b, sp, dp, 8);
}

static inline void icmp(struct pktb *b, uint8_t type, uint8_t code)
{
	pktb_icmp(b, type, code, 0);
}

/* What every parse must hold, whatever the bytes: why in range and its
 * class in flags; no IP layer when parsing stopped below it, an IP layer
 * when it stopped above; lengths within the frame. */
static inline void assert_sane(const struct pkt_info *pi, size_t len)
{
	static const uint8_t cls[PKT_WHY_MAX] = {
		[PKT_WHY_LINK_CUT] = PKT_F_TRUNCATED, [PKT_WHY_IP_CUT] = PKT_F_TRUNCATED,
		[PKT_WHY_IP_VERSION] = PKT_F_MALFORMED, [PKT_WHY_IP_HDRLEN] = PKT_F_MALFORMED,
		[PKT_WHY_IP_LENGTH] = PKT_F_MALFORMED, [PKT_WHY_VLAN_DEPTH] = PKT_F_DEPTH,
		[PKT_WHY_MPLS_DEPTH] = PKT_F_DEPTH, [PKT_WHY_OPT_CUT] = PKT_F_TRUNCATED,
		[PKT_WHY_EXT_CUT] = PKT_F_TRUNCATED, [PKT_WHY_EXT_DEPTH] = PKT_F_DEPTH,
		[PKT_WHY_L4_CUT] = PKT_F_TRUNCATED,
	};
	uint32_t ip = pi->layers & (PKT_L_IPV4 | PKT_L_IPV6);

	cr_assert_lt(pi->why, PKT_WHY_MAX);
	cr_assert_eq(pi->flags, cls[pi->why], "why %s flags %#x", pkt_why_name(pi->why), pi->flags);
	cr_assert_neq(ip, PKT_L_IPV4 | PKT_L_IPV6);
	if (pi->why && pi->why < PKT_WHY_IP_FIRST)
		cr_assert_eq(ip, 0, "%s with an IP layer", pkt_why_name(pi->why));
	if (pi->why >= PKT_WHY_IP_FIRST)
		cr_assert_neq(ip, 0, "%s without an IP layer", pkt_why_name(pi->why));
	if (ip == PKT_L_IPV4)
		cr_assert_geq(pi->ip_len, 20);
	if (ip == PKT_L_IPV6)
		cr_assert_geq(pi->ip_len, 40);
	cr_assert_leq(pi->hdr_len, len);
	if (pi->layers & (PKT_L_TCP | PKT_L_UDP | PKT_L_SCTP | PKT_L_ICMP | PKT_L_ICMPV6))
		cr_assert_eq(pi->frag_off, 0, "a transport layer in a later fragment");
}

/* pkt_parse_frame's fast path (pkt.c) gives the general walk's result to
 * the bit: pi, from pkt_parse_frame on the bytes at b, against the walk. */
static inline void assert_as_walk(const struct pkt_info *pi, const uint8_t *b, size_t len,
				  size_t wire, int start)
{
	struct pkt_info w;

	pkt_parse_walk(&w, b, len, wire, start);
	cr_assert_eq(memcmp(pi, &w, sizeof(w)), 0,
		     "fast path and walk differ (start %d, %zu bytes, layers %#x/%#x)", start, len,
		     pi->layers, w.layers);
}

/* Parse from a heap copy of exactly len bytes, so ASan sees any overread. */
static inline void parse(struct pkt_info *pi, const uint8_t *b, size_t len, int start)
{
	uint8_t *copy = malloc(len ? len : 1);

	cr_assert(copy);
	memcpy(copy, b, len);
	cr_assert_eq(pkt_parse(pi, copy, len, start), WEIR_OK);
	assert_as_walk(pi, copy, len, len, start);
	free(copy);
	assert_sane(pi, len);
}

static inline void assert_v4(const struct pkt_info *pi)
{
	struct weir_addr s, d;

	weir_addr_v4(&s, V4_S);
	weir_addr_v4(&d, V4_D);
	cr_assert(weir_addr_eq(&pi->src, &s));
	cr_assert(weir_addr_eq(&pi->dst, &d));
}

static inline void assert_v6(const struct pkt_info *pi)
{
	cr_assert_arr_eq(pi->src.a, V6_S, 16);
	cr_assert_arr_eq(pi->dst.a, V6_D, 16);
}

/* The same as parse() for a frame of wire bytes on the wire. */
static inline void parse_wire(struct pkt_info *pi, const uint8_t *b, size_t len, size_t wire,
			      int start)
{
	uint8_t *copy = malloc(len ? len : 1);

	cr_assert(copy);
	memcpy(copy, b, len);
	cr_assert_eq(pkt_parse_frame(pi, copy, len, wire, start), WEIR_OK);
	assert_as_walk(pi, copy, len, wire, start);
	free(copy);
	assert_sane(pi, len);
}

#endif
