/* colenr.h - what the end-to-end --enrich tests (test_col_enrich*.c) share:
 * files written whole, the MaxMind test databases, the collector's output
 * read back (a JSON line's members, RFC 4180 CSV rows), prefixes matched by
 * brute force, and the CSV table of tests 1 and 2 with its longest-prefix
 * match. */
#ifndef WEIR_TESTS_COLENR_H
#define WEIR_TESTS_COLENR_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "colhelp.h"

/* The start of an --enrich argument, the source's path to fill in. */
#define SPEC "type=prefix_lookup,source=%s,key="

static inline int contains(const char *path, const char *needle)
{
	char *s = slurp(path, NULL);
	int r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

/* Write path whole by renaming a new file over it (a new inode), as a
 * table would be replaced in production. */
static inline void put_file(const char *path, const char *text, size_t len)
{
	char tmp[256];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fp = fopen(tmp, "wb");
	cr_assert_not_null(fp, "%s", tmp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(rename(tmp, path), 0, "rename: %s", strerror(errno));
}

static inline void put_str(const char *path, const char *text)
{
	put_file(path, text, strlen(text));
}

static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s && *s ? s : "../shared";
}

static const char *mmdb_path(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/testdata/mmdb/%s", shared_dir(), name);
	return p[k];
}

static const char *asn_mmdb(void)
{
	const char *p = mmdb_path("GeoLite2-ASN-Test.mmdb");

	if (access(p, R_OK) != 0)
		SKIP("%s is absent (set WEIR_SHARED to the shared folder)", p);
	return p;
}

/* ---- JSON lines: a flat object's members, values as raw JSON text ---- */

struct jm {
	const char *name, *val;
	size_t nlen, vlen;
	char type;		/* s string, n number, o other */
};

#define JM_MAX 80

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *skip_str(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < end ? p + 1 : NULL;
}

static const char *skip_val(const char *p, const char *end)
{
	int depth = 0;

	if (p < end && *p == '"')
		return skip_str(p, end);
	while (p < end) {
		if (*p == '"') {
			p = skip_str(p, end);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']' || *p == ',') {
			if (!depth)
				return p;
			if (*p != ',')
				depth--;
		}
		p++;
	}
	return depth ? NULL : p;
}

/* The members of the object on [s, end), or -1 when it is not one. */
static inline int json_members(const char *s, const char *end, struct jm *m, int max)
{
	const char *p = skip_ws(s, end);
	int n = 0;

	if (p >= end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		const char *q;

		if (n == max || p >= end || *p != '"')
			return -1;
		q = skip_str(p, end);
		if (!q)
			return -1;
		m[n].name = p + 1;
		m[n].nlen = (size_t)(q - p - 2);
		p = skip_ws(q, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		q = skip_val(p, end);
		if (!q || q == p)
			return -1;
		m[n].val = p;
		m[n].vlen = (size_t)(q - p);
		m[n].type = *p == '"' ? 's' : (*p == '-' || (*p >= '0' && *p <= '9')) ? 'n' : 'o';
		n++;
		p = skip_ws(q, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? n : -1;
		return -1;
	}
}

static const struct jm *member(const struct jm *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (m[i].nlen == strlen(name) && !memcmp(m[i].name, name, m[i].nlen))
			return &m[i];
	return NULL;
}

static inline int count_named(const struct jm *m, int n, const char *name)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += m[i].nlen == strlen(name) && !memcmp(m[i].name, name, m[i].nlen);
	return k;
}

static inline int val_is(const struct jm *m, const char *raw)
{
	return m && m->vlen == strlen(raw) && !memcmp(m->val, raw, m->vlen);
}

static inline int name_is(const struct jm *m, const char *name)
{
	return m->nlen == strlen(name) && !memcmp(m->name, name, m->nlen);
}

/* A string member without escapes (an address), into out. */
static inline void str_of(const struct jm *m, char *out, size_t cap)
{
	cr_assert_not_null(m);
	cr_assert_eq(m->type, 's');
	cr_assert_lt(m->vlen - 2, cap);
	memcpy(out, m->val + 1, m->vlen - 2);
	out[m->vlen - 2] = 0;
}

static inline long long num_of(const struct jm *m)
{
	cr_assert_not_null(m);
	cr_assert_eq(m->type, 'n', "%.*s is not a number", (int)m->vlen, m->val);
	return strtoll(m->val, NULL, 10);
}

/* Each line of a JSON lines file, its members parsed. */
typedef void (*line_fn)(const struct jm *m, int n, size_t lineno, void *arg);

static inline size_t each_json_line(const char *path, line_fn fn, void *arg)
{
	static struct jm m[JM_MAX];
	size_t len, lines = 0;
	char *buf = slurp(path, &len), *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		int n;

		cr_assert_not_null(nl, "line %zu has no end", lines + 1);
		n = json_members(p, nl, m, JM_MAX);
		cr_assert_geq(n, 0, "line %zu is not a JSON object: %.*s", lines + 1, (int)(nl - p), p);
		fn(m, n, lines, arg);
		lines++;
		p = nl + 1;
	}
	free(buf);
	return lines;
}

/* ---- CSV rows (RFC 4180: quoted cells with commas, quotes, newlines) ---- */

#define CELLS_MAX 64
#define CELL_MAX 600

struct row {
	int n;
	char cell[CELLS_MAX][CELL_MAX];
};

/* The row at *pp (unquoted cells), advancing *pp past its line break.
 * 0, or -1 at the end or on a malformed row. */
static inline int csv_row(const char **pp, const char *end, struct row *r)
{
	const char *p = *pp;
	size_t k = 0;
	int quoted = 0, closed = 0;

	if (p >= end)
		return -1;
	r->n = 0;
	while (p < end) {
		char c = *p++;

		if (r->n == CELLS_MAX || k + 1 >= CELL_MAX)
			return -1;
		if (quoted) {
			if (c != '"') {
				r->cell[r->n][k++] = c;
			} else if (p < end && *p == '"') {
				r->cell[r->n][k++] = '"';
				p++;
			} else {
				quoted = 0;
				closed = 1;
			}
			continue;
		}
		if (c == ',' || c == '\n') {
			r->cell[r->n][k] = 0;
			r->n++;
			k = 0;
			closed = 0;
			if (c == '\n') {
				*pp = p;
				return 0;
			}
			continue;
		}
		if (closed)
			return -1;		/* text after a closing quote */
		if (c == '"' && !k) {
			quoted = 1;
			continue;
		}
		r->cell[r->n][k++] = c;
	}
	return -1;		/* no line break at the end */
}

static inline int col_index(const struct row *h, const char *name)
{
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->cell[i], name))
			return i;
	return -1;
}

/* ---- prefixes, matched by brute force ---- */

struct pfx {
	int v6;
	uint8_t a[16];
	unsigned len;
};

static inline int parse_addr(const char *s, struct pfx *p)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, s, p->a) == 1) {
		p->len = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, p->a) == 1) {
		p->v6 = 1;
		p->len = 128;
		return 0;
	}
	return -1;
}

static inline void parse_pfx(const char *s, struct pfx *p)
{
	char t[64];
	const char *slash = strchr(s, '/');

	snprintf(t, sizeof(t), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	cr_assert_eq(parse_addr(t, p), 0, "%s", s);
	if (slash)
		p->len = (unsigned)atoi(slash + 1);
}

static inline int covers(const struct pfx *p, const struct pfx *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->v6 != a->v6 || memcmp(p->a, a->a, full))
		return 0;
	return !rest || ((p->a[full] ^ a->a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* The largest argument vector the tests give weir-collector. */
#define ARGS_MAX 48

/* ---- the CSV table of tests 1 and 2 ---- */

/* Overlapping prefixes: a quoted org with a comma and doubled quotes, the
 * same prefix twice (the later wins), a host route, bits past the length
 * (192.168.3.77/24 is 192.168.3.0/24), an IPv4-mapped prefix (the IPv4 one
 * it maps), ::/0 (which covers no IPv4 address), cells that are JSON
 * numbers (-7, 1.5e3) and one that is not (0123), an empty cell, a tab,
 * a backslash, UTF-8 and a line break inside quoted cells. The column
 * "note" is not used. */
static const char asn_csv[] =
	"prefix,asn,org,note\n"
	"192.168.0.0/22,64500,\"Wide, \"\"Quoted\"\" Net\",a\n"
	"192.168.1.0/24,64501,Small,b\n"
	"192.168.1.0/24,64502,Later wins,c\n"
	"192.168.1.128/25,64503,\"tab\there\",d\n"
	"192.168.1.200,64504,host,e\n"
	"192.168.3.77/24,0123,\"back\\slash \xc3\xa9\",f\n"
	"::ffff:10.20.0.0/113,-7,mapped,g\n"
	"10.20.128.0/17,1.5e3,,h\n"
	"::/0,1,v6-default,i\n"
	"2001:db8:8000::/33,65000,\"Doc, upper half\",j\n"
	"2001:db8:c000::/34,65001,\"line\nbreak\",k\n";

#define ASN_ARGS "--src-cidr 10.0.0.0/8,fd00::/16 " \
		 "--dst-cidr 192.168.0.0/22,10.20.0.0/16,172.16.0.0/16,2001:db8::/32"

/* Each row as the collector should read it: its effective prefix, and
 * the written forms of its cells (NULL: absent). */
static const struct {
	const char *pfx;
	const char *asn_json, *org_json;	/* JSON values */
	const char *asn_cell, *org_cell;	/* CSV cells, unquoted */
} asn_rows[] = {
	{ "192.168.0.0/22", "64500", "\"Wide, \\\"Quoted\\\" Net\"", "64500", "Wide, \"Quoted\" Net" },
	{ "192.168.1.0/24", "64501", "\"Small\"", "64501", "Small" },
	{ "192.168.1.0/24", "64502", "\"Later wins\"", "64502", "Later wins" },
	{ "192.168.1.128/25", "64503", "\"tab\\there\"", "64503", "tab\there" },
	{ "192.168.1.200/32", "64504", "\"host\"", "64504", "host" },
	{ "192.168.3.0/24", "\"0123\"", "\"back\\\\slash \xc3\xa9\"", "0123", "back\\slash \xc3\xa9" },
	{ "10.20.0.0/17", "-7", "\"mapped\"", "-7", "mapped" },
	{ "10.20.128.0/17", "1.5e3", NULL, "1.5e3", "" },
	{ "::/0", "1", "\"v6-default\"", "1", "v6-default" },
	{ "2001:db8:8000::/33", "65000", "\"Doc, upper half\"", "65000", "Doc, upper half" },
	{ "2001:db8:c000::/34", "65001", "\"line\\nbreak\"", "65001", "line\nbreak" },
};

#define NROWS ((int)(sizeof(asn_rows) / sizeof(asn_rows[0])))

/* The row a longest-prefix match gives addr (the later of equal
 * prefixes), or -1. */
static inline int asn_match(const char *addr)
{
	struct pfx a;
	int best = -1;
	unsigned blen = 0;

	cr_assert_eq(parse_addr(addr, &a), 0, "address '%s'", addr);
	for (int i = 0; i < NROWS; i++) {
		struct pfx p;

		parse_pfx(asn_rows[i].pfx, &p);
		if (covers(&p, &a) && (best < 0 || p.len >= blen)) {
			best = i;
			blen = p.len;
		}
	}
	return best;
}

#endif
