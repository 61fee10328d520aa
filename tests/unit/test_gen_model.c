/* Unit tests of the generator's traffic model: the Zipf sampler
 * (generator/zipf.c), the PRNG (rng.h) and the flows (model.c). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "err.h"
#include "model.h"
#include "zipf.h"

#define NOW_NS (1700000000ull * 1000000000ull)

/* Frequencies of ranks 1..n over draws samples. */
static uint64_t *zipf_counts(uint64_t n, double s, uint64_t draws, uint64_t seed)
{
	uint64_t *c = calloc(n + 1, sizeof(*c));
	struct rng r;
	struct zipf z;

	cr_assert_not_null(c);
	rng_seed(&r, seed);
	zipf_init(&z, n, s);
	for (uint64_t i = 0; i < draws; i++) {
		uint64_t k = zipf_sample(&z, &r);

		cr_assert(k >= 1 && k <= n, "rank %llu outside 1..%llu", (unsigned long long)k,
			  (unsigned long long)n);
		c[k]++;
	}
	return c;
}

Test(gen_zipf, rank_one_most_frequent)
{
	const double exps[] = { 0.5, 1.0, 1.5, 3.0 };

	for (unsigned e = 0; e < 4; e++) {
		uint64_t *c = zipf_counts(1000, exps[e], 200000, 1);

		for (unsigned k = 2; k <= 1000; k++)
			cr_assert_gt(c[1], c[k], "s=%g: rank %u drawn %llu times, rank 1 %llu", exps[e],
				     k, (unsigned long long)c[k], (unsigned long long)c[1]);
		/* and the head is ordered */
		cr_assert_gt(c[2], c[3]);
		cr_assert_gt(c[3], c[5]);
		free(c);
	}
}

/* Observed frequency of ranks 1, 2, 3, 10, 100 within 4.5 standard errors
 * of the exact probability, for a fixed seed. */
Test(gen_zipf, rates_match_theory)
{
	const double exps[] = { 0.3, 0.8, 1.0, 1.2, 2.0, 4.0 };
	const uint64_t ranks[] = { 1, 2, 3, 10, 100 };
	const uint64_t draws = 400000, n = 500;

	for (unsigned e = 0; e < sizeof(exps) / sizeof(exps[0]); e++) {
		uint64_t *c = zipf_counts(n, exps[e], draws, 7 + e);

		for (unsigned i = 0; i < 5; i++) {
			double p = zipf_pmf(n, exps[e], ranks[i]);
			double got = (double)c[ranks[i]] / draws;
			double se = sqrt(p * (1 - p) / draws);

			cr_assert_leq(fabs(got - p), 4.5 * se + 1e-6,
				      "s=%g rank %llu: %.6f drawn, %.6f expected", exps[e],
				      (unsigned long long)ranks[i], got, p);
		}
		free(c);
	}
}

Test(gen_zipf, small_and_huge_ranges)
{
	struct zipf z;
	struct rng r;
	uint64_t ones = 0, max = 0;

	rng_seed(&r, 3);
	zipf_init(&z, 1, 1.0);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(zipf_sample(&z, &r), 1);
	/* n = 2, s = 1: P(1) = 2/3 */
	zipf_init(&z, 2, 1.0);
	for (int i = 0; i < 30000; i++)
		ones += zipf_sample(&z, &r) == 1;
	cr_assert_float_eq((double)ones / 30000, 2.0 / 3, 0.015);
	/* 2^60 ranks (clamped to 2^53): no overflow, and the tail is reached */
	zipf_init(&z, 1ull << 60, 0.7);
	for (int i = 0; i < 100000; i++) {
		uint64_t k = zipf_sample(&z, &r);

		cr_assert(k >= 1 && k <= ZIPF_MAX_N);
		if (k > max)
			max = k;
	}
	cr_assert_gt(max, 1ull << 40, "a flat Zipf over 2^53 ranks reaches far: max %llu",
		     (unsigned long long)max);
}

Test(gen_rng, below_is_in_range_and_uniform)
{
	struct rng r;
	uint64_t c[6] = { 0 };

	rng_seed(&r, 11);
	for (int i = 0; i < 60000; i++) {
		uint64_t v = rng_below(&r, 6);

		cr_assert_lt(v, 6);
		c[v]++;
	}
	for (int i = 0; i < 6; i++)
		cr_assert_float_eq((double)c[i] / 60000, 1.0 / 6, 0.01);
	for (int i = 0; i < 1000; i++) {
		double u = rng_unit(&r);

		cr_assert(u >= 0 && u < 1);
	}
}

Test(gen_rng, same_seed_same_sequence)
{
	struct rng a, b, c;
	int differ = 0;

	rng_seed(&a, 42);
	rng_seed(&b, 42);
	rng_seed(&c, 43);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);

		cr_assert_eq(x, rng_next(&b));
		differ += x != rng_next(&c);
	}
	cr_assert_gt(differ, 990);
}

/* ---- the model ---- */

static char err[256];

static void cfg_basic(struct model_cfg *c, const char *src, const char *dst)
{
	unsigned n;

	memset(c, 0, sizeof(*c));
	cr_assert_eq(prog_parse_cidr_list(src, c->src, MODEL_MAX_RANGES, &c->nsrc, err, sizeof(err)),
		     WEIR_OK, "%s", err);
	cr_assert_eq(prog_parse_cidr_list(dst, c->dst, MODEL_MAX_RANGES, &c->ndst, err, sizeof(err)),
		     WEIR_OK, "%s", err);
	cr_assert_eq(parse_protocols("6,17", c->protos, MODEL_MAX_PROTOS, &n, err, sizeof(err)),
		     WEIR_OK);
	c->nprotos = n;
	c->sport = (struct prog_range){ 1024, 65535 };
	c->dport = (struct prog_range){ 1, 1024 };
	c->sampling_rate = 1;
	c->seed = 1;
}

static int in_cidr(const struct weir_addr *a, const struct prog_cidr *c)
{
	unsigned bits = (c->v6 ? 0 : 96) + c->plen;

	if (weir_addr_is_v4(a) == c->v6)
		return 0;
	for (unsigned b = 0; b < bits; b++) {
		unsigned mask = 0x80u >> (b % 8);

		if ((a->a[b / 8] & mask) != (c->base.a[b / 8] & mask))
			return 0;
	}
	return 1;
}

static int in_any(const struct weir_addr *a, const struct prog_cidr *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (in_cidr(a, &c[i]))
			return 1;
	return 0;
}

Test(gen_model, flows_respect_ranges)
{
	struct model_cfg c;
	struct model m;
	struct flow f[16];
	unsigned n6 = 0, n4 = 0, tcp = 0;

	cfg_basic(&c, "10.20.0.0/16,2001:db8:1::/48,192.0.2.9/32", "198.51.100.0/24,2001:db8:ff::7/128");
	cr_assert_eq(parse_protocols("6,17,1,58,47", c.protos, MODEL_MAX_PROTOS, &c.nprotos, err,
				     sizeof(err)), WEIR_OK);
	c.sport = (struct prog_range){ 5000, 5010 };
	c.dport = (struct prog_range){ 53, 53 };
	c.sampling_rate = 64;
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK, "%s", err);
	for (int round = 0; round < 2000; round++) {
		model_flows(&m, NOW_NS, f, 16);
		for (int i = 0; i < 16; i++) {
			int v6 = f[i].etype == 0x86dd;

			cr_assert(in_any(&f[i].src_addr, c.src, c.nsrc), "src outside the ranges");
			cr_assert(in_any(&f[i].dst_addr, c.dst, c.ndst), "dst outside the ranges");
			cr_assert_eq(weir_addr_is_v4(&f[i].src_addr), !v6);
			cr_assert_eq(weir_addr_is_v4(&f[i].dst_addr), !v6);
			/* IPv4 flows first: one set per family */
			if (i > 0 && f[i - 1].etype == 0x86dd)
				cr_assert_eq(f[i].etype, 0x86dd, "IPv4 flow after an IPv6 one");
			if (f[i].proto == 6 || f[i].proto == 17) {
				cr_assert(f[i].src_port >= 5000 && f[i].src_port <= 5010);
				cr_assert_eq(f[i].dst_port, 53);
			} else if (f[i].proto == 1 || f[i].proto == 58) {
				cr_assert(f[i].has & FLOW_HAS_ICMP);
				cr_assert_eq(f[i].dst_port, f[i].icmp_type << 8 | f[i].icmp_code);
			} else {
				cr_assert_eq(f[i].proto, 47);
				cr_assert_eq(f[i].src_port, 0);
				cr_assert_eq(f[i].dst_port, 0);
			}
			tcp += f[i].proto == 6;
			cr_assert_eq(f[i].sampling_rate, 64);
			cr_assert(f[i].packets >= 1 && f[i].packets <= MODEL_MAX_PACKETS);
			cr_assert_geq(f[i].bytes, f[i].packets * 40);
			cr_assert_leq(f[i].bytes, f[i].packets * 1500 + 1500);
			cr_assert_leq(f[i].time_flow_end_ns, NOW_NS);
			cr_assert_geq(f[i].time_flow_end_ns, NOW_NS - 500000000ull);
			cr_assert_leq(f[i].time_flow_start_ns, f[i].time_flow_end_ns);
			cr_assert_leq(f[i].time_flow_end_ns - f[i].time_flow_start_ns,
				      MODEL_MAX_DURATION_NS);
			cr_assert(f[i].in_if >= 1 && f[i].in_if <= 8);
			n6 += v6;
			n4 += !v6;
		}
	}
	/* two of three source ranges are IPv4 */
	cr_assert_float_eq((double)n4 / (n4 + n6), 2.0 / 3, 0.02);
	cr_assert_float_eq((double)tcp / (n4 + n6), 1.0 / 5, 0.02);
}

Test(gen_model, same_seed_same_flows)
{
	struct model_cfg c;
	struct model a, b, d;
	struct flow fa[10], fb[10], fd[10];
	int differ = 0;

	cfg_basic(&c, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48");
	c.zipf_s = 1.1;
	cr_assert_eq(model_init(&a, &c, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(model_init(&b, &c, err, sizeof(err)), WEIR_OK);
	c.seed = 2;
	cr_assert_eq(model_init(&d, &c, err, sizeof(err)), WEIR_OK);
	for (int i = 0; i < 500; i++) {
		model_flows(&a, NOW_NS + i * 1000ull, fa, 10);
		model_flows(&b, NOW_NS + i * 1000ull, fb, 10);
		model_flows(&d, NOW_NS + i * 1000ull, fd, 10);
		cr_assert_eq(memcmp(fa, fb, sizeof(fa)), 0, "round %d differs", i);
		differ += memcmp(fa, fd, sizeof(fa)) != 0;
	}
	cr_assert_eq(differ, 500);
}

Test(gen_model, packets_heavy_tailed)
{
	struct model_cfg c;
	struct model m;
	struct flow f[100];
	uint64_t ones = 0, ge100 = 0, max = 0, n = 0;

	cfg_basic(&c, "10.0.0.0/8", "192.168.0.0/16");
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	for (int round = 0; round < 2000; round++) {
		model_flows(&m, NOW_NS, f, 100);
		for (int i = 0; i < 100; i++, n++) {
			ones += f[i].packets == 1;
			ge100 += f[i].packets >= 100;
			if (f[i].packets > max)
				max = f[i].packets;
		}
	}
	/* Pareto(1.2) floored: P(1) = 1 - 2^-1.2, P(>= 100) = 100^-1.2 */
	cr_assert_float_eq((double)ones / n, 1 - pow(2, -1.2), 0.005);
	cr_assert_float_eq((double)ge100 / n, pow(100, -1.2), 0.0006);
	cr_assert_gt(max, 5000, "the tail is heavy: max %llu packets", (unsigned long long)max);
}

Test(gen_model, zipf_address_popularity)
{
	struct model_cfg c;
	struct model m;
	struct flow f[100];
	uint64_t hits[256] = { 0 }, best = 0;
	const uint64_t n = 100000;

	cfg_basic(&c, "10.1.2.0/24", "192.168.0.0/16");
	c.zipf_s = 1.0;
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	for (uint64_t i = 0; i < n / 100; i++) {
		model_flows(&m, NOW_NS, f, 100);
		for (int k = 0; k < 100; k++)
			hits[f[k].src_addr.a[15]]++;
	}
	for (int k = 0; k < 256; k++)
		if (hits[k] > best)
			best = hits[k];
	/* the most popular of 256 addresses: 1 / H(256) of the flows */
	cr_assert_float_eq((double)best / n, zipf_pmf(256, 1.0, 1), 0.006);

	/* uniform: no address above a few times 1/256 */
	c.zipf_s = 0;
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	memset(hits, 0, sizeof(hits));
	best = 0;
	for (uint64_t i = 0; i < n / 100; i++) {
		model_flows(&m, NOW_NS, f, 100);
		for (int k = 0; k < 100; k++)
			hits[f[k].src_addr.a[15]]++;
	}
	for (int k = 0; k < 256; k++)
		if (hits[k] > best)
			best = hits[k];
	cr_assert_lt((double)best / n, 1.5 / 256);
}

Test(gen_model, sflow_flows_are_packets)
{
	struct model_cfg c;
	struct model m;
	struct flow f[50];

	cfg_basic(&c, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48");
	c.sflow = 1;
	c.sampling_rate = 512;
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	for (int round = 0; round < 200; round++) {
		model_flows(&m, NOW_NS, f, 50);
		for (int i = 0; i < 50; i++) {
			int v6 = f[i].etype == 0x86dd;
			/* Ethernet + IP + TCP/UDP headers + FCS */
			uint64_t min = 14 + (v6 ? 40 : 20) + (f[i].proto == 6 ? 20 : 8) + 4;

			cr_assert_eq(f[i].packets, 1);
			cr_assert_geq(f[i].bytes, min < 64 ? 64 : min);
			cr_assert_leq(f[i].bytes, 1518);
			cr_assert_eq(f[i].sampling_rate, 512);
			cr_assert_eq(f[i].has & (FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET), 0);
		}
	}
}

Test(gen_model, families_must_match)
{
	struct model_cfg c;
	struct model m;

	cfg_basic(&c, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16");
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_not_null(strstr(err, "IPv6"), "%s", err);
	cfg_basic(&c, "2001:db8::/32", "2001:db8:1::/48");
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	cr_assert(model_has_family(&m, 1));
	cr_assert(!model_has_family(&m, 0));
}

Test(gen_model, whole_address_spaces)
{
	struct model_cfg c;
	struct model m;
	struct flow f[64];
	int high4 = 0, high6 = 0;

	cfg_basic(&c, "0.0.0.0/0,::/0", "0.0.0.0/0,::/0");
	cr_assert_eq(model_init(&m, &c, err, sizeof(err)), WEIR_OK);
	for (int r = 0; r < 100; r++) {
		model_flows(&m, NOW_NS, f, 64);
		for (int i = 0; i < 64; i++) {
			if (f[i].etype == 0x0800)
				high4 += f[i].src_addr.a[12] >= 0x80;
			else
				high6 += f[i].src_addr.a[0] >= 0x80;
		}
	}
	cr_assert_gt(high4, 800, "the top bit of /0 is drawn");
	cr_assert_gt(high6, 800);
}
