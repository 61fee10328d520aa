/* sflowhelp.h - what the sFlow v5 unit tests (test_sflow*.c) share: a
 * record log, the context and exporter, decoding from an exact heap copy (so
 * ASan sees overreads), agents, the flows and counter samples the encoder is
 * fed, and datagrams whose flow records a test writes by hand. */
#ifndef WEIR_TEST_SFLOWHELP_H
#define WEIR_TEST_SFLOWHELP_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#define RECV_NS 1700000000123456789ull
#define MAXREC 64

/* What the callback saw. Views die with the callback, so the header bytes
 * and the communities are copied. */
struct seen {
	size_t n;
	int flow_err[MAXREC];
	struct flow flow[MAXREC];
	struct sflow_sample s[MAXREC];
	struct weir_msg msg[MAXREC];
	uint32_t rate[MAXREC];
	uint8_t hdr[MAXREC][256];
	uint32_t comm[MAXREC][8];
	int stop_after;			/* stop when n reaches it, 0 = never */
};

static inline int collect(const struct weir_record *rec, void *user)
{
	struct seen *sn = user;
	size_t i = sn->n;

	cr_assert_lt(i, MAXREC);
	cr_assert_null(rec->t);
	cr_assert_null(rec->v);
	cr_assert_not_null(rec->sflow);
	sn->s[i] = *rec->sflow;
	sn->msg[i] = *rec->msg;
	sn->rate[i] = rec->sampling_rate;
	sn->flow_err[i] = sflow_flow(rec, &sn->flow[i]);
	if (rec->sflow->has & SFLOW_HAS_HEADER)
		memcpy(sn->hdr[i], rec->sflow->header.bytes,
		       rec->sflow->header.len < 256 ? rec->sflow->header.len : 256);
	if (rec->sflow->has & SFLOW_HAS_GATEWAY)
		for (uint32_t k = 0; k < rec->sflow->gw.ncommunities && k < 8; k++)
			sn->comm[i][k] = sflow_community(&rec->sflow->gw, k);
	sn->n++;
	return sn->stop_after && sn->n == (size_t)sn->stop_after;
}

static inline void ctx_init(struct weir_ctx *ctx, struct seen *sn)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(sn, 0, sizeof(*sn));
	ctx->on_record = collect;
	ctx->user = sn;
}

static inline struct weir_exporter exporter(void)
{
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_parse(&e.addr, "203.0.113.9");
	e.port = 40000;
	return e;
}

/* Decode from a heap copy of exactly len bytes, so ASan sees overreads. */
static inline int decode(struct weir_ctx *ctx, const uint8_t *b, size_t len)
{
	struct weir_exporter e = exporter();
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	cr_assert(copy);
	memcpy(copy, b, len);
	err = sflow_decode(ctx, &e, copy, len, RECV_NS);
	free(copy);
	return err;
}

static inline void addr(struct weir_addr *a, const char *s)
{
	cr_assert_eq(weir_addr_parse(a, s), WEIR_OK, "%s", s);
}

static inline struct sflow_agent agent(const char *a)
{
	struct sflow_agent ag;

	memset(&ag, 0, sizeof(ag));
	addr(&ag.addr, a);
	ag.sub_agent = 7;
	ag.sequence = 1000;
	ag.uptime_ms = 123456;
	ag.flow_seq = 50;
	return ag;
}

/* ---- flows for the round trip -------------------------------------------- */

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa1 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb2 };

/* Facts every decoded flow sample carries from its synthesized header. */
#define L2	(FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_ETYPE)
#define L3	(FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_TOS | FLOW_HAS_TTL)
#define PORTS	(FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT)

static inline void base(struct flow *f, const char *src, const char *dst, uint8_t proto)
{
	memset(f, 0, sizeof(*f));
	f->has = L2 | L3 | FLOW_HAS_BYTES;
	memcpy(f->src_mac, MAC_A, 6);
	memcpy(f->dst_mac, MAC_B, 6);
	addr(&f->src_addr, src);
	addr(&f->dst_addr, dst);
	f->etype = weir_addr_is_v4(&f->src_addr) ? 0x0800 : 0x86dd;
	if (f->etype == 0x0800)
		f->has |= FLOW_HAS_FRAG;	/* IPv4 always carries DF/MF/offset */
	else
		f->has |= FLOW_HAS_FLOW_LABEL;
	f->proto = proto;
	f->ip_tos = 0x28;
	f->ip_ttl = 57;
	f->bytes = 1000;
	f->sampling_rate = 2048;
}

static inline size_t make_flows(struct flow *fl)
{
	size_t n = 0;
	struct flow *f;

	/* IPv4 TCP, 802.1Q, every extended record, DF set. */
	f = &fl[n++];
	base(f, "10.1.2.3", "192.0.2.200", 6);
	f->has |= PORTS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF |
		  FLOW_HAS_OUT_IF | FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET |
		  FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP;
	f->src_port = 51515;
	f->dst_port = 443;
	f->tcp_flags = 0x1c2;		/* NS, CWR, ECE, SYN */
	f->vlan_id = 101;
	f->dst_vlan_id = 202;
	f->in_if = 11;
	f->out_if = 12;
	addr(&f->next_hop, "10.255.0.1");
	f->src_net = 24;
	f->dst_net = 19;
	f->src_as = 64512;
	f->dst_as = 4200000000u;
	addr(&f->bgp_next_hop, "198.51.100.1");
	f->ip_flags = 0x40;
	f->bytes = 1518;

	/* IPv6 UDP, egress VLAN only, IPv6 next hops. */
	f = &fl[n++];
	base(f, "2001:db8::10", "2001:db8:ffff::1", 17);
	f->has |= PORTS | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF | FLOW_HAS_NEXT_HOP |
		  FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_BGP_NEXT_HOP | FLOW_HAS_SRC_AS;
	f->src_port = 53;
	f->dst_port = 33333;
	f->dst_vlan_id = 4094;
	f->in_if = 3;
	f->ipv6_flow_label = 0xabcde;
	addr(&f->next_hop, "fe80::1");
	f->src_net = 48;
	f->dst_net = 64;
	addr(&f->bgp_next_hop, "2001:db8::ffff");
	f->src_as = 65000;
	f->sampling_rate = 1;

	/* IPv4 ICMP echo, no VLAN. */
	f = &fl[n++];
	base(f, "172.16.0.1", "172.16.0.2", 1);
	f->has |= FLOW_HAS_ICMP | FLOW_HAS_OUT_IF;
	f->icmp_type = 8;
	f->out_if = 0x3FFFFFFF;		/* the device itself */
	f->bytes = 98;

	/* IPv6 ICMPv6, first fragment. */
	f = &fl[n++];
	base(f, "2001:db8::1", "2001:db8::2", 58);
	f->has |= FLOW_HAS_ICMP | FLOW_HAS_FRAG;
	f->icmp_type = 1;
	f->icmp_code = 4;
	f->ip_flags = 0x20;

	/* IPv4 UDP, non-first fragment: no ports. */
	f = &fl[n++];
	base(f, "10.9.9.9", "10.8.8.8", 17);
	f->fragment_offset = 185;
	f->ip_flags = 0x20;

	/* IPv6 TCP, last fragment: no ports. */
	f = &fl[n++];
	base(f, "2001:db8::a", "2001:db8::b", 6);
	f->has |= FLOW_HAS_FRAG | FLOW_HAS_VLAN;
	f->fragment_offset = 1000;
	f->vlan_id = 7;

	/* ifIndex past 2^24: an expanded flow sample. */
	f = &fl[n++];
	base(f, "10.0.0.1", "10.0.0.2", 6);
	f->has |= PORTS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF;
	f->src_port = 1;
	f->dst_port = 2;
	f->tcp_flags = 0x011;
	f->in_if = 0x01000001;
	f->out_if = 0x7fffffff;
	f->sampling_rate = 100000;
	return n;
}

/* ---- counter samples ---------------------------------------------------- */

static inline void fill_counters(struct sflow_sample *c, uint32_t seed)
{
	memset(c, 0, sizeof(*c));
	c->kind = SFLOW_KIND_COUNTER;
	c->sequence = seed;
	c->source_id_index = seed + 1;
	c->has = SFLOW_HAS_IF_COUNTERS | SFLOW_HAS_ETH_COUNTERS;
	/* A distinct value in every word, so a swapped field shows. */
	uint32_t *p = (uint32_t *)&c->ifc;
	for (size_t i = 0; i < sizeof(c->ifc) / 4; i++)
		p[i] = seed * 1000 + (uint32_t)i + 1;
	p = (uint32_t *)&c->ethc;
	for (size_t i = 0; i < sizeof(c->ethc) / 4; i++)
		p[i] = seed * 2000 + (uint32_t)i + 1;
}

/* ---- decoder views ------------------------------------------------------- */

/* A datagram with one flow sample whose records the caller writes. */
struct dgram {
	uint8_t buf[2048];
	struct wr w;
	size_t sample_at;
};

static inline void dg_begin(struct dgram *d, const char *agent_addr, uint32_t nsamples)
{
	struct sflow_agent a = agent(agent_addr);

	wr_init(&d->w, d->buf, sizeof(d->buf));
	sflow_put_datagram_hdr(&d->w, &a, nsamples);
}

/* flow_sample header, compact form, nrec records to follow. */
static inline void dg_flow_sample(struct dgram *d, uint32_t nrec)
{
	d->sample_at = sflow_put_opaque_begin(&d->w, SFLOW_FMT(0, SFLOW_SAMPLE_FLOW));
	wr_u32(&d->w, 9);		/* sequence */
	wr_u32(&d->w, 2u << 24 | 77);	/* source: entPhysicalEntry 77 */
	wr_u32(&d->w, 400);		/* rate */
	wr_u32(&d->w, 4000);		/* pool */
	wr_u32(&d->w, 3);		/* drops */
	wr_u32(&d->w, 5);		/* input ifIndex 5 */
	wr_u32(&d->w, 0x80000007);	/* output: 7 interfaces */
	wr_u32(&d->w, nrec);
}

static inline void dg_end_sample(struct dgram *d)
{
	sflow_put_opaque_end(&d->w, d->sample_at);
	cr_assert_eq(d->w.err, 0);
}

#endif
