/* model.h - the traffic model: synthetic flows from a seeded PRNG.
 *
 * Every flow comes from the PRNG state and the time given, nothing else: the
 * same seed and the same sequence of calls give the same flows, byte for
 * byte. What a flow looks like:
 *
 *  - addresses: a source range is chosen uniformly among the --src-cidr
 *    ranges, a destination range among the --dst-cidr ranges of the same
 *    family; within a range the address is uniform over the range, or
 *    Zipf(s) over its addresses ranked in a fixed pseudo-random order
 *    (rank r -> offset (r - 1) * M + A modulo the range size, M odd: a
 *    permutation), so the popular hosts are spread over the range;
 *  - protocol uniform from the list, ports uniform in their ranges (TCP,
 *    UDP, SCTP); ICMP (1 or 58, whichever fits the flow's family) carries
 *    type and code, also as type * 256 + code in the destination port as
 *    v5 and IPFIX collectors expect; other protocols have no ports;
 *  - packets heavy-tailed: Pareto with shape MODEL_PARETO_SHAPE and scale 1,
 *    floored, capped at MODEL_MAX_PACKETS; bytes = packets times a packet
 *    size drawn from a mix of small (40-100), mid (100-1400) and full-size
 *    (1400-1500) packets, plus up to one packet size more;
 *  - times: the flow ends up to 500 ms before the time given and lasted
 *    1-50 ms per packet after the first, at most 120 s;
 *  - for sFlow (cfg.sflow) a flow is one sampled packet: packets 1, bytes
 *    the frame length (Ethernet header and FCS included, at least the
 *    synthesized headers), start = end = the time given.
 */
#ifndef GEN_MODEL_H
#define GEN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "parse.h"
#include "rng.h"
#include "zipf.h"

#define MODEL_MAX_RANGES	16
#define MODEL_MAX_PROTOS	64
#define MODEL_MAX_PACKETS	1000000u
#define MODEL_PARETO_SHAPE	1.2
#define MODEL_PARETO_TABLE	256	/* packet counts drawn from a table */
#define MODEL_MAX_DURATION_NS	(120ull * 1000000000ull)

struct model_cfg {
	struct prog_cidr src[MODEL_MAX_RANGES], dst[MODEL_MAX_RANGES];
	unsigned nsrc, ndst;
	struct prog_range sport, dport;
	uint8_t protos[MODEL_MAX_PROTOS];
	unsigned nprotos;
	double zipf_s;			/* 0: uniform address popularity */
	uint32_t sampling_rate;		/* written into every flow; 1 = unsampled */
	uint8_t sflow;			/* flows are sampled packets */
	uint64_t seed;
};

struct model_space {
	struct prog_cidr c;
	unsigned __int128 base;		/* c.base as a number */
	unsigned __int128 mask;		/* range size - 1 */
	struct zipf z;
};

struct model {
	struct model_cfg cfg;
	struct rng rng;
	struct model_space src[MODEL_MAX_RANGES], dst[MODEL_MAX_RANGES];
	uint8_t dst_of[2][MODEL_MAX_RANGES];	/* destination ranges per family */
	unsigned ndst_of[2];
	uint16_t min_frame[2][MODEL_MAX_PROTOS];	/* sFlow: per family and protos[] entry */
	double pareto[MODEL_PARETO_TABLE + 1];	/* [k] = k^-shape */
};

/* Check cfg and set m up: WEIR_OK, or WEIR_E_INVALID with a sentence in err
 * (no range or protocol, a family in one range list and not in the other). */
int model_init(struct model *m, const struct model_cfg *cfg, char *err, size_t errlen);
/* Whether some source range is of that family. */
int model_has_family(const struct model *m, int v6);
/* n flows ending around now_ns, IPv4 ones first then IPv6 ones, each family
 * in the order drawn (one set or flowset per family in a message). */
void model_flows(struct model *m, uint64_t now_ns, struct flow *out, size_t n);
/* A flow of the given family and protocol with the largest encoding the
 * model can draw (for checking that -f records fit a datagram); uses no
 * randomness. */
void model_example_flow(const struct model *m, int v6, uint8_t proto, uint64_t now_ns,
			struct flow *f);

#endif
