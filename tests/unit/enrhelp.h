/* enrhelp.h - what the enrichment source tests share: a table loaded from
 * a spec, an address from text, and a table's JSON members and CSV cells for
 * an address as strings, with assertions on them. */
#ifndef ENRHELP_H
#define ENRHELP_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "enrich.h"
#include "err.h"

/* Parse the spec of a prefix_lookup over path, keyed by key, for fields and
 * load it: the table, or NULL with the message in err. */
static inline struct enrich_table *enr_load(const char *key, const char *path, const char *fields,
					    struct enrich_spec *s, char *err, size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof(text), "type=prefix_lookup,source=%s,key=%s,fields=%s", path, key,
		 fields);
	cr_assert_eq(enrich_spec_parse(text, s, err, errlen), WEIR_OK, "%s: %s", text, err);
	return enrich_table_load(s, err, errlen);
}

/* The same, failing the test when the table does not load. */
static inline struct enrich_table *enr_must_load(const char *key, const char *path,
						 const char *fields, struct enrich_spec *s)
{
	char err[512];
	struct enrich_table *t = enr_load(key, path, fields, s, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	return t;
}

static inline struct weir_addr addr(const char *s)
{
	struct weir_addr a;

	cr_assert_eq(weir_addr_parse(&a, s), 0, "%s", s);
	return a;
}

static char outbuf[ENRICH_OUT_MAX(ENRICH_MAX_FIELDS) + 1];

/* JSON members for a, as a string; *hit as enrich_json says. */
static inline const char *json(const struct enrich_table *t, const char *a, int *hit)
{
	struct weir_addr x = addr(a);
	size_t n = enrich_json(t, &x, outbuf, sizeof(outbuf) - 1, hit);

	cr_assert_neq(n, SIZE_MAX);
	outbuf[n] = '\0';
	return outbuf;
}

/* CSV cells for a, as a string; *hit as enrich_csv says. */
static inline const char *csv(const struct enrich_table *t, const char *a, int *hit)
{
	struct weir_addr x = addr(a);
	size_t n = enrich_csv(t, &x, outbuf, sizeof(outbuf) - 1, hit);

	cr_assert_neq(n, SIZE_MAX);
	outbuf[n] = '\0';
	return outbuf;
}

#define JSON_IS(t, a, want) do { int h_; \
	cr_assert_str_eq(json(t, a, &h_), want, "%s", a); cr_assert(h_, "%s", a); } while (0)
#define CSV_IS(t, a, want) do { int h_; \
	cr_assert_str_eq(csv(t, a, &h_), want, "%s", a); cr_assert(h_, "%s", a); } while (0)
#define MISS(t, a, cells) do { int h_; \
	cr_assert_str_eq(json(t, a, &h_), "", "%s", a); cr_assert_not(h_, "%s", a); \
	cr_assert_str_eq(csv(t, a, &h_), cells, "%s", a); cr_assert_not(h_, "%s", a); } while (0)

#endif
