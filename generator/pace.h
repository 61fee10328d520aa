/* pace.h - pacing: a token bucket over CLOCK_MONOTONIC nanoseconds.
 *
 * Tokens (datagrams) accrue at exactly rate per second in integer
 * arithmetic (units of 1e-9 token), so nothing drifts however long the
 * run. The bucket holds at most burst tokens: after a stall the sender
 * catches up by at most burst datagrams, and tokens beyond that are lost.
 * Over any window of T seconds a sender that takes every token it can sends
 * rate * T datagrams, give or take burst + batch; pace_burst() keeps that
 * below 0.2% of a 10 s window at every rate. The tb_* functions are pure
 * arithmetic (the tests drive them with a simulated clock); pace_wait()
 * is the only one that sleeps.
 */
#ifndef GEN_PACE_H
#define GEN_PACE_H

#include <signal.h>
#include <stdint.h>

#define TB_UNIT		1000000000ull	/* bucket units per token */
#define PACE_SPIN_NS	50000ull	/* spin, not sleep, the last 50 us */
#define PACE_MAX_RATE	100000000ull	/* -r bound: 1e8 datagrams per second */

struct tb {
	uint64_t rate;			/* tokens per second, 1..PACE_MAX_RATE */
	uint64_t cap;			/* bucket size, in units */
	uint64_t level;			/* tokens held, in units */
	uint64_t last_ns;		/* time of the last refill */
};

/* Datagrams to wait for before sending a batch: about a millisecond's
 * worth, 1 .. max_batch. Fewer, longer sleeps; bursts that stay tiny
 * against a 10 s window. */
uint64_t pace_batch(uint64_t rate, uint64_t max_batch);
/* Bucket size for rate: 20 ms of tokens, at least one batch. */
uint64_t pace_burst(uint64_t rate, uint64_t max_batch);

/* An empty bucket but for `initial` tokens (at most burst), at now_ns. */
void tb_init(struct tb *b, uint64_t rate, uint64_t burst, uint64_t initial, uint64_t now_ns);
/* Refill up to now_ns (a time before the last refill adds nothing) and
 * return the whole tokens held. */
uint64_t tb_avail(struct tb *b, uint64_t now_ns);
/* Spend n tokens (n <= tb_avail()). */
void tb_take(struct tb *b, uint64_t n);
/* The earliest time n tokens are held (n clamped to the bucket size). */
uint64_t tb_ready_at(const struct tb *b, uint64_t n);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t pace_now(void);
/* Wait until CLOCK_MONOTONIC reaches until_ns: clock_nanosleep while more
 * than PACE_SPIN_NS away, then spin. Returns early once *stop is set. */
void pace_wait(uint64_t until_ns, volatile sig_atomic_t *stop);

#endif
