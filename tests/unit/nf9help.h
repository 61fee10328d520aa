/* nf9help.h - what the NetFlow v9 unit tests (test_nf9*.c) share: the
 * exporter, context and cache they decode with, the flows the encoder is fed
 * and their comparison, v9 headers, template 256 and its data flowsets built
 * by hand (msgbuild.h's byte builder), and the cut-at-every-length check. */
#ifndef WEIR_TEST_NF9HELP_H
#define WEIR_TEST_NF9HELP_H

#include <criterion/criterion.h>

#include "decode.h"
#include "flow.h"
#include "ie.h"
#include "nf9.h"
#include "tmpl.h"
#include "msgbuild.h"

#define RECV_NS 1700000000123456789ull
#define V9 IE_PEN_V9

static inline struct weir_exporter exp1(void)
{
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, ip4(192, 0, 2, 9));
	e.port = 9995;
	return e;
}

static inline void ctx_init(struct weir_ctx *ctx, struct rec_log *log, struct tmpl_cache *c)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cache = c;
	ctx->on_record = log_fn;
	ctx->user = log;
}

/* ---- flows ---- */

#define UPTIME_MS 86400000u		/* one day */
#define EXPORT_S 1700000000u

static inline void enc_init(struct nf9_enc *e)
{
	memset(e, 0, sizeof(*e));
	e->hdr.sys_uptime_ms = UPTIME_MS;
	e->hdr.unix_secs = EXPORT_S;
	e->hdr.sequence = 7;
	e->hdr.source_id = 42;
	e->sampling_interval = 64;
	e->sampling_algorithm = 2;
}

static inline struct flow mkflow(unsigned i, int v6)
{
	struct flow f;
	uint64_t exp_ms = (uint64_t)EXPORT_S * 1000;

	memset(&f, 0, sizeof(f));
	f.has = FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_BYTES | FLOW_HAS_PACKETS |
		FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_NEXT_HOP | FLOW_HAS_PROTO |
		FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
		FLOW_HAS_TOS | FLOW_HAS_TCP_FLAGS | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS |
		FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_ETYPE | FLOW_HAS_SRC_MAC |
		FLOW_HAS_DST_MAC | FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN | FLOW_HAS_ICMP |
		FLOW_HAS_DIRECTION;
	if (v6) {
		uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

		a[15] = (uint8_t)i;
		weir_addr_v6(&f.src_addr, a);
		a[3] = 0xb9;
		weir_addr_v6(&f.dst_addr, a);
		a[0] = 0xfe;
		a[1] = 0x80;
		weir_addr_v6(&f.next_hop, a);
		f.etype = 0x86dd;
		f.ipv6_flow_label = 0xabcde + i;
		f.has |= FLOW_HAS_FLOW_LABEL;
	} else {
		weir_addr_v4u(&f.src_addr, ip4(10, 1, (uint8_t)i, 1));
		weir_addr_v4u(&f.dst_addr, ip4(172, 16, (uint8_t)i, 2));
		weir_addr_v4u(&f.next_hop, ip4(10, 255, 255, (uint8_t)i));
		f.etype = 0x0800;
	}
	f.bytes = 5000000000ull + i;		/* beyond 32 bits */
	f.packets = 3000000 + i;
	f.time_flow_start_ns = (exp_ms - 120000 - i) * 1000000ull;
	f.time_flow_end_ns = (exp_ms - 1000 + i) * 1000000ull;
	f.in_if = 70000 + i;
	f.out_if = 3;
	f.src_as = 4200000000u + i;
	f.dst_as = 65001;
	f.src_port = (uint16_t)(40000 + i);
	f.dst_port = 443;
	f.icmp_type = 3;
	f.icmp_code = (uint8_t)i;
	f.vlan_id = (uint16_t)(100 + i);
	f.dst_vlan_id = 4094;
	for (unsigned k = 0; k < 6; k++) {
		f.src_mac[k] = (uint8_t)(0x10 + k + i);
		f.dst_mac[k] = (uint8_t)(0xa0 + k);
	}
	f.proto = 6;
	f.ip_tos = 0xb8;
	f.tcp_flags = 0xd2;
	f.src_net = v6 ? 64 : 24;
	f.dst_net = (uint8_t)(i % 33);
	f.flow_direction = i % 2;
	return f;
}

static inline void assert_flow_eq(const struct flow *got, const struct flow *want)
{
	cr_assert_eq(got->has & want->has, want->has, "has %#llx want %#llx",
		     (unsigned long long)got->has, (unsigned long long)want->has);
	cr_assert(weir_addr_eq(&got->src_addr, &want->src_addr));
	cr_assert(weir_addr_eq(&got->dst_addr, &want->dst_addr));
	cr_assert(weir_addr_eq(&got->next_hop, &want->next_hop));
	cr_assert_eq(got->etype, want->etype);
	cr_assert_eq(got->bytes, want->bytes);
	cr_assert_eq(got->packets, want->packets);
	cr_assert_eq(got->time_flow_start_ns, want->time_flow_start_ns);
	cr_assert_eq(got->time_flow_end_ns, want->time_flow_end_ns);
	cr_assert_eq(got->in_if, want->in_if);
	cr_assert_eq(got->out_if, want->out_if);
	cr_assert_eq(got->src_as, want->src_as);
	cr_assert_eq(got->dst_as, want->dst_as);
	cr_assert_eq(got->src_port, want->src_port);
	cr_assert_eq(got->dst_port, want->dst_port);
	cr_assert_eq(got->icmp_type, want->icmp_type);
	cr_assert_eq(got->icmp_code, want->icmp_code);
	cr_assert_eq(got->vlan_id, want->vlan_id);
	cr_assert_eq(got->dst_vlan_id, want->dst_vlan_id);
	cr_assert_eq(memcmp(got->src_mac, want->src_mac, 6), 0);
	cr_assert_eq(memcmp(got->dst_mac, want->dst_mac, 6), 0);
	cr_assert_eq(got->proto, want->proto);
	cr_assert_eq(got->ip_tos, want->ip_tos);
	cr_assert_eq(got->tcp_flags, want->tcp_flags);
	cr_assert_eq(got->src_net, want->src_net);
	cr_assert_eq(got->dst_net, want->dst_net);
	cr_assert_eq(got->flow_direction, want->flow_direction);
	cr_assert_eq(got->ipv6_flow_label, want->ipv6_flow_label);
}

/* 10 flows: 4 IPv4, 3 IPv6, 3 IPv4 (three data flowsets). */
static inline void mkflows(struct flow *in)
{
	for (unsigned i = 0; i < 10; i++)
		in[i] = mkflow(i, i >= 4 && i < 7);
}

/* ---- messages built by hand ---- */

static inline void hdr(struct mb *m, uint16_t count)
{
	m->n = 0;
	mb_u16(m, 9);
	mb_u16(m, count);
	mb_u32(m, UPTIME_MS);
	mb_u32(m, EXPORT_S);
	mb_u32(m, 1);
	mb_u32(m, 0);
}

/* Template 256: 8/4 12/4 (a record is 8 bytes). */
static inline void tpl256(struct mb *m)
{
	mb_u16(m, 0);
	mb_u16(m, 16);
	mb_u16(m, 256);
	mb_u16(m, 2);
	mb_u16(m, 8);
	mb_u16(m, 4);
	mb_u16(m, 12);
	mb_u16(m, 4);
}

/* A data flowset of n records of template 256, plus pad bytes. */
static inline void data256(struct mb *m, unsigned n, unsigned pad)
{
	mb_u16(m, 256);
	mb_u16(m, (uint16_t)(4 + 8 * n + pad));
	for (unsigned i = 0; i < n; i++) {
		mb_u32(m, ip4(10, 0, 0, (uint8_t)i));
		mb_u32(m, ip4(10, 0, 1, (uint8_t)i));
	}
	mb_zero(m, pad);
}

/* Whether a message cut at cut ends in padding: the bytes after its last
 * whole flowset are all zero (or there are none). */
static inline int tail_is_padding(const uint8_t *msg, size_t cut)
{
	size_t off = NF9_HDR_LEN;

	while (off + 4 <= cut) {
		size_t flen = be_uint(msg + off + 2, 2);

		if (flen < 4 || off + flen > cut)
			break;
		off += flen;
	}
	for (; off < cut; off++)
		if (msg[off])
			return 0;
	return 1;
}

/* Cut valid messages (built ones and every vendor payload) at every
 * length: no crash, no read outside the bytes (ASan), and an error
 * wherever the cut leaves part of a flowset. */
static inline void cut_everywhere(const uint8_t *msg, size_t len, const char *what)
{
	struct weir_exporter e = exp1();
	struct tmpl_cache *c = cache_new();
	struct rec_log log;

	log_init(&log, 4);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = malloc(cut ? cut : 1);
		struct weir_ctx ctx;
		int rc;

		memcpy(p, msg, cut);
		ctx_init(&ctx, &log, c);
		rc = nf9_decode(&ctx, &e, p, cut, RECV_NS);
		if (cut < NF9_HDR_LEN)
			cr_assert_eq(rc, WEIR_E_TRUNCATED, "%s cut %zu", what, cut);
		else if (!tail_is_padding(msg, cut))
			cr_assert(rc == WEIR_E_SET_LENGTH ||
				  (rc == WEIR_E_NO_TEMPLATE && ctx.errors[-WEIR_E_SET_LENGTH] == 1),
				  "%s cut %zu: %d", what, cut, rc);
		free(p);
	}
	log_free(&log);
	tmpl_cache_free(c);
}

#endif
