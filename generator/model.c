/* model.c - see model.h. */
#include <endian.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "model.h"
#include "sflow.h"

typedef unsigned __int128 u128;

/* Rank -> offset permutation constants (any odd multiplier will do). */
#define RANK_MUL	(((u128)0x9e3779b97f4a7c15ull << 64) | 0xf39cc0605cedc835ull)
#define RANK_ADD	(((u128)0x2545f4914f6cdd1dull << 64) | 0x5851f42d4c957f2dull)

#define ETH_FCS_LEN	18	/* Ethernet header and FCS around an IP packet */

static u128 addr_get(const struct weir_addr *a)
{
	uint64_t hi, lo;

	memcpy(&hi, a->a, 8);
	memcpy(&lo, a->a + 8, 8);
	return (u128)be64toh(hi) << 64 | be64toh(lo);
}

static void addr_put(struct weir_addr *a, u128 v)
{
	uint64_t hi = htobe64((uint64_t)(v >> 64)), lo = htobe64((uint64_t)v);

	memcpy(a->a, &hi, 8);
	memcpy(a->a + 8, &lo, 8);
}

static void space_init(struct model_space *sp, const struct prog_cidr *c, double zipf_s)
{
	unsigned host = (c->v6 ? 128u : 32u) - c->plen;

	sp->c = *c;
	sp->base = addr_get(&c->base);
	sp->mask = host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
	if (zipf_s > 0)
		zipf_init(&sp->z, host >= 53 ? ZIPF_MAX_N : (uint64_t)1 << host, zipf_s);
}

static int is_icmp(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

static int has_ports(uint8_t proto)
{
	return proto == 6 || proto == 17 || proto == 132;
}

/* Everything of a flow but the drawn values, the same for every flow so
 * that the encoded size depends only on family and protocol. */
static void fill_fixed(const struct model *m, struct flow *f, int v6, uint8_t proto)
{
	flow_clear(f);
	f->has = FLOW_HAS_TIME_START | FLOW_HAS_TIME_END | FLOW_HAS_BYTES | FLOW_HAS_PACKETS |
		 FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_ETYPE | FLOW_HAS_PROTO |
		 FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF | FLOW_HAS_TOS | FLOW_HAS_TTL |
		 FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC;
	/* sFlow samples describe a packet: no routing facts, so that a
	 * sample is the raw header record alone. */
	if (!m->cfg.sflow)
		f->has |= FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET;
	if (has_ports(proto) || is_icmp(proto))
		f->has |= FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT;
	if (proto == 6)
		f->has |= FLOW_HAS_TCP_FLAGS;
	if (is_icmp(proto))
		f->has |= FLOW_HAS_ICMP;
	f->etype = v6 ? 0x86dd : 0x0800;
	f->proto = proto;
	f->ip_ttl = 64;
	f->sampling_rate = m->cfg.sampling_rate ? m->cfg.sampling_rate : 1;
	f->src_mac[0] = 0x02;
	f->dst_mac[0] = 0x02;
	f->dst_mac[4] = 0x01;
}

int model_init(struct model *m, const struct model_cfg *cfg, char *err, size_t errlen)
{
	int fam_src[2] = { 0, 0 }, fam_dst[2] = { 0, 0 };

	memset(m, 0, sizeof(*m));
	if (!cfg->nsrc || !cfg->ndst || cfg->nsrc > MODEL_MAX_RANGES ||
	    cfg->ndst > MODEL_MAX_RANGES) {
		snprintf(err, errlen, "need 1 to %d source and destination ranges", MODEL_MAX_RANGES);
		return WEIR_E_INVALID;
	}
	if (!cfg->nprotos || cfg->nprotos > MODEL_MAX_PROTOS) {
		snprintf(err, errlen, "need 1 to %d IP protocols", MODEL_MAX_PROTOS);
		return WEIR_E_INVALID;
	}
	if (cfg->sport.lo > cfg->sport.hi || cfg->dport.lo > cfg->dport.hi) {
		snprintf(err, errlen, "empty port range");
		return WEIR_E_INVALID;
	}
	if (!(cfg->zipf_s >= 0) || cfg->zipf_s > 10) {
		snprintf(err, errlen, "Zipf exponent out of range");
		return WEIR_E_INVALID;
	}
	m->cfg = *cfg;
	rng_seed(&m->rng, cfg->seed);
	for (unsigned k = 1; k <= MODEL_PARETO_TABLE; k++)
		m->pareto[k] = pow((double)k, -MODEL_PARETO_SHAPE);
	for (unsigned i = 0; i < cfg->nsrc; i++) {
		space_init(&m->src[i], &cfg->src[i], cfg->zipf_s);
		fam_src[cfg->src[i].v6] = 1;
	}
	for (unsigned i = 0; i < cfg->ndst; i++) {
		int v6 = cfg->dst[i].v6;

		space_init(&m->dst[i], &cfg->dst[i], cfg->zipf_s);
		fam_dst[v6] = 1;
		m->dst_of[v6][m->ndst_of[v6]++] = (uint8_t)i;
	}
	for (int v6 = 0; v6 < 2; v6++) {
		if (fam_src[v6] != fam_dst[v6]) {
			snprintf(err, errlen, "--%s-cidr has %s ranges but --%s-cidr has none: "
				 "a flow's addresses are of one family",
				 fam_src[v6] ? "src" : "dst", v6 ? "IPv6" : "IPv4",
				 fam_src[v6] ? "dst" : "src");
			return WEIR_E_INVALID;
		}
	}
	/* sFlow frames are at least the headers the encoder synthesizes. */
	for (int v6 = 0; v6 < 2; v6++) {
		for (unsigned i = 0; i < cfg->nprotos; i++) {
			uint8_t hdr[128];
			struct flow f;
			size_t n;

			fill_fixed(m, &f, v6, cfg->protos[i]);
			n = sflow_synth_header(hdr, sizeof(hdr), &f, 0);
			m->min_frame[v6][i] = (uint16_t)(n + 4 < 64 ? 64 : n + 4);
		}
	}
	return WEIR_OK;
}

int model_has_family(const struct model *m, int v6)
{
	return m->ndst_of[v6 ? 1 : 0] > 0;
}

static void pick_addr(struct model *m, const struct model_space *sp, struct weir_addr *out)
{
	u128 off;

	if (m->cfg.zipf_s > 0) {
		u128 rank = zipf_sample(&sp->z, &m->rng);

		off = ((rank - 1) * RANK_MUL + RANK_ADD) & sp->mask;
	} else if (sp->mask >> 64) {
		off = (((u128)rng_next(&m->rng) << 64) | rng_next(&m->rng)) & sp->mask;
	} else {
		off = rng_next(&m->rng) & (uint64_t)sp->mask;
	}
	addr_put(out, sp->base | off);
}

static uint16_t pick_port(struct model *m, const struct prog_range *r)
{
	return (uint16_t)(r->lo + rng_below(&m->rng, (uint64_t)r->hi - r->lo + 1));
}

/* Size of one packet of the flow: small, mid or full-size. */
static uint32_t pick_packet_size(struct model *m, uint32_t min)
{
	uint64_t c = rng_below(&m->rng, 100);
	uint32_t lo, hi;

	if (c < 45) {
		lo = 40;
		hi = 100;
	} else if (c < 55) {
		lo = 100;
		hi = 1400;
	} else {
		lo = 1400;
		hi = 1500;
	}
	if (lo < min)
		lo = min;
	if (hi < lo)
		hi = lo;
	return lo + (uint32_t)rng_below(&m->rng, hi - lo + 1);
}

static uint64_t pick_packets(struct model *m)
{
	/* Pareto: floor(U^(-1/shape)), U in (0, 1]; that is the largest k
	 * with U <= k^-shape. The table of k^-shape answers all but the
	 * 0.13% of draws above MODEL_PARETO_TABLE without exp() and log(). */
	double u = 1.0 - rng_unit(&m->rng), x;
	unsigned k;

	for (k = 1; k < MODEL_PARETO_TABLE; k++)
		if (u > m->pareto[k + 1])
			return k;
	x = exp(-log(u) / MODEL_PARETO_SHAPE);
	if (!(x < MODEL_MAX_PACKETS))
		return MODEL_MAX_PACKETS;
	return x < MODEL_PARETO_TABLE ? MODEL_PARETO_TABLE : (uint64_t)x;
}

static const uint8_t tcp_flags_one[] = { 0x02, 0x04, 0x10 };
static const uint8_t tcp_flags_many[] = { 0x1b, 0x1a, 0x18, 0x12, 0x11, 0x10, 0x14, 0x19 };

/* One flow from source range si (drawn by the caller, who places the flow
 * by its family). */
static void model_flow(struct model *m, uint64_t now_ns, unsigned si, struct flow *f)
{
	const struct model_space *src = &m->src[si];
	int v6 = src->c.v6;
	unsigned di = m->dst_of[v6][rng_below(&m->rng, m->ndst_of[v6])];
	unsigned pi = (unsigned)rng_below(&m->rng, m->cfg.nprotos);
	uint8_t proto = m->cfg.protos[pi];
	uint64_t end, dur = 0;

	if (is_icmp(proto))
		proto = v6 ? 58 : 1;	/* the ICMP of the flow's family */
	fill_fixed(m, f, v6, proto);
	pick_addr(m, src, &f->src_addr);
	pick_addr(m, &m->dst[di], &f->dst_addr);
	f->src_net = src->c.plen;
	f->dst_net = m->dst[di].c.plen;
	if (has_ports(proto)) {
		f->src_port = pick_port(m, &m->cfg.sport);
		f->dst_port = pick_port(m, &m->cfg.dport);
	} else if (is_icmp(proto)) {
		static const uint8_t t4[] = { 8, 0, 3 }, t6[] = { 128, 129, 1 };
		unsigned k = (unsigned)rng_below(&m->rng, 3);

		f->icmp_type = v6 ? t6[k] : t4[k];
		f->icmp_code = k == 2 ? (v6 ? 4 : 3) : 0;	/* port unreachable */
		f->dst_port = (uint16_t)(f->icmp_type << 8 | f->icmp_code);
	}
	f->in_if = 1 + (uint32_t)rng_below(&m->rng, 8);
	f->out_if = 1 + (uint32_t)rng_below(&m->rng, 8);
	f->src_mac[5] = (uint8_t)f->in_if;
	f->dst_mac[5] = (uint8_t)f->out_if;
	end = now_ns - rng_below(&m->rng, 500000000ull);
	if (m->cfg.sflow) {
		f->packets = 1;
		f->bytes = pick_packet_size(m, m->min_frame[v6][pi] - ETH_FCS_LEN) + ETH_FCS_LEN;
		end = now_ns;
	} else {
		uint32_t size = pick_packet_size(m, v6 ? 60 : 40);

		f->packets = pick_packets(m);
		f->bytes = f->packets * size + rng_below(&m->rng, size);
		if (f->packets > 1) {
			dur = (f->packets - 1) * (1000000ull + rng_below(&m->rng, 49000001ull));
			if (dur > MODEL_MAX_DURATION_NS)
				dur = MODEL_MAX_DURATION_NS;
		}
	}
	if (proto == 6)
		f->tcp_flags = f->packets == 1 ?
			tcp_flags_one[rng_below(&m->rng, sizeof(tcp_flags_one))] :
			tcp_flags_many[rng_below(&m->rng, sizeof(tcp_flags_many))];
	f->time_flow_end_ns = end;
	f->time_flow_start_ns = end - dur;
}

void model_flows(struct model *m, uint64_t now_ns, struct flow *out, size_t n)
{
	size_t front = 0, back = n;

	/* IPv4 flows fill from the front, IPv6 ones from the back; the back
	 * part is then reversed to restore the drawing order. */
	for (size_t i = 0; i < n; i++) {
		unsigned si = (unsigned)rng_below(&m->rng, m->cfg.nsrc);

		model_flow(m, now_ns, si, m->src[si].c.v6 ? &out[--back] : &out[front++]);
	}
	for (size_t i = back, j = n; i + 1 < j; i++, j--) {
		struct flow f = out[i];

		out[i] = out[j - 1];
		out[j - 1] = f;
	}
}

void model_example_flow(const struct model *m, int v6, uint8_t proto, uint64_t now_ns,
			struct flow *f)
{
	fill_fixed(m, f, v6, proto);
	memset(f->src_addr.a, 0xfe, 16);
	memset(f->dst_addr.a, 0xfe, 16);
	if (!v6) {
		weir_addr_v4u(&f->src_addr, 0xfefefefe);
		weir_addr_v4u(&f->dst_addr, 0xfefefefe);
	}
	f->src_net = v6 ? 128 : 32;
	f->dst_net = f->src_net;
	f->src_port = 65535;
	f->dst_port = 65535;
	f->in_if = 8;
	f->out_if = 8;
	f->packets = m->cfg.sflow ? 1 : MODEL_MAX_PACKETS;
	f->bytes = m->cfg.sflow ? 1518 : (uint64_t)MODEL_MAX_PACKETS * 1501;
	f->tcp_flags = proto == 6 ? 0x1b : 0;
	f->time_flow_end_ns = now_ns;
	f->time_flow_start_ns = now_ns - MODEL_MAX_DURATION_NS;
}
