/* rd.h - the one bounds-checked reader for all wire data.
 *
 * A short read returns 0 (or NULL) and sets a sticky error: r->err becomes
 * WEIR_E_TRUNCATED and the reader is emptied, so every later read fails too
 * and the caller checks r->err once per record. Values are big-endian on the
 * wire (network order) and are converted with memcpy, never by overlaying a
 * struct on the packet. The reader never owns its buffer.
 */
#ifndef WEIR_RD_H
#define WEIR_RD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>

#include "err.h"

struct rd {
	const uint8_t *buf;
	size_t len;
	size_t off;
	int err;
};

static inline void rd_init(struct rd *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->err = WEIR_OK;
}

static inline size_t rd_left(const struct rd *r)
{
	return r->len - r->off;
}

/* Current position as a pointer (valid even when nothing is left). */
static inline const uint8_t *rd_ptr(const struct rd *r)
{
	return r->buf + r->off;
}

/* Mark the reader failed with err (first error wins) and empty it. */
static inline void rd_fail(struct rd *r, int err)
{
	if (!r->err)
		r->err = err;
	r->len = r->off;
}

static inline int rd_need(struct rd *r, size_t n)
{
	if (__builtin_expect(rd_left(r) < n, 0)) {
		rd_fail(r, WEIR_E_TRUNCATED);
		return 0;
	}
	return 1;
}

static inline uint8_t rd_u8(struct rd *r)
{
	if (!rd_need(r, 1))
		return 0;
	return r->buf[r->off++];
}

static inline uint16_t rd_u16(struct rd *r)
{
	uint16_t v;

	if (!rd_need(r, 2))
		return 0;
	memcpy(&v, r->buf + r->off, 2);
	r->off += 2;
	return be16toh(v);
}

static inline uint32_t rd_u32(struct rd *r)
{
	uint32_t v;

	if (!rd_need(r, 4))
		return 0;
	memcpy(&v, r->buf + r->off, 4);
	r->off += 4;
	return be32toh(v);
}

static inline uint64_t rd_u64(struct rd *r)
{
	uint64_t v;

	if (!rd_need(r, 8))
		return 0;
	memcpy(&v, r->buf + r->off, 8);
	r->off += 8;
	return be64toh(v);
}

/* Returns a pointer to the next n bytes and advances, or NULL when short.
 * The pointer is a view into the reader's buffer. */
static inline const uint8_t *rd_bytes(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (!rd_need(r, n))
		return NULL;
	p = r->buf + r->off;
	r->off += n;
	return p;
}

static inline int rd_skip(struct rd *r, size_t n)
{
	if (!rd_need(r, n))
		return 0;
	r->off += n;
	return 1;
}

static inline int rd_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *p = rd_bytes(r, n);

	if (!p)
		return 0;
	memcpy(dst, p, n);
	return 1;
}

/* Carve the next n bytes off as a sub-reader and advance past them.
 * On a short read *sub is an empty reader with err set, and r fails too. */
static inline int rd_sub(struct rd *r, size_t n, struct rd *sub)
{
	const uint8_t *p = rd_bytes(r, n);

	if (!p) {
		rd_init(sub, r->buf + r->off, 0);
		sub->err = WEIR_E_TRUNCATED;
		return 0;
	}
	rd_init(sub, p, n);
	return 1;
}

/* Big-endian unsigned value of n bytes (0..8) at p; reduced-size encoding
 * (RFC 7011 section 6.2) reads through here. n > 8 reads the last 8. */
static inline uint64_t be_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	if (n > 8) {
		p += n - 8;
		n = 8;
	}
	switch (n) {
	case 1: return p[0];
	case 2: { uint16_t x; memcpy(&x, p, 2); return be16toh(x); }
	case 4: { uint32_t x; memcpy(&x, p, 4); return be32toh(x); }
	case 8: { uint64_t x; memcpy(&x, p, 8); return be64toh(x); }
	default:
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | p[i];
		return v;
	}
}

/* Sign-extended big-endian value of n bytes (1..8). */
static inline int64_t be_int(const uint8_t *p, size_t n)
{
	uint64_t v = be_uint(p, n);

	if (n == 0)
		return 0;
	if (n < 8 && (v >> (n * 8 - 1)) & 1)
		v |= ~(uint64_t)0 << (n * 8);
	return (int64_t)v;
}

static inline uint64_t rd_uint(struct rd *r, size_t n)
{
	const uint8_t *p = rd_bytes(r, n);

	return p ? be_uint(p, n) : 0;
}

#endif
