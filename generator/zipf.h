/* zipf.h - Zipf-distributed ranks 1..n, P(k) proportional to k^-s.
 *
 * Rejection-inversion (W. Hormann, G. Derflinger, "Rejection-inversion to
 * generate variates from monotone discrete distributions", ACM TOMACS 6(3),
 * 1996): constant time and memory per sample whatever n, for any s > 0.
 * The expected number of uniforms per sample is close to 1.
 */
#ifndef GEN_ZIPF_H
#define GEN_ZIPF_H

#include <stdint.h>

#include "rng.h"

#define ZIPF_MAX_N	(1ull << 53)	/* ranks stay exact in a double */

struct zipf {
	double s;			/* exponent */
	double n;			/* ranks 1..n */
	double h_x1;			/* H(1.5) - h(1) */
	double h_n;			/* H(n + 0.5) */
	double cut;			/* squeeze: accept at once when k - x <= cut */
};

/* s > 0; n is clamped to 1..ZIPF_MAX_N. */
void zipf_init(struct zipf *z, uint64_t n, double s);
/* A rank in 1..n. */
uint64_t zipf_sample(const struct zipf *z, struct rng *r);
/* P(rank = k) by direct summation, for tests (O(n)). */
double zipf_pmf(uint64_t n, double s, uint64_t k);

#endif
