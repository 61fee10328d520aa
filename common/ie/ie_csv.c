/* ie_csv.c - read and validate IE definition CSV files (format in ie.h).
 *
 * libcsv does the RFC 4180 work (quoted fields, embedded commas and
 * newlines); this file feeds it one physical line at a time so that every
 * record knows the line it starts on, skips comment and blank lines between
 * records, and validates each record before handing it on.
 *
 * The type and semantics names live here rather than in ie.c because the
 * build-time generator links this file but not the registry.
 */
#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "ie.h"
#include "ie_csv_int.h"

/* RFC 7012 section 3.1 abstract data types, in enum ie_type order. */
static const char *const type_names[IE_T_COUNT] = {
	[IE_T_OCTETS]	= "octetArray",
	[IE_T_U8]	= "unsigned8",
	[IE_T_U16]	= "unsigned16",
	[IE_T_U32]	= "unsigned32",
	[IE_T_U64]	= "unsigned64",
	[IE_T_I8]	= "signed8",
	[IE_T_I16]	= "signed16",
	[IE_T_I32]	= "signed32",
	[IE_T_I64]	= "signed64",
	[IE_T_F32]	= "float32",
	[IE_T_F64]	= "float64",
	[IE_T_BOOL]	= "boolean",
	[IE_T_MAC]	= "macAddress",
	[IE_T_STRING]	= "string",
	[IE_T_DT_SEC]	= "dateTimeSeconds",
	[IE_T_DT_MS]	= "dateTimeMilliseconds",
	[IE_T_DT_US]	= "dateTimeMicroseconds",
	[IE_T_DT_NS]	= "dateTimeNanoseconds",
	[IE_T_IPV4]	= "ipv4Address",
	[IE_T_IPV6]	= "ipv6Address",
	[IE_T_BASICLIST] = "basicList",		/* RFC 6313 section 4.5 */
	[IE_T_STL]	= "subTemplateList",
	[IE_T_STML]	= "subTemplateMultiList",
};

/* RFC 7012 section 3.2 data type semantics, in enum ie_sem order. */
static const char *const sem_names[IE_S_COUNT] = {
	[IE_S_DEFAULT]		= "default",
	[IE_S_QUANTITY]		= "quantity",
	[IE_S_TOTAL]		= "totalCounter",
	[IE_S_DELTA]		= "deltaCounter",
	[IE_S_IDENTIFIER]	= "identifier",
	[IE_S_FLAGS]		= "flags",
	[IE_S_LIST]		= "list",		/* RFC 6313 section 4.4 */
	[IE_S_SNMP_COUNTER]	= "snmpCounter",	/* RFC 8038 */
	[IE_S_SNMP_GAUGE]	= "snmpGauge",
};

/* Sizes from RFC 7011 section 6.1; 0 for variable-length types. */
static const unsigned char type_sizes[IE_T_COUNT] = {
	[IE_T_U8] = 1, [IE_T_U16] = 2, [IE_T_U32] = 4, [IE_T_U64] = 8,
	[IE_T_I8] = 1, [IE_T_I16] = 2, [IE_T_I32] = 4, [IE_T_I64] = 8,
	[IE_T_F32] = 4, [IE_T_F64] = 8, [IE_T_BOOL] = 1, [IE_T_MAC] = 6,
	[IE_T_DT_SEC] = 4, [IE_T_DT_MS] = 8, [IE_T_DT_US] = 8, [IE_T_DT_NS] = 8,
	[IE_T_IPV4] = 4, [IE_T_IPV6] = 16,
};

int ie_type_parse(const char *s)
{
	int i;

	if (!s)
		return -1;
	for (i = 0; i < IE_T_COUNT; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

const char *ie_type_name(int type)
{
	if (type < 0 || type >= IE_T_COUNT)
		return "?";
	return type_names[type];
}

int ie_sem_parse(const char *s)
{
	int i;

	if (!s)
		return -1;
	for (i = 0; i < IE_S_COUNT; i++)
		if (strcmp(s, sem_names[i]) == 0)
			return i;
	return -1;
}

const char *ie_sem_name(int sem)
{
	if (sem < 0 || sem >= IE_S_COUNT)
		return "?";
	return sem_names[sem];
}

unsigned ie_type_size(int type)
{
	if (type < 0 || type >= IE_T_COUNT)
		return 0;
	return type_sizes[type];
}

void ie_csv_errf(char *err, size_t errlen, const char *file, unsigned line,
		 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s:%u: ", file, line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static const char *const header[IE_CSV_FIELDS] = {
	"enterprise", "id", "name", "type", "semantics", "units",
};

struct rd_state {
	const char *file;
	ie_csv_row_fn fn;
	void *user;
	char *err;
	size_t errlen;
	int rc;			/* first error; later records are ignored */
	int seen_header;
	int at_start;		/* between records */
	unsigned line;		/* physical line being fed */
	unsigned rec_line;	/* line the current record started on */
	unsigned nfields;	/* fields in the current record so far */
	int too_long;		/* 1-based index of an over-long field, or 0 */
	size_t len[IE_CSV_FIELDS];
	char field[IE_CSV_FIELDS][IE_CSV_FIELD_MAX + 1];
};

static void fail(struct rd_state *st, const char *fmt, const char *arg)
{
	if (st->rc)
		return;
	st->rc = WEIR_E_PARSE;
	ie_csv_errf(st->err, st->errlen, st->file, st->rec_line, fmt, arg);
}

static void on_field(void *s, size_t len, void *data)
{
	struct rd_state *st = data;
	unsigned i = st->nfields++;

	if (st->rc || i >= IE_CSV_FIELDS)
		return;
	if (len > IE_CSV_FIELD_MAX) {
		if (!st->too_long)
			st->too_long = (int)i + 1;
		len = 0;
	}
	if (len)
		memcpy(st->field[i], s, len);
	st->field[i][len] = '\0';
	st->len[i] = len;
}

/* Plain decimal without sign or spaces; 0 on success. */
static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Names are identifiers: printable ASCII without blanks. */
static int name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return len > 0;
}

static int text_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

static void check_header(struct rd_state *st)
{
	unsigned i;

	if (st->nfields != IE_CSV_FIELDS)
		goto bad;
	for (i = 0; i < IE_CSV_FIELDS; i++)
		if (strcasecmp(st->field[i], header[i]) != 0)
			goto bad;
	st->seen_header = 1;
	return;
bad:
	fail(st, "expected the header line \"%s\"",
	     "enterprise,id,name,type,semantics,units");
}

static void check_row(struct rd_state *st)
{
	struct ie_csv_row row = { .file = st->file, .line = st->rec_line };
	uint32_t pen, id, idmax;
	int t, s;

	if (st->nfields != IE_CSV_FIELDS) {
		char n[32];

		snprintf(n, sizeof(n), "%u", st->nfields);
		fail(st, "expected 6 fields, found %s", n);
		return;
	}
	if (strcmp(st->field[0], "v9") == 0) {
		pen = IE_PEN_V9;
		idmax = IE_V9_ID_MAX;
	} else if (parse_u32(st->field[0], &pen) || pen == IE_PEN_V9) {
		fail(st, "bad enterprise \"%s\" (a private enterprise number or \"v9\")",
		     st->field[0]);
		return;
	} else {
		idmax = IE_ID_MAX;
	}
	if (parse_u32(st->field[1], &id) || id > idmax) {
		fail(st, pen == IE_PEN_V9 ?
		     "bad id \"%s\" (0..65535 for v9)" :
		     "bad id \"%s\" (0..32767)", st->field[1]);
		return;
	}
	if (!name_ok(st->field[2], st->len[2])) {
		fail(st, "bad name \"%s\" (non-empty, no blanks)", st->field[2]);
		return;
	}
	t = ie_type_parse(st->field[3]);
	if (t < 0) {
		fail(st, "unknown type \"%s\"", st->field[3]);
		return;
	}
	s = st->len[4] ? ie_sem_parse(st->field[4]) : IE_S_DEFAULT;
	if (s < 0) {
		fail(st, "unknown semantics \"%s\"", st->field[4]);
		return;
	}
	if (!text_ok(st->field[5], st->len[5])) {
		fail(st, "bad units \"%s\"", st->field[5]);
		return;
	}
	row.pen = pen;
	row.id = (uint16_t)id;
	row.type = (uint8_t)t;
	row.sem = (uint8_t)s;
	row.name = st->field[2];
	row.units = st->field[5];
	st->rc = st->fn(st->user, &row, st->err, st->errlen);
}

static void on_record(int term, void *data)
{
	struct rd_state *st = data;

	(void)term;
	if (!st->rc && st->too_long) {
		char n[16];

		snprintf(n, sizeof(n), "%d", st->too_long);
		fail(st, "field %s is too long", n);
	}
	if (!st->rc) {
		if (!st->seen_header)
			check_header(st);
		else
			check_row(st);
	}
	st->nfields = 0;
	st->too_long = 0;
	st->at_start = 1;
}

/* A line that holds only blanks, or starts with '#', between records. */
static int skippable(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == len || s[i] == '\n' || s[i] == '\r' || s[i] == '#';
}

int ie_csv_read(const char *path, ie_csv_row_fn fn, void *user,
		char *err, size_t errlen)
{
	struct rd_state *st;
	struct csv_parser p;
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	f = fopen(path, "r");
	if (!f) {
		ie_csv_errf(err, errlen, path, 0, "%s", strerror(errno));
		return WEIR_E_IO;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		fclose(f);
		return WEIR_E_NOMEM;
	}
	st->file = path;
	st->fn = fn;
	st->user = user;
	st->err = err;
	st->errlen = errlen;
	st->at_start = 1;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
		rc = WEIR_E_NOMEM;
		goto out_st;
	}
	while (!st->rc && (n = getline(&buf, &cap, f)) >= 0) {
		st->line++;
		if (n > IE_CSV_LINE_MAX) {
			st->rec_line = st->line;
			fail(st, "line longer than %s bytes", "4096");
			break;
		}
		if (st->at_start) {
			if (skippable(buf, (size_t)n))
				continue;
			st->rec_line = st->line;
			st->at_start = 0;
		}
		if (csv_parse(&p, buf, (size_t)n, on_field, on_record, st) != (size_t)n) {
			if (csv_error(&p) == CSV_ENOMEM) {
				rc = WEIR_E_NOMEM;
				goto out_csv;
			}
			st->rec_line = st->line;
			fail(st, "%s", "malformed quoting");
		}
	}
	if (!st->rc && ferror(f)) {
		ie_csv_errf(err, errlen, path, st->line, "%s", strerror(errno));
		rc = WEIR_E_IO;
		goto out_csv;
	}
	if (!st->rc && csv_fini(&p, on_field, on_record, st) != 0)
		fail(st, "%s", "unterminated quoted field");
	if (!st->rc && !st->seen_header) {
		st->rec_line = st->line;
		fail(st, "%s", "no header line");
	}
	rc = st->rc;
out_csv:
	csv_free(&p);
out_st:
	free(buf);
	free(st);
	fclose(f);
	return rc;
}
