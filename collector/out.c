/* out.c - see out.h: what every output shares (the calls that go to its
 * implementation, the stop, the batches). The file output is outfile.c,
 * the Kafka output kafka.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "out.h"

const char *col_lost_name(int reason)
{
	static const char *const names[COL_LOST_MAX] = { "write_error", "stalled" };

	return reason >= 0 && reason < COL_LOST_MAX ? names[reason] : "unknown";
}

uint64_t col_out_lines(const char *p, size_t n)
{
	const char *e = p + n;
	uint64_t k = 0;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

void col_out_stopping(struct col_out *o, uint64_t now_ns)
{
	__atomic_store_n(&o->stop_ns, now_ns, __ATOMIC_RELEASE);
	if (o->ops->stopping)
		o->ops->stopping(o, now_ns);
}

void col_out_set_stop_poll(struct col_out *o, int (*poll)(void *arg), void *arg)
{
	o->stop_poll_thr = pthread_self();
	o->stop_poll_arg = arg;
	o->stop_poll = poll;
}

void col_out_poll_stop(struct col_out *o)
{
	struct timespec ts;

	if (!o->stop_poll || __atomic_load_n(&o->stop_ns, __ATOMIC_ACQUIRE) ||
	    !pthread_equal(pthread_self(), o->stop_poll_thr))
		return;
	if (o->stop_poll(o->stop_poll_arg)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		col_out_stopping(o, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	}
}

int col_out_reopen(struct col_out *o, char *err, size_t errlen)
{
	return o->ops->reopen ? o->ops->reopen(o, err, errlen) : WEIR_OK;
}

int col_out_write(struct col_out *o, const void *p, size_t n)
{
	return o->ops->write(o, p, n, col_out_lines(p, n));
}

int col_out_start_writer(struct col_out *o)
{
	return o->ops->start ? o->ops->start(o) : WEIR_OK;
}

void col_out_close(struct col_out *o)
{
	o->ops->close(o);
}

int col_buf_init(struct col_buf *b, struct col_out *out, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->p = malloc(cap);
	if (!b->p)
		return WEIR_E_NOMEM;
	b->cap = cap;
	b->out = out;
	return WEIR_OK;
}

int col_buf_flush(struct col_buf *b)
{
	struct col_out *o = b->out;
	int err = WEIR_OK;

	if (!b->len)
		return WEIR_OK;
	/* A batch filled without counting its lines (tests): count them. */
	if (!b->lines)
		b->lines = col_out_lines(b->p, b->len);
	if (o && o->ops->flush)
		err = o->ops->flush(o, b);
	else if (o)
		err = o->ops->write(o, b->p, b->len, b->lines);
	b->len = 0;
	b->lines = 0;
	return err;
}

void col_buf_free(struct col_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
