/* test_prog_clock.c - the programs' clocks (common/prog/prog_clock.h). */
#include <criterion/criterion.h>
#include <time.h>

#include "prog_clock.h"

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * PROG_NS_PER_S + (uint64_t)ts->tv_nsec;
}

Test(prog_clock, mono_and_real_move_forward)
{
	uint64_t m0 = prog_now_mono(), r0 = prog_now_real();
	struct timespec nap = { 0, 2000000 };

	nanosleep(&nap, NULL);
	cr_assert_geq(prog_now_mono() - m0, 2000000ull, "monotonic time after a 2 ms sleep");
	cr_assert_gt(r0, 1500000000ull * PROG_NS_PER_S, "real time is since 1970");
}

/* Deadlines across a second's end, and over a second long, are normalized
 * timespecs ms from now. */
Test(prog_clock, real_after_ms_is_a_normalized_deadline)
{
	static const unsigned ms[] = { 0, 1, 10, 999, 1000, 1001, 2500, 60000 };

	for (unsigned i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		for (int k = 0; k < 200; k++) {
			uint64_t before = prog_now_real(), after;
			struct timespec ts;

			prog_real_after_ms(&ts, ms[i]);
			after = prog_now_real();
			cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < (long)PROG_NS_PER_S,
				  "tv_nsec %ld out of range for %u ms", ts.tv_nsec, ms[i]);
			cr_assert_geq(ts_ns(&ts), before + ms[i] * 1000000ull, "%u ms: too early", ms[i]);
			cr_assert_leq(ts_ns(&ts), after + ms[i] * 1000000ull, "%u ms: too late", ms[i]);
		}
	}
}
