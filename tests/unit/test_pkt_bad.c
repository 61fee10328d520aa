/* test_pkt_bad.c - packet-header parser: a table of truncated and
 * malformed frames, each with the reason it must be counted under; and
 * every start over every cut of every one, none crashing (ASan). */
#include <criterion/criterion.h>
#include <string.h>

#include "pkt.h"
#include "pktbuild.h"
#include "unit/pkthelp.h"

typedef void (*build_fn)(struct pktb *b);

static void v4_tcp(struct pktb *b)
{
	ipv4(b, 0, 40, 1, 0, 64, 6, 0);
	tcp(b, 1, 2, 0x002);
}

static void v6_udp(struct pktb *b)
{
	ipv6(b, 0, 0, 8, 17, 64);
	udp(b, 1, 2);
}

static void b_eth_v4(struct pktb *b) { eth(b, 0x0800); v4_tcp(b); }
static void b_eth_v6(struct pktb *b) { eth(b, 0x86dd); v6_udp(b); }
static void b_vlan_v4(struct pktb *b) { eth(b, 0x8100); vlan(b, 5, 0x0800); v4_tcp(b); }

static void b_vlan_deep(struct pktb *b)
{
	eth(b, 0x88a8);
	for (int i = 0; i < PKT_VLAN_MAX_DEPTH; i++)
		vlan(b, (uint16_t)i, 0x8100);
	vlan(b, 9, 0x0800);
	v4_tcp(b);
}

static void b_mpls_v4(struct pktb *b) { eth(b, 0x8847); mpls(b, 16, 1); v4_tcp(b); }

static void b_mpls_deep(struct pktb *b)
{
	eth(b, 0x8847);
	for (int i = 0; i < PKT_MPLS_MAX_DEPTH; i++)
		mpls(b, (uint32_t)i, 0);
	mpls(b, 99, 1);
	v4_tcp(b);
}

static void b_v4_as_v6(struct pktb *b) { eth(b, 0x86dd); v4_tcp(b); wr_zero(&b->w, 20); }
static void b_v6_as_v4(struct pktb *b) { eth(b, 0x0800); v6_udp(b); }
static void b_raw_v7(struct pktb *b) { v4_tcp(b); b->w.buf[0] = 0x75; }
static void b_ihl4(struct pktb *b) { v4_tcp(b); b->w.buf[0] = 0x44; }
static void b_ihl0(struct pktb *b) { v4_tcp(b); b->w.buf[0] = 0x40; }

/* Total length below the header: 19 with IHL 5, 23 with IHL 6. */
static void b_tot19(struct pktb *b) { ipv4(b, 0, 19, 0, 0, 64, 6, 0); tcp(b, 1, 2, 2); }
static void b_tot23(struct pktb *b) { ipv4(b, 0, 23, 0, 0, 64, 6, 4); tcp(b, 1, 2, 2); }

/* Options longer than the capture: IHL 15, 24 bytes follow the header. */
static void b_opt_cut(struct pktb *b)
{
	ipv4(b, 0, 200, 0, 0, 64, 6, 0);
	b->w.buf[b->l3_off] = 0x4f;
	wr_zero(&b->w, 24);
}

/* A hop-by-hop header whose length runs past the capture. */
static void b_ext_cut(struct pktb *b)
{
	ipv6(b, 0, 0, 200, 0, 64);
	wr_u8(&b->w, 6);
	wr_u8(&b->w, 20);			/* 168 bytes */
	wr_zero(&b->w, 30);
}

/* An extension header past the payload length (8): the datagram ends. */
static void b_ext_past_plen(struct pktb *b)
{
	ipv6(b, 0, 0, 8, 60, 64);
	ext(b, 60, 0);
	ext(b, 17, 0);
	udp(b, 1, 2);
}

static void b_frag_cut(struct pktb *b)
{
	ipv6(b, 0, 0, 100, 44, 64);
	wr_u8(&b->w, 17);
	wr_zero(&b->w, 3);			/* 4 of the 8 bytes */
}

static void b_ext_deep(struct pktb *b)
{
	ipv6(b, 0, 0, 200, 60, 64);
	for (int i = 0; i <= PKT_IPV6_MAX_EXT; i++)
		ext(b, i == PKT_IPV6_MAX_EXT ? 17 : 60, 0);
	udp(b, 1, 2);
}

/* Transport headers one byte short (the length fields agree with it). */
static void b_tcp19(struct pktb *b) { ipv4(b, 0, 39, 0, 0, 64, 6, 0); wr_zero(&b->w, 19); }
static void b_udp7(struct pktb *b) { ipv6(b, 0, 0, 7, 17, 64); wr_zero(&b->w, 7); }
static void b_sctp11(struct pktb *b) { ipv4(b, 0, 31, 0, 0, 64, 132, 0); wr_zero(&b->w, 11); }
static void b_icmp3(struct pktb *b) { ipv4(b, 0, 23, 0, 0, 64, 1, 0); wr_zero(&b->w, 3); }
static void b_icmp6_3(struct pktb *b) { ipv6(b, 0, 0, 3, 58, 64); wr_zero(&b->w, 3); }

static void b_jumbo_small(struct pktb *b)
{
	ipv6(b, 0, 0, 0, 0, 64);
	b->w.buf[b->l3_off + 4] = b->w.buf[b->l3_off + 5] = 0;
	wr_u8(&b->w, 59);
	wr_u8(&b->w, 0);
	wr_u8(&b->w, 0xc2);
	wr_u8(&b->w, 4);
	wr_u32(&b->w, 1000);
}

static void b_null_v6_nibble4(struct pktb *b) { wr_u32(&b->w, 0x18000000); v4_tcp(b); }
static void b_sll_v4(struct pktb *b) { wr_zero(&b->w, 14); wr_u16(&b->w, 0x0800); v4_tcp(b); }
static void b_sll2_v6(struct pktb *b) { wr_u16(&b->w, 0x86dd); wr_zero(&b->w, 18); v6_udp(b); }

struct bad {
	const char *name;
	int start;
	build_fn build;
	size_t len;		/* bytes kept; 0: all */
	int why;
	uint32_t layers;	/* exactly these */
};

#define L4 PKT_L_IPV4
#define L6 PKT_L_IPV6

static const struct bad BAD[] = {
	{ "empty ethernet", PKT_START_ETH, b_eth_v4, 0xffff, PKT_WHY_LINK_CUT, 0 },
	{ "13-byte ethernet", PKT_START_ETH, b_eth_v4, 13, PKT_WHY_LINK_CUT, 0 },
	{ "cut VLAN tag", PKT_START_ETH, b_vlan_v4, 17, PKT_WHY_LINK_CUT, PKT_L_ETH },
	{ "too many VLAN tags", PKT_START_ETH, b_vlan_deep, 0, PKT_WHY_VLAN_DEPTH,
	  PKT_L_ETH | PKT_L_VLAN | PKT_L_QINQ },
	{ "cut MPLS entry", PKT_START_ETH, b_mpls_v4, 16, PKT_WHY_LINK_CUT, PKT_L_ETH },
	{ "nothing after MPLS", PKT_START_ETH, b_mpls_v4, 18, PKT_WHY_IP_CUT, PKT_L_ETH | PKT_L_MPLS },
	{ "too many MPLS labels", PKT_START_ETH, b_mpls_deep, 0, PKT_WHY_MPLS_DEPTH,
	  PKT_L_ETH | PKT_L_MPLS },
	{ "cut IPv4 header", PKT_START_ETH, b_eth_v4, 14 + 19, PKT_WHY_IP_CUT, PKT_L_ETH },
	{ "cut IPv6 header", PKT_START_ETH, b_eth_v6, 14 + 39, PKT_WHY_IP_CUT, PKT_L_ETH },
	{ "0x86dd carrying IPv4", PKT_START_ETH, b_v4_as_v6, 0, PKT_WHY_IP_VERSION, PKT_L_ETH },
	{ "0x0800 carrying IPv6", PKT_START_ETH, b_v6_as_v4, 0, PKT_WHY_IP_VERSION, PKT_L_ETH },
	{ "raw version 7", PKT_START_RAW, b_raw_v7, 0, PKT_WHY_IP_VERSION, 0 },
	{ "empty raw", PKT_START_RAW, b_raw_v7, 0xffff, PKT_WHY_IP_CUT, 0 },
	{ "DLT_IPV6 carrying IPv4", PKT_START_IPV6, v4_tcp, 0, PKT_WHY_IP_VERSION, 0 },
	{ "DLT_IPV4 carrying IPv6", PKT_START_IPV4, v6_udp, 0, PKT_WHY_IP_VERSION, 0 },
	{ "null family 24, IPv4 inside", PKT_START_NULL, b_null_v6_nibble4, 0, PKT_WHY_IP_VERSION,
	  PKT_L_LOOP },
	{ "3-byte loopback family", PKT_START_NULL, b_null_v6_nibble4, 3, PKT_WHY_LINK_CUT, 0 },
	{ "15-byte cooked header", PKT_START_SLL, b_sll_v4, 15, PKT_WHY_LINK_CUT, 0 },
	{ "19-byte cooked v2 header", PKT_START_SLL2, b_sll2_v6, 19, PKT_WHY_LINK_CUT, 0 },
	{ "cooked, cut IPv4", PKT_START_SLL, b_sll_v4, 16 + 10, PKT_WHY_IP_CUT, PKT_L_SLL },
	{ "IHL 4", PKT_START_IPV4, b_ihl4, 0, PKT_WHY_IP_HDRLEN, 0 },
	{ "IHL 0", PKT_START_RAW, b_ihl0, 0, PKT_WHY_IP_HDRLEN, 0 },
	{ "total length 19", PKT_START_IPV4, b_tot19, 0, PKT_WHY_IP_LENGTH, 0 },
	{ "total length 23, IHL 6", PKT_START_IPV4, b_tot23, 0, PKT_WHY_IP_LENGTH, 0 },
	{ "jumbo length 1000", PKT_START_IPV6, b_jumbo_small, 0, PKT_WHY_IP_LENGTH, 0 },
	{ "cut IPv4 options", PKT_START_IPV4, b_opt_cut, 0, PKT_WHY_OPT_CUT, L4 },
	{ "cut hop-by-hop", PKT_START_IPV6, b_ext_cut, 0, PKT_WHY_EXT_CUT, L6 },
	{ "hop-by-hop length byte missing", PKT_START_IPV6, b_ext_cut, 41, PKT_WHY_EXT_CUT, L6 },
	{ "extension past the payload length", PKT_START_IPV6, b_ext_past_plen, 0, PKT_WHY_EXT_CUT,
	  L6 | PKT_L_IPV6_EXT },
	{ "cut fragment header", PKT_START_IPV6, b_frag_cut, 0, PKT_WHY_EXT_CUT, L6 },
	{ "too many extension headers", PKT_START_IPV6, b_ext_deep, 0, PKT_WHY_EXT_DEPTH,
	  L6 | PKT_L_IPV6_EXT },
	{ "19-byte TCP", PKT_START_IPV4, b_tcp19, 0, PKT_WHY_L4_CUT, L4 },
	{ "7-byte UDP", PKT_START_IPV6, b_udp7, 0, PKT_WHY_L4_CUT, L6 },
	{ "11-byte SCTP", PKT_START_IPV4, b_sctp11, 0, PKT_WHY_L4_CUT, L4 },
	{ "3-byte ICMP", PKT_START_IPV4, b_icmp3, 0, PKT_WHY_L4_CUT, L4 },
	{ "3-byte ICMPv6", PKT_START_IPV6, b_icmp6_3, 0, PKT_WHY_L4_CUT, L6 },
	{ "TCP cut by the capture", PKT_START_ETH, b_eth_v4, 14 + 20 + 10, PKT_WHY_L4_CUT,
	  PKT_L_ETH | L4 },
};

static size_t build(const struct bad *c, uint8_t *f, size_t cap)
{
	struct pktb b;

	pktb_init(&b, f, cap);
	c->build(&b);
	cr_assert_eq(b.w.err, 0, "%s", c->name);
	if (c->len == 0xffff)
		return 0;
	return c->len ? c->len : b.w.off;
}

Test(pkt_bad, each_has_its_reason)
{
	uint8_t f[512];
	struct pkt_info pi;
	size_t whys[PKT_WHY_MAX] = { 0 };

	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		const struct bad *c = &BAD[i];
		size_t n = build(c, f, sizeof(f));

		parse(&pi, f, n, c->start);
		cr_assert_eq(pi.why, c->why, "%s: why %s, want %s", c->name, pkt_why_name(pi.why),
			     pkt_why_name(c->why));
		cr_assert_eq(pi.layers, c->layers, "%s: layers %#x, want %#x", c->name, pi.layers,
			     c->layers);
		whys[pi.why]++;
	}
	for (int w = 1; w < PKT_WHY_MAX; w++) {
		cr_assert_gt(whys[w], 0, "no frame in the table for %s", pkt_why_name(w));
		cr_assert_str_neq(pkt_why_name(w), "?");
	}
	cr_assert_str_eq(pkt_why_name(PKT_WHY_NONE), "none");
	cr_assert_str_eq(pkt_why_name(PKT_WHY_MAX), "?");
	cr_assert_str_eq(pkt_why_name(-1), "?");
}

/* Every frame of the table, of every test's kind, cut at every length and
 * read from every start: no overread (ASan: each parse reads a heap copy of
 * exactly the bytes) and the invariants of assert_sane(). */
Test(pkt_bad, every_cut_from_every_start)
{
	static const int starts[] = {
		PKT_START_ETH, PKT_START_IPV4, PKT_START_IPV6, PKT_START_RAW, PKT_START_SLL,
		PKT_START_SLL2, PKT_START_NULL, PKT_START_LOOP,
	};
	uint8_t f[512];
	struct pkt_info pi;
	unsigned parses = 0;

	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
		struct pktb b;

		pktb_init(&b, f, sizeof(f));
		BAD[i].build(&b);
		for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
			for (size_t cut = 0; cut <= b.w.off; cut++) {
				parse(&pi, f, cut, starts[s]);
				parse_wire(&pi, f, cut, cut + 1000, starts[s]);
				parses += 2;
			}
		}
	}
	cr_assert_gt(parses, 10000);
}
