/* bpfframe.h - frames for the tests of weir's tc programs (test_bpf_*.c),
 * built with pktbuild.h (the addresses of pkthelp.h), and the flow key the
 * programs make of each; the programs of a test, loaded, run and read.
 */
#ifndef WEIR_TESTS_BPFFRAME_H
#define WEIR_TESTS_BPFFRAME_H

#include <criterion/criterion.h>
#include <string.h>

#include "pktbuild.h"
#include "unit/bpfhelp.h"
#include "unit/pkthelp.h"
#include "wflow.h"

#define FMAX	2048

/* A frame: IPv4 unless v6, rev swaps the addresses (not the ports); tags
 * outermost first (tpid: the outer's, 0x8100 when 0); TCP, UDP, ICMP and
 * ICMPv6 by pktbuild, SCTP (132) as its 12-byte common header, other
 * protocols with no transport header; pay bytes of zeros after. */
struct fb {
	int v6, rev;
	int ntags;
	uint16_t tpid, tags[3];
	uint8_t proto;
	uint16_t sp, dp, flags;
	uint8_t type, code;
	uint8_t ttl, tos;
	uint16_t pay;
	uint16_t ff;			/* IPv4 flags/offset */
	uint16_t id;			/* IPv4 identification (0: 7) */
	uint8_t optlen;			/* IPv4 options */
	const uint8_t *ext;		/* IPv6: raw extension headers, next header ext_nh */
	size_t ext_len;
	uint8_t ext_nh;
};

struct frame {
	uint8_t b[FMAX];
	size_t len;
};

static inline void build(struct frame *fr, const struct fb *f)
{
	static const uint8_t pay[FMAX];
	uint16_t l3 = f->v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;
	struct pktb b;

	memset(fr->b, 0, sizeof(fr->b));
	pktb_init(&b, fr->b, sizeof(fr->b));
	pktb_eth(&b, MAC_D, MAC_S, f->ntags ? (f->tpid ? f->tpid : 0x8100) : l3);
	for (int i = 0; i < f->ntags; i++)
		pktb_vlan(&b, f->tags[i], i + 1 < f->ntags ? 0x8100 : l3);
	if (f->v6) {
		struct pktb_ip6 ip = { .tc = f->tos, .hlim = f->ttl ? f->ttl : 64,
				       .nh = f->ext ? f->ext_nh : f->proto };

		memcpy(ip.src, f->rev ? V6_D : V6_S, 16);
		memcpy(ip.dst, f->rev ? V6_S : V6_D, 16);
		pktb_ipv6(&b, &ip);
		if (f->ext)
			pktb_bytes(&b, f->ext, f->ext_len);
	} else {
		struct pktb_ip4 ip = { .tos = f->tos, .ttl = f->ttl ? f->ttl : 64, .proto = f->proto,
				       .id = f->id ? f->id : 7, .frag = f->ff,
				       .optlen = f->optlen };

		memcpy(ip.src, f->rev ? V4_D : V4_S, 4);
		memcpy(ip.dst, f->rev ? V4_S : V4_D, 4);
		pktb_ipv4(&b, &ip);
	}
	if (f->proto == PKTB_UDP && !(f->ff & 0x1fff)) {
		pktb_udp(&b, f->sp, f->dp, 0);
	} else if (f->proto == PKTB_TCP && !(f->ff & 0x1fff)) {
		struct pktb_tcp t = { .sport = f->sp, .dport = f->dp, .flags = f->flags,
				      .window = 1000 };

		pktb_tcp(&b, &t);
	} else if ((f->proto == PKTB_ICMP || f->proto == PKTB_ICMPV6) && !(f->ff & 0x1fff)) {
		pktb_icmp(&b, f->type, f->code, 0);
	} else if (f->proto == 132) {
		wr_u16(&b.w, f->sp);
		wr_u16(&b.w, f->dp);
		wr_u32(&b.w, 0x01020304);
		wr_u32(&b.w, 0);
	}
	pktb_bytes(&b, pay, f->pay);
	fr->len = pktb_finish(&b);
	cr_assert_gt(fr->len, 0);
}

/* The key of a frame built from f, as the programs make it. */
static inline struct wflow_key key_of(const struct fb *f, uint16_t vlan, uint8_t dir)
{
	struct wflow_key k;

	memset(&k, 0, sizeof(k));
	if (f->v6) {
		memcpy(k.src, f->rev ? V6_D : V6_S, 16);
		memcpy(k.dst, f->rev ? V6_S : V6_D, 16);
	} else {
		memcpy(k.src, f->rev ? V4_D : V4_S, 4);
		memcpy(k.dst, f->rev ? V4_S : V4_D, 4);
	}
	k.proto = f->proto;
	k.ipver = f->v6 ? 6 : 4;
	if (!(f->ff & 0x1fff)) {
		k.src_port = f->sp;
		k.dst_port = f->dp;
	}
	if (f->proto == PKTB_ICMP || f->proto == PKTB_ICMPV6) {
		k.src_port = 0;
		k.dst_port = (uint16_t)(f->type << 8 | f->code);
	}
	k.vlan = vlan;
	k.ifindex = 1;
	k.dir = dir;
	return k;
}

/* ---- a test's programs ---- */

static struct weir_tc_bpf *S;
static int IN, EG;

static inline void load_cfg(const char *suite, const struct wtc_cfg *cfg, __u32 max_flows,
			    __u32 spill, __u32 events)
{
	bh_require(suite);
	S = bh_load(cfg, max_flows, spill, events);
	IN = bpf_program__fd(S->progs.weir_ingress);
	EG = bpf_program__fd(S->progs.weir_egress);
}

static inline void teardown(void)
{
	weir_tc_bpf__destroy(S);
	S = NULL;
}

static inline void run(int prog, const struct frame *fr)
{
	cr_assert_eq(bh_run(prog, fr->b, fr->len), BH_UNSPEC);
}

/* The value of k; it must be there. */
static inline struct wflow_val get(const struct wflow_key *k)
{
	struct wflow_val v;

	cr_assert_eq(bh_get(S, k, &v), 0, "no entry for the key");
	return v;
}

static inline int nflows(void)
{
	struct wflow_key k[64];
	struct wflow_val v[64];

	return bh_flows(S, k, v, 64, 0);
}

static inline __u64 stat(int i)
{
	__u64 st[WTC_ST_COUNT];

	bh_stats(S, st);
	return st[i];
}

#endif
