/* norm.c - any decoded record -> struct flow (the common format).
 *
 * When a template is learnt, norm_plan() notes for each flow fact (a slot)
 * which field of the template carries it (tmpl.norm_at). A record is then
 * normalized by straight-line code, one test per slot, each branch going
 * the same way for every record of a template. An earlier design walked the
 * fields with one switch per field; its single shared indirect jump
 * mispredicted so often that it cost half the decode+normalize time.
 * Where two elements give the same fact (delta and total counters, MACs
 * before and after the observation point) the stronger one wins; where one
 * element appears twice, the first one does.
 */
#include <stddef.h>
#include <string.h>

#include "flow.h"
#include "ie.h"
#include "rd.h"

enum norm {
	N_NONE = 0,
	N_BYTES, N_BYTES_TOTAL, N_BYTES_POST,
	N_PACKETS, N_PACKETS_TOTAL, N_PACKETS_POST,
	N_PROTO, N_TOS, N_TCP_FLAGS, N_SRC_PORT, N_DST_PORT,
	N_SRC_V4, N_DST_V4, N_SRC_V6, N_DST_V6, N_SRC_MASK, N_DST_MASK,
	N_IN_IF, N_OUT_IF, N_NEXT_HOP_V4, N_NEXT_HOP_V6, N_BGP_NH_V4, N_BGP_NH_V6,
	N_SRC_AS, N_DST_AS,
	N_START_UPTIME, N_END_UPTIME, N_SYS_INIT_MS,
	N_START_SEC, N_END_SEC, N_START_MS, N_END_MS, N_START_US, N_END_US,
	N_START_NS, N_END_NS, N_START_DELTA_US, N_END_DELTA_US,
	N_FLOW_LABEL, N_ICMP_TC4, N_ICMP_TC6, N_ICMP_TYPE, N_ICMP_CODE,
	N_SRC_MAC, N_DST_MAC, N_POST_SRC_MAC, N_POST_DST_MAC,
	N_VLAN, N_POST_VLAN, N_DOT1Q_VLAN, N_POST_DOT1Q_VLAN,
	N_IP_VERSION, N_DIRECTION, N_TTL, N_TTL_MIN, N_TTL_MAX,
	N_FRAG_FLAGS, N_FRAG_OFFSET,
	N_COUNT
};

#define NORM_SLOTS	64	/* enum norm fits */
#define NORM_OPS	40	/* longest normalization program */

_Static_assert(N_COUNT <= NORM_SLOTS, "plan.at has a place for every slot");

/* One step of a template's normalization program: load the field at src
 * bytes into the record, convert by kind, store at dst bytes into struct
 * flow. */
struct norm_op {
	uint8_t kind;
	uint8_t dst;
	uint16_t src;
};

/* What normalization derives from a template once, kept in the room the
 * template has for it (tmpl.ext): the wire layer knows nothing of it. */
struct norm_plan {
	uint64_t mask;			/* bit per slot that some field carries */
	uint64_t prog_has;		/* FLOW_HAS_* the program sets */
	uint16_t prog_last;		/* offset of the last field, to check a record */
	uint8_t nprog;			/* ops in prog; 0: normalize field by field */
	struct norm_op prog[NORM_OPS];
	uint16_t at[NORM_SLOTS];	/* per slot: 1 + index of the field, 0 none */
};

_Static_assert(sizeof(struct norm_plan) <= TMPL_EXT_BYTES, "the plan fits tmpl.ext");

static uint8_t norm_slot(uint32_t pen, uint16_t id)
{
	if (pen != IE_PEN_IANA)
		return N_NONE;
	switch (id) {
	case 1:   return N_BYTES;
	case 2:   return N_PACKETS;
	case 4:   return N_PROTO;
	case 5:   return N_TOS;
	case 6:   return N_TCP_FLAGS;
	case 7:   return N_SRC_PORT;
	case 8:   return N_SRC_V4;
	case 9:   return N_SRC_MASK;
	case 10:  return N_IN_IF;
	case 11:  return N_DST_PORT;
	case 12:  return N_DST_V4;
	case 13:  return N_DST_MASK;
	case 14:  return N_OUT_IF;
	case 15:  return N_NEXT_HOP_V4;
	case 16:  return N_SRC_AS;
	case 17:  return N_DST_AS;
	case 18:  return N_BGP_NH_V4;
	case 21:  return N_END_UPTIME;
	case 22:  return N_START_UPTIME;
	case 23:  return N_BYTES_POST;
	case 24:  return N_PACKETS_POST;
	case 27:  return N_SRC_V6;
	case 28:  return N_DST_V6;
	case 29:  return N_SRC_MASK;
	case 30:  return N_DST_MASK;
	case 31:  return N_FLOW_LABEL;
	case 32:  return N_ICMP_TC4;
	case 52:  return N_TTL_MIN;
	case 53:  return N_TTL_MAX;
	case 56:  return N_SRC_MAC;
	case 57:  return N_POST_DST_MAC;
	case 58:  return N_VLAN;
	case 59:  return N_POST_VLAN;
	case 60:  return N_IP_VERSION;
	case 61:  return N_DIRECTION;
	case 62:  return N_NEXT_HOP_V6;
	case 63:  return N_BGP_NH_V6;
	case 80:  return N_DST_MAC;
	case 81:  return N_POST_SRC_MAC;
	case 85:  return N_BYTES_TOTAL;
	case 86:  return N_PACKETS_TOTAL;
	case 88:  return N_FRAG_OFFSET;
	case 139: return N_ICMP_TC6;
	case 150: return N_START_SEC;
	case 151: return N_END_SEC;
	case 152: return N_START_MS;
	case 153: return N_END_MS;
	case 154: return N_START_US;
	case 155: return N_END_US;
	case 156: return N_START_NS;
	case 157: return N_END_NS;
	case 158: return N_START_DELTA_US;
	case 159: return N_END_DELTA_US;
	case 160: return N_SYS_INIT_MS;
	case 176: return N_ICMP_TYPE;
	case 177: return N_ICMP_CODE;
	case 178: return N_ICMP_TYPE;
	case 179: return N_ICMP_CODE;
	case 192: return N_TTL;
	case 197: return N_FRAG_FLAGS;
	case 243: return N_DOT1Q_VLAN;
	case 254: return N_POST_DOT1Q_VLAN;
	default:  return N_NONE;
	}
}

#define NS_PER_S	1000000000ull
#define NTP_EPOCH_OFF	2208988800ull	/* 1900-01-01 to 1970-01-01 in seconds */

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

/* Export time in ns minus (uptime at export - uptime at event) ms; the
 * difference is signed so a flow ending just after the header's uptime
 * snapshot, or an uptime that wrapped, still lands right. */
static uint64_t uptime_to_ns(const struct weir_msg *m, uint32_t at_ms)
{
	int64_t back_ms = (int32_t)(m->sys_uptime_ms - at_ms);
	uint64_t exp_ns = (uint64_t)m->export_time * NS_PER_S + m->export_nsecs;

	return exp_ns - (uint64_t)(back_ms * 1000000);
}



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

/* NetFlow v5 records have one fixed 48-byte layout (nf5_template()), so
 * they skip the per-field dispatch: fixed loads at fixed offsets. */
static int flow_from_nf5(const struct weir_record *rec, const uint8_t *p, struct flow *f)
{
	const struct weir_msg *m = rec->msg;

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
	f->time_flow_start_ns = uptime_to_ns(m, (uint32_t)ld32(p + 24));
	f->time_flow_end_ns = uptime_to_ns(m, (uint32_t)ld32(p + 28));
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



/* ---- normalization programs ----
 *
 * For a template whose fields all have fixed lengths (most of what routers
 * send), every choice flow_from_record() makes (which of two elements wins,
 * which width to load, which FLOW_HAS_ bits come) is the same for every
 * record. prog_build() makes those choices once and writes them down as a
 * short list of load-convert-store steps; a record then costs one step per
 * fact. Templates it cannot express (variable-length fields, options, a
 * choice that depends on the values, odd widths) keep t->nprog = 0 and take
 * the field-by-field path, which gives the same result.
 */
enum {
	K_U = 1,		/* K_U + src width class * 4 + dst width class: 1..16 */
	K_ADDR4 = 17, K_ADDR16, K_MAC, K_CONST16, K_LABEL, K_VLAN, K_ICMP_TC,
	K_MS, K_SEC, K_NTP_NS, K_NTP_US, K_DELTA_US, K_UPTIME,
};

struct pb {
	const struct tmpl *t;
	struct norm_plan *pl;
	uint32_t off[TMPL_MAX_FIELDS];
	uint64_t has;
	int ok;
};

static int wc(unsigned w)
{
	switch (w) {
	case 1:  return 0;
	case 2:  return 1;
	case 4:  return 2;
	case 8:  return 3;
	default: return -1;
	}
}

static void pb_op(struct pb *b, unsigned kind, size_t dst, uint32_t src)
{
	struct norm_plan *pl = b->pl;

	if (!b->ok || pl->nprog >= NORM_OPS || dst > 255 || src > 65535) {
		b->ok = 0;
		return;
	}
	pl->prog[pl->nprog].kind = (uint8_t)kind;
	pl->prog[pl->nprog].dst = (uint8_t)dst;
	pl->prog[pl->nprog].src = (uint16_t)src;
	pl->nprog++;
}

/* The field index of slot S, or -1. */
static int pb_at(const struct pb *b, unsigned slot)
{
	return b->pl->at[slot] ? b->pl->at[slot] - 1 : -1;
}

/* First present slot of a priority list, or 0. */
static unsigned pb_first(const struct pb *b, const uint8_t *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (b->pl->at[slots[i]])
			return slots[i];
	return 0;
}

/* An unsigned fact: slot -> dst of dst_w bytes. */
static void pb_u(struct pb *b, unsigned slot, size_t dst, unsigned dst_w, uint64_t bit)
{
	int i = pb_at(b, slot), sw, dw = wc(dst_w);

	if (!slot || i < 0)
		return;
	sw = wc(b->t->f[i].len);
	if (sw < 0 || dw < 0) {
		b->ok = 0;
		return;
	}
	pb_op(b, K_U + (unsigned)sw * 4 + (unsigned)dw, dst, b->off[i]);
	b->has |= bit;
}

/* A fact taken by an op of its own that wants a field of exactly width w. */
static void pb_k(struct pb *b, unsigned slot, unsigned w, unsigned kind, size_t dst, uint64_t bit)
{
	int i = pb_at(b, slot);

	if (i < 0)
		return;
	if (b->t->f[i].len != w) {
		b->ok = 0;
		return;
	}
	pb_op(b, kind, dst, b->off[i]);
	b->has |= bit;
}

/* An address fact from an IPv4 and an IPv6 slot; returns 4, 6 or 0. With
 * both present the choice depends on the values (pick_addr): not here. */
static unsigned pb_addr(struct pb *b, unsigned s4, unsigned s6, size_t dst, uint64_t bit)
{
	int i4 = pb_at(b, s4), i6 = pb_at(b, s6);

	if (i4 >= 0 && i6 >= 0) {
		b->ok = 0;
		return 0;
	}
	if (i4 >= 0) {
		pb_k(b, s4, 4, K_ADDR4, dst, bit);
		return 4;
	}
	if (i6 >= 0) {
		pb_k(b, s6, 16, K_ADDR16, dst, bit);
		return 6;
	}
	return 0;
}

static void pb_time(struct pb *b, const uint8_t *slots, size_t dst, uint64_t bit)
{
	/* Finest first, as flow_from_record(): ns, us, ms, s, delta, uptime. */
	int i;

	if ((i = pb_at(b, slots[0])) >= 0 && b->t->f[i].len == 8)
		pb_k(b, slots[0], 8, K_NTP_NS, dst, bit);
	else if ((i = pb_at(b, slots[1])) >= 0 && b->t->f[i].len == 8)
		pb_k(b, slots[1], 8, K_NTP_US, dst, bit);
	else if (i >= 0 || pb_at(b, slots[0]) >= 0)
		b->ok = 0;	/* a micro/nanosecond time of odd width */
	else if (pb_at(b, slots[2]) >= 0)
		pb_k(b, slots[2], 8, K_MS, dst, bit);
	else if (pb_at(b, slots[3]) >= 0)
		pb_k(b, slots[3], 4, K_SEC, dst, bit);
	else if (pb_at(b, slots[4]) >= 0)
		pb_k(b, slots[4], 4, K_DELTA_US, dst, bit);
	else if (pb_at(b, slots[5]) >= 0) {
		if (b->t->proto == WEIR_PROTO_IPFIX)
			b->ok = 0;	/* needs systemInitTimeMilliseconds */
		else
			pb_k(b, slots[5], 4, K_UPTIME, dst, bit);
	}
}

#define OFF(field) offsetof(struct flow, field)

static void prog_build(const struct tmpl *t, struct norm_plan *pl)
{
	static const uint8_t bytes[] = { N_BYTES, N_BYTES_TOTAL, N_BYTES_POST };
	static const uint8_t pkts[] = { N_PACKETS, N_PACKETS_TOTAL, N_PACKETS_POST };
	static const uint8_t vlan[] = { N_VLAN, N_DOT1Q_VLAN };
	static const uint8_t pvlan[] = { N_POST_VLAN, N_POST_DOT1Q_VLAN };
	static const uint8_t ttl[] = { N_TTL, N_TTL_MAX, N_TTL_MIN };
	static const uint8_t icmp[] = { N_ICMP_TC4, N_ICMP_TC6 };
	static const uint8_t start[] = { N_START_NS, N_START_US, N_START_MS, N_START_SEC,
					  N_START_DELTA_US, N_START_UPTIME };
	static const uint8_t end[] = { N_END_NS, N_END_US, N_END_MS, N_END_SEC,
					N_END_DELTA_US, N_END_UPTIME };
	static __thread struct pb b;	/* 4 KiB: not on the decoder's stack */
	uint32_t off = 0;
	unsigned v, slot;
	int i;

	pl->nprog = 0;
	pl->prog_has = 0;
	pl->prog_last = 0;
	if (t->has_varlen || t->scope_count || !t->nfields || t->nfields > TMPL_MAX_FIELDS)
		return;
	for (uint16_t k = 0; k < t->nfields; k++) {
		b.off[k] = off;
		off += t->f[k].len;
	}
	if (b.off[t->nfields - 1] > 65535)
		return;
	b.t = t;
	b.pl = pl;
	b.has = 0;
	b.ok = 1;

	pb_u(&b, pb_first(&b, bytes, 3), OFF(bytes), 8, FLOW_HAS_BYTES);
	pb_u(&b, pb_first(&b, pkts, 3), OFF(packets), 8, FLOW_HAS_PACKETS);
	pb_u(&b, N_PROTO, OFF(proto), 1, FLOW_HAS_PROTO);
	pb_u(&b, N_TOS, OFF(ip_tos), 1, FLOW_HAS_TOS);
	pb_u(&b, N_TCP_FLAGS, OFF(tcp_flags), 2, FLOW_HAS_TCP_FLAGS);
	pb_u(&b, N_SRC_PORT, OFF(src_port), 2, FLOW_HAS_SRC_PORT);
	pb_u(&b, N_DST_PORT, OFF(dst_port), 2, FLOW_HAS_DST_PORT);
	pb_u(&b, N_IN_IF, OFF(in_if), 4, FLOW_HAS_IN_IF);
	pb_u(&b, N_OUT_IF, OFF(out_if), 4, FLOW_HAS_OUT_IF);
	pb_u(&b, N_SRC_MASK, OFF(src_net), 1, FLOW_HAS_SRC_NET);
	pb_u(&b, N_DST_MASK, OFF(dst_net), 1, FLOW_HAS_DST_NET);
	pb_u(&b, N_SRC_AS, OFF(src_as), 4, FLOW_HAS_SRC_AS);
	pb_u(&b, N_DST_AS, OFF(dst_as), 4, FLOW_HAS_DST_AS);
	pb_u(&b, N_DIRECTION, OFF(flow_direction), 1, FLOW_HAS_DIRECTION);
	pb_u(&b, N_FRAG_FLAGS, OFF(ip_flags), 1, FLOW_HAS_FRAG);
	pb_u(&b, N_FRAG_OFFSET, OFF(fragment_offset), 2, FLOW_HAS_FRAG);
	pb_k(&b, N_FLOW_LABEL, 4, K_LABEL, OFF(ipv6_flow_label), FLOW_HAS_FLOW_LABEL);

	v = pb_addr(&b, N_SRC_V4, N_SRC_V6, OFF(src_addr), FLOW_HAS_SRC_ADDR);
	slot = pb_addr(&b, N_DST_V4, N_DST_V6, OFF(dst_addr), FLOW_HAS_DST_ADDR);
	v = v ? v : slot;
	if (!v && pl->at[N_IP_VERSION])
		b.ok = 0;	/* the family would come from a value */
	if (v) {
		pb_op(&b, K_CONST16, OFF(etype), v == 4 ? 0x0800 : 0x86dd);
		b.has |= FLOW_HAS_ETYPE;
	}
	pb_addr(&b, N_NEXT_HOP_V4, N_NEXT_HOP_V6, OFF(next_hop), FLOW_HAS_NEXT_HOP);
	pb_addr(&b, N_BGP_NH_V4, N_BGP_NH_V6, OFF(bgp_next_hop), FLOW_HAS_BGP_NEXT_HOP);
	/* MACs: the first of the pair with the right length, as pick order. */
	if ((i = pb_at(&b, N_SRC_MAC)) >= 0 && t->f[i].len == 6)
		pb_k(&b, N_SRC_MAC, 6, K_MAC, OFF(src_mac), FLOW_HAS_SRC_MAC);
	else if ((i = pb_at(&b, N_POST_SRC_MAC)) >= 0 && t->f[i].len == 6)
		pb_k(&b, N_POST_SRC_MAC, 6, K_MAC, OFF(src_mac), FLOW_HAS_SRC_MAC);
	if ((i = pb_at(&b, N_DST_MAC)) >= 0 && t->f[i].len == 6)
		pb_k(&b, N_DST_MAC, 6, K_MAC, OFF(dst_mac), FLOW_HAS_DST_MAC);
	else if ((i = pb_at(&b, N_POST_DST_MAC)) >= 0 && t->f[i].len == 6)
		pb_k(&b, N_POST_DST_MAC, 6, K_MAC, OFF(dst_mac), FLOW_HAS_DST_MAC);
	if ((slot = pb_first(&b, vlan, 2)))
		pb_k(&b, slot, 2, K_VLAN, OFF(vlan_id), FLOW_HAS_VLAN);
	if ((slot = pb_first(&b, pvlan, 2)))
		pb_k(&b, slot, 2, K_VLAN, OFF(dst_vlan_id), FLOW_HAS_DST_VLAN);
	pb_u(&b, pb_first(&b, ttl, 3), OFF(ip_ttl), 1, FLOW_HAS_TTL);
	if ((slot = pb_first(&b, icmp, 2))) {
		pb_k(&b, slot, 2, K_ICMP_TC, OFF(icmp_type), FLOW_HAS_ICMP);
	} else {
		pb_u(&b, N_ICMP_TYPE, OFF(icmp_type), 1, FLOW_HAS_ICMP);
		pb_u(&b, N_ICMP_CODE, OFF(icmp_code), 1, FLOW_HAS_ICMP);
	}
	pb_time(&b, start, OFF(time_flow_start_ns), FLOW_HAS_TIME_START);
	pb_time(&b, end, OFF(time_flow_end_ns), FLOW_HAS_TIME_END);

	if (!b.ok) {
		pl->nprog = 0;
		return;
	}
	pl->prog_has = b.has;
	pl->prog_last = (uint16_t)b.off[t->nfields - 1];
}

static inline void st8(uint8_t *d, uint64_t x)  { *d = (uint8_t)x; }
static inline void st16(uint8_t *d, uint64_t x) { uint16_t y = (uint16_t)x; memcpy(d, &y, 2); }
static inline void st32(uint8_t *d, uint64_t x) { uint32_t y = (uint32_t)x; memcpy(d, &y, 4); }
static inline void st64(uint8_t *d, uint64_t x) { memcpy(d, &x, 8); }
static inline uint64_t ld8(const uint8_t *p)    { return p[0]; }

/* Run t's program over a record whose fields start at base. Threaded
 * dispatch (GNU C labels as values): each step jumps straight to the next
 * step's code, so every step has its own indirect branch to predict,
 * instead of one shared by all steps as a switch in a loop would. */
static void prog_run(const struct norm_plan *t, const uint8_t *base, const struct weir_msg *m,
		     struct flow *f)
{
#define L(sw, dw) &&u_##sw##_##dw
	static const void *const go[] = {
		[0] = &&done,
		[K_U + 0]  = L(0, 0), [K_U + 1]  = L(0, 1), [K_U + 2]  = L(0, 2), [K_U + 3]  = L(0, 3),
		[K_U + 4]  = L(1, 0), [K_U + 5]  = L(1, 1), [K_U + 6]  = L(1, 2), [K_U + 7]  = L(1, 3),
		[K_U + 8]  = L(2, 0), [K_U + 9]  = L(2, 1), [K_U + 10] = L(2, 2), [K_U + 11] = L(2, 3),
		[K_U + 12] = L(3, 0), [K_U + 13] = L(3, 1), [K_U + 14] = L(3, 2), [K_U + 15] = L(3, 3),
		[K_ADDR4] = &&addr4, [K_ADDR16] = &&addr16, [K_MAC] = &&mac,
		[K_CONST16] = &&const16, [K_LABEL] = &&label, [K_VLAN] = &&vlan,
		[K_ICMP_TC] = &&icmp_tc, [K_MS] = &&ms, [K_SEC] = &&sec, [K_NTP_NS] = &&ntp_ns,
		[K_NTP_US] = &&ntp_us, [K_DELTA_US] = &&delta_us, [K_UPTIME] = &&uptime,
	};
#undef L
	uint8_t *fb = (uint8_t *)f;
	const struct norm_op *op = t->prog, *end = t->prog + t->nprog;
	const uint8_t *p;
	uint8_t *d;
	uint64_t x;

	_Static_assert(K_UPTIME < 256, "op kinds fit a byte");
#define NEXT do {							\
		if (++op == end)					\
			return;						\
		p = base + op->src;					\
		d = fb + op->dst;					\
		goto *go[op->kind];					\
	} while (0)
	p = base + op->src;
	d = fb + op->dst;
	goto *go[op->kind];
#define CV(sw, dw, LD, ST) u_##sw##_##dw: ST(d, LD(p)); NEXT;
	CV(0, 0, ld8, st8)  CV(0, 1, ld8, st16)  CV(0, 2, ld8, st32)  CV(0, 3, ld8, st64)
	CV(1, 0, ld16, st8) CV(1, 1, ld16, st16) CV(1, 2, ld16, st32) CV(1, 3, ld16, st64)
	CV(2, 0, ld32, st8) CV(2, 1, ld32, st16) CV(2, 2, ld32, st32) CV(2, 3, ld32, st64)
	CV(3, 0, ld64, st8) CV(3, 1, ld64, st16) CV(3, 2, ld64, st32) CV(3, 3, ld64, st64)
#undef CV
addr4:
	weir_addr_v4((struct weir_addr *)(void *)d, p);
	NEXT;
addr16:
	memcpy(d, p, 16);
	NEXT;
mac:
	memcpy(d, p, 6);
	NEXT;
const16:
	st16(d, op->src);
	NEXT;
label:
	st32(d, ld32(p) & 0xfffff);
	NEXT;
vlan:
	st16(d, ld16(p) & 0xfff);
	NEXT;
icmp_tc:
	x = ld16(p);
	f->icmp_type = (uint8_t)(x >> 8);
	f->icmp_code = (uint8_t)x;
	NEXT;
ms:
	st64(d, ld64(p) * 1000000ull);
	NEXT;
sec:
	st64(d, ld32(p) * NS_PER_S);
	NEXT;
ntp_ns:
	st64(d, ntp_to_ns(ld64(p), 0));
	NEXT;
ntp_us:
	st64(d, ntp_to_ns(ld64(p), 1));
	NEXT;
delta_us:
	st64(d, (uint64_t)m->export_time * NS_PER_S - ld32(p) * 1000);
	NEXT;
uptime:
	st64(d, uptime_to_ns(m, (uint32_t)ld32(p)));
	NEXT;
done:
	return;
#undef NEXT
}

static void norm_build(const struct tmpl *t, struct norm_plan *pl)
{
	memset(pl->at, 0, sizeof(pl->at));
	pl->mask = 0;
	for (uint16_t i = 0; i < t->nfields; i++) {
		uint8_t slot = norm_slot(t->f[i].pen, t->f[i].id);

		/* Scope fields of options templates describe the exporter, not
		 * a flow; zero-length fields carry nothing. */
		if (!slot || i < t->scope_count || t->f[i].len == 0 || pl->at[slot])
			continue;
		pl->at[slot] = (uint16_t)(i + 1);
		pl->mask |= 1ull << slot;
	}
	prog_build(t, pl);
}

/* The builder of tmpl.ext (tmpl_finish() calls it). */
static void norm_ext(struct tmpl *t)
{
	norm_build(t, (struct norm_plan *)(void *)t->ext);
	t->ext_built = 1;
}

/* Registered before main(), so every template built in a program that
 * links normalization carries its plan. */
__attribute__((constructor)) static void norm_register(void)
{
	tmpl_ext_register(norm_ext);
}

int norm_ie_mapped(uint32_t pen, uint16_t id)
{
	return norm_slot(pen, id) != N_NONE;
}

/* Unsigned value of a field of any width up to 8 (reduced-size encoding,
 * RFC 7011 section 6.2). Inlined at each use, so each use site's branch on
 * the width sees one width per template and predicts well. */
static inline int get_u(const struct weir_value *v, uint64_t *u)
{
	/* An if-chain, not a switch: GCC makes a switch a jump table, and an
	 * indirect jump at each of the many use sites costs more. */
	if (v->len == 4)
		*u = ld32(v->p);
	else if (v->len == 2)
		*u = ld16(v->p);
	else if (v->len == 1)
		*u = v->p[0];
	else if (v->len == 8)
		*u = ld64(v->p);
	else if (v->len == 0 || v->len > 8)
		return 0;
	else
		*u = be_uint(v->p, v->len);
	return 1;
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* The address value to use from an IPv4 and an IPv6 field of one fact,
 * either possibly absent; NULL when neither is usable. */
static inline const struct weir_value *pick_addr(const struct weir_value *v4,
						 const struct weir_value *v6)
{
	if (v4 && v4->len != 4)
		v4 = NULL;
	if (v6 && v6->len != 16)
		v6 = NULL;
	if (v4 && v6 && all_zero(v4->p, 4) && !all_zero(v6->p, 16))
		return v6;
	return v4 ? v4 : v6;
}

static inline void addr_set(struct weir_addr *a, const struct weir_value *x)
{
	if (x->len == 4)
		weir_addr_v4(a, x->p);
	else
		weir_addr_v6(a, x->p);
}

int flow_from_record(const struct weir_record *rec, struct flow *f)
{
	const struct weir_msg *m = rec->msg;
	const struct tmpl *t = rec->t;
	const struct weir_value *v = rec->v;
	const struct norm_plan *pl;
	struct norm_plan local;
	const uint16_t *at;
	uint64_t has = 0, u, mask;
	unsigned k;

	if (rec->sflow)
		return sflow_flow(rec, f);
	/* The v5 decoder's values lie back to back over the 48-byte record. */
	if (t && t->proto == WEIR_PROTO_NF5 && t->nfields == 20 && v[0].len == 4 &&
	    v[19].p == v[0].p + 46 && v[19].len == 2)
		return flow_from_nf5(rec, v[0].p, f);
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
		return WEIR_E_INVALID;
	}
	/* A template built before the builder was registered (none, in a
	 * program that links this file) gets its plan here, each time. */
	if (t->ext_built) {
		pl = (const struct norm_plan *)(const void *)t->ext;
	} else {
		norm_build(t, &local);
		pl = &local;
	}
	/* Fixed layout: the program, if the record lies as the template says. */
	if (pl->nprog && v[t->nfields - 1].p == v[0].p + pl->prog_last) {
		prog_run(pl, v[0].p, m, f);
		f->has = has | pl->prog_has;
		return WEIR_OK;
	}
	at = pl->at;
	mask = pl->mask;

/* The field that carries slot S, or NULL. */
#define FIELD(S) ((mask >> (S)) & 1 ? &v[at[S] - 1] : NULL)
/* Unsigned value of slot S into u; false when absent or unreadable. */
#define U(S) (((mask >> (S)) & 1) && (k = at[S], get_u(&v[k - 1], &u)))
#define NUM(S, dst, bit) do { if (U(S)) { dst = (__typeof__(dst))u; has |= (bit); } } while (0)
#define ANY(m) (mask & (m))
#define B(S) (1ull << (S))

	if (U(N_BYTES) || U(N_BYTES_TOTAL) || U(N_BYTES_POST)) {
		f->bytes = u;
		has |= FLOW_HAS_BYTES;
	}
	if (U(N_PACKETS) || U(N_PACKETS_TOTAL) || U(N_PACKETS_POST)) {
		f->packets = u;
		has |= FLOW_HAS_PACKETS;
	}
	NUM(N_PROTO, f->proto, FLOW_HAS_PROTO);
	NUM(N_TOS, f->ip_tos, FLOW_HAS_TOS);
	NUM(N_TCP_FLAGS, f->tcp_flags, FLOW_HAS_TCP_FLAGS);
	NUM(N_SRC_PORT, f->src_port, FLOW_HAS_SRC_PORT);
	NUM(N_DST_PORT, f->dst_port, FLOW_HAS_DST_PORT);
	NUM(N_IN_IF, f->in_if, FLOW_HAS_IN_IF);
	NUM(N_OUT_IF, f->out_if, FLOW_HAS_OUT_IF);
	if (ANY(B(N_SRC_MASK) | B(N_DST_MASK) | B(N_SRC_AS) | B(N_DST_AS))) {
		NUM(N_SRC_MASK, f->src_net, FLOW_HAS_SRC_NET);
		NUM(N_DST_MASK, f->dst_net, FLOW_HAS_DST_NET);
		NUM(N_SRC_AS, f->src_as, FLOW_HAS_SRC_AS);
		NUM(N_DST_AS, f->dst_as, FLOW_HAS_DST_AS);
	}
	if (ANY(B(N_DIRECTION) | B(N_FRAG_FLAGS) | B(N_FRAG_OFFSET) | B(N_FLOW_LABEL))) {
		NUM(N_DIRECTION, f->flow_direction, FLOW_HAS_DIRECTION);
		NUM(N_FRAG_FLAGS, f->ip_flags, FLOW_HAS_FRAG);
		NUM(N_FRAG_OFFSET, f->fragment_offset, FLOW_HAS_FRAG);
		if (U(N_FLOW_LABEL)) {
			f->ipv6_flow_label = (uint32_t)u & 0xfffff;
			has |= FLOW_HAS_FLOW_LABEL;
		}
	}

	/* Addresses. Some exporters (Procera, for one) send IPv4 and IPv6
	 * fields in one template and zero the family a flow does not use: the
	 * IPv6 field wins only when it is set and the IPv4 one is not. */
	{
		const struct weir_value *x;
		unsigned ipver = 0;

		if ((x = pick_addr(FIELD(N_SRC_V4), FIELD(N_SRC_V6)))) {
			addr_set(&f->src_addr, x);
			has |= FLOW_HAS_SRC_ADDR;
			ipver = x->len == 4 ? 4 : 6;
		}
		if ((x = pick_addr(FIELD(N_DST_V4), FIELD(N_DST_V6)))) {
			addr_set(&f->dst_addr, x);
			has |= FLOW_HAS_DST_ADDR;
			ipver = ipver ? ipver : x->len == 4 ? 4 : 6;
		}
		if (!ipver && U(N_IP_VERSION))
			ipver = (unsigned)u;
		if (ipver == 4 || ipver == 6) {
			f->etype = ipver == 4 ? 0x0800 : 0x86dd;
			has |= FLOW_HAS_ETYPE;
		}
		if ((x = pick_addr(FIELD(N_NEXT_HOP_V4), FIELD(N_NEXT_HOP_V6)))) {
			addr_set(&f->next_hop, x);
			has |= FLOW_HAS_NEXT_HOP;
		}
		if (ANY(B(N_BGP_NH_V4) | B(N_BGP_NH_V6)) &&
		    (x = pick_addr(FIELD(N_BGP_NH_V4), FIELD(N_BGP_NH_V6)))) {
			addr_set(&f->bgp_next_hop, x);
			has |= FLOW_HAS_BGP_NEXT_HOP;
		}
		if (ANY(B(N_SRC_MAC) | B(N_POST_SRC_MAC) | B(N_DST_MAC) | B(N_POST_DST_MAC))) {
			if (((x = FIELD(N_SRC_MAC)) && x->len == 6) ||
			    ((x = FIELD(N_POST_SRC_MAC)) && x->len == 6)) {
				memcpy(f->src_mac, x->p, 6);
				has |= FLOW_HAS_SRC_MAC;
			}
			if (((x = FIELD(N_DST_MAC)) && x->len == 6) ||
			    ((x = FIELD(N_POST_DST_MAC)) && x->len == 6)) {
				memcpy(f->dst_mac, x->p, 6);
				has |= FLOW_HAS_DST_MAC;
			}
		}
	}
	if (ANY(B(N_VLAN) | B(N_DOT1Q_VLAN) | B(N_POST_VLAN) | B(N_POST_DOT1Q_VLAN) |
		B(N_TTL) | B(N_TTL_MAX) | B(N_TTL_MIN))) {
		if (U(N_VLAN) || U(N_DOT1Q_VLAN)) {
			f->vlan_id = (uint16_t)(u & 0xfff);
			has |= FLOW_HAS_VLAN;
		}
		if (U(N_POST_VLAN) || U(N_POST_DOT1Q_VLAN)) {
			f->dst_vlan_id = (uint16_t)(u & 0xfff);
			has |= FLOW_HAS_DST_VLAN;
		}
		/* minimumTTL/maximumTTL stand in for ipTTL; the maximum first. */
		if (U(N_TTL) || U(N_TTL_MAX) || U(N_TTL_MIN)) {
			f->ip_ttl = (uint8_t)u;
			has |= FLOW_HAS_TTL;
		}
	}
	if (ANY(B(N_ICMP_TC4) | B(N_ICMP_TC6) | B(N_ICMP_TYPE) | B(N_ICMP_CODE))) {
		if (U(N_ICMP_TC4) || U(N_ICMP_TC6)) {
			f->icmp_type = (uint8_t)(u >> 8);
			f->icmp_code = (uint8_t)u;
			has |= FLOW_HAS_ICMP;
		} else {
			if (U(N_ICMP_TYPE)) {
				f->icmp_type = (uint8_t)u;
				has |= FLOW_HAS_ICMP;
			}
			if (U(N_ICMP_CODE)) {
				f->icmp_code = (uint8_t)u;
				has |= FLOW_HAS_ICMP;
			}
		}
	}

	/* Times, the common milliseconds first, then the finer and coarser. */
	if (U(N_START_MS)) {
		f->time_flow_start_ns = u * 1000000ull;
		has |= FLOW_HAS_TIME_START;
	}
	if (U(N_END_MS)) {
		f->time_flow_end_ns = u * 1000000ull;
		has |= FLOW_HAS_TIME_END;
	}
	if (ANY(B(N_START_NS) | B(N_START_US) | B(N_START_SEC) | B(N_START_DELTA_US) |
		B(N_START_UPTIME))) {
		if (U(N_START_NS) && v[k - 1].len == 8) {
			f->time_flow_start_ns = ntp_to_ns(u, 0);
			has |= FLOW_HAS_TIME_START;
		} else if (U(N_START_US) && v[k - 1].len == 8) {
			f->time_flow_start_ns = ntp_to_ns(u, 1);
			has |= FLOW_HAS_TIME_START;
		} else if (has & FLOW_HAS_TIME_START) {
			/* milliseconds came */
		} else if (U(N_START_SEC)) {
			f->time_flow_start_ns = u * NS_PER_S;
			has |= FLOW_HAS_TIME_START;
		} else if (U(N_START_DELTA_US)) {
			f->time_flow_start_ns = (uint64_t)m->export_time * NS_PER_S - u * 1000;
			has |= FLOW_HAS_TIME_START;
		} else if (U(N_START_UPTIME)) {
			/* flowStartSysUpTime: v9 counts from the header's uptime;
			 * IPFIX from systemInitTimeMilliseconds (IE 160). */
			uint64_t at_ms = u;

			if (m->proto != WEIR_PROTO_IPFIX) {
				f->time_flow_start_ns = uptime_to_ns(m, (uint32_t)at_ms);
				has |= FLOW_HAS_TIME_START;
			} else if (U(N_SYS_INIT_MS)) {
				f->time_flow_start_ns = (u + at_ms) * 1000000ull;
				has |= FLOW_HAS_TIME_START;
			}
		}
	}
	if (ANY(B(N_END_NS) | B(N_END_US) | B(N_END_SEC) | B(N_END_DELTA_US) |
		B(N_END_UPTIME))) {
		if (U(N_END_NS) && v[k - 1].len == 8) {
			f->time_flow_end_ns = ntp_to_ns(u, 0);
			has |= FLOW_HAS_TIME_END;
		} else if (U(N_END_US) && v[k - 1].len == 8) {
			f->time_flow_end_ns = ntp_to_ns(u, 1);
			has |= FLOW_HAS_TIME_END;
		} else if (has & FLOW_HAS_TIME_END) {
			/* milliseconds came */
		} else if (U(N_END_SEC)) {
			f->time_flow_end_ns = u * NS_PER_S;
			has |= FLOW_HAS_TIME_END;
		} else if (U(N_END_DELTA_US)) {
			f->time_flow_end_ns = (uint64_t)m->export_time * NS_PER_S - u * 1000;
			has |= FLOW_HAS_TIME_END;
		} else if (U(N_END_UPTIME)) {
			uint64_t at_ms = u;

			if (m->proto != WEIR_PROTO_IPFIX) {
				f->time_flow_end_ns = uptime_to_ns(m, (uint32_t)at_ms);
				has |= FLOW_HAS_TIME_END;
			} else if (U(N_SYS_INIT_MS)) {
				f->time_flow_end_ns = (u + at_ms) * 1000000ull;
				has |= FLOW_HAS_TIME_END;
			}
		}
	}
#undef ANY
#undef B
#undef FIELD
#undef U
#undef NUM
	f->has = has;
	return WEIR_OK;
}
