/* ipfixhelp.h - what the IPFIX unit tests (test_ipfix*.c) share: a log of
 * decoded records copied out of the callback (views die when it returns),
 * the decoder fixture, IPFIX headers and sets built by hand over msgbuild.h's
 * byte builder (for what the encoder refuses), templates from (pen, id, len)
 * specs, and template, data and flow messages made with the encoder. */
#ifndef WEIR_TEST_IPFIXHELP_H
#define WEIR_TEST_IPFIXHELP_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "ipfix.h"
#include "rd.h"
#include "rec_json.h"
#include "tmpl.h"
#include "wr.h"

#include "msgbuild.h"

#define NOW 1700000000000000000ull

/* ---- record log: views die with the callback, so copy them ---- */

#define RC_MAX 512
#define RC_FIELDS 48
#define RC_BYTES 40

struct rec_copy {
	uint16_t tid;
	uint16_t nfields;
	uint8_t is_options;
	uint32_t sampling_rate;
	uint32_t export_time, sequence, domain;
	uint64_t recv_ns;
	uint32_t pen[RC_FIELDS];
	uint16_t id[RC_FIELDS];
	uint32_t len[RC_FIELDS];
	uint8_t val[RC_FIELDS][RC_BYTES];
	int flow_err;
	struct flow fl;
};

struct rlog {
	size_t n;
	size_t stop_after;
	char json0[2048];	/* the first record in the raw JSON format */
	struct rec_copy r[RC_MAX];
};

static inline int on_rec(const struct weir_record *rec, void *user)
{
	struct rlog *lg = user;

	if (lg->n < RC_MAX) {
		struct rec_copy *c = &lg->r[lg->n];

		memset(c, 0, sizeof(*c));
		c->tid = rec->t->id;
		c->nfields = rec->t->nfields;
		c->is_options = rec->is_options;
		c->sampling_rate = rec->sampling_rate;
		c->export_time = rec->msg->export_time;
		c->sequence = rec->msg->sequence;
		c->domain = rec->msg->domain;
		c->recv_ns = rec->msg->recv_time_ns;
		for (unsigned i = 0; i < rec->t->nfields && i < RC_FIELDS; i++) {
			c->pen[i] = rec->t->f[i].pen;
			c->id[i] = rec->t->f[i].id;
			c->len[i] = rec->v[i].len;
			memcpy(c->val[i], rec->v[i].p,
			       rec->v[i].len < RC_BYTES ? rec->v[i].len : RC_BYTES);
		}
		c->flow_err = flow_from_record(rec, &c->fl);
	}
	if (lg->n == 0)
		lg->json0[rec_json(rec, lg->json0, sizeof(lg->json0) - 1)] = '\0';
	lg->n++;
	return lg->stop_after && lg->n >= lg->stop_after;
}

/* Value of field (pen, id) of a logged record; NULL when absent. */
static inline const uint8_t *fv(const struct rec_copy *c, uint32_t pen, uint16_t id, uint32_t *len)
{
	for (unsigned i = 0; i < c->nfields && i < RC_FIELDS; i++) {
		if (c->pen[i] == pen && c->id[i] == id) {
			if (len)
				*len = c->len[i];
			return c->val[i];
		}
	}
	return NULL;
}

static inline uint64_t fu(const struct rec_copy *c, uint32_t pen, uint16_t id)
{
	uint32_t len = 0;
	const uint8_t *p = fv(c, pen, id, &len);

	cr_assert_not_null(p, "field %u/%u missing", pen, id);
	return be_uint(p, len);
}

static inline int v4eq(const struct weir_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	uint8_t b[4] = { x, y, z, w };
	struct weir_addr e;

	weir_addr_v4(&e, b);
	return weir_addr_eq(a, &e);
}

/* ---- fixture ---- */

struct fx {
	struct tmpl_cache *c;
	struct weir_ctx ctx;
	struct rlog *lg;
	struct weir_exporter e;
};

static inline void fx_init(struct fx *f, int with_cache)
{
	struct tmpl_limits lim;
	uint8_t a[4] = { 192, 0, 2, 1 };

	memset(f, 0, sizeof(*f));
	tmpl_limits_default(&lim);
	if (with_cache) {
		f->c = tmpl_cache_new(&lim, NULL);
		cr_assert_not_null(f->c);
	}
	f->lg = calloc(1, sizeof(*f->lg));
	cr_assert_not_null(f->lg);
	f->ctx.cache = f->c;
	f->ctx.on_record = on_rec;
	f->ctx.user = f->lg;
	weir_addr_v4(&f->e.addr, a);
	f->e.port = 40000;
}

static inline void fx_fini(struct fx *f)
{
	tmpl_cache_free(f->c);
	free(f->lg);
}

static inline int dec(struct fx *f, const uint8_t *b, size_t n)
{
	return ipfix_decode(&f->ctx, &f->e, b, n, NOW);
}

static inline struct tmpl_source *fx_src(struct fx *f, uint32_t domain)
{
	return tmpl_source_get(f->c, &f->e, domain, 0);
}

/* ---- building messages by hand, for what the encoder refuses (msgbuild.h's
 * byte builder; here the IPFIX header and set framing) ---- */

static inline void ipx_hdr(struct mb *m, uint32_t t, uint32_t seq, uint32_t dom)
{
	m->n = 0;
	mb_u16(m, 10);
	mb_u16(m, 0);
	mb_u32(m, t);
	mb_u32(m, seq);
	mb_u32(m, dom);
}
static inline size_t ipx_set(struct mb *m, uint16_t id)
{
	size_t at = m->n;

	mb_u16(m, id);
	mb_u16(m, 0);
	return at;
}
static inline void ipx_set_end(struct mb *m, size_t at) { mb_put16(m, at + 2, (uint16_t)(m->n - at)); }
static inline void ipx_end(struct mb *m) { mb_put16(m, 2, (uint16_t)m->n); }

/* A template from a spec of (pen, id, len) triples; caller frees. */
static inline struct tmpl *mkt(uint16_t id, uint16_t scope, size_t n, const uint32_t spec[][3])
{
	struct tmpl *t = ipfix_tmpl_new(id, (uint16_t)n, scope);

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		ipfix_tmpl_field(t, (uint16_t)i, spec[i][0], (uint16_t)spec[i][1],
				 (uint16_t)spec[i][2]);
	return t;
}

/* Message with the templates of ts[] in one set each kind. */
static inline size_t msg_templates(uint8_t *buf, size_t cap, uint32_t seq, struct tmpl **ts, size_t n)
{
	struct ipfix_wmsg m;
	struct wr w;
	int len;

	wr_init(&w, buf, cap);
	ipfix_msg_begin(&m, &w, 1000, seq, 0);
	for (size_t i = 0; i < n; i++) {
		uint16_t sid = ts[i]->scope_count ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE;

		if (m.set_at == SIZE_MAX || m.set_id != sid)
			cr_assert_eq(ipfix_set_begin(&m, sid), WEIR_OK);
		cr_assert_eq(ipfix_write_template(&m, ts[i]), WEIR_OK);
	}
	len = ipfix_msg_end(&m);
	cr_assert_gt(len, 0);
	return (size_t)len;
}

/* ---- flows ---- */

static inline void mkflows(struct flow *f, size_t n, int ns)
{
	memset(f, 0, n * sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		int v6 = i % 3 == 2;
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				   (uint8_t)(i >> 8), (uint8_t)i };

		f[i].bytes = 1000000000000ull + i * 977;
		f[i].packets = 1000 + i;
		f[i].time_flow_start_ns = 1700000000000000000ull + i * 1000000ull +
					  (ns ? i * 7919 % 1000000 : 0);
		f[i].time_flow_end_ns = f[i].time_flow_start_ns + 5000000000ull + (ns ? 1 : 0);
		if (v6) {
			weir_addr_v6(&f[i].src_addr, a6);
			a6[15] ^= 0xff;
			weir_addr_v6(&f[i].dst_addr, a6);
			a6[15] = 1;
			weir_addr_v6(&f[i].next_hop, a6);
		} else {
			weir_addr_v4u(&f[i].src_addr, 0x0a000000u + (uint32_t)i);
			weir_addr_v4u(&f[i].dst_addr, 0xc6336400u + (uint32_t)i);
			weir_addr_v4u(&f[i].next_hop, 0xc0000201u);
		}
		f[i].etype = v6 ? 0x86dd : 0x0800;
		f[i].src_port = (uint16_t)(1024 + i);
		f[i].dst_port = (uint16_t)(i % 2 ? 443 : 53);
		f[i].proto = i % 2 ? 6 : 17;
		f[i].ip_tos = (uint8_t)(i * 4);
		f[i].tcp_flags = i % 2 ? 0x1b : 0;
		f[i].in_if = 10 + (uint32_t)i;
		f[i].out_if = 20 + (uint32_t)i;
		f[i].src_as = 64512 + (uint32_t)i;
		f[i].dst_as = 4200000000u + (uint32_t)i;
		f[i].src_net = v6 ? 48 : 24;
		f[i].dst_net = v6 ? 64 : 16;
		for (int k = 0; k < 6; k++) {
			f[i].src_mac[k] = (uint8_t)(0x10 + k + i);
			f[i].dst_mac[k] = (uint8_t)(0x80 + k + i);
		}
		f[i].vlan_id = (uint16_t)(100 + i);
		f[i].has = FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_BYTES |
			   FLOW_HAS_PACKETS | FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR |
			   FLOW_HAS_ETYPE | FLOW_HAS_PROTO | FLOW_HAS_SRC_PORT |
			   FLOW_HAS_DST_PORT | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
			   FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_VLAN | FLOW_HAS_TOS |
			   FLOW_HAS_TCP_FLAGS | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS |
			   FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET;
	}
}

static inline size_t data_msg(uint8_t *buf, size_t cap, uint32_t et, uint32_t seq,
		       const struct tmpl *t, uint32_t first, size_t nrec)
{
	struct ipfix_wmsg m;
	struct wr w;
	uint8_t vals[16][8];
	struct weir_value v[16];
	int n;

	wr_init(&w, buf, cap);
	ipfix_msg_begin(&m, &w, et, seq, 0);
	ipfix_set_begin(&m, t->id);
	for (size_t r = 0; r < nrec; r++) {
		for (unsigned i = 0; i < t->nfields; i++) {
			uint64_t x = first + r;

			for (unsigned k = 0; k < t->f[i].len; k++)
				vals[i][k] = (uint8_t)(x >> (8 * (t->f[i].len - 1 - k)));
			v[i].p = vals[i];
			v[i].len = t->f[i].len;
		}
		cr_assert_eq(ipfix_write_data(&m, t, v), WEIR_OK);
	}
	n = ipfix_msg_end(&m);
	cr_assert_gt(n, 0);
	return (size_t)n;
}

#endif
