/* weir_tc.bpf.c - weir-exporter's tc programs: every packet of an
 * interface folded into its flow's counters in the kernel (see weir_tc.h
 * for what user space shares, docs/exporter.md "Live metering: the BPF
 * programs" for the semantics).
 *
 * The parse is common/wire/pkt.c's, step for step, so that a packet gives
 * the same flow key and counts live as offline (tests/unit/test_bpf_diff.c
 * holds the two to it): Ethernet, up to 4 VLAN tags (802.1Q, 802.1ad,
 * 0x9100; the offloaded one in skb->vlan_tci counts as the first), up to 8
 * MPLS labels, IPv4 with options and fragments, IPv6 with up to 8
 * extension headers, then TCP, UDP, SCTP, ICMP, ICMPv6. Headers are read
 * in place when they lie in the skb's linear bytes and through
 * bpf_skb_load_bytes() when they do not (a GRO packet of a driver that
 * keeps only the Ethernet header linear): never a pull, the skb is never
 * changed, and the programs always return TC_ACT_UNSPEC.
 *
 * Build with -DWTC_SPIN_LOCK for the variant that keeps one value per flow
 * under a bpf_spin_lock instead of one per CPU (bench/bpf measures both;
 * see `flows` below for why the per-CPU one is weir's).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "weir_tc.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Settings: read-only data, set by user space before load (the verifier
 * then drops the code of what is off). */
const volatile struct wtc_cfg cfg = {};

/* The generation written into every key's pad[0] (weir_tc.h: how user
 * space drains the map without losing an increment). */
volatile __u8 wtc_gen = 0;

/* Per-flow aggregation, one direction per key. Why per-CPU values and not
 * one value under a bpf_spin_lock: each CPU adds into its own copy with
 * plain stores, so a packet costs no atomic operation, and two CPUs that
 * count the same flow never wait for each other nor share a cache line;
 * the lock costs a locked instruction pair per packet and, under
 * contention, the line bouncing between the CPUs (bench/bpf: figures in
 * docs/benchmarks.md "BPF programs"). The price is memory (a value per CPU
 * per entry) and the sum user space makes, both small next to the
 * packet path. Preallocated (the default): no allocation per new flow. */
#ifndef WTC_SPIN_LOCK
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, WTC_FLOWS_MAX);
	__type(key, struct wflow_key);
	__type(value, struct wflow_val);
} flows SEC(".maps");
#else
struct wtc_lval {
	struct bpf_spin_lock lock;
	__u32 pad;
	struct wflow_val v;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WTC_FLOWS_MAX);
	__type(key, struct wflow_key);
	__type(value, struct wtc_lval);
} flows SEC(".maps");
#endif

/* Packets `flows` had no room for, one record each (user space sets the
 * size before load; the default holds 8192). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WTC_SPILL_BYTES);
} spill SEC(".maps");

/* A flow direction's first FIN or RST. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WTC_EVENTS_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WTC_ST_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* 1-in-N sampling: packets this CPU still skips. Internal. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} samp SEC(".maps");

/* Later IP fragments into their datagram's flow, as the meter joins them
 * offline (exporter/meter_frag.c): the ports of a datagram's first
 * fragment, kept by the datagram's identity for FRAG_NS. Internal; LRU,
 * so the oldest datagrams make room. */
struct wtc_frag_key {
	__u8 src[16], dst[16];
	__u32 id;		/* IPv4 identification, IPv6 fragment id */
	__u32 ifindex;
	__u16 vlan;
	__u8 proto, ipver, dir;
	__u8 pad[3];
};

struct wtc_frag_val {
	__u64 t_ns;		/* the first fragment's tick time */
	__u16 sport, dport;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wtc_frag_key);
	__type(value, struct wtc_frag_val);
} frags SEC(".maps");

/* How long a first fragment's ports serve its later ones: Linux's
 * reassembly time (net.ipv4.ipfrag_time), the meter's FRAG_TIMEOUT. */
#define FRAG_NS		(30 * 1000000000ull)

#define VLAN_HLEN	4
#define MPLS_HLEN	4
#define IPV4_HLEN	20
#define IPV6_HLEN	40
#define EXT_MIN		8	/* every IPv6 extension header is at least this long */
#define TCP_HLEN	20
#define UDP_HLEN	8
#define SCTP_HLEN	12
#define ICMP_HLEN	4

/* Loop bounds: pkt.h's (PKT_VLAN_MAX_DEPTH, PKT_MPLS_MAX_DEPTH,
 * PKT_IPV6_MAX_EXT); tests/unit/test_bpf_diff.c checks they agree. */
#define VLAN_MAX	4
#define MPLS_MAX	8
#define EXT_MAX		8

#define E_EXIST		17	/* EEXIST */

#define F_FIN		(1u << WFLOW_FIN)
#define F_RST		(1u << WFLOW_RST)

/* What the parse found. */
enum { R_METER = 0, R_NOT_IP, R_REFUSED };

/* pstate.frag: the first fragment of a datagram (offset 0, more to come),
 * or a later one. An IPv6 atomic fragment (offset 0, M clear) is neither. */
enum { FRAG_FIRST = 1, FRAG_LATER };

struct pstate {
	__u32 len;		/* skb->len: the frame's bytes */
	__u32 off;		/* the cursor */
	__u32 end;		/* the end of the readable bytes: the frame's,
				 * then the IP datagram's */
	__u32 l3;		/* the IP header's offset */
	__u32 ip_len;		/* pkt_info.ip_len */
	__u32 hdr_end;		/* the end of the last header parsed, the TCP
				 * options included: what a segment repeats */
	__u16 tcp_flags;	/* a complete TCP header's 9 flag bits, else 0 */
	__u8 ttl, tos;
	__u8 frag;		/* FRAG_FIRST, FRAG_LATER, or 0: not a fragment */
	__u32 frag_id;		/* the datagram's IP id / fragment id */
	/* a header's copy when it is not in the linear bytes (at()) */
	__u8 buf[IPV6_HLEN] __attribute__((aligned(8)));
};

/* ---- reading ---- */

/* A pointer to the n bytes at off, whose end the caller has checked
 * against p->end: into the skb's linear bytes when they are there (no
 * copy), else to p->buf, where the helper copies them from the paged data
 * (a GRO packet of a driver that keeps only its Ethernet header linear);
 * NULL if the helper fails. The bound on off is the verifier's (a packet
 * pointer's offset must be small and known). Fields are read with rd16()
 * and rd32() at offsets that are multiples of their size, so that a read
 * from p->buf (8-aligned) is aligned. */
static __always_inline const __u8 *at(struct __sk_buff *skb, struct pstate *p, __u32 off,
				      const __u32 n)
{
	__u8 *d = (void *)(long)skb->data, *e = (void *)(long)skb->data_end;

	if (off < 0x3fff && d + off + n <= e)
		return d + off;
	if (bpf_skb_load_bytes(skb, off, p->buf, n))
		return NULL;
	return p->buf;
}

static __always_inline __u16 rd16(const __u8 *h)
{
	return bpf_ntohs(*(const __u16 *)h);
}

static __always_inline __u32 rd32(const __u8 *h)
{
	return bpf_ntohl(*(const __u32 *)h);
}

/* 4 bytes of an address into the key as they are (network order). */
static __always_inline void cp32(__u8 *to, const __u8 *h)
{
	*(__u32 *)to = *(const __u32 *)h;
}

/* n more bytes from the cursor, before the end. */
static __always_inline int has(const struct pstate *p, __u32 n)
{
	return p->off + n <= p->end;
}

/* ---- link layer ---- */

static __always_inline int is_vlan(__u16 t)
{
	return t == ETH_P_8021Q || t == ETH_P_8021AD || t == ETH_P_QINQ1;
}

/* Ethernet, the VLAN tags, the MPLS stack: the ethertype of IP (0x0800,
 * 0x86dd), with the cursor on its header, or R_NOT_IP/R_REFUSED as a
 * negative number. The tag the NIC or the kernel took off the frame
 * (skb->vlan_tci; on ingress the kernel always does, skb_vlan_untag) is
 * the frame's first: its id is the key's and it counts to the bound. */
static __always_inline int parse_link(struct __sk_buff *skb, struct pstate *p,
				      struct wflow_key *k)
{
	const __u8 *h;
	__u32 ntag = 0;
	__u16 type;

	if (!has(p, ETH_HLEN) || !(h = at(skb, p, 12, 2)))
		return -R_REFUSED;
	type = rd16(h);
	p->off = ETH_HLEN;
	if (type < ETH_P_802_3_MIN)
		return -R_NOT_IP;
	if (skb->vlan_present) {
		k->vlan = skb->vlan_tci & 0x0fff;
		ntag = 1;
	}
	for (int i = 0; i < VLAN_MAX; i++) {
		if (!is_vlan(type))
			break;
		if (ntag == VLAN_MAX || !has(p, VLAN_HLEN) || !(h = at(skb, p, p->off, VLAN_HLEN)))
			return -R_REFUSED;
		if (!ntag)
			k->vlan = rd16(h) & 0x0fff;
		ntag++;
		type = rd16(h + 2);
		p->off += VLAN_HLEN;
		if (type < ETH_P_802_3_MIN)
			return -R_NOT_IP;
	}
	if (is_vlan(type))
		return -R_REFUSED;
	if (type == ETH_P_MPLS_UC || type == ETH_P_MPLS_MC) {
		int bos = 0;

		for (int i = 0; i < MPLS_MAX && !bos; i++) {
			if (!has(p, MPLS_HLEN) || !(h = at(skb, p, p->off, MPLS_HLEN)))
				return -R_REFUSED;
			bos = h[2] & 1;
			p->off += MPLS_HLEN;
		}
		if (!bos || !has(p, 1) || !(h = at(skb, p, p->off, 1)))
			return -R_REFUSED;
		switch (h[0] >> 4) {
		case 4:
			return ETH_P_IP;
		case 6:
			return ETH_P_IPV6;
		}
		return -R_NOT_IP;	/* a pseudowire, say */
	}
	if (type != ETH_P_IP && type != ETH_P_IPV6)
		return -R_NOT_IP;
	return type;
}

/* ---- network layer ---- */

/* RFC 791 section 3.1: the IP protocol whose header is at the cursor, or
 * -1 when nothing more is parsed (a later fragment, options cut short),
 * or -2 refused. The end becomes the datagram's. */
static __always_inline int parse_ipv4(struct __sk_buff *skb, struct pstate *p,
				      struct wflow_key *k)
{
	const __u8 *h;
	__u32 ihl, tot, ff;

	if (!has(p, IPV4_HLEN) || !(h = at(skb, p, p->off, IPV4_HLEN)))
		return -2;
	ihl = (__u32)(h[0] & 0x0f) * 4;
	if (h[0] >> 4 != 4 || ihl < IPV4_HLEN)
		return -2;
	p->l3 = p->off;
	tot = rd16(h + 2);
	if (tot == 0 && p->len - p->l3 >= ihl)
		p->ip_len = p->len - p->l3;	/* segmentation offload */
	else if (tot < ihl)
		return -2;
	else
		p->ip_len = tot;
	p->tos = h[1];
	p->ttl = h[8];
	k->proto = h[9];
	k->ipver = 4;
	cp32(k->src, h + 12);
	cp32(k->dst, h + 16);
	if (p->end > p->l3 + p->ip_len)
		p->end = p->l3 + p->ip_len;
	p->off = p->l3 + IPV4_HLEN;
	p->hdr_end = p->off;
	if (!has(p, ihl - IPV4_HLEN))
		return -1;
	p->off += ihl - IPV4_HLEN;
	p->hdr_end = p->off;
	ff = rd16(h + 6);
	if (ff & 0x3fff) {	/* MF or an offset */
		p->frag_id = rd16(h + 4);
		p->frag = ff & 0x1fff ? FRAG_LATER : FRAG_FIRST;
		if (p->frag == FRAG_LATER)
			return -1;	/* only the first fragment has the ports */
	}
	return k->proto;
}

/* RFC 2675 section 2: the Jumbo Payload option's length among the n bytes
 * of hop-by-hop options at off, or 0. A function of its own (verified
 * once): its loop is long, a byte per Pad1. */
__noinline int wtc_jumbo(struct __sk_buff *skb, __u32 off, __u32 n)
{
	__u8 b[4] __attribute__((aligned(4)));
	__u32 pos = 0;

	if (n > 2046)
		return 0;
	for (int i = 0; i < 2046; i++) {
		__u32 step;

		if (pos + 2 > n || bpf_skb_load_bytes(skb, off + pos, b, 2))
			return 0;
		step = b[0] ? 2 + (__u32)b[1] : 1;	/* Pad1 has no length */
		if (b[0] == 0xc2 && b[1] == 4 && pos + 6 <= n) {
			if (bpf_skb_load_bytes(skb, off + pos + 2, b, 4))
				return 0;
			return (int)rd32(b);
		}
		if (pos + step > n)
			return 0;
		pos += step;
	}
	return 0;
}

/* The length of an IPv6 datagram whose payload length field is 0 (nh the
 * first next header): a jumbogram's, else the frame's (segmentation
 * offload); 0 when a jumbo length is impossible. pkt.c's ipv6_len_zero. */
static __always_inline __u32 ipv6_len_zero(struct __sk_buff *skb, struct pstate *p, __u8 nh)
{
	__u32 left = p->end - p->off, frame = p->len - p->l3, hbh = 0, jumbo = 0;
	const __u8 *h;

	if (nh == IPPROTO_HOPOPTS && left >= 2 && (h = at(skb, p, p->off, 2)))
		hbh = ((__u32)h[1] + 1) * 8;
	if (hbh && left >= hbh)
		jumbo = (__u32)wtc_jumbo(skb, p->off + 2, hbh - 2);
	if (jumbo) {
		if (jumbo <= 65535 || jumbo > frame - IPV6_HLEN)
			return 0;
		return jumbo + IPV6_HLEN;
	}
	return frame;
}

static __always_inline int is_ipv6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_AH || nh == IPPROTO_DSTOPTS;
}

/* RFC 8200 sections 3 and 4: the upper-layer protocol, with the cursor on
 * its header, or -1 (nothing more parsed: a later fragment, a header cut
 * short) or -2 (refused: no IPv6, an impossible length, more extension
 * headers than the bound). Every extension header is at least 8 bytes, so
 * fewer left is cut whatever its kind. */
static __always_inline int parse_ipv6(struct __sk_buff *skb, struct pstate *p,
				      struct wflow_key *k)
{
	const __u8 *h;
	__u32 w, plen;
	__u8 nh;

	if (!has(p, IPV6_HLEN) || !(h = at(skb, p, p->off, IPV6_HLEN)))
		return -2;
	w = rd32(h);
	if (w >> 28 != 6)
		return -2;
	p->l3 = p->off;
	p->tos = (w >> 20) & 0xff;
	plen = rd16(h + 4);
	nh = h[6];
	p->ttl = h[7];
	k->ipver = 6;
	for (int i = 0; i < 16; i += 4) {
		cp32(k->src + i, h + 8 + i);
		cp32(k->dst + i, h + 24 + i);
	}
	p->off = p->l3 + IPV6_HLEN;
	if (plen) {
		p->ip_len = plen + IPV6_HLEN;
		if (p->end > p->off + plen)
			p->end = p->off + plen;
	} else {
		p->ip_len = ipv6_len_zero(skb, p, nh);
		if (!p->ip_len)
			return -2;
	}
	p->hdr_end = p->off;
	for (int i = 0; i <= EXT_MAX; i++) {
		__u32 hlen;

		k->proto = nh;
		if (!is_ipv6_ext(nh))
			return nh;
		if (i == EXT_MAX || !has(p, EXT_MIN) || !(h = at(skb, p, p->off, EXT_MIN)))
			return i == EXT_MAX ? -2 : -1;
		if (nh == IPPROTO_FRAGMENT) {
			p->frag_id = rd32(h + 4);
			if (rd16(h + 2) >> 3) {
				k->proto = h[0];	/* a later fragment */
				p->frag = FRAG_LATER;
				p->hdr_end = p->off + EXT_MIN;
				return -1;
			}
			if (h[3] & 1)
				p->frag = FRAG_FIRST;
			hlen = EXT_MIN;
		} else if (nh == IPPROTO_AH) {
			hlen = ((__u32)h[1] + 2) * 4;
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		if (!has(p, hlen))
			return -1;
		p->off += hlen;
		p->hdr_end = p->off;
	}
	return -2;	/* not reached: the loop returns at i == EXT_MAX */
}

/* ---- transport layer ---- */

/* The ports (ICMP: type * 256 + code as the destination port), TCP's
 * flags, and the end of the header for GSO. A header cut short: nothing. */
static __always_inline void parse_l4(struct __sk_buff *skb, struct pstate *p,
				     struct wflow_key *k, int proto)
{
	const __u8 *h;

	switch (proto) {
	case IPPROTO_TCP:
		if (!has(p, TCP_HLEN) || !(h = at(skb, p, p->off, TCP_HLEN)))
			return;
		k->src_port = rd16(h);
		k->dst_port = rd16(h + 2);
		p->tcp_flags = rd16(h + 12) & 0x01ff;
		p->hdr_end = p->off + ((h[12] >> 4) > 5 ? (__u32)(h[12] >> 4) * 4 : TCP_HLEN);
		return;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (!has(p, proto == IPPROTO_UDP ? UDP_HLEN : SCTP_HLEN) ||
		    !(h = at(skb, p, p->off, 4)))
			return;
		k->src_port = rd16(h);
		k->dst_port = rd16(h + 2);
		p->hdr_end = p->off + (proto == IPPROTO_UDP ? UDP_HLEN : SCTP_HLEN);
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (!has(p, ICMP_HLEN) || !(h = at(skb, p, p->off, 2)))
			return;
		k->dst_port = rd16(h);
		p->hdr_end = p->off + ICMP_HLEN;
		return;
	}
}

/* The whole parse: R_METER with the key's addresses, ports, VLAN,
 * protocol and version and p's counts filled, or why not. */
static __always_inline int parse(struct __sk_buff *skb, struct pstate *p, struct wflow_key *k)
{
	int r = parse_link(skb, p, k);

	if (r < 0)
		return -r;
	r = r == ETH_P_IP ? parse_ipv4(skb, p, k) : parse_ipv6(skb, p, k);
	if (r == -2)
		return R_REFUSED;
	if (r >= 0)
		parse_l4(skb, p, k, r);
	return R_METER;
}

/* ---- counting ---- */

static __always_inline void st_add(__u32 i, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &i);

	if (c)
		*c += n;
}

/* TCP flag counts of segs segments. A GSO packet's segments all carry its
 * ACK, URG and ECE; FIN and PSH only the last (tcp_gso_segment; GRO merges
 * the same way), CWR only the first; SYN and RST never come in GSO. */
static __always_inline void flags_add(struct wflow_val *v, __u16 f, __u32 segs)
{
	if (f & (1u << WFLOW_FIN))
		v->flag_cnt[WFLOW_FIN]++;
	if (f & (1u << WFLOW_SYN))
		v->flag_cnt[WFLOW_SYN]++;
	if (f & (1u << WFLOW_RST))
		v->flag_cnt[WFLOW_RST]++;
	if (f & (1u << WFLOW_PSH))
		v->flag_cnt[WFLOW_PSH]++;
	if (f & (1u << WFLOW_ACK))
		v->flag_cnt[WFLOW_ACK] += segs;
	if (f & (1u << WFLOW_URG))
		v->flag_cnt[WFLOW_URG] += segs;
	if (f & (1u << WFLOW_ECE))
		v->flag_cnt[WFLOW_ECE] += segs;
	if (f & (1u << WFLOW_CWR))
		v->flag_cnt[WFLOW_CWR]++;
}

/* Times. bpf_ktime_get_ns() costs about as much as the rest of the
 * program (24 ns of 73 on the project's machine, bench/bpf), so it is read
 * only for a value's first packet and for an event; a later packet of the
 * value takes bpf_ktime_get_coarse_ns(), CLOCK_MONOTONIC as of the last
 * tick (1/CONFIG_HZ: 4 ms at 250 Hz, never ahead of the exact clock). So
 * first_ns is exact and last_ns the later of first_ns and the last
 * packet's tick: at most one tick early. */

/* A value's first packet (segs segments, oct IP bytes) at the exact time
 * t. A per-CPU value of an entry another CPU made starts at zero, so this
 * is also the first packet of a CPU. */
static __always_inline void val_first(struct wflow_val *v, const struct pstate *p, __u64 t,
				      __u32 segs, __u64 oct)
{
	v->first_ns = v->last_ns = t;
	v->min_ttl = v->max_ttl = p->ttl;
	v->tos = p->tos;
	v->packets = segs;
	v->octets = oct;
	v->tcp_flags = p->tcp_flags;
	if (p->tcp_flags)
		flags_add(v, p->tcp_flags, segs);
}

/* A later packet, at tick time tc: meter_val_add's rules (exporter/
 * meter_int.h) but for first_ns and tos, which a tick time, behind the
 * exact clock, must not move. */
static __always_inline void val_more(struct wflow_val *v, const struct pstate *p, __u64 tc,
				     __u32 segs, __u64 oct)
{
	if (tc > v->last_ns)
		v->last_ns = tc;
	if (p->ttl < v->min_ttl)
		v->min_ttl = p->ttl;
	if (p->ttl > v->max_ttl)
		v->max_ttl = p->ttl;
	v->packets += segs;
	v->octets += oct;
	if (p->tcp_flags) {
		v->tcp_flags |= p->tcp_flags;
		flags_add(v, p->tcp_flags, segs);
	}
}

#ifndef WTC_SPIN_LOCK
/* The packet into the entry of k, if there is one: its FIN and RST flags
 * before (read only for a packet with FIN or RST: count() needs no more),
 * or -1 when there is none. */
static __always_inline int add(const struct wflow_key *k, const struct pstate *p, __u32 segs,
			       __u64 oct)
{
	struct wflow_val *v = bpf_map_lookup_elem(&flows, k);
	__u16 old = 0;

	if (!v)
		return -1;
	if (p->tcp_flags & (F_FIN | F_RST))
		old = v->tcp_flags;
	if (v->packets)
		val_more(v, p, bpf_ktime_get_coarse_ns(), segs, oct);
	else
		val_first(v, p, bpf_ktime_get_ns(), segs, oct);
	return old;
}

static __always_inline int create(const struct wflow_key *k, const struct wflow_val *v)
{
	return bpf_map_update_elem(&flows, k, v, BPF_NOEXIST);
}
#else
/* The same under the entry's lock (no helper may be called inside: the
 * tick time is read before; a value always has packets, its creator put
 * the first). */
static __always_inline int add(const struct wflow_key *k, const struct pstate *p, __u32 segs,
			       __u64 oct)
{
	struct wtc_lval *l = bpf_map_lookup_elem(&flows, k);
	__u64 tc = bpf_ktime_get_coarse_ns();
	__u16 old;

	if (!l)
		return -1;
	bpf_spin_lock(&l->lock);
	old = l->v.tcp_flags;
	val_more(&l->v, p, tc, segs, oct);
	bpf_spin_unlock(&l->lock);
	return old;
}

static __always_inline int create(const struct wflow_key *k, const struct wflow_val *v)
{
	struct wtc_lval l = { .v = *v };

	return bpf_map_update_elem(&flows, k, &l, BPF_NOEXIST);
}
#endif

/* A packet the full map could not take, to user space whole. */
static __always_inline void to_spill(const struct wflow_key *k, const struct wflow_val *v,
				     __u32 segs)
{
	struct wtc_spill *s = bpf_ringbuf_reserve(&spill, sizeof(*s), 0);

	if (!s) {
		st_add(WTC_ST_SPILL_LOST, segs);
		return;
	}
	__builtin_memcpy(&s->key, k, sizeof(*k));
	__builtin_memcpy(&s->val, v, sizeof(*v));
	bpf_ringbuf_submit(s, 0);
	st_add(WTC_ST_SPILLED, segs);
}

static __always_inline void to_events(const struct wflow_key *k, __u64 t, __u16 flags)
{
	struct wtc_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		st_add(WTC_ST_EVENTS_LOST, 1);
		return;
	}
	__builtin_memcpy(&e->key, k, sizeof(*k));
	e->t_ns = t;
	e->tcp_flags = flags;
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	bpf_ringbuf_submit(e, 0);
}

/* Count the packet into its flow: the entry found, or a new one; the map
 * full, the spill ring. A direction's first FIN or RST goes to `events`. */
static __always_inline void count(const struct wflow_key *k, const struct pstate *p, __u32 segs,
				  __u64 oct)
{
	int old = add(k, p, segs, oct);

	if (old < 0) {
		struct wflow_val nv = {};
		int err;

		val_first(&nv, p, bpf_ktime_get_ns(), segs, oct);
		err = create(k, &nv);
		if (err == -E_EXIST)		/* another CPU made it just now */
			old = add(k, p, segs, oct);
		else if (!err)
			old = 0;
		if (old < 0) {
			to_spill(k, &nv, segs);
			return;
		}
	}
	if ((p->tcp_flags & (F_FIN | F_RST)) && !(old & (F_FIN | F_RST)))
		to_events(k, bpf_ktime_get_ns(), p->tcp_flags);
}

/* The exporter's own export: the configured 5-tuple, either way. An
 * all-zero address or a port 0 in the settings matches any. */
static __always_inline int addr_is(const __u8 *a, const volatile __u8 *want)
{
	__u64 w0 = 0, w1 = 0, a0, a1;

	for (int i = 0; i < 8; i++) {
		w0 |= (__u64)want[i] << (8 * i);
		w1 |= (__u64)want[8 + i] << (8 * i);
	}
	if (!(w0 | w1))
		return 1;
	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	return a0 == w0 && a1 == w1;
}

static __always_inline int port_is(__u16 p, __u16 want)
{
	return !want || p == want;
}

static __always_inline int own_export(const struct wflow_key *k)
{
	if (!cfg.own_ipver || k->ipver != cfg.own_ipver || k->proto != cfg.own_proto)
		return 0;
	if (addr_is(k->src, cfg.own_src) && addr_is(k->dst, cfg.own_dst) &&
	    port_is(k->src_port, cfg.own_sport) && port_is(k->dst_port, cfg.own_dport))
		return 1;
	return addr_is(k->dst, cfg.own_src) && addr_is(k->src, cfg.own_dst) &&
	       port_is(k->dst_port, cfg.own_sport) && port_is(k->src_port, cfg.own_dport);
}

/* Systematic count-based sampling (RFC 5475 section 6.1), per CPU: the
 * first of every cfg.sampling packets. 1: meter this one. */
static __always_inline int sampled(void)
{
	__u32 zero = 0, *skip;

	if (cfg.sampling <= 1)
		return 1;
	skip = bpf_map_lookup_elem(&samp, &zero);
	if (!skip)
		return 1;
	if (*skip) {
		(*skip)--;
		return 0;
	}
	*skip = cfg.sampling - 1;
	return 1;
}

/* The segments a packet stands for: 1 unless it is a GSO packet (gso_size
 * set); then gso_segs, or, when that is 0 (a virtio or tap guest's packet,
 * SKB_GSO_DODGY, counts its segments only later), its payload over
 * gso_size, rounded up. */
static __always_inline __u32 segments(struct __sk_buff *skb, const struct pstate *p)
{
	__u32 size = skb->gso_size, segs, hdr;

	if (!size)
		return 1;
	segs = skb->gso_segs;
	hdr = p->hdr_end - p->l3;
	if (!segs && p->ip_len > hdr)
		segs = (p->ip_len - hdr + size - 1) / size;
	return segs ? segs : 1;
}

/* A first fragment leaves its ports for its datagram's later ones; a
 * later one takes them (if its first came, not FRAG_NS ago). A later
 * fragment before its first keeps ports 0: the kernel holds no packet
 * back, unlike the meter offline. */
static __always_inline void frag_join(struct wflow_key *k, const struct pstate *p)
{
	struct wtc_frag_key fk;
	struct wtc_frag_val *v, nv;
	__u64 now = bpf_ktime_get_coarse_ns();

	__builtin_memset(&fk, 0, sizeof(fk));
	__builtin_memcpy(fk.src, k->src, 32);
	fk.id = p->frag_id;
	fk.ifindex = k->ifindex;
	fk.vlan = k->vlan;
	fk.proto = k->proto;
	fk.ipver = k->ipver;
	fk.dir = k->dir;
	if (p->frag == FRAG_FIRST) {
		nv.t_ns = now;
		nv.sport = k->src_port;
		nv.dport = k->dst_port;
		nv.pad = 0;
		bpf_map_update_elem(&frags, &fk, &nv, BPF_ANY);
		return;
	}
	v = bpf_map_lookup_elem(&frags, &fk);
	if (v && now - v->t_ns < FRAG_NS) {
		k->src_port = v->sport;
		k->dst_port = v->dport;
	}
}

static __always_inline int meter(struct __sk_buff *skb, __u8 dir)
{
	struct wflow_key k = {};
	struct pstate p;	/* buf is written before it is read: not zeroed */
	__u32 segs;
	__u64 oct;
	int r;

	p.len = p.end = skb->len;
	p.off = p.l3 = p.ip_len = p.hdr_end = 0;
	p.tcp_flags = 0;
	p.ttl = p.tos = p.frag = 0;
	p.frag_id = 0;
	r = parse(skb, &p, &k);
	if (r != R_METER) {
		segs = skb->gso_size && skb->gso_segs ? skb->gso_segs : 1;
		st_add(WTC_ST_PACKETS, segs);
		st_add(r == R_NOT_IP ? WTC_ST_NOT_IP : WTC_ST_MALFORMED, segs);
		return TC_ACT_UNSPEC;
	}
	/* Each segment after the first repeats the IP and transport headers. */
	segs = segments(skb, &p);
	oct = p.ip_len + (__u64)(segs - 1) * (p.hdr_end - p.l3);
	st_add(WTC_ST_PACKETS, segs);
	st_add(WTC_ST_BYTES, oct);
	if (own_export(&k)) {
		st_add(WTC_ST_OWN_EXPORT, segs);
		return TC_ACT_UNSPEC;
	}
	if (!sampled()) {
		st_add(WTC_ST_SAMPLED_OUT, segs);
		return TC_ACT_UNSPEC;
	}
	k.ifindex = skb->ifindex;
	k.dir = dir;
	if (p.frag)
		frag_join(&k, &p);
	k.pad[0] = wtc_gen;
	count(&k, &p, segs, oct);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int weir_ingress(struct __sk_buff *skb)
{
	return meter(skb, WFLOW_DIR_INGRESS);
}

SEC("tc")
int weir_egress(struct __sk_buff *skb)
{
	return meter(skb, WFLOW_DIR_EGRESS);
}
