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

#define F_FIN		(1u << WFLOW_FIN)
#define F_RST		(1u << WFLOW_RST)

/* What the parse found. */
enum { R_METER = 0, R_NOT_IP, R_REFUSED };

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
};

/* ---- reading ---- */

/* n bytes at off into to, from the linear bytes in place or else through
 * the helper (which reads paged data too). 0, or < 0 past the frame. The
 * caller has checked off + n against p->end; the bound on off here is the
 * verifier's (a packet pointer's offset must be small and known). */
static __always_inline int ld(struct __sk_buff *skb, __u32 off, void *to, const __u32 n)
{
	void *d = (void *)(long)skb->data, *e = (void *)(long)skb->data_end;

	if (off < 0x3fff && d + off + n <= e) {
		__builtin_memcpy(to, d + off, n);
		return 0;
	}
	return bpf_skb_load_bytes(skb, off, to, n);
}

static __always_inline __u16 be16(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static __always_inline __u32 be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
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
	__u8 b[4];
	__u32 ntag = 0;
	__u16 type;

	if (!has(p, ETH_HLEN) || ld(skb, 12, b, 2))
		return -R_REFUSED;
	type = be16(b);
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
		if (ntag == VLAN_MAX || !has(p, VLAN_HLEN) || ld(skb, p->off, b, 4))
			return -R_REFUSED;
		if (!ntag)
			k->vlan = be16(b) & 0x0fff;
		ntag++;
		type = be16(b + 2);
		p->off += VLAN_HLEN;
		if (type < ETH_P_802_3_MIN)
			return -R_NOT_IP;
	}
	if (is_vlan(type))
		return -R_REFUSED;
	if (type == ETH_P_MPLS_UC || type == ETH_P_MPLS_MC) {
		int bos = 0;

		for (int i = 0; i < MPLS_MAX && !bos; i++) {
			if (!has(p, MPLS_HLEN) || ld(skb, p->off, b, 4))
				return -R_REFUSED;
			bos = b[2] & 1;
			p->off += MPLS_HLEN;
		}
		if (!bos || !has(p, 1) || ld(skb, p->off, b, 1))
			return -R_REFUSED;
		switch (b[0] >> 4) {
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
	__u8 b[IPV4_HLEN];
	__u32 ihl, tot;

	if (!has(p, IPV4_HLEN) || ld(skb, p->off, b, IPV4_HLEN))
		return -2;
	ihl = (__u32)(b[0] & 0x0f) * 4;
	if (b[0] >> 4 != 4 || ihl < IPV4_HLEN)
		return -2;
	p->l3 = p->off;
	tot = be16(b + 2);
	if (tot == 0 && p->len - p->l3 >= ihl)
		p->ip_len = p->len - p->l3;	/* segmentation offload */
	else if (tot < ihl)
		return -2;
	else
		p->ip_len = tot;
	p->tos = b[1];
	p->ttl = b[8];
	k->proto = b[9];
	k->ipver = 4;
	__builtin_memcpy(k->src, b + 12, 4);
	__builtin_memcpy(k->dst, b + 16, 4);
	if (p->end > p->l3 + p->ip_len)
		p->end = p->l3 + p->ip_len;
	p->off = p->l3 + IPV4_HLEN;
	p->hdr_end = p->off;
	if (!has(p, ihl - IPV4_HLEN))
		return -1;
	p->off += ihl - IPV4_HLEN;
	p->hdr_end = p->off;
	if (be16(b + 6) & 0x1fff)
		return -1;	/* only the first fragment has the ports */
	return k->proto;
}

/* RFC 2675 section 2: the Jumbo Payload option's length among the n bytes
 * of hop-by-hop options at off, or 0. A function of its own (verified
 * once): its loop is long, a byte per Pad1. */
__noinline int wtc_jumbo(struct __sk_buff *skb, __u32 off, __u32 n)
{
	__u32 pos = 0;
	__u8 b[4];

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
			return (int)be32(b);
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
	__u8 b[2];

	if (nh == IPPROTO_HOPOPTS && left >= 2 && !ld(skb, p->off, b, 2))
		hbh = ((__u32)b[1] + 1) * 8;
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
	__u8 b[8];
	__u32 w, plen;
	__u8 nh;

	if (!has(p, IPV6_HLEN) || ld(skb, p->off, b, 8) || ld(skb, p->off + 8, k->src, 32))
		return -2;
	w = be32(b);
	if (w >> 28 != 6)
		return -2;
	p->l3 = p->off;
	p->tos = (w >> 20) & 0xff;
	plen = be16(b + 4);
	nh = b[6];
	p->ttl = b[7];
	k->ipver = 6;
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
		if (i == EXT_MAX || !has(p, EXT_MIN) || ld(skb, p->off, b, 8))
			return i == EXT_MAX ? -2 : -1;
		if (nh == IPPROTO_FRAGMENT) {
			if (be16(b + 2) >> 3) {
				k->proto = b[0];	/* a later fragment */
				p->hdr_end = p->off + EXT_MIN;
				return -1;
			}
			hlen = EXT_MIN;
		} else if (nh == IPPROTO_AH) {
			hlen = ((__u32)b[1] + 2) * 4;
		} else {
			hlen = ((__u32)b[1] + 1) * 8;
		}
		if (!has(p, hlen))
			return -1;
		p->off += hlen;
		p->hdr_end = p->off;
		nh = b[0];
	}
	return -2;	/* not reached: the loop returns at i == EXT_MAX */
}

/* ---- transport layer ---- */

/* The ports (ICMP: type * 256 + code as the destination port), TCP's
 * flags, and the end of the header for GSO. A header cut short: nothing. */
static __always_inline void parse_l4(struct __sk_buff *skb, struct pstate *p,
				     struct wflow_key *k, int proto)
{
	__u8 b[TCP_HLEN - 6];

	switch (proto) {
	case IPPROTO_TCP:
		if (!has(p, TCP_HLEN) || ld(skb, p->off, b, TCP_HLEN - 6))
			return;
		k->src_port = be16(b);
		k->dst_port = be16(b + 2);
		p->tcp_flags = be16(b + 12) & 0x01ff;
		p->hdr_end = p->off + ((b[12] >> 4) > 5 ? (__u32)(b[12] >> 4) * 4 : TCP_HLEN);
		return;
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (!has(p, proto == IPPROTO_UDP ? UDP_HLEN : SCTP_HLEN) || ld(skb, p->off, b, 4))
			return;
		k->src_port = be16(b);
		k->dst_port = be16(b + 2);
		p->hdr_end = p->off + (proto == IPPROTO_UDP ? UDP_HLEN : SCTP_HLEN);
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (!has(p, ICMP_HLEN) || ld(skb, p->off, b, 2))
			return;
		k->dst_port = be16(b);
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

/* One packet (segs segments, oct IP bytes) into a direction's value, by
 * the rules of meter_val_add (exporter/meter_int.h). A per-CPU value of an
 * entry another CPU made starts at zero: packets 0 is its first. */
static __always_inline void val_add(struct wflow_val *v, const struct pstate *p, __u64 t,
				    __u32 segs, __u64 oct)
{
	if (!v->packets) {
		v->first_ns = v->last_ns = t;
		v->min_ttl = v->max_ttl = p->ttl;
		v->tos = p->tos;
	} else {
		if (t < v->first_ns) {
			v->first_ns = t;
			v->tos = p->tos;
		}
		if (t > v->last_ns)
			v->last_ns = t;
		if (p->ttl < v->min_ttl)
			v->min_ttl = p->ttl;
		if (p->ttl > v->max_ttl)
			v->max_ttl = p->ttl;
	}
	v->packets += segs;
	v->octets += oct;
	if (p->tcp_flags) {
		v->tcp_flags |= p->tcp_flags;
		flags_add(v, p->tcp_flags, segs);
	}
}

/* The entry of k, or NULL; its value with the lock held (the spin-lock
 * variant), and its flags before this packet in *old. */
static __always_inline struct wflow_val *find(const struct wflow_key *k, void **lk)
{
#ifndef WTC_SPIN_LOCK
	*lk = NULL;
	return bpf_map_lookup_elem(&flows, k);
#else
	struct wtc_lval *l = bpf_map_lookup_elem(&flows, k);

	*lk = l;
	return l ? &l->v : NULL;
#endif
}

static __always_inline int create(const struct wflow_key *k, const struct wflow_val *v)
{
#ifndef WTC_SPIN_LOCK
	return bpf_map_update_elem(&flows, k, v, BPF_NOEXIST);
#else
	struct wtc_lval l = { .v = *v };

	return bpf_map_update_elem(&flows, k, &l, BPF_NOEXIST);
#endif
}

/* Add into an entry found: under its lock in the spin-lock variant. The
 * flags it had before. */
static __always_inline __u16 add(struct wflow_val *v, void *lk, const struct pstate *p,
				 __u64 t, __u32 segs, __u64 oct)
{
	__u16 old;

#ifdef WTC_SPIN_LOCK
	struct wtc_lval *l = lk;

	(void)v;
	bpf_spin_lock(&l->lock);
	old = l->v.tcp_flags;
	val_add(&l->v, p, t, segs, oct);
	bpf_spin_unlock(&l->lock);
#else
	(void)lk;
	old = v->tcp_flags;
	val_add(v, p, t, segs, oct);
#endif
	return old;
}

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
	__u64 t = bpf_ktime_get_ns();
	struct wflow_val *v;
	__u16 old = 0;
	void *lk;

	v = find(k, &lk);
	if (v) {
		old = add(v, lk, p, t, segs, oct);
	} else {
		struct wflow_val nv = {};
		int err;

		val_add(&nv, p, t, segs, oct);
		err = create(k, &nv);
		if (err == -17) {		/* EEXIST: another CPU made it */
			v = find(k, &lk);
			if (v)
				old = add(v, lk, p, t, segs, oct);
		}
		if (!v && err) {
			to_spill(k, &nv, segs);
			return;
		}
	}
	if ((p->tcp_flags & (F_FIN | F_RST)) && !(old & (F_FIN | F_RST)))
		to_events(k, t, p->tcp_flags);
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

/* The segments a packet stands for: gso_segs; a GSO packet that does not
 * say (a virtio or tap guest's, SKB_GSO_DODGY) from its payload and
 * gso_size; at least 1. */
static __always_inline __u32 segments(struct __sk_buff *skb, const struct pstate *p)
{
	__u32 segs = skb->gso_segs, size = skb->gso_size, hdr = p->hdr_end - p->l3;

	if (!segs && size && p->ip_len > hdr)
		segs = (p->ip_len - hdr + size - 1) / size;
	return segs ? segs : 1;
}

static __always_inline int meter(struct __sk_buff *skb, __u8 dir)
{
	struct wflow_key k = {};
	struct pstate p = {};
	__u32 segs;
	__u64 oct;
	int r;

	p.len = p.end = skb->len;
	r = parse(skb, &p, &k);
	if (r != R_METER) {
		segs = skb->gso_segs ? skb->gso_segs : 1;
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
