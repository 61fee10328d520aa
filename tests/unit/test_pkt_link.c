/* test_pkt_link.c - packet-header parser: every pcap link type, the
 * transports (SCTP, ICMP type/code), each IPv6 extension header, fragments,
 * and the lengths the flow meter counts (padding, offload, jumbograms). */
#include <criterion/criterion.h>
#include <string.h>

#include "pkt.h"
#include "pktbuild.h"
#include "unit/pkthelp.h"
#include "wpcap.h"

/* ---- link headers, by hand (pktbuild.h writes Ethernet only) ------------- */

/* Linux cooked v1: packet type, ARPHRD type, address length, 8 address
 * bytes, protocol. */
static void sll(struct pktb *b, uint16_t hatype, uint16_t proto)
{
	wr_u16(&b->w, 0);
	wr_u16(&b->w, hatype);
	wr_u16(&b->w, 6);
	wr_bytes(&b->w, MAC_S, 6);
	wr_zero(&b->w, 2);
	wr_u16(&b->w, proto);
}

/* Linux cooked v2: protocol, reserved, interface index, ARPHRD type,
 * packet type, address length, 8 address bytes. */
static void sll2(struct pktb *b, uint16_t hatype, uint16_t proto)
{
	wr_u16(&b->w, proto);
	wr_u16(&b->w, 0);
	wr_u32(&b->w, 3);
	wr_u16(&b->w, hatype);
	wr_u8(&b->w, 4);
	wr_u8(&b->w, 6);
	wr_bytes(&b->w, MAC_S, 6);
	wr_zero(&b->w, 2);
}

static void family(struct pktb *b, uint32_t fam, int little)
{
	if (little)
		fam = __builtin_bswap32(fam);
	wr_u32(&b->w, fam);
}

/* ---- one IP packet behind every link type --------------------------------- */

struct link_case {
	const char *name;
	int dlt;
	uint32_t layers;	/* link layers reported */
	uint32_t l3_off;
	int v4, v6;		/* the IP versions this link type carries */
};

static const struct link_case LINKS[] = {
	{ "ethernet", WPCAP_DLT_EN10MB, PKT_L_ETH, 14, 1, 1 },
	{ "ethernet+802.1Q", WPCAP_DLT_EN10MB, PKT_L_ETH | PKT_L_VLAN, 18, 1, 1 },
	{ "ethernet+QinQ", WPCAP_DLT_EN10MB, PKT_L_ETH | PKT_L_VLAN | PKT_L_QINQ, 22, 1, 1 },
	{ "sll", WPCAP_DLT_LINUX_SLL, PKT_L_SLL, 16, 1, 1 },
	{ "sll+802.1Q", WPCAP_DLT_LINUX_SLL, PKT_L_SLL | PKT_L_VLAN, 20, 1, 1 },
	{ "sll2", WPCAP_DLT_LINUX_SLL2, PKT_L_SLL, 20, 1, 1 },
	{ "null (little-endian host)", WPCAP_DLT_NULL, PKT_L_LOOP, 4, 1, 1 },
	{ "null (big-endian host)", WPCAP_DLT_NULL, PKT_L_LOOP, 4, 1, 1 },
	{ "loop", WPCAP_DLT_LOOP, PKT_L_LOOP, 4, 1, 1 },
	{ "raw", WPCAP_DLT_RAW, 0, 0, 1, 1 },
	{ "raw (linktype 101)", WPCAP_LINKTYPE_RAW, 0, 0, 1, 1 },
	{ "ipv4", WPCAP_DLT_IPV4, 0, 0, 1, 0 },
	{ "ipv6", WPCAP_DLT_IPV6, 0, 0, 0, 1 },
};

static void link_hdr(struct pktb *b, size_t i, int v6)
{
	uint16_t et = v6 ? 0x86dd : 0x0800;

	switch (i) {
	case 0: eth(b, et); break;
	case 1: eth(b, 0x8100); vlan(b, 0x2000 | 7, et); break;
	case 2: eth(b, 0x88a8); vlan(b, 7, 0x8100); vlan(b, 8, et); break;
	case 3: sll(b, 1, et); break;
	case 4: sll(b, 1, 0x8100); vlan(b, 7, et); break;
	case 5: sll2(b, 1, et); break;
	case 6: family(b, v6 ? 24 : 2, 1); break;
	case 7: family(b, v6 ? 28 : 2, 0); break;
	case 8: family(b, v6 ? 30 : 2, 0); break;
	}
}

/* The link header of case i, then IPv4/UDP or IPv6/TCP, finished. */
static size_t link_frame(uint8_t *f, size_t cap, size_t i, int v6)
{
	struct pktb b;
	size_t n;

	pktb_init(&b, f, cap);
	link_hdr(&b, i, v6);
	if (v6) {
		ipv6(&b, 0x28, 0x54321, 0, 6, 61);
		tcp(&b, 443, 51000, 0x018);
	} else {
		ipv4(&b, 0x10, 0, 0x4242, 0x4000, 62, 17, 0);
		pktb_udp(&b, 5353, 53, 0);
	}
	pktb_bytes(&b, "payload", 7);
	n = pktb_finish(&b);
	cr_assert_gt(n, 0);
	return n;
}

Test(pkt_link, every_link_type_every_ip_version)
{
	uint8_t f[256];
	struct pkt_info pi;

	for (size_t i = 0; i < sizeof(LINKS) / sizeof(LINKS[0]); i++) {
		const struct link_case *c = &LINKS[i];
		int start = pkt_start_of_dlt(c->dlt);

		cr_assert_geq(start, 0, "%s", c->name);
		for (int v6 = 0; v6 < 2; v6++) {
			size_t n;

			if (!(v6 ? c->v6 : c->v4))
				continue;
			n = link_frame(f, sizeof(f), i, v6);
			parse(&pi, f, n, start);
			cr_assert_eq(pi.why, PKT_WHY_NONE, "%s v6 %d: %s", c->name, v6,
				     pkt_why_name(pi.why));
			cr_assert_eq(pi.l3_off, c->l3_off, "%s v6 %d", c->name, v6);
			cr_assert_eq(pi.etype, v6 ? 0x86dd : 0x0800, "%s", c->name);
			if (v6) {
				cr_assert_eq(pi.layers, c->layers | PKT_L_IPV6 | PKT_L_TCP, "%s: %#x",
					     c->name, pi.layers);
				assert_v6(&pi);
				cr_assert_eq(pi.ip_len, 40 + 20 + 7);
				cr_assert_eq(pi.tos, 0x28);
				cr_assert_eq(pi.flow_label, 0x54321);
				cr_assert_eq(pi.ttl, 61);
				cr_assert_eq(pi.proto, 6);
				cr_assert_eq(pi.src_port, 443);
				cr_assert_eq(pi.dst_port, 51000);
				cr_assert_eq(pi.tcp_flags, 0x018);
			} else {
				cr_assert_eq(pi.layers, c->layers | PKT_L_IPV4 | PKT_L_UDP, "%s: %#x",
					     c->name, pi.layers);
				assert_v4(&pi);
				cr_assert_eq(pi.ip_len, 20 + 8 + 7);
				cr_assert_eq(pi.ip_id, 0x4242);
				cr_assert_eq(pi.ip_flags, PKT_IP_DF);
				cr_assert_eq(pi.ttl, 62);
				cr_assert_eq(pi.src_port, 5353);
				cr_assert_eq(pi.dst_port, 53);
			}
			cr_assert_eq(pi.l4_off, c->l3_off + (v6 ? 40 : 20));
			if (c->layers & PKT_L_VLAN)
				cr_assert_eq(pi.vlan_outer, 7);
			if (c->layers & PKT_L_QINQ)
				cr_assert_eq(pi.vlan_inner, 8);
			if (c->layers & PKT_L_LOOP)
				cr_assert_eq(pi.family, v6 ? (i == 6 ? 24u : i == 7 ? 28u : 30u) : 2u);
		}
	}
}

Test(pkt_link, start_of_dlt)
{
	static const struct { int dlt, start; } map[] = {
		{ 1, PKT_START_ETH }, { 12, PKT_START_RAW }, { 101, PKT_START_RAW },
		{ 228, PKT_START_IPV4 }, { 229, PKT_START_IPV6 }, { 113, PKT_START_SLL },
		{ 276, PKT_START_SLL2 }, { 0, PKT_START_NULL }, { 108, PKT_START_LOOP },
		/* PPP, 802.11, radiotap, Frame Relay, ARCNET, -1: not parsed */
		{ 9, -1 }, { 105, -1 }, { 127, -1 }, { 107, -1 }, { 129, -1 }, { -1, -1 },
	};
	struct pkt_info pi;
	uint8_t b[64] = { 0 };

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cr_assert_eq(pkt_start_of_dlt(map[i].dlt), map[i].start, "dlt %d", map[i].dlt);
		if (map[i].start >= 0)
			cr_assert_eq(pkt_parse(&pi, b, sizeof(b), map[i].start), WEIR_OK);
	}
}

Test(pkt_link, not_ip_behind_each_link)
{
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	/* ARP behind a cooked header; 802.2 (protocol 4); netlink and radiotap
	 * ARPHRD types whose protocol is no ethertype. */
	static const struct { uint16_t hatype, proto; } sl[] = {
		{ 1, 0x0806 }, { 1, 0x0004 }, { 824, 0x0800 }, { 803, 0x86dd }, { 770, 0x0800 },
	};
	for (size_t i = 0; i < sizeof(sl) / sizeof(sl[0]); i++) {
		for (int v2 = 0; v2 < 2; v2++) {
			pktb_init(&b, f, sizeof(f));
			(v2 ? sll2 : sll)(&b, sl[i].hatype, sl[i].proto);
			ipv4(&b, 0, 40, 0, 0, 64, 6, 0);
			tcp(&b, 1, 2, 2);
			parse(&pi, f, b.w.off, v2 ? PKT_START_SLL2 : PKT_START_SLL);
			cr_assert_eq(pi.layers, PKT_L_SLL, "hatype %u proto %#x", sl[i].hatype,
				     sl[i].proto);
			cr_assert_eq(pi.why, PKT_WHY_NONE);
			cr_assert_eq(pi.etype, sl[i].proto >= 0x600 && sl[i].hatype == 1 ? sl[i].proto : 0);
		}
	}

	/* Loopback families that are not IP (Linux's AF_INET6 10, AppleTalk
	 * 16, OSI 7), in either byte order. */
	static const uint32_t fams[] = { 10, 16, 7, 0 };
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		for (int le = 0; le < 2; le++) {
			pktb_init(&b, f, sizeof(f));
			family(&b, fams[i], le);
			ipv6(&b, 0, 0, 8, 17, 64);
			udp(&b, 1, 2);
			parse(&pi, f, b.w.off, PKT_START_NULL);
			cr_assert_eq(pi.layers, PKT_L_LOOP);
			cr_assert_eq(pi.family, fams[i]);
			cr_assert_eq(pi.why, PKT_WHY_NONE);
		}
	}
	/* LOOP is network order only: 2 written little-endian is no family. */
	pktb_init(&b, f, sizeof(f));
	family(&b, 2, 1);
	ipv4(&b, 0, 28, 0, 0, 64, 17, 0);
	udp(&b, 1, 2);
	parse(&pi, f, b.w.off, PKT_START_LOOP);
	cr_assert_eq(pi.layers, PKT_L_LOOP);
	cr_assert_eq(pi.family, 0x02000000);
}

/* ---- transports ----------------------------------------------------------- */

static void sctp(struct pktb *b, uint16_t sp, uint16_t dp)
{
	wr_u16(&b->w, sp);
	wr_u16(&b->w, dp);
	wr_u32(&b->w, 0xfeedf00d);	/* verification tag */
	wr_u32(&b->w, 0);		/* CRC32c, not checked */
}

Test(pkt_link, sctp_over_ipv4_and_ipv6)
{
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 20 + 12 + 16, 1, 0, 64, 132, 4);
	sctp(&b, 2905, 2906);
	wr_zero(&b.w, 16);			/* a chunk */
	parse(&pi, f, b.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_SCTP);
	cr_assert_eq(pi.proto, 132);
	cr_assert_eq(pi.src_port, 2905);
	cr_assert_eq(pi.dst_port, 2906);
	cr_assert_eq(pi.l4_off, 14 + 24);

	pktb_init(&b, f, sizeof(f));
	ipv6(&b, 0, 0, 8 + 12, 60, 64);
	ext(&b, 132, 0);			/* destination options, then SCTP */
	sctp(&b, 36412, 36413);
	parse(&pi, f, b.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_SCTP);
	cr_assert_eq(pi.src_port, 36412);
	cr_assert_eq(pi.dst_port, 36413);

	/* 11 bytes of common header: no ports. */
	parse(&pi, f, b.w.off - 1, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT);
	cr_assert_eq(pi.why, PKT_WHY_L4_CUT);
	cr_assert_eq(pi.src_port, 0);
	cr_assert_eq(pi.proto, 132);
}

Test(pkt_link, other_protocols_have_no_ports)
{
	static const uint8_t protos[] = { 47, 50, 89, 103, 4, 41, 115, 253, 255 };
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	for (size_t i = 0; i < sizeof(protos); i++) {
		pktb_init(&b, f, sizeof(f));
		eth(&b, 0x0800);
		ipv4(&b, 0, 20 + 32, 9, 0, 64, protos[i], 0);
		udp(&b, 1111, 2222);		/* bytes that look like ports */
		wr_zero(&b.w, 24);
		parse(&pi, f, b.w.off, PKT_START_ETH);
		cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4, "proto %u", protos[i]);
		cr_assert_eq(pi.proto, protos[i]);
		cr_assert_eq(pi.src_port, 0);
		cr_assert_eq(pi.dst_port, 0);
		cr_assert_eq(pi.why, PKT_WHY_NONE);
		cr_assert_eq(pi.ip_len, 52);
	}
}

Test(pkt_link, icmp_type_code)
{
	static const struct { int v6; uint8_t type, code; } t[] = {
		{ 0, 8, 0 }, { 0, 0, 0 }, { 0, 3, 3 }, { 0, 11, 1 }, { 0, 5, 2 },
		{ 1, 128, 0 }, { 1, 129, 0 }, { 1, 1, 4 }, { 1, 2, 0 }, { 1, 135, 0 }, { 1, 143, 0 },
	};
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pktb_init(&b, f, sizeof(f));
		eth(&b, t[i].v6 ? 0x86dd : 0x0800);
		if (t[i].v6)
			ipv6(&b, 0, 0, 0, 58, 255);
		else
			ipv4(&b, 0, 0, 0, 0, 64, 1, 0);
		pktb_icmp(&b, t[i].type, t[i].code, 0x00010002);
		cr_assert_gt(pktb_finish(&b), 0);
		parse(&pi, f, b.w.off, PKT_START_ETH);
		cr_assert_eq(pi.layers, PKT_L_ETH | (t[i].v6 ? PKT_L_IPV6 | PKT_L_ICMPV6
							   : PKT_L_IPV4 | PKT_L_ICMP));
		cr_assert_eq(pi.icmp_type, t[i].type);
		cr_assert_eq(pi.icmp_code, t[i].code);
		cr_assert_eq(pi.proto, t[i].v6 ? 58 : 1);
		cr_assert_eq(pi.src_port, 0);
	}
}

/* ---- IPv6 extension headers, one at a time; fragments --------------------- */

Test(pkt_link, ipv6_each_extension_header)
{
	static const struct { uint8_t nh; size_t len; const char *name; } hdr[] = {
		{ 0, 16, "hop-by-hop" }, { 43, 24, "routing" }, { 60, 8, "destination options" },
		{ 51, 16, "AH" }, { 44, 8, "fragment (atomic)" },
	};
	uint8_t f[160];
	struct pkt_info pi;
	struct pktb b;

	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		for (int t = 0; t < 2; t++) {
			pktb_init(&b, f, sizeof(f));
			eth(&b, 0x86dd);
			ipv6(&b, 0, 0, 0, hdr[i].nh, 64);
			if (hdr[i].nh == 51)
				ah(&b, t ? 6 : 17, 2);
			else if (hdr[i].nh == 44)
				frag6(&b, t ? 6 : 17, 0, 0, 0xabc);
			else
				ext(&b, t ? 6 : 17, (uint8_t)(hdr[i].len / 8 - 1));
			if (t)
				tcp(&b, 22, 40000, 0x002);
			else
				pktb_udp(&b, 500, 4500, 0);
			cr_assert_gt(pktb_finish(&b), 0);
			parse(&pi, f, b.w.off, PKT_START_ETH);
			cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_IPV6_EXT |
				     (t ? PKT_L_TCP : PKT_L_UDP), "%s: %#x", hdr[i].name, pi.layers);
			cr_assert_eq(pi.n_ext, 1);
			cr_assert_eq(pi.proto, t ? 6 : 17);
			cr_assert_eq(pi.l4_off, 14 + 40 + hdr[i].len, "%s", hdr[i].name);
			cr_assert_eq(pi.src_port, t ? 22 : 500);
			cr_assert_eq(pi.ip_len, 40 + hdr[i].len + (t ? 20 : 8));
			if (hdr[i].nh == 44)
				cr_assert_eq(pi.ip_id, 0xabc, "an atomic fragment keeps its id");
		}
	}
}

Test(pkt_link, ipv6_esp_ends_the_walk)
{
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	pktb_init(&b, f, sizeof(f));
	ipv6(&b, 0, 0, 8 + 32, 0, 64);
	ext(&b, 50, 0);
	wr_u32(&b.w, 0x1000);			/* SPI */
	wr_u32(&b.w, 1);			/* sequence */
	udp(&b, 7, 7);				/* ciphertext that looks like UDP */
	wr_zero(&b.w, 16);
	parse(&pi, f, b.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT);
	cr_assert_eq(pi.proto, 50);
	cr_assert_eq(pi.src_port, 0);
	cr_assert_eq(pi.why, PKT_WHY_NONE);
}

Test(pkt_link, fragments_first_and_later)
{
	uint8_t f[160];
	struct pkt_info pi;
	struct pktb b;

	/* IPv4 with options: the first fragment has its ports after them. */
	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 1500, 0x7777, 0x2000, 64, 6, 8);
	tcp(&b, 80, 1024, 0x010);
	parse(&pi, f, b.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_FRAG | PKT_L_TCP);
	cr_assert_eq(pi.ip_id, 0x7777);
	cr_assert_eq(pi.dst_port, 1024);
	cr_assert_eq(pi.l4_off, 14 + 28);

	/* A later one (offset 1480 bytes, MF) with options: no transport. */
	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 1500, 0x7777, 0x2000 | 185, 64, 6, 8);
	tcp(&b, 80, 1024, 0x010);
	parse(&pi, f, b.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_FRAG);
	cr_assert_eq(pi.ip_id, 0x7777);
	cr_assert_eq(pi.frag_off, 185);
	cr_assert_eq(pi.ip_flags, PKT_IP_MF);
	cr_assert_eq(pi.proto, 6);
	cr_assert_eq(pi.src_port, 0);
	cr_assert_eq(pi.tcp_flags, 0);
	cr_assert_eq(pi.ip_len, 1500);

	/* IPv6: hop-by-hop, then the fragment header of a later fragment. */
	pktb_init(&b, f, sizeof(f));
	ipv6(&b, 0, 0, 1240, 0, 64);
	ext(&b, 44, 0);
	frag6(&b, 58, 154, 1, 0x01020304);
	icmp(&b, 128, 0);
	parse(&pi, f, b.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_FRAG);
	cr_assert_eq(pi.ip_id, 0x01020304);
	cr_assert_eq(pi.frag_off, 154);
	cr_assert_eq(pi.ip_flags, PKT_IP_MF);
	cr_assert_eq(pi.proto, 58);
	cr_assert_eq(pi.icmp_type, 0);
	cr_assert_eq(pi.ip_len, 1280);

	/* The first IPv6 fragment behind a routing header: ports. */
	pktb_init(&b, f, sizeof(f));
	ipv6(&b, 0, 0, 1240, 43, 64);
	ext(&b, 44, 2);
	frag6(&b, 17, 0, 1, 99);
	udp(&b, 3000, 4000);
	parse(&pi, f, b.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_FRAG | PKT_L_UDP);
	cr_assert_eq(pi.n_ext, 2);
	cr_assert_eq(pi.dst_port, 4000);
}

/* ---- lengths -------------------------------------------------------------- */

Test(pkt_link, padding_is_not_a_header)
{
	uint8_t f[64];
	struct pkt_info pi;
	struct pktb b;

	/* IPv4 of total length 20 that names TCP, padded to Ethernet's 60
	 * bytes with what looks like a TCP header. */
	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 20, 0, 0, 64, 6, 0);
	tcp(&b, 1, 2, 0x002);
	wr_zero(&b.w, wr_left(&b.w));
	parse(&pi, f, 60, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4);
	cr_assert_eq(pi.why, PKT_WHY_L4_CUT);
	cr_assert_eq(pi.ip_len, 20);
	cr_assert_eq(pi.src_port, 0);

	/* IPv6 with payload length 4 and a UDP header in the padding. */
	pktb_init(&b, f, sizeof(f));
	ipv6(&b, 0, 0, 4, 17, 64);
	udp(&b, 1, 2);
	parse(&pi, f, b.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6);
	cr_assert_eq(pi.why, PKT_WHY_L4_CUT);
	cr_assert_eq(pi.ip_len, 44);
}

Test(pkt_link, ip_len_when_the_capture_ends_after_the_header)
{
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 1400, 0, 0, 64, 6, 12);
	tcp(&b, 1, 2, 0x010);
	parse(&pi, f, 14 + 20, PKT_START_ETH);	/* options cut */
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4);
	cr_assert_eq(pi.why, PKT_WHY_OPT_CUT);
	cr_assert_eq(pi.ip_len, 1400);
	parse(&pi, f, 14 + 32, PKT_START_ETH);	/* transport cut */
	cr_assert_eq(pi.why, PKT_WHY_L4_CUT);
	cr_assert_eq(pi.ip_len, 1400);

	pktb_init(&b, f, sizeof(f));
	sll(&b, 1, 0x86dd);
	ipv6(&b, 0, 0, 1000, 0, 64);
	ext(&b, 6, 0);
	parse(&pi, f, 16 + 40, PKT_START_SLL);	/* extension header cut */
	cr_assert_eq(pi.layers, PKT_L_SLL | PKT_L_IPV6);
	cr_assert_eq(pi.why, PKT_WHY_EXT_CUT);
	cr_assert_eq(pi.ip_len, 1040);
	cr_assert_eq(pi.proto, 0, "stopped inside the extension chain");
}

Test(pkt_link, offload_length_zero_is_the_frame)
{
	uint8_t f[256];
	struct pkt_info pi;
	struct pktb b;

	/* IPv4 TSO/GSO and BIG TCP: total length 0. */
	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x0800);
	ipv4(&b, 0, 100, 0, 0x4000, 64, 6, 0);
	tcp(&b, 1, 2, 0x010);
	wr_zero(&b.w, 60);
	f[16] = f[17] = 0;
	parse(&pi, f, b.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_TCP);
	cr_assert_eq(pi.ip_len, 100);
	cr_assert(pi.len_from_frame);
	parse_wire(&pi, f, 64, 80066, PKT_START_ETH);	/* cut by the snap length */
	cr_assert_eq(pi.ip_len, 80052, "the wire length, not the captured one");
	cr_assert(pi.len_from_frame);
	cr_assert(pi.layers & PKT_L_TCP);

	/* A length that is not 0 is the datagram's, whatever the wire says. */
	f[17] = 100;
	parse_wire(&pi, f, 64, 80066, PKT_START_ETH);
	cr_assert_eq(pi.ip_len, 100);
	cr_assert(!pi.len_from_frame);

	/* IPv6, payload length 0 and no hop-by-hop jumbo option. */
	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x86dd);
	ipv6(&b, 0, 0, 0, 6, 64);
	tcp(&b, 1, 2, 0x010);
	f[18] = f[19] = 0;
	parse_wire(&pi, f, b.w.off, 80054, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_TCP);
	cr_assert_eq(pi.ip_len, 80040);
	cr_assert(pi.len_from_frame);
}

/* Hop-by-hop header of 8 bytes holding the jumbo option (RFC 2675). */
static void hbh_jumbo(struct pktb *b, uint8_t nh, uint32_t len)
{
	wr_u8(&b->w, nh);
	wr_u8(&b->w, 0);
	wr_u8(&b->w, 0xc2);
	wr_u8(&b->w, 4);
	wr_u32(&b->w, len);
}

Test(pkt_link, ipv6_jumbogram)
{
	uint8_t f[128];
	struct pkt_info pi;
	struct pktb b;

	pktb_init(&b, f, sizeof(f));
	eth(&b, 0x86dd);
	ipv6(&b, 0, 0, 0, 0, 64);
	hbh_jumbo(&b, 6, 80040);
	tcp(&b, 1, 2, 0x010);
	f[18] = f[19] = 0;
	parse_wire(&pi, f, b.w.off, 80094, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_TCP);
	cr_assert_eq(pi.ip_len, 80080);
	cr_assert(!pi.len_from_frame);

	/* Longer than the frame on the wire, or not a jumbo length (RFC 2675
	 * section 2: over 65535): impossible, refused. */
	parse_wire(&pi, f, b.w.off, 80093, PKT_START_ETH);
	cr_assert_eq(pi.why, PKT_WHY_IP_LENGTH);
	cr_assert_eq(pi.layers, PKT_L_ETH);
	f[54 + 4] = 0;
	f[54 + 5] = 0;
	f[54 + 6] = 0xff;
	f[54 + 7] = 0xff;			/* 65535 */
	parse_wire(&pi, f, b.w.off, 80094, PKT_START_ETH);
	cr_assert_eq(pi.why, PKT_WHY_IP_LENGTH);
	cr_assert_eq(pi.layers & PKT_L_IPV6, 0);
}
