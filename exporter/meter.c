/* meter.c - the flow meter (see meter.h for the contract, docs/exporter.md
 * "The flow meter" for the semantics).
 *
 * Entries: a pool of max_flows, mapped once (on huge pages where the
 * kernel gives them; pages are touched as entries are first used), found
 * through one oah table whose key is a hash of the flow key that is the
 * same for both directions, so that a packet finds its entry whichever way
 * it goes; the entry's key (the initiator's) tells which direction it
 * counts into. meter_packets overlaps the cache misses of a batch.
 *
 * Expiry without a scan: three lists, each kept in deadline order because
 * the meter's clock only moves forward (the largest time seen):
 *   idle    every entry not lingering, least recently active first (a
 *           packet moves its entry to the tail);
 *   active  entries with packets in their current period, by the start of
 *           the period;
 *   linger  entries whose end was detected, by the end of their linger.
 * The links and times live in small arrays beside the entries, so that the
 * move to the tail that every packet makes touches hot lines. Each call
 * looks at the three heads; an entry is visited only when it is due.
 *
 * Fragments: meter_frag.c.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "err.h"
#include "meter_int.h"

#define SEC		1000000000ull
#define DEF_ACTIVE	(60 * SEC)
#define DEF_INACTIVE	(15 * SEC)
#define DEF_LINGER	(1 * SEC)
#define DEF_MAX_FLOWS	65536u

#define TCP_FIN		(1u << WFLOW_FIN)
#define TCP_SYN		(1u << WFLOW_SYN)
#define TCP_RST		(1u << WFLOW_RST)
#define TCP_ACK		(1u << WFLOW_ACK)

/* struct ment.tcp: the end state of a TCP flow. */
#define T_FIN_FWD	0x01	/* FIN seen from the initiator */
#define T_FIN_REV	0x02	/* FIN seen from the responder */
#define T_FIN_BOTH	(T_FIN_FWD | T_FIN_REV)
#define T_LAST_REV	0x04	/* the second FIN came from the responder */
#define T_RST		0x08
#define T_END		0x10	/* end detected: the entry lingers */

/* ---- keys ---- */

/* The flow's hash from its parts: the two endpoints' mixes added (the
 * same both ways), then the rest of the key; dir is not part of a flow's
 * identity (the answer to an egress packet comes in on ingress). Never 0
 * (oah's empty slot). No finalizer (oah_mix) after the sum: each endpoint
 * is mixed already, and oah_home multiplies again and takes the high bits
 * (2 multiplies a packet fewer). */
static inline uint64_t hash_parts(uint64_t s0, uint64_t s1, uint64_t d0, uint64_t d1,
				  uint16_t sport, uint16_t dport, uint64_t rest)
{
	uint64_t h = meter_ep(s0, s1, sport) + meter_ep(d0, d1, dport) +
		     rest * 0xc2b2ae3d27d4eb4full;

	h ^= h >> 29;
	return h ? h : 1;
}

static inline uint64_t key_rest(uint8_t proto, uint16_t vlan, uint8_t ipver, uint32_t ifindex)
{
	return proto | (uint64_t)vlan << 8 | (uint64_t)ipver << 24 | (uint64_t)ifindex << 32;
}

static inline uint64_t key_hash(const struct wflow_key *k)
{
	return hash_parts(meter_ld64(k->src), meter_ld64(k->src + 8), meter_ld64(k->dst),
			  meter_ld64(k->dst + 8), k->src_port, k->dst_port,
			  key_rest(k->proto, k->vlan, k->ipver, k->ifindex));
}

/* Byte offsets in struct wflow_key: the ports, then vlan, proto, ipver. */
#define KOFF_PORTS	offsetof(struct wflow_key, src_port)
#define KOFF_MID	offsetof(struct wflow_key, vlan)

_Static_assert(KOFF_PORTS == 32 && KOFF_MID == 36 && offsetof(struct wflow_key, dir) == 44,
	       "wflow_key layout");

/* The two 16-bit halves of a 32-bit word swapped: a key's ports the
 * other way (in either byte order). */
static inline uint32_t swap_ports(uint32_t p)
{
	return p << 16 | p >> 16;
}

typedef uint64_t mv2 __attribute__((vector_size(16)));
typedef uint32_t mv4 __attribute__((vector_size(16)));

static inline mv2 ld128(const void *p)
{
	mv2 v;

	memcpy(&v, p, 16);
	return v;
}

static inline unsigned is_zero128(mv2 x)
{
	return (x[0] | x[1]) == 0;
}

/* A key as three 16-byte vectors: the source address, the destination
 * address, and the rest (ports, vlan, proto, ipver, ifindex, dir, pad);
 * rrev is the rest with the two ports swapped. */
struct kvec {
	mv2 src, dst, rest, rrev;
};

static inline void key_vec(struct kvec *v, const struct wflow_key *k)
{
	mv4 r;

	v->src = ld128(k->src);
	v->dst = ld128(k->dst);
	v->rest = ld128(&k->src_port);
	r = (mv4)v->rest;
	r[0] = swap_ports(r[0]);	/* lanes are in memory order */
	v->rrev = (mv2)r;
}

/* How entry key e matches packet key k (key_vec): bit 0 the same way
 * (every byte but dir and pad), bit 1 the other way (addresses and ports
 * swapped). Both are computed, without a branch: which way a packet goes
 * is as good as random, and a wrong guess cost more than the second
 * comparison (a mispredicted branch for about one packet in five on
 * bench/run-exporter's capture, by callgrind's branch model). In 16-byte
 * vectors (GCC vector extensions): 25 instructions where 64-bit words took
 * 60 with their spills. */
static inline unsigned key_match(const struct wflow_key *e, const struct kvec *k)
{
	static const uint8_t keep[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};				/* not dir and pad */
	mv2 es = ld128(e->src), ed = ld128(e->dst), er = ld128(&e->src_port), m = ld128(keep);
	mv2 f = (es ^ k->src) | (ed ^ k->dst) | ((er ^ k->rest) & m);
	mv2 r = (es ^ k->dst) | (ed ^ k->src) | ((er ^ k->rrev) & m);

	_Static_assert(offsetof(struct wflow_key, dir) == 44 && sizeof(struct wflow_key) == 48,
		       "wflow_key: 12 bytes compared after the addresses");
	return is_zero128(f) | is_zero128(r) << 1;
}

/* The entry of k (either way) or MNIL; *rev says which way (a flow whose
 * two ends are the same is forward). */
static inline __attribute__((always_inline)) uint32_t
lookup(const struct meter *m, const struct wflow_key *k, uint64_t h, int *rev)
{
	const struct oah_slot *s;
	struct kvec kv;

	key_vec(&kv, k);
	for (s = oah_find(&m->tab, h); s; s = oah_find_next(&m->tab, s)) {
		unsigned w = key_match(&m->ent[s->val].key, &kv);

		/* w an opaque value from here: else GCC branches on each
		 * half of it, which is the branch key_match avoids. */
		__asm__("" : "+r"(w));
		if (w) {
			*rev = w == 2;
			return (uint32_t)s->val;
		}
	}
	return MNIL;
}

/* The key of pi and its hash, from the packet's fields in registers (the
 * key is written with the stores it is read back with: no store that a
 * wider load must wait for). */
static inline uint64_t key_of(struct wflow_key *k, const struct pkt_info *pi, uint32_t ifindex,
			      uint8_t dir)
{
	uint64_t s0 = 0, s1 = 0, d0 = 0, d1 = 0;
	uint16_t sport = pi->src_port, dport = pi->dst_port;
	uint8_t ipver = 6;

	if (pi->layers & PKT_L_IPV4) {
		memcpy(&s0, pi->src.a + 12, 4);
		memcpy(&d0, pi->dst.a + 12, 4);
		ipver = 4;
	} else {
		s0 = meter_ld64(pi->src.a);
		s1 = meter_ld64(pi->src.a + 8);
		d0 = meter_ld64(pi->dst.a);
		d1 = meter_ld64(pi->dst.a + 8);
	}
	/* TCP, UDP, SCTP: the parser fills the ports of those only. */
	if (pi->layers & (PKT_L_ICMP | PKT_L_ICMPV6)) {
		sport = 0;
		dport = (uint16_t)(pi->icmp_type << 8 | pi->icmp_code);
	}
	memcpy(k->src, &s0, 8);
	memcpy(k->src + 8, &s1, 8);
	memcpy(k->dst, &d0, 8);
	memcpy(k->dst + 8, &d1, 8);
	k->src_port = sport;
	k->dst_port = dport;
	k->vlan = pi->vlan_outer;
	k->proto = pi->proto;
	k->ipver = ipver;
	k->ifindex = ifindex;
	k->dir = dir;
	memset(k->pad, 0, sizeof(k->pad));
	return hash_parts(s0, s1, d0, d1, sport, dport,
			  key_rest(pi->proto, pi->vlan_outer, ipver, ifindex));
}

/* ---- counting ---- */

/* Each of the 8 counters (WFLOW_FIN..WFLOW_CWR: the bits of the flags
 * byte) plus its flag's bit of flags. Every counter, flag set or not, in
 * two vector operations: no branch on a packet's flags (or on whether it
 * is TCP), which a predictor cannot learn, and no loop. */
static inline void flag_add(uint32_t cnt[WFLOW_NFLAGS], unsigned flags)
{
	const mv4 lo = { 1, 2, 4, 8 }, hi = { 16, 32, 64, 128 };
	mv4 f = { flags, flags, flags, flags }, c0, c1;

	_Static_assert(WFLOW_NFLAGS == 8 && WFLOW_FIN == 0 && WFLOW_CWR == 7, "flag counters");
	memcpy(&c0, cnt, 16);
	memcpy(&c1, cnt + 4, 16);
	c0 -= (mv4)((f & lo) == lo);		/* a true lane is -1 */
	c1 -= (mv4)((f & hi) == hi);
	memcpy(cnt, &c0, 16);
	memcpy(cnt + 4, &c1, 16);
}

/* Direction d of entry e counts one packet. */
static inline void dir_add(struct ment *e, int d, const struct pkt_info *pi, uint64_t t,
			   unsigned flags)
{
	struct mdir *v = &e->d[d];

	if (!v->packets) {
		v->first_ns = v->last_ns = t;
		e->min_ttl[d] = e->max_ttl[d] = pi->ttl;
		e->tos[d] = pi->tos;
	} else {
		if (t < v->first_ns) {
			v->first_ns = t;
			e->tos[d] = pi->tos;
		}
		if (t > v->last_ns)
			v->last_ns = t;
		if (pi->ttl < e->min_ttl[d])
			e->min_ttl[d] = pi->ttl;
		if (pi->ttl > e->max_ttl[d])
			e->max_ttl[d] = pi->ttl;
	}
	v->packets++;
	v->octets += pi->ip_len;
	e->tcp_flags[d] |= (uint16_t)flags;
	flag_add(v->flag_cnt, flags);
}

/* Direction d of entry e folds in an aggregate (the rules of wflow.h). */
static void dir_merge(struct ment *e, int d, const struct wflow_val *s)
{
	struct mdir *v = &e->d[d];

	if (!s->packets)
		return;
	if (!v->packets) {
		v->first_ns = s->first_ns;
		v->last_ns = s->last_ns;
		e->min_ttl[d] = s->min_ttl;
		e->max_ttl[d] = s->max_ttl;
		e->tos[d] = s->tos;
	} else {
		if (s->first_ns < v->first_ns) {
			v->first_ns = s->first_ns;
			e->tos[d] = s->tos;
		}
		if (s->last_ns > v->last_ns)
			v->last_ns = s->last_ns;
		if (s->min_ttl < e->min_ttl[d])
			e->min_ttl[d] = s->min_ttl;
		if (s->max_ttl > e->max_ttl[d])
			e->max_ttl[d] = s->max_ttl;
	}
	v->packets += s->packets;
	v->octets += s->octets;
	e->tcp_flags[d] |= s->tcp_flags;
	for (int f = 0; f < WFLOW_NFLAGS; f++)
		v->flag_cnt[f] += s->flag_cnt[f];
}

static void dir_get(const struct ment *e, int d, struct wflow_val *v)
{
	const struct mdir *s = &e->d[d];

	memset(v, 0, sizeof(*v));
	if (!s->packets)
		return;
	v->first_ns = s->first_ns;
	v->last_ns = s->last_ns;
	v->packets = s->packets;
	v->octets = s->octets;
	memcpy(v->flag_cnt, s->flag_cnt, sizeof(v->flag_cnt));
	v->tcp_flags = e->tcp_flags[d];
	v->min_ttl = e->min_ttl[d];
	v->max_ttl = e->max_ttl[d];
	v->tos = e->tos[d];
}

/* Both directions back to zero: a new record starts. */
static void dirs_clear(struct ment *e)
{
	memset(e->d, 0, sizeof(e->d));
	e->tcp_flags[0] = e->tcp_flags[1] = 0;
}

/* ---- entries ---- */

static void emit(struct meter *m, struct ment *e, uint8_t reason)
{
	struct meter_rec r;

	m->st.records++;
	if (!m->emit)
		return;
	r.key = e->key;
	dir_get(e, 0, &r.fwd);
	dir_get(e, 1, &r.rev);
	r.end_reason = reason;
	r.icmp_type = e->icmp_type;
	r.icmp_code = e->icmp_code;
	m->emit(m->arg, &r);
}

static void tab_del(struct meter *m, uint64_t h, uint32_t i)
{
	struct oah_slot *s;

	for (s = oah_find(&m->tab, h); s; s = oah_find_next(&m->tab, s))
		if (s->val == i) {
			oah_del(&m->tab, s);
			return;
		}
}

/* End entry i: its record if it counted anything since the last one, then
 * the entry back to the free list. */
static void end_flow(struct meter *m, uint32_t i, uint8_t reason)
{
	struct ment *e = &m->ent[i];

	if (e->d[0].packets || e->d[1].packets)
		emit(m, e, reason);
	ml_del(e->where == W_LINGER ? &m->linger : &m->idle, m->lnk, i);
	if (e->in_act)
		ml_del(&m->active, m->act, i);
	tab_del(m, key_hash(&e->key), i);
	e->where = W_FREE;
	m->lnk[i].next = m->free;
	m->free = i;
	m->st.active--;
}

/* An entry for a new flow: a free one, one never used, or, with the table
 * full, the one idle longest (lingering ones first: their end is known),
 * ended to make room. Why end one rather than refuse the new flow: every
 * packet metered then reaches a record, so totals stay exact under any
 * bound, and a long flow that starts while the table is full is not lost
 * for its whole life to entries that are only waiting for their timeout. */
static uint32_t ent_alloc(struct meter *m)
{
	uint32_t i;

	if (m->free == MNIL && m->used < m->cfg.max_flows) {
		m->ent[m->used].where = W_FREE;
		m->lnk[m->used].next = MNIL;
		m->free = m->used++;
	}
	if (m->free == MNIL) {
		if (m->linger.head != MNIL) {
			end_flow(m, m->linger.head, METER_END_EOF);
		} else if (m->idle.head != MNIL) {
			end_flow(m, m->idle.head, METER_END_RESOURCES);
			m->st.evicted++;
		} else {
			return MNIL;	/* max_flows 0: cannot happen after meter_new */
		}
	}
	i = m->free;
	m->free = m->lnk[i].next;
	return i;
}

static uint32_t flow_new(struct meter *m, const struct wflow_key *k, uint64_t h)
{
	uint32_t i = ent_alloc(m);
	struct ment *e;

	if (i == MNIL)
		return MNIL;
	if (oah_add(&m->tab, h, i)) {
		m->lnk[i].next = m->free;	/* reserved at init: not reached */
		m->free = i;
		return MNIL;
	}
	e = &m->ent[i];
	e->key = *k;
	memset(e->key.pad, 0, sizeof(e->key.pad));
	e->icmp_type = e->icmp_code = 0;
	if ((k->proto == 1 && k->ipver == 4) || (k->proto == 58 && k->ipver == 6)) {
		e->icmp_type = (uint8_t)(k->dst_port >> 8);
		e->icmp_code = (uint8_t)k->dst_port;
	}
	dirs_clear(e);
	e->tcp = 0;
	e->in_act = 0;
	e->where = W_IDLE;
	ml_push(&m->idle, m->lnk, i, m->clock);
	m->st.flows_created++;
	m->st.active++;
	return i;
}

/* Activity on entry i now: to the tail of the idle list, and a new active
 * period if its last one was closed. */
static inline void touch(struct meter *m, uint32_t i)
{
	struct ment *e = &m->ent[i];

	if (e->where != W_IDLE)
		return;
	if (m->idle.tail != i) {
		ml_del(&m->idle, m->lnk, i);
		ml_push(&m->idle, m->lnk, i, m->clock);
	} else {
		m->lnk[i].t = m->clock;
	}
	if (!e->in_act) {
		ml_push(&m->active, m->act, i, m->clock);
		e->in_act = 1;
	}
}

static void linger_start(struct meter *m, uint32_t i)
{
	struct ment *e = &m->ent[i];

	ml_del(&m->idle, m->lnk, i);
	if (e->in_act) {
		ml_del(&m->active, m->act, i);
		e->in_act = 0;
	}
	e->where = W_LINGER;
	ml_push(&m->linger, m->lnk, i, sat_add(m->clock, m->cfg.linger_ns));
}

/* RFC 9293 §3.6 teardown as seen from outside: a RST ends the flow; so
 * does FIN both ways once the last FIN is acknowledged (without sequence
 * numbers: an ACK from the side that did not send the last FIN, after
 * it). An aggregate (agg) cannot order its packets: when it completes FIN
 * both ways and holds an ACK, that ACK counts as the last FIN's. The end
 * starts the linger; packets during it count in the same flow. */
static void tcp_state(struct meter *m, uint32_t i, int rev, unsigned flags, int agg)
{
	struct ment *e = &m->ent[i];
	unsigned s = e->tcp, was_both = (s & T_FIN_BOTH) == T_FIN_BOTH;
	int end = 0;

	if (s & T_END)
		return;
	if (flags & TCP_RST) {
		s |= T_RST;
		end = 1;
	} else if (was_both && (flags & TCP_ACK) && rev != !!(s & T_LAST_REV)) {
		end = 1;
	} else if (flags & TCP_FIN) {
		s |= rev ? T_FIN_REV : T_FIN_FWD;
		if (!was_both && (s & T_FIN_BOTH) == T_FIN_BOTH) {
			if (rev)
				s |= T_LAST_REV;
			end = agg && (flags & TCP_ACK);
		}
	}
	e->tcp = (uint8_t)(s | (end ? T_END : 0));
	if (end)
		linger_start(m, i);
}

/* A SYN without ACK on an entry whose connection was torn down (FIN or
 * RST seen) opens a new connection on the same ports: the old one ends. */
static inline int tcp_reopens(const struct ment *e, unsigned flags)
{
	return (flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && (e->tcp & (T_FIN_BOTH | T_RST));
}

/* meter_count with the key's hash already computed. */
static inline __attribute__((always_inline)) uint32_t
count_h(struct meter *m, const struct wflow_key *k, uint64_t h, const struct pkt_info *pi,
	uint64_t t, int *rev)
{
	unsigned flags = pi->tcp_flags & -(unsigned)!!(pi->layers & PKT_L_TCP);
	uint32_t i = lookup(m, k, h, rev);

	/* Branches a packet takes the same way all the time: a SYN, FIN
	 * or RST is rare, and so is a flow whose end has begun (tcp). */
	if (i != MNIL && __builtin_expect(flags & TCP_SYN, 0) && tcp_reopens(&m->ent[i], flags)) {
		end_flow(m, i, METER_END_EOF);
		i = MNIL;
	}
	if (i == MNIL) {
		*rev = 0;
		i = flow_new(m, k, h);
		if (i == MNIL) {
			m->st.refused_flows++;
			m->st.refused_packets++;
			m->st.refused_octets += pi->ip_len;
			return MNIL;
		}
	}
	dir_add(&m->ent[i], *rev, pi, t, flags);
	touch(m, i);
	if (__builtin_expect((flags & (TCP_FIN | TCP_RST)) | m->ent[i].tcp, 0) && flags)
		tcp_state(m, i, *rev, flags, 0);
	return i;
}

uint32_t meter_count(struct meter *m, const struct wflow_key *k, const struct pkt_info *pi,
		     uint64_t t, int *rev)
{
	return count_h(m, k, key_hash(k), pi, t, rev);
}

void meter_add_val(struct meter *m, uint32_t i, int rev, const struct wflow_val *v)
{
	dir_merge(&m->ent[i], rev, v);
}

void meter_fold(struct meter *m, const struct wflow_key *key, const struct wflow_val *val)
{
	struct wflow_key k = *key;
	uint64_t h;
	uint32_t i;
	int rev = 0;

	memset(k.pad, 0, sizeof(k.pad));
	h = key_hash(&k);
	i = lookup(m, &k, h, &rev);
	if (i == MNIL) {
		i = flow_new(m, &k, h);
		if (i == MNIL) {
			m->st.refused_flows++;
			m->st.refused_packets += val->packets;
			m->st.refused_octets += val->octets;
			return;
		}
	}
	dir_merge(&m->ent[i], rev, val);
	touch(m, i);
	if ((val->tcp_flags & (TCP_FIN | TCP_RST)) || (val->tcp_flags && m->ent[i].tcp))
		tcp_state(m, i, rev, val->tcp_flags, 1);
}

/* ---- expiry ---- */

/* The active timeout of entry i: its record, and the flow goes on in the
 * same entry counting from zero. When its idle deadline came first, the
 * flow ended idle instead. */
static void active_end(struct meter *m, uint32_t i)
{
	struct ment *e = &m->ent[i];

	/* lnk.t (last activity) >= act.t (period start); no sum can wrap */
	if (m->cfg.inactive_ns <= m->cfg.active_ns &&
	    m->lnk[i].t - m->act[i].t <= m->cfg.active_ns - m->cfg.inactive_ns) {
		end_flow(m, i, METER_END_IDLE);
		return;
	}
	emit(m, e, METER_END_ACTIVE);
	dirs_clear(e);
	ml_del(&m->active, m->act, i);
	e->in_act = 0;
}

/* Everything due at now (the meter's clock, never behind any time stored
 * in the lists, so the subtractions cannot wrap). */
static void run_due(struct meter *m, uint64_t now)
{
	uint32_t i;

	while ((i = m->linger.head) != MNIL && m->lnk[i].t <= now)
		end_flow(m, i, METER_END_EOF);
	meter_frag_due(m, now);
	while ((i = m->active.head) != MNIL && now - m->act[i].t >= m->cfg.active_ns)
		active_end(m, i);
	while ((i = m->idle.head) != MNIL && now - m->lnk[i].t >= m->cfg.inactive_ns)
		end_flow(m, i, METER_END_IDLE);
}

static inline int is_due(const struct meter *m, uint64_t now)
{
	uint32_t i;

	return ((i = m->idle.head) != MNIL && now - m->lnk[i].t >= m->cfg.inactive_ns) ||
	       ((i = m->active.head) != MNIL && now - m->act[i].t >= m->cfg.active_ns) ||
	       ((i = m->linger.head) != MNIL && m->lnk[i].t <= now) ||
	       meter_frag_is_due(m, now);
}

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* A time before which nothing can be due: the deadline of each list's
 * head (the earliest of its list), and, for an entry put on a list later,
 * at a clock no earlier than now, now + the shortest timeout. A head that
 * leaves its list only makes way for a later deadline, so the bound holds
 * until the clock reaches it. */
static uint64_t next_due(const struct meter *m)
{
	uint64_t d = sat_add(m->clock, m->min_wait);
	uint32_t i;

	if ((i = m->idle.head) != MNIL)
		d = min64(d, sat_add(m->lnk[i].t, m->cfg.inactive_ns));
	if ((i = m->active.head) != MNIL)
		d = min64(d, sat_add(m->act[i].t, m->cfg.active_ns));
	if ((i = m->linger.head) != MNIL)
		d = min64(d, m->lnk[i].t);
	if ((i = m->fq.head) != MNIL)
		d = min64(d, m->flnk[i].t);
	return d;
}

/* What is due at the clock runs; then the next time to look. Called when
 * the clock reaches next_due: a packet costs one comparison while nothing
 * can be due, not a look at four lists (about 30 instructions a packet on
 * bench/run-exporter's capture, where a batch of 32 packets spans 0.3 ms
 * and most of them meet no deadline). */
static void due_check(struct meter *m)
{
	if (is_due(m, m->clock))
		run_due(m, m->clock);
	m->next_due = next_due(m);
}

/* ---- the interface ---- */

/* Zeroed memory for n items of size bytes, on huge pages where the kernel
 * gives them (THP in madvise mode): the table is touched at random, one
 * entry per packet, and 4 KiB pages would cost a TLB miss on most. */
static void *big_alloc(size_t n, size_t size, size_t *len)
{
	const size_t huge = 2u << 20;
	void *p;

	*len = (n * size + huge - 1) & ~(huge - 1);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, *len, MADV_HUGEPAGE);
	return p;
}


struct meter *meter_new(const struct meter_cfg *cfg, meter_emit_fn fn, void *arg)
{
	struct meter *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (cfg)
		m->cfg = *cfg;
	if (!m->cfg.active_ns)
		m->cfg.active_ns = DEF_ACTIVE;
	if (!m->cfg.inactive_ns)
		m->cfg.inactive_ns = DEF_INACTIVE;
	if (!m->cfg.linger_ns)
		m->cfg.linger_ns = DEF_LINGER;
	if (!m->cfg.max_flows)
		m->cfg.max_flows = DEF_MAX_FLOWS;
	if (m->cfg.max_flows >= MNIL)
		m->cfg.max_flows = MNIL - 1;
	m->min_wait = min64(min64(m->cfg.inactive_ns, m->cfg.active_ns),
			    min64(m->cfg.linger_ns, METER_FRAG_TIMEOUT));
	m->emit = fn;
	m->arg = arg;
	m->free = MNIL;
	ml_init(&m->idle);
	ml_init(&m->active);
	ml_init(&m->linger);
	oah_init(&m->tab, m->cfg.max_flows);
	m->ent = big_alloc(m->cfg.max_flows, sizeof(*m->ent), &m->ent_len);
	m->lnk = calloc(m->cfg.max_flows, sizeof(*m->lnk));
	m->act = calloc(m->cfg.max_flows, sizeof(*m->act));
	if (!m->ent || !m->lnk || !m->act || oah_reserve(&m->tab, m->cfg.max_flows) ||
	    meter_frag_init(m)) {
		meter_free(m);
		return NULL;
	}
	return m;
}

void meter_free(struct meter *m)
{
	if (!m)
		return;
	meter_frag_free(m);
	oah_free(&m->tab);
	if (m->ent)
		munmap(m->ent, m->ent_len);
	free(m->lnk);
	free(m->act);
	free(m);
}

/* The steps of a packet before its flow: the clock and what is due, the
 * frames that are not metered (counted by reason), sampling. 1: meter it. */
static inline int admit(struct meter *m, const struct pkt_info *pi, uint64_t t_ns)
{
	m->st.packets++;
	if (t_ns > m->clock)
		m->clock = t_ns;
	if (__builtin_expect(m->clock >= m->next_due, 0))
		due_check(m);
	if (!(pi->layers & (PKT_L_IPV4 | PKT_L_IPV6)) || (pi->flags & (PKT_F_MALFORMED | PKT_F_DEPTH))) {
		if (pi->flags & (PKT_F_MALFORMED | PKT_F_DEPTH))
			m->st.malformed++;
		else if (pi->flags & PKT_F_TRUNCATED)
			m->st.truncated++;
		else
			m->st.not_ip++;
		return 0;
	}
	/* Systematic count-based sampling (RFC 5475; selectorAlgorithm 1 of
	 * RFC 5476): the first of every N packets. */
	if (m->cfg.sampling > 1) {
		if (m->skip) {
			m->skip--;
			m->st.sampled_out++;
			return 0;
		}
		m->skip = m->cfg.sampling - 1;
	}
	return 1;
}

/* A fragment of a datagram that has others: not an IPv6 atomic fragment
 * (a fragment header with offset 0 and M clear, RFC 6946), which is whole. */
static inline int is_frag(const struct pkt_info *pi)
{
	return (pi->layers & PKT_L_FRAG) && (pi->frag_off || (pi->ip_flags & PKT_IP_MF));
}

void meter_packet(struct meter *m, const struct pkt_info *pi, uint64_t t_ns, uint32_t ifindex,
		  uint8_t dir)
{
	struct wflow_key k;
	uint64_t h;
	int rev;

	if (!admit(m, pi, t_ns))
		return;
	h = key_of(&k, pi, ifindex, dir);
	if (is_frag(pi))
		meter_frag_packet(m, &k, pi, t_ns);
	else
		count_h(m, &k, h, pi, t_ns, &rev);
}

/* Prefetch the slot where h's run starts; then, once that line is in, the
 * entry its first slot names: its first line, and both directions' lines
 * (which one the packet needs is not known yet). */
static inline void prefetch_slot(const struct meter *m, uint64_t h)
{
	__builtin_prefetch(&m->tab.slot[oah_home(&m->tab, h)]);
}

/* The three lines of entry i. */
static inline void prefetch_entry(const struct meter *m, uint32_t i)
{
	const char *e = (const char *)&m->ent[i];

	__builtin_prefetch(e);
	__builtin_prefetch(e + 64);
	__builtin_prefetch(e + 128);
}

static inline void prefetch_ent(const struct meter *m, uint64_t h)
{
	const struct oah_slot *s = &m->tab.slot[oah_home(&m->tab, h)];

	if (s->key == h)
		prefetch_entry(m, (uint32_t)s->val);
}

/* How many packets ahead the entries and the slots are prefetched: enough
 * for a miss to complete while the packets between are counted, few enough
 * that the misses in flight fit the core's fill buffers. */
#define PF_ENT	4
#define PF_SLOT	8

/* Packets in batches: the keys and hashes first, then each packet as
 * meter_packet takes it while the slots PF_SLOT packets ahead and the
 * entries PF_ENT packets ahead are prefetched. The table is far larger
 * than the caches and each packet lands at random in it, so one at a time
 * costs two dependent misses per packet; here they overlap. The prefetches
 * are hints only: each packet looks everything up again, in order, so the
 * result is meter_packet's to the bit. */
void meter_packets(struct meter *m, const struct pkt_info *pi, const uint64_t *t_ns, size_t n,
		   uint32_t ifindex, uint8_t dir)
{
	struct wflow_key k[METER_BATCH];
	uint64_t h[METER_BATCH];
	int rev;

	while (n) {
		size_t b = n < METER_BATCH ? n : METER_BATCH;

		for (size_t j = 0; j < b; j++) {
			h[j] = key_of(&k[j], &pi[j], ifindex, dir);
			if (j < PF_SLOT)
				prefetch_slot(m, h[j]);
		}
		for (size_t j = 0; j < b && j < PF_ENT; j++)
			prefetch_ent(m, h[j]);
		for (size_t j = 0; j < b; j++) {
			if (j + PF_SLOT < b)
				prefetch_slot(m, h[j + PF_SLOT]);
			if (j + PF_ENT < b)
				prefetch_ent(m, h[j + PF_ENT]);
			if (!admit(m, &pi[j], t_ns[j]))
				continue;
			if (is_frag(&pi[j]))
				meter_frag_packet(m, &k[j], &pi[j], t_ns[j]);
			else
				count_h(m, &k[j], h[j], &pi[j], t_ns[j], &rev);
		}
		pi += b;
		t_ns += b;
		n -= b;
	}
}

void meter_merge(struct meter *m, const struct wflow_key *key, const struct wflow_val *val)
{
	if (!val->packets)
		return;
	if (val->last_ns > m->clock)
		m->clock = val->last_ns;
	meter_fold(m, key, val);
}

void meter_expire(struct meter *m, uint64_t now_ns)
{
	if (now_ns > m->clock)
		m->clock = now_ns;
	run_due(m, m->clock);
}

/* How far ahead in a list meter_flush prefetches the entries, and (half
 * as far) the slots that end_flow will delete. */
#define PF_FLUSH	8

/* End every entry of l, head first. The entries of a list are scattered
 * over the table and cold (a flush ends tens of thousands at once), so the
 * entries PF_FLUSH ahead in the list and their slots PF_FLUSH / 2 ahead
 * are prefetched: end_flow reads the first and deletes from the second
 * (on bench/run-exporter: 24,000 flows, 3.6 -> 2.9 ms, most of what is
 * left the exporting process's). */
static void flush_list(struct meter *m, struct mlist *l, uint8_t reason)
{
	uint32_t ahead = l->head, mid = l->head, i;

	for (int k = 0; k < PF_FLUSH && ahead != MNIL; k++) {
		prefetch_entry(m, ahead);
		ahead = m->lnk[ahead].next;
	}
	for (int k = 0; k < PF_FLUSH / 2 && mid != MNIL; k++)
		mid = m->lnk[mid].next;
	while ((i = l->head) != MNIL) {
		if (ahead != MNIL) {
			prefetch_entry(m, ahead);
			ahead = m->lnk[ahead].next;
		}
		if (mid != MNIL) {
			prefetch_slot(m, key_hash(&m->ent[mid].key));
			mid = m->lnk[mid].next;
		}
		end_flow(m, i, reason);
	}
}

void meter_flush(struct meter *m, uint8_t reason)
{
	meter_frag_flush(m);
	flush_list(m, &m->idle, reason);
	flush_list(m, &m->linger, METER_END_EOF);
}

const struct meter_stats *meter_stats(const struct meter *m)
{
	return &m->st;
}
