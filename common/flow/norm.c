/* norm.c - any decoded template record -> struct flow (the common format).
 *
 * One engine, driven by one table. norm_fields[] describes each common
 * field once: which elements feed it, in which precedence, and how a value
 * converts. When a template is built, norm_compile() walks that table
 * against the template's fields and writes down, per common field, the one
 * source it will take and the step that loads, converts and stores it (a
 * plan, kept in the template's room for a layer above, tmpl.ext). A record
 * then costs one step per common field its template carries, the same steps
 * for every record of the template; nothing else decides per record but
 * what only a value can tell (an address family, an IP version, whether a
 * time base is known yet).
 *
 * The steps run by threaded dispatch (GNU C labels as values): every step
 * jumps straight to the next one's code, so each has its own indirect
 * branch to predict. An earlier design walked the fields with one switch
 * per field; its single shared indirect jump mispredicted so often that it
 * cost half the decode+normalize time.
 *
 * Sources a field can take: an element of the template that is not a scope
 * field, not of length 0, and of a length its conversion accepts (unsigned
 * values any width 1..8 by reduced-size encoding, RFC 7011 section 6.2;
 * addresses 4 or 16, MACs 6, NTP times 8). A variable-length field is no
 * source: RFC 7011 section 7 gives variable length to strings and octet
 * arrays, not to the types mapped here. Where one element appears twice,
 * the first one feeds.
 */
#include <stddef.h>
#include <string.h>

#include "flow.h"
#include "ie.h"
#include "norm_int.h"
#include "rd.h"

#define NS_PER_S	1000000000ull
#define NTP_EPOCH_OFF	2208988800ull	/* 1900-01-01 to 1970-01-01 in seconds */
#define NORM_OPS	32	/* one per common field at most */
#define NORM_MAX_IE	256	/* mapped IANA elements are below this */

/* ---- the description: one row per common field ---- */

/* How a source value becomes the field. */
enum conv {
	C_U = 1,	/* unsigned, stored at the field's width */
	C_VLAN,		/* low 12 bits */
	C_LABEL,	/* low 20 bits (IPv6 flow label) */
	C_HI8, C_LO8,	/* high / low byte of a 16-bit value (icmpTypeCode) */
	C_ADDR4, C_ADDR6,	/* address; C_ADDR4 with a pair: the family is a value's */
	C_MAC,
	C_FAM4, C_FAM6,	/* etype from which address family feeds the flow */
	C_IPVER,	/* etype from ipVersion (4 or 6, else nothing) */
	C_NTP_NS, C_NTP_US,	/* RFC 7011 6.1.9/6.1.10 NTP timestamps */
	C_MS, C_SEC,	/* since the epoch */
	C_DELTA_US,	/* microseconds before the export time */
	C_UPTIME,	/* milliseconds of the exporter's uptime */
};

struct norm_src {
	uint8_t ie;		/* IANA element id (all below NORM_MAX_IE) */
	uint8_t conv;		/* enum conv */
	uint8_t pair;		/* C_ADDR4/C_FAM4: the IPv6 element of the same fact */
};

struct norm_field {
	uint8_t dst;		/* offsetof(struct flow, ...) */
	uint8_t w;		/* its width in bytes */
	uint8_t bit;		/* FLOW_HAS_* bit number */
	struct norm_src src[6];	/* in precedence order; ie 0 ends */
};

#define F(fld) (uint8_t)offsetof(struct flow, fld), (uint8_t)sizeof(((struct flow *)0)->fld)
#define HAS(b) (uint8_t)__builtin_ctzll(FLOW_HAS_##b)

/* Precedence, where several elements give one fact: delta counters before
 * totals before post-observation counters; MACs and VLANs before the
 * observation point first; ipTTL, then maximum, then minimum TTL; times the
 * finest first (ns, us, ms, s, delta, uptime). Addresses: an IPv4 and an
 * IPv6 element of one fact in one template (Procera sends both, zeroing the
 * family a flow does not use): IPv6 wins only when it is set and IPv4 not. */
static const struct norm_field norm_fields[] = {
	{ F(bytes), HAS(BYTES), { { 1, C_U, 0 }, { 85, C_U, 0 }, { 23, C_U, 0 } } },
	{ F(packets), HAS(PACKETS), { { 2, C_U, 0 }, { 86, C_U, 0 }, { 24, C_U, 0 } } },
	{ F(proto), HAS(PROTO), { { 4, C_U, 0 } } },
	{ F(ip_tos), HAS(TOS), { { 5, C_U, 0 } } },
	{ F(tcp_flags), HAS(TCP_FLAGS), { { 6, C_U, 0 } } },
	{ F(src_port), HAS(SRC_PORT), { { 7, C_U, 0 } } },
	{ F(dst_port), HAS(DST_PORT), { { 11, C_U, 0 } } },
	{ F(in_if), HAS(IN_IF), { { 10, C_U, 0 } } },
	{ F(out_if), HAS(OUT_IF), { { 14, C_U, 0 } } },
	{ F(src_net), HAS(SRC_NET), { { 9, C_U, 0 }, { 29, C_U, 0 } } },
	{ F(dst_net), HAS(DST_NET), { { 13, C_U, 0 }, { 30, C_U, 0 } } },
	{ F(src_as), HAS(SRC_AS), { { 16, C_U, 0 } } },
	{ F(dst_as), HAS(DST_AS), { { 17, C_U, 0 } } },
	{ F(flow_direction), HAS(DIRECTION), { { 61, C_U, 0 } } },
	{ F(ip_flags), HAS(FRAG), { { 197, C_U, 0 } } },
	{ F(fragment_offset), HAS(FRAG), { { 88, C_U, 0 } } },
	{ F(ipv6_flow_label), HAS(FLOW_LABEL), { { 31, C_LABEL, 0 } } },
	{ F(src_addr), HAS(SRC_ADDR), { { 8, C_ADDR4, 27 }, { 27, C_ADDR6, 0 } } },
	{ F(dst_addr), HAS(DST_ADDR), { { 12, C_ADDR4, 28 }, { 28, C_ADDR6, 0 } } },
	{ F(etype), HAS(ETYPE), { { 8, C_FAM4, 27 }, { 27, C_FAM6, 0 }, { 12, C_FAM4, 28 },
				  { 28, C_FAM6, 0 }, { 60, C_IPVER, 0 } } },
	{ F(next_hop), HAS(NEXT_HOP), { { 15, C_ADDR4, 62 }, { 62, C_ADDR6, 0 } } },
	{ F(bgp_next_hop), HAS(BGP_NEXT_HOP), { { 18, C_ADDR4, 63 }, { 63, C_ADDR6, 0 } } },
	{ F(src_mac), HAS(SRC_MAC), { { 56, C_MAC, 0 }, { 81, C_MAC, 0 } } },
	{ F(dst_mac), HAS(DST_MAC), { { 80, C_MAC, 0 }, { 57, C_MAC, 0 } } },
	{ F(vlan_id), HAS(VLAN), { { 58, C_VLAN, 0 }, { 243, C_VLAN, 0 } } },
	{ F(dst_vlan_id), HAS(DST_VLAN), { { 59, C_VLAN, 0 }, { 254, C_VLAN, 0 } } },
	{ F(ip_ttl), HAS(TTL), { { 192, C_U, 0 }, { 53, C_U, 0 }, { 52, C_U, 0 } } },
	{ F(icmp_type), HAS(ICMP), { { 32, C_HI8, 0 }, { 139, C_HI8, 0 }, { 176, C_U, 0 },
				     { 178, C_U, 0 } } },
	{ F(icmp_code), HAS(ICMP), { { 32, C_LO8, 0 }, { 139, C_LO8, 0 }, { 177, C_U, 0 },
				     { 179, C_U, 0 } } },
	{ F(time_flow_start_ns), HAS(TIME_START), { { 156, C_NTP_NS, 0 }, { 154, C_NTP_US, 0 },
		{ 152, C_MS, 0 }, { 150, C_SEC, 0 }, { 158, C_DELTA_US, 0 }, { 22, C_UPTIME, 0 } } },
	{ F(time_flow_end_ns), HAS(TIME_END), { { 157, C_NTP_NS, 0 }, { 155, C_NTP_US, 0 },
		{ 153, C_MS, 0 }, { 151, C_SEC, 0 }, { 159, C_DELTA_US, 0 }, { 21, C_UPTIME, 0 } } },
};

#define NFIELDS (sizeof(norm_fields) / sizeof(norm_fields[0]))
_Static_assert(NFIELDS <= NORM_OPS, "one step per common field");
_Static_assert(sizeof(struct flow) <= 255, "field offsets fit a byte");

/* systemInitTimeMilliseconds: the base of IPFIX flowStart/EndSysUpTime. */
#define IE_SYS_INIT_MS	160

int norm_ie_mapped(uint32_t pen, uint16_t id)
{
	if (pen != IE_PEN_IANA || id == 0 || id >= NORM_MAX_IE)
		return 0;
	if (id == IE_SYS_INIT_MS)
		return 1;
	for (size_t k = 0; k < NFIELDS; k++)
		for (const struct norm_src *s = norm_fields[k].src; s < norm_fields[k].src + 6 && s->ie; s++)
			if (s->ie == id)
				return 1;
	return 0;
}

/* ---- the plan: what a template's records take, step by step ---- */

/* Step kinds. K_U + source width class * 4 + field width class are the
 * plain unsigned loads of 1, 2, 4 or 8 bytes; every other conversion loads
 * by the length it was compiled with. */
enum {
	K_END = 0,
	K_U = 1,		/* .. 16 */
	K_UN = 17,		/* + field width class: odd source widths (3, 5, 6, 7) */
	K_ADDR4 = 21, K_ADDR16, K_ADDR_PICK, K_MAC, K_CONST16, K_FAM_PICK, K_IPVER,
	K_VLAN, K_LABEL, K_HI8, K_LO8, K_NTP_NS, K_NTP_US, K_MS, K_SEC, K_DELTA_US, K_UPTIME,
	K_MS8, K_SEC4,	/* the same at their usual widths: no test of the width */
	K_UP5, K_UP9,	/* 4-byte uptimes of v5 and v9: the header's, known protocol */
	/* Two steps of one kind in a row, done on one dispatch (the second
	 * slot keeps its own kind, unused): K_U2 + the K_U class, and the
	 * pairs that fixed templates have (two addresses, two times). */
	K_U2,		/* .. K_U2 + 15 */
	K_ADDR4_2 = K_U2 + 16, K_MS8_2, K_SEC4_2, K_UP5_2, K_UP9_2,
	K_COUNT
};

/* One step: load the source, convert by kind, store at dst in struct flow.
 * A plan holds its steps twice, alike but for src: at byte src of a
 * fixed-layout record (op_off), or the value of field src (op_idx); a
 * step with no source (K_CONST16) has src 0. A K_ADDR_PICK or K_FAM_PICK step is
 * followed by a second slot that only names the IPv6 source. Four bytes a
 * step: a record's steps stay in one cache line, and what few kinds need
 * besides (norm_aux) lies apart. */
struct norm_op {
	uint8_t kind;
	uint8_t dst;
	uint16_t src;
};

struct norm_aux {
	uint8_t len;		/* source length */
	uint8_t bit;		/* FLOW_HAS_* bit number, for steps that may give nothing */
	uint16_t val;		/* K_CONST16: the value */
};

/* What normalization derives from a template once (tmpl.ext). */
struct norm_plan {
	uint64_t has;			/* FLOW_HAS_* the steps set */
	uint16_t last;			/* offset of the last field in a fixed layout */
	uint8_t fixed;			/* no variable-length field: offsets hold */
	uint8_t nops;
	uint16_t sys_init;		/* 1 + index of an inline systemInitTimeMilliseconds */
	uint8_t sys_init_len;
	uint8_t needs_base;		/* IPFIX uptimes: a time base is looked up */
	/* Pick steps take two slots. */
	struct norm_op op_off[NORM_OPS + 8];
	struct norm_op op_idx[NORM_OPS + 8];
	struct norm_aux aux[NORM_OPS + 8];
};

_Static_assert(sizeof(struct norm_op) == sizeof(struct norm_aux), "aux[i] is a constant away");

_Static_assert(sizeof(struct norm_plan) <= TMPL_EXT_BYTES, "the plan fits tmpl.ext");
_Static_assert(K_COUNT < 256, "step kinds fit a byte");

static int width_class(unsigned w)
{
	switch (w) {
	case 1:  return 0;
	case 2:  return 1;
	case 4:  return 2;
	case 8:  return 3;
	default: return -1;
	}
}

/* Whether a field of length len can feed conversion conv. */
static int len_ok(unsigned conv, unsigned len)
{
	switch (conv) {
	case C_ADDR4: case C_FAM4:	return len == 4;
	case C_ADDR6: case C_FAM6:	return len == 16;
	case C_MAC:			return len == 6;
	case C_NTP_NS: case C_NTP_US:	return len == 8;
	default:			return len >= 1 && len <= 8;
	}
}

struct nc {
	const struct tmpl *t;
	struct norm_plan *pl;
	uint32_t off[TMPL_MAX_FIELDS];
	int16_t at[NORM_MAX_IE];	/* element id -> first field feeding it, -1 none */
};

static void nc_op(struct nc *c, unsigned kind, const struct norm_field *d, int i, uint16_t off)
{
	struct norm_plan *pl = c->pl;
	unsigned n = pl->nops++;

	pl->op_off[n].kind = pl->op_idx[n].kind = (uint8_t)kind;
	pl->op_off[n].dst = pl->op_idx[n].dst = d->dst;
	pl->op_off[n].src = i >= 0 ? (uint16_t)c->off[i] : 0;
	pl->op_idx[n].src = i >= 0 ? (uint16_t)i : 0;
	pl->aux[n].len = i >= 0 ? (uint8_t)c->t->f[i].len : 0;
	pl->aux[n].bit = d->bit;
	pl->aux[n].val = off;
}

/* The IPv6 partner of source s, if the template has it at length 16. */
static int nc_pair(const struct nc *c, const struct norm_src *s)
{
	int j = s->pair ? c->at[s->pair] : -1;

	return j >= 0 && c->t->f[j].len == 16 ? j : -1;
}

/* The step for field d from its source s at field i. */
static void nc_step(struct nc *c, const struct norm_field *d, const struct norm_src *s, int i)
{
	static const uint8_t kind[] = {
		[C_VLAN] = K_VLAN, [C_LABEL] = K_LABEL, [C_HI8] = K_HI8, [C_LO8] = K_LO8,
		[C_MAC] = K_MAC, [C_ADDR6] = K_ADDR16, [C_IPVER] = K_IPVER,
		[C_NTP_NS] = K_NTP_NS, [C_NTP_US] = K_NTP_US, [C_MS] = K_MS, [C_SEC] = K_SEC,
		[C_DELTA_US] = K_DELTA_US, [C_UPTIME] = K_UPTIME,
	};
	int sw = width_class(c->t->f[i].len), dw = width_class(d->w), j;

	switch (s->conv) {
	case C_U:
		if (sw >= 0)
			nc_op(c, K_U + (unsigned)sw * 4 + (unsigned)dw, d, i, 0);
		else
			nc_op(c, K_UN + (unsigned)dw, d, i, 0);
		break;
	case C_ADDR4:
	case C_FAM4:
		if ((j = nc_pair(c, s)) >= 0) {
			nc_op(c, s->conv == C_ADDR4 ? K_ADDR_PICK : K_FAM_PICK, d, i, 0);
			nc_op(c, K_END, d, j, 0);
		} else if (s->conv == C_ADDR4) {
			nc_op(c, K_ADDR4, d, i, 0);
		} else {
			nc_op(c, K_CONST16, d, -1, 0x0800);
		}
		break;
	case C_FAM6:
		nc_op(c, K_CONST16, d, -1, 0x86dd);
		break;
	case C_MS:
		nc_op(c, sw == 3 ? K_MS8 : K_MS, d, i, 0);
		break;
	case C_SEC:
		nc_op(c, sw == 2 ? K_SEC4 : K_SEC, d, i, 0);
		break;
	case C_UPTIME:
		if (sw == 2 && c->t->proto == WEIR_PROTO_NF5)
			nc_op(c, K_UP5, d, i, 0);
		else if (sw == 2 && c->t->proto == WEIR_PROTO_NF9)
			nc_op(c, K_UP9, d, i, 0);
		else
			nc_op(c, K_UPTIME, d, i, 0);
		c->pl->needs_base |= c->t->proto == WEIR_PROTO_IPFIX;
		break;
	default:
		nc_op(c, kind[s->conv], d, i, 0);
		break;
	}
}

/* Fuse each two steps of one kind in a row into a pair step: one
 * dispatch (an indirect jump the CPU must predict) instead of two. The
 * common fields are in an order that puts the usual pairs side by side
 * (bytes and packets, the ports, the interfaces, the addresses, the times).
 * A pick step's second slot is K_END and never pairs. */
static void nc_pairs(struct norm_plan *pl)
{
	for (unsigned i = 0; i + 1 < pl->nops; i++) {
		unsigned k = pl->op_off[i].kind, pk = 0;

		if (pl->op_off[i + 1].kind != k)
			continue;
		if (k >= K_U && k < K_U + 16)
			pk = K_U2 + (k - K_U);
		else if (k == K_ADDR4)
			pk = K_ADDR4_2;
		else if (k == K_MS8)
			pk = K_MS8_2;
		else if (k == K_SEC4)
			pk = K_SEC4_2;
		else if (k == K_UP5)
			pk = K_UP5_2;
		else if (k == K_UP9)
			pk = K_UP9_2;
		if (!pk)
			continue;
		pl->op_off[i].kind = pl->op_idx[i].kind = (uint8_t)pk;
		i++;		/* the second of the pair */
	}
}

/* Compile t's plan: per common field, the first source in precedence
 * order that t carries at a usable length. */
static void norm_compile(const struct tmpl *t, struct norm_plan *pl)
{
	static __thread struct nc c;	/* 4.5 KiB: not on the decoder's stack */
	uint32_t off = 0;

	memset(pl, 0, sizeof(*pl));
	memset(c.at, 0xff, sizeof(c.at));
	c.t = t;
	c.pl = pl;
	pl->fixed = !t->has_varlen;
	for (uint16_t i = 0; i < t->nfields && i < TMPL_MAX_FIELDS; i++) {
		const struct tmpl_field *f = &t->f[i];

		c.off[i] = off;
		if (f->len != TMPL_VARLEN)
			off += f->len;
		/* Scope fields of options templates describe the exporter,
		 * not a flow; zero-length fields carry nothing. */
		if (f->pen != IE_PEN_IANA || f->id >= NORM_MAX_IE || i < t->scope_count ||
		    f->len == 0 || f->len == TMPL_VARLEN || c.at[f->id] >= 0)
			continue;
		c.at[f->id] = (int16_t)i;
	}
	if (!t->nfields || t->nfields > TMPL_MAX_FIELDS || off > 65535)
		pl->fixed = 0;
	/* A fixed-layout record has its last field at last; 0xffff, an
	 * offset no record's last field has, sends every record of a
	 * template with variable-length fields to the field values. */
	pl->last = t->nfields && pl->fixed ? (uint16_t)c.off[t->nfields - 1] : 0xffff;
	if (c.at[IE_SYS_INIT_MS] >= 0 && t->f[c.at[IE_SYS_INIT_MS]].len <= 8) {
		pl->sys_init = (uint16_t)(c.at[IE_SYS_INIT_MS] + 1);
		pl->sys_init_len = (uint8_t)t->f[c.at[IE_SYS_INIT_MS]].len;
	}
	if (t->scope_count)
		return;		/* options: no flow in them */
	for (size_t k = 0; k < NFIELDS; k++) {
		const struct norm_field *d = &norm_fields[k];

		for (const struct norm_src *s = d->src; s < d->src + 6 && s->ie; s++) {
			int i = c.at[s->ie];

			if (i < 0 || !len_ok(s->conv, t->f[i].len))
				continue;
			nc_step(&c, d, s, i);
			pl->has |= 1ull << d->bit;
			break;
		}
	}
	nc_pairs(pl);
}

/* The builder of tmpl.ext (tmpl_finish() calls it). */
static void norm_ext(struct tmpl *t)
{
	norm_compile(t, (struct norm_plan *)(void *)t->ext);
	t->ext_built = 1;
}

/* Registered before main(), so every template built in a program that
 * links normalization carries its plan. */
__attribute__((constructor)) static void norm_register(void)
{
	tmpl_ext_register(norm_ext);
}

/* ---- running a plan ---- */

/* RFC 7011 section 6.1.9/6.1.10: microsecond and nanosecond times are NTP
 * timestamps (seconds since 1900, 32-bit binary fraction). */
static uint64_t ntp_to_ns(uint64_t v, int micro)
{
	uint64_t sec = v >> 32, frac = v & 0xffffffffu;

	if (micro)
		frac &= ~0x7ffull;	/* the lower 11 bits are to be ignored */
	if (sec < NTP_EPOCH_OFF)
		return 0;
	return (sec - NTP_EPOCH_OFF) * NS_PER_S + ((frac * NS_PER_S) >> 32);
}

/* NetFlow v5/v9: export time in ns minus (uptime at export - uptime at
 * the event) ms. Uptimes are 32-bit milliseconds that wrap every 49.7
 * days, so the difference is modulo 2^32: an event uptime "above" the
 * header's is one from before the header's uptime wrapped, never a flow
 * after its export (softflowd -r sends header uptime 0 and record uptimes
 * ~24 days "above" it). The one exception is v9's whole-second export time:
 * the header's uptime was taken up to 999 ms after that second began, so an
 * event up to 999 ms above it lies in the export's second, not 49.7 days
 * back (v5 gives the export time to the nanosecond: no such slack). */
static inline uint64_t up_to_ns(uint64_t exp_ns, uint32_t up_ms, uint32_t at_ms,
				uint32_t slack_ms)
{
	uint32_t back_ms = up_ms - at_ms;

	/* slack_ms > 0: "back" within slack of 2^32 is that much ahead */
	if (slack_ms && back_ms > 0u - slack_ms)
		return exp_ns + (uint64_t)(0u - back_ms) * 1000000ull;
	return exp_ns - (uint64_t)back_ms * 1000000ull;
}

#define NF9_SLACK_MS	1000	/* v9's export time is whole seconds */

static inline uint64_t exp_ns_of(const struct weir_msg *m)
{
	return (uint64_t)m->export_time * NS_PER_S + m->export_nsecs;
}

static uint64_t uptime_to_ns(const struct weir_msg *m, uint32_t at_ms)
{
	return up_to_ns(exp_ns_of(m), m->sys_uptime_ms, at_ms,
			m->proto == WEIR_PROTO_NF9 ? NF9_SLACK_MS : 0);
}

/* IPFIX flowStart/EndSysUpTime (IEs 22/21): milliseconds since
 * systemInitTimeMilliseconds init. The 32-bit uptime wraps every 49.7 days
 * like NetFlow's, so a time past the export (whose second is all the
 * message tells) is one or more wraps too far: it is taken back by whole
 * wraps, never dated after the export. */
static uint64_t init_uptime_to_ns(const struct weir_msg *m, uint64_t init_ms, uint64_t at_ms)
{
	uint64_t t = init_ms + at_ms, bound = (uint64_t)m->export_time * 1000 + 999;

	if (m->export_time && t > bound)
		t -= ((t - bound + 0xffffffffull) >> 32) << 32;
	return t * 1000000ull;
}

static inline uint64_t ld8(const uint8_t *p) { return p[0]; }

static inline uint64_t ld16(const uint8_t *p)
{
	uint16_t x;

	memcpy(&x, p, 2);
	return be16toh(x);
}

static inline uint64_t ld32(const uint8_t *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return be32toh(x);
}

static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return be64toh(x);
}

/* A value of len 1..8 bytes; the common widths first (one per template
 * and step, so the branch predicts). */
static inline uint64_t ldn(const uint8_t *p, unsigned len)
{
	if (len == 4)
		return ld32(p);
	if (len == 2)
		return ld16(p);
	if (len == 1)
		return p[0];
	if (len == 8)
		return ld64(p);
	return be_uint(p, len);
}

static inline void st8(uint8_t *d, uint64_t x)  { *d = (uint8_t)x; }
static inline void st16(uint8_t *d, uint64_t x) { uint16_t y = (uint16_t)x; memcpy(d, &y, 2); }
static inline void st32(uint8_t *d, uint64_t x) { uint32_t y = (uint32_t)x; memcpy(d, &y, 4); }
static inline void st64(uint8_t *d, uint64_t x) { memcpy(d, &x, 8); }

static void stw(uint8_t *d, unsigned w, uint64_t x)
{
	if (w == 0)
		st8(d, x);
	else if (w == 1)
		st16(d, x);
	else if (w == 2)
		st32(d, x);
	else
		st64(d, x);
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The time base of flowStart/EndSysUpTime in ms since the epoch, or -1:
 * NetFlow v5/v9 count from the header's uptime at the export time; IPFIX
 * from systemInitTimeMilliseconds (IE 160), in the record itself or, as an
 * exporter such as softflowd sends it, in options data before: the record's
 * source (exporter, observation domain) keeps that (tmpl_source). */
struct norm_run {
	const struct weir_msg *m;
	int64_t sys_init_ms;
};

#define FIXED 1
#define PLAN_RUN plan_run_fixed
#include "norm_run_int.h"
#undef FIXED
#undef PLAN_RUN
#define FIXED 0
#define PLAN_RUN plan_run_idx
#include "norm_run_int.h"
#undef FIXED
#undef PLAN_RUN

/* NetFlow v5 records have one fixed 48-byte layout (nf5_template()), so
 * this is what norm_compile() makes of nf5_template() written out as
 * straight-line code: fixed loads at fixed offsets, no dispatch per field,
 * 2.5 times the rate of the plan for the same record (bench/decode). It
 * repeats no rule of its own: test_norm.c runs both on random v5 records
 * and requires the same flow, so a change to norm_fields[] that touches a
 * v5 element fails there until this follows. */
int norm_nf5(const struct weir_record *rec, struct flow *f)
{
	const struct weir_msg *m = rec->msg;
	const uint8_t *p = rec->v[0].p;

	flow_clear(f);
	f->type = WEIR_PROTO_NF5;
	f->time_received_ns = m->recv_time_ns;
	f->sequence_num = m->sequence;
	f->observation_domain_id = m->domain;
	f->sampling_rate = rec->sampling_rate;
	if (m->exporter)
		f->sampler_address = m->exporter->addr;
	weir_addr_v4(&f->src_addr, p);
	weir_addr_v4(&f->dst_addr, p + 4);
	weir_addr_v4(&f->next_hop, p + 8);
	f->in_if = (uint32_t)ld16(p + 12);
	f->out_if = (uint32_t)ld16(p + 14);
	f->packets = ld32(p + 16);
	f->bytes = ld32(p + 20);
	f->time_flow_start_ns = up_to_ns(exp_ns_of(m), m->sys_uptime_ms, (uint32_t)ld32(p + 24), 0);
	f->time_flow_end_ns = up_to_ns(exp_ns_of(m), m->sys_uptime_ms, (uint32_t)ld32(p + 28), 0);
	f->src_port = (uint16_t)ld16(p + 32);
	f->dst_port = (uint16_t)ld16(p + 34);
	f->tcp_flags = p[37];
	f->proto = p[38];
	f->ip_tos = p[39];
	f->src_as = (uint32_t)ld16(p + 40);
	f->dst_as = (uint32_t)ld16(p + 42);
	f->src_net = p[44];
	f->dst_net = p[45];
	f->etype = 0x0800;
	f->has = (m->exporter ? FLOW_HAS_SAMPLER : 0) | FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR |
		 FLOW_HAS_NEXT_HOP | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF | FLOW_HAS_PACKETS |
		 FLOW_HAS_BYTES | FLOW_HAS_TIME_START | FLOW_HAS_TIME_END |
		 FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_TCP_FLAGS | FLOW_HAS_PROTO |
		 FLOW_HAS_TOS | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS | FLOW_HAS_SRC_NET |
		 FLOW_HAS_DST_NET | FLOW_HAS_ETYPE;
	return WEIR_OK;
}

/* The plan of a template built before the builder was registered (none,
 * in a program that links this file): compiled here, each time. */
static __attribute__((noinline)) const struct norm_plan *plan_unbuilt(const struct tmpl *t)
{
	static __thread struct norm_plan pl;

	norm_compile(t, &pl);
	return &pl;
}

static inline const struct norm_plan *plan_of(const struct tmpl *t)
{
	if (__builtin_expect(t->ext_built, 1))
		return (const struct norm_plan *)(const void *)t->ext;
	return plan_unbuilt(t);
}

/* An options record: one that carries systemInitTimeMilliseconds (what
 * softflowd sends) sets its source's time base for every later record. */
static void learn_options(const struct weir_record *rec)
{
	const struct norm_plan *pl;
	uint64_t x;

	if (!rec->msg->src)
		return;
	pl = plan_of(rec->t);
	if (!pl->sys_init)
		return;
	x = ldn(rec->v[pl->sys_init - 1].p, pl->sys_init_len);
	if (x)
		rec->msg->src->sys_init_ms = x;
}

/* The base of a record's IPFIX uptimes in ms since the epoch, or -1: its
 * own systemInitTimeMilliseconds, else the one its source learnt. */
static int64_t time_base(const struct weir_record *rec, const struct norm_plan *pl)
{
	const struct tmpl_source *src = rec->msg->src;

	if (pl->sys_init)
		return (int64_t)ldn(rec->v[pl->sys_init - 1].p, pl->sys_init_len);
	return src && src->sys_init_ms ? (int64_t)src->sys_init_ms : -1;
}

/* The engine for one record of a template; inlined into flow_from_record()
 * so the common case makes no call but the plan's run. */
static inline __attribute__((always_inline)) int
plan_record(const struct weir_record *rec, struct flow *f)
{
	const struct weir_msg *m = rec->msg;
	const struct tmpl *t = rec->t;
	const struct weir_value *v = rec->v;
	const struct norm_plan *pl;
	struct norm_run r;
	uint64_t has = 0, drop;

	flow_clear(f);
	f->type = m->proto;
	f->time_received_ns = m->recv_time_ns;
	f->sequence_num = m->sequence;
	f->observation_domain_id = m->domain;
	f->sampling_rate = rec->sampling_rate;
	if (m->exporter) {
		f->sampler_address = m->exporter->addr;
		has |= FLOW_HAS_SAMPLER;
	}
	if (!t || rec->is_options) {
		f->has = has;
		if (t)
			learn_options(rec);
		return WEIR_E_INVALID;
	}
	pl = plan_of(t);
	r.m = m;
	r.sys_init_ms = -1;
	if (pl->needs_base)
		r.sys_init_ms = time_base(rec, pl);
	if (v[t->nfields - 1].p == v[0].p + pl->last)
		drop = plan_run_fixed(pl, v[0].p, v, &r, f);
	else
		drop = plan_run_idx(pl, NULL, v, &r, f);
	f->has = has | (pl->has & ~drop);
	return WEIR_OK;
}

const char *flow_type_name(uint8_t type)
{
	switch (type) {
	case WEIR_PROTO_NF5:	return "NETFLOW_V5";
	case WEIR_PROTO_NF9:	return "NETFLOW_V9";
	case WEIR_PROTO_IPFIX:	return "IPFIX";
	case WEIR_PROTO_SFLOW:	return "SFLOW_5";
	default:		return "UNKNOWN";
	}
}


int norm_by_plan(const struct weir_record *rec, struct flow *f)
{
	return plan_record(rec, f);
}
