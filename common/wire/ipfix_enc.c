/* ipfix_enc.c - IPFIX (RFC 7011) encoder: messages, sets, templates,
 * records, RFC 6313 lists, and struct flow -> messages. */
#include <stdlib.h>
#include <string.h>

#include "ipfix.h"

static int wr_fail(struct wr *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

/* ---- messages and sets ---- */

int ipfix_msg_begin(struct ipfix_wmsg *m, struct wr *w, uint32_t export_time,
		    uint32_t sequence, uint32_t domain)
{
	m->w = w;
	m->msg_at = w->off;
	m->set_at = SIZE_MAX;
	m->set_id = 0;
	m->records = 0;
	wr_u16(w, IPFIX_VERSION);
	wr_u16(w, 0);		/* length, patched by ipfix_msg_end */
	wr_u32(w, export_time);
	wr_u32(w, sequence);
	wr_u32(w, domain);
	return w->err;
}

int ipfix_set_end(struct ipfix_wmsg *m, unsigned align)
{
	struct wr *w = m->w;
	size_t at = m->set_at, len;

	if (at == SIZE_MAX)
		return wr_fail(w, WEIR_E_INVALID);
	m->set_at = SIZE_MAX;
	len = w->off - at;
	if (align > 1 && len % align)
		wr_zero(w, align - len % align);
	if (w->err)
		return w->err;
	len = w->off - at;
	if (len > IPFIX_MSG_MAX)
		return wr_fail(w, WEIR_E_INVALID);
	wr_put_u16(w, at + 2, (uint16_t)len);
	return WEIR_OK;
}

int ipfix_msg_end(struct ipfix_wmsg *m)
{
	struct wr *w = m->w;
	size_t len;

	if (m->set_at != SIZE_MAX)
		ipfix_set_end(m, 0);
	if (w->err)
		return w->err;
	len = w->off - m->msg_at;
	if (len > IPFIX_MSG_MAX)
		return wr_fail(w, WEIR_E_INVALID);
	wr_put_u16(w, m->msg_at + 2, (uint16_t)len);
	return (int)len;
}

int ipfix_set_begin(struct ipfix_wmsg *m, uint16_t set_id)
{
	struct wr *w = m->w;

	if (m->set_at != SIZE_MAX)
		ipfix_set_end(m, 0);
	m->set_at = w->off;
	m->set_id = set_id;
	wr_u16(w, set_id);
	wr_u16(w, 0);		/* length, patched by ipfix_set_end */
	if (w->err)
		m->set_at = SIZE_MAX;
	return w->err;
}

/* ---- templates ---- */

static int field_spec_ok(const struct tmpl_field *f)
{
	return f->pen != IE_PEN_V9 && !(f->id & IPFIX_ENTERPRISE_BIT);
}

size_t ipfix_template_size(const struct tmpl *t)
{
	size_t need = t->scope_count ? 6 : 4;

	for (unsigned i = 0; i < t->nfields; i++)
		need += t->f[i].pen ? 8 : 4;
	return need;
}

int ipfix_write_template(struct ipfix_wmsg *m, const struct tmpl *t)
{
	struct wr *w = m->w;
	uint16_t want = t->scope_count ? IPFIX_SET_OPTIONS : IPFIX_SET_TEMPLATE;
	size_t need = ipfix_template_size(t);

	if (m->set_at == SIZE_MAX || m->set_id != want || t->id < IPFIX_SET_DATA_MIN ||
	    t->nfields == 0 || t->scope_count > t->nfields)
		return wr_fail(w, WEIR_E_INVALID);
	for (unsigned i = 0; i < t->nfields; i++) {
		if (!field_spec_ok(&t->f[i]))
			return wr_fail(w, WEIR_E_INVALID);
	}
	/* All or nothing: a template cut in half would corrupt the set. */
	if (!wr_room(w, need))
		return w->err;
	wr_u16(w, t->id);
	wr_u16(w, t->nfields);
	if (t->scope_count)
		wr_u16(w, t->scope_count);
	for (unsigned i = 0; i < t->nfields; i++) {
		const struct tmpl_field *f = &t->f[i];

		wr_u16(w, f->pen ? (uint16_t)(f->id | IPFIX_ENTERPRISE_BIT) : f->id);
		wr_u16(w, f->len);
		if (f->pen)
			wr_u32(w, f->pen);
	}
	return w->err;
}

int ipfix_write_withdrawal(struct ipfix_wmsg *m, uint16_t id)
{
	struct wr *w = m->w;

	if (m->set_at == SIZE_MAX ||
	    (m->set_id != IPFIX_SET_TEMPLATE && m->set_id != IPFIX_SET_OPTIONS) ||
	    (id < IPFIX_SET_DATA_MIN && id != m->set_id))
		return wr_fail(w, WEIR_E_INVALID);
	if (!wr_room(w, 4))
		return w->err;
	wr_u16(w, id);
	wr_u16(w, 0);
	return w->err;
}

struct tmpl *ipfix_tmpl_new(uint16_t id, uint16_t nfields, uint16_t scope_count)
{
	struct tmpl *t = calloc(1, sizeof(*t) + (size_t)nfields * sizeof(t->f[0]));

	if (!t)
		return NULL;
	t->id = id;
	t->nfields = nfields;
	t->scope_count = scope_count;
	t->proto = IPFIX_VERSION;
	t->sampler_field = -1;
	t->rate_field = -1;
	return t;
}

void ipfix_tmpl_field(struct tmpl *t, uint16_t i, uint32_t pen, uint16_t id, uint16_t len)
{
	if (i >= t->nfields)
		return;
	t->f[i].pen = pen;
	t->f[i].id = id;
	t->f[i].len = len;
	tmpl_finish(NULL, t);
}

/* ---- values and records ---- */

int ipfix_put_varlen(struct wr *w, const void *p, size_t len, int long_form)
{
	if (len > 0xFFFF)
		return wr_fail(w, WEIR_E_INVALID);
	if (len < IPFIX_VARLEN_LONG && !long_form) {
		if (!wr_room(w, 1 + len))
			return w->err;
		wr_u8(w, (uint8_t)len);
	} else {
		if (!wr_room(w, 3 + len))
			return w->err;
		wr_u8(w, IPFIX_VARLEN_LONG);
		wr_u16(w, (uint16_t)len);
	}
	wr_bytes(w, p, len);
	return w->err;
}

/* Bytes of one record, or 0 when a value does not suit its field. */
static size_t record_size(const struct tmpl *t, const struct weir_value *v)
{
	size_t n = 0;

	for (unsigned i = 0; i < t->nfields; i++) {
		uint16_t fl = t->f[i].len;

		if (fl == TMPL_VARLEN) {
			if (v[i].len > 0xFFFF || (v[i].len && !v[i].p))
				return 0;
			n += (v[i].len < IPFIX_VARLEN_LONG ? 1 : 3) + v[i].len;
		} else {
			if (v[i].len != fl || (fl && !v[i].p))
				return 0;
			n += fl;
		}
	}
	return n;
}

size_t ipfix_data_size(const struct tmpl *t, const struct weir_value *v)
{
	return record_size(t, v);
}

static int put_record(struct wr *w, const struct tmpl *t, const struct weir_value *v)
{
	size_t n = record_size(t, v);

	if (n == 0)
		return wr_fail(w, WEIR_E_INVALID);
	if (!wr_room(w, n))
		return w->err;
	for (unsigned i = 0; i < t->nfields; i++) {
		if (t->f[i].len == TMPL_VARLEN)
			ipfix_put_varlen(w, v[i].p, v[i].len, 0);
		else
			wr_bytes(w, v[i].p, v[i].len);
	}
	return w->err;
}

int ipfix_write_data(struct ipfix_wmsg *m, const struct tmpl *t, const struct weir_value *v)
{
	int err;

	if (m->set_at == SIZE_MAX || m->set_id != t->id)
		return wr_fail(m->w, WEIR_E_INVALID);
	err = put_record(m->w, t, v);
	if (!err)
		m->records++;
	return err;
}

/* ---- RFC 6313 lists (section 4.5) ---- */

int ipfix_write_basic_list(struct wr *w, uint8_t semantic, uint32_t pen, uint16_t id,
			   uint16_t elem_len, const struct weir_value *v, size_t n)
{
	size_t need = pen ? 9 : 5;

	if (pen == IE_PEN_V9 || (id & IPFIX_ENTERPRISE_BIT))
		return wr_fail(w, WEIR_E_INVALID);
	for (size_t i = 0; i < n; i++) {
		if (elem_len == TMPL_VARLEN) {
			if (v[i].len > 0xFFFF)
				return wr_fail(w, WEIR_E_INVALID);
			need += (v[i].len < IPFIX_VARLEN_LONG ? 1 : 3) + v[i].len;
		} else {
			if (v[i].len != elem_len)
				return wr_fail(w, WEIR_E_INVALID);
			need += elem_len;
		}
	}
	if (!wr_room(w, need))
		return w->err;
	wr_u8(w, semantic);
	wr_u16(w, pen ? (uint16_t)(id | IPFIX_ENTERPRISE_BIT) : id);
	wr_u16(w, elem_len);
	if (pen)
		wr_u32(w, pen);
	for (size_t i = 0; i < n; i++) {
		if (elem_len == TMPL_VARLEN)
			ipfix_put_varlen(w, v[i].p, v[i].len, 0);
		else
			wr_bytes(w, v[i].p, v[i].len);
	}
	return w->err;
}

static int put_records(struct wr *w, const struct tmpl *t, const struct weir_value *v,
		       size_t n)
{
	for (size_t r = 0; r < n && !w->err; r++)
		put_record(w, t, v + r * t->nfields);
	return w->err;
}

int ipfix_write_stl(struct wr *w, uint8_t semantic, const struct tmpl *t,
		    const struct weir_value *v, size_t n)
{
	if (t->id < IPFIX_SET_DATA_MIN)
		return wr_fail(w, WEIR_E_INVALID);
	wr_u8(w, semantic);
	wr_u16(w, t->id);
	return put_records(w, t, v, n);
}

int ipfix_write_stml_begin(struct wr *w, uint8_t semantic)
{
	wr_u8(w, semantic);
	return w->err;
}

int ipfix_write_stml_block(struct wr *w, const struct tmpl *t, const struct weir_value *v,
			   size_t n)
{
	size_t at = w->off, len;

	if (t->id < IPFIX_SET_DATA_MIN)
		return wr_fail(w, WEIR_E_INVALID);
	wr_u16(w, t->id);
	wr_u16(w, 0);		/* block length, header included */
	if (put_records(w, t, v, n))
		return w->err;
	len = w->off - at;
	if (len > 0xFFFF)
		return wr_fail(w, WEIR_E_INVALID);
	wr_put_u16(w, at + 2, (uint16_t)len);
	return WEIR_OK;
}

size_t ipfix_varlen_begin(struct wr *w)
{
	size_t at = w->off;

	if (!wr_room(w, 3))
		return SIZE_MAX;
	wr_u8(w, IPFIX_VARLEN_LONG);
	wr_u16(w, 0);
	return at;
}

int ipfix_varlen_end(struct wr *w, size_t at)
{
	size_t len;

	if (w->err)
		return w->err;
	if (at == SIZE_MAX || at > w->off || w->off - at < 3)
		return wr_fail(w, WEIR_E_INVALID);
	len = w->off - at - 3;
	if (len > 0xFFFF)
		return wr_fail(w, WEIR_E_INVALID);
	wr_put_u16(w, at + 1, (uint16_t)len);
	return WEIR_OK;
}

/* ---- struct flow -> messages ---- */

enum std_what {
	F_BYTES, F_PACKETS, F_START, F_END, F_SRC, F_DST, F_SPORT, F_DPORT, F_PROTO,
	F_TOS, F_TCP_FLAGS, F_IN_IF, F_OUT_IF, F_SRC_AS, F_DST_AS, F_SRC_MASK, F_DST_MASK,
	F_NEXT_HOP, F_SRC_MAC, F_DST_MAC, F_VLAN, F_SAMPLER,
};

struct std_field {
	uint8_t what;			/* enum std_what */
	uint16_t id4, id6;		/* IANA element for IPv4 / IPv6 templates */
	uint16_t len4, len6;
};

/* RFC 7012 / IANA registry element ids and sizes. Times are patched to the
 * nanosecond elements (156, 157) when time_ns. */
static const struct std_field std_fields[] = {
	{ F_BYTES,	1,   1,   8, 8 },	/* octetDeltaCount */
	{ F_PACKETS,	2,   2,   8, 8 },	/* packetDeltaCount */
	{ F_START,	152, 152, 8, 8 },	/* flowStartMilliseconds */
	{ F_END,	153, 153, 8, 8 },	/* flowEndMilliseconds */
	{ F_SRC,	8,   27,  4, 16 },	/* source{IPv4,IPv6}Address */
	{ F_DST,	12,  28,  4, 16 },	/* destination{IPv4,IPv6}Address */
	{ F_SPORT,	7,   7,   2, 2 },	/* sourceTransportPort */
	{ F_DPORT,	11,  11,  2, 2 },	/* destinationTransportPort */
	{ F_PROTO,	4,   4,   1, 1 },	/* protocolIdentifier */
	{ F_TOS,	5,   5,   1, 1 },	/* ipClassOfService */
	{ F_TCP_FLAGS,	6,   6,   2, 2 },	/* tcpControlBits */
	{ F_IN_IF,	10,  10,  4, 4 },	/* ingressInterface */
	{ F_OUT_IF,	14,  14,  4, 4 },	/* egressInterface */
	{ F_SRC_AS,	16,  16,  4, 4 },	/* bgpSourceAsNumber */
	{ F_DST_AS,	17,  17,  4, 4 },	/* bgpDestinationAsNumber */
	{ F_SRC_MASK,	9,   29,  1, 1 },	/* source{IPv4,IPv6}PrefixLength */
	{ F_DST_MASK,	13,  30,  1, 1 },	/* destination{IPv4,IPv6}PrefixLength */
	{ F_NEXT_HOP,	15,  62,  4, 16 },	/* ipNextHop{IPv4,IPv6}Address */
	{ F_SRC_MAC,	56,  56,  6, 6 },	/* sourceMacAddress */
	{ F_DST_MAC,	80,  80,  6, 6 },	/* destinationMacAddress */
	{ F_VLAN,	58,  58,  2, 2 },	/* vlanId */
	{ F_SAMPLER,	48,  48,  1, 1 },	/* samplerId (LEGACY sampling only) */
};

#define STD_NFIELDS	(sizeof(std_fields) / sizeof(std_fields[0]))
#define NTP_EPOCH_OFF	2208988800ull	/* 1900-01-01 to 1970-01-01, seconds */

static int enc_sampled(const struct ipfix_flow_enc_cfg *cfg)
{
	return cfg->sampling_interval > 1;
}

static struct tmpl *std_template(const struct ipfix_flow_enc_cfg *cfg, uint16_t tid, int v6)
{
	int with_sampler = enc_sampled(cfg) && cfg->sampling_style == IPFIX_SAMPLING_LEGACY;
	uint16_t n = (uint16_t)(STD_NFIELDS - (with_sampler ? 0 : 1));
	struct tmpl *t = ipfix_tmpl_new(tid, n, 0);

	if (!t)
		return NULL;
	for (uint16_t i = 0; i < n; i++) {
		const struct std_field *s = &std_fields[i];
		uint16_t id = v6 ? s->id6 : s->id4;

		if (cfg->time_ns && s->what == F_START)
			id = 156;	/* flowStartNanoseconds */
		if (cfg->time_ns && s->what == F_END)
			id = 157;	/* flowEndNanoseconds */
		t->f[i].pen = IE_PEN_IANA;
		t->f[i].id = id;
		t->f[i].len = v6 ? s->len6 : s->len4;
	}
	tmpl_finish(NULL, t);
	return t;
}

struct tmpl *ipfix_sampling_tmpl_new(uint16_t tid, int style)
{
	struct tmpl *t = ipfix_tmpl_new(tid, style == IPFIX_SAMPLING_LEGACY ? 3 : 4, 1);

	if (!t)
		return NULL;
	if (style == IPFIX_SAMPLING_LEGACY) {
		t->f[0] = (struct tmpl_field){ .id = 48, .len = 1 };	/* samplerId (scope) */
		t->f[1] = (struct tmpl_field){ .id = 34, .len = 4 };	/* samplingInterval */
		t->f[2] = (struct tmpl_field){ .id = 35, .len = 1 };	/* samplingAlgorithm */
	} else {
		t->f[0] = (struct tmpl_field){ .id = 149, .len = 4 };	/* observationDomainId (scope) */
		t->f[1] = (struct tmpl_field){ .id = 304, .len = 2 };	/* selectorAlgorithm */
		t->f[2] = (struct tmpl_field){ .id = 305, .len = 4 };	/* samplingPacketInterval */
		t->f[3] = (struct tmpl_field){ .id = 306, .len = 4 };	/* samplingPacketSpace */
	}
	tmpl_finish(NULL, t);
	return t;
}

int ipfix_write_sampling(struct ipfix_wmsg *m, const struct tmpl *t, int style, uint32_t scope,
			 uint32_t interval)
{
	struct wr *w = m->w;

	if (m->set_at == SIZE_MAX || m->set_id != t->id || interval < 1 ||
	    t->nfields != (style == IPFIX_SAMPLING_LEGACY ? 3 : 4))
		return wr_fail(w, WEIR_E_INVALID);
	if (!wr_room(w, t->min_len))
		return w->err;
	if (style == IPFIX_SAMPLING_LEGACY) {
		wr_u8(w, (uint8_t)scope);
		wr_u32(w, interval);
		wr_u8(w, 1);		/* deterministic */
	} else {
		wr_u32(w, scope);
		wr_u16(w, 1);		/* systematic count-based, RFC 5477 8.2.1 */
		wr_u32(w, 1);		/* 1 packet selected ... */
		wr_u32(w, interval - 1);	/* ... of every interval */
	}
	m->records++;
	return w->err;
}

void ipfix_flow_enc_free(struct ipfix_flow_enc *e)
{
	free(e->t4);
	free(e->t6);
	free(e->topt);
	e->t4 = e->t6 = e->topt = NULL;
}

int ipfix_flow_enc_init(struct ipfix_flow_enc *e, const struct ipfix_flow_enc_cfg *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	if (!e->cfg.tid_v4)
		e->cfg.tid_v4 = 256;
	if (!e->cfg.tid_v6)
		e->cfg.tid_v6 = 257;
	if (!e->cfg.tid_opt)
		e->cfg.tid_opt = 258;
	if (!e->cfg.sampler_id)
		e->cfg.sampler_id = 1;
	if (e->cfg.tid_v4 < IPFIX_SET_DATA_MIN || e->cfg.tid_v6 < IPFIX_SET_DATA_MIN ||
	    e->cfg.tid_opt < IPFIX_SET_DATA_MIN || e->cfg.tid_v4 == e->cfg.tid_v6 ||
	    (enc_sampled(&e->cfg) &&
	     (e->cfg.tid_opt == e->cfg.tid_v4 || e->cfg.tid_opt == e->cfg.tid_v6)))
		return WEIR_E_INVALID;
	e->t4 = std_template(&e->cfg, e->cfg.tid_v4, 0);
	e->t6 = std_template(&e->cfg, e->cfg.tid_v6, 1);
	if (enc_sampled(&e->cfg))
		e->topt = ipfix_sampling_tmpl_new(e->cfg.tid_opt, e->cfg.sampling_style);
	if (!e->t4 || !e->t6 || (enc_sampled(&e->cfg) && !e->topt)) {
		ipfix_flow_enc_free(e);
		return WEIR_E_NOMEM;
	}
	return WEIR_OK;
}

static int flow_is_v6(const struct flow *f)
{
	if (f->has & FLOW_HAS_ETYPE)
		return f->etype == 0x86dd;
	return !weir_addr_is_v4(&f->src_addr);
}

/* RFC 7011 section 6.1.10: dateTimeNanoseconds is an NTP timestamp. The
 * fraction is rounded up so that a reader truncating it gets ns back. */
static uint64_t ns_to_ntp(uint64_t ns)
{
	uint64_t sec = ns / 1000000000ull, rem = ns % 1000000000ull;
	uint64_t frac = ((rem << 32) + 999999999ull) / 1000000000ull;

	return ((sec + NTP_EPOCH_OFF) << 32) | frac;
}

static void put_addr(struct wr *w, const struct weir_addr *a, int v6)
{
	if (v6)
		wr_bytes(w, a->a, 16);
	else
		wr_bytes(w, a->a + 12, 4);
}

static void put_time(struct wr *w, const struct ipfix_flow_enc *e, uint64_t ns)
{
	wr_u64(w, e->cfg.time_ns ? ns_to_ntp(ns) : ns / 1000000ull);
}

static void put_flow(struct wr *w, const struct ipfix_flow_enc *e, const struct tmpl *t,
		     const struct flow *f, int v6)
{
	for (unsigned i = 0; i < t->nfields; i++) {
		switch (std_fields[i].what) {
		case F_BYTES:	  wr_u64(w, f->bytes); break;
		case F_PACKETS:	  wr_u64(w, f->packets); break;
		case F_START:	  put_time(w, e, f->time_flow_start_ns); break;
		case F_END:	  put_time(w, e, f->time_flow_end_ns); break;
		case F_SRC:	  put_addr(w, &f->src_addr, v6); break;
		case F_DST:	  put_addr(w, &f->dst_addr, v6); break;
		case F_SPORT:	  wr_u16(w, f->src_port); break;
		case F_DPORT:	  wr_u16(w, f->dst_port); break;
		case F_PROTO:	  wr_u8(w, f->proto); break;
		case F_TOS:	  wr_u8(w, f->ip_tos); break;
		case F_TCP_FLAGS: wr_u16(w, f->tcp_flags); break;
		case F_IN_IF:	  wr_u32(w, f->in_if); break;
		case F_OUT_IF:	  wr_u32(w, f->out_if); break;
		case F_SRC_AS:	  wr_u32(w, f->src_as); break;
		case F_DST_AS:	  wr_u32(w, f->dst_as); break;
		case F_SRC_MASK:  wr_u8(w, f->src_net); break;
		case F_DST_MASK:  wr_u8(w, f->dst_net); break;
		case F_NEXT_HOP:  put_addr(w, &f->next_hop, v6); break;
		case F_SRC_MAC:	  wr_bytes(w, f->src_mac, 6); break;
		case F_DST_MAC:	  wr_bytes(w, f->dst_mac, 6); break;
		case F_VLAN:	  wr_u16(w, f->vlan_id); break;
		case F_SAMPLER:	  wr_u8(w, e->cfg.sampler_id); break;
		}
	}
}

static void put_options(struct ipfix_wmsg *m, const struct ipfix_flow_enc *e)
{
	int legacy = e->cfg.sampling_style == IPFIX_SAMPLING_LEGACY;

	ipfix_set_begin(m, IPFIX_SET_OPTIONS);
	ipfix_write_template(m, e->topt);
	ipfix_set_begin(m, e->topt->id);
	ipfix_write_sampling(m, e->topt, e->cfg.sampling_style,
			     legacy ? e->cfg.sampler_id : e->cfg.domain, e->cfg.sampling_interval);
	ipfix_set_end(m, 0);
}

static size_t templates_size(const struct ipfix_flow_enc *e)
{
	size_t n = IPFIX_SET_HDR_LEN + 4 + 4u * e->t4->nfields + 4 + 4u * e->t6->nfields;

	if (e->topt)
		n += IPFIX_SET_HDR_LEN + 6 + 4u * e->topt->nfields +
		     IPFIX_SET_HDR_LEN + e->topt->min_len;
	return n;
}

size_t ipfix_flow_enc_fit(const struct ipfix_flow_enc *e, size_t mtu, int v6, int with_templates)
{
	size_t over = IPFIX_HDR_LEN + IPFIX_SET_HDR_LEN;
	size_t rec = v6 ? e->t6->min_len : e->t4->min_len;

	if (mtu > IPFIX_MSG_MAX)
		mtu = IPFIX_MSG_MAX;
	if (with_templates)
		over += templates_size(e);
	return mtu > over ? (mtu - over) / rec : 0;
}

int ipfix_flow_enc_msg(struct ipfix_flow_enc *e, uint8_t *buf, size_t cap,
		       uint32_t export_time, const struct flow *flows, size_t n,
		       int with_templates, size_t *used)
{
	struct ipfix_wmsg m;
	struct wr w;
	size_t i;
	int cur = -1, len;

	*used = 0;
	wr_init(&w, buf, cap > IPFIX_MSG_MAX ? IPFIX_MSG_MAX : cap);
	ipfix_msg_begin(&m, &w, export_time, e->sequence, e->cfg.domain);
	if (with_templates) {
		ipfix_set_begin(&m, IPFIX_SET_TEMPLATE);
		ipfix_write_template(&m, e->t4);
		ipfix_write_template(&m, e->t6);
		if (e->topt)
			put_options(&m, e);
		else
			ipfix_set_end(&m, 0);
	}
	if (w.err)
		return w.err;
	for (i = 0; i < n; i++) {
		int v6 = flow_is_v6(&flows[i]);
		const struct tmpl *t = v6 ? e->t6 : e->t4;

		if (wr_left(&w) < t->min_len + (cur != v6 ? IPFIX_SET_HDR_LEN : 0u))
			break;
		if (cur != v6) {
			ipfix_set_begin(&m, t->id);
			cur = v6;
		}
		put_flow(&w, e, t, &flows[i], v6);
		m.records++;
	}
	if (i == 0 && n > 0)
		return WEIR_E_NOSPACE;
	len = ipfix_msg_end(&m);
	if (len < 0)
		return len;
	e->sequence += m.records;
	*used = i;
	return len;
}
