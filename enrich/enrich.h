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

/* The same in two steps, for a caller with other work to do meanwhile:
 * enrich_find() looks a up and starts bringing the row's text into the
 * cache; enrich_json_row()/enrich_csv_row() write it later (same results
 * as enrich_json/enrich_csv). Hides a cache miss per lookup behind the
 * caller's work. ENRICH_ROW_NONE: a miss; ENRICH_ROW_DIRECT: this source
 * has no rows (MMDB): call enrich_json/enrich_csv instead. */
#define ENRICH_ROW_NONE		UINT32_MAX
#define ENRICH_ROW_DIRECT	(UINT32_MAX - 1)
uint32_t enrich_find(const struct enrich_table *t, const struct weir_addr *a);
/* Earlier still: start loading what enrich_find(t, a) will read (CSV
 * sources; nothing for MMDB). */
void enrich_prefetch(const struct enrich_table *t, const struct weir_addr *a);
size_t enrich_json_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap);
size_t enrich_csv_row(const struct enrich_table *t, uint32_t row, char *out, size_t cap);

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
