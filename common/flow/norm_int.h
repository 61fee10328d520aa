/* norm_int.h - internal to the flow layer and its tests: not installed.
 */
#ifndef WEIR_NORM_INT_H
#define WEIR_NORM_INT_H

#include "flow.h"

/* norm_by_plan() (flow.h) works for any record of a template, v5 too: the
 * engine beside which norm_nf5()'s straight-line code is tested. */

#endif
