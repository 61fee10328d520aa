/* ie_csv_int.h - the CSV reader behind the IE registry. Internal (*_int.h):
 * not installed, not part of libweir's API; ie.h is the public face.
 *
 * One reader serves two users: the build-time generator (common/gen/iegen.c)
 * that turns the ie-defs CSV files into the built-in table, and ie_load_csv() that
 * loads custom elements at run time. Both therefore accept and reject exactly
 * the same files. The format is described in ie.h.
 */
#ifndef WEIR_IE_CSV_INT_H
#define WEIR_IE_CSV_INT_H

#include <stddef.h>
#include <stdint.h>

#define IE_CSV_FIELDS		6	/* enterprise,id,name,type,semantics,units */
#define IE_CSV_FIELD_MAX	255	/* longest accepted field, in bytes */
#define IE_CSV_LINE_MAX		4096	/* longest accepted physical line */
#define IE_ID_MAX		0x7FFFu	/* IPFIX ids lack the enterprise bit */
#define IE_V9_ID_MAX		0xFFFFu

/* One validated element line. The strings are valid only during the
 * callback; a receiver that keeps them copies them. */
struct ie_csv_row {
	const char *file;
	unsigned line;		/* line where the record starts */
	uint32_t pen;		/* IE_PEN_IANA, a PEN, or IE_PEN_V9 */
	uint16_t id;
	uint8_t type;		/* enum ie_type */
	uint8_t sem;		/* enum ie_sem */
	const char *name;
	const char *units;	/* "" when none */
};

/* Called once per element line, in file order. Return WEIR_OK to go on;
 * any other value stops the read and is returned by ie_csv_read(), with the
 * callback's message (written with ie_csv_errf) left in err. */
typedef int (*ie_csv_row_fn)(void *user, const struct ie_csv_row *row,
			     char *err, size_t errlen);

/* Read the CSV file at path and hand each element line to fn. The header
 * line is required; blank lines and lines starting with '#' are skipped.
 * Returns WEIR_OK, WEIR_E_IO (cannot open or read the file), WEIR_E_PARSE
 * (a line does not parse or validate), WEIR_E_NOMEM, or fn's own error.
 * On error err holds "file:line: what" (err may be NULL when errlen is 0). */
int ie_csv_read(const char *path, ie_csv_row_fn fn, void *user,
		char *err, size_t errlen);

/* Format "file:line: message" into err, truncating to errlen. */
void ie_csv_errf(char *err, size_t errlen, const char *file, unsigned line,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
