/* flow_json.h - struct flow as one JSON object (the "common" format).
 *
 * Field names are those of docs/design.md; fields the record did not carry
 * (struct flow.has) are left out. Written by hand, without printf, because
 * a collector writes millions of these a second.
 */
#ifndef WEIR_FLOW_JSON_H
#define WEIR_FLOW_JSON_H

#include <stddef.h>

#include "flow.h"

/* Longest object flow_json() can write, newline included. */
#define FLOW_JSON_MAX 1024

/* Write f as one JSON object and a newline into buf (cap bytes). Returns the
 * length written, or 0 when cap is too small (nothing useful written). */
size_t flow_json(const struct flow *f, char *buf, size_t cap);

#endif
