/* meter_int.h - what meter.c and meter_frag.c share: the meter's state and
 * the steps both take. Not an interface. */
#ifndef WEIR_METER_INT_H
#define WEIR_METER_INT_H

#include <stdint.h>
#include <string.h>

#include "hash.h"
#include "meter.h"

#define MNIL		UINT32_MAX	/* no entry */

/* How long a fragment entry waits for its datagram's first fragment:
 * Linux's reassembly time (net.ipv4.ipfrag_time), twice RFC 791's 15 s. */
#define METER_FRAG_TIMEOUT	(30 * 1000000000ull)

/* Doubly-linked lists over entry indexes; t: the time that orders them. */
struct mlink {
	uint32_t prev, next;
	uint64_t t;
};

struct mlist {
	uint32_t head, tail;
};

/* struct ment.where */
enum { W_FREE = 0, W_IDLE, W_LINGER };

/* A direction's counters that change with every packet: one cache line. */
struct mdir {
	uint64_t first_ns, last_ns;
	uint64_t packets, octets;
	uint32_t flag_cnt[WFLOW_NFLAGS];
};

/* A flow, laid out for the packet path: a packet reads the first line (the
 * key, the state, and the few bytes of both directions that are not
 * counters) and writes the line of its direction. wflow_val does not fit
 * one line (72 bytes); the record is put together when it goes out. */
struct ment {
	struct wflow_key key;	/* the initiator's */
	uint8_t tcp;		/* T_* of meter.c */
	uint8_t in_act;		/* in the active list */
	uint8_t where;		/* W_*: the list lnk links it into */
	uint8_t icmp_type, icmp_code;
	uint8_t min_ttl[2], max_ttl[2], tos[2];	/* [0] forward, [1] reverse */
	uint8_t pad;
	uint16_t tcp_flags[2];
	struct mdir d[2];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ment) == 192, "struct ment: three cache lines");

/* A fragmented datagram (meter_frag.c): who it is, the ports its first
 * fragment carried, and what its later fragments counted before it came. */
struct mfrag {
	uint8_t src[16], dst[16];
	struct wflow_val pend;
	uint64_t hash;
	uint32_t id, ifindex;
	uint16_t vlan, sport, dport;
	uint8_t proto, ipver, dir, learnt;
};

struct meter {
	struct meter_cfg cfg;
	meter_emit_fn emit;
	void *arg;
	struct meter_stats st;
	uint64_t clock;			/* the largest time seen */
	uint64_t next_due;		/* no deadline in the lists is before it
					 * (see due_check in meter.c) */
	uint64_t min_wait;		/* the shortest timeout: inactive, active,
					 * linger, METER_FRAG_TIMEOUT */
	uint32_t skip;			/* packets sampling still skips */

	struct ment *ent;		/* cfg.max_flows */
	size_t ent_len;			/* bytes mapped */
	struct mlink *lnk;		/* idle or linger list; the free list (next) */
	struct mlink *act;		/* active list */
	uint32_t used;			/* entries ever taken: [0, used) */
	uint32_t free;
	struct mlist idle, active, linger;
	struct oah tab;			/* key_hash -> entry */

	struct mfrag *frag;		/* frag_max */
	struct mlink *flnk;		/* by expiry; the free list */
	uint32_t frag_max, frag_used, frag_free;
	struct mlist fq;
	struct oah ftab;
};

static inline void ml_init(struct mlist *l)
{
	l->head = l->tail = MNIL;
}

/* i to the tail of l, ordered by t. */
static inline void ml_push(struct mlist *l, struct mlink *lk, uint32_t i, uint64_t t)
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

static inline void ml_del(struct mlist *l, struct mlink *lk, uint32_t i)
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

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t meter_ld64(const void *p)
{
	uint64_t x;

	memcpy(&x, p, 8);
	return x;
}

static inline uint32_t meter_ld32(const void *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

/* One endpoint of a key, its address as two words and its port, mixed by
 * a multiply and a shift: enough that the sum of two (the flow's hash adds
 * its endpoints, to be the same both ways) is not linear in them. An IPv4
 * address and its port do not overlap in lo (little-endian). */
static inline uint64_t meter_ep(uint64_t lo, uint64_t hi, uint16_t port)
{
	uint64_t x = (lo ^ (uint64_t)port << 48) + hi * 0x9e3779b97f4a7c15ull;

	x *= 0xff51afd7ed558ccdull;
	return x ^ (x >> 32);
}

/* Count one packet into a direction's value. */
static inline void meter_val_add(struct wflow_val *v, const struct pkt_info *pi, uint64_t t,
				 uint16_t flags)
{
	if (!v->packets) {
		v->first_ns = v->last_ns = t;
		v->min_ttl = v->max_ttl = pi->ttl;
		v->tos = pi->tos;
	} else {
		if (t < v->first_ns) {
			v->first_ns = t;
			v->tos = pi->tos;
		}
		if (t > v->last_ns)
			v->last_ns = t;
		if (pi->ttl < v->min_ttl)
			v->min_ttl = pi->ttl;
		if (pi->ttl > v->max_ttl)
			v->max_ttl = pi->ttl;
	}
	v->packets++;
	v->octets += pi->ip_len;
	if (flags) {
		v->tcp_flags |= flags;
		for (unsigned f = flags & 0xff; f; f &= f - 1)
			v->flag_cnt[__builtin_ctz(f)]++;
	}
}

/* Count one packet of key k into its flow (created when new): the entry it
 * went into and *rev its direction, or MNIL (refused). */
uint32_t meter_count(struct meter *m, const struct wflow_key *k, const struct pkt_info *pi,
		     uint64_t t, int *rev);
/* Add an aggregate to direction rev of entry i (no state, no timers). */
void meter_add_val(struct meter *m, uint32_t i, int rev, const struct wflow_val *v);
/* Fold an aggregate into the flow of key (created when new). */
void meter_fold(struct meter *m, const struct wflow_key *key, const struct wflow_val *val);

/* meter_frag.c */
int meter_frag_init(struct meter *m);
void meter_frag_free(struct meter *m);
void meter_frag_packet(struct meter *m, struct wflow_key *k, const struct pkt_info *pi,
		       uint64_t t);
void meter_frag_due(struct meter *m, uint64_t now);
void meter_frag_flush(struct meter *m);

static inline int meter_frag_is_due(const struct meter *m, uint64_t now)
{
	return m->fq.head != MNIL && m->flnk[m->fq.head].t <= now;
}

#endif
