/* internal.h - what the files of enrich/ share and nobody else sees: the
 * table's two shapes, and the value writers both sources render with.
 */
#ifndef WEIR_ENRICH_INTERNAL_H
#define WEIR_ENRICH_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "enrich.h"
#include "hash.h"
#include "wr.h"

struct csvsrc;
struct mmdbsrc;

/* texts.c: a source's output texts, one per distinct hit: its JSON members
 * then its CSV cells, each with their leading commas. Built with
 * enr_texts_intern() (the same text twice is stored once), then frozen. */
struct enr_text {
	size_t off;		/* in the arena */
	uint32_t jlen, clen;
};

struct enr_packed {
	char *base;		/* struct enrich_rows, or NULL */
	size_t stride, len;
};

struct enr_texts {
	struct dbuf arena;	/* the texts' bytes (buf.h) */
	struct enr_text *txt;
	uint32_t ntxt;
	size_t txt_cap;
	struct oah dedupe;	/* while building: text hash -> index (hash.h) */
	struct enr_packed pk[2];	/* after freezing, maybe: JSON [0] and CSV [1] rows */
};

/* The index of the text t[0..jlen+clen), shared with an earlier one that
 * is the same; UINT32_MAX when out of memory. */
uint32_t enr_texts_intern(struct enr_texts *x, const char *t, size_t jlen, size_t clen);
/* Done adding: drop the dedupe slots, lay each form's rows out at a
 * stride (then the arena goes), or trim. */
void enr_texts_freeze(struct enr_texts *x);
void enr_texts_free(struct enr_texts *x);
size_t enr_texts_bytes(const struct enr_texts *x);
/* enrich_table_rows() of these texts. */
int enr_texts_rows(const struct enr_texts *x, int csv, struct enrich_rows *r);
/* Bring the texts v[0..n) into the cache (values that are no text's
 * index are passed over). */
void enr_texts_load_many(const struct enr_texts *x, int csv, const uint32_t *v, unsigned n);
/* Text v's JSON members or CSV cells at out: the length, or SIZE_MAX when
 * it does not fit in cap. */
size_t enr_texts_text(const struct enr_texts *x, int csv, uint32_t v, char *out, size_t cap);

struct enrich_table {
	enum enrich_kind kind;
	unsigned nfields;
	struct csvsrc *csv;		/* kind == ENRICH_CSV */
	struct mmdbsrc *mmdb;		/* kind == ENRICH_MMDB */
};

/* csvsrc.c */
struct csvsrc *csvsrc_load(const struct enrich_spec *s, char *err, size_t errlen);
void csvsrc_free(struct csvsrc *c);
void csvsrc_stats(const struct csvsrc *c, struct enrich_table_stats *st);
size_t csvsrc_json(const struct csvsrc *c, const struct weir_addr *a,
		   char *out, size_t cap, int *hit);
size_t csvsrc_csv(const struct csvsrc *c, const struct weir_addr *a,
		  char *out, size_t cap, int *hit);

/* enrich_find_many() of a CSV source; its rows' texts. */
void csvsrc_find_many(const struct csvsrc *c, int csv, const struct weir_addr *const *a,
		      uint32_t *row, unsigned n);
const struct enr_texts *csvsrc_texts(const struct csvsrc *c);

/* mmdbsrc.c */
struct mmdbsrc *mmdbsrc_load(const struct enrich_spec *s, char *err, size_t errlen);
void mmdbsrc_free(struct mmdbsrc *m);
void mmdbsrc_stats(const struct mmdbsrc *m, struct enrich_table_stats *st);
size_t mmdbsrc_json(const struct mmdbsrc *m, const struct weir_addr *a,
		    char *out, size_t cap, int *hit);
size_t mmdbsrc_csv(const struct mmdbsrc *m, const struct weir_addr *a,
		   char *out, size_t cap, int *hit);
/* enrich_find_many() of a MaxMind DB: IPv4 by its own table, IPv6 as
 * ENRICH_ROW_DIRECT; its rows' texts (IPv4), or NULL when it has none. */
void mmdbsrc_find_many(const struct mmdbsrc *m, int csv, const struct weir_addr *const *a,
		       uint32_t *row, unsigned n);
const struct enr_texts *mmdbsrc_texts(const struct mmdbsrc *m);

/* render.c: value writers on the bounded writer of wr.h (a value that does
 * not fit sets w->err and the caller drops it whole). */

/* s as one CSV cell (RFC 4180 section 2): quoted when it holds a comma, a
 * quote, CR or LF, quotes doubled; each maximal ill-formed UTF-8 subpart
 * as U+FFFD (JSON strings: wr_json_str of txt.h, which does the same). */
void enr_csv_cell(struct wr *w, const char *s, size_t n);
/* 1 when s[0..n) is a number by the JSON grammar (RFC 8259 section 6). */
int enr_is_json_number(const char *s, size_t n);
/* Shortest text that reads back as v (at most 24 bytes, no NUL); 0 for
 * NaN and infinities, which JSON cannot carry. */
size_t enr_fmt_double(char *buf, double v);
size_t enr_fmt_float(char *buf, float v);

/* "file: message" into err (never NULL-checked by callers: err may be NULL
 * or errlen 0, then nothing is written). */
void enr_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A source file opened for reading: its descriptor (the caller closes
 * it), or -1 with "file: why" in err when it cannot be opened or is not a
 * regular file. */
int enr_open_file(const char *path, char *err, size_t errlen);

#endif
