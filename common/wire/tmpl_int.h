/* tmpl_int.h - what the parts of the template cache share (tmpl.c: cache,
 * sources, templates, samplers, held data; tmpl_seq.c: sequence numbers;
 * tmpl_file.c: the template file). Private to libweir: `make install` leaves
 * *_int.h out.
 */
#ifndef WEIR_TMPL_INT_H
#define WEIR_TMPL_INT_H

#include <stdint.h>

#include "hash.h"
#include "tmpl.h"

#define TMPL_MAX_SAMPLERS	64
#define TMPL_SEQ_RESET		(1u << 20)	/* further back than this: exporter restarted */


/* What one exporter holds. Each exporter with templates (held bytes) sits
 * in the list of its power-of-two class of that amount, so that the one
 * holding the most is found without a walk over all exporters. */
enum { RES_TPL, RES_PEND, RES_N };
#define EXP_CLASSES 33

struct tmpl_exp {
	struct weir_exporter e;
	uint32_t ntemplates;
	uint32_t nsources;
	uint32_t pend_bytes;
	struct src_node *srcs;		/* its sources, by src_node.xnext */
	struct tmpl_exp *cprev[RES_N], *cnext[RES_N];
	uint8_t cls[RES_N];		/* class of the list it is in, 0 none */
};

struct tmpl_sampler {
	uint64_t id;
	uint32_t rate;
};

struct tmpl_pending {
	struct tmpl_pending *next;
	uint64_t t_ns;
	uint16_t tid;
	uint16_t hdr_len;
	uint32_t len;
	uint8_t data[];		/* hdr, then body */
};

/* A source and the link to the next source of its exporter; the sources
 * table holds &node->s, which is the node's address. */
struct src_node {
	struct tmpl_source s;
	struct src_node *xnext;		/* next source of the same exporter (idle: of c->lost) */
	uint8_t indexed;		/* in the index: may be read by another thread */
};

/* The source index (tmpl_cache_source): pages of pointers that never move,
 * under a directory of fixed size, so that a reader in another thread can
 * walk it while the owner appends. */
#define SRCX_PAGE	4096u
#define SRCX_PAGES	(TMPL_SRC_INDEX_MAX / SRCX_PAGE)

struct tmpl_cache {
	struct tmpl_limits lim;
	const struct ie_registry *ies;
	struct tmpl_stats st;
	struct oah src;			/* src_key() -> struct tmpl_source * */
	struct oah exps;		/* exp_key() -> struct tmpl_exp * */
	struct tmpl_exp *cls[RES_N][EXP_CLASSES];
	struct tmpl_source **srcx[SRCX_PAGES];
	uint32_t nsrcx;			/* published with a release store */
	/* Sources of ended sessions (tmpl_exporter_end), kept for the index
	 * and taken back by the next source of the same address: addr_key()
	 * -> struct tmpl_source *. nidle counts them, in the table or not
	 * (an insert that found no memory leaves one out). */
	struct oah idle;
	uint32_t nidle;
	struct src_node *lost;		/* idle ones the table had no memory for */
};

static inline struct tmpl *slot_tmpl(const struct oah_slot *slot)
{
	return (struct tmpl *)(uintptr_t)slot->val;
}

#endif
