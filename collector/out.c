/* out.c - see out.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "prog_log.h"
#include "out.h"

static void out_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* For counters more than one thread adds to (workers dropping a batch at
 * stop while the writer counts its own). */
static void out_add_mt(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static uint64_t out_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Stopping, and the output has taken nothing for COL_OUT_STOP_WAIT_MS (a
 * slow reader that still reads gets all it was sent). */
static int out_given_up(const struct col_out *o)
{
	uint64_t t = __atomic_load_n(&o->stop_ns, __ATOMIC_ACQUIRE), p;

	if (!t)
		return 0;
	p = __atomic_load_n(&o->progress_ns, __ATOMIC_RELAXED);
	if (p > t)
		t = p;
	return out_now() - t >= COL_OUT_STOP_WAIT_MS * 1000000ull;
}

const char *col_lost_name(int reason)
{
	static const char *const names[COL_LOST_MAX] = { "write_error", "stalled" };

	return reason >= 0 && reason < COL_LOST_MAX ? names[reason] : "unknown";
}

/* The header row goes first into a file that holds nothing yet. */
static int out_header(struct col_out *o, int fd)
{
	struct stat st;
	size_t off = 0;

	if (!o->header || !o->header_len)
		return WEIR_OK;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		return WEIR_OK;
	while (off < o->header_len) {
		ssize_t n = write(fd, o->header + off, o->header_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file was empty: leave it so, not with half a
			 * header row. */
			if (off && ftruncate(fd, 0) < 0)
				out_add(&o->cut_lines, 1);
			return WEIR_E_IO;
		}
		off += (size_t)n;
	}
	out_add(&o->bytes, o->header_len);
	return WEIR_OK;
}

/* A FIFO with no reader: open() would block until one comes, deaf to
 * SIGTERM (the main thread takes signals between calls). Open it without
 * blocking (ENXIO while nobody reads) and ask stop(), which waits up to
 * COL_OUT_POLL_MS, in between; without stop, try once. -1 with errno,
 * EINTR when stop() said so. */
static int out_open_fifo(const char *path, int flags, int (*stop)(void *), void *arg)
{
	int said = 0;

	for (;;) {
		int fd = open(path, flags | O_NONBLOCK);

		if (fd >= 0 || errno != ENXIO)
			return fd;
		if (!stop)
			return -1;
		if (!said++)
			prog_log(PROG_LOG_INFO, "-o %s: a FIFO with no reader; waiting for one", path);
		if (stop(arg)) {
			errno = EINTR;
			return -1;
		}
	}
}

static int out_open_fd(const char *path, int (*stop)(void *), void *arg, char *err,
		       size_t errlen)
{
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, fd;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		fd = out_open_fifo(path, flags, stop, arg);
	else
		fd = open(path, flags, 0644);
	if (fd < 0 && errno == EINTR)
		snprintf(err, errlen, "stopped while %s waited for a reader", path);
	else if (fd < 0 && errno == ENXIO)
		snprintf(err, errlen, "cannot open %s: a FIFO with no reader", path);
	else if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

/* A pipe, FIFO or socket goes non-blocking: the writer polls for room and
 * can give up at stop (col_out_write). A regular file or a terminal stays
 * as it is. */
static void out_set_nonblock(struct col_out *o)
{
	struct stat st;
	int fl;

	if (fstat(o->fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	fl = fcntl(o->fd, F_GETFL);
	if (fl < 0 || fcntl(o->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	o->fd_flags = fl;
	__atomic_store_n(&o->nonblock, 1, __ATOMIC_RELAXED);
}

/* Wait until the output takes bytes again: 1, or 0 when the stop's bound
 * passed first. */
static int out_wait_room(struct col_out *o)
{
	struct pollfd p = { .fd = o->fd, .events = POLLOUT };

	while (!out_given_up(o)) {
		int r = poll(&p, 1, COL_OUT_POLL_MS);

		if (r > 0 || (r < 0 && errno != EINTR))
			return 1;	/* room, or an error write() will report */
	}
	return 0;
}

int col_out_open(struct col_out *o, const char *path, const char *header, size_t header_len,
		 char *err, size_t errlen)
{
	return col_out_open_wait(o, path, header, header_len, NULL, NULL, err, errlen);
}

int col_out_open_wait(struct col_out *o, const char *path, const char *header,
		      size_t header_len, int (*stop)(void *arg), void *arg, char *err,
		      size_t errlen)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->mu, NULL);
	o->path = path;
	o->header = header;
	o->header_len = header_len;
	if (path) {
		o->fd = out_open_fd(path, stop, arg, err, errlen);
		if (o->fd < 0) {
			int stopped = errno == EINTR;

			pthread_mutex_destroy(&o->mu);
			return stopped ? WEIR_E_STOPPED : WEIR_E_IO;
		}
		o->own_fd = 1;
	} else {
		o->fd = STDOUT_FILENO;
	}
	out_set_nonblock(o);
	if (out_header(o, o->fd)) {
		snprintf(err, errlen, "cannot write to %s: %s", path ? path : "stdout",
			 strerror(errno));
		col_out_close(o);
		return WEIR_E_IO;
	}
	return WEIR_OK;
}

int col_out_open_kafka(struct col_out *o, const struct col_kafka_cfg *cfg, char *err,
		       size_t errlen)
{
	int code;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->kafka = col_kafka_new(cfg, &code, err, errlen);
	if (!o->kafka)
		return code;
	pthread_mutex_init(&o->mu, NULL);
	prog_log(PROG_LOG_INFO, "kafka: producing to topic %s, brokers %s", cfg->topic, cfg->brokers);
	return WEIR_OK;
}

void col_out_stopping(struct col_out *o, uint64_t now_ns)
{
	__atomic_store_n(&o->stop_ns, now_ns, __ATOMIC_RELEASE);
	if (o->kafka)
		col_kafka_deadline(o->kafka, now_ns + COL_KAFKA_STOP_WAIT_MS * 1000000ull);
}

int col_out_reopen(struct col_out *o, char *err, size_t errlen)
{
	int fd, old;

	if (!o->path)
		return WEIR_OK;
	fd = out_open_fd(o->path, NULL, NULL, err, errlen);
	if (fd < 0)
		return WEIR_E_IO;
	pthread_mutex_lock(&o->mu);
	if (out_header(o, fd)) {
		pthread_mutex_unlock(&o->mu);
		snprintf(err, errlen, "cannot write to %s: %s", o->path, strerror(errno));
		close(fd);
		return WEIR_E_IO;
	}
	old = o->fd;
	o->fd = fd;
	__atomic_store_n(&o->nonblock, 0, __ATOMIC_RELAXED);
	out_set_nonblock(o);
	out_add(&o->reopens, 1);
	pthread_mutex_unlock(&o->mu);
	close(old);
	return WEIR_OK;
}

/* Lines (newlines) in p[0..n). */
static uint64_t out_lines(const char *p, size_t n)
{
	const char *e = p + n;
	uint64_t k = 0;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		k++;
		p++;
	}
	return k;
}

/* Workers produce in parallel: the mutex only guards the counters. */
static int out_kafka_write(struct col_out *o, const void *p, size_t n, uint64_t lines)
{
	size_t lost = col_kafka_produce(o->kafka, p, n);

	pthread_mutex_lock(&o->mu);
	out_add(&o->flushes, 1);
	out_add(&o->bytes, n);
	/* One message a line: those produced reached the output. */
	out_add(&o->lines, lines > lost ? lines - lost : 0);
	out_add_mt(&o->lost[COL_LOST_WRITE_ERROR], lost);
	if (lost)
		out_add(&o->write_errors, 1);
	pthread_mutex_unlock(&o->mu);
	return lost ? WEIR_E_IO : WEIR_OK;
}

/* A write failed after off bytes of c: take back the cut line at the end of
 * them, so that the file holds whole lines only (a full disk takes part of a
 * write, then refuses the rest). The file ends with our bytes unless
 * someone else appended since: then its end is not ours to cut. Returns the
 * bytes that stay written. */
static size_t out_unwrite(struct col_out *o, const char *c, size_t off)
{
	size_t keep = off;
	struct stat st;
	off_t pos;

	while (keep && c[keep - 1] != '\n')
		keep--;
	if (keep == off)
		return off;
	pos = lseek(o->fd, 0, SEEK_CUR);
	if (pos < 0 || fstat(o->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != pos ||
	    ftruncate(o->fd, pos - (off_t)(off - keep)) < 0) {
		out_add(&o->cut_lines, 1);
		return off;
	}
	return keep;
}

/* col_out_write() of n bytes holding lines lines (the batch counted them as
 * they were added: no second pass over the bytes). */
static int out_write_lines(struct col_out *o, const char *c, size_t n, uint64_t lines)
{
	size_t off = 0;
	int ret = WEIR_OK, stalled = 0;

	if (o->kafka)
		return out_kafka_write(o, c, n, lines);
	pthread_mutex_lock(&o->mu);
	out_add(&o->flushes, 1);
	while (off < n) {
		ssize_t w = write(o->fd, c + off, n - off);

		out_add(&o->writes, 1);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && o->nonblock) {
			if (out_wait_room(o))
				continue;
			/* Stopping, and the reader takes nothing. */
			stalled = 1;
			ret = WEIR_E_IO;
			break;
		}
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			/* Say it once per kind of failure, not once per batch. */
			if (e != o->last_errno)
				prog_log(PROG_LOG_ERROR, "write to %s: %s; dropping output until it works",
					o->path ? o->path : "stdout", strerror(e));
			o->last_errno = e;
			out_add(&o->write_errors, 1);
			ret = WEIR_E_IO;
			break;
		}
		off += (size_t)w;
		if (__atomic_load_n(&o->stop_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&o->progress_ns, out_now(), __ATOMIC_RELAXED);
	}
	if (ret == WEIR_OK && o->last_errno) {
		prog_log(PROG_LOG_WARN, "write to %s works again", o->path ? o->path : "stdout");
		o->last_errno = 0;
	}
	if (ret != WEIR_OK) {
		uint64_t whole = 0;

		if (off) {
			off = out_unwrite(o, c, off);
			whole = out_lines(c, off);
		}
		out_add_mt(&o->lost[stalled ? COL_LOST_STALLED : COL_LOST_WRITE_ERROR], lines - whole);
		lines = whole;
	}
	out_add(&o->lines, lines);
	out_add(&o->bytes, off);
	pthread_mutex_unlock(&o->mu);
	return ret;
}

int col_out_write(struct col_out *o, const void *p, size_t n)
{
	return out_write_lines(o, p, n, out_lines(p, n));
}

/* At stop, the output took nothing within its bound: the lines are lost. */
static int out_drop(struct col_out *o, uint64_t lines)
{
	out_add_mt(&o->lost[COL_LOST_STALLED], lines);
	return WEIR_E_IO;
}

static void *writer_thread(void *arg)
{
	struct col_out *o = arg;

	pthread_mutex_lock(&o->qmu);
	for (;;) {
		struct col_chunk *c = o->q_head;

		if (!c) {
			if (o->writer_stop)
				break;
			pthread_cond_wait(&o->q_work, &o->qmu);
			continue;
		}
		o->q_head = c->next;
		if (!o->q_head)
			o->q_tail = NULL;
		pthread_mutex_unlock(&o->qmu);
		/* nonblock changes under mu at a reopen (SIGHUP): a relaxed
		 * look here, the write itself takes mu. */
		if (__atomic_load_n(&o->nonblock, __ATOMIC_RELAXED) && out_given_up(o))
			out_drop(o, c->lines);	/* the pipe took nothing in time */
		else
			out_write_lines(o, c->p, c->len, c->lines);
		pthread_mutex_lock(&o->qmu);
		__atomic_store_n(&o->queued_bytes, o->queued_bytes - c->len, __ATOMIC_RELAXED);
		c->len = 0;
		c->next = o->free_chunks;
		o->free_chunks = c;
		pthread_cond_broadcast(&o->q_free);
	}
	pthread_mutex_unlock(&o->qmu);
	return NULL;
}

int col_out_start_writer(struct col_out *o)
{
	if (o->kafka || o->writer)
		return WEIR_OK;
	pthread_mutex_init(&o->qmu, NULL);
	pthread_cond_init(&o->q_work, NULL);
	pthread_cond_init(&o->q_free, NULL);
	if (pthread_create(&o->writer_thr, NULL, writer_thread, o) != 0) {
		pthread_cond_destroy(&o->q_free);
		pthread_cond_destroy(&o->q_work);
		pthread_mutex_destroy(&o->qmu);
		return WEIR_E_NOMEM;
	}
	o->writer = 1;
	return WEIR_OK;
}

/* Ask the owner's stop_poll, from its thread alone, whether to stop; when
 * it says so, the stop starts now (col_out_stopping). */
static void out_poll_stop(struct col_out *o)
{
	if (!o->stop_poll || __atomic_load_n(&o->stop_ns, __ATOMIC_ACQUIRE) ||
	    !pthread_equal(pthread_self(), o->stop_poll_thr))
		return;
	if (o->stop_poll(o->stop_poll_arg))
		col_out_stopping(o, out_now());
}

void col_out_set_stop_poll(struct col_out *o, int (*poll)(void *arg), void *arg)
{
	o->stop_poll_thr = pthread_self();
	o->stop_poll_arg = arg;
	o->stop_poll = poll;
}

/* Wait (qmu held) for the writer to free a batch, at most COL_OUT_POLL_MS:
 * a stop must find the waiter. */
static void out_wait_free(struct col_out *o)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += COL_OUT_POLL_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&o->q_free, &o->qmu, &ts);
	out_poll_stop(o);
}

/* Queue b's bytes for the writer and give b an empty buffer of at least
 * its size: a free one, a new one while under COL_OUT_QUEUE_MAX, or the
 * next one the writer frees. The chunk that brings the empty buffer leaves
 * with the full one, so a flush allocates nothing once the pool is made;
 * when even a new chunk cannot be had (out of memory), the batch is
 * written here, after what is queued. */
static int out_queue(struct col_out *o, struct col_buf *b)
{
	struct col_chunk *c;
	char *full = b->p;

	if (out_given_up(o))
		return out_drop(o, b->lines);
	pthread_mutex_lock(&o->qmu);
	for (;;) {
		struct col_chunk **pp = &o->free_chunks;

		while (*pp && (*pp)->cap < b->cap)
			pp = &(*pp)->next;
		if (*pp) {
			c = *pp;
			*pp = c->next;
			break;
		}
		if ((size_t)o->nchunks * b->cap < COL_OUT_QUEUE_MAX) {
			c = malloc(sizeof(*c));
			if (c && (c->p = malloc(b->cap)) != NULL) {
				c->cap = b->cap;
				o->nchunks++;
				break;
			}
			free(c);
			/* Out of memory: let the writer drain, then write
			 * this batch in order. */
			while (o->queued_bytes && !out_given_up(o))
				out_wait_free(o);
			pthread_mutex_unlock(&o->qmu);
			if (out_given_up(o))
				return out_drop(o, b->lines);
			return out_write_lines(o, b->p, b->len, b->lines);
		}
		if (out_given_up(o)) {
			pthread_mutex_unlock(&o->qmu);
			return out_drop(o, b->lines);
		}
		__atomic_store_n(&o->queue_waits, o->queue_waits + 1, __ATOMIC_RELAXED);
		out_wait_free(o);
	}
	/* Swap: c leaves with the full batch, b keeps c's empty buffer. */
	b->p = c->p;
	c->p = full;
	c->len = b->len;
	c->lines = b->lines;
	{
		size_t cap = c->cap;

		c->cap = b->cap;
		b->cap = cap;
	}
	c->next = NULL;
	if (o->q_tail)
		o->q_tail->next = c;
	else
		o->q_head = c;
	o->q_tail = c;
	__atomic_store_n(&o->queued_bytes, o->queued_bytes + c->len, __ATOMIC_RELAXED);
	pthread_cond_signal(&o->q_work);
	pthread_mutex_unlock(&o->qmu);
	return WEIR_OK;
}

static uint64_t out_lost_total(const struct col_out *o, int reason)
{
	return __atomic_load_n(&o->lost[reason], __ATOMIC_RELAXED);
}

/* Join the writer; after a stop, give up on it once the output has taken
 * nothing for COL_OUT_STOP_WAIT_MS and a second more (a write() stuck in a
 * hung file system cannot be interrupted): 0, or -1 when it was left
 * behind, with what it still had counted lost. */
static int out_join_writer(struct col_out *o)
{
	uint64_t lost = 0;

	if (!__atomic_load_n(&o->stop_ns, __ATOMIC_ACQUIRE) && !o->stop_poll) {
		pthread_join(o->writer_thr, NULL);
		return 0;
	}
	for (unsigned grace = 0; grace <= 1000; ) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += COL_OUT_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_timedjoin_np(o->writer_thr, NULL, &ts) == 0)
			return 0;
		out_poll_stop(o);
		if (out_given_up(o))
			grace += COL_OUT_POLL_MS;
	}
	pthread_mutex_lock(&o->qmu);
	for (struct col_chunk *c = o->q_head; c; c = c->next)
		lost += c->lines;
	o->q_head = o->q_tail = NULL;
	pthread_mutex_unlock(&o->qmu);
	out_add_mt(&o->lost[COL_LOST_STALLED], lost);
	prog_log(PROG_LOG_ERROR, "%s: a write() has taken nothing for %u ms after the stop; leaving it "
		"(%llu more lines not written)", o->path ? o->path : "stdout",
		COL_OUT_STOP_WAIT_MS + 1000, (unsigned long long)lost);
	o->abandoned = 1;
	return -1;
}

void col_out_close(struct col_out *o)
{
	if (o->writer) {
		pthread_mutex_lock(&o->qmu);
		o->writer_stop = 1;
		pthread_cond_signal(&o->q_work);
		pthread_mutex_unlock(&o->qmu);
		/* Left behind in write(): it still uses o, and the process
		 * exits next. */
		if (out_join_writer(o))
			return;
		while (o->free_chunks) {
			struct col_chunk *c = o->free_chunks;

			o->free_chunks = c->next;
			free(c->p);
			free(c);
		}
		pthread_cond_destroy(&o->q_free);
		pthread_cond_destroy(&o->q_work);
		pthread_mutex_destroy(&o->qmu);
		o->writer = 0;
	}
	if (out_lost_total(o, COL_LOST_STALLED))
		prog_log(PROG_LOG_WARN, "%s took nothing within %u ms of the stop: %llu lines not written",
			o->path ? o->path : "stdout", COL_OUT_STOP_WAIT_MS,
			(unsigned long long)out_lost_total(o, COL_LOST_STALLED));
	col_kafka_close(o->kafka);
	o->kafka = NULL;
	if (o->nonblock && !o->own_fd)
		fcntl(o->fd, F_SETFL, o->fd_flags);	/* stdout is shared */
	if (o->own_fd && o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->own_fd = 0;
	pthread_mutex_destroy(&o->mu);
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
	int err = WEIR_OK;

	if (!b->len)
		return WEIR_OK;
	/* A batch filled without counting its lines (tests): count them. */
	if (!b->lines)
		b->lines = out_lines(b->p, b->len);
	if (b->out && b->out->writer)
		err = out_queue(b->out, b);
	else if (b->out)
		err = out_write_lines(b->out, b->p, b->len, b->lines);
	b->len = 0;
	b->lines = 0;
	return err;
}

void col_buf_free(struct col_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
