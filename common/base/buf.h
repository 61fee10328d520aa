/* buf.h - the one bounded growable buffer of libweir (after curl's dynbuf).
 *
 * A buffer doubles as it fills, from a small first size, and never grows
 * past the maximum it was given: an append that would go past it fails
 * with WEIR_E_LIMIT, is counted in refused, and leaves the buffer as it
 * was (curl frees it instead; a caller here decides). dbuf_grow does the
 * same for a typed array the caller keeps in its own fields (count and
 * capacity in items), so every doubling in the tree is this one.
 *
 * Not thread-safe. Pointers into the buffer are valid until the next call
 * that may grow it.
 */
#ifndef WEIR_BUF_H
#define WEIR_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct dbuf {
	char *p;		/* NULL until the first append */
	size_t len, cap;
	size_t max;		/* bound on cap */
	uint64_t refused;	/* appends the bound refused */
};

/* An empty buffer that will hold at most max bytes (no allocation yet). */
void dbuf_init(struct dbuf *b, size_t max);
/* Free the bytes; the buffer is empty (same bound) after. */
void dbuf_free(struct dbuf *b);

/* Room for n more bytes: WEIR_OK, WEIR_E_LIMIT (counted in refused) or
 * WEIR_E_NOMEM; the buffer is unchanged on failure. */
int dbuf_reserve(struct dbuf *b, size_t n);
/* Append n bytes of p (p may be NULL when n is 0); errors as dbuf_reserve. */
int dbuf_add(struct dbuf *b, const void *p, size_t n);
/* Append printf text (no NUL counted in len, one kept after it). Errors
 * as dbuf_reserve, and WEIR_E_INVALID for a bad format. */
int dbuf_printf(struct dbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int dbuf_vprintf(struct dbuf *b, const char *fmt, va_list ap);
/* Give back the slack past len (done filling; a failed shrink is kept). */
void dbuf_trim(struct dbuf *b);

/* Make room for need items of size bytes in the array at *(void **)arrp
 * whose capacity is *cap items: doubling from a small first size, never
 * past max items. WEIR_OK, WEIR_E_LIMIT or WEIR_E_NOMEM; array and cap
 * unchanged on failure. */
int dbuf_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t max);

#endif
