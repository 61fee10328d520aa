/* prog_clock.h - the programs' clocks, in nanoseconds. */
#ifndef PROG_CLOCK_H
#define PROG_CLOCK_H

#include <stdint.h>
#include <time.h>

#define PROG_NS_PER_S	1000000000ull

/* CLOCK_MONOTONIC: for intervals and deadlines. */
uint64_t prog_now_mono(void);
/* CLOCK_REALTIME: nanoseconds since 1970 (UTC), for what is written down. */
uint64_t prog_now_real(void);
/* The CLOCK_REALTIME time ms milliseconds from now, as the absolute
 * timespec pthread_cond_timedwait() and pthread_timedjoin_np() take. */
void prog_real_after_ms(struct timespec *ts, unsigned ms);

#endif
