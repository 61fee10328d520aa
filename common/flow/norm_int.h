/* norm_int.h - internal to the flow layer and its tests: not installed.
 */
#ifndef WEIR_NORM_INT_H
#define WEIR_NORM_INT_H

#include "flow.h"

/* flow_from_record() through the template's plan only, for any record of
 * a template (v9, IPFIX, and v5 too): the engine beside which the v5
 * straight-line code of norm.c is tested. Not for sFlow. */
int norm_by_plan(const struct weir_record *rec, struct flow *f);

#endif
