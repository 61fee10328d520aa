/* rjhelp.h - what the raw JSON writer tests (test_rec_json*.c) share: a
 * strict RFC 8259 validator of one line, the output buffer with the cap
 * sweep (every cap below a line's length must refuse it cleanly), and a log
 * of the lines a decoder's records give. */
#ifndef WEIR_TEST_RJHELP_H
#define WEIR_TEST_RJHELP_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "rec_json.h"

/* ---- a strict RFC 8259 validator ------------------------------------- */

struct jp {
	const unsigned char *s;
	size_t n, i;
	int depth;
	const char *why;
};

static inline int jv_value(struct jp *p);

static inline void jv_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static inline int jv_fail(struct jp *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return 0;
}

static inline int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One UTF-8 character by decoding it: code point, shortest form, no
 * surrogates, at most U+10FFFF. */
static inline int jv_utf8(struct jp *p)
{
	unsigned c = p->s[p->i], cp, k, need;

	if (c < 0x80) {
		p->i++;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		need = 1;
		cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		need = 2;
		cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		need = 3;
		cp = c & 0x07;
	} else {
		return jv_fail(p, "bad UTF-8 lead byte");
	}
	for (k = 1; k <= need; k++) {
		if (p->i + k >= p->n || (p->s[p->i + k] & 0xC0) != 0x80)
			return jv_fail(p, "bad UTF-8 continuation");
		cp = cp << 6 | (p->s[p->i + k] & 0x3F);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
		return jv_fail(p, "overlong UTF-8");
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return jv_fail(p, "UTF-8 surrogate or past U+10FFFF");
	p->i += need + 1;
	return 1;
}

static inline int jv_string(struct jp *p)
{
	p->i++;		/* '"' */
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];

		if (c == '"') {
			p->i++;
			return 1;
		}
		if (c < 0x20)
			return jv_fail(p, "raw control character in string");
		if (c == '\\') {
			if (p->i + 1 >= p->n)
				return jv_fail(p, "escape at end");
			c = p->s[p->i + 1];
			if (c == 'u') {
				if (p->i + 6 > p->n)
					return jv_fail(p, "short \\u");
				for (int k = 2; k < 6; k++)
					if (hexval(p->s[p->i + k]) < 0)
						return jv_fail(p, "bad \\u digit");
				p->i += 6;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				p->i += 2;
			} else {
				return jv_fail(p, "bad escape");
			}
			continue;
		}
		if (!jv_utf8(p))
			return 0;
	}
	return jv_fail(p, "unterminated string");
}

static inline int isdig(struct jp *p)
{
	return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static inline int jv_number(struct jp *p)
{
	if (p->s[p->i] == '-')
		p->i++;
	if (!isdig(p))
		return jv_fail(p, "number without digits");
	if (p->s[p->i] == '0') {
		p->i++;
		if (isdig(p))
			return jv_fail(p, "leading zero");
	} else {
		while (isdig(p))
			p->i++;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!isdig(p))
			return jv_fail(p, "fraction without digits");
		while (isdig(p))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!isdig(p))
			return jv_fail(p, "exponent without digits");
		while (isdig(p))
			p->i++;
	}
	return 1;
}

static inline int jv_lit(struct jp *p, const char *lit)
{
	size_t l = strlen(lit);

	if (p->n - p->i < l || memcmp(p->s + p->i, lit, l) != 0)
		return jv_fail(p, "bad literal");
	p->i += l;
	return 1;
}

#define JV_MAX_KEYS 4096

static inline int jv_object(struct jp *p)
{
	size_t ks[JV_MAX_KEYS], kl[JV_MAX_KEYS], nk = 0;

	p->i++;
	jv_ws(p);
	if (p->i < p->n && p->s[p->i] == '}') {
		p->i++;
		return 1;
	}
	for (;;) {
		size_t at;

		jv_ws(p);
		if (p->i >= p->n || p->s[p->i] != '"')
			return jv_fail(p, "object key is not a string");
		at = p->i;
		if (!jv_string(p))
			return 0;
		/* Keys must be unique (RFC 8259 section 4 says SHOULD; the
		 * writer promises it). */
		for (size_t k = 0; k < nk; k++)
			if (kl[k] == p->i - at && memcmp(p->s + ks[k], p->s + at, kl[k]) == 0)
				return jv_fail(p, "duplicate key");
		if (nk < JV_MAX_KEYS) {
			ks[nk] = at;
			kl[nk++] = p->i - at;
		}
		jv_ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return jv_fail(p, "missing ':'");
		p->i++;
		if (!jv_value(p))
			return 0;
		jv_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}') {
			p->i++;
			return 1;
		}
		return jv_fail(p, "missing ',' or '}'");
	}
}

static inline int jv_array(struct jp *p)
{
	p->i++;
	jv_ws(p);
	if (p->i < p->n && p->s[p->i] == ']') {
		p->i++;
		return 1;
	}
	for (;;) {
		if (!jv_value(p))
			return 0;
		jv_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == ']') {
			p->i++;
			return 1;
		}
		return jv_fail(p, "missing ',' or ']'");
	}
}

static inline int jv_value(struct jp *p)
{
	int ok;

	jv_ws(p);
	if (p->i >= p->n)
		return jv_fail(p, "value expected");
	if (++p->depth > 64)
		return jv_fail(p, "too deep");
	switch (p->s[p->i]) {
	case '{': ok = jv_object(p); break;
	case '[': ok = jv_array(p); break;
	case '"': ok = jv_string(p); break;
	case 't': ok = jv_lit(p, "true"); break;
	case 'f': ok = jv_lit(p, "false"); break;
	case 'n': ok = jv_lit(p, "null"); break;
	default: ok = jv_number(p); break;
	}
	p->depth--;
	return ok;
}

/* One JSON object, then exactly one newline, then nothing. */
static const char *json_line_check(const char *s, size_t n)
{
	struct jp p = { (const unsigned char *)s, n, 0, 0, NULL };

	if (n == 0 || s[0] != '{')
		return "not an object";
	if (!jv_value(&p))
		return p.why;
	if (p.i + 1 != n || s[p.i] != '\n')
		return "not exactly one newline after the object";
	return NULL;
}

#define EXPECT_JSON(s, n)							\
	do {									\
		const char *_why = json_line_check((s), (n));			\
		cr_expect_null(_why, "%s: %.*s", _why ? _why : "", (int)(n), (s)); \
	} while (0)

/* ---- output of one record, with the cap sweep ------------------------- */

static char out[REC_JSON_MAX];

/* Every cap below the length returns 0 and writes nothing past cap; the
 * exact cap gives the same line. */
static inline void cap_sweep(const struct weir_record *rec, const char *want, size_t len, size_t step)
{
	size_t gl = 32;
	char *b = malloc(len + gl);

	cr_assert_not_null(b);
	for (size_t cap = 0; cap < len; cap += (cap + step >= len || step == 1) ? 1 : step) {
		memset(b, 0xA5, len + gl);
		cr_assert_eq(rec_json(rec, b, cap), 0, "cap %zu of %zu", cap, len);
		for (size_t k = cap; k < cap + gl; k++)
			cr_assert_eq((unsigned char)b[k], 0xA5, "byte %zu written, cap %zu", k, cap);
	}
	memset(b, 0xA5, len + gl);
	cr_assert_eq(rec_json(rec, b, len), len);
	cr_assert_eq(memcmp(b, want, len), 0);
	cr_assert_eq((unsigned char)b[len], 0xA5);
	free(b);
}

static inline size_t emit(const struct weir_record *rec)
{
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	cr_assert_lt(n, sizeof(out));
	out[n] = '\0';
	EXPECT_JSON(out, n);
	return n;
}

#define HAS(s) cr_expect(strstr(out, (s)) != NULL, "missing %s in %s", (s), out)
#define HASNT(s) cr_expect(strstr(out, (s)) == NULL, "unexpected %s in %s", (s), out)

/* ---- lines of the records a decoder hands out ---------------------------- */

struct cap_log {
	size_t n;
	char *line[64];
	int sweep;
};

static inline int log_json(const struct weir_record *rec, void *user)
{
	struct cap_log *l = user;
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	out[n] = '\0';
	EXPECT_JSON(out, n);
	if (l->sweep)
		cap_sweep(rec, out, n, 1);
	if (l->n < 64)
		l->line[l->n] = strdup(out);
	l->n++;
	return 0;
}

static inline void cap_log_free(struct cap_log *l)
{
	for (size_t i = 0; i < l->n && i < 64; i++)
		free(l->line[i]);
}

#endif
