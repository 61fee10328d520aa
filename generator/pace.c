/* pace.c - see pace.h. */
#include <errno.h>
#include <time.h>

#include "pace.h"
#include "prog_clock.h"

uint64_t pace_batch(uint64_t rate, uint64_t max_batch)
{
	uint64_t n = rate / 1000;

	if (n < 1)
		n = 1;
	return n > max_batch ? max_batch : n;
}

uint64_t pace_burst(uint64_t rate, uint64_t max_batch)
{
	uint64_t n = rate / 50, min = pace_batch(rate, max_batch);

	return n < min ? min : n;
}

void tb_init(struct tb *b, uint64_t rate, uint64_t burst, uint64_t initial, uint64_t now_ns)
{
	if (rate < 1)
		rate = 1;
	if (rate > PACE_MAX_RATE)
		rate = PACE_MAX_RATE;
	if (burst < 1)
		burst = 1;
	if (initial > burst)
		initial = burst;
	b->rate = rate;
	b->cap = burst * TB_UNIT;
	b->level = initial * TB_UNIT;
	b->last_ns = now_ns;
}

uint64_t tb_avail(struct tb *b, uint64_t now_ns)
{
	if (now_ns > b->last_ns) {
		uint64_t dt = now_ns - b->last_ns;
		uint64_t room = b->cap - b->level;

		/* dt * rate could overflow after a long stall: compare first. */
		if (dt >= room / b->rate + 1)
			b->level = b->cap;
		else
			b->level += dt * b->rate;
		b->last_ns = now_ns;
	}
	return b->level / TB_UNIT;
}

void tb_take(struct tb *b, uint64_t n)
{
	uint64_t u = n * TB_UNIT;

	b->level = u > b->level ? 0 : b->level - u;
}

uint64_t tb_ready_at(const struct tb *b, uint64_t n)
{
	uint64_t need;

	if (n * TB_UNIT > b->cap)
		n = b->cap / TB_UNIT;
	need = n * TB_UNIT;
	if (b->level >= need)
		return b->last_ns;
	return b->last_ns + (need - b->level + b->rate - 1) / b->rate;
}

uint64_t pace_now(void)
{
	return prog_now_mono();
}

void pace_wait(uint64_t until_ns, volatile sig_atomic_t *stop)
{
	uint64_t now = pace_now();

	if (until_ns > now + PACE_SPIN_NS) {
		uint64_t wake = until_ns - PACE_SPIN_NS;
		struct timespec ts = {
			.tv_sec = (time_t)(wake / 1000000000ull),
			.tv_nsec = (long)(wake % 1000000000ull),
		};

		/* EINTR: a signal; the caller checks *stop. */
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			if (*stop)
				return;
	}
	while (pace_now() < until_ns)
		if (*stop)
			return;
}
