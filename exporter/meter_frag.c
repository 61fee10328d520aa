/* meter_frag.c - fragments into the flow of their datagram.
 *
 * Only an IP datagram's first fragment (offset 0) carries the transport
 * header; the later ones (offset != 0) carry the datagram's identity: its
 * addresses, protocol and IP identification (IPv4: RFC 791 §3.2; IPv6: the
 * fragment header's, RFC 8200 §4.5). A small table keyed by that identity
 * (and the VLAN and interface) learns the ports from the first fragment,
 * so that the later ones count in the same flow. A later fragment that
 * comes before its first is held: counted into the entry's pend value
 * (meter_stats.frag_pending), and folded into the flow when the first
 * comes. An entry lives METER_FRAG_TIMEOUT (meter_int.h) after its first
 * fragment of any kind; what is still held then went without a first
 * fragment and is counted in the flow of the datagram's addresses and
 * protocol with ports 0 (frag_orphaned).
 *
 * The table is bounded (frag_max, from max_flows); a new datagram that
 * finds it full takes the oldest entry, whose held fragments are orphaned
 * at once (frag_evicted).
 */
#include <stdlib.h>
#include <string.h>

#include "meter_int.h"

#define FRAG_MIN	64u
#define FRAG_MAX	65536u

int meter_frag_init(struct meter *m)
{
	uint32_t n = m->cfg.max_flows / 4;

	n = n < FRAG_MIN ? FRAG_MIN : n > FRAG_MAX ? FRAG_MAX : n;
	m->frag_max = n;
	m->frag_free = MNIL;
	ml_init(&m->fq);
	oah_init(&m->ftab, n);
	m->frag = calloc(n, sizeof(*m->frag));
	m->flnk = calloc(n, sizeof(*m->flnk));
	if (!m->frag || !m->flnk || oah_reserve(&m->ftab, n))
		return -1;
	return 0;
}

void meter_frag_free(struct meter *m)
{
	oah_free(&m->ftab);
	free(m->frag);
	free(m->flnk);
}

static uint64_t frag_hash(const struct wflow_key *k, uint32_t id)
{
	uint64_t rest = k->proto | (uint64_t)k->vlan << 8 | (uint64_t)k->ipver << 24 |
			(uint64_t)k->ifindex << 32;
	uint64_t h = oah_mix(meter_ep(meter_ld64(k->src), meter_ld64(k->src + 8), 0) * 3 +
			     meter_ep(meter_ld64(k->dst), meter_ld64(k->dst + 8), 0) +
			     ((uint64_t)id ^ rest * 0xc2b2ae3d27d4eb4full));

	return h ? h : 1;
}

static int frag_is(const struct mfrag *f, const struct wflow_key *k, uint32_t id)
{
	return f->id == id && f->proto == k->proto && f->ipver == k->ipver && f->vlan == k->vlan &&
	       f->ifindex == k->ifindex && !memcmp(f->src, k->src, 16) &&
	       !memcmp(f->dst, k->dst, 16);
}

static uint32_t frag_find(const struct meter *m, const struct wflow_key *k, uint32_t id,
			  uint64_t h)
{
	const struct oah_slot *s;

	for (s = oah_find(&m->ftab, h); s; s = oah_find_next(&m->ftab, s))
		if (frag_is(&m->frag[s->val], k, id))
			return (uint32_t)s->val;
	return MNIL;
}

/* Entry fi goes; what it still holds counts with ports 0. */
static void frag_drop(struct meter *m, uint32_t fi)
{
	struct mfrag *f = &m->frag[fi];
	struct oah_slot *s;

	if (f->pend.packets) {
		struct wflow_key k;

		memset(&k, 0, sizeof(k));
		memcpy(k.src, f->src, 16);
		memcpy(k.dst, f->dst, 16);
		k.vlan = f->vlan;
		k.proto = f->proto;
		k.ipver = f->ipver;
		k.ifindex = f->ifindex;
		k.dir = f->dir;
		m->st.frag_orphaned += f->pend.packets;
		meter_fold(m, &k, &f->pend);
	}
	for (s = oah_find(&m->ftab, f->hash); s; s = oah_find_next(&m->ftab, s))
		if (s->val == fi) {
			oah_del(&m->ftab, s);
			break;
		}
	ml_del(&m->fq, m->flnk, fi);
	m->flnk[fi].next = m->frag_free;
	m->frag_free = fi;
}

static uint32_t frag_new(struct meter *m, const struct wflow_key *k, uint32_t id, uint64_t h)
{
	struct mfrag *f;
	uint32_t fi;

	if (m->frag_free == MNIL && m->frag_used < m->frag_max) {
		m->flnk[m->frag_used].next = MNIL;
		m->frag_free = m->frag_used++;
	}
	if (m->frag_free == MNIL) {
		frag_drop(m, m->fq.head);	/* full: the oldest goes */
		m->st.frag_evicted++;
	}
	fi = m->frag_free;
	if (oah_add(&m->ftab, h, fi))
		return MNIL;			/* reserved at init: not reached */
	m->frag_free = m->flnk[fi].next;
	f = &m->frag[fi];
	memset(f, 0, sizeof(*f));
	memcpy(f->src, k->src, 16);
	memcpy(f->dst, k->dst, 16);
	f->hash = h;
	f->id = id;
	f->ifindex = k->ifindex;
	f->vlan = k->vlan;
	f->proto = k->proto;
	f->ipver = k->ipver;
	f->dir = k->dir;
	ml_push(&m->fq, m->flnk, fi, sat_add(m->clock, METER_FRAG_TIMEOUT));
	return fi;
}

void meter_frag_packet(struct meter *m, struct wflow_key *k, const struct pkt_info *pi,
		       uint64_t t)
{
	uint64_t h = frag_hash(k, pi->ip_id);
	uint32_t fi = frag_find(m, k, pi->ip_id, h);
	struct mfrag *f;
	uint32_t i;
	int rev;

	if (!pi->frag_off) {
		/* The first fragment: its ports are the datagram's. */
		if (fi == MNIL)
			fi = frag_new(m, k, pi->ip_id, h);
		i = meter_count(m, k, pi, t, &rev);
		if (fi == MNIL)
			return;
		f = &m->frag[fi];
		f->sport = k->src_port;
		f->dport = k->dst_port;
		f->learnt = 1;
		if (f->pend.packets && i != MNIL) {
			meter_add_val(m, i, rev, &f->pend);
		} else if (f->pend.packets) {
			m->st.refused_packets += f->pend.packets;
			m->st.refused_octets += f->pend.octets;
		}
		memset(&f->pend, 0, sizeof(f->pend));
		return;
	}
	if (fi != MNIL && m->frag[fi].learnt) {
		k->src_port = m->frag[fi].sport;
		k->dst_port = m->frag[fi].dport;
		meter_count(m, k, pi, t, &rev);
		return;
	}
	if (fi == MNIL)
		fi = frag_new(m, k, pi->ip_id, h);
	if (fi == MNIL) {
		meter_count(m, k, pi, t, &rev);	/* not reached: ports 0 at once */
		return;
	}
	meter_val_add(&m->frag[fi].pend, pi, t, 0);
	m->st.frag_pending++;
}

void meter_frag_due(struct meter *m, uint64_t now)
{
	while (meter_frag_is_due(m, now))
		frag_drop(m, m->fq.head);
}

void meter_frag_flush(struct meter *m)
{
	while (m->fq.head != MNIL)
		frag_drop(m, m->fq.head);
}
