/* zipf.c - see zipf.h.
 *
 * The hat is the continuous density h(x) = x^-s over [0.5, n + 0.5] with
 * antiderivative H; a uniform u between H(1.5) - h(1) and H(n + 0.5) is
 * inverted, x = H^-1(u), rounded to the rank k, and accepted when u falls in
 * the top h(k) of k's interval (Hormann and Derflinger, section 2). Rank 1
 * owns exactly h(1) of the range and is always accepted.
 */
#include <math.h>

#include "zipf.h"

/* (e^t - 1) / t and log(1 + t) / t, both 1 at t = 0, stable near it. */
static double expm1_over(double t)
{
	return fabs(t) > 1e-8 ? expm1(t) / t : 1 + t / 2 * (1 + t / 3);
}

static double log1p_over(double t)
{
	return fabs(t) > 1e-8 ? log1p(t) / t : 1 - t * (0.5 - t / 3);
}

static double zh(double s, double x)
{
	return exp(-s * log(x));
}

/* H(x) = (x^(1-s) - 1) / (1 - s), log(x) when s = 1. */
static double zH(double s, double x)
{
	double lx = log(x);

	return expm1_over((1 - s) * lx) * lx;
}

static double zHinv(double s, double y)
{
	double t = (1 - s) * y;

	/* Below -1 the inverse has no real value: u never goes there, but
	 * rounding at the ends of the range must not make a NaN. */
	if (t <= -1)
		t = -1 + 1e-16;
	return exp(log1p_over(t) * y);
}

void zipf_init(struct zipf *z, uint64_t n, double s)
{
	if (n < 1)
		n = 1;
	if (n > ZIPF_MAX_N)
		n = ZIPF_MAX_N;
	z->s = s;
	z->n = (double)n;
	z->h_x1 = zH(s, 1.5) - 1;
	z->h_n = zH(s, z->n + 0.5);
	z->cut = 2 - zHinv(s, zH(s, 2.5) - zh(s, 2));
}

uint64_t zipf_sample(const struct zipf *z, struct rng *r)
{
	/* Rank 1 alone owns h(1) of the range and every other rank most of its
	 * own interval, so a round fails rarely: 64 failures in a row do not
	 * happen in practice, and rank 1 keeps the loop bounded. */
	for (int round = 0; round < 64; round++) {
		double u = z->h_n + rng_unit(r) * (z->h_x1 - z->h_n);
		double x = zHinv(z->s, u);
		double k = floor(x + 0.5);

		if (k < 1)
			k = 1;
		else if (k > z->n)
			k = z->n;
		if (k - x <= z->cut || u >= zH(z->s, k + 0.5) - zh(z->s, k))
			return (uint64_t)k;
	}
	return 1;
}

double zipf_pmf(uint64_t n, double s, uint64_t k)
{
	double sum = 0;

	/* Smallest terms first, for accuracy. */
	for (uint64_t i = n; i >= 1; i--)
		sum += pow((double)i, -s);
	return pow((double)k, -s) / sum;
}
