/* wr.h - the one bounds-checked writer for all wire data (encoders).
 *
 * A write that does not fit sets a sticky error (WEIR_E_NOSPACE) and writes
 * nothing; later writes fail too, so an encoder checks w->err once at the end.
 * Values go out big-endian. The writer never owns its buffer.
 */
#ifndef WEIR_WR_H
#define WEIR_WR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>

#include "err.h"

struct wr {
	uint8_t *buf;
	size_t cap;
	size_t off;
	int err;
};

static inline void wr_init(struct wr *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->off = 0;
	w->err = WEIR_OK;
}

static inline size_t wr_left(const struct wr *w)
{
	return w->err ? 0 : w->cap - w->off;
}

static inline int wr_room(struct wr *w, size_t n)
{
	if (__builtin_expect(w->err || w->cap - w->off < n, 0)) {
		if (!w->err)
			w->err = WEIR_E_NOSPACE;
		return 0;
	}
	return 1;
}

static inline void wr_u8(struct wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		w->buf[w->off++] = v;
}

static inline void wr_u16(struct wr *w, uint16_t v)
{
	if (!wr_room(w, 2))
		return;
	v = htobe16(v);
	memcpy(w->buf + w->off, &v, 2);
	w->off += 2;
}

static inline void wr_u32(struct wr *w, uint32_t v)
{
	if (!wr_room(w, 4))
		return;
	v = htobe32(v);
	memcpy(w->buf + w->off, &v, 4);
	w->off += 4;
}

static inline void wr_u64(struct wr *w, uint64_t v)
{
	if (!wr_room(w, 8))
		return;
	v = htobe64(v);
	memcpy(w->buf + w->off, &v, 8);
	w->off += 8;
}

/* Unsigned value in n bytes (1..8), big-endian: reduced-size encoding. */
static inline void wr_uint(struct wr *w, uint64_t v, size_t n)
{
	if (n > 8 || !wr_room(w, n))
		return;
	for (size_t i = 0; i < n; i++)
		w->buf[w->off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	w->off += n;
}

static inline void wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (!wr_room(w, n))
		return;
	if (n)
		memcpy(w->buf + w->off, p, n);
	w->off += n;
}

static inline void wr_zero(struct wr *w, size_t n)
{
	if (!wr_room(w, n))
		return;
	memset(w->buf + w->off, 0, n);
	w->off += n;
}

/* Reserve n bytes to fill later (a length field); returns their offset,
 * or SIZE_MAX when they do not fit. */
static inline size_t wr_reserve(struct wr *w, size_t n)
{
	size_t at = w->off;

	if (!wr_room(w, n))
		return SIZE_MAX;
	memset(w->buf + at, 0, n);
	w->off += n;
	return at;
}

/* Patch a 16-bit value at an offset earlier returned by wr_reserve(). */
static inline void wr_put_u16(struct wr *w, size_t at, uint16_t v)
{
	if (w->err || at > w->off || w->off - at < 2)
		return;
	v = htobe16(v);
	memcpy(w->buf + at, &v, 2);
}

static inline void wr_put_u32(struct wr *w, size_t at, uint32_t v)
{
	if (w->err || at > w->off || w->off - at < 4)
		return;
	v = htobe32(v);
	memcpy(w->buf + at, &v, 4);
}

#endif
