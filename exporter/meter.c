/* meter.c - the flow meter (see meter.h for the contract, docs/exporter.md
 * "The flow meter" for the semantics).
 *
 * Entries: a pool of max_flows, allocated once (calloc: the pages are
 * touched as entries are first used), found through one oah table whose
 * key is a hash of the flow key that is the same for both directions, so
 * that a packet finds its entry whichever way it goes; the entry's key
 * (the initiator's) tells which direction it counts into.
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

/* ---- lists ---- */

void ml_init(struct mlist *l)
{
	l->head = l->tail = MNIL;
}

void ml_push(struct mlist *l, struct mlink *lk, uint32_t i, uint64_t t)
{
	lk[i].t = t;
	lk[i].next = MNIL;
	lk[i].prev = l->tail;
	if (l->tail != MNIL)
		lk[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

void ml_del(struct mlist *l, struct mlink *lk, uint32_t i)
{
	uint32_t p = lk[i].prev, n = lk[i].next;

	if (p != MNIL)
		lk[p].next = n;
	else
		l->head = n;
	if (n != MNIL)
		lk[n].prev = p;
	else
		l->tail = p;
}

/* ---- keys ---- */

/* The flow's hash: the two endpoints' hashes added (the same both ways),
 * then the rest of the key; dir is not part of a flow's identity (the
 * answer to an egress packet comes in on ingress). Never 0 (oah's empty). */
static inline uint64_t key_hash(const struct wflow_key *k)
{
	uint64_t rest = k->proto | (uint64_t)k->vlan << 8 | (uint64_t)k->ipver << 24 |
			(uint64_t)k->ifindex << 32;
	uint64_t h = oah_mix(meter_ep_hash(k->src, k->src_port) + meter_ep_hash(k->dst, k->dst_port) +
			  rest * 0xc2b2ae3d27d4eb4full);

	return h ? h : 1;
}

/* The bytes of a key that identify a flow one way: all but dir and pad. */
#define KEY_ID_LEN	offsetof(struct wflow_key, dir)
/* From vlan to ifindex: what both directions share. */
#define KEY_MID_OFF	offsetof(struct wflow_key, vlan)

_Static_assert(KEY_ID_LEN == 44 && KEY_MID_OFF == 36, "wflow_key layout");

static inline int key_is_rev(const struct wflow_key *e, const struct wflow_key *k)
{
	return e->src_port == k->dst_port && e->dst_port == k->src_port &&
	       !memcmp(e->src, k->dst, 16) && !memcmp(e->dst, k->src, 16) &&
	       !memcmp((const uint8_t *)e + KEY_MID_OFF, (const uint8_t *)k + KEY_MID_OFF,
		       KEY_ID_LEN - KEY_MID_OFF);
}

/* The entry of k (either way) or MNIL; *rev says which way. */
static inline uint32_t lookup(const struct meter *m, const struct wflow_key *k, uint64_t h,
			      int *rev)
{
	const struct oah_slot *s;

	for (s = oah_find(&m->tab, h); s; s = oah_find_next(&m->tab, s)) {
		const struct wflow_key *ek = &m->ent[s->val].r.key;

		if (!memcmp(ek, k, KEY_ID_LEN)) {
			*rev = 0;
			return (uint32_t)s->val;
		}
		if (key_is_rev(ek, k)) {
			*rev = 1;
			return (uint32_t)s->val;
		}
	}
	return MNIL;
}

void meter_key_from_pkt(struct wflow_key *k, const struct pkt_info *pi, uint32_t ifindex,
			uint8_t dir)
{
	memset(k, 0, sizeof(*k));
	if (pi->layers & PKT_L_IPV4) {
		memcpy(k->src, pi->src.a + 12, 4);
		memcpy(k->dst, pi->dst.a + 12, 4);
		k->ipver = 4;
	} else {
		memcpy(k->src, pi->src.a, 16);
		memcpy(k->dst, pi->dst.a, 16);
		k->ipver = 6;
	}
	if (pi->layers & (PKT_L_ICMP | PKT_L_ICMPV6)) {
		k->dst_port = (uint16_t)(pi->icmp_type << 8 | pi->icmp_code);
	} else {
		/* TCP, UDP, SCTP: the parser fills the ports of those only. */
		k->src_port = pi->src_port;
		k->dst_port = pi->dst_port;
	}
	k->vlan = pi->vlan_outer;
	k->proto = pi->proto;
	k->ifindex = ifindex;
	k->dir = dir;
}

/* ---- counting ---- */

void meter_val_merge(struct wflow_val *d, const struct wflow_val *s)
{
	if (!s->packets)
		return;
	if (!d->packets) {
		*d = *s;
		return;
	}
	if (s->first_ns < d->first_ns) {
		d->first_ns = s->first_ns;
		d->tos = s->tos;
	}
	if (s->last_ns > d->last_ns)
		d->last_ns = s->last_ns;
	if (s->min_ttl < d->min_ttl)
		d->min_ttl = s->min_ttl;
	if (s->max_ttl > d->max_ttl)
		d->max_ttl = s->max_ttl;
	d->packets += s->packets;
	d->octets += s->octets;
	d->tcp_flags |= s->tcp_flags;
	for (int f = 0; f < WFLOW_NFLAGS; f++)
		d->flag_cnt[f] += s->flag_cnt[f];
}

/* ---- entries ---- */

static void emit(struct meter *m, struct ment *e, uint8_t reason)
{
	e->r.end_reason = reason;
	m->st.records++;
	if (m->emit)
		m->emit(m->arg, &e->r);
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

	if (e->r.fwd.packets || e->r.rev.packets)
		emit(m, e, reason);
	ml_del(e->where == W_LINGER ? &m->linger : &m->idle, m->lnk, i);
	if (e->in_act)
		ml_del(&m->active, m->act, i);
	tab_del(m, e->hash, i);
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
	memset(&e->r, 0, sizeof(e->r));
	e->r.key = *k;
	memset(e->r.key.pad, 0, sizeof(e->r.key.pad));
	if ((k->proto == 1 && k->ipver == 4) || (k->proto == 58 && k->ipver == 6)) {
		e->r.icmp_type = (uint8_t)(k->dst_port >> 8);
		e->r.icmp_code = (uint8_t)k->dst_port;
	}
	e->hash = h;
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

struct wflow_val *meter_count(struct meter *m, const struct wflow_key *k,
			      const struct pkt_info *pi, uint64_t t)
{
	uint64_t h = key_hash(k);
	unsigned flags = (pi->layers & PKT_L_TCP) ? pi->tcp_flags : 0;
	int rev = 0;
	uint32_t i = lookup(m, k, h, &rev);
	struct wflow_val *v;

	if (i != MNIL && flags && tcp_reopens(&m->ent[i], flags)) {
		end_flow(m, i, METER_END_EOF);
		i = MNIL;
	}
	if (i == MNIL) {
		rev = 0;
		i = flow_new(m, k, h);
		if (i == MNIL) {
			m->st.refused_flows++;
			m->st.refused_packets++;
			m->st.refused_octets += pi->ip_len;
			return NULL;
		}
	}
	v = rev ? &m->ent[i].r.rev : &m->ent[i].r.fwd;
	meter_val_add(v, pi, t, (uint16_t)flags);
	touch(m, i);
	if ((flags & (TCP_FIN | TCP_RST)) || (flags && m->ent[i].tcp))
		tcp_state(m, i, rev, flags, 0);
	return v;
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
	meter_val_merge(rev ? &m->ent[i].r.rev : &m->ent[i].r.fwd, val);
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
	memset(&e->r.fwd, 0, sizeof(e->r.fwd));
	memset(&e->r.rev, 0, sizeof(e->r.rev));
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

/* ---- the interface ---- */

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
	m->emit = fn;
	m->arg = arg;
	m->free = MNIL;
	ml_init(&m->idle);
	ml_init(&m->active);
	ml_init(&m->linger);
	oah_init(&m->tab, m->cfg.max_flows);
	m->ent = calloc(m->cfg.max_flows, sizeof(*m->ent));
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
	free(m->ent);
	free(m->lnk);
	free(m->act);
	free(m);
}

void meter_packet(struct meter *m, const struct pkt_info *pi, uint64_t t_ns, uint32_t ifindex,
		  uint8_t dir)
{
	struct wflow_key k;

	m->st.packets++;
	if (t_ns > m->clock)
		m->clock = t_ns;
	if (is_due(m, m->clock))
		run_due(m, m->clock);
	if (!(pi->layers & (PKT_L_IPV4 | PKT_L_IPV6)) || (pi->flags & (PKT_F_MALFORMED | PKT_F_DEPTH))) {
		if (pi->flags & (PKT_F_MALFORMED | PKT_F_DEPTH))
			m->st.malformed++;
		else if (pi->flags & PKT_F_TRUNCATED)
			m->st.truncated++;
		else
			m->st.not_ip++;
		return;
	}
	/* RFC 5475 §5.1 systematic count-based: the first of every N. */
	if (m->cfg.sampling > 1) {
		if (m->skip) {
			m->skip--;
			m->st.sampled_out++;
			return;
		}
		m->skip = m->cfg.sampling - 1;
	}
	meter_key_from_pkt(&k, pi, ifindex, dir);
	if (pi->layers & PKT_L_FRAG)
		meter_frag_packet(m, &k, pi, t_ns);
	else
		meter_count(m, &k, pi, t_ns);
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

void meter_flush(struct meter *m, uint8_t reason)
{
	meter_frag_flush(m);
	while (m->idle.head != MNIL)
		end_flow(m, m->idle.head, reason);
	while (m->linger.head != MNIL)
		end_flow(m, m->linger.head, METER_END_EOF);
}

const struct meter_stats *meter_stats(const struct meter *m)
{
	return &m->st;
}
