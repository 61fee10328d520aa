/* prog_clock.c - see prog_clock.h. */
#include <time.h>

#include "prog_clock.h"

static uint64_t prog_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * PROG_NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t prog_now_mono(void)
{
	return prog_clock_ns(CLOCK_MONOTONIC);
}

uint64_t prog_now_real(void)
{
	return prog_clock_ns(CLOCK_REALTIME);
}

void prog_real_after_ms(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= (long)PROG_NS_PER_S) {
		ts->tv_sec++;
		ts->tv_nsec -= (long)PROG_NS_PER_S;
	}
}
