/* xp_tmpl.c - the flow templates of the exporting process and the writer of
 * their records: one table (elems[]) says which elements a record has, in
 * which order, from which value; templates and records both follow it.
 *
 * Element ids and types are those of the IANA IPFIX registry (RFC 7012,
 * ie-defs/iana.csv); reverse elements are RFC 5103's (PEN 29305, the same
 * id). docs/exporter.md lists them. */
#include <stdlib.h>
#include <string.h>

#include "ie.h"
#include "xp_int.h"

enum xp_what {
	W_START, W_END, W_OCTETS, W_PACKETS, W_SRC, W_DST, W_SPORT, W_DPORT, W_IN_IF,
	W_OUT_IF, W_VLAN, W_ICMP, W_FLAGS, W_PROTO, W_TOS, W_MINTTL, W_MAXTTL, W_DIR,
	W_END_REASON, W_SYN, W_FIN, W_RST, W_PSH, W_ACK, W_URG,
};

struct xp_elem {
	uint8_t what;		/* enum xp_what */
	uint8_t reversible;	/* biflow: a reverse element follows the forward ones */
	uint16_t id4, id6;	/* IANA element in IPv4 / IPv6 records */
	uint8_t len4, len6;
};

/* Record order: the 8-byte values first, then by size, so that no record
 * needs more than a look at this table to be read. */
static const struct xp_elem elems[] = {
	{ W_START,	1, 152, 152, 8, 8 },	/* flowStartMilliseconds */
	{ W_END,	1, 153, 153, 8, 8 },	/* flowEndMilliseconds */
	{ W_OCTETS,	1, 1,   1,   8, 8 },	/* octetDeltaCount */
	{ W_PACKETS,	1, 2,   2,   8, 8 },	/* packetDeltaCount */
	{ W_SRC,	0, 8,   27,  4, 16 },	/* sourceIPv4Address / sourceIPv6Address */
	{ W_DST,	0, 12,  28,  4, 16 },	/* destinationIPv4Address / destinationIPv6Address */
	{ W_IN_IF,	0, 10,  10,  4, 4 },	/* ingressInterface */
	{ W_OUT_IF,	0, 14,  14,  4, 4 },	/* egressInterface */
	{ W_SYN,	1, 218, 218, 4, 4 },	/* tcpSynTotalCount (unsigned64, reduced) */
	{ W_FIN,	1, 219, 219, 4, 4 },	/* tcpFinTotalCount */
	{ W_RST,	1, 220, 220, 4, 4 },	/* tcpRstTotalCount */
	{ W_PSH,	1, 221, 221, 4, 4 },	/* tcpPshTotalCount */
	{ W_ACK,	1, 222, 222, 4, 4 },	/* tcpAckTotalCount */
	{ W_URG,	1, 223, 223, 4, 4 },	/* tcpUrgTotalCount */
	{ W_SPORT,	0, 7,   7,   2, 2 },	/* sourceTransportPort */
	{ W_DPORT,	0, 11,  11,  2, 2 },	/* destinationTransportPort */
	{ W_VLAN,	0, 58,  58,  2, 2 },	/* vlanId */
	{ W_ICMP,	0, 32,  139, 2, 2 },	/* icmpTypeCodeIPv4 / icmpTypeCodeIPv6 */
	{ W_FLAGS,	1, 6,   6,   2, 2 },	/* tcpControlBits (RFC 7125: 16 bits) */
	{ W_PROTO,	0, 4,   4,   1, 1 },	/* protocolIdentifier */
	{ W_TOS,	1, 5,   5,   1, 1 },	/* ipClassOfService */
	{ W_MINTTL,	1, 52,  52,  1, 1 },	/* minimumTTL */
	{ W_MAXTTL,	1, 53,  53,  1, 1 },	/* maximumTTL */
	{ W_DIR,	0, 61,  61,  1, 1 },	/* flowDirection: 0 ingress, 1 egress */
	{ W_END_REASON,	0, 136, 136, 1, 1 },	/* flowEndReason */
};

#define NELEMS	(sizeof(elems) / sizeof(elems[0]))

int xp_layout_init(struct xp_layout *l, uint16_t tid, int v6, int biflow)
{
	uint16_t n = 0, nrev = 0;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < NELEMS; i++)
		nrev += elems[i].reversible;
	l->t = ipfix_tmpl_new(tid, (uint16_t)(NELEMS + (biflow ? nrev : 0)), 0);
	if (!l->t)
		return -1;
	for (int pass = 0; pass < (biflow ? 2 : 1); pass++) {
		for (size_t i = 0; i < NELEMS; i++) {
			const struct xp_elem *e = &elems[i];

			if (pass && !e->reversible)
				continue;
			l->t->f[n] = (struct tmpl_field){
				.pen = pass ? IE_PEN_REVERSE : IE_PEN_IANA,
				.id = v6 ? e->id6 : e->id4,
				.len = v6 ? e->len6 : e->len4,
			};
			l->what[n] = e->what;
			l->rev[n] = (uint8_t)pass;
			n++;
		}
	}
	l->nfields = n;
	tmpl_finish(NULL, l->t);
	return 0;
}

void xp_layout_free(struct xp_layout *l)
{
	free(l->t);
	l->t = NULL;
}

static int is_icmp(const struct wflow_key *k)
{
	return (k->ipver == 4 && k->proto == 1) || (k->ipver == 6 && k->proto == 58);
}

/* The per-flag counts of the IANA elements, by enum xp_what (W_SYN..W_URG). */
static const uint8_t flag_of[] = {
	[W_SYN] = WFLOW_SYN, [W_FIN] = WFLOW_FIN, [W_RST] = WFLOW_RST,
	[W_PSH] = WFLOW_PSH, [W_ACK] = WFLOW_ACK, [W_URG] = WFLOW_URG,
};

void xp_put_flow(struct wr *w, const struct xp_layout *l, const struct meter_rec *r, int reverse)
{
	const struct wflow_key *k = &r->key;
	const struct wflow_val *dir[2];
	const uint8_t *src = k->src, *dst = k->dst;
	uint16_t sport = k->src_port, dport = k->dst_port, icmp = 0;
	size_t alen = k->ipver == 6 ? 16 : 4;

	if (!wr_room(w, l->t->min_len))
		return;
	dir[0] = reverse ? &r->rev : &r->fwd;
	dir[1] = reverse ? &r->fwd : &r->rev;
	if (is_icmp(k))
		icmp = (uint16_t)(r->icmp_type << 8 | r->icmp_code);
	if (reverse) {
		src = k->dst;
		dst = k->src;
		if (!icmp) {	/* ICMP "ports" are its type and code: kept */
			sport = k->dst_port;
			dport = k->src_port;
		}
	}
	for (unsigned i = 0; i < l->nfields; i++) {
		const struct wflow_val *v = dir[l->rev[i]];

		switch (l->what[i]) {
		case W_START:	wr_u64(w, v->first_ns / 1000000u); break;
		case W_END:	wr_u64(w, v->last_ns / 1000000u); break;
		case W_OCTETS:	wr_u64(w, v->octets); break;
		case W_PACKETS:	wr_u64(w, v->packets); break;
		case W_SRC:	wr_bytes(w, src, alen); break;
		case W_DST:	wr_bytes(w, dst, alen); break;
		case W_IN_IF:	wr_u32(w, k->dir == WFLOW_DIR_INGRESS ? k->ifindex : 0); break;
		case W_OUT_IF:	wr_u32(w, k->dir == WFLOW_DIR_EGRESS ? k->ifindex : 0); break;
		case W_SYN: case W_FIN: case W_RST: case W_PSH: case W_ACK: case W_URG:
			wr_u32(w, v->flag_cnt[flag_of[l->what[i]]]);
			break;
		case W_SPORT:	wr_u16(w, sport); break;
		case W_DPORT:	wr_u16(w, dport); break;
		case W_VLAN:	wr_u16(w, k->vlan); break;
		case W_ICMP:	wr_u16(w, icmp); break;
		case W_FLAGS:	wr_u16(w, v->tcp_flags); break;
		case W_PROTO:	wr_u8(w, k->proto); break;
		case W_TOS:	wr_u8(w, v->tos); break;
		case W_MINTTL:	wr_u8(w, v->min_ttl); break;
		case W_MAXTTL:	wr_u8(w, v->max_ttl); break;
		case W_DIR:	wr_u8(w, k->dir); break;
		case W_END_REASON: wr_u8(w, r->end_reason); break;
		}
	}
}
