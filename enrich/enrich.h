/* enrich.h - prefix enrichment: the --enrich syntax, and tables loaded from
 * a CSV or MaxMind DB file that label an address with output fields.
 *
 *   type=prefix_lookup,source=asn.csv,key=dst_addr,fields=asn:dst_asn;org:dst_org,reload=30s
 *
 * A spec is parsed once at start. A table is one loaded generation of the
 * spec's source: immutable once loaded, so worker threads look up in it
 * without locks while another thread loads its successor; the collector
 * swaps the pointer and frees the old table when no worker can still hold
 * it (docs/enrichment.md).
 *
 * Output: a hit appends the spec's fields to the record, as JSON members
 * (,"dst_asn":15169,"dst_org":"Google LLC") or as CSV cells (,15169,Google
 * LLC). A value keeps its type in JSON: numbers stay numbers, strings are
 * escaped (RFC 8259), booleans stay booleans; for a CSV source, a cell that
 * is a JSON number (e.g. 15169, -3, 1.5e3) is written as a number, anything
 * else as a string. A field the hit does not carry (an MMDB record without
 * that path, an empty CSV cell) is left out of JSON and is an empty CSV
 * cell; a miss writes no JSON member and nfields empty CSV cells.
 */
#ifndef WEIR_ENRICH_H
#define WEIR_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

enum enrich_key {
	ENRICH_KEY_SRC_ADDR = 0,
	ENRICH_KEY_DST_ADDR,
	ENRICH_KEY_NEXT_HOP,
	ENRICH_KEY_SAMPLER_ADDRESS,
};

enum enrich_kind {
	ENRICH_CSV = 0,		/* source ends in .csv */
	ENRICH_MMDB,		/* source ends in .mmdb */
};

#define ENRICH_MAX_FIELDS	32
#define ENRICH_NAME_MAX		128	/* longest source or output field name */

struct enrich_field {
	char *src;		/* CSV column name, or MMDB dotted path */
	char *out;		/* output field name (JSON member, CSV column) */
};

struct enrich_spec {
	char *text;		/* the --enrich argument as given */
	enum enrich_key key;
	enum enrich_kind kind;
	char *source;		/* file path */
	unsigned nfields;
	struct enrich_field f[ENRICH_MAX_FIELDS];
	uint64_t reload_ns;	/* 0: no periodic reload */
};

/* Parse one --enrich argument into s. WEIR_OK, or WEIR_E_INVALID with a
 * sentence in err naming the problem (unknown option, bad key, empty
 * fields, bad interval, a source that is neither .csv nor .mmdb, ...).
 * Does not open the file. Free with enrich_spec_free() either way. */
int enrich_spec_parse(const char *text, struct enrich_spec *s, char *err, size_t errlen);
void enrich_spec_free(struct enrich_spec *s);
/* "src_addr", ...: the flow field the key names. */
const char *enrich_key_name(enum enrich_key k);

struct enrich_table;

/* Load the spec's source: read and check the whole file, build the lookup
 * structure. NULL with a sentence in err naming the file and the problem
 * (missing, unreadable, a CSV without a prefix column or without a named
 * column, a bad prefix on line N, a row with the wrong number of cells, an
 * MMDB that libmaxminddb refuses or whose search tree or data section is
 * broken, a path that names nothing in the database's metadata is allowed
 * (it is simply absent from records)). A failed load frees everything. */
struct enrich_table *enrich_table_load(const struct enrich_spec *s, char *err, size_t errlen);
void enrich_table_free(struct enrich_table *t);

struct enrich_table_stats {
	uint64_t entries;	/* CSV: prefixes; MMDB: the metadata's node count */
	uint64_t bytes;		/* memory (CSV) or file size (MMDB) */
};
void enrich_table_stats(const struct enrich_table *t, struct enrich_table_stats *st);

/* Look a up and append the fields as JSON members, each with its leading
 * comma, at out (cap bytes). Returns the length written (0 on a miss, or
 * on a hit that carries none of the fields); *hit says whether a prefix
 * covered a. When the fields do not fit in cap, writes nothing, sets *hit
 * and returns SIZE_MAX. Thread-safe; never allocates. */
size_t enrich_json(const struct enrich_table *t, const struct weir_addr *a,
		   char *out, size_t cap, int *hit);
/* The same as CSV cells, each with its leading comma (RFC 4180 quoting):
 * always nfields cells, empty on a miss. */
size_t enrich_csv(const struct enrich_table *t, const struct weir_addr *a,
		  char *out, size_t cap, int *hit);

/* The same for many addresses, in two steps: enrich_find_many() looks up
 * n addresses together (their cache misses overlap) and brings each hit's
 * JSON members (csv: CSV cells) into the cache; they are written later by
 * enrich_json_row() / enrich_csv_row(), or without a call through struct
 * enrich_rows (same results as enrich_json and enrich_csv). row[i]: the
 * hit's row, ENRICH_ROW_NONE for a miss (or a[i] NULL: no lookup),
 * ENRICH_ROW_DIRECT when the table answers that address only through
 * enrich_json/enrich_csv (IPv6 in a MaxMind DB), whose hit or miss shows
 * only then. */
#define ENRICH_ROW_NONE		UINT32_MAX
#define ENRICH_ROW_DIRECT	(UINT32_MAX - 1)
void enrich_find_many(const struct enrich_table *t, int csv, const struct weir_addr *const *a,
		      uint32_t *row, unsigned n);
size_t enrich_json_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap);
size_t enrich_csv_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap);

/* A table's rows of one form (JSON members, or csv: CSV cells) laid out
 * for copying without a call: row r at base + r * stride as [u16
 * length][text]. enrich_table_rows() fills r and returns 1, or 0 when the
 * table keeps its rows otherwise (use enrich_json_row). */
struct enrich_rows {
	const char *base;
	size_t stride;
};
int enrich_table_rows(const struct enrich_table *t, int csv, struct enrich_rows *r);

/* n bytes from src to out, inline: pieces of 16, 8, 4 bytes, the last one
 * overlapping the one before, so that nothing is read or written past n
 * (a row's next line may be another row's, not in the cache). */
static inline void enrich_copy(char *out, const char *src, size_t n)
{
	if (n >= 16) {
		for (size_t i = 0; i + 16 < n; i += 16)
			__builtin_memcpy(out + i, src + i, 16);
		__builtin_memcpy(out + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		__builtin_memcpy(out, src, 8);
		__builtin_memcpy(out + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		__builtin_memcpy(out, src, 4);
		__builtin_memcpy(out + n - 4, src + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			out[i] = src[i];
	}
}

/* Row r's text at out: the length, or SIZE_MAX when it does not fit in
 * cap. */
static inline size_t enrich_row_text(const struct enrich_rows *r, uint32_t row, char *out, size_t cap)
{
	const char *p = r->base + (size_t)row * r->stride;
	uint16_t n;

	__builtin_memcpy(&n, p, 2);
	if (n > cap)
		return SIZE_MAX;
	enrich_copy(out, p + 2, n);
	return n;
}

/* The same where out has room for the longest row (ENRICH_OUT_MAX(nfields)):
 * no check. */
static inline size_t enrich_row_fast(const struct enrich_rows *r, uint32_t row, char *out)
{
	const char *p = r->base + (size_t)row * r->stride;
	uint16_t n;

	__builtin_memcpy(&n, p, 2);
	enrich_copy(out, p + 2, n);
	return n;
}

/* Longest text enrich_json/enrich_csv may write for one spec: the collector
 * sizes its line buffer by it. ENRICH_VALUE_MAX bounds a value's written
 * form (escaped or quoted): a longer value is left out (JSON) or an empty
 * cell (CSV), decided at load for CSV sources. */
#define ENRICH_VALUE_MAX	512
#define ENRICH_OUT_MAX(nfields)	((size_t)(nfields) * (ENRICH_NAME_MAX * 6 + ENRICH_VALUE_MAX + 8))

/* Additions to the fixed API above (issue 5). */

/* 1 when name is a member or column the common flow record writes itself
 * (common/flow_json.c, flow_csv.c): enrich_spec_parse() refuses such an
 * output name, since the record would carry it twice. */
int enrich_name_reserved(const char *name);
/* WEIR_OK, or WEIR_E_INVALID with a sentence in err naming an output name
 * both specs write (two --enrich options must not write one member). */
int enrich_spec_clash(const struct enrich_spec *a, const struct enrich_spec *b,
		      char *err, size_t errlen);
/* The spec's output names as CSV header cells, each with its leading comma
 * (",dst_asn,dst_org"): the length, or SIZE_MAX when cap is too small. */
size_t enrich_csv_header(const struct enrich_spec *s, char *out, size_t cap);

/* A CSV source with more data rows than this is refused at load: it bounds
 * the memory one table (and its successor, during a reload) can take. */
#define ENRICH_CSV_MAX_ROWS	20000000u
/* A CSV cell longer than this is refused at load (the parser buffers a
 * cell whole; values past ENRICH_VALUE_MAX are dropped anyway). */
#define ENRICH_CSV_CELL_MAX	65536u

#endif
