/* cnt.h - counters one thread writes while others may read them.
 *
 * The library is single-threaded, but a program may read a worker's
 * counters (struct tmpl_stats, weir_ctx.errors, sequence counts) from
 * another thread, as the collector's metrics endpoint does, with relaxed
 * atomic loads. The one writer therefore stores with a relaxed atomic
 * store too: the same instructions as a plain increment on the common
 * targets, and no data race (ThreadSanitizer, make tsan).
 */
#ifndef WEIR_CNT_H
#define WEIR_CNT_H

#include <stdint.h>

/* *c += n, by the counter's only writer. */
static inline void cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* *c read by another thread than its writer. */
static inline uint64_t cnt_load(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* *c -= n (gauges), by the counter's only writer. */
static inline void cnt_sub(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c - n, __ATOMIC_RELAXED);
}

#endif
