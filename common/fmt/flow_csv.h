/* flow_csv.h - struct flow as one CSV line (the "common" format, CSV).
 *
 * A fixed, documented column order (docs/formats.md), the same names as
 * the common JSON. Fields the record did not carry (has bit clear) are
 * empty cells. Addresses in text form, MACs as aa:bb:cc:dd:ee:ff, numbers
 * in decimal. RFC 4180 quoting where a cell needs it (no cell of these
 * kinds ever does: none holds a comma, a quote or a line break).
 */
#ifndef WEIR_FLOW_CSV_H
#define WEIR_FLOW_CSV_H

#include <stddef.h>

#include "flow.h"

#define FLOW_CSV_MAX 1024

/* The header row and a newline; the length, or 0 when cap is too small. */
size_t flow_csv_header(char *buf, size_t cap);
/* One row and a newline; the length, or 0 when cap is too small. */
size_t flow_csv(const struct flow *f, char *buf, size_t cap);
/* flow_csv() with x's cells written before the newline (x may be NULL);
 * 0 when they do not fit either. */
size_t flow_csv_x(const struct flow *f, char *buf, size_t cap, const struct flow_extra *x);

#endif
