/* weir-mkflows - write pcap files of traffic whose flows are known, with the
 * library's frame builder (wire/pktbuild.h) and pcap writer (wire/wpcap.h),
 * for weir-exporter's tests and benchmark.
 *
 * Usage:
 *   weir-mkflows [-l LINK] [-v] -o FILE < SPEC
 *       One frame per line of SPEC (blank lines and # comments skipped):
 *       key=value words, any order:
 *         t=SECONDS       capture time, decimal (1700000000.25)   required
 *         src=ADDR dst=ADDR  IPv4 or IPv6 (both the same family)  required
 *         proto=P         tcp, udp, icmp, icmpv6, sctp or a number [udp]
 *         sp=N dp=N       ports (TCP, UDP, SCTP)
 *         type=N code=N   ICMP / ICMPv6 type and code
 *         flags=LETTERS   TCP flags: F S R P A U E C (N: none)     [A]
 *         len=N           payload bytes after the transport header [0]
 *                         (SCTP: of its one DATA chunk, a multiple of 4)
 *         ttl=N tos=N     TTL / hop limit [64], TOS / traffic class [0]
 *         vlan=ID[,ID]    one 802.1Q tag, or 802.1ad + 802.1Q (QinQ)
 *         id=N            IPv4 identification / IPv6 fragment id
 *         frag=OFF[m]     a fragment at OFF 8-byte units, m: more follow;
 *                         OFF > 0 has no transport header, len bytes of
 *                         payload; IPv6: a fragment header
 *         ext=N[,N]       IPv6 extension headers before the transport
 *                         one (0 hop-by-hop, 43 routing, 60 dst options)
 *         cut=N           capture only the first N bytes of the frame
 *       LINK: eth (default), sll, sll2, raw, null, loop.
 *       -v prints one line per frame: "IP_LEN FRAME_LEN".
 *   weir-mkflows --bench -n PACKETS -f FLOWS [-s SEED] -o FILE
 *       Random traffic (Ethernet; IPv4 and IPv6; TCP, UDP, ICMP; half of
 *       the TCP flows answered) over FLOWS conversations, in trains of 1
 *       to 8 packets of one conversation, 10 us apart, sizes of the simple
 *       IMIX (7:4:1 of 46, 576, 1500 IPv4 bytes; no frame under 60 bytes,
 *       so no Ethernet padding), no SYN/FIN/RST.
 * Both print a JSON object of totals: packets, ip_bytes (IPv4 total
 * length, IPv6 payload length + 40), frame_bytes.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pktbuild.h"
#include "wpcap.h"

#define MAX_FRAME	9216
#define MAX_EXT		8

enum link { L_ETH, L_SLL, L_SLL2, L_RAW, L_NULL, L_LOOP };

struct spec {
	uint64_t t_ns;
	int v6;
	uint8_t src[16], dst[16];
	int proto;
	uint16_t sp, dp;
	uint8_t type, code;
	uint16_t flags;
	unsigned len;
	uint8_t ttl, tos;
	int nvlan;
	uint16_t vlan[2];
	uint32_t id;
	int frag;			/* a fragment header / fields */
	uint16_t frag_off;
	int frag_more;
	int next[MAX_EXT];
	int next_n;
	size_t cut;
	int answered;			/* bench: the TCP flow has packets both ways */
};

struct totals {
	uint64_t packets, ip_bytes, frame_bytes;
};

static void die(const char *msg, const char *what)
{
	fprintf(stderr, "weir-mkflows: %s%s%s\n", msg, what ? ": " : "", what ? what : "");
	exit(2);
}

static int proto_of(const char *v)
{
	static const struct { const char *n; int p; } names[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 }, { "sctp", 132 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(v, names[i].n) == 0)
			return names[i].p;
	return (int)strtoul(v, NULL, 10);
}

static uint16_t flags_of(const char *v)
{
	static const char letters[] = "FSRPAUEC";
	uint16_t f = 0;

	for (; *v; v++) {
		const char *p = strchr(letters, *v);

		if (*v == 'N')
			continue;
		if (!p)
			die("unknown TCP flag letter", v);
		f |= (uint16_t)(1u << (p - letters));
	}
	return f;
}

static void addr_of(const char *v, uint8_t *a, int *v6)
{
	if (inet_pton(AF_INET, v, a) == 1) {
		*v6 = 0;
		return;
	}
	if (inet_pton(AF_INET6, v, a) == 1) {
		*v6 = 1;
		return;
	}
	die("not an address", v);
}

/* One key=value word into s. */
static void spec_word(struct spec *s, const char *k, const char *v, int *v6src, int *v6dst)
{
	if (strcmp(k, "t") == 0) {
		char *end;
		uint64_t ns = 0, scale = 100000000;

		s->t_ns = strtoull(v, &end, 10) * 1000000000ull;
		if (*end == '.')
			for (end++; *end >= '0' && *end <= '9' && scale; end++, scale /= 10)
				ns += (uint64_t)(*end - '0') * scale;
		s->t_ns += ns;
	} else if (strcmp(k, "src") == 0) {
		addr_of(v, s->src, v6src);
	} else if (strcmp(k, "dst") == 0) {
		addr_of(v, s->dst, v6dst);
	} else if (strcmp(k, "proto") == 0) {
		s->proto = proto_of(v);
	} else if (strcmp(k, "sp") == 0 || strcmp(k, "dp") == 0) {
		*(k[0] == 's' ? &s->sp : &s->dp) = (uint16_t)strtoul(v, NULL, 10);
	} else if (strcmp(k, "type") == 0 || strcmp(k, "code") == 0) {
		*(k[0] == 't' ? &s->type : &s->code) = (uint8_t)strtoul(v, NULL, 10);
	} else if (strcmp(k, "flags") == 0) {
		s->flags = flags_of(v);
	} else if (strcmp(k, "len") == 0) {
		s->len = (unsigned)strtoul(v, NULL, 10);
	} else if (strcmp(k, "ttl") == 0 || strcmp(k, "tos") == 0) {
		*(k[1] == 't' ? &s->ttl : &s->tos) = (uint8_t)strtoul(v, NULL, 10);
	} else if (strcmp(k, "id") == 0) {
		s->id = (uint32_t)strtoul(v, NULL, 10);
	} else if (strcmp(k, "cut") == 0) {
		s->cut = strtoul(v, NULL, 10);
	} else if (strcmp(k, "vlan") == 0 || strcmp(k, "ext") == 0) {
		int lim = k[0] == 'v' ? 2 : MAX_EXT, n = 0;

		for (const char *p = v; *p && n < lim; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0)) {
			unsigned long x = strtoul(p, NULL, 10);

			if (k[0] == 'v')
				s->vlan[n++] = (uint16_t)x;
			else
				s->next[n++] = (int)x;
		}
		*(k[0] == 'v' ? &s->nvlan : &s->next_n) = n;
	} else if (strcmp(k, "frag") == 0) {
		char *end;

		s->frag = 1;
		s->frag_off = (uint16_t)strtoul(v, &end, 10);
		s->frag_more = *end == 'm';
	} else {
		die("unknown key", k);
	}
}

/* A line into s: 1, or 0 for a blank or comment line. */
static int spec_parse(char *line, struct spec *s)
{
	int v6src = -1, v6dst = -1, any = 0;

	memset(s, 0, sizeof(*s));
	s->proto = 17;
	s->ttl = 64;
	s->flags = 1u << 4;	/* ACK */
	for (char *w = strtok(line, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
		char *eq = strchr(w, '=');

		if (w[0] == '#')
			break;
		if (!eq)
			die("not key=value", w);
		*eq = 0;
		spec_word(s, w, eq + 1, &v6src, &v6dst);
		any = 1;
	}
	if (!any)
		return 0;
	if (v6src < 0 || v6dst < 0 || v6src != v6dst)
		die("a frame needs src= and dst= of one family", NULL);
	s->v6 = v6src;
	return 1;
}

static void link_header(struct pktb *b, enum link l, int v6)
{
	static const uint8_t mac_s[6] = { 2, 0, 0, 0, 0, 1 };
	uint16_t et = v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;
	uint8_t h[20] = { 0 };

	switch (l) {
	case L_ETH:
		break;	/* with the tags: see frame_build */
	case L_SLL:	/* packet type 0 (to us), ARPHRD_ETHER, 6-byte address, protocol */
		h[3] = 1;
		h[5] = 6;
		memcpy(h + 6, mac_s, 6);
		h[14] = (uint8_t)(et >> 8);
		h[15] = (uint8_t)et;
		pktb_bytes(b, h, 16);
		break;
	case L_SLL2:	/* protocol, reserved, ifindex, ARPHRD_ETHER, type, addr len, addr */
		h[0] = (uint8_t)(et >> 8);
		h[1] = (uint8_t)et;
		h[7] = 2;
		h[9] = 1;
		h[11] = 6;
		memcpy(h + 12, mac_s, 6);
		pktb_bytes(b, h, 20);
		break;
	case L_RAW:
		break;
	case L_NULL: {	/* host-order family: AF_INET 2, AF_INET6 as BSD (24) */
		uint32_t af = v6 ? 24 : 2;

		pktb_bytes(b, &af, 4);
		break;
	}
	case L_LOOP: {
		uint32_t af = htonl(v6 ? 24 : 2);

		pktb_bytes(b, &af, 4);
		break;
	}
	}
}

/* IPv6 extension headers of s, then its fragment header, each 8 bytes. */
static void ipv6_exts(struct pktb *b, const struct spec *s)
{
	for (int i = 0; i < s->next_n; i++) {
		uint8_t h[8] = { 0 };

		h[0] = (uint8_t)(i + 1 < s->next_n ? s->next[i + 1] : s->frag ? 44 : s->proto);
		if (s->next[i] == 43)
			h[2] = 253, h[3] = 0;	/* routing type 253 (RFC 4727), none left */
		else
			h[2] = 1, h[3] = 4;		/* PadN of 4 bytes */
		pktb_bytes(b, h, 8);
	}
	if (s->frag) {
		uint8_t h[8] = { (uint8_t)s->proto, 0, (uint8_t)(s->frag_off >> 5),
				 (uint8_t)(s->frag_off << 3 | (s->frag_more ? 1 : 0)),
				 (uint8_t)(s->id >> 24), (uint8_t)(s->id >> 16), (uint8_t)(s->id >> 8),
				 (uint8_t)s->id };

		pktb_bytes(b, h, 8);
	}
}

static void transport(struct pktb *b, const struct spec *s, const uint8_t *payload)
{
	if (s->frag && s->frag_off) {
		pktb_bytes(b, payload, s->len);	/* a later fragment: no header */
		return;
	}
	if (s->proto == 6) {
		struct pktb_tcp t = { .sport = s->sp, .dport = s->dp, .seq = 1000, .ack = 1,
				      .flags = s->flags, .window = 65535 };

		pktb_tcp(b, &t);
	} else if (s->proto == 17) {
		pktb_udp(b, s->sp, s->dp, 0);
	} else if (s->proto == 1 || s->proto == 58) {
		pktb_icmp(b, s->type, s->code, 0x00010001);
	} else if (s->proto == 132) {
		/* Common header (checksum left 0), one DATA chunk of len bytes. */
		uint8_t h[28] = { (uint8_t)(s->sp >> 8), (uint8_t)s->sp, (uint8_t)(s->dp >> 8),
				  (uint8_t)s->dp, 0, 0, 0, 1, [12] = 0, 3,
				  (uint8_t)((16 + s->len) >> 8), (uint8_t)(16 + s->len), [19] = 1 };

		pktb_bytes(b, h, 28);
	}
	pktb_bytes(b, payload, s->len);
}

/* Build s into buf: the frame's length (0 when it does not fit); *ip_len
 * gets what the IP header says the packet's length is. */
static size_t frame_build(uint8_t *buf, const struct spec *s, enum link l, uint32_t *ip_len)
{
	static const uint8_t mac_d[6] = { 2, 0, 0, 0, 0, 2 }, mac_s[6] = { 2, 0, 0, 0, 0, 1 };
	static uint8_t payload[MAX_FRAME];
	static int filled;
	uint16_t et = s->v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;
	struct pktb b;
	size_t n;

	for (size_t i = 0; !filled && i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	filled = 1;
	pktb_init(&b, buf, MAX_FRAME);
	if (l == L_ETH) {
		if (s->nvlan == 2) {
			pktb_eth(&b, mac_d, mac_s, 0x88a8);
			pktb_vlan(&b, s->vlan[0], PKTB_ETH_VLAN);
			pktb_vlan(&b, s->vlan[1], et);
		} else if (s->nvlan == 1) {
			pktb_eth(&b, mac_d, mac_s, PKTB_ETH_VLAN);
			pktb_vlan(&b, s->vlan[0], et);
		} else {
			pktb_eth(&b, mac_d, mac_s, et);
		}
	} else {
		link_header(&b, l, s->v6);
	}
	if (s->v6) {
		struct pktb_ip6 ip = { .tc = s->tos, .hlim = s->ttl, .flow = 0 };

		memcpy(ip.src, s->src, 16);
		memcpy(ip.dst, s->dst, 16);
		ip.nh = (uint8_t)(s->next_n ? s->next[0] : s->frag ? 44 : s->proto);
		pktb_ipv6(&b, &ip);
		ipv6_exts(&b, s);
	} else {
		struct pktb_ip4 ip = { .tos = s->tos, .ttl = s->ttl, .proto = (uint8_t)s->proto,
				       .id = (uint16_t)s->id };

		memcpy(ip.src, s->src, 4);
		memcpy(ip.dst, s->dst, 4);
		if (s->frag)
			ip.frag = (uint16_t)((s->frag_more ? 0x2000 : 0) | s->frag_off);
		pktb_ipv4(&b, &ip);
	}
	transport(&b, s, payload);
	n = pktb_finish(&b);
	*ip_len = (uint32_t)(n - b.l3_off);
	return n;
}

static void totals_print(const struct totals *t)
{
	printf("{\"packets\": %llu, \"ip_bytes\": %llu, \"frame_bytes\": %llu}\n",
	       (unsigned long long)t->packets, (unsigned long long)t->ip_bytes,
	       (unsigned long long)t->frame_bytes);
}

static void write_frame(struct wpcap_wr *w, struct totals *t, const uint8_t *buf, size_t n,
			size_t cut, uint64_t t_ns, uint32_t ip_len)
{
	if (wpcap_write_cut(w, buf, cut && cut < n ? cut : n, n, t_ns))
		die("cannot write the pcap", NULL);
	t->packets++;
	t->ip_bytes += ip_len;
	t->frame_bytes += n;
}

static int run_spec(const char *out, enum link l, int verbose)
{
	static const int dlt[] = { WPCAP_DLT_EN10MB, WPCAP_DLT_LINUX_SLL, WPCAP_DLT_LINUX_SLL2,
				   WPCAP_DLT_RAW, WPCAP_DLT_NULL, WPCAP_DLT_LOOP };
	static uint8_t buf[MAX_FRAME];
	struct totals t = { 0 };
	struct wpcap_wr w;
	char line[4096], err[512];
	struct spec s;

	if (wpcap_open_write(&w, out, dlt[l], err, sizeof(err)))
		die(err, NULL);
	while (fgets(line, sizeof(line), stdin)) {
		uint32_t ip_len;
		size_t n;

		if (!spec_parse(line, &s))
			continue;
		n = frame_build(buf, &s, l, &ip_len);
		if (!n)
			die("a frame does not fit", NULL);
		write_frame(&w, &t, buf, n, s.cut, s.t_ns, ip_len);
		if (verbose)
			fprintf(stderr, "%u %zu\n", ip_len, n);
	}
	if (wpcap_close_write(&w))
		die("cannot write the pcap", out);
	totals_print(&t);
	return 0;
}

/* xorshift64*: the bench's traffic from a seed. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Conversation i of the bench traffic: its first packet's spec. */
static void bench_flow(struct spec *s, uint32_t i, uint64_t *seed)
{
	uint64_t r = rnd(seed);

	memset(s, 0, sizeof(*s));
	s->ttl = 64;
	s->v6 = r % 10 == 0;
	s->proto = r / 10 % 100 < 75 ? 6 : r / 10 % 100 < 97 ? 17 : s->v6 ? 58 : 1;
	if (s->v6) {
		static const uint8_t p6[4] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(s->src, p6, 4);
		memcpy(s->dst, p6, 4);
		s->dst[4] = 1;
		memcpy(s->src + 12, &i, 4);
		s->dst[15] = (uint8_t)(r >> 40);
	} else {
		s->src[0] = 10;
		s->src[1] = (uint8_t)(i >> 16);
		s->src[2] = (uint8_t)(i >> 8);
		s->src[3] = (uint8_t)i;
		s->dst[0] = 172;
		s->dst[1] = 16;
		s->dst[2] = (uint8_t)(r >> 32);
		s->dst[3] = (uint8_t)(r >> 40);
	}
	s->sp = (uint16_t)(1024 + (r >> 48) % 60000);
	s->dp = s->proto == 6 ? (r >> 20 & 1 ? 443 : 80) : 53;
	s->type = s->proto == 58 ? 128 : 8;
	s->flags = 1u << 4;
	s->answered = (r >> 16 & 1) != 0;
}

static int run_bench(const char *out, uint64_t packets, uint32_t flows, uint64_t seed)
{
	/* Simple IMIX: 7 : 4 : 1 packets of 46 (the Ethernet minimum),
	 * 576 and 1500 IPv4 bytes. */
	static const unsigned tcp_len[12] = { 6, 6, 6, 6, 6, 6, 6, 536, 536, 536, 536, 1460 };
	static const unsigned udp_len[12] = { 18, 18, 18, 18, 18, 18, 18, 548, 548, 548, 548, 1472 };
	static uint8_t buf[MAX_FRAME];
	struct spec *conv = calloc(flows, sizeof(*conv));
	struct totals t = { 0 };
	struct wpcap_wr w;
	char err[512];

	if (!conv)
		die("no memory", NULL);
	seed = seed ? seed : 1;
	for (uint32_t i = 0; i < flows; i++)
		bench_flow(&conv[i], i, &seed);
	if (wpcap_open_write(&w, out, WPCAP_DLT_EN10MB, err, sizeof(err)))
		die(err, NULL);
	for (uint64_t k = 0, cur = 0, train = 0; k < packets; k++) {
		uint64_t r = rnd(&seed);
		struct spec s;
		uint32_t ip_len;
		size_t n;

		/* Every conversation has a packet first; then trains of 1 to 8
		 * packets of one conversation picked at random. */
		if (k < flows) {
			cur = k;
		} else if (!train) {
			cur = r % flows;
			train = (r >> 56 & 7) + 1;
		}
		train -= train > 0;
		s = conv[cur];

		if (s.proto == 6 && s.answered && k >= flows && (r >> 32 & 1)) {
			uint8_t a[16];
			uint16_t p = s.sp;

			memcpy(a, s.src, 16);
			memcpy(s.src, s.dst, 16);
			memcpy(s.dst, a, 16);
			s.sp = s.dp;
			s.dp = p;
		}
		s.len = s.proto == 6 ? tcp_len[(r >> 40) % 12] : s.proto == 17 ? udp_len[(r >> 40) % 12] : 56;
		s.t_ns = 1700000000ull * 1000000000ull + k * 10000ull;
		n = frame_build(buf, &s, L_ETH, &ip_len);
		write_frame(&w, &t, buf, n, 0, s.t_ns, ip_len);
	}
	if (wpcap_close_write(&w))
		die("cannot write the pcap", out);
	free(conv);
	totals_print(&t);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const links[] = { "eth", "sll", "sll2", "raw", "null", "loop" };
	const char *out = NULL;
	enum link l = L_ETH;
	uint64_t packets = 0, seed = 1;
	uint32_t flows = 0;
	int bench = 0, verbose = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--bench") == 0 || strcmp(a, "-v") == 0) {
			*(a[1] == '-' ? &bench : &verbose) = 1;
			continue;
		}
		if (!v)
			die("a value is missing after", a);
		i++;
		if (strcmp(a, "-o") == 0) {
			out = v;
		} else if (strcmp(a, "-n") == 0) {
			packets = strtoull(v, NULL, 10);
		} else if (strcmp(a, "-f") == 0) {
			flows = (uint32_t)strtoul(v, NULL, 10);
		} else if (strcmp(a, "-s") == 0) {
			seed = strtoull(v, NULL, 10);
		} else if (strcmp(a, "-l") == 0) {
			size_t k = 0;

			while (k < 6 && strcmp(v, links[k]))
				k++;
			if (k == 6)
				die("unknown link type", v);
			l = (enum link)k;
		} else {
			die("unknown option", a);
		}
	}
	if (!out)
		die("-o FILE is needed", NULL);
	if (bench) {
		if (!packets || !flows || flows > packets)
			die("--bench needs -n PACKETS >= -f FLOWS > 0", NULL);
		return run_bench(out, packets, flows, seed);
	}
	return run_spec(out, l, verbose);
}
