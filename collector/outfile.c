/* outfile.c - the file output (out.h): stdout, a file or a FIFO, written by
 * a writer thread of its own. Its struct col_out_ops is chosen by
 * col_out_open and col_out_open_wait. */
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
#include "prog_clock.h"
#include "prog_log.h"
#include "out.h"

/* A batch's buffer travelling between a worker and the writer thread. */
struct col_chunk {
	struct col_chunk *next;
	char *p;
	size_t len, cap;
	uint64_t lines;
};

struct col_outfile {
	struct col_out *o;		/* its counters */
	pthread_mutex_t mu;		/* one batch in write() at a time */
	int fd;
	uint8_t own_fd;			/* opened by us (not stdout) */
	const char *path;		/* NULL = stdout */
	const char *header;		/* CSV header row, or NULL */
	size_t header_len;
	int last_errno;
	/* A pipe, FIFO or socket is written in O_NONBLOCK mode (poll for room),
	 * so that a reader that stops reading cannot hold a stop forever.
	 * Written under mu (atomic: the writer thread peeks without it). */
	uint8_t nonblock;
	int fd_flags;			/* the flags of stdout to give back */
	uint64_t progress_ns;		/* atomic: the last write() that took bytes after the stop */
	uint8_t abandoned;		/* close gave up on a writer stuck in write() */
	/* The writer thread (col_out_start_writer): workers queue their full
	 * batches and go back to receiving while it writes them, so a slow
	 * write() (page cache, disk, a pipe) does not stop receiving. */
	struct col_chunk *q_head, *q_tail;	/* batches to write, oldest first */
	struct col_chunk *free_chunks;		/* written, to hand back */
	pthread_mutex_t qmu;
	pthread_cond_t q_work, q_free;
	unsigned nchunks;			/* allocated, queued or free */
	uint8_t writer, writer_stop;
	pthread_t writer_thr;
};

static const struct col_out_ops file_ops;

static uint64_t out_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *out_name(const struct col_outfile *f)
{
	return f->path ? f->path : "stdout";
}

/* Stopping, and the output has taken nothing for COL_OUT_STOP_WAIT_MS (a
 * slow reader that still reads gets all it was sent). */
static int out_given_up(const struct col_outfile *f)
{
	uint64_t t = __atomic_load_n(&f->o->stop_ns, __ATOMIC_ACQUIRE), p;

	if (!t)
		return 0;
	p = __atomic_load_n(&f->progress_ns, __ATOMIC_RELAXED);
	if (p > t)
		t = p;
	return out_now() - t >= COL_OUT_STOP_WAIT_MS * 1000000ull;
}

/* The header row goes first into a file that holds nothing yet. */
static int out_header(struct col_outfile *f, int fd)
{
	struct stat st;
	size_t off = 0;

	if (!f->header || !f->header_len)
		return WEIR_OK;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		return WEIR_OK;
	while (off < f->header_len) {
		ssize_t n = write(fd, f->header + off, f->header_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The file was empty: leave it so, not with half a
			 * header row. */
			if (off && ftruncate(fd, 0) < 0)
				col_out_add(&f->o->cut_lines, 1);
			return WEIR_E_IO;
		}
		off += (size_t)n;
	}
	col_out_add(&f->o->bytes, f->header_len);
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
 * can give up at stop (file_write). A regular file or a terminal stays
 * as it is. */
static void out_set_nonblock(struct col_outfile *f)
{
	struct stat st;
	int fl;

	if (fstat(f->fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		return;
	fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || fcntl(f->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return;
	f->fd_flags = fl;
	__atomic_store_n(&f->nonblock, 1, __ATOMIC_RELAXED);
}

/* Wait until the output takes bytes again: 1, or 0 when the stop's bound
 * passed first. */
static int out_wait_room(struct col_outfile *f)
{
	struct pollfd p = { .fd = f->fd, .events = POLLOUT };

	while (!out_given_up(f)) {
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
	struct col_outfile *f = calloc(1, sizeof(*f));

	memset(o, 0, sizeof(*o));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	f->o = o;
	f->path = path;
	f->header = header;
	f->header_len = header_len;
	if (path) {
		f->fd = out_open_fd(path, stop, arg, err, errlen);
		if (f->fd < 0) {
			int stopped = errno == EINTR;

			free(f);
			return stopped ? WEIR_E_STOPPED : WEIR_E_IO;
		}
		f->own_fd = 1;
	} else {
		f->fd = STDOUT_FILENO;
	}
	pthread_mutex_init(&f->mu, NULL);
	o->ops = &file_ops;
	o->impl = f;
	out_set_nonblock(f);
	if (out_header(f, f->fd)) {
		snprintf(err, errlen, "cannot write to %s: %s", out_name(f), strerror(errno));
		col_out_close(o);
		return WEIR_E_IO;
	}
	return WEIR_OK;
}

int col_out_file_writer(const struct col_out *o, unsigned *nchunks)
{
	const struct col_outfile *f = o->impl;

	if (o->ops != &file_ops || !f || !f->writer)
		return 0;
	*nchunks = f->nchunks;
	return 1;
}

static int file_reopen(struct col_out *o, char *err, size_t errlen)
{
	struct col_outfile *f = o->impl;
	int fd, old;

	if (!f->path)
		return WEIR_OK;
	fd = out_open_fd(f->path, NULL, NULL, err, errlen);
	if (fd < 0)
		return WEIR_E_IO;
	pthread_mutex_lock(&f->mu);
	if (out_header(f, fd)) {
		pthread_mutex_unlock(&f->mu);
		snprintf(err, errlen, "cannot write to %s: %s", f->path, strerror(errno));
		close(fd);
		return WEIR_E_IO;
	}
	old = f->fd;
	f->fd = fd;
	__atomic_store_n(&f->nonblock, 0, __ATOMIC_RELAXED);
	out_set_nonblock(f);
	col_out_add(&o->reopens, 1);
	pthread_mutex_unlock(&f->mu);
	close(old);
	return WEIR_OK;
}

/* A write failed after off bytes of c: take back the cut line at the end of
 * them, so that the file holds whole lines only (a full disk takes part of a
 * write, then refuses the rest). The file ends with our bytes unless
 * someone else appended since: then its end is not ours to cut. Returns the
 * bytes that stay written. */
static size_t out_unwrite(struct col_outfile *f, const char *c, size_t off)
{
	size_t keep = off;
	struct stat st;
	off_t pos;

	while (keep && c[keep - 1] != '\n')
		keep--;
	if (keep == off)
		return off;
	pos = lseek(f->fd, 0, SEEK_CUR);
	if (pos < 0 || fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != pos ||
	    ftruncate(f->fd, pos - (off_t)(off - keep)) < 0) {
		col_out_add(&f->o->cut_lines, 1);
		return off;
	}
	return keep;
}

/* col_out_write() of n bytes holding lines lines (the batch counted them as
 * they were added: no second pass over the bytes). */
static int file_write(struct col_out *o, const char *c, size_t n, uint64_t lines)
{
	struct col_outfile *f = o->impl;
	size_t off = 0;
	int ret = WEIR_OK, stalled = 0;

	pthread_mutex_lock(&f->mu);
	col_out_add(&o->flushes, 1);
	while (off < n) {
		ssize_t w = write(f->fd, c + off, n - off);

		col_out_add(&o->writes, 1);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && f->nonblock) {
			if (out_wait_room(f))
				continue;
			/* Stopping, and the reader takes nothing. */
			stalled = 1;
			ret = WEIR_E_IO;
			break;
		}
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			/* Say it once per kind of failure, not once per batch. */
			if (e != f->last_errno)
				prog_log(PROG_LOG_ERROR, "write to %s: %s; dropping output until it works",
					out_name(f), strerror(e));
			f->last_errno = e;
			col_out_add(&o->write_errors, 1);
			ret = WEIR_E_IO;
			break;
		}
		off += (size_t)w;
		if (__atomic_load_n(&o->stop_ns, __ATOMIC_RELAXED))
			__atomic_store_n(&f->progress_ns, out_now(), __ATOMIC_RELAXED);
	}
	if (ret == WEIR_OK && f->last_errno) {
		prog_log(PROG_LOG_WARN, "write to %s works again", out_name(f));
		f->last_errno = 0;
	}
	if (ret != WEIR_OK) {
		uint64_t whole = 0;

		if (off) {
			off = out_unwrite(f, c, off);
			whole = col_out_lines(c, off);
		}
		col_out_add_mt(&o->lost[stalled ? COL_LOST_STALLED : COL_LOST_WRITE_ERROR], lines - whole);
		lines = whole;
	}
	col_out_add(&o->lines, lines);
	col_out_add(&o->bytes, off);
	pthread_mutex_unlock(&f->mu);
	return ret;
}

/* At stop, the output took nothing within its bound: the lines are lost. */
static int out_drop(struct col_outfile *f, uint64_t lines)
{
	col_out_add_mt(&f->o->lost[COL_LOST_STALLED], lines);
	return WEIR_E_IO;
}

static void *writer_thread(void *arg)
{
	struct col_outfile *f = arg;
	struct col_out *o = f->o;

	pthread_mutex_lock(&f->qmu);
	for (;;) {
		struct col_chunk *c = f->q_head;

		if (!c) {
			if (f->writer_stop)
				break;
			pthread_cond_wait(&f->q_work, &f->qmu);
			continue;
		}
		f->q_head = c->next;
		if (!f->q_head)
			f->q_tail = NULL;
		pthread_mutex_unlock(&f->qmu);
		/* nonblock changes under mu at a reopen (SIGHUP): a relaxed
		 * look here, the write itself takes mu. */
		if (__atomic_load_n(&f->nonblock, __ATOMIC_RELAXED) && out_given_up(f))
			out_drop(f, c->lines);	/* the pipe took nothing in time */
		else
			file_write(o, c->p, c->len, c->lines);
		pthread_mutex_lock(&f->qmu);
		__atomic_store_n(&o->queued_bytes, o->queued_bytes - c->len, __ATOMIC_RELAXED);
		c->len = 0;
		c->next = f->free_chunks;
		f->free_chunks = c;
		pthread_cond_broadcast(&f->q_free);
	}
	pthread_mutex_unlock(&f->qmu);
	return NULL;
}

static int file_start(struct col_out *o)
{
	struct col_outfile *f = o->impl;

	if (f->writer)
		return WEIR_OK;
	pthread_mutex_init(&f->qmu, NULL);
	pthread_cond_init(&f->q_work, NULL);
	pthread_cond_init(&f->q_free, NULL);
	if (pthread_create(&f->writer_thr, NULL, writer_thread, f) != 0) {
		pthread_cond_destroy(&f->q_free);
		pthread_cond_destroy(&f->q_work);
		pthread_mutex_destroy(&f->qmu);
		return WEIR_E_NOMEM;
	}
	f->writer = 1;
	return WEIR_OK;
}

/* Wait (qmu held) for the writer to free a batch, at most COL_OUT_POLL_MS:
 * a stop must find the waiter. */
static void out_wait_free(struct col_outfile *f)
{
	struct timespec ts;

	prog_real_after_ms(&ts, COL_OUT_POLL_MS);
	pthread_cond_timedwait(&f->q_free, &f->qmu, &ts);
	col_out_poll_stop(f->o);
}

/* Take a chunk (qmu held) for a batch of b->cap bytes: a free one, a new
 * one while under COL_OUT_QUEUE_MAX, or the next one the writer frees.
 * NULL, qmu released, when there is none: *ret then says how the batch
 * went (dropped at stop, or written here when out of memory). */
static struct col_chunk *out_chunk(struct col_outfile *f, struct col_buf *b, int *ret)
{
	struct col_chunk *c;

	for (;;) {
		struct col_chunk **pp = &f->free_chunks;

		while (*pp && (*pp)->cap < b->cap)
			pp = &(*pp)->next;
		if (*pp) {
			c = *pp;
			*pp = c->next;
			return c;
		}
		if ((size_t)f->nchunks * b->cap < COL_OUT_QUEUE_MAX) {
			c = malloc(sizeof(*c));
			if (c && (c->p = malloc(b->cap)) != NULL) {
				c->cap = b->cap;
				f->nchunks++;
				return c;
			}
			free(c);
			/* Out of memory: let the writer drain, then write
			 * this batch in order. */
			while (f->o->queued_bytes && !out_given_up(f))
				out_wait_free(f);
			pthread_mutex_unlock(&f->qmu);
			*ret = out_given_up(f) ? out_drop(f, b->lines)
					       : file_write(f->o, b->p, b->len, b->lines);
			return NULL;
		}
		if (out_given_up(f)) {
			pthread_mutex_unlock(&f->qmu);
			*ret = out_drop(f, b->lines);
			return NULL;
		}
		__atomic_store_n(&f->o->queue_waits, f->o->queue_waits + 1, __ATOMIC_RELAXED);
		out_wait_free(f);
	}
}

/* Queue b's bytes for the writer and give b an empty buffer of at least
 * its size (out_chunk). The chunk that brings the empty buffer leaves with
 * the full one, so a flush allocates nothing once the pool is made.
 * Without a writer thread, write in the caller's. */
static int file_flush(struct col_out *o, struct col_buf *b)
{
	struct col_outfile *f = o->impl;
	struct col_chunk *c;
	char *full = b->p;
	size_t cap;
	int ret = WEIR_OK;

	if (!f->writer)
		return file_write(o, b->p, b->len, b->lines);
	if (out_given_up(f))
		return out_drop(f, b->lines);
	pthread_mutex_lock(&f->qmu);
	c = out_chunk(f, b, &ret);
	if (!c)
		return ret;
	/* Swap: c leaves with the full batch, b keeps c's empty buffer. */
	b->p = c->p;
	c->p = full;
	c->len = b->len;
	c->lines = b->lines;
	cap = c->cap;
	c->cap = b->cap;
	b->cap = cap;
	c->next = NULL;
	if (f->q_tail)
		f->q_tail->next = c;
	else
		f->q_head = c;
	f->q_tail = c;
	__atomic_store_n(&o->queued_bytes, o->queued_bytes + c->len, __ATOMIC_RELAXED);
	pthread_cond_signal(&f->q_work);
	pthread_mutex_unlock(&f->qmu);
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
static int out_join_writer(struct col_outfile *f)
{
	struct col_out *o = f->o;
	uint64_t lost = 0;

	if (!__atomic_load_n(&o->stop_ns, __ATOMIC_ACQUIRE) && !o->stop_poll) {
		pthread_join(f->writer_thr, NULL);
		return 0;
	}
	for (unsigned grace = 0; grace <= 1000; ) {
		struct timespec ts;

		prog_real_after_ms(&ts, COL_OUT_POLL_MS);
		if (pthread_timedjoin_np(f->writer_thr, NULL, &ts) == 0)
			return 0;
		col_out_poll_stop(o);
		if (out_given_up(f))
			grace += COL_OUT_POLL_MS;
	}
	pthread_mutex_lock(&f->qmu);
	for (struct col_chunk *c = f->q_head; c; c = c->next)
		lost += c->lines;
	f->q_head = f->q_tail = NULL;
	pthread_mutex_unlock(&f->qmu);
	col_out_add_mt(&o->lost[COL_LOST_STALLED], lost);
	prog_log(PROG_LOG_ERROR, "%s: a write() has taken nothing for %u ms after the stop; leaving it "
		"(%llu more lines not written)", out_name(f),
		COL_OUT_STOP_WAIT_MS + 1000, (unsigned long long)lost);
	f->abandoned = 1;
	return -1;
}

static void file_close(struct col_out *o)
{
	struct col_outfile *f = o->impl;

	if (f->writer) {
		pthread_mutex_lock(&f->qmu);
		f->writer_stop = 1;
		pthread_cond_signal(&f->q_work);
		pthread_mutex_unlock(&f->qmu);
		/* Left behind in write(): it still uses f, and the process
		 * exits next. */
		if (out_join_writer(f))
			return;
		while (f->free_chunks) {
			struct col_chunk *c = f->free_chunks;

			f->free_chunks = c->next;
			free(c->p);
			free(c);
		}
		pthread_cond_destroy(&f->q_free);
		pthread_cond_destroy(&f->q_work);
		pthread_mutex_destroy(&f->qmu);
		f->writer = 0;
	}
	if (out_lost_total(o, COL_LOST_STALLED))
		prog_log(PROG_LOG_WARN, "%s took nothing within %u ms of the stop: %llu lines not written",
			out_name(f), COL_OUT_STOP_WAIT_MS,
			(unsigned long long)out_lost_total(o, COL_LOST_STALLED));
	if (f->nonblock && !f->own_fd)
		fcntl(f->fd, F_SETFL, f->fd_flags);	/* stdout is shared */
	if (f->own_fd && f->fd >= 0)
		close(f->fd);
	pthread_mutex_destroy(&f->mu);
	free(f);
	o->impl = NULL;
}

/* File, stdout, FIFO: writes counts write() calls, queued_bytes and
 * queue_waits the writer thread's queue. */
static const struct col_out_ops file_ops = {
	.name = "file",
	.write = file_write,
	.flush = file_flush,
	.start = file_start,
	.reopen = file_reopen,
	.close = file_close,
};
