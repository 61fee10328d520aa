/* out.c - see out.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "out.h"

static void out_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

const char *col_lost_name(int reason)
{
	static const char *const names[COL_LOST_MAX] = { "write_error" };

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

static int out_open_fd(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

int col_out_open(struct col_out *o, const char *path, const char *header, size_t header_len,
		 char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	pthread_mutex_init(&o->mu, NULL);
	o->path = path;
	o->header = header;
	o->header_len = header_len;
	if (path) {
		o->fd = out_open_fd(path, err, errlen);
		if (o->fd < 0)
			return WEIR_E_IO;
		o->own_fd = 1;
	} else {
		o->fd = STDOUT_FILENO;
	}
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
	col_log(COL_LOG_INFO, "kafka: producing to topic %s, brokers %s", cfg->topic, cfg->brokers);
	return WEIR_OK;
}

void col_out_stopping(struct col_out *o, uint64_t now_ns)
{
	if (o->kafka)
		col_kafka_deadline(o->kafka, now_ns + COL_KAFKA_STOP_WAIT_MS * 1000000ull);
}

int col_out_reopen(struct col_out *o, char *err, size_t errlen)
{
	int fd, old;

	if (!o->path)
		return WEIR_OK;
	fd = out_open_fd(o->path, err, errlen);
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
static int out_kafka_write(struct col_out *o, const void *p, size_t n)
{
	size_t lost = col_kafka_produce(o->kafka, p, n);
	uint64_t lines = out_lines(p, n);

	pthread_mutex_lock(&o->mu);
	out_add(&o->flushes, 1);
	out_add(&o->bytes, n);
	/* One message a line: those produced reached the output. */
	out_add(&o->lines, lines > lost ? lines - lost : 0);
	out_add(&o->lost[COL_LOST_WRITE_ERROR], lost);
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

int col_out_write(struct col_out *o, const void *p, size_t n)
{
	const char *c = p;
	size_t off = 0;
	uint64_t lines;
	int ret = WEIR_OK;

	if (o->kafka)
		return out_kafka_write(o, p, n);
	lines = out_lines(c, n);
	pthread_mutex_lock(&o->mu);
	out_add(&o->flushes, 1);
	while (off < n) {
		ssize_t w = write(o->fd, c + off, n - off);

		out_add(&o->writes, 1);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			/* Say it once per kind of failure, not once per batch. */
			if (e != o->last_errno)
				col_log(COL_LOG_ERROR, "write to %s: %s; dropping output until it works",
					o->path ? o->path : "stdout", strerror(e));
			o->last_errno = e;
			out_add(&o->write_errors, 1);
			ret = WEIR_E_IO;
			break;
		}
		off += (size_t)w;
	}
	if (ret == WEIR_OK && o->last_errno) {
		col_log(COL_LOG_WARN, "write to %s works again", o->path ? o->path : "stdout");
		o->last_errno = 0;
	}
	if (ret != WEIR_OK && off) {
		uint64_t whole;

		off = out_unwrite(o, c, off);
		whole = out_lines(c, off);
		out_add(&o->lost[COL_LOST_WRITE_ERROR], lines - whole);
		lines = whole;
	} else if (ret != WEIR_OK) {
		out_add(&o->lost[COL_LOST_WRITE_ERROR], lines);
		lines = 0;
	}
	out_add(&o->lines, lines);
	out_add(&o->bytes, off);
	pthread_mutex_unlock(&o->mu);
	return ret;
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
		col_out_write(o, c->p, c->len);
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
			while (o->queued_bytes)
				pthread_cond_wait(&o->q_free, &o->qmu);
			pthread_mutex_unlock(&o->qmu);
			return col_out_write(o, b->p, b->len);
		}
		__atomic_store_n(&o->queue_waits, o->queue_waits + 1, __ATOMIC_RELAXED);
		pthread_cond_wait(&o->q_free, &o->qmu);
	}
	/* Swap: c leaves with the full batch, b keeps c's empty buffer. */
	b->p = c->p;
	c->p = full;
	c->len = b->len;
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

void col_out_close(struct col_out *o)
{
	if (o->writer) {
		pthread_mutex_lock(&o->qmu);
		o->writer_stop = 1;
		pthread_cond_signal(&o->q_work);
		pthread_mutex_unlock(&o->qmu);
		pthread_join(o->writer_thr, NULL);
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
	col_kafka_close(o->kafka);
	o->kafka = NULL;
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
	if (b->out && b->out->writer)
		err = out_queue(b->out, b);
	else if (b->out)
		err = col_out_write(b->out, b->p, b->len);
	b->len = 0;
	return err;
}

void col_buf_free(struct col_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
