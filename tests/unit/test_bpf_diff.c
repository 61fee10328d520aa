/* test_bpf_diff.c - weir's tc programs against the user-space path, packet
 * by packet: every frame goes through BPF_PROG_TEST_RUN (weir_ingress and
 * weir_egress, and, when its first tag is 802.1Q or 802.1ad, once more
 * with that tag taken off into skb->vlan_tci) and through pkt_parse + the
 * flow meter (exporter/meter.c), on the same bytes; the kernel's `flows`
 * is read back after each run and must hold the meter's record: the same
 * key and the same packets, octets, flags, flag counts, TTLs and TOS; a
 * frame the meter does not meter must be counted by the kernel as not IP
 * or refused the way the meter counts it. Both sides forget each frame
 * before the next (the meter is flushed, the kernel's maps emptied), so
 * later fragments are compared unjoined; test_bpf_map checks the joins. GSO frames run with gso_segs and
 * gso_size in the context; the user side parses their segments, built
 * one by one.
 *
 * The frames: crafted ones covering every layer and cut of pkt.c, and
 * every frame of the Ethernet captures of $WEIR_SHARED/testdata/
 * tcpdump-pcaps. BPF_PROG_TEST_RUN refuses some frames (EINVAL): under 14
 * bytes, over a page less the skb's head and tail room (3712 bytes on
 * x86-64), and an IPv4 or IPv6 ethertype without the whole fixed IP header
 * after it (Linux 6.x: its skb would be read as IP). Those are counted as
 * excluded, by reason; the same cuts under a VLAN tag, which it takes,
 * are in the crafted set.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "meter.h"
#include "pkt.h"
#include "unit/bpfhelp.h"
#include "unit/pkthelp.h"
#include "wpcap.h"

#define FMAX	2048
#define SEGMAX	8
#define IFX_LO	1	/* BPF_PROG_TEST_RUN's skb is the loopback device's */

/* The parse's bounds are pkt.h's. */
_Static_assert(PKT_VLAN_MAX_DEPTH == 4 && PKT_MPLS_MAX_DEPTH == 8 && PKT_IPV6_MAX_EXT == 8,
	       "bpf/weir_tc.bpf.c VLAN_MAX, MPLS_MAX, EXT_MAX follow pkt.h");

/* What one side says of a frame. */
enum { K_METER, K_NOT_IP, K_REFUSED };

struct side {
	int kind;
	struct wflow_key key;
	struct wflow_val val;
};

/* Why a frame is not run (BPF_PROG_TEST_RUN's limits). */
enum { X_SHORT, X_IP_CUT, X_LONG, X_NREASONS };

#define TR_MIN	14
#define TR_MAX	3712

static const char *const x_names[X_NREASONS] = {
	"under 14 bytes", "an IP ethertype without the whole IP header", "over 3712 bytes",
};

struct counts {
	unsigned long frames, runs, offloaded, metered, not_ip, refused, gso;
	unsigned long excluded[X_NREASONS];
};

/* The reason BPF_PROG_TEST_RUN refuses f, or -1. */
static int excluded(const uint8_t *f, size_t len)
{
	uint16_t type;

	if (len < TR_MIN)
		return X_SHORT;
	if (len > TR_MAX)
		return X_LONG;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if ((type == 0x0800 && len < 14 + 20) || (type == 0x86dd && len < 14 + 40))
		return X_IP_CUT;
	return -1;
}

static struct {
	struct weir_tc_bpf *s;
	struct tc_aux_bpf *aux;
	struct meter *m;
	int prog[2];
	int nrec;
	struct meter_rec rec;
	struct counts c;
} D;

static void on_rec(void *arg, const struct meter_rec *r)
{
	(void)arg;
	D.nrec++;
	D.rec = *r;
}

static void setup(void)
{
	struct meter_cfg mc = { .max_flows = 64 };

	bh_require("bpf_diff");
	D.s = bh_load(NULL, 0, 0, 0);
	D.prog[0] = bpf_program__fd(D.s->progs.weir_ingress);
	D.prog[1] = bpf_program__fd(D.s->progs.weir_egress);
	D.aux = bh_aux(D.prog[0]);
	D.m = meter_new(&mc, on_rec, NULL);
	cr_assert(D.m);
	memset(&D.c, 0, sizeof(D.c));
}

static void teardown(void)
{
	meter_free(D.m);
	tc_aux_bpf__destroy(D.aux);
	weir_tc_bpf__destroy(D.s);
	memset(&D, 0, sizeof(D));
}

/* ---- the two sides ---- */

/* The user space's: n frames (a frame, or a GSO frame's segments) parsed
 * and metered in direction dir, then flushed. */
static void user_side(const uint8_t *const *f, const size_t *len, int n, int dir, struct side *u)
{
	struct meter_stats a = *meter_stats(D.m), b;
	struct pkt_info pi;

	memset(u, 0, sizeof(*u));
	D.nrec = 0;
	for (int i = 0; i < n; i++) {
		cr_assert_eq(pkt_parse(&pi, f[i], len[i], PKT_START_ETH), WEIR_OK);
		meter_packet(D.m, &pi, 1000 + (uint64_t)i, IFX_LO, (uint8_t)dir);
	}
	meter_flush(D.m, METER_END_FORCED);
	b = *meter_stats(D.m);
	cr_assert_leq(D.nrec, 1, "one flow, one record");
	if (D.nrec) {
		u->kind = K_METER;
		u->key = D.rec.key;
		u->val = D.rec.fwd;
		cr_assert_eq(D.rec.rev.packets, 0);
	} else if (b.not_ip > a.not_ip) {
		u->kind = K_NOT_IP;
	} else {
		cr_assert_gt(b.truncated + b.malformed, a.truncated + a.malformed);
		u->kind = K_REFUSED;
	}
}

/* The kernel's: the frame through prog with the GSO context; `flows` read
 * back and emptied. */
static int kernel_side(int prog, const uint8_t *f, size_t len, __u32 segs, __u32 size,
		       int nseg, struct side *k)
{
	struct __sk_buff ctx = { .gso_segs = segs, .gso_size = size };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)len);
	__u64 a[WTC_ST_COUNT], b[WTC_ST_COUNT];
	struct wflow_key keys[2];
	struct wflow_val vals[2];
	int n;

	memset(k, 0, sizeof(*k));
	if (segs || size) {
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
	}
	bh_stats(D.s, a);
	cr_assert_eq(bpf_prog_test_run_opts(prog, &o), 0, "test run of %zu bytes: %s", len,
		     strerror(errno));
	cr_assert_eq((int)o.retval, BH_UNSPEC, "the programs never act on a packet");
	D.c.runs++;
	bh_stats(D.s, b);
	n = bh_flows(D.s, keys, vals, 2, 1);
	cr_assert_leq(n, 1);
	/* one packet at a time, as the meter is flushed after each: no later
	 * fragment finds its first one's ports (test_bpf_map checks that) */
	bh_empty(D.s->maps.frags);
	cr_assert_eq(b[WTC_ST_PACKETS] - a[WTC_ST_PACKETS], (__u64)nseg, "stats: packets");
	if (n) {
		k->kind = K_METER;
		k->key = keys[0];
		k->val = vals[0];
		cr_assert_eq(b[WTC_ST_BYTES] - a[WTC_ST_BYTES], k->val.octets);
	} else if (b[WTC_ST_NOT_IP] > a[WTC_ST_NOT_IP]) {
		k->kind = K_NOT_IP;
	} else {
		cr_assert_gt(b[WTC_ST_MALFORMED], a[WTC_ST_MALFORMED], "a frame neither counted nor metered");
		k->kind = K_REFUSED;
	}
	return k->kind;
}

static const char *key_str(const struct wflow_key *k)
{
	static char s[256];
	const uint8_t *a = k->src, *b = k->dst;

	snprintf(s, sizeof(s),
		 "v%u p%u %02x%02x%02x%02x..%02x%02x:%u > %02x%02x%02x%02x..%02x%02x:%u vlan %u if %u dir %u pad %u",
		 k->ipver, k->proto, a[0], a[1], a[2], a[3], a[14], a[15], k->src_port, b[0], b[1], b[2],
		 b[3], b[14], b[15], k->dst_port, k->vlan, k->ifindex, k->dir, k->pad[0]);
	return s;
}

/* The two sides agree, or the test fails naming the frame. */
static void same(const char *what, const struct side *u, const struct side *k)
{
	static const char *kinds[] = { "metered", "not IP", "refused" };
	const struct wflow_val *a = &u->val, *b = &k->val;

	cr_assert_eq(k->kind, u->kind, "%s: kernel %s, user space %s", what, kinds[k->kind],
		     kinds[u->kind]);
	if (u->kind != K_METER)
		return;
	cr_assert(!memcmp(&k->key, &u->key, sizeof(k->key)), "%s: key\n  kernel %s", what,
		  key_str(&k->key));
	cr_assert(!memcmp(&k->key, &u->key, sizeof(k->key)), "%s: key\n  user   %s", what,
		  key_str(&u->key));
	cr_assert_eq(b->packets, a->packets, "%s: packets %llu, user space %llu", what,
		     (unsigned long long)b->packets, (unsigned long long)a->packets);
	cr_assert_eq(b->octets, a->octets, "%s: octets %llu, user space %llu", what,
		     (unsigned long long)b->octets, (unsigned long long)a->octets);
	cr_assert_eq(b->tcp_flags, a->tcp_flags, "%s: flags %#x, user space %#x", what, b->tcp_flags,
		     a->tcp_flags);
	cr_assert_arr_eq(b->flag_cnt, a->flag_cnt, sizeof(a->flag_cnt), "%s: flag counts", what);
	cr_assert_eq(b->min_ttl, a->min_ttl, "%s: min TTL", what);
	cr_assert_eq(b->max_ttl, a->max_ttl, "%s: max TTL", what);
	cr_assert_eq(b->tos, a->tos, "%s: TOS", what);
	cr_assert_leq(b->first_ns, b->last_ns);
}

/* One frame both ways, and with its first tag offloaded when it has one
 * the kernel would take off (802.1Q, 802.1ad). seg/seglen/nseg: the
 * segments of a GSO frame for the user side (nseg 0: the frame itself). */
static void diff_gso(const char *what, const uint8_t *f, size_t len, __u32 segs, __u32 size,
		     const uint8_t *const *seg, const size_t *seglen, int nseg)
{
	static uint8_t strip[TR_MAX];
	const uint8_t *one[1] = { f };
	size_t onelen[1] = { len };
	struct side u, k;
	uint16_t tpid;

	if (!nseg) {
		seg = one;
		seglen = onelen;
		nseg = 1;
	}
	int x = excluded(f, len);

	D.c.frames++;
	if (x >= 0) {
		D.c.excluded[x]++;
		return;
	}
	for (int dir = 0; dir < 2; dir++) {
		user_side(seg, seglen, nseg, dir, &u);
		kernel_side(D.prog[dir], f, len, segs, size, nseg, &k);
		same(what, &u, &k);
	}
	D.c.metered += u.kind == K_METER;
	D.c.not_ip += u.kind == K_NOT_IP;
	D.c.refused += u.kind == K_REFUSED;
	D.c.gso += segs > 1 || size;
	tpid = (uint16_t)(f[12] << 8 | f[13]);
	if ((tpid != 0x8100 && tpid != 0x88a8) || len < 18)
		return;
	/* The tag goes into skb->vlan_tci, the bytes close up over it. */
	memcpy(strip, f, 12);
	memcpy(strip + 12, f + 16, len - 16);
	if (excluded(strip, len - 4) >= 0)
		return;
	D.aux->bss->tag_proto = tpid;
	D.aux->bss->tag_tci = (uint16_t)(f[14] << 8 | f[15]);
	user_side(seg, seglen, nseg, 0, &u);
	kernel_side(bpf_program__fd(D.aux->progs.vlan_in), strip, len - 4, segs, size, nseg, &k);
	cr_assert_eq(D.aux->bss->vlan_in_failed, 0, "vlan_in's push or tail call failed");
	same(what, &u, &k);
	D.c.offloaded++;
}

static void diff(const char *what, const uint8_t *f, size_t len)
{
	diff_gso(what, f, len, 0, 0, NULL, NULL, 0);
}

/* ---- crafted frames ---- */

struct cf {
	struct pktb b;
	uint8_t f[FMAX];
};

static struct pktb *cf_init(struct cf *c)
{
	memset(c->f, 0, sizeof(c->f));
	pktb_init(&c->b, c->f, sizeof(c->f));
	return &c->b;
}

static void cf_diff(const char *what, struct cf *c)
{
	size_t len = pktb_finish(&c->b);

	cr_assert_gt(len, 0, "%s: the frame did not build", what);
	diff(what, c->f, len);
}

/* The same cut to n bytes (lengths as if whole). */
static void cf_diff_cut(const char *what, struct cf *c, size_t n)
{
	size_t len = pktb_finish(&c->b);

	cr_assert_geq(len, n, "%s", what);
	diff(what, c->f, n);
}

static void l2(struct pktb *b, int ntags, uint16_t outer, uint16_t l3)
{
	static const uint16_t ids[] = { 100, 200, 300, 400, 500 };

	if (!ntags) {
		eth(b, l3);
		return;
	}
	eth(b, outer);
	for (int i = 0; i < ntags; i++)
		vlan(b, ids[i], i + 1 < ntags ? 0x8100 : l3);
}

/* Each link layer (0 to 5 tags, 802.1Q or 802.1ad outside) under UDP,
 * TCP and ICMP over IPv4 and IPv6. */
static void crafted_link(void)
{
	static const uint16_t outer[] = { 0x8100, 0x88a8, 0x9100 };
	char what[64];
	struct cf c;

	for (int n = 0; n <= 5; n++)
		for (int o = 0; o < 3; o++)
			for (int l4 = 0; l4 < 6; l4++) {
				struct pktb *b = cf_init(&c);
				int v6 = l4 >= 3;

				snprintf(what, sizeof(what), "%d tags (%#x) l4 %d", n, outer[o], l4);
				l2(b, n, outer[o], v6 ? 0x86dd : 0x0800);
				if (v6)
					ipv6(b, 0x28, 0x12345, 0, l4 == 3 ? 17 : l4 == 4 ? 6 : 58, 61);
				else
					ipv4(b, 0x10, 0, 7, 0x4000, 63, l4 == 0 ? 17 : l4 == 1 ? 6 : 1, 0);
				if (l4 % 3 == 0)
					udp(b, 5353, 53);
				else if (l4 % 3 == 1)
					tcp(b, 40000, 443, 0x18);
				else
					icmp(b, v6 ? 128 : 8, 0);
				pktb_bytes(b, "payload", 7);
				cf_diff(what, &c);
			}
}

static void mpls_frame(struct cf *c, int ntags, int labels, int bos_at, int v6, int nibble0)
{
	struct pktb *b = cf_init(c);

	l2(b, ntags, 0x8100, 0x8847);
	for (int i = 0; i < labels; i++)
		mpls(b, 16 + (uint32_t)i, i == bos_at);
	if (nibble0) {
		wr_u32(&b->w, 0);	/* a pseudowire control word */
		pktb_bytes(b, "ethernet-ish", 12);
	} else if (v6) {
		ipv6(b, 0, 0, 0, 17, 64);
		udp(b, 1, 2);
	} else {
		ipv4(b, 0, 0, 1, 0, 64, 6, 0);
		tcp(b, 3, 4, 0x02);
	}
}

static void crafted_mpls(void)
{
	char what[64];
	struct cf c;

	for (int labels = 1; labels <= 9; labels++)
		for (int v6 = 0; v6 < 2; v6++) {
			snprintf(what, sizeof(what), "MPLS %d labels v6 %d", labels, v6);
			mpls_frame(&c, labels & 1, labels, labels - 1, v6, 0);
			cf_diff(what, &c);
		}
	mpls_frame(&c, 0, 9, 99, 0, 0);
	cf_diff("MPLS without a bottom of stack", &c);
	mpls_frame(&c, 1, 2, 1, 0, 1);
	cf_diff("MPLS pseudowire", &c);
	mpls_frame(&c, 0, 3, 2, 0, 0);
	cf_diff_cut("MPLS cut in the stack", &c, 14 + 6);
	cf_diff_cut("MPLS cut after the stack", &c, 14 + 12);
}

/* IPv4: options, fragments, lengths that lie, IHL and version wrong. */
static void crafted_ipv4(void)
{
	char what[64];
	struct cf c;
	struct pktb *b;

	for (int opt = 0; opt <= 40; opt += 4) {
		snprintf(what, sizeof(what), "IPv4 %d bytes of options", opt);
		b = cf_init(&c);
		eth(b, 0x0800);
		ipv4(b, 0xb8, 0, 9, 0, 5, 17, (size_t)opt);
		udp(b, 123, 123);
		cf_diff(what, &c);
		cf_diff_cut("IPv4 options cut", &c, 14 + 20 + (size_t)opt / 2);
	}
	/* fragments: first (MF, offset 0), middle, last; TCP, UDP, ICMP */
	for (int p = 0; p < 3; p++)
		for (int fr = 0; fr < 3; fr++) {
			static const uint16_t ff[] = { 0x2000, 0x2000 | 185, 370 };
			static const uint8_t proto[] = { 6, 17, 1 };

			snprintf(what, sizeof(what), "IPv4 fragment %d proto %u", fr, proto[p]);
			b = cf_init(&c);
			eth(b, 0x0800);
			ipv4(b, 0, 0, 4242, ff[fr], 64, proto[p], fr == 1 ? 8 : 0);
			if (fr == 0 && p == 0)
				tcp(b, 1000, 80, 0x10);
			else if (fr == 0 && p == 1)
				udp(b, 1000, 53);
			else if (fr == 0)
				icmp(b, 8, 0);
			pktb_bytes(b, "0123456789abcdef0123456789abcdef", 32);
			cf_diff(what, &c);
		}
	/* total length 0 (a TSO capture), below IHL, above the frame; Ethernet padding */
	for (int tot = 0; tot < 5; tot++) {
		static const uint16_t t[] = { 0, 19, 23, 1400, 28 };

		b = cf_init(&c);
		eth(b, 0x0800);
		ipv4(b, 0, t[tot], 1, 0, 64, 1, tot == 2 ? 4 : 0);
		icmp(b, 3, 3);
		pktb_bytes(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 18);
		snprintf(what, sizeof(what), "IPv4 total length %u", t[tot]);
		cf_diff(what, &c);
	}
	/* IHL below 5, version 5: the first byte rewritten */
	for (int v = 0; v < 3; v++) {
		static const uint8_t first[] = { 0x44, 0x54, 0x4f };

		b = cf_init(&c);
		eth(b, 0x0800);
		ipv4(b, 0, 0, 1, 0, 64, 17, 0);
		udp(b, 1, 2);
		pktb_finish(b);
		c.f[14] = first[v];
		snprintf(what, sizeof(what), "IPv4 first byte %#x", first[v]);
		diff(what, c.f, 14 + 20 + 8 + (v == 2 ? 40 : 0));
	}
}

/* IPv6: extension header chains up to and past the bound, fragments,
 * AH, ESP, lengths 0 (offload, jumbo) and cuts. */
static void v6_chain(struct pktb *b, int n, uint8_t kind, uint8_t last)
{
	static const uint8_t cycle[] = { 0, 43, 60, 51, 44 };

	ipv6(b, 0x04, 7, 0, n ? (kind == 255 ? cycle[0] : kind) : last, 64);
	for (int i = 0; i < n; i++) {
		uint8_t me = kind == 255 ? cycle[i % 5] : kind;
		uint8_t nx = i + 1 < n ? (kind == 255 ? cycle[(i + 1) % 5] : kind) : last;

		if (me == 44)
			frag6(b, nx, 0, 0, 77);
		else if (me == 51)
			ah(b, nx, 4);
		else
			ext(b, nx, (uint8_t)(i & 1));
	}
}

static void crafted_ipv6(void)
{
	static const uint8_t kinds[] = { 0, 43, 60, 51, 44, 255 };
	char what[64];
	struct cf c;
	struct pktb *b;

	for (int k = 0; k < 6; k++)
		for (int n = 0; n <= 9; n++) {
			snprintf(what, sizeof(what), "IPv6 %d extension headers kind %u", n, kinds[k]);
			b = cf_init(&c);
			eth(b, 0x86dd);
			v6_chain(b, n, kinds[k], 6);
			tcp(b, 2000, 22, 0x11);
			cf_diff(what, &c);
			if (n)
				cf_diff_cut("IPv6 extension header cut", &c, 14 + 40 + 4);
		}
	/* fragments: first, later, atomic; UDP */
	for (int fr = 0; fr < 3; fr++) {
		b = cf_init(&c);
		eth(b, 0x86dd);
		ipv6(b, 0, 0, 0, 44, 64);
		frag6(b, 17, fr == 1 ? 100 : 0, fr == 0, 0xdeadbeef);
		if (fr != 1)
			udp(b, 7, 9);
		pktb_bytes(b, "abcdefgh", 8);
		snprintf(what, sizeof(what), "IPv6 fragment %d", fr);
		cf_diff(what, &c);
	}
	/* ESP ends the walk; ICMP over IPv6; payload length 0 without and
	 * with a hop-by-hop jumbo option (an impossible one: the frame is
	 * short), a jumbo option after Pad1 and PadN */
	b = cf_init(&c);
	eth(b, 0x86dd);
	ipv6(b, 0, 0, 0, 50, 64);
	pktb_bytes(b, "\0\0\1\0\0\0\0\1espdata", 15);
	cf_diff("IPv6 ESP", &c);
	for (int z = 0; z < 4; z++) {
		static const uint8_t hbh[4][16] = {
			{ 17, 0, 1, 4, 0, 0, 0, 0 },
			{ 17, 0, 0xc2, 4, 0, 1, 0, 0 },
			{ 17, 1, 0, 0, 1, 2, 0, 0, 0xc2, 4, 0, 0, 0x10, 0 },
			{ 17, 0, 0xc2, 4, 0, 0, 0, 0 },
		};

		b = cf_init(&c);
		eth(b, 0x86dd);
		ipv6(b, 0, 0, 0, 0, 64);
		pktb_bytes(b, hbh[z], z == 2 ? 16 : 8);
		udp(b, 1, 2);
		pktb_finish(b);
		c.f[14 + 4] = c.f[14 + 5] = 0;	/* payload length 0 */
		snprintf(what, sizeof(what), "IPv6 payload length 0, hop-by-hop %d", z);
		diff(what, c.f, 14 + 40 + (z == 2 ? 16 : 8) + 8 + 20);
	}
}

/* ICMP, ICMPv6, SCTP, ICMP over IPv6, protocols without ports, cuts. */
static void crafted_l4(void)
{
	static const uint8_t sctp[16] = { 0x0b, 0x59, 0x0b, 0x59, 1, 2, 3, 4, 0, 0, 0, 0, 1, 0, 0, 4 };
	char what[64];
	struct cf c;
	struct pktb *b;

	for (int t = 0; t < 4; t++) {
		static const uint8_t ty[] = { 0, 3, 11, 8 }, co[] = { 0, 13, 1, 0 };

		b = cf_init(&c);
		eth(b, 0x0800);
		ipv4(b, 0, 0, 1, 0, 64, 1, 0);
		icmp(b, ty[t], co[t]);
		snprintf(what, sizeof(what), "ICMP %u/%u", ty[t], co[t]);
		cf_diff(what, &c);
		b = cf_init(&c);
		eth(b, 0x86dd);
		ipv6(b, 0, 0, 0, 58, 255);
		icmp(b, (uint8_t)(ty[t] + 128), co[t]);
		snprintf(what, sizeof(what), "ICMPv6 %u/%u", ty[t] + 128, co[t]);
		cf_diff(what, &c);
	}
	for (int v6 = 0; v6 < 2; v6++) {
		for (int p = 0; p < 4; p++) {
			static const uint8_t proto[] = { 132, 1, 47, 58 };

			b = cf_init(&c);
			eth(b, v6 ? 0x86dd : 0x0800);
			if (v6)
				ipv6(b, 0, 0, 0, proto[p], 64);
			else
				ipv4(b, 0, 0, 1, 0, 64, proto[p], 0);
			pktb_bytes(b, sctp, 16);
			snprintf(what, sizeof(what), "v6 %d protocol %u", v6, proto[p]);
			cf_diff(what, &c);
			/* cut inside the transport header */
			cf_diff_cut(what, &c, 14 + (v6 ? 40 : 20) + 3);
		}
		b = cf_init(&c);
		eth(b, v6 ? 0x86dd : 0x0800);
		if (v6)
			ipv6(b, 0, 0, 0, 6, 64);
		else
			ipv4(b, 0, 0, 1, 0, 64, 6, 0);
		tcp(b, 1, 2, 0x1ff);
		cf_diff("TCP every flag", &c);
		for (size_t cut = 0; cut < 20; cut += 3)
			cf_diff_cut("TCP cut", &c, 14 + (v6 ? 40 : 20) + cut);
		cf_diff_cut("IP header cut", &c, 14 + (v6 ? 39 : 19));
	}
}

/* Frames that are not IP, or end in the link layer. */
static void crafted_not_ip(void)
{
	static const uint16_t types[] = { 0x0806, 0x88cc, 0x0042, 0x05ff, 0x8100 };
	struct cf c;
	struct pktb *b;

	for (int t = 0; t < 5; t++) {
		b = cf_init(&c);
		eth(b, types[t]);
		if (types[t] == 0x8100)
			vlan(b, 9, 0x0026);	/* an 802.3 length after the tag */
		pktb_bytes(b, "\0\1\x08\0\6\4\0\1abcdefghijklmnopqrstuvwxyz", 34);
		cf_diff("not IP", &c);
	}
	b = cf_init(&c);
	l2(b, 2, 0x88a8, 0x0800);
	ipv4(b, 0, 0, 1, 0, 64, 17, 0);
	udp(b, 1, 2);
	for (size_t n = 14; n < 14 + 8 + 20 + 8; n++)
		cf_diff_cut("cut anywhere", &c, n);
}

static void report(const char *what, unsigned files)
{
	printf("bpf_diff %s: ", what);
	if (files)
		printf("%u Ethernet captures, ", files);
	printf("%lu frames, %lu test runs (%lu with the tag offloaded, %lu GSO): %lu metered, "
	       "%lu not IP, %lu refused; excluded (BPF_PROG_TEST_RUN refuses them):", D.c.frames,
	       D.c.runs, D.c.offloaded, D.c.gso, D.c.metered, D.c.not_ip, D.c.refused);
	for (int x = 0; x < X_NREASONS; x++)
		printf("%s %lu %s", x ? "," : "", D.c.excluded[x], x_names[x]);
	printf("\n");
	fflush(stdout);
}

/* ---- GSO ---- */

struct gso {
	int v6, ntags, ext, udp;
	__u32 segs, size, last;		/* segments, gso_size, the last's payload */
	uint16_t flags;
	int optlen;			/* TCP option bytes */
	int ctx_segs;			/* 0: the context says gso_size only */
};

static void gso_hdrs(struct pktb *b, const struct gso *g, uint16_t flags)
{
	l2(b, g->ntags, 0x8100, g->v6 ? 0x86dd : 0x0800);
	if (g->v6) {
		ipv6(b, 0x20, 1, 0, g->ext ? 60 : g->udp ? 17 : 6, 64);
		if (g->ext)
			ext(b, g->udp ? 17 : 6, 1);
	} else {
		ipv4(b, 0x20, 0, 99, 0x4000, 64, g->udp ? 17 : 6, 0);
	}
	if (g->udp) {
		pktb_udp(b, 4433, 50000, 0);
		return;
	}
	/* TCP with optlen bytes of NOPs: written out, pktbuild's has none */
	wr_u16(&b->w, 443);
	wr_u16(&b->w, 50001);
	wr_u32(&b->w, 1);
	wr_u32(&b->w, 2);
	wr_u16(&b->w, (uint16_t)((5 + g->optlen / 4) << 12 | flags));
	wr_u16(&b->w, 512);
	wr_u32(&b->w, 0);
	for (int i = 0; i < g->optlen; i++)
		wr_u8(&b->w, 1);
}

/* The super-packet and its segments as GSO would cut it: TCP's FIN and PSH
 * on the last, CWR on the first only. */
static void gso_diff(const char *what, const struct gso *g)
{
	static struct cf whole, seg[SEGMAX];
	static const uint8_t pay[FMAX];
	const uint8_t *sp[SEGMAX];
	size_t sl[SEGMAX], len;
	__u32 total = (g->segs - 1) * g->size + g->last;

	cr_assert_leq(g->segs, SEGMAX);
	gso_hdrs(cf_init(&whole), g, g->flags);
	pktb_bytes(&whole.b, pay, total);
	len = pktb_finish(&whole.b);
	cr_assert_gt(len, 0, "%s", what);
	for (__u32 i = 0; i < g->segs; i++) {
		uint16_t f = g->flags;

		if (i + 1 < g->segs)
			f &= (uint16_t)~0x09;	/* FIN, PSH */
		if (i > 0)
			f &= (uint16_t)~0x80;	/* CWR */
		gso_hdrs(cf_init(&seg[i]), g, f);
		pktb_bytes(&seg[i].b, pay, i + 1 < g->segs ? g->size : g->last);
		sl[i] = pktb_finish(&seg[i].b);
		sp[i] = seg[i].f;
	}
	diff_gso(what, whole.f, len, g->ctx_segs ? g->segs : 0, g->size, sp, sl, (int)g->segs);
}

static void crafted_gso(void)
{
	static const struct gso gs[] = {
		{ .segs = 4, .size = 100, .last = 100, .flags = 0x18, .ctx_segs = 1 },
		{ .segs = 3, .size = 300, .last = 7, .flags = 0x19, .ctx_segs = 1 },
		{ .segs = 5, .size = 64, .last = 64, .flags = 0xd0, .optlen = 12, .ctx_segs = 1 },
		{ .v6 = 1, .segs = 2, .size = 500, .last = 499, .flags = 0x10, .ctx_segs = 1 },
		{ .v6 = 1, .ext = 1, .segs = 6, .size = 200, .last = 1, .flags = 0x38, .ctx_segs = 1 },
		{ .ntags = 1, .segs = 8, .size = 100, .last = 50, .flags = 0x11, .optlen = 40,
		  .ctx_segs = 1 },
		{ .ntags = 2, .v6 = 1, .segs = 3, .size = 100, .last = 100, .flags = 0x10 },
		{ .segs = 7, .size = 90, .last = 3, .flags = 0x18 },
		{ .udp = 1, .segs = 5, .size = 200, .last = 200, .ctx_segs = 1 },
		{ .udp = 1, .v6 = 1, .ntags = 1, .segs = 4, .size = 333, .last = 1 },
		{ .segs = 1, .size = 100, .last = 80, .flags = 0x18, .ctx_segs = 1 },
	};
	char what[64];

	for (size_t i = 0; i < sizeof(gs) / sizeof(gs[0]); i++) {
		snprintf(what, sizeof(what), "GSO %zu", i);
		gso_diff(what, &gs[i]);
	}
}

Test(bpf_diff, crafted, .init = setup, .fini = teardown, .timeout = 120)
{
	crafted_link();
	crafted_mpls();
	crafted_ipv4();
	crafted_ipv6();
	crafted_l4();
	crafted_not_ip();
	crafted_gso();
	report("crafted", 0);
	/* Fixed by the frames above: a frame that stops being built or run
	 * shows here. */
	cr_assert_eq(D.c.frames, 385);
	cr_assert_eq(D.c.runs, 873);
	cr_assert_eq(D.c.offloaded, 107);
	cr_assert_eq(D.c.gso, 11);
	cr_assert_eq(D.c.metered, 313);
	cr_assert_eq(D.c.not_ip, 6);
	cr_assert_eq(D.c.refused, 64);
}

/* ---- fragments in order, as a stream ---- */

static struct meter_rec stream_rec[16];
static int stream_n;

static void on_stream_rec(void *arg, const struct meter_rec *r)
{
	(void)arg;
	cr_assert_lt(stream_n, 16);
	stream_rec[stream_n++] = *r;
}

/* Datagram d (0..3: IPv4 UDP, IPv4 TCP, IPv6 UDP, IPv6 TCP, each with its
 * own ports and id), fragment i of 3. */
static size_t frag_frame(struct cf *c, int d, int i)
{
	static const uint8_t pay[64];
	struct pktb *b = cf_init(c);
	int v6 = d >= 2, tcpf = d & 1;
	uint8_t proto = tcpf ? 6 : 17;

	eth(b, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ipv6(b, 0, 0, 0, 44, 64);
		frag6(b, proto, (uint16_t)(i * 8), i < 2, 0x1000u + (uint32_t)d);
	} else {
		ipv4(b, 0, 0, (uint16_t)(0x2000 + d), (uint16_t)((i < 2 ? 0x2000 : 0) | i * 8), 64,
		     proto, 0);
	}
	if (i == 0 && tcpf)
		tcp(b, (uint16_t)(1000 + d), 80, 0x18);
	else if (i == 0)
		pktb_udp(b, (uint16_t)(1000 + d), 53, 64 + 8);
	pktb_bytes(b, pay, i == 0 ? 44 : 64);
	return pktb_finish(b);
}

/* Four datagrams of three fragments each, interleaved, through the kernel
 * with nothing emptied between packets and through the meter unflushed:
 * every later fragment joins its first in both, the same flows. */
Test(bpf_diff, fragment_streams, .init = setup, .fini = teardown)
{
	struct meter_cfg mc = { .max_flows = 64 };
	struct meter *m = meter_new(&mc, on_stream_rec, NULL);
	struct wflow_key keys[16];
	struct wflow_val vals[16];
	struct pkt_info pi;
	struct cf c;
	int n;

	cr_assert(m);
	stream_n = 0;
	for (int i = 0; i < 3; i++)
		for (int d = 0; d < 4; d++) {
			size_t len = frag_frame(&c, d, i);

			cr_assert_gt(len, 0);
			cr_assert_eq(bh_run(D.prog[0], c.f, len), BH_UNSPEC);
			cr_assert_eq(pkt_parse(&pi, c.f, len, PKT_START_ETH), WEIR_OK);
			meter_packet(m, &pi, 1000 + (uint64_t)(i * 4 + d), IFX_LO, 0);
		}
	meter_flush(m, METER_END_FORCED);
	n = bh_flows(D.s, keys, vals, 16, 1);
	cr_assert_eq(n, 4, "one flow per datagram in the kernel");
	cr_assert_eq(stream_n, 4, "one flow per datagram in the meter");
	for (int r = 0; r < stream_n; r++) {
		int j = 0;

		while (j < n && memcmp(&keys[j], &stream_rec[r].key, sizeof(keys[j])))
			j++;
		cr_assert_lt(j, n, "the meter's flow %s is not the kernel's",
			     key_str(&stream_rec[r].key));
		cr_assert_eq(vals[j].packets, 3);
		cr_assert_eq(vals[j].packets, stream_rec[r].fwd.packets);
		cr_assert_eq(vals[j].octets, stream_rec[r].fwd.octets);
		cr_assert_eq(vals[j].tcp_flags, stream_rec[r].fwd.tcp_flags);
	}
	meter_free(m);
}

/* Every frame of every Ethernet capture of the shared data set. */
Test(bpf_diff, tcpdump_captures, .init = setup, .fini = teardown, .timeout = 300)
{
	const char *sh = getenv("WEIR_SHARED");
	char dir[512], path[1024], what[1200], err[256];
	unsigned files = 0, eth = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/testdata/tcpdump-pcaps", sh && *sh ? sh : "../shared");
	d = opendir(dir);
	if (!d) {
		printf("SKIPPED: bpf_diff: %s absent (set WEIR_SHARED to the shared folder)\n", dir);
		cr_skip_test("%s absent", dir);
	}
	while ((de = readdir(d))) {
		struct wpcap_rd r;
		struct wpcap_frame f;
		struct stat sb;
		uint64_t n = 0;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode) || !strncmp(de->d_name, "LICENSE", 7))
			continue;
		files++;
		cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s: %s", path, err);
		if (r.dlt != WPCAP_DLT_EN10MB) {
			wpcap_close_read(&r);
			continue;
		}
		eth++;
		while ((rc = wpcap_next(&r, &f)) == 1) {
			snprintf(what, sizeof(what), "%s frame %llu", de->d_name,
				 (unsigned long long)++n);
			diff(what, f.p, f.caplen);
		}
		cr_assert_geq(rc, 0, "%s: %s", de->d_name, wpcap_error(&r));
		wpcap_close_read(&r);
	}
	closedir(d);
	report("tcpdump-pcaps", eth);
	/* test_pkt_pcaps counts the same set: 830 files, 8510 Ethernet frames */
	cr_assert_eq(files, 830);
	cr_assert_eq(eth, 479);
	cr_assert_eq(D.c.frames, 8510);
	cr_assert_eq(D.c.runs, 16891);
	cr_assert_eq(D.c.metered + D.c.not_ip + D.c.refused + D.c.excluded[X_SHORT] +
		     D.c.excluded[X_IP_CUT] + D.c.excluded[X_LONG], D.c.frames);
	cr_assert_eq(D.c.metered, 4505);
}
