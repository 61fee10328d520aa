/* pkt_int.h - the packet parser's general walk alone, for tests that
 * compare the fast path of pkt_parse_frame() with it. Not an interface. */
#ifndef WEIR_PKT_INT_H
#define WEIR_PKT_INT_H

#include "pkt.h"

/* pkt_parse_frame() without its fast path for the common shape (pkt.c):
 * every layer walked with a check per field. Same contract, same result. */
int pkt_parse_walk(struct pkt_info *pi, const void *buf, size_t caplen, size_t wirelen,
		   int start);

#endif
