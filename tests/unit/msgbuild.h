/* msgbuild.h - small helpers shared by the NetFlow unit tests: reading a
 * vendor payload, a template cache, building messages byte by byte, and a
 * log of decoded records copied out of the callback (views die when it
 * returns). */
#ifndef WEIR_TEST_MSGBUILD_H
#define WEIR_TEST_MSGBUILD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "rd.h"
#include "tmpl.h"

/* ---- vendor payloads (../shared/testdata/vendor-payloads, or
 * $WEIR_SHARED/testdata/vendor-payloads) ---- */

#define VENDOR_MAX 65536

/* Reads the payload into buf; returns its length, or -1 when absent. */
static inline long vendor_load(const char *name, uint8_t *buf, size_t cap)
{
	const char *shared = getenv("WEIR_SHARED");
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/testdata/vendor-payloads/%s",
		 shared ? shared : "../shared", name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return (long)n;
}

/* A payload or skip the test, saying why. */
#define VENDOR(name, buf)						\
	({								\
		long _n = vendor_load((name), (buf), VENDOR_MAX);	\
		if (_n < 0)						\
			cr_skip_test("vendor payload %s absent", (name)); \
		(size_t)_n;						\
	})

/* A template cache with the default limits. */
static inline struct tmpl_cache *cache_new(void)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;

	tmpl_limits_default(&lim);
	c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(c);
	return c;
}

/* ---- message building: big-endian puts into a byte array ---- */

struct mb {
	uint8_t b[8192];
	size_t n;
};

static inline void mb_u8(struct mb *m, uint8_t v)
{
	cr_assert_lt(m->n, sizeof(m->b));
	m->b[m->n++] = v;
}
static inline void mb_u16(struct mb *m, uint16_t v) { mb_u8(m, v >> 8); mb_u8(m, (uint8_t)v); }
static inline void mb_u32(struct mb *m, uint32_t v) { mb_u16(m, v >> 16); mb_u16(m, (uint16_t)v); }
static inline void mb_bytes(struct mb *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mb_u8(m, ((const uint8_t *)p)[i]);
}
static inline void mb_zero(struct mb *m, size_t n)
{
	while (n--)
		mb_u8(m, 0);
}
/* Patch a 16-bit value at off. */
static inline void mb_put16(struct mb *m, size_t off, uint16_t v)
{
	m->b[off] = v >> 8;
	m->b[off + 1] = (uint8_t)v;
}

/* ---- record log ---- */

#define LOG_FIELDS 64
#define LOG_BYTES 64

struct log_field {
	uint32_t pen;
	uint16_t id;
	uint32_t len;
	uint8_t b[LOG_BYTES];
};

struct log_rec {
	struct weir_msg msg;		/* copy; its pointers are not used */
	uint16_t tid;
	uint8_t proto;
	uint8_t is_options;
	uint16_t nfields, scope_count;
	uint32_t sampling_rate;
	int flow_err;
	struct flow flow;
	struct log_field f[LOG_FIELDS];
};

struct rec_log {
	size_t n, cap;
	size_t data, options;
	int stop_after;			/* > 0: ask to stop after this many */
	struct log_rec *r;
};

static inline void log_init(struct rec_log *l, size_t cap)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap;
	l->r = calloc(cap, sizeof(*l->r));
	cr_assert_not_null(l->r);
}

static inline void log_free(struct rec_log *l)
{
	free(l->r);
	l->r = NULL;
}

static inline int log_fn(const struct weir_record *rec, void *user)
{
	struct rec_log *l = user;
	struct log_rec *c;

	if (rec->is_options)
		l->options++;
	else
		l->data++;
	if (l->n < l->cap) {
		c = &l->r[l->n];
		c->msg = *rec->msg;
		c->tid = rec->t->id;
		c->proto = rec->t->proto;
		c->is_options = rec->is_options;
		c->nfields = rec->t->nfields;
		c->scope_count = rec->t->scope_count;
		c->sampling_rate = rec->sampling_rate;
		c->flow_err = flow_from_record(rec, &c->flow);
		for (uint16_t i = 0; i < rec->t->nfields && i < LOG_FIELDS; i++) {
			c->f[i].pen = rec->t->f[i].pen;
			c->f[i].id = rec->t->f[i].id;
			c->f[i].len = rec->v[i].len;
			/* Every value must lie inside readable memory. */
			if (rec->v[i].len)
				memcpy(c->f[i].b, rec->v[i].p,
				       rec->v[i].len < LOG_BYTES ? rec->v[i].len : LOG_BYTES);
		}
	}
	l->n++;
	return l->stop_after > 0 && l->n >= (size_t)l->stop_after;
}

/* Field (pen, id) of a logged record, or NULL. */
static inline const struct log_field *log_get(const struct log_rec *c, uint32_t pen, uint16_t id)
{
	for (uint16_t i = 0; i < c->nfields && i < LOG_FIELDS; i++)
		if (c->f[i].pen == pen && c->f[i].id == id)
			return &c->f[i];
	return NULL;
}

/* Unsigned value of field (pen, id); fails the test when it is absent. */
static inline uint64_t log_u(const struct log_rec *c, uint32_t pen, uint16_t id)
{
	const struct log_field *f = log_get(c, pen, id);

	cr_assert_not_null(f, "field %u/%u absent", pen, id);
	cr_assert_leq(f->len, 8);
	return be_uint(f->b, f->len);
}

/* IPv4 field as a.b.c.d packed host-order. */
static inline uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

#endif
