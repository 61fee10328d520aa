/* test_pktbuild.c - the packet builder of pktbuild.h: every checksum
 * checked by an independent sum over the built frame (the ones' complement
 * sum over a header with its checksum, and over the pseudo-header and the
 * transport bytes, is 0xffff: RFC 1071 section 1), and every frame parsed
 * back by pkt.c's parser to the fields put in. */
#include <criterion/criterion.h>
#include <string.h>

#include "err.h"
#include "pkt.h"
#include "pktbuild.h"

static const uint8_t MAC_D[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_S[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };

/* A plain 16-bit ones' complement sum, one word at a time (not the
 * builder's code), folded. */
static uint16_t ocsum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		sum += (uint32_t)(p[i] << 8) | (i + 1 < n ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The pseudo-header sum: IPv4 (RFC 768) or IPv6 (RFC 8200 section 8.1). */
static uint32_t pseudo(const uint8_t *ip, int v6, uint8_t proto, size_t len)
{
	if (!v6)
		return ocsum(0, ip + 12, 8) + proto + (uint32_t)len;
	return ocsum(0, ip + 8, 32) + proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
}

static struct pktb_ip4 v4hdr(uint8_t proto)
{
	struct pktb_ip4 ip = {
		.src = { 192, 0, 2, 1 }, .dst = { 198, 51, 100, 7 },
		.tos = 0xb8, .ttl = 63, .proto = proto, .id = 0xbeef, .frag = 0x4000,
	};

	return ip;
}

static struct pktb_ip6 v6hdr(uint8_t nh)
{
	struct pktb_ip6 ip = {
		.src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		.dst = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0xcd },
		.tc = 0x2e, .hlim = 7, .nh = nh, .flow = 0xabcde,
	};

	return ip;
}

Test(pktbuild, ipv4_udp_odd_payload)
{
	uint8_t f[256], payload[13];
	struct pktb_ip4 ip = v4hdr(PKTB_UDP);
	struct pkt_info pi;
	struct weir_addr a;
	struct pktb b;
	size_t n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(0xf0 + i);
	pktb_init(&b, f, sizeof(f));
	pktb_eth(&b, MAC_D, MAC_S, PKTB_ETH_IPV4);
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 40000, 2055, 0);
	pktb_bytes(&b, payload, sizeof(payload));
	n = pktb_finish(&b);
	cr_assert_eq(n, 14 + 20 + 8 + 13);
	cr_assert_eq(be16(f + 16), 20 + 8 + 13, "IPv4 total length");
	cr_assert_eq(be16(f + 38), 8 + 13, "UDP length");
	cr_assert_eq(ocsum(0, f + 14, 20), 0xffff, "IPv4 header checksum");
	cr_assert_neq(be16(f + 40), 0, "UDP checksum set");
	cr_assert_eq(ocsum(pseudo(f + 14, 0, 17, 21), f + 34, 21), 0xffff, "UDP checksum");

	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_ETH), WEIR_OK);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV4 | PKT_L_UDP);
	cr_assert_eq(pi.flags, 0);
	cr_assert_arr_eq(pi.dst_mac, MAC_D, 6);
	cr_assert_arr_eq(pi.src_mac, MAC_S, 6);
	weir_addr_v4(&a, ip.src);
	cr_assert(weir_addr_eq(&pi.src, &a));
	weir_addr_v4(&a, ip.dst);
	cr_assert(weir_addr_eq(&pi.dst, &a));
	cr_assert_eq(pi.tos, 0xb8);
	cr_assert_eq(pi.ttl, 63);
	cr_assert_eq(pi.ip_id, 0xbeef);
	cr_assert_eq(pi.ip_flags, PKT_IP_DF);
	cr_assert_eq(pi.ip_len, 41);
	cr_assert_eq(pi.src_port, 40000);
	cr_assert_eq(pi.dst_port, 2055);
	cr_assert_eq(pi.l4_off, 34);
}

Test(pktbuild, vlan_ipv4_options_tcp)
{
	uint8_t f[256];
	struct pktb_ip4 ip = v4hdr(PKTB_TCP);
	struct pktb_tcp t = { .sport = 443, .dport = 51000, .seq = 7, .ack = 9, .flags = 0x012,
			      .window = 1024 };
	struct pkt_info pi;
	struct pktb b;
	size_t n;

	ip.optlen = 8;
	pktb_init(&b, f, sizeof(f));
	pktb_eth(&b, MAC_D, MAC_S, PKTB_ETH_VLAN);
	pktb_vlan(&b, 0xa000 | 100, PKTB_ETH_IPV4);
	pktb_ipv4(&b, &ip);
	pktb_tcp(&b, &t);
	pktb_bytes(&b, "hello", 5);
	n = pktb_finish(&b);
	cr_assert_eq(n, 18 + 28 + 20 + 5);
	cr_assert_eq(ocsum(0, f + 18, 28), 0xffff, "IPv4 header checksum with options");
	cr_assert_eq(ocsum(pseudo(f + 18, 0, 6, 25), f + 46, 25), 0xffff, "TCP checksum");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_ETH), WEIR_OK);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_VLAN | PKT_L_IPV4 | PKT_L_TCP);
	cr_assert_eq(pi.vlan_outer, 100);
	cr_assert_eq(pi.tcp_flags, 0x012);
	cr_assert_eq(pi.src_port, 443);
	cr_assert_eq(pi.l4_off, 18 + 28);
}

Test(pktbuild, ipv6_udp_tcp_icmpv6)
{
	uint8_t f[256];
	struct pktb_ip6 ip;
	struct pktb_tcp t = { .sport = 1, .dport = 2, .flags = 0x002 };
	struct pkt_info pi;
	struct pktb b;
	size_t n;

	ip = v6hdr(PKTB_UDP);
	pktb_init(&b, f, sizeof(f));
	pktb_eth(&b, MAC_D, MAC_S, PKTB_ETH_IPV6);
	pktb_ipv6(&b, &ip);
	pktb_udp(&b, 5353, 4739, 0);
	pktb_bytes(&b, "abc", 3);
	n = pktb_finish(&b);
	cr_assert_eq(n, 14 + 40 + 11);
	cr_assert_eq(be16(f + 18), 11, "payload length");
	cr_assert_eq(ocsum(pseudo(f + 14, 1, 17, 11), f + 54, 11), 0xffff, "UDP checksum");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_ETH), WEIR_OK);
	cr_assert_eq(pi.layers, PKT_L_ETH | PKT_L_IPV6 | PKT_L_UDP);
	cr_assert_arr_eq(pi.src.a, ip.src, 16);
	cr_assert_arr_eq(pi.dst.a, ip.dst, 16);
	cr_assert_eq(pi.tos, 0x2e);
	cr_assert_eq(pi.ttl, 7);
	cr_assert_eq(pi.flow_label, 0xabcde);
	cr_assert_eq(pi.dst_port, 4739);

	ip = v6hdr(PKTB_TCP);
	pktb_init(&b, f, sizeof(f));
	pktb_ipv6(&b, &ip);
	pktb_tcp(&b, &t);
	n = pktb_finish(&b);
	cr_assert_eq(ocsum(pseudo(f, 1, 6, 20), f + 40, 20), 0xffff, "TCP over IPv6");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_IPV6), WEIR_OK);
	cr_assert_eq(pi.layers, PKT_L_IPV6 | PKT_L_TCP);

	/* ICMPv6 (RFC 4443 section 2.3: with the pseudo-header), behind a
	 * destination options header written as raw bytes. */
	ip = v6hdr(60);
	pktb_init(&b, f, sizeof(f));
	pktb_ipv6(&b, &ip);
	pktb_bytes(&b, (const uint8_t[8]){ PKTB_ICMPV6, 0 }, 8);
	pktb_icmp(&b, 128, 0, 0x12340001);	/* echo request */
	pktb_bytes(&b, "ping", 4);
	n = pktb_finish(&b);
	cr_assert_eq(n, 40 + 8 + 8 + 4);
	cr_assert_eq(be16(f + 4), 20, "extension header counted in the payload length");
	cr_assert_eq(ocsum(pseudo(f, 1, 58, 12), f + 48, 12), 0xffff, "ICMPv6 checksum");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_IPV6), WEIR_OK);
	cr_assert(pi.layers & PKT_L_ICMPV6);
	cr_assert_eq(pi.icmp_type, 128);
	cr_assert_eq(pi.n_ext, 1);
}

Test(pktbuild, icmpv4_has_no_pseudo_header)
{
	uint8_t f[128];
	struct pktb_ip4 ip = v4hdr(PKTB_ICMP);
	struct pkt_info pi;
	struct pktb b;
	size_t n;

	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &ip);
	pktb_icmp(&b, 3, 4, 1400);	/* fragmentation needed, next-hop MTU */
	pktb_bytes(&b, "xyz", 3);
	n = pktb_finish(&b);
	cr_assert_eq(n, 20 + 8 + 3);
	cr_assert_eq(ocsum(0, f + 20, 11), 0xffff, "ICMP checksum over the message alone");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_IPV4), WEIR_OK);
	cr_assert_eq(pi.layers, PKT_L_IPV4 | PKT_L_ICMP);
	cr_assert_eq(pi.icmp_type, 3);
	cr_assert_eq(pi.icmp_code, 4);
}

/* RFC 768: a computed checksum of 0 is sent as 0xffff. The payload word
 * that makes the sum come out so is the checksum of the frame with that
 * word 0 (ones' complement: S + ~S = 0xffff). */
Test(pktbuild, udp_zero_checksum_goes_out_as_ones)
{
	uint8_t f[128], w[2] = { 0, 0 };
	struct pktb_ip4 ip = v4hdr(PKTB_UDP);
	struct pktb b;

	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 1, 2, 0);
	pktb_bytes(&b, w, 2);
	cr_assert_eq(pktb_finish(&b), 30);
	memcpy(w, f + 26, 2);
	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 1, 2, 0);
	pktb_bytes(&b, w, 2);
	cr_assert_eq(pktb_finish(&b), 30);
	cr_assert_eq(be16(f + 26), 0xffff);
	cr_assert_eq(ocsum(pseudo(f, 0, 17, 10), f + 20, 10), 0xffff, "still a right checksum");
}

Test(pktbuild, given_lengths_kept_and_bounds)
{
	uint8_t f[64];
	static uint8_t big[70000], data[65530];
	struct pktb_ip4 ip = v4hdr(PKTB_UDP);
	struct pktb b;

	/* A sampled header: the lengths of the whole packet, the bytes cut. */
	ip.total = 1500;
	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 1, 2, 1480);
	cr_assert_eq(pktb_finish(&b), 28);
	cr_assert_eq(be16(f + 2), 1500);
	cr_assert_eq(be16(f + 24), 1480);
	cr_assert_eq(ocsum(0, f, 20), 0xffff);

	/* Does not fit its buffer. */
	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &(struct pktb_ip4){ .proto = PKTB_UDP });
	pktb_udp(&b, 1, 2, 0);
	pktb_bytes(&b, big, 100);
	cr_assert_eq(pktb_finish(&b), 0);

	/* A UDP datagram past 65535 bytes. */
	ip.total = 0;
	pktb_init(&b, big, sizeof(big));
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 1, 2, 0);
	pktb_bytes(&b, data, sizeof(data));
	cr_assert_eq(pktb_finish(&b), 0);

	/* Options must be whole words. */
	ip.optlen = 3;
	pktb_init(&b, f, sizeof(f));
	pktb_ipv4(&b, &ip);
	cr_assert_eq(pktb_finish(&b), 0);
}

/* The headers of a packet cut short (sFlow's sampled header): the lengths
 * of the whole packet kept, the IPv4 header checksum right, the transport
 * checksum left 0 (its bytes are not all there). */
Test(pktbuild, cut_headers)
{
	uint8_t f[128];
	struct pktb_ip4 ip = v4hdr(PKTB_TCP);
	struct pktb_tcp t = { .sport = 80, .dport = 33000, .flags = 0x018 };
	struct pkt_info pi;
	struct pktb b;
	size_t n;

	ip.total = 1400;
	pktb_init(&b, f, sizeof(f));
	pktb_eth(&b, MAC_D, MAC_S, PKTB_ETH_IPV4);
	pktb_ipv4(&b, &ip);
	pktb_tcp(&b, &t);
	n = pktb_finish_cut(&b);
	cr_assert_eq(n, 54);
	cr_assert_eq(be16(f + 16), 1400);
	cr_assert_eq(ocsum(0, f + 14, 20), 0xffff, "IPv4 header checksum");
	cr_assert_eq(be16(f + 34 + 16), 0, "no TCP checksum");
	cr_assert_eq(pkt_parse(&pi, f, n, PKT_START_ETH), WEIR_OK);
	cr_assert_eq(pi.ip_len, 1400);
	cr_assert_eq(pi.tcp_flags, 0x018);
}
