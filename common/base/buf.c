/* buf.c - the bounded growable buffer (see buf.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

#define DBUF_FIRST_BYTES	1024u	/* first allocation, in bytes */

int dbuf_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t max)
{
	void **arr = arrp;
	size_t ncap = *cap, bytes;
	void *n;

	if (need <= *cap)
		return WEIR_OK;
	if (need > max)
		return WEIR_E_LIMIT;
	if (!ncap)
		ncap = size < DBUF_FIRST_BYTES ? DBUF_FIRST_BYTES / size : 1;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
	if (ncap > max)
		ncap = max;
	if (__builtin_mul_overflow(ncap, size, &bytes))
		return WEIR_E_NOMEM;
	n = realloc(*arr, bytes);
	if (!n)
		return WEIR_E_NOMEM;
	*arr = n;
	*cap = ncap;
	return WEIR_OK;
}

void dbuf_init(struct dbuf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->refused = 0;
}

void dbuf_free(struct dbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int dbuf_reserve(struct dbuf *b, size_t n)
{
	size_t need;
	int err;

	if (__builtin_add_overflow(b->len, n, &need))
		need = SIZE_MAX;
	err = dbuf_grow(&b->p, &b->cap, need, 1, b->max);
	if (err == WEIR_E_LIMIT)
		b->refused++;
	return err;
}

int dbuf_add(struct dbuf *b, const void *p, size_t n)
{
	int err = dbuf_reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return WEIR_OK;
}

int dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n, err;

	va_copy(aq, ap);
	n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return WEIR_E_INVALID;
	if (!b->p || (size_t)n >= b->cap - b->len) {
		err = dbuf_reserve(b, (size_t)n + 1);
		if (err) {
			if (b->p)	/* the cut text is not kept */
				b->p[b->len] = 0;
			return err;
		}
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		if (n < 0)
			return WEIR_E_INVALID;
	}
	b->len += (size_t)n;
	return WEIR_OK;
}

int dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = dbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

void dbuf_trim(struct dbuf *b)
{
	char *n;

	if (!b->p || b->len == b->cap)
		return;
	if (!b->len) {
		dbuf_free(b);
		return;
	}
	n = realloc(b->p, b->len);
	if (n) {
		b->p = n;
		b->cap = b->len;
	}
}
