/* rec_json.c - one decoded record as raw JSON. See rec_json.h.
 *
 * Written by hand through the bounded writer of wr.h, as flow_json.c does:
 * a collector writes millions of these a second, so there is no printf on
 * the hot path (floats only), no allocation, and no lookup other than the
 * element definitions the template already points at. A write that does
 * not fit sets the writer's sticky error and rec_json() returns 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "ipfix_list.h"
#include "rd.h"
#include "rec_json.h"
#include "sflow.h"
#include "txt.h"
#include "wr.h"

#define IE_PADDING	210	/* paddingOctets: no information, not printed */

/* Fields of one list record kept on the stack per nesting level; a list
 * whose records have more is printed as hex. */
#define RJ_LIST_FIELDS	128

/* Bounds on what a list may expand to. A list's JSON may take at most
 * RJ_LIST_GROW bytes per byte of the list (plus RJ_LIST_SLACK), and may not
 * carry the record past RJ_LIST_CEIL; past either bound the list is printed
 * as hex. Without them a list of zero-length fields expands without bound;
 * with them a record of a 65535-byte message stays under REC_JSON_MAX:
 * at most RJ_LIST_CEIL of list JSON, then at most 1024 fields of name and
 * fixed-size value (about 130 bytes each) and 6 bytes per value byte. */
#define RJ_LIST_GROW	64
#define RJ_LIST_SLACK	256
#define RJ_LIST_CEIL	(REC_JSON_MAX / 8 * 3)

/* Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
#define NTP_UNIX_OFFSET	2208988800ull

struct rj {
	struct wr w;
	struct ipfix_list_env env;
	uint8_t proto;			/* enum weir_proto of the message */
	/* Keys of the record's own template, written already (cached). */
	const struct tmpl *kt;
	const struct rec_json_cache *kc;
};

/* Names seen in one record, for the "_2", "_3" suffixes: a 256-bit filter
 * on a cheap hash of the name; only a hit scans the fields before. */
struct seen {
	uint64_t bits[4];
};

#define PUT(w, lit)	wr_bytes((w), (lit), sizeof(lit) - 1)

/* ---- small text writers ---------------------------------------------- */

static void put_u64(struct wr *w, uint64_t v)
{
	wr_dec_u64(w, v);
}

static void put_i64(struct wr *w, int64_t v)
{
	wr_dec_i64(w, v);
}

/* A quoted lower-case hex string of n bytes. */
static void put_hex(struct wr *w, const uint8_t *p, size_t n)
{
	if (n > SIZE_MAX / 2 - 1 || !wr_room(w, 2 * n + 2))
		return;
	wr_u8(w, '"');
	wr_hex(w, p, n);
	wr_u8(w, '"');
}

static void put_mac(struct wr *w, const uint8_t *m)
{
	char tmp[WEIR_MAC_STRLEN + 2];

	tmp[0] = '"';
	weir_mac_fmt(tmp + 1, m);
	tmp[WEIR_MAC_STRLEN + 1] = '"';
	wr_bytes(w, tmp, sizeof(tmp));
}

/* A quoted address: 4 bytes (v6 == 0) or 16. */
static void put_ip(struct wr *w, const uint8_t *a, int v6)
{
	char tmp[WEIR_ADDR_STRLEN + 2];
	size_t n;

	tmp[0] = '"';
	n = v6 ? weir_fmt_v6(tmp + 1, a) : weir_fmt_v4(tmp + 1, a);
	tmp[n + 1] = '"';
	wr_bytes(w, tmp, n + 2);
}

/* A struct weir_addr: IPv4-mapped ones as IPv4, as weir_addr_str() does. */
static void put_addr(struct wr *w, const struct weir_addr *x)
{
	if (weir_addr_is_v4(x))
		put_ip(w, x->a + 12, 0);
	else
		put_ip(w, x->a, 1);
}

static void put_dbl(struct wr *w, double d, int digits)
{
	char tmp[40];
	int n;

	/* RFC 8259 section 6: NaN and infinities are not numbers in JSON. */
	if (!isfinite(d)) {
		PUT(w, "null");
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.*g", digits, d);
	if (n > 0 && (size_t)n < sizeof(tmp))
		wr_bytes(w, tmp, (size_t)n);
	else
		PUT(w, "null");
}

/* A JSON string of bytes from the network (wr_json_str, txt.h). Trailing
 * NUL bytes are dropped: exporters pad fixed-length string fields with
 * them. */
static void put_str(struct wr *w, const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	wr_json_str(w, p, n);
}

/* A C string known to need no escaping (our own key names, type names). */
static void put_cstr(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s));
}

static void put_bool(struct wr *w, int v)
{
	if (v)
		PUT(w, "true");
	else
		PUT(w, "false");
}

/* ---- values of template fields --------------------------------------- */

/* NTP timestamp (RFC 7011 section 6.1.9/6.1.10, RFC 5905 section 6) as
 * nanoseconds since 1970. Seconds with the top bit clear are taken as era
 * 1 (2036 on), as RFC 4330 section 3 suggests; an all-zero value (not set)
 * stays 0. dateTimeMicroseconds ignores the 11 low fraction bits and is
 * rounded to the microsecond. */
static int64_t ntp_ns(uint64_t x, int micro)
{
	uint64_t sec = x >> 32, frac = x & 0xFFFFFFFFu, sub;

	if (x == 0)
		return 0;
	if (!(sec & 0x80000000u))
		sec += 1ull << 32;
	if (micro)
		sub = ((frac & ~0x7FFull) * 1000000 + (1ull << 31)) >> 32;
	else
		sub = (frac * 1000000000 + (1ull << 31)) >> 32;
	return ((int64_t)sec - (int64_t)NTP_UNIX_OFFSET) * 1000000000 +
	       (int64_t)(micro ? sub * 1000 : sub);
}

static void put_object(struct rj *j, const struct tmpl *t, const struct weir_value *v,
		       unsigned lo, unsigned hi, const struct ipfix_list_it *parent,
		       struct seen *sn);

static int is_list(const struct tmpl_field *f, int type)
{
	if (f->def)
		return type == IE_T_BASICLIST || type == IE_T_STL || type == IE_T_STML;
	return f->pen == IE_PEN_IANA && f->id >= IPFIX_IE_BASICLIST && f->id <= IPFIX_IE_STML;
}

/* An RFC 6313 list as a JSON array: basicList elements as values,
 * subTemplate(Multi)List records as objects. A list that does not walk
 * (malformed, a template unknown, a block skipped, too deep, more fields
 * than RJ_LIST_FIELDS, or past the expansion bounds) is its hex string. */
static void put_list(struct rj *j, const struct tmpl_field *f, const struct weir_value *v,
		     const struct ipfix_list_it *parent)
{
	struct weir_value iv[RJ_LIST_FIELDS];
	struct ipfix_list_it it;
	const struct tmpl *lt;
	size_t mark = j->w.off;
	size_t budget = (size_t)v->len * RJ_LIST_GROW + RJ_LIST_SLACK;
	unsigned n = 0;
	int rc;

	if (j->w.err)
		return;
	if (mark >= RJ_LIST_CEIL || ipfix_list_open_field(&it, &j->env, parent, f, v))
		goto hex;
	wr_u8(&j->w, '[');
	while ((rc = ipfix_list_next(&it, &lt, iv, RJ_LIST_FIELDS)) == 1) {
		if (n++)
			wr_u8(&j->w, ',');
		if (it.kind == IPFIX_LIST_BASIC) {
			put_object(j, lt, iv, 0, 1, &it, NULL);
		} else {
			struct seen sn = { { 0 } };

			put_object(j, lt, iv, 0, lt->nfields, &it, &sn);
		}
		/* Out of room: the caller returns 0 and may retry larger. */
		if (j->w.err)
			return;
		if (j->w.off - mark > budget || j->w.off > RJ_LIST_CEIL)
			goto hex;
	}
	if (rc < 0 || it.skipped)
		goto hex;
	wr_u8(&j->w, ']');
	return;
hex:
	j->w.off = mark;
	j->w.err = WEIR_OK;
	put_hex(&j->w, v->p, v->len);
}

/* One field value, typed by its element's abstract data type (RFC 7011
 * section 6.1); a length that does not fit the type is printed as hex. */
static void put_value(struct rj *j, const struct tmpl_field *f, const struct weir_value *v,
		      const struct ipfix_list_it *parent)
{
	struct wr *w = &j->w;
	int type = f->def ? f->def->type : IE_T_OCTETS;
	const uint8_t *p = v->p;
	size_t len = v->len;

	switch (type) {
	case IE_T_U8: case IE_T_U16: case IE_T_U32: case IE_T_U64:
	case IE_T_DT_SEC: case IE_T_DT_MS:
		/* Any width up to 8: reduced-size encoding (RFC 7011 section
		 * 6.2), and the wider-than-defined fields some v9 exporters
		 * send (a 2-byte samplerId), which are still one number. */
		if (len == 0 || len > 8)
			break;
		put_u64(w, be_uint(p, len));
		return;
	case IE_T_I8: case IE_T_I16: case IE_T_I32: case IE_T_I64:
		if (len == 0 || len > 8)
			break;
		put_i64(w, be_int(p, len));
		return;
	case IE_T_F32:
	case IE_T_F64:
		if (len == 4) {
			uint32_t u = (uint32_t)be_uint(p, 4);
			float x;

			memcpy(&x, &u, 4);
			put_dbl(w, x, 9);
			return;
		}
		if (len == 8 && type == IE_T_F64) {
			uint64_t u = be_uint(p, 8);
			double x;

			memcpy(&x, &u, 8);
			put_dbl(w, x, 17);
			return;
		}
		break;
	case IE_T_BOOL:
		/* RFC 7011 section 6.1.5: 1 is true, 2 is false. */
		if (len != 1)
			break;
		if (p[0] == 1)
			PUT(w, "true");
		else if (p[0] == 2)
			PUT(w, "false");
		else
			PUT(w, "null");
		return;
	case IE_T_MAC:
		if (len != 6)
			break;
		put_mac(w, p);
		return;
	case IE_T_STRING:
		put_str(w, p, len);
		return;
	case IE_T_DT_US:
	case IE_T_DT_NS:
		if (len != 8)
			break;
		put_i64(w, ntp_ns(be_uint(p, 8), type == IE_T_DT_US));
		return;
	case IE_T_IPV4:
		if (len != 4)
			break;
		put_ip(w, p, 0);
		return;
	case IE_T_IPV6:
		if (len != 16)
			break;
		put_ip(w, p, 1);
		return;
	default:
		break;
	}
	if (j->proto == WEIR_PROTO_IPFIX && is_list(f, type)) {
		put_list(j, f, v, parent);
		return;
	}
	put_hex(w, p, len);
}

/* ---- field names ------------------------------------------------------ */

/* The field's name: its element's, else "<pen>_<id>" ("v9_<id>" for
 * NetFlow v9 vendor types) built in tmp (24 bytes). *esc is set when the
 * name holds '"' or '\': names loaded at run time may hold any printable
 * character (ie_csv.c), built-in ones never do. */
static const char *field_name(const struct tmpl_field *f, char *tmp, size_t *len, int *esc)
{
	size_t n, k = 0;

	*esc = 0;
	if (f->def) {
		const char *s = f->def->name;

		n = strcspn(s, "\"\\");
		if (s[n]) {
			*esc = 1;
			n += strlen(s + n);
		}
		*len = n;
		return s;
	}
	if (f->pen == IE_PEN_V9) {
		memcpy(tmp, "v9", 2);
		k = 2;
	} else {
		k = weir_dec_u64(tmp, f->pen);
	}
	tmp[k++] = '_';
	n = weir_dec_u64(tmp + k, f->id);
	*len = k + n;
	return tmp;
}

static unsigned name_hash(const char *s, size_t len)
{
	if (!len)
		return 0;
	return (unsigned)(len * 31 + (uint8_t)s[0] * 7 + (uint8_t)s[len / 2] * 3 +
			  (uint8_t)s[len - 1]) & 255;
}

static int skipped(const struct tmpl_field *f)
{
	return f->pen == IE_PEN_IANA && f->id == IE_PADDING;
}

/* 1 + the number of printed fields before i with the same name. */
static unsigned name_rank(const struct tmpl *t, unsigned i, const char *name, size_t len)
{
	unsigned r = 1;

	for (unsigned k = 0; k < i; k++) {
		char tmp[24];
		size_t l;
		const char *s;
		int esc;

		if (skipped(&t->f[k]))
			continue;
		if (t->f[k].def && t->f[k].def == t->f[i].def) {
			r++;
			continue;
		}
		s = field_name(&t->f[k], tmp, &l, &esc);
		if (l == len && memcmp(s, name, len) == 0)
			r++;
	}
	return r;
}

/* "name": or "name_2": for field i. */
static void put_field_key(struct wr *w, const struct tmpl *t, unsigned i, struct seen *sn)
{
	char tmp[24];
	size_t len;
	int esc;
	const char *name = field_name(&t->f[i], tmp, &len, &esc);
	unsigned rank = 1;

	if (sn) {
		unsigned h = name_hash(name, len);
		uint64_t bit = 1ull << (h & 63);

		if (sn->bits[h >> 6] & bit)
			rank = name_rank(t, i, name, len);
		sn->bits[h >> 6] |= bit;
	}
	if (!esc) {
		wr_u8(w, '"');
		wr_bytes(w, name, len);
	} else {
		put_str(w, (const uint8_t *)name, len);
		if (!w->err)
			w->off--;		/* reopen the string for the suffix */
	}
	if (rank > 1) {
		wr_u8(w, '_');
		put_u64(w, rank);
	}
	PUT(w, "\":");
}

/* Fields lo..hi-1 of a record as one JSON object (or, for a basicList
 * element, sn == NULL and one bare value). */
static void put_object(struct rj *j, const struct tmpl *t, const struct weir_value *v,
		       unsigned lo, unsigned hi, const struct ipfix_list_it *parent,
		       struct seen *sn)
{
	struct wr *w = &j->w;
	int first = 1;

	if (!sn) {
		put_value(j, &t->f[lo], &v[lo], parent);
		return;
	}
	wr_u8(w, '{');
	for (unsigned i = lo; i < hi && !w->err; i++) {
		if (skipped(&t->f[i]))
			continue;
		/* A field the template gives length 0 is legal (RFC 7011
		 * section 7) and carries no value: a record omits it. (Inside
		 * a list's records it stays, an empty string.) */
		if (!parent && !v[i].len && t->f[i].len != TMPL_VARLEN)
			continue;
		if (!first)
			wr_u8(w, ',');
		first = 0;
		if (t == j->kt && !parent)
			wr_bytes(w, j->kc->keys + j->kc->koff[i], j->kc->koff[i + 1] - j->kc->koff[i]);
		else
			put_field_key(w, t, i, sn);
		put_value(j, &t->f[i], &v[i], parent);
	}
	wr_u8(w, '}');
}

/* ---- record header ---------------------------------------------------- */

static void put_head(struct wr *w, const struct weir_msg *m)
{
	PUT(w, "{\"type\":\"");
	put_cstr(w, flow_type_name(m->proto));
	PUT(w, "\",\"exporter\":");
	if (m->exporter) {
		put_addr(w, &m->exporter->addr);
		PUT(w, ",\"exporter_port\":");
		put_u64(w, m->exporter->port);
	} else {
		PUT(w, "null,\"exporter_port\":null");
	}
}

/* Everything before "scope"/"fields": shared by the records of one
 * message and template. */
static void put_rec_head(struct wr *w, const struct weir_record *rec)
{
	const struct weir_msg *m = rec->msg;
	const struct tmpl *t = rec->t;

	put_head(w, m);
	PUT(w, ",\"observation_domain_id\":");
	put_u64(w, m->domain);
	PUT(w, ",\"template_id\":");
	put_u64(w, t->id);
	PUT(w, ",\"options\":");
	put_bool(w, rec->is_options);
	PUT(w, ",\"time_received_ns\":");
	put_u64(w, m->recv_time_ns);
	PUT(w, ",\"sequence_num\":");
	put_u64(w, m->sequence);
	PUT(w, ",\"export_time\":");
	put_u64(w, m->export_time);
	if (m->proto == WEIR_PROTO_NF5 || m->proto == WEIR_PROTO_NF9) {
		/* The base of the SysUpTime fields (flowStart/EndSysUpTime). */
		PUT(w, ",\"sys_uptime_ms\":");
		put_u64(w, m->sys_uptime_ms);
	}
	PUT(w, ",\"sampling_rate\":");
	put_u64(w, rec->sampling_rate);
}

static void put_rec_fields(struct rj *j, const struct weir_record *rec)
{
	struct wr *w = &j->w;
	const struct tmpl *t = rec->t;
	unsigned sc = rec->is_options ? t->scope_count : 0;
	struct seen sn = { { 0 } };

	if (sc > t->nfields)
		sc = t->nfields;
	if (rec->is_options) {
		PUT(w, ",\"scope\":");
		put_object(j, t, rec->v, 0, sc, NULL, &sn);
	}
	PUT(w, ",\"fields\":");
	put_object(j, t, rec->v, sc, t->nfields, NULL, &sn);
	PUT(w, "}\n");
}

/* ---- sFlow ------------------------------------------------------------ */

static void key_u64(struct wr *w, const char *k, uint64_t v)
{
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, k);
	PUT(w, "\":");
	put_u64(w, v);
}

static void key_addr(struct wr *w, const char *k, const struct weir_addr *a)
{
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, k);
	PUT(w, "\":");
	put_addr(w, a);
}

static void key_mac(struct wr *w, const char *k, const uint8_t *m)
{
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, k);
	PUT(w, "\":");
	put_mac(w, m);
}

/* "address" of an extended record: null when its type is UNKNOWN. */
static void key_sfaddr(struct wr *w, const char *k, uint32_t type, const struct weir_addr *a)
{
	if (type == SFLOW_ADDR_IPV4 || type == SFLOW_ADDR_IPV6) {
		key_addr(w, k, a);
		return;
	}
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, k);
	PUT(w, "\":null");
}

/* Counter structs are runs of uint32_t/uint64_t members: a table of
 * names, offsets and sizes prints them. */
struct cnt_col {
	const char *name;
	uint16_t off;
	uint8_t size;
};

#define CNT(s, m) { #m, offsetof(struct s, m), sizeof(((struct s *)0)->m) }

static const struct cnt_col if_cols[] = {
	CNT(sflow_if_counters, if_index), CNT(sflow_if_counters, if_type),
	CNT(sflow_if_counters, if_speed), CNT(sflow_if_counters, if_direction),
	CNT(sflow_if_counters, if_status), CNT(sflow_if_counters, in_octets),
	CNT(sflow_if_counters, in_ucast), CNT(sflow_if_counters, in_mcast),
	CNT(sflow_if_counters, in_bcast), CNT(sflow_if_counters, in_discards),
	CNT(sflow_if_counters, in_errors), CNT(sflow_if_counters, in_unknown_protos),
	CNT(sflow_if_counters, out_octets), CNT(sflow_if_counters, out_ucast),
	CNT(sflow_if_counters, out_mcast), CNT(sflow_if_counters, out_bcast),
	CNT(sflow_if_counters, out_discards), CNT(sflow_if_counters, out_errors),
	CNT(sflow_if_counters, promiscuous),
};

static const struct cnt_col eth_cols[] = {
	CNT(sflow_eth_counters, alignment_errors), CNT(sflow_eth_counters, fcs_errors),
	CNT(sflow_eth_counters, single_collisions), CNT(sflow_eth_counters, multiple_collisions),
	CNT(sflow_eth_counters, sqe_test_errors), CNT(sflow_eth_counters, deferred_transmissions),
	CNT(sflow_eth_counters, late_collisions), CNT(sflow_eth_counters, excessive_collisions),
	CNT(sflow_eth_counters, internal_mac_tx_errors),
	CNT(sflow_eth_counters, carrier_sense_errors),
	CNT(sflow_eth_counters, frame_too_longs), CNT(sflow_eth_counters, internal_mac_rx_errors),
	CNT(sflow_eth_counters, symbol_errors),
};

static void put_counters(struct wr *w, const char *name, const void *s,
			 const struct cnt_col *cols, size_t n)
{
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, name);
	PUT(w, "\":{");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)s + cols[i].off;
		uint64_t v;

		if (cols[i].size == 8) {
			memcpy(&v, p, 8);
		} else {
			uint32_t u;

			memcpy(&u, p, 4);
			v = u;
		}
		if (i)
			wr_u8(w, ',');
		wr_u8(w, '"');
		put_cstr(w, cols[i].name);
		PUT(w, "\":");
		put_u64(w, v);
	}
	wr_u8(w, '}');
}

/* sampled_header: what it declares, and the layers pkt_parse() found. */
static void put_raw_header(struct wr *w, const struct sflow_raw_header *h)
{
	const struct pkt_info *pi = &h->pkt;
	uint32_t l = pi->layers;

	PUT(w, ",\"raw_header\":{\"protocol\":");
	put_u64(w, h->protocol);
	key_u64(w, "frame_length", h->frame_length);
	key_u64(w, "stripped", h->stripped);
	key_u64(w, "header_length", h->len);
	if (!h->parsed) {
		PUT(w, ",\"header\":");
		put_hex(w, h->bytes, h->bytes ? h->len : 0);
		wr_u8(w, '}');
		return;
	}
	if (l & PKT_L_ETH) {
		key_mac(w, "src_mac", pi->src_mac);
		key_mac(w, "dst_mac", pi->dst_mac);
	}
	if (l & PKT_L_VLAN)
		key_u64(w, "vlan_id", pi->vlan_outer);
	if (l & PKT_L_QINQ)
		key_u64(w, "vlan_inner", pi->vlan_inner);
	if (l & PKT_L_MPLS) {
		unsigned n = pi->nlabels < PKT_MPLS_KEEP ? pi->nlabels : PKT_MPLS_KEEP;

		PUT(w, ",\"mpls\":[");
		for (unsigned i = 0; i < n; i++) {
			if (i)
				wr_u8(w, ',');
			put_u64(w, pi->mpls[i]);
		}
		wr_u8(w, ']');
	}
	if (pi->etype)
		key_u64(w, "etype", pi->etype);
	if (l & (PKT_L_IPV4 | PKT_L_IPV6)) {
		key_addr(w, "src_addr", &pi->src);
		key_addr(w, "dst_addr", &pi->dst);
		key_u64(w, "proto", pi->proto);
		key_u64(w, "ip_tos", pi->tos);
		key_u64(w, "ip_ttl", pi->ttl);
		key_u64(w, "ip_length", pi->ip_len);
		key_u64(w, "ip_flags", pi->ip_flags);
		key_u64(w, "fragment_offset", pi->frag_off);
		if (l & PKT_L_IPV6)
			key_u64(w, "ipv6_flow_label", pi->flow_label);
	}
	if (l & (PKT_L_TCP | PKT_L_UDP)) {
		key_u64(w, "src_port", pi->src_port);
		key_u64(w, "dst_port", pi->dst_port);
	}
	if (l & PKT_L_TCP)
		key_u64(w, "tcp_flags", pi->tcp_flags);
	if (l & (PKT_L_ICMP | PKT_L_ICMPV6)) {
		key_u64(w, "icmp_type", pi->icmp_type);
		key_u64(w, "icmp_code", pi->icmp_code);
	}
	if (pi->flags & PKT_F_TRUNCATED)
		PUT(w, ",\"truncated\":true");
	if (pi->flags & PKT_F_MALFORMED)
		PUT(w, ",\"malformed\":true");
	wr_u8(w, '}');
}

static void put_sflow_ip(struct wr *w, const char *name, const struct sflow_ip *ip, int v6)
{
	wr_u8(w, ',');
	wr_u8(w, '"');
	put_cstr(w, name);
	PUT(w, "\":{\"length\":");
	put_u64(w, ip->length);
	key_u64(w, "protocol", ip->protocol);
	key_addr(w, "src_addr", &ip->src);
	key_addr(w, "dst_addr", &ip->dst);
	key_u64(w, "src_port", ip->src_port);
	key_u64(w, "dst_port", ip->dst_port);
	key_u64(w, "tcp_flags", ip->tcp_flags);
	key_u64(w, v6 ? "priority" : "tos", ip->tos);
	wr_u8(w, '}');
}

static void put_gateway(struct wr *w, const struct sflow_gateway *g)
{
	uint32_t kept = g->as_path_len < SFLOW_AS_PATH_KEEP ? g->as_path_len : SFLOW_AS_PATH_KEEP;

	PUT(w, ",\"gateway\":{\"next_hop\":");
	if (g->nh_type == SFLOW_ADDR_IPV4 || g->nh_type == SFLOW_ADDR_IPV6)
		put_addr(w, &g->next_hop);
	else
		PUT(w, "null");
	key_u64(w, "as", g->as);
	key_u64(w, "src_as", g->src_as);
	key_u64(w, "src_peer_as", g->src_peer_as);
	key_u64(w, "dst_as", g->dst_as);
	key_u64(w, "dst_peer_as", g->dst_peer_as);
	key_u64(w, "as_path_segments", g->nsegments);
	key_u64(w, "as_path_len", g->as_path_len);
	PUT(w, ",\"as_path\":[");
	for (uint32_t i = 0; i < kept; i++) {
		if (i)
			wr_u8(w, ',');
		put_u64(w, g->as_path[i]);
	}
	PUT(w, "],\"communities\":[");
	for (uint32_t i = 0; g->communities && i < g->ncommunities && !w->err; i++) {
		if (i)
			wr_u8(w, ',');
		put_u64(w, sflow_community(g, i));
	}
	wr_u8(w, ']');
	key_u64(w, "local_pref", g->local_pref);
	wr_u8(w, '}');
}

static void put_sample(struct wr *w, const struct sflow_sample *s)
{
	uint32_t h = s->has;

	PUT(w, ",\"sample\":{\"kind\":");
	if (s->kind == SFLOW_KIND_FLOW)
		PUT(w, "\"flow\"");
	else if (s->kind == SFLOW_KIND_COUNTER)
		PUT(w, "\"counter\"");
	else
		put_u64(w, s->kind);
	PUT(w, ",\"expanded\":");
	put_bool(w, s->expanded);
	key_u64(w, "sequence", s->sequence);
	key_u64(w, "source_id_type", s->source_id_type);
	key_u64(w, "source_id_index", s->source_id_index);
	if (s->kind == SFLOW_KIND_FLOW) {
		key_u64(w, "sampling_rate", s->sampling_rate);
		key_u64(w, "sample_pool", s->sample_pool);
		key_u64(w, "drops", s->drops);
		key_u64(w, "input_format", s->input.format);
		key_u64(w, "input", s->input.value);
		key_u64(w, "output_format", s->output.format);
		key_u64(w, "output", s->output.value);
	}
	key_u64(w, "records", s->nrecords);
	key_u64(w, "unknown_records", s->unknown_records);
	if (h & SFLOW_HAS_HEADER)
		put_raw_header(w, &s->header);
	if (h & SFLOW_HAS_ETHERNET) {
		PUT(w, ",\"ethernet\":{\"length\":");
		put_u64(w, s->eth.length);
		key_mac(w, "src_mac", s->eth.src_mac);
		key_mac(w, "dst_mac", s->eth.dst_mac);
		key_u64(w, "type", s->eth.type);
		wr_u8(w, '}');
	}
	if (h & SFLOW_HAS_IPV4)
		put_sflow_ip(w, "ipv4", &s->ipv4, 0);
	if (h & SFLOW_HAS_IPV6)
		put_sflow_ip(w, "ipv6", &s->ipv6, 1);
	if (h & SFLOW_HAS_SWITCH) {
		PUT(w, ",\"switch\":{\"src_vlan\":");
		put_u64(w, s->sw.src_vlan);
		key_u64(w, "src_priority", s->sw.src_priority);
		key_u64(w, "dst_vlan", s->sw.dst_vlan);
		key_u64(w, "dst_priority", s->sw.dst_priority);
		wr_u8(w, '}');
	}
	if (h & SFLOW_HAS_ROUTER) {
		PUT(w, ",\"router\":{\"src_mask\":");
		put_u64(w, s->router.src_mask);
		key_u64(w, "dst_mask", s->router.dst_mask);
		key_sfaddr(w, "next_hop", s->router.nh_type, &s->router.next_hop);
		wr_u8(w, '}');
	}
	if (h & SFLOW_HAS_GATEWAY)
		put_gateway(w, &s->gw);
	if (h & SFLOW_HAS_IF_COUNTERS)
		put_counters(w, "if_counters", &s->ifc, if_cols, sizeof(if_cols) / sizeof(if_cols[0]));
	if (h & SFLOW_HAS_ETH_COUNTERS)
		put_counters(w, "ethernet_counters", &s->ethc, eth_cols,
			     sizeof(eth_cols) / sizeof(eth_cols[0]));
	wr_u8(w, '}');
}

static void put_sflow_record(struct wr *w, const struct weir_record *rec)
{
	const struct weir_msg *m = rec->msg;

	put_head(w, m);
	PUT(w, ",\"agent\":");
	put_addr(w, &m->agent);
	key_u64(w, "sub_agent_id", m->domain);
	key_u64(w, "sequence_num", m->sequence);
	key_u64(w, "sys_uptime_ms", m->sys_uptime_ms);
	key_u64(w, "time_received_ns", m->recv_time_ns);
	put_sample(w, rec->sflow);
	PUT(w, "}\n");
}

size_t rec_json(const struct weir_record *rec, char *buf, size_t cap)
{
	struct rj j;

	wr_init(&j.w, buf, cap);
	if (!rec || !rec->msg)
		return 0;
	j.proto = rec->msg->proto;
	if (rec->sflow) {
		put_sflow_record(&j.w, rec);
	} else if (rec->t) {
		memset(&j.env, 0, sizeof(j.env));
		j.env.src = rec->msg->src;
		/* The registry the decoder typed this record's fields with
		 * types the elements of basicLists too. tmpl.h exports no
		 * accessor from a source to its cache: its back pointer it is. */
		j.env.ies = tmpl_source_ies(rec->msg->src);
		/* The decoder handed this record out only after its lists
		 * passed its own (lower or equal) nesting bound. */
		j.env.max_depth = IPFIX_LIST_DEPTH_HARD;
		j.env.now_ns = rec->msg->recv_time_ns;
		j.kt = NULL;
		j.kc = NULL;
		put_rec_head(&j.w, rec);
		put_rec_fields(&j, rec);
	} else {
		return 0;
	}
	return j.w.err ? 0 : j.w.off;
}

/* ---- the cache -------------------------------------------------------- */

static int head_matches(const struct rec_json_cache *c, const struct weir_record *rec)
{
	const struct weir_msg *m = rec->msg;

	if (!c->head_len || c->recv_time_ns != m->recv_time_ns || c->sequence != m->sequence ||
	    c->tid != rec->t->id || c->proto != m->proto || c->is_options != rec->is_options ||
	    c->sampling_rate != rec->sampling_rate || c->domain != m->domain ||
	    c->export_time != m->export_time || c->sys_uptime_ms != m->sys_uptime_ms ||
	    c->has_exporter != (m->exporter != NULL))
		return 0;
	return !m->exporter || (c->exporter.port == m->exporter->port &&
				weir_addr_eq(&c->exporter.addr, &m->exporter->addr));
}

static void head_fill(struct rec_json_cache *c, const struct weir_record *rec)
{
	const struct weir_msg *m = rec->msg;
	struct wr w;

	wr_init(&w, c->head, sizeof(c->head));
	put_rec_head(&w, rec);
	c->head_len = w.err ? 0 : (uint16_t)w.off;
	c->recv_time_ns = m->recv_time_ns;
	c->sequence = m->sequence;
	c->tid = rec->t->id;
	c->proto = m->proto;
	c->is_options = rec->is_options;
	c->sampling_rate = rec->sampling_rate;
	c->domain = m->domain;
	c->export_time = m->export_time;
	c->sys_uptime_ms = m->sys_uptime_ms;
	c->has_exporter = m->exporter != NULL;
	if (m->exporter)
		c->exporter = *m->exporter;
}

/* The field list of t, as far as the keys depend on it. */
static uint64_t keys_sig(const struct tmpl *t)
{
	uint64_t h = (uint64_t)t->nfields << 32 | t->scope_count;

	for (unsigned i = 0; i < t->nfields; i++) {
		h ^= (uint64_t)t->f[i].pen << 16 ^ t->f[i].id ^ (uint64_t)(uintptr_t)t->f[i].def;
		h *= 0x9e3779b97f4a7c15ull;
	}
	return h;
}

/* The "name": keys of t's fields, in index order with one name filter for
 * the whole record (scope, then fields), as put_object() writes them. */
static void keys_fill(struct rec_json_cache *c, const struct tmpl *t, uint64_t sig)
{
	struct seen sn = { { 0 } };
	struct wr w;

	c->kt = NULL;
	if (t->nfields > REC_JSON_KEYS_FIELDS)
		return;
	wr_init(&w, c->keys, sizeof(c->keys));
	for (unsigned i = 0; i < t->nfields; i++) {
		c->koff[i] = (uint16_t)w.off;
		if (!skipped(&t->f[i]))
			put_field_key(&w, t, i, &sn);
		if (w.err)
			return;
	}
	c->koff[t->nfields] = (uint16_t)w.off;
	c->nkeys = t->nfields;
	c->kt = t;
	c->ksig = sig;
}

size_t rec_json_cached(const struct weir_record *rec, char *buf, size_t cap, struct rec_json_cache *c)
{
	uint64_t sig;
	struct rj j;

	if (!rec || !rec->msg || !rec->t || rec->sflow)
		return rec_json(rec, buf, cap);
	if (!head_matches(c, rec))
		head_fill(c, rec);
	if (!c->head_len)
		return rec_json(rec, buf, cap);
	sig = keys_sig(rec->t);
	if (c->kt != rec->t || c->ksig != sig || c->nkeys != rec->t->nfields)
		keys_fill(c, rec->t, sig);
	wr_init(&j.w, buf, cap);
	j.proto = rec->msg->proto;
	memset(&j.env, 0, sizeof(j.env));
	j.env.src = rec->msg->src;
	j.env.ies = tmpl_source_ies(rec->msg->src);
	j.env.max_depth = IPFIX_LIST_DEPTH_HARD;
	j.env.now_ns = rec->msg->recv_time_ns;
	j.kt = c->kt == rec->t ? rec->t : NULL;
	j.kc = c;
	wr_bytes(&j.w, c->head, c->head_len);
	put_rec_fields(&j, rec);
	return j.w.err ? 0 : j.w.off;
}
