/* meterhelp.h - frames for the flow meter's tests (test_exp_meter*.c):
 * a frame described by struct fr, built with pktbuild.h and parsed with
 * pkt_parse, so the meter sees what the parser makes of real bytes. */
#ifndef WEIR_TESTS_METERHELP_H
#define WEIR_TESTS_METERHELP_H

#include <criterion/criterion.h>
#include <string.h>

#include "err.h"
#include "pkt.h"
#include "pktbuild.h"

#define SEC	1000000000ull
#define MS	1000000ull
#define T0	(1700000000ull * SEC)
#define IFX	7u
#define MAXREC	4096

#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10
#define F_URG	0x20
#define F_ECE	0x40
#define F_CWR	0x80
#define F_NS	0x100

static const uint8_t MAC_D[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t MAC_S[6] = { 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb };
static const uint8_t A4[4] = { 192, 0, 2, 1 };
static const uint8_t B4[4] = { 198, 51, 100, 7 };
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd };

/* ---- frames ---- */

/* A test frame: IPv4 unless v6; TCP/UDP/ICMP by proto; fragments by the
 * IPv4 flags/offset word (frag, id) or an IPv6 fragment header (frag6:
 * off6, more6, id). A later fragment has no transport header. */
struct fr {
	int v6;
	const uint8_t *src, *dst;
	uint16_t vlan, vlan2;		/* outer, inner (QinQ) tags */
	uint8_t proto;
	uint16_t sp, dp, flags;
	uint8_t type, code;
	uint8_t ttl, tos;
	uint16_t payload;
	uint16_t frag;
	uint32_t id;
	int frag6, more6;
	uint16_t off6;
};

static inline struct pkt_info mk(const struct fr *f)
{
	static const uint8_t zero[1500];
	uint8_t buf[2048];
	struct pkt_info pi;
	struct pktb b;
	size_t len;
	uint16_t l3type = f->v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;
	uint8_t ttl = f->ttl ? f->ttl : 64;
	int later = f->v6 ? f->frag6 && f->off6 : (f->frag & 0x1fff) != 0;

	pktb_init(&b, buf, sizeof(buf));
	pktb_eth(&b, MAC_D, MAC_S, f->vlan ? PKTB_ETH_VLAN : l3type);
	if (f->vlan)
		pktb_vlan(&b, f->vlan, f->vlan2 ? PKTB_ETH_VLAN : l3type);
	if (f->vlan2)
		pktb_vlan(&b, f->vlan2, l3type);
	if (!f->v6) {
		struct pktb_ip4 ip = { .tos = f->tos, .ttl = ttl, .proto = f->proto,
				       .id = (uint16_t)f->id, .frag = f->frag };

		memcpy(ip.src, f->src ? f->src : A4, 4);
		memcpy(ip.dst, f->dst ? f->dst : B4, 4);
		pktb_ipv4(&b, &ip);
	} else {
		struct pktb_ip6 ip = { .tc = f->tos, .hlim = ttl, .nh = f->frag6 ? 44 : f->proto };

		memcpy(ip.src, f->src ? f->src : A6, 16);
		memcpy(ip.dst, f->dst ? f->dst : B6, 16);
		pktb_ipv6(&b, &ip);
		if (f->frag6) {
			uint8_t h[8] = { f->proto, 0, (uint8_t)(f->off6 >> 5),
					 (uint8_t)(f->off6 << 3 | (f->more6 ? 1 : 0)),
					 (uint8_t)(f->id >> 24), (uint8_t)(f->id >> 16),
					 (uint8_t)(f->id >> 8), (uint8_t)f->id };

			pktb_bytes(&b, h, sizeof(h));
		}
	}
	if (!later) {
		if (f->proto == PKTB_TCP) {
			struct pktb_tcp t = { .sport = f->sp, .dport = f->dp, .flags = f->flags,
					      .window = 1000 };

			pktb_tcp(&b, &t);
		} else if (f->proto == PKTB_UDP) {
			pktb_udp(&b, f->sp, f->dp, 0);
		} else if (f->proto == PKTB_ICMP || f->proto == PKTB_ICMPV6) {
			pktb_icmp(&b, f->type, f->code, 0);
		}
	}
	pktb_bytes(&b, zero, f->payload);
	len = pktb_finish(&b);
	cr_assert_gt(len, 0);
	cr_assert_eq(pkt_parse(&pi, buf, len, PKT_START_ETH), WEIR_OK);
	return pi;
}

#endif
