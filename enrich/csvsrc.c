/* csvsrc.c - a CSV file of prefixes as an enrichment source. See enrich.h
 * and docs/enrichment.md.
 *
 * libcsv does the RFC 4180 work (quoted cells, embedded commas, quotes and
 * line breaks). Each row's output, its JSON members and its CSV cells, is
 * written once here at load, and rows that write the same text share one
 * copy (many prefixes carry the same ASN and name); the prefix table
 * (lpm.h) maps an address to that copy, so a lookup is one lpm lookup and
 * one memcpy.
 */
#include <arpa/inet.h>
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "internal.h"
#include "lpm.h"
#include "txt.h"

#define HEADER_COLS_MAX	1024
#define READ_CHUNK	65536

struct csvsrc {
	struct lpm *lpm;
	unsigned nfields;
	struct enr_texts tx;	/* the rows' output, by the values in lpm */
	char miss[ENRICH_MAX_FIELDS];	/* nfields empty cells */
	uint64_t entries, bytes;
};

/* ---- loading -------------------------------------------------------------- */

struct ld {
	const struct enrich_spec *s;
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	int nomem;

	unsigned line;		/* physical line being fed (1-based) */
	unsigned rec_line;	/* line the current row starts on */
	unsigned ncells;	/* cells of the current row so far */

	int have_header;
	unsigned ncols;
	char **names;		/* header cells, ncols of them */
	int prefix_col;
	int col[ENRICH_MAX_FIELDS];	/* column of each field */
	uint8_t *want;		/* per column: 1 prefix, 2 a field's source */

	char *row;		/* the wanted cells of the current row */
	size_t row_len, row_cap;
	size_t *cell_off, *cell_len;	/* per column */

	struct lpm_builder *b;
	uint64_t rows;

	char *scratch;		/* one row's output */
	size_t json_max, csv_max;
	struct enr_texts tx;
};

static void lfail(struct ld *st, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "file: line N: sentence" (line 0: "file: sentence"); the first error
 * wins, later callbacks do nothing. */
static void lfail(struct ld *st, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (st->failed)
		return;
	st->failed = 1;
	if (!st->err || !st->errlen)
		return;
	if (line)
		n = snprintf(st->err, st->errlen, "%s: line %u: ", st->file, line);
	else
		n = snprintf(st->err, st->errlen, "%s: ", st->file);
	if (n < 0 || (size_t)n >= st->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static void oom(struct ld *st)
{
	st->nomem = 1;
	lfail(st, 0, "out of memory");
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A bare address is a host route (/32, /128). The bits of the address past
 * the length are ignored, as lpm_builder_add() does: 10.1.2.3/8 is 10/8
 * (docs/enrichment.md). IPv4 goes in IPv4-mapped, its length plus 96. */
static int parse_prefix(const char *s, size_t n, struct weir_addr *a, unsigned *len)
{
	const char *slash = memchr(s, '/', n);
	size_t an = slash ? (size_t)(slash - s) : n;
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t b[16];
	unsigned max, l = 0;
	int v4;

	if (an == 0 || an >= sizeof(buf) || memchr(s, '\0', n))
		return -1;
	memcpy(buf, s, an);
	buf[an] = '\0';
	if (inet_pton(AF_INET, buf, b) == 1) {
		weir_addr_v4(a, b);
		v4 = 1;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, b) == 1) {
		weir_addr_v6(a, b);
		v4 = 0;
		max = 128;
	} else {
		return -1;
	}
	if (!slash) {
		l = max;
	} else {
		size_t i = an + 1;

		if (i == n || n - i > 3)
			return -1;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			l = l * 10 + (unsigned)(s[i] - '0');
		}
		if (l > max)
			return -1;
	}
	*len = v4 ? 96 + l : l;
	return 0;
}

static void on_header(struct ld *st)
{
	const struct enrich_spec *s = st->s;
	char list[512];
	size_t ln = 0;
	unsigned c, i;

	st->ncols = st->ncells;
	st->prefix_col = -1;
	for (c = 0; c < st->ncols; c++) {
		if (strcmp(st->names[c], "prefix") != 0)
			continue;
		if (st->prefix_col >= 0) {
			lfail(st, st->rec_line, "column 'prefix' appears twice in the header");
			return;
		}
		st->prefix_col = (int)c;
	}
	for (c = 0; c < st->ncols && ln < sizeof(list) - 1; c++) {
		int n = snprintf(list + ln, sizeof(list) - ln, "%s'%s'", c ? ", " : "", st->names[c]);

		if (n < 0)
			break;
		ln += (size_t)n;
	}
	if (ln >= sizeof(list) - 1)
		snprintf(list + sizeof(list) - 5, 5, "...");
	if (st->prefix_col < 0) {
		lfail(st, st->rec_line, "no 'prefix' column in the header (columns: %s)", list);
		return;
	}
	for (i = 0; i < s->nfields; i++) {
		st->col[i] = -1;
		for (c = 0; c < st->ncols; c++) {
			if (strcmp(st->names[c], s->f[i].src) != 0)
				continue;
			if (st->col[i] >= 0) {
				lfail(st, st->rec_line, "column '%s' appears twice in the header",
				      s->f[i].src);
				return;
			}
			st->col[i] = (int)c;
		}
		if (st->col[i] < 0) {
			lfail(st, st->rec_line, "no column '%s' in the header (columns: %s)",
			      s->f[i].src, list);
			return;
		}
	}
	st->want = calloc(st->ncols, 1);
	st->cell_off = calloc(st->ncols, sizeof(size_t));
	st->cell_len = calloc(st->ncols, sizeof(size_t));
	if (!st->want || !st->cell_off || !st->cell_len) {
		oom(st);
		return;
	}
	st->want[st->prefix_col] = 1;
	for (i = 0; i < s->nfields; i++)
		st->want[st->col[i]] |= 2;
	st->have_header = 1;
}

/* The row's JSON members and CSV cells into scratch; their lengths. */
static int render_row(struct ld *st, size_t *jlen, size_t *clen)
{
	const struct enrich_spec *s = st->s;
	char *j = st->scratch, *cv = st->scratch + st->json_max;
	size_t jo = 0, co = 0;
	unsigned i;

	for (i = 0; i < s->nfields; i++) {
		unsigned c = (unsigned)st->col[i];
		const char *v = st->row + st->cell_off[c];
		size_t n = st->cell_len[c], on = strlen(s->f[i].out);
		struct wr w;

		if (memchr(v, '\0', n)) {
			lfail(st, st->rec_line, "column '%s' holds a NUL byte", s->f[i].src);
			return -1;
		}
		if (!weir_utf8_valid((const uint8_t *)v, n)) {
			lfail(st, st->rec_line, "column '%s' is not UTF-8 text", s->f[i].src);
			return -1;
		}
		/* An empty cell: no member, an empty cell. */
		cv[co++] = ',';
		if (!n)
			continue;
		wr_init(&w, cv + co, ENRICH_VALUE_MAX);
		enr_csv_cell(&w, v, n);
		if (!w.err)
			co += w.off;
		j[jo] = ',';
		j[jo + 1] = '"';
		memcpy(j + jo + 2, s->f[i].out, on);
		j[jo + on + 2] = '"';
		j[jo + on + 3] = ':';
		wr_init(&w, j + jo + on + 4, ENRICH_VALUE_MAX);
		if (enr_is_json_number(v, n))
			wr_bytes(&w, v, n);
		else
			wr_json_str(&w, v, n);
		if (!w.err)
			jo += on + 4 + w.off;
	}
	*jlen = jo;
	*clen = co;
	return 0;
}

static void on_row(struct ld *st)
{
	const char *p;
	struct weir_addr a;
	unsigned len;
	size_t jlen, clen;
	uint32_t id;
	int rc;

	if (st->ncells != st->ncols) {
		lfail(st, st->rec_line, "%u cell%s, the header has %u", st->ncells,
		      st->ncells == 1 ? "" : "s", st->ncols);
		return;
	}
	if (++st->rows > ENRICH_CSV_MAX_ROWS) {
		lfail(st, st->rec_line, "more than %u rows", ENRICH_CSV_MAX_ROWS);
		return;
	}
	p = st->row + st->cell_off[st->prefix_col];
	if (parse_prefix(p, st->cell_len[st->prefix_col], &a, &len)) {
		lfail(st, st->rec_line, "bad prefix '%.*s' (an IPv4 or IPv6 address, with /length or none)",
		      (int)(st->cell_len[st->prefix_col] > 64 ? 64 : st->cell_len[st->prefix_col]), p);
		return;
	}
	if (render_row(st, &jlen, &clen))
		return;
	/* The JSON and CSV texts are kept, and shared, as one. */
	memmove(st->scratch + jlen, st->scratch + st->json_max, clen);
	id = enr_texts_intern(&st->tx, st->scratch, jlen, clen);
	if (id == UINT32_MAX) {
		oom(st);
		return;
	}
	rc = lpm_builder_add(st->b, &a, len, id);
	if (rc == WEIR_E_NOMEM)
		oom(st);
	else if (rc)
		lfail(st, st->rec_line, "the prefix table refused '%.*s'",
		      (int)(st->cell_len[st->prefix_col] > 64 ? 64 : st->cell_len[st->prefix_col]), p);
}

static void on_cell(void *cell, size_t n, void *data)
{
	struct ld *st = data;
	const char *s = cell;
	unsigned c = st->ncells++;

	if (st->failed)
		return;
	if (c == 0) {
		/* The row started where its first cell did: the lines that
		 * cell's quoted line breaks spanned are behind us. */
		unsigned nl = 0;

		for (size_t i = 0; i < n; i++)
			nl += s[i] == '\n';
		st->rec_line = st->line - nl;
	}
	if (n > ENRICH_CSV_CELL_MAX) {
		lfail(st, st->line, "a cell longer than %u bytes", ENRICH_CSV_CELL_MAX);
		return;
	}
	if (!st->have_header) {
		if (c >= HEADER_COLS_MAX) {
			lfail(st, st->rec_line, "more than %u columns in the header", HEADER_COLS_MAX);
			return;
		}
		while (n && is_blank(s[0])) {
			s++;
			n--;
		}
		while (n && is_blank(s[n - 1]))
			n--;
		st->names[c] = strndup(s, n);
		if (!st->names[c])
			oom(st);
		return;
	}
	if (c >= st->ncols || !st->want[c])
		return;
	/* No bound of its own: a row is bounded by its file. At least one
	 * byte, at the first cell, empty or not: a row of empty cells still
	 * points its cells at a buffer. */
	if (dbuf_grow(&st->row, &st->row_cap, st->row_len + (n ? n : 1), 1, SIZE_MAX)) {
		oom(st);
		return;
	}
	if (n)
		memcpy(st->row + st->row_len, s, n);
	st->cell_off[c] = st->row_len;
	st->cell_len[c] = n;
	st->row_len += n;
}

static void on_row_end(int term, void *data)
{
	struct ld *st = data;

	(void)term;
	if (!st->failed) {
		if (!st->have_header)
			on_header(st);
		else
			on_row(st);
	}
	st->ncells = 0;
	st->row_len = 0;
}

/* Feed buf[0..n) line by line, so that st->line is the line libcsv is in
 * when it calls back. */
static int feed(struct csv_parser *p, struct ld *st, const char *buf, size_t n)
{
	while (n && !st->failed) {
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) + 1 : n;

		if (csv_parse(p, buf, k, on_cell, on_row_end, st) != k) {
			if (csv_error(p) == CSV_ENOMEM)
				oom(st);
			else
				lfail(st, st->line, "malformed quoting (a quote inside an unquoted cell, or text after a closing quote)");
			return -1;
		}
		if (csv_get_buffer_size(p) > (size_t)ENRICH_CSV_CELL_MAX + READ_CHUNK) {
			lfail(st, st->line, "a cell longer than %u bytes", ENRICH_CSV_CELL_MAX);
			return -1;
		}
		if (nl)
			st->line++;
		buf += k;
		n -= k;
	}
	return st->failed ? -1 : 0;
}

static void ld_free(struct ld *st)
{
	if (st->names)
		for (unsigned c = 0; c < HEADER_COLS_MAX; c++)
			free(st->names[c]);
	free(st->names);
	free(st->want);
	free(st->cell_off);
	free(st->cell_len);
	free(st->row);
	free(st->scratch);
	enr_texts_free(&st->tx);
	lpm_builder_free(st->b);
}

/* Read and check the whole file into st; 0 or -1 (st->failed). */
static int read_file(struct ld *st, int fd)
{
	struct csv_parser p;
	char *buf;
	ssize_t n;
	int first = 1, rc = -1;
	char last = '\n';

	buf = malloc(READ_CHUNK);
	if (!buf) {
		oom(st);
		return -1;
	}
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
		free(buf);
		oom(st);
		return -1;
	}
	st->line = 1;
	for (;;) {
		char *q = buf;

		n = read(fd, buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lfail(st, 0, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		/* A UTF-8 byte order mark is not part of the first column's
		 * name. (A file shorter than 3 bytes is no CSV we can use.) */
		if (first && n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
			q += 3;
			n -= 3;
		}
		first = 0;
		if (n)
			last = q[n - 1];
		if (feed(&p, st, q, (size_t)n))
			goto out;
	}
	/* A writer that died mid-row leaves a last line without its line
	 * break: refuse it rather than take a cut cell as a value. */
	if (last != '\n' && last != '\r') {
		lfail(st, st->line, "the last line ends without a line break (the file was cut short?)");
		goto out;
	}
	if (csv_fini(&p, on_cell, on_row_end, st) != 0) {
		lfail(st, st->rec_line, "a quoted cell is not closed before the end of the file");
		goto out;
	}
	rc = st->failed ? -1 : 0;
out:
	csv_free(&p);
	free(buf);
	return rc;
}

struct csvsrc *csvsrc_load(const struct enrich_spec *s, char *err, size_t errlen)
{
	struct ld st = { .s = s, .file = s->source, .err = err, .errlen = errlen };
	struct csvsrc *c = NULL;
	struct lpm_stats ls;
	int fd;

	fd = enr_open_file(s->source, err, errlen);
	if (fd < 0)
		return NULL;
	for (unsigned i = 0; i < s->nfields; i++) {
		st.json_max += strlen(s->f[i].out) + 4 + ENRICH_VALUE_MAX;
		st.csv_max += 1 + ENRICH_VALUE_MAX;
	}
	st.names = calloc(HEADER_COLS_MAX, sizeof(char *));
	st.scratch = malloc(st.json_max + st.csv_max);
	st.b = lpm_builder_new();
	c = calloc(1, sizeof(*c));
	if (!st.names || !st.scratch || !st.b || !c) {
		oom(&st);
		goto fail;
	}
	if (read_file(&st, fd))
		goto fail;
	/* An empty file or a header alone: an empty table, every lookup a
	 * miss. */
	c->lpm = lpm_build(st.b);
	if (!c->lpm) {
		oom(&st);
		goto fail;
	}
	c->nfields = s->nfields;
	memset(c->miss, ',', sizeof(c->miss));
	enr_texts_freeze(&st.tx);
	c->tx = st.tx;
	memset(&st.tx, 0, sizeof(st.tx));
	lpm_stats(c->lpm, &ls);
	c->entries = ls.prefixes4 + ls.prefixes6;
	c->bytes = ls.bytes + enr_texts_bytes(&c->tx);
	ld_free(&st);
	close(fd);
	return c;
fail:
	ld_free(&st);
	free(c);
	close(fd);
	return NULL;
}

void csvsrc_free(struct csvsrc *c)
{
	if (!c)
		return;
	lpm_free(c->lpm);
	enr_texts_free(&c->tx);
	free(c);
}

void csvsrc_stats(const struct csvsrc *c, struct enrich_table_stats *st)
{
	st->entries = c->entries;
	st->bytes = c->bytes;
}

/* ---- lookups ----------------------------------------------------------- */

void csvsrc_find_many(const struct csvsrc *c, int csv, const struct weir_addr *const *a,
		      uint32_t *row, unsigned n)
{
	/* LPM_NONE is ENRICH_ROW_NONE, and no row is ENRICH_ROW_DIRECT
	 * (enr_texts_intern). */
	lpm_lookup_many(c->lpm, a, row, n);
	enr_texts_load_many(&c->tx, csv, row, n);
}

const struct enr_texts *csvsrc_texts(const struct csvsrc *c)
{
	return &c->tx;
}

size_t csvsrc_json(const struct csvsrc *c, const struct weir_addr *a,
		   char *out, size_t cap, int *hit)
{
	uint32_t v = lpm_lookup(c->lpm, a);

	*hit = v != LPM_NONE;
	return *hit ? enr_texts_text(&c->tx, 0, v, out, cap) : 0;
}

size_t csvsrc_csv(const struct csvsrc *c, const struct weir_addr *a,
		  char *out, size_t cap, int *hit)
{
	uint32_t v = lpm_lookup(c->lpm, a);

	*hit = v != LPM_NONE;
	if (*hit)
		return enr_texts_text(&c->tx, 1, v, out, cap);
	if (cap < c->nfields)
		return SIZE_MAX;
	memcpy(out, c->miss, c->nfields);
	return c->nfields;
}
