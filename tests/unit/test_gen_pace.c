/* Unit tests of the generator's pacing arithmetic (generator/pace.c): the
 * token bucket driven by a simulated clock. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pace.h"
#include "rng.h"

#define MS 1000000ull
#define S 1000000000ull

Test(gen_pace, accrues_exactly_without_drift)
{
	struct tb b;
	const uint64_t t0 = 5 * S;

	/* A bucket big enough never to fill: 7 tokens a second for a day. */
	tb_init(&b, 7, 1000000000ull, 0, t0);
	cr_assert_eq(tb_avail(&b, t0), 0);
	for (uint64_t t = 1; t <= 86400; t++)
		tb_avail(&b, t0 + t * S);
	cr_assert_eq(tb_avail(&b, t0 + 86400 * S), 7 * 86400);
	tb_take(&b, 7 * 86400);
	cr_assert_eq(tb_avail(&b, t0 + 86400 * S), 0);
}

Test(gen_pace, ready_at_is_the_first_instant)
{
	struct tb b;
	struct tb probe;
	uint64_t at;

	tb_init(&b, 3, 10, 0, 0);
	at = tb_ready_at(&b, 1);
	cr_assert_eq(at, 333333334);		/* ceil(1e9 / 3) */
	probe = b;
	cr_assert_eq(tb_avail(&probe, at - 1), 0);
	probe = b;
	cr_assert_eq(tb_avail(&probe, at), 1);
	/* asking for more than the bucket holds waits for a full bucket */
	cr_assert_eq(tb_ready_at(&b, 50), tb_ready_at(&b, 10));
	/* already there: now */
	tb_avail(&b, 5 * S);
	cr_assert_eq(tb_ready_at(&b, 2), 5 * S);
}

Test(gen_pace, bucket_caps_catch_up)
{
	struct tb b;

	tb_init(&b, 1000, pace_burst(1000, 64), 1, 0);
	cr_assert_eq(pace_burst(1000, 64), 20);
	cr_assert_eq(tb_avail(&b, 0), 1);
	/* a 10 s stall earns 20 tokens, not 10,000 */
	cr_assert_eq(tb_avail(&b, 10 * S), 20);
	tb_take(&b, 20);
	cr_assert_eq(tb_avail(&b, 10 * S + 5 * MS), 5);
	/* a stall of years does not overflow */
	cr_assert_eq(tb_avail(&b, 10 * S + 100000000ull * S), 20);
}

Test(gen_pace, time_going_back_adds_nothing)
{
	struct tb b;

	tb_init(&b, 100, 10, 0, 10 * S);
	cr_assert_eq(tb_avail(&b, 9 * S), 0);
	cr_assert_eq(tb_avail(&b, 10 * S + 10 * MS), 1);
}

Test(gen_pace, batch_and_burst_sizes)
{
	const uint64_t rates[] = { 1, 100, 999, 1000, 5000, 64000, 200000, 1000000 };

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t r = rates[i], batch = pace_batch(r, 64), burst = pace_burst(r, 64);

		cr_assert(batch >= 1 && batch <= 64);
		cr_assert_geq(burst, batch);
		/* what a 10 s window can gain over rate * 10: burst + batch,
		 * at most 0.3% from 100/s up */
		if (r >= 100)
			cr_assert_leq((double)(burst + batch), 0.003 * r * 10 + 1, "rate %llu",
				      (unsigned long long)r);
	}
	cr_assert_eq(pace_batch(100, 64), 1);
	cr_assert_eq(pace_batch(200000, 64), 64);
	cr_assert_eq(pace_burst(200000, 64), 4000);
}

/* The sender loop of run.c against a simulated clock: wait for a batch
 * worth of tokens (waking up to `late` ns after the instant asked for, and
 * now and then after a stall), send what the bucket holds (at most 64),
 * pay `cost` ns per datagram. Returns per-millisecond send counts. */
static uint32_t *simulate(uint64_t rate, uint64_t secs, uint64_t late, uint64_t cost,
			  uint64_t stall_every, uint64_t seed)
{
	uint64_t end = secs * S, now = 0, want = pace_batch(rate, 64), wakes = 0;
	uint32_t *per_ms = calloc(secs * 1000 + 1, sizeof(*per_ms));
	struct rng r;
	struct tb b;

	cr_assert_not_null(per_ms);
	rng_seed(&r, seed);
	tb_init(&b, rate, pace_burst(rate, 64), want, now);
	while (now < end) {
		uint64_t avail = tb_avail(&b, now), n;

		if (avail < want) {
			uint64_t until = tb_ready_at(&b, want);

			now = (until > now ? until : now) + rng_below(&r, late + 1);
			if (stall_every && ++wakes % stall_every == 0)
				now += 5 * MS;		/* the scheduler ran someone else */
			continue;
		}
		n = avail < 64 ? avail : 64;
		tb_take(&b, n);
		per_ms[now / MS] += (uint32_t)n;
		now += n * cost;
	}
	return per_ms;
}

/* The largest relative deviation from rate * 10 of the datagrams in any
 * 10 s window (slid by 1 ms) of the run. */
static double worst_window(const uint32_t *per_ms, uint64_t secs, uint64_t rate)
{
	uint64_t win = 10000, n = secs * 1000, sum = 0, target = rate * 10;
	double worst = 0;

	for (uint64_t i = 0; i < win; i++)
		sum += per_ms[i];
	for (uint64_t i = 0;; i++) {
		double dev = ((double)sum - (double)target) / (double)target;

		if (dev < 0)
			dev = -dev;
		if (dev > worst)
			worst = dev;
		if (i + win >= n)
			break;
		sum += per_ms[i + win];
		sum -= per_ms[i];
	}
	return worst;
}

Test(gen_pace, rate_within_one_percent_over_10s_windows)
{
	const uint64_t rates[] = { 100, 137, 1000, 9999, 50000, 200000 };

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		/* wake-ups up to 20 us late, 1 us per datagram sent */
		uint32_t *pm = simulate(rates[i], 40, 20000, 1000, 0, i + 1);
		double w = worst_window(pm, 40, rates[i]);

		cr_assert_leq(w, 0.01, "rate %llu: a 10 s window is %.3f%% off",
			      (unsigned long long)rates[i], w * 100);
		free(pm);
	}
}

Test(gen_pace, stalls_are_caught_up)
{
	const uint64_t rates[] = { 100, 2000, 100000 };

	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		/* a 5 ms stall every 50th wake-up: the bucket (20 ms) absorbs it */
		uint32_t *pm = simulate(rates[i], 40, 50000, 1000, 50, 9 + i);
		double w = worst_window(pm, 40, rates[i]);

		cr_assert_leq(w, 0.01, "rate %llu: a 10 s window is %.3f%% off",
			      (unsigned long long)rates[i], w * 100);
		free(pm);
	}
}

/* The measure is sharp: a sender that cannot keep up (40 us per datagram
 * at 30,000/s) reads far off, and so does a bucket that bursts. */
Test(gen_pace, measure_catches_a_slow_sender)
{
	uint32_t *pm = simulate(30000, 30, 0, 40000, 0, 1);

	cr_assert_gt(worst_window(pm, 30, 30000), 0.1);
	free(pm);
	pm = calloc(30001, sizeof(*pm));
	cr_assert_not_null(pm);
	for (int i = 0; i < 30000; i++)
		pm[i] = 1;		/* exactly 1000/s ... */
	pm[12345] += 150;		/* ... and one burst of 1.5% */
	cr_assert_float_eq(worst_window(pm, 30, 1000), 0.015, 1e-9);
	free(pm);
}
