/* iegen - build the built-in IE table from the ie-defs CSV files.
 *
 *   iegen FILE.csv... > ie_table.c
 *
 * Reads every file with the run-time reader (ie_csv.c), so a file that builds
 * also loads. Rejects a (pen, id) defined twice and a name used twice within
 * one enterprise (vendors may reuse each other's names), adds the RFC 5103
 * reverse elements, and writes ie_builtin_defs[] sorted by (pen, id) with the
 * lookup aids that ie.c uses: a direct index for IANA ids and an index
 * ordered by (name, pen, id), so a name lookup finds the lowest enterprise. Exits 1 with "file:line: what" on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "ie.h"
#include "ie_csv_int.h"

#define IEGEN_MAX_DEFS	65535	/* the name index holds uint16_t */

struct gdef {
	uint32_t pen;
	uint16_t id;
	uint8_t type;
	uint8_t sem;
	char *name;
	char *units;
	const char *file;
	unsigned line;
	int reverse;		/* generated from the forward element */
};

struct gtab {
	struct gdef *d;
	size_t n, cap;
};

/* RFC 5103 section 6.1: these IANA elements describe the Exporting and
 * Metering Processes or the record itself, not one direction of a Biflow,
 * and so have no reverse counterpart. They are the identifiers
 * commonPropertiesId, templateId, flowId and observationDomainId, the
 * process configuration and statistics elements of RFC 5102 sections 5.2
 * and 5.3 (including flowKeyIndicator), paddingOctets and biflowDirection. */
static const uint16_t not_reversible[] = {
	40, 41, 42,			/* exported{Octet,Message,FlowRecord}TotalCount */
	130, 131,			/* exporterIPv4Address, exporterIPv6Address */
	137,				/* commonPropertiesId */
	145,				/* templateId */
	148, 149,			/* flowId, observationDomainId */
	163, 164, 165, 166, 167, 168,	/* observed/ignored/notSent ...TotalCount */
	173,				/* flowKeyIndicator */
	210,				/* paddingOctets */
	211, 212, 213, 214, 215, 216, 217, /* collector and export configuration */
	239,				/* biflowDirection */
};

static int is_reversible(uint16_t id)
{
	size_t i;

	for (i = 0; i < sizeof(not_reversible) / sizeof(not_reversible[0]); i++)
		if (not_reversible[i] == id)
			return 0;
	return 1;
}

static void die_nomem(void)
{
	fprintf(stderr, "iegen: out of memory\n");
	exit(1);
}

static struct gdef *tab_push(struct gtab *t)
{
	if (t->n >= IEGEN_MAX_DEFS) {
		fprintf(stderr, "iegen: more than %d elements\n", IEGEN_MAX_DEFS);
		exit(1);
	}
	if (dbuf_grow(&t->d, &t->cap, t->n + 1, sizeof(*t->d), IEGEN_MAX_DEFS))
		die_nomem();
	memset(&t->d[t->n], 0, sizeof(t->d[0]));
	return &t->d[t->n++];
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_nomem();
	return p;
}

static int on_row(void *user, const struct ie_csv_row *row, char *err, size_t errlen)
{
	struct gdef *d = tab_push(user);

	(void)err;
	(void)errlen;
	d->pen = row->pen;
	d->id = row->id;
	d->type = row->type;
	d->sem = row->sem;
	d->name = xstrdup(row->name);
	d->units = xstrdup(row->units);
	d->file = row->file;
	d->line = row->line;
	return WEIR_OK;
}

static int key_cmp(const void *a, const void *b)
{
	const struct gdef *x = a, *y = b;

	if (x->pen != y->pen)
		return x->pen < y->pen ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	/* Ties keep file order, so the report names the later line. */
	if (x->file != y->file)
		return strcmp(x->file, y->file);
	return x->line < y->line ? -1 : x->line > y->line;
}

static const struct gtab *name_sort_tab;

static int name_cmp(const void *a, const void *b)
{
	const struct gdef *x = &name_sort_tab->d[*(const uint16_t *)a];
	const struct gdef *y = &name_sort_tab->d[*(const uint16_t *)b];

	int c = strcmp(x->name, y->name);

	return c ? c : key_cmp(x, y);
}

static void where(const struct gdef *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", d->file, d->line);
}

static int check_keys(const struct gtab *t)
{
	char w[512];
	size_t i;

	for (i = 1; i < t->n; i++) {
		const struct gdef *a = &t->d[i - 1], *b = &t->d[i];

		if (a->pen != b->pen || a->id != b->id)
			continue;
		where(a, w, sizeof(w));
		fprintf(stderr, "%s:%u: duplicate element (%u, %u)%s, first defined at %s%s\n",
			b->file, b->line, (unsigned)b->pen, (unsigned)b->id,
			b->reverse ? " (generated reverse element)" : "", w,
			a->reverse ? " (generated reverse element)" : "");
		return -1;
	}
	return 0;
}

static void add_reverse(struct gtab *t)
{
	size_t i, n = t->n;

	for (i = 0; i < n; i++) {
		struct gdef *r, *f;
		size_t len;

		if (t->d[i].pen != IE_PEN_IANA || !is_reversible(t->d[i].id))
			continue;
		r = tab_push(t);
		f = &t->d[i];	/* tab_push may have moved the table */
		len = strlen(f->name);
		r->pen = IE_PEN_REVERSE;
		r->id = f->id;
		r->type = f->type;
		r->sem = f->sem;
		/* RFC 5103 section 6.1: "reverse" + the name with its first
		 * letter in upper case. */
		r->name = malloc(len + sizeof("reverse"));
		if (!r->name)
			die_nomem();
		memcpy(r->name, "reverse", 7);
		memcpy(r->name + 7, f->name, len + 1);
		if (r->name[7] >= 'a' && r->name[7] <= 'z')
			r->name[7] = (char)(r->name[7] - 'a' + 'A');
		r->units = xstrdup(f->units);
		r->file = f->file;
		r->line = f->line;
		r->reverse = 1;
	}
}

static int check_names(const struct gtab *t, uint16_t *idx)
{
	char w[512];
	size_t i;

	for (i = 0; i < t->n; i++)
		idx[i] = (uint16_t)i;
	name_sort_tab = t;
	qsort(idx, t->n, sizeof(*idx), name_cmp);
	for (i = 1; i < t->n; i++) {
		const struct gdef *a = &t->d[idx[i - 1]], *b = &t->d[idx[i]];

		if (strcmp(a->name, b->name) != 0 || a->pen != b->pen)
			continue;
		where(a, w, sizeof(w));
		fprintf(stderr, "%s:%u: duplicate name \"%s\", first defined at %s\n",
			b->file, b->line, b->name, w);
		return -1;
	}
	return 0;
}

/* A C string literal; octal escapes never run into a following digit. */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f || c == '?')
			fprintf(f, "\\%03o", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* The direct index ie_find() uses for IANA ids: entry id holds the table
 * index + 1 of element id, 0 when the id is unassigned. The IANA block comes
 * first in the (pen, id) order. */
static void emit_iana_index(FILE *f, const struct gtab *t)
{
	size_t i, span = 0, k = 0;

	for (i = 0; i < t->n && t->d[i].pen == IE_PEN_IANA; i++)
		span = (size_t)t->d[i].id + 1;
	fprintf(f, "const size_t ie_builtin_iana_span = %zu;\n", span);
	fprintf(f, "const uint16_t ie_builtin_iana_index[] = {");
	if (span == 0)
		fprintf(f, " 0");
	for (i = 0; i < span; i++) {
		unsigned v = 0;

		if (k < t->n && t->d[k].pen == IE_PEN_IANA && t->d[k].id == i)
			v = (unsigned)++k;
		fprintf(f, "%s%u,", i % 16 ? " " : "\n\t", v);
	}
	fprintf(f, "\n};\n\n");
}

static void emit(FILE *f, const struct gtab *t, const uint16_t *name_idx)
{
	size_t i;

	fprintf(f, "/* Generated by iegen from the ie-defs CSV files; do not edit. */\n"
		"#include <stddef.h>\n#include <stdint.h>\n\n#include \"ie.h\"\n\n");
	fprintf(f, "const struct ie_def ie_builtin_defs[] = {\n");
	for (i = 0; i < t->n; i++) {
		const struct gdef *d = &t->d[i];

		fprintf(f, "\t{ %uu, %u, %u, %u, ", (unsigned)d->pen, (unsigned)d->id,
			(unsigned)d->type, (unsigned)d->sem);
		put_str(f, d->name);
		fputs(", ", f);
		put_str(f, d->units);
		fprintf(f, " },\t/* %s %s */\n", ie_type_name(d->type), ie_sem_name(d->sem));
	}
	if (t->n == 0)
		fprintf(f, "\t{ 0u, 0, 0, 0, \"\", \"\" },\n");
	fprintf(f, "};\n\nconst size_t ie_builtin_count = %zu;\n\n", t->n);

	emit_iana_index(f, t);

	fprintf(f, "const uint16_t ie_builtin_name_index[] = {");
	if (t->n == 0)
		fprintf(f, " 0");
	for (i = 0; i < t->n; i++)
		fprintf(f, "%s%u,", i % 12 ? " " : "\n\t", (unsigned)name_idx[i]);
	fprintf(f, "\n};\n");
}

int main(int argc, char **argv)
{
	struct gtab t = { 0 };
	char err[1024];
	uint16_t *name_idx;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: iegen FILE.csv... > ie_table.c\n");
		return 1;
	}
	for (i = 1; i < argc; i++) {
		int rc = ie_csv_read(argv[i], on_row, &t, err, sizeof(err));

		if (rc != WEIR_OK) {
			fprintf(stderr, "%s\n", err[0] ? err : weir_strerror(rc));
			return 1;
		}
	}
	qsort(t.d, t.n, sizeof(*t.d), key_cmp);
	if (check_keys(&t))
		return 1;
	add_reverse(&t);
	qsort(t.d, t.n, sizeof(*t.d), key_cmp);
	if (check_keys(&t))
		return 1;
	name_idx = malloc((t.n + 1) * sizeof(*name_idx));
	if (!name_idx)
		die_nomem();
	if (check_names(&t, name_idx))
		return 1;
	emit(stdout, &t, name_idx);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "iegen: write error\n");
		return 1;
	}
	return 0;
}
