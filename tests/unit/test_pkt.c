/* test_pkt.c - packet-header parser: every layer, bounds, truncation. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pktbuild.h"
#include "unit/pkthelp.h"

/* ---- layers -------------------------------------------------------------- */

Test(pkt, eth_ipv4_tcp)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0xb8, 1500, 0xbeef, 0x4000, 63, 6, 0);
	tcp(&w, 443, 51000, 0x1ff);
	cr_assert_eq(w.w.err, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);

	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_TCP);
	cr_assert_eq(pi.flags, 0);
	cr_assert_arr_eq(pi.dst_mac, MAC_D, 6);
	cr_assert_arr_eq(pi.src_mac, MAC_S, 6);
	cr_assert_eq(pi.etype, 0x0800);
	assert_v4(&pi);
	cr_assert_eq(pi.tos, 0xb8);
	cr_assert_eq(pi.ttl, 63);
	cr_assert_eq(pi.proto, 6);
	cr_assert_eq(pi.ip_len, 1500);
	cr_assert_eq(pi.ip_id, 0xbeef);
	cr_assert_eq(pi.ip_flags, PKT_IP_DF);
	cr_assert_eq(pi.frag_off, 0);
	cr_assert_eq(pi.src_port, 443);
	cr_assert_eq(pi.dst_port, 51000);
	cr_assert_eq(pi.tcp_flags, 0x1ff, "all nine flags, NS included");
	cr_assert_eq(pi.l3_off, 14);
	cr_assert_eq(pi.l4_off, 34);
	cr_assert_eq(pi.hdr_len, 54);
}

Test(pkt, tcp_flags_exact)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0, 40, 1, 0, 64, 6, 0);
	tcp(&w, 1, 2, 0x012);	/* SYN+ACK */
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.tcp_flags, 0x012);
}

Test(pkt, vlan_8021q)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8100);
	vlan(&w, 0xa000 | 100, 0x0800);	/* PCP 5, VID 100 */
	ipv4(&w, 0, 28, 0, 0, 64, 17, 0);
	udp(&w, 53, 3333);
	parse(&pi, b, w.w.off, PKT_START_ETH);

	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_VLAN | PKT_L_IPV4 | PKT_L_UDP);
	cr_assert_eq(pi.nvlans, 1);
	cr_assert_eq(pi.vlan_outer, 100);
	cr_assert_eq(pi.vlan_inner, 0);
	cr_assert_eq(pi.etype, 0x0800);
	cr_assert_eq(pi.src_port, 53);
	cr_assert_eq(pi.dst_port, 3333);
	cr_assert_eq(pi.l3_off, 18);
}

Test(pkt, qinq_88a8_and_9100)
{
	static const uint16_t outer_tpid[] = { 0x88a8, 0x9100, 0x8100 };
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	for (size_t i = 0; i < 3; i++) {
		pktb_init(&w, b, sizeof(b));
		eth(&w, outer_tpid[i]);
		vlan(&w, 10, 0x8100);
		vlan(&w, 0x2000 | 20, 0x86dd);
		ipv6(&w, 0, 0, 8, 17, 64);
		udp(&w, 1000, 2000);
		parse(&pi, b, w.w.off, PKT_START_ETH);
		cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_VLAN | PKT_L_QINQ | PKT_L_IPV6 | PKT_L_UDP,
			     "tpid %04x", outer_tpid[i]);
		cr_assert_eq(pi.nvlans, 2);
		cr_assert_eq(pi.vlan_outer, 10);
		cr_assert_eq(pi.vlan_inner, 20);
		cr_assert_eq(pi.etype, 0x86dd);
		cr_assert_eq(pi.dst_port, 2000);
	}
}

Test(pkt, vlan_three_tags_within_bound)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x88a8);
	vlan(&w, 1, 0x8100);
	vlan(&w, 2, 0x8100);
	vlan(&w, 3, 0x0800);
	ipv4(&w, 0, 20, 0, 0, 1, 253, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.nvlans, 3);
	cr_assert_eq(pi.vlan_outer, 1);
	cr_assert_eq(pi.vlan_inner, 2);
	cr_assert(pi.layers & PKT_L_IPV4);
	cr_assert_eq(pi.proto, 253);
	cr_assert_eq(pi.flags, 0);
}

Test(pkt, vlan_depth_bound)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8100);
	for (int i = 0; i < PKT_VLAN_MAX_DEPTH; i++)
		vlan(&w, (uint16_t)(i + 1), 0x8100);
	vlan(&w, 99, 0x0800);
	ipv4(&w, 0, 20, 0, 0, 1, 6, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.flags, PKT_F_DEPTH);
	cr_assert_eq(pi.nvlans, PKT_VLAN_MAX_DEPTH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_VLAN | PKT_L_QINQ);
}

Test(pkt, mpls_ipv4)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8847);
	mpls(&w, 1000, 0);
	mpls(&w, 2000, 0);
	mpls(&w, 3000, 0);
	mpls(&w, 4000, 1);
	ipv4(&w, 0x10, 60, 7, 0, 9, 6, 0);
	tcp(&w, 22, 60000, 0x18);
	parse(&pi, b, w.w.off, PKT_START_ETH);

	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_MPLS | PKT_L_IPV4 | PKT_L_TCP);
	cr_assert_eq(pi.nlabels, 4);
	cr_assert_eq(pi.mpls[0], 1000);
	cr_assert_eq(pi.mpls[1], 2000);
	cr_assert_eq(pi.mpls[2], 3000, "first three labels kept");
	cr_assert_eq(pi.etype, 0x0800);
	assert_v4(&pi);
	cr_assert_eq(pi.dst_port, 60000);
	cr_assert_eq(pi.l3_off, 30);
}

Test(pkt, mpls_multicast_ipv6)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8848);
	mpls(&w, 0xfffff, 1);
	ipv6(&w, 0, 0x12345, 8, 58, 255);
	icmp(&w, 135, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_MPLS | PKT_L_IPV6 | PKT_L_ICMPV6);
	cr_assert_eq(pi.mpls[0], 0xfffff);
	cr_assert_eq(pi.etype, 0x86dd);
	cr_assert_eq(pi.icmp_type, 135);
	cr_assert_eq(pi.flow_label, 0x12345);
}

Test(pkt, mpls_non_ip_payload)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8847);
	mpls(&w, 16, 1);
	wr_u32(&w.w, 0);			/* pseudowire control word */
	eth(&w, 0x0800);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_MPLS);
	cr_assert_eq(pi.flags, 0);
	cr_assert_eq(pi.etype, 0x8847);
}

Test(pkt, mpls_depth_bound)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8847);
	for (int i = 0; i < PKT_MPLS_MAX_DEPTH + 2; i++)
		mpls(&w, (uint32_t)i, 0);
	ipv4(&w, 0, 20, 0, 0, 1, 6, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.flags, PKT_F_DEPTH);
	cr_assert_eq(pi.nlabels, PKT_MPLS_MAX_DEPTH);
	cr_assert_eq(pi.layers & PKT_L_IPV4, 0);
}

Test(pkt, ipv4_options)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0, 64, 0, 0, 64, 17, 12);	/* IHL 8 */
	udp(&w, 5353, 5354);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_UDP);
	cr_assert_eq(pi.l4_off, 14 + 32);
	cr_assert_eq(pi.src_port, 5353, "ports read after the options");
	cr_assert_eq(pi.dst_port, 5354);
}

Test(pkt, ipv4_first_fragment)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0, 1500, 0x1234, 0x2000, 64, 17, 0);	/* MF, offset 0 */
	udp(&w, 4000, 4001);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_FRAG | PKT_L_UDP);
	cr_assert_eq(pi.ip_flags, PKT_IP_MF);
	cr_assert_eq(pi.frag_off, 0);
	cr_assert_eq(pi.ip_id, 0x1234);
	cr_assert_eq(pi.src_port, 4000);
}

Test(pkt, ipv4_non_first_fragment)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0, 1500, 0x1234, 185, 64, 17, 0);	/* last fragment, offset 185 */
	udp(&w, 4000, 4001);		/* payload bytes that look like UDP */
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_FRAG);
	cr_assert_eq(pi.frag_off, 185);
	cr_assert_eq(pi.ip_flags, 0);
	cr_assert_eq(pi.proto, 17);
	cr_assert_eq(pi.src_port, 0, "no transport header in a non-first fragment");
	cr_assert_eq(pi.flags, 0);
}

Test(pkt, ipv4_df_is_not_a_fragment)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	ipv4(&w, 0, 28, 0, 0x4000, 64, 1, 0);
	icmp(&w, 8, 0);
	parse(&pi, b, w.w.off, PKT_START_IPV4);
	cr_assert_eq(pi.layers, PKT_L_IPV4 | PKT_L_ICMP);
	cr_assert_eq(pi.ip_flags, PKT_IP_DF);
	cr_assert_eq(pi.icmp_type, 8);
	cr_assert_eq(pi.etype, 0x0800);
}

Test(pkt, ipv6_extension_chain)
{
	uint8_t b[160];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x86dd);
	ipv6(&w, 0xa0, 0xfedcb, 72, 0, 33);
	ext(&w, 43, 0);			/* hop-by-hop, 8 bytes */
	ext(&w, 60, 1);			/* routing, 16 bytes */
	ext(&w, 51, 0);			/* destination options, 8 bytes */
	ah(&w, 17, 4);			/* AH, 24 bytes */
	udp(&w, 500, 4500);
	cr_assert_eq(w.w.err, 0);
	parse(&pi, b, w.w.off, PKT_START_ETH);

	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_UDP);
	cr_assert_eq(pi.n_ext, 4);
	cr_assert_eq(pi.proto, 17);
	cr_assert_eq(pi.tos, 0xa0);
	cr_assert_eq(pi.ttl, 33);
	cr_assert_eq(pi.flow_label, 0xfedcb);
	cr_assert_eq(pi.ip_len, 112);
	assert_v6(&pi);
	cr_assert_eq(pi.l4_off, 14 + 40 + 8 + 16 + 8 + 24);
	cr_assert_eq(pi.src_port, 500);
	cr_assert_eq(pi.dst_port, 4500);
}

Test(pkt, ipv6_first_fragment)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	ipv6(&w, 0, 0, 1000, 44, 64);
	frag6(&w, 6, 0, 1, 0xdeadbeef);
	tcp(&w, 80, 1234, 0x10);
	parse(&pi, b, w.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_FRAG | PKT_L_TCP);
	cr_assert_eq(pi.ip_flags, PKT_IP_MF);
	cr_assert_eq(pi.frag_off, 0);
	cr_assert_eq(pi.ip_id, 0xdeadbeef);
	cr_assert_eq(pi.proto, 6);
	cr_assert_eq(pi.src_port, 80);
	cr_assert_eq(pi.etype, 0x86dd);
}

Test(pkt, ipv6_non_first_fragment)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x86dd);
	ipv6(&w, 0, 0, 1000, 0, 64);
	ext(&w, 44, 0);
	frag6(&w, 17, 100, 0, 7);
	udp(&w, 9, 9);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_IPV6_EXT | PKT_L_FRAG);
	cr_assert_eq(pi.frag_off, 100);
	cr_assert_eq(pi.ip_flags, 0);
	cr_assert_eq(pi.proto, 17, "upper layer named by the fragment header");
	cr_assert_eq(pi.n_ext, 2);
	cr_assert_eq(pi.src_port, 0);
	cr_assert_eq(pi.flags, 0);
}

Test(pkt, ipv6_extension_bound)
{
	uint8_t b[256];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	ipv6(&w, 0, 0, 200, 60, 64);
	for (int i = 0; i < PKT_IPV6_MAX_EXT + 1; i++)
		ext(&w, i == PKT_IPV6_MAX_EXT ? 17 : 60, 0);
	udp(&w, 1, 2);
	cr_assert_eq(w.w.err, 0);
	parse(&pi, b, w.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.flags, PKT_F_DEPTH);
	cr_assert_eq(pi.n_ext, PKT_IPV6_MAX_EXT);
	cr_assert_eq(pi.layers & PKT_L_UDP, 0);

	/* Exactly the bound still reaches the transport header. */
	pktb_init(&w, b, sizeof(b));
	ipv6(&w, 0, 0, 200, 60, 64);
	for (int i = 0; i < PKT_IPV6_MAX_EXT; i++)
		ext(&w, i == PKT_IPV6_MAX_EXT - 1 ? 17 : 60, 0);
	udp(&w, 1, 2);
	parse(&pi, b, w.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.flags, 0);
	cr_assert(pi.layers & PKT_L_UDP);
	cr_assert_eq(pi.dst_port, 2);
}

Test(pkt, icmp_and_icmpv6)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv4(&w, 0, 56, 0, 0, 64, 1, 0);
	icmp(&w, 3, 13);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_ICMP);
	cr_assert_eq(pi.icmp_type, 3);
	cr_assert_eq(pi.icmp_code, 13);

	pktb_init(&w, b, sizeof(b));
	ipv6(&w, 0, 0, 8, 58, 64);
	icmp(&w, 1, 4);
	parse(&pi, b, w.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_ICMPV6);
	cr_assert_eq(pi.icmp_type, 1);
	cr_assert_eq(pi.icmp_code, 4);
	cr_assert_eq(pi.proto, 58);
}

Test(pkt, link_layer_only)
{
	uint8_t b[64];
	struct pkt_info pi;
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0806);		/* ARP */
	wr_zero(&w.w, 28);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH);
	cr_assert_eq(pi.flags, 0);
	cr_assert_eq(pi.etype, 0x0806);

	pktb_init(&w, b, sizeof(b));
	eth(&w, 46);			/* 802.3 length, LLC follows */
	wr_zero(&w.w, 46);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.layers, PKT_L_ETH);
	cr_assert_eq(pi.etype, 0, "a length is not an ethertype");
}

Test(pkt, malformed_ip)
{
	uint8_t b[128];
	struct pkt_info pi;
	struct pktb w;

	/* Ethertype IPv4, version nibble 6. */
	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x0800);
	ipv6(&w, 0, 0, 0, 59, 1);
	parse(&pi, b, w.w.off, PKT_START_ETH);
	cr_assert_eq(pi.flags, PKT_F_MALFORMED);
	cr_assert_eq(pi.layers, PKT_L_ETH);

	/* IHL 4: shorter than the fixed header. */
	pktb_init(&w, b, sizeof(b));
	ipv4(&w, 0, 40, 0, 0, 64, 6, 0);
	b[0] = 0x44;
	tcp(&w, 1, 2, 2);
	parse(&pi, b, w.w.off, PKT_START_IPV4);
	cr_assert_eq(pi.flags, PKT_F_MALFORMED);
	cr_assert_eq(pi.layers, 0);

	/* Start says IPv6, bytes are IPv4. */
	pktb_init(&w, b, sizeof(b));
	ipv4(&w, 0, 40, 0, 0, 64, 6, 0);
	wr_zero(&w.w, 20);
	parse(&pi, b, w.w.off, PKT_START_IPV6);
	cr_assert_eq(pi.flags, PKT_F_MALFORMED);
	cr_assert_eq(pi.layers, 0);
}

Test(pkt, unknown_start)
{
	uint8_t b[64] = { 0 };
	struct pkt_info pi;

	memset(&pi, 0xff, sizeof(pi));
	cr_assert_eq(pkt_parse(&pi, b, sizeof(b), 13), WEIR_E_INVALID);
	cr_assert_eq(pi.layers, 0);
	cr_assert_eq(pi.flags, 0);
}

/* ---- truncation at every length ------------------------------------------ */

struct boundary {
	uint32_t layer;
	size_t end;		/* the layer is reported once this many bytes exist */
};

/* Cut the frame at every length: the layers reported are exactly those
 * whose header is complete, the truncated flag is set until the last header
 * is whole, and what was reported equals the full parse. */
static void truncate_all(const uint8_t *b, size_t len, int start,
			 const struct boundary *bd, size_t nbd)
{
	struct pkt_info full, pi;
	size_t last = bd[nbd - 1].end;

	parse(&full, b, len, start);
	cr_assert_eq(full.flags, 0);
	for (size_t cut = 0; cut <= len; cut++) {
		uint32_t want = 0;

		for (size_t i = 0; i < nbd; i++)
			if (bd[i].end <= cut)
				want |= bd[i].layer;
		parse(&pi, b, cut, start);
		cr_assert_eq(pi.layers, want, "cut %zu: layers %#x, want %#x", cut, pi.layers, want);
		cr_assert_eq(!!(pi.flags & PKT_F_TRUNCATED), cut < last, "cut %zu: flags %#x",
			     cut, pi.flags);
		cr_assert_eq(pi.flags & ~PKT_F_TRUNCATED, 0, "cut %zu", cut);
		cr_assert_leq(pi.hdr_len, cut);
		if (pi.layers & PKT_L_ETH) {
			cr_assert_arr_eq(pi.src_mac, full.src_mac, 6);
			cr_assert_arr_eq(pi.dst_mac, full.dst_mac, 6);
		}
		if (pi.layers & PKT_L_VLAN)
			cr_assert_eq(pi.vlan_outer, full.vlan_outer);
		if (pi.layers & PKT_L_QINQ)
			cr_assert_eq(pi.vlan_inner, full.vlan_inner);
		if (pi.layers & (PKT_L_IPV4 | PKT_L_IPV6)) {
			cr_assert(weir_addr_eq(&pi.src, &full.src), "cut %zu", cut);
			cr_assert(weir_addr_eq(&pi.dst, &full.dst));
			cr_assert_eq(pi.ttl, full.ttl);
			cr_assert_eq(pi.tos, full.tos);
			cr_assert_eq(pi.etype, full.etype);
		}
		if (pi.layers & PKT_L_FRAG) {
			cr_assert_eq(pi.ip_flags, full.ip_flags);
			cr_assert_eq(pi.frag_off, full.frag_off);
		}
		if (pi.layers & (PKT_L_TCP | PKT_L_UDP)) {
			cr_assert_eq(pi.src_port, full.src_port);
			cr_assert_eq(pi.dst_port, full.dst_port);
			cr_assert_eq(pi.proto, full.proto);
		}
		if (pi.layers & PKT_L_TCP)
			cr_assert_eq(pi.tcp_flags, full.tcp_flags);
		if (pi.layers & (PKT_L_ICMP | PKT_L_ICMPV6)) {
			cr_assert_eq(pi.icmp_type, full.icmp_type);
			cr_assert_eq(pi.icmp_code, full.icmp_code);
		}
	}
}

Test(pkt, truncate_qinq_ipv4_options_tcp)
{
	static const struct boundary bd[] = {
		{ PKT_L_ETH, 14 }, { PKT_L_VLAN, 18 }, { PKT_L_QINQ, 22 },
		{ PKT_L_IPV4, 42 },	/* fixed header; options end at 46 */
		{ PKT_L_TCP, 66 },
	};
	uint8_t b[128];
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x88a8);
	vlan(&w, 300, 0x8100);
	vlan(&w, 400, 0x0800);
	ipv4(&w, 0x28, 1400, 1, 0, 60, 6, 4);
	tcp(&w, 179, 40000, 0x11);
	wr_zero(&w.w, 16);		/* payload: not a header */
	truncate_all(b, w.w.off, PKT_START_ETH, bd, 5);
}

Test(pkt, truncate_mpls_ipv6_ext_frag_udp)
{
	/* At 22 the bottom-of-stack entry is whole but the version nibble
	 * after it is not there yet: still truncated. */
	static const struct boundary bd[] = {
		{ PKT_L_ETH, 14 }, { PKT_L_MPLS, 18 }, { PKT_L_IPV6, 62 },
		{ PKT_L_IPV6_EXT, 70 }, { PKT_L_FRAG, 78 }, { PKT_L_UDP, 86 },
	};
	uint8_t b[128];
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8847);
	mpls(&w, 100, 0);
	mpls(&w, 200, 1);
	ipv6(&w, 0x04, 0xabcde, 200, 0, 2);
	ext(&w, 44, 0);
	frag6(&w, 17, 0, 1, 99);
	udp(&w, 4789, 4789);
	truncate_all(b, w.w.off, PKT_START_ETH, bd, 6);
}

Test(pkt, truncate_ipv6_icmpv6)
{
	static const struct boundary bd[] = {
		{ PKT_L_ETH, 14 }, { PKT_L_IPV6, 54 }, { PKT_L_ICMPV6, 58 },
	};
	uint8_t b[128];
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x86dd);
	ipv6(&w, 0, 1, 8, 58, 255);
	icmp(&w, 128, 0);
	truncate_all(b, w.w.off, PKT_START_ETH, bd, 3);
}

Test(pkt, truncate_raw_ipv4_icmp)
{
	static const struct boundary bd[] = {
		{ PKT_L_IPV4 | PKT_L_FRAG, 20 }, { PKT_L_ICMP, 24 },
	};
	uint8_t b[64];
	struct pktb w;

	pktb_init(&w, b, sizeof(b));
	ipv4(&w, 0, 28, 5, 0x2000, 64, 1, 0);	/* first fragment */
	icmp(&w, 0, 0);
	truncate_all(b, w.w.off, PKT_START_IPV4, bd, 2);
}

Test(pkt, truncate_at_128_keeps_headers)
{
	uint8_t b[1514];
	struct pkt_info pi;
	struct pktb w;

	/* The usual sFlow cut: a full-size frame sampled to 128 bytes. */
	pktb_init(&w, b, sizeof(b));
	eth(&w, 0x8100);
	vlan(&w, 42, 0x0800);
	ipv4(&w, 0, 1496, 0, 0x4000, 64, 6, 0);
	tcp(&w, 443, 50000, 0x18);
	wr_zero(&w.w, wr_left(&w.w));
	parse(&pi, b, 128, PKT_START_ETH);
	cr_assert_eq(pi.flags, 0);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_VLAN | PKT_L_IPV4 | PKT_L_TCP);
	cr_assert_eq(pi.ip_len, 1496);
}
