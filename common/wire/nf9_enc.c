/* nf9_enc.c - NetFlow v9 encoder (RFC 3954): message pieces, and flows ->
 * messages with the standard templates of nf9.h. */
#include <pthread.h>

#include "ie.h"
#include "nf9.h"

#define NS_PER_MS	1000000ull

/* ---- low level ---- */

static void nf9_invalid(struct nf9_wr *m)
{
	if (!m->w.err)
		m->w.err = WEIR_E_INVALID;
}

void nf9_msg_begin(struct nf9_wr *m, void *buf, size_t cap, const struct nf9_hdr *h)
{
	wr_init(&m->w, buf, cap);
	m->set_at = SIZE_MAX;
	m->set_id = 0;
	m->count = 0;
	wr_u16(&m->w, NF9_VERSION);
	wr_u16(&m->w, 0);		/* count, patched by nf9_msg_end() */
	wr_u32(&m->w, h->sys_uptime_ms);
	wr_u32(&m->w, h->unix_secs);
	wr_u32(&m->w, h->sequence);
	wr_u32(&m->w, h->source_id);
}

int nf9_msg_end(struct nf9_wr *m, size_t *len)
{
	if (m->set_at != SIZE_MAX)
		nf9_invalid(m);
	wr_put_u16(&m->w, 2, m->count);
	if (m->w.err)
		return m->w.err;
	*len = m->w.off;
	return WEIR_OK;
}

void nf9_set_begin(struct nf9_wr *m, uint16_t set_id)
{
	size_t at;

	if (m->set_at != SIZE_MAX) {
		nf9_invalid(m);
		return;
	}
	at = wr_reserve(&m->w, 4);
	if (at == SIZE_MAX)
		return;
	wr_put_u16(&m->w, at, set_id);
	m->set_at = at;
	m->set_id = set_id;
}

void nf9_set_end(struct nf9_wr *m)
{
	size_t len;

	if (m->set_at == SIZE_MAX) {
		nf9_invalid(m);
		return;
	}
	len = m->w.off - m->set_at;
	wr_zero(&m->w, (4 - len % 4) % 4);	/* RFC 3954 section 5.3 */
	len = m->w.off - m->set_at;
	if (len > 0xffff)
		nf9_invalid(m);
	wr_put_u16(&m->w, m->set_at + 2, (uint16_t)len);
	m->set_at = SIZE_MAX;
}

/* The v9 type of field i: IANA ids below 32768, vendor types (IE_PEN_V9)
 * from 32768, scope types (IE_PEN_V9, scope fields) as they are. */
static int nf9_type_of(const struct tmpl *t, uint16_t i, uint16_t *type)
{
	const struct tmpl_field *f = &t->f[i];

	*type = f->id;
	if (i < t->scope_count)
		return f->pen == IE_PEN_V9 || f->pen == IE_PEN_IANA;
	if (f->pen == IE_PEN_IANA)
		return f->id < 0x8000;
	if (f->pen == IE_PEN_V9)
		return f->id >= 0x8000;
	return 0;
}

void nf9_put_template(struct nf9_wr *m, const struct tmpl *t)
{
	int opt = t->scope_count > 0;
	uint16_t type;

	if (m->set_at == SIZE_MAX || m->set_id != (opt ? NF9_SET_OPTIONS : NF9_SET_TEMPLATE) ||
	    t->nfields == 0 || t->nfields > TMPL_MAX_FIELDS || t->scope_count > t->nfields ||
	    t->id < NF9_SET_DATA_MIN || m->count == 0xffff) {
		nf9_invalid(m);
		return;
	}
	for (uint16_t i = 0; i < t->nfields; i++) {
		if (!nf9_type_of(t, i, &type)) {
			nf9_invalid(m);
			return;
		}
	}
	wr_u16(&m->w, t->id);
	if (opt) {
		wr_u16(&m->w, (uint16_t)(t->scope_count * 4));
		wr_u16(&m->w, (uint16_t)((t->nfields - t->scope_count) * 4));
	} else {
		wr_u16(&m->w, t->nfields);
	}
	for (uint16_t i = 0; i < t->nfields; i++) {
		nf9_type_of(t, i, &type);
		wr_u16(&m->w, type);
		wr_u16(&m->w, t->f[i].len);
	}
	m->count++;
}

void nf9_put_record(struct nf9_wr *m, const struct tmpl *t, const struct weir_value *v)
{
	if (m->set_at == SIZE_MAX || m->set_id != t->id || m->count == 0xffff) {
		nf9_invalid(m);
		return;
	}
	for (uint16_t i = 0; i < t->nfields; i++) {
		uint32_t len = v[i].len;

		if (t->f[i].len == TMPL_VARLEN) {
			if (len > 0xffff) {
				nf9_invalid(m);
				return;
			}
			if (len < 255) {
				wr_u8(&m->w, (uint8_t)len);
			} else {
				wr_u8(&m->w, 255);
				wr_u16(&m->w, (uint16_t)len);
			}
		} else if (len != t->f[i].len) {
			nf9_invalid(m);
			return;
		}
		wr_bytes(&m->w, v[i].p, len);
	}
	m->count++;
}

/* ---- standard templates ---- */

#define F(i, l) { .pen = IE_PEN_IANA, .id = (i), .len = (l) }

static struct tmpl nf9_std4 = {
	.id = NF9_TID_V4, .nfields = 24, .proto = WEIR_PROTO_NF9,
	.f = {
		F(1, 8), F(2, 8), F(22, 4), F(21, 4),
		F(8, 4), F(12, 4), F(15, 4),
		F(10, 4), F(14, 4), F(16, 4), F(17, 4),
		F(7, 2), F(11, 2), F(32, 2), F(58, 2), F(59, 2),
		F(56, 6), F(80, 6),
		F(4, 1), F(5, 1), F(6, 1), F(9, 1), F(13, 1), F(61, 1),
	},
};

static struct tmpl nf9_std6 = {
	.id = NF9_TID_V6, .nfields = 25, .proto = WEIR_PROTO_NF9,
	.f = {
		F(1, 8), F(2, 8), F(22, 4), F(21, 4),
		F(27, 16), F(28, 16), F(62, 16),
		F(10, 4), F(14, 4), F(16, 4), F(17, 4),
		F(7, 2), F(11, 2), F(139, 2), F(58, 2), F(59, 2),
		F(56, 6), F(80, 6),
		F(4, 1), F(5, 1), F(6, 1), F(29, 1), F(30, 1), F(61, 1),
		F(31, 3),
	},
};

static struct tmpl nf9_samp = {
	.id = NF9_TID_SAMPLING, .nfields = 3, .scope_count = 1, .proto = WEIR_PROTO_NF9,
	.f = {
		{ .pen = IE_PEN_V9, .id = NF9_SCOPE_SYSTEM, .len = 4 },
		F(34, 4), F(35, 1),
	},
};

#undef F

static pthread_once_t nf9_once = PTHREAD_ONCE_INIT;

static void nf9_std_init(void)
{
	tmpl_finish(NULL, &nf9_std4);
	tmpl_finish(NULL, &nf9_std6);
	tmpl_finish(NULL, &nf9_samp);
}

const struct tmpl *nf9_std_template(int v6)
{
	pthread_once(&nf9_once, nf9_std_init);
	return v6 ? &nf9_std6 : &nf9_std4;
}

const struct tmpl *nf9_sampling_template(void)
{
	pthread_once(&nf9_once, nf9_std_init);
	return &nf9_samp;
}

/* ---- flows -> messages ---- */

static size_t pad4(size_t len)
{
	return (4 - len % 4) % 4;
}

static int flow_is_v6(const struct flow *f)
{
	static const struct weir_addr zero;

	if (weir_addr_is_v4(&f->src_addr))
		return 0;
	if (weir_addr_eq(&f->src_addr, &zero) && weir_addr_is_v4(&f->dst_addr))
		return 0;
	return 1;
}

static void put_addr(struct wr *w, const struct weir_addr *a, uint16_t len)
{
	wr_bytes(w, len == 16 ? a->a : a->a + 12, len == 16 ? 16 : 4);
}

static void put_flow(struct wr *w, const struct tmpl *t, const struct flow *f,
		     uint64_t boot_ms, uint32_t uptime)
{
	uint32_t first = uptime, last = uptime;

	if (f->has & FLOW_HAS_TIME_START)
		first = (uint32_t)(f->time_flow_start_ns / NS_PER_MS - boot_ms);
	if (f->has & FLOW_HAS_TIME_END)
		last = (uint32_t)(f->time_flow_end_ns / NS_PER_MS - boot_ms);
	for (uint16_t i = 0; i < t->nfields; i++) {
		uint16_t len = t->f[i].len;
		uint64_t u = 0;

		switch (t->f[i].id) {
		case 8: case 27:	put_addr(w, &f->src_addr, len); continue;
		case 12: case 28:	put_addr(w, &f->dst_addr, len); continue;
		case 15: case 62:	put_addr(w, &f->next_hop, len); continue;
		case 56:		wr_bytes(w, f->src_mac, 6); continue;
		case 80:		wr_bytes(w, f->dst_mac, 6); continue;
		case 1:   u = f->bytes; break;
		case 2:   u = f->packets; break;
		case 22:  u = first; break;
		case 21:  u = last; break;
		case 10:  u = f->in_if; break;
		case 14:  u = f->out_if; break;
		case 16:  u = f->src_as; break;
		case 17:  u = f->dst_as; break;
		case 7:   u = f->src_port; break;
		case 11:  u = f->dst_port; break;
		case 32: case 139: u = (uint32_t)f->icmp_type << 8 | f->icmp_code; break;
		case 58:  u = f->vlan_id; break;
		case 59:  u = f->dst_vlan_id; break;
		case 4:   u = f->proto; break;
		case 5:   u = f->ip_tos; break;
		case 6:   u = f->tcp_flags & 0xff; break;
		case 9: case 29:  u = f->src_net; break;
		case 13: case 30: u = f->dst_net; break;
		case 61:  u = f->flow_direction; break;
		case 31:  u = f->ipv6_flow_label & 0xfffff; break;
		}
		wr_uint(w, u, len);
	}
}

static void put_sampling(struct nf9_wr *m, const struct nf9_enc *e)
{
	const struct tmpl *t = nf9_sampling_template();

	nf9_set_begin(m, NF9_SET_OPTIONS);
	nf9_put_template(m, t);
	nf9_set_end(m);
	nf9_set_begin(m, t->id);
	wr_u32(&m->w, 0);			/* scope System: this exporter */
	wr_u32(&m->w, e->sampling_interval);
	wr_u8(&m->w, e->sampling_algorithm);
	m->count++;
	nf9_set_end(m);
}

int nf9_encode_flows(struct nf9_enc *e, const struct flow *flows, size_t n, int with_templates,
		     void *buf, size_t cap, size_t *len, size_t *used)
{
	uint64_t boot_ms = (uint64_t)e->hdr.unix_secs * 1000 - e->hdr.sys_uptime_ms;
	struct nf9_wr m;
	int cur = -1;		/* open data flowset: 0 IPv4, 1 IPv6 */
	size_t k;
	int err;

	nf9_msg_begin(&m, buf, cap, &e->hdr);
	if (with_templates) {
		nf9_set_begin(&m, NF9_SET_TEMPLATE);
		nf9_put_template(&m, nf9_std_template(0));
		nf9_put_template(&m, nf9_std_template(1));
		nf9_set_end(&m);
		if (e->sampling_interval)
			put_sampling(&m, e);
	}
	if (m.w.err)
		return m.w.err;
	for (k = 0; k < n; k++) {
		int v6 = flow_is_v6(&flows[k]);
		const struct tmpl *t = nf9_std_template(v6);
		/* The record and the padding of its flowset; on a family
		 * change also the padding of the closed flowset and a new
		 * header. */
		size_t set_len = cur == v6 ? m.w.off - m.set_at : 4;
		size_t need = t->min_len + pad4(set_len + t->min_len);

		if (cur != v6) {
			need += 4;
			if (cur >= 0)
				need += pad4(m.w.off - m.set_at);
		}

		if (wr_left(&m.w) < need || m.count == 0xffff)
			break;
		if (cur != v6) {
			if (cur >= 0)
				nf9_set_end(&m);
			nf9_set_begin(&m, t->id);
			cur = v6;
		}
		put_flow(&m.w, t, &flows[k], boot_ms, e->hdr.sys_uptime_ms);
		m.count++;
	}
	if (cur >= 0)
		nf9_set_end(&m);
	if (n > 0 && k == 0)
		return WEIR_E_NOSPACE;
	err = nf9_msg_end(&m, len);
	if (err)
		return err;
	e->hdr.sequence++;
	*used = k;
	return WEIR_OK;
}
