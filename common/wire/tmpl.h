/* tmpl.h - templates and per-source state for NetFlow v9 and IPFIX.
 *
 * State is kept per source: (exporter address, exporter port, observation
 * domain / v9 source id), as RFC 7011 section 8 says; templates are keyed by
 * source and template id. A source also carries the sequence-number tracking
 * (all four protocols use sources for that), the sampler table learnt from
 * options data, and the data sets held while their template is unknown.
 *
 * Everything is bounded: templates per exporter (address+port) and in total,
 * sources per exporter and in total, held data bytes per source and in total.
 * What a bound refuses is counted in struct tmpl_stats, never silently lost.
 * The cache is single-threaded: one per worker.
 */
#ifndef WEIR_TMPL_H
#define WEIR_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "hash.h"
#include "ie.h"

#define TMPL_MAX_FIELDS	1024	/* hard cap; a set of 65535 bytes holds fewer anyway */
#define TMPL_VARLEN	0xFFFFu
#define TMPL_EXT_BYTES	512	/* room for a layer above, per template (tmpl.ext) */

struct tmpl_field {
	uint32_t pen;			/* 0 = IANA; IE_PEN_V9 for v9 types >= 32768 */
	uint16_t id;			/* without the enterprise bit */
	uint16_t len;			/* wire length, TMPL_VARLEN = variable */
	const struct ie_def *def;	/* NULL when the registry does not know it */
};

struct tmpl {
	uint16_t id;
	uint16_t nfields;
	uint16_t scope_count;		/* > 0: options template */
	uint8_t proto;			/* 9 or 10 */
	uint8_t has_varlen;
	uint32_t min_len;		/* record length, variable fields at 1 byte */
	int16_t sampler_field;		/* index of samplerId/selectorId, -1 none */
	int16_t rate_field;		/* index of an inline sampling interval, -1 none */
	uint64_t refreshed_ns;		/* last time the exporter sent it */
	/* What a layer above derives from the template once (the flow
	 * layer's normalization plan, flow/norm.c): opaque here, filled by
	 * the builder registered with tmpl_ext_register() when tmpl_finish()
	 * runs, copied with the template. ext_built = 0: nothing built. */
	uint8_t ext_built;
	uint64_t ext[TMPL_EXT_BYTES / 8];
	struct tmpl_field f[];		/* nfields */
};

/* The builder of tmpl.ext. One per process, registered before the first
 * template is built (flow/norm.c registers its own from a constructor, so
 * any program that links normalization has it). The wire layer calls it
 * through this pointer and knows nothing of what it builds. */
typedef void (*tmpl_ext_fn)(struct tmpl *t);
void tmpl_ext_register(tmpl_ext_fn build);

/* A full cache refuses the flooder, not a newcomer: while the whole cache
 * is full, an exporter that holds less than its guaranteed minimum
 * (min_templates_per_exporter, min_pending_per_exporter) may still take a
 * template or hold data, evicting from the exporter that holds the most,
 * and only from one that holds more than both the newcomer and the
 * guaranteed minimum. An exporter within its minimum is never a victim. */
struct tmpl_limits {
	uint32_t max_templates;		/* in the whole cache */
	uint32_t max_templates_per_exporter;
	uint32_t min_templates_per_exporter;	/* guaranteed, see above */
	uint32_t max_sources;		/* in the whole cache */
	uint32_t max_sources_per_exporter;
	uint32_t max_pending_bytes;	/* held data, whole cache */
	uint32_t max_pending_per_exporter;/* held data bytes per exporter */
	uint32_t min_pending_per_exporter;/* guaranteed, see above */
	uint32_t max_pending_per_source;/* held data bytes per source */
	uint64_t pending_max_age_ns;	/* held data older than this is dropped */
	uint64_t lifetime_ns;		/* UDP template lifetime, 0 = forever */
	/* The transport keeps order (TCP, RFC 7011 section 10.4): a template
	 * that comes after its data was not in force when the data was sent
	 * (it may be a withdrawn id defined anew), so data of an unknown
	 * template is never held (tmpl_pending_add refuses it, uncounted:
	 * the decoder counts it as no_template). */
	uint8_t ordered;
};

/* Defaults: 65536 templates, 1024 per exporter (64 guaranteed), 65536
 * sources, 64 per exporter, 16 MiB held in total, 2 MiB per exporter
 * (256 KiB guaranteed), 256 KiB per source, held 10 min, templates forever
 * (a collector sets lifetime_ns for UDP), not ordered. */
void tmpl_limits_default(struct tmpl_limits *lim);

struct tmpl_stats {
	uint64_t templates;		/* live templates now */
	uint64_t sources;		/* live sources now */
	uint64_t added, replaced, refreshed, withdrawn, expired;
	uint64_t refused;		/* templates refused by a bound */
	uint64_t evicted;		/* templates evicted for an exporter under its minimum */
	uint64_t sources_refused;
	uint64_t sources_unindexed;	/* past TMPL_SRC_INDEX_MAX (tmpl_cache_source) */
	uint64_t pending_held, pending_rescued, pending_dropped;
	uint64_t pending_bytes;		/* held now */
	uint64_t ended;			/* templates dropped with their session (tmpl_exporter_end) */
	uint64_t sessions_ended;	/* tmpl_exporter_end calls that found the exporter */
};

struct tmpl_source {
	struct weir_exporter exporter;
	uint32_t domain;
	/* sequence tracking: tmpl_seq_check() */
	uint8_t seq_valid;
	uint32_t seq_next;
	uint64_t seq_gaps;		/* gaps seen */
	uint64_t seq_lost;		/* units missing (records, packets or datagrams) */
	uint64_t seq_reordered;		/* sequence numbers that went backwards */
	/* Time base learnt from options data, for every later record of the
	 * source: IPFIX systemInitTimeMilliseconds (IE 160), ms since the
	 * epoch, 0 unknown. The flow layer sets and reads it (norm.c). */
	uint64_t sys_init_ms;
	uint8_t seq_mode;		/* IPFIX: the source's convention (tmpl.c) */
	uint32_t seq_last, seq_last_nall, seq_last_nflow;	/* IPFIX: the last message */
	/* private to tmpl.c from here on */
	struct tmpl_cache *cache;
	struct tmpl_exp *exp;
	struct oah tab;			/* key id + 1, value struct tmpl * */
	struct tmpl_sampler *samplers;
	uint32_t nsamplers;
	struct tmpl_pending *pend_head, *pend_tail;
	uint32_t pend_bytes;
};

struct tmpl_cache;
struct ie_registry;

/* NULL on allocation failure. The cache keeps the registry pointer (which
 * may be NULL: built-in elements only); the registry must outlive it. */
struct tmpl_cache *tmpl_cache_new(const struct tmpl_limits *lim, const struct ie_registry *ies);
void tmpl_cache_free(struct tmpl_cache *c);
const struct tmpl_stats *tmpl_cache_stats(const struct tmpl_cache *c);
const struct ie_registry *tmpl_cache_ies(const struct tmpl_cache *c);
/* The sources of c in the order they were made, for a reader in another
 * thread (a metrics thread) while the owner decodes: the count only grows
 * (an acquire load), and a source returned lives as long as the cache; its
 * exporter address does not change (its port and domain do when a source
 * of an ended session is taken back, see tmpl_exporter_end), and its seq_*
 * counters only grow, written with relaxed atomic stores (read them with
 * relaxed atomic loads). The
 * first TMPL_SRC_INDEX_MAX sources are indexed (the rest are counted in
 * sources_unindexed). tmpl_cache_source returns NULL past the count. */
#define TMPL_SRC_INDEX_MAX	(1u << 22)
uint32_t tmpl_cache_nsources(const struct tmpl_cache *c);
const struct tmpl_source *tmpl_cache_source(const struct tmpl_cache *c, uint32_t i);

/* A transport session ended (a TCP connection closed): everything exporter
 * e (address and port) holds goes, since RFC 7011 section 8 forbids using
 * the templates of one session to decode another's data: every template
 * of its sources (counted in st.ended), held data (st.pending_dropped),
 * sampler rates, time base and sequence state. Its sources leave the cache
 * (st.sources goes down) but stay in the index (tmpl_cache_source), idle;
 * the next source made for an exporter of the same address, whatever its
 * port and domain, takes one of them back with its sequence counters,
 * which go on adding up under that address. So the index grows with the
 * most sources an address held at once, not with its connections; idle
 * sources count against max_sources, like live ones. Returns the number of
 * templates dropped (0 also when e held nothing). */
uint32_t tmpl_exporter_end(struct tmpl_cache *c, const struct weir_exporter *e);

/* The registry of the cache a source belongs to (NULL: built-ins only). */
const struct ie_registry *tmpl_source_ies(const struct tmpl_source *s);

/* Find, or create when create != 0, the source for (exporter, domain).
 * NULL when unknown (create == 0) or refused by a bound (counted). */
struct tmpl_source *tmpl_source_get(struct tmpl_cache *c, const struct weir_exporter *e,
				    uint32_t domain, int create);

/* Template by id, or NULL when unknown or expired (now_ns is the receive
 * time; expired templates are removed and counted). The pointer stays valid
 * until the next tmpl_add/tmpl_withdraw/expiry on that source, or the next
 * tmpl_add on any source of the cache (which may evict it, see above). */
const struct tmpl *tmpl_find(struct tmpl_source *s, uint16_t id, uint64_t now_ns);

/* Build a template: fills f[i].def, has_varlen, min_len, the sampler/rate
 * field indices from the (pen, id, len) the decoder parsed, and tmpl.ext.
 * t must have room for nfields fields. */
void tmpl_finish(const struct tmpl_cache *c, struct tmpl *t);

/* Store a copy of t (already tmpl_finish()ed) for source s at now_ns. An
 * identical template is only refreshed; a different one with the same id
 * replaces it (RFC 7011 section 8). WEIR_E_LIMIT when a bound refuses it,
 * WEIR_E_NOMEM on allocation failure; both counted in the stats. */
int tmpl_add(struct tmpl_source *s, const struct tmpl *t, uint64_t now_ns);

/* Withdraw template id (RFC 7011 section 8.1). all_of_proto_set: the
 * withdrawal named the set id itself (2 or 3), removing every template
 * (scope_count == 0 for 2, > 0 for 3) of the source. */
int tmpl_withdraw(struct tmpl_source *s, uint16_t id);
int tmpl_withdraw_all(struct tmpl_source *s, int options);

/* Sequence numbers. step is what this message adds to the exporter's
 * counter (v9: 1, export packets, RFC 3954 section 5.1; sFlow: 1,
 * datagrams; v5: flows). Returns the number of units lost before this
 * message (0 in order). */
uint64_t tmpl_seq_check(struct tmpl_source *s, uint32_t seq, uint32_t step);

/* IPFIX (RFC 7011 section 3.1): the sequence number counts the Data Records
 * sent before this message; nall is this message's data records, nflow
 * those of them of non-options templates. Real exporters count otherwise
 * (softflowd: the message's own flow records included, options records
 * left out): when a source's numbers fit one of those conventions and not
 * the RFC's, the source is held to that convention from then on and 1 is
 * returned (a quirk, once per source); else 0. Gaps and reordering are
 * counted as by tmpl_seq_check. */
int tmpl_seq_check_records(struct tmpl_source *s, uint32_t seq, uint32_t nall, uint32_t nflow);

/* Samplers (RFC 7011 options data, v9 options): rate per sampler id; id 0
 * is the exporter's default (options records without a sampler id). */
int tmpl_sampler_set(struct tmpl_source *s, uint64_t sampler_id, uint32_t rate);
uint32_t tmpl_sampler_get(const struct tmpl_source *s, uint64_t sampler_id);

/* Held data. tmpl_pending_add copies a data set body that arrived before
 * its template, with the header facts needed to decode it later (hdr, an
 * opaque blob of hdr_len <= 32 bytes). When the source is over its bound the
 * oldest held sets are dropped first (counted). An ordered cache holds
 * nothing: WEIR_E_NO_TEMPLATE, not counted. */
int tmpl_pending_add(struct tmpl_source *s, uint16_t tid, const void *hdr, size_t hdr_len,
		     const uint8_t *body, size_t len, uint64_t now_ns);
/* Hand every held set for template tid to fn, oldest first, then free them
 * (counted as rescued). Sets held longer than the age bound are dropped. */
typedef void (*tmpl_pending_fn)(void *user, const void *hdr, size_t hdr_len,
				const uint8_t *body, size_t len);
void tmpl_pending_take(struct tmpl_source *s, uint16_t tid, uint64_t now_ns,
		       tmpl_pending_fn fn, void *user);

/* Persistence: every template and sampler rate, to a file written atomically
 * (temporary file + rename). Load adds to the cache what the file holds, with
 * refreshed_ns = now_ns; a damaged file is WEIR_E_PARSE and adds nothing. */
int tmpl_cache_save(const struct tmpl_cache *c, const char *path);
int tmpl_cache_load(struct tmpl_cache *c, const char *path, uint64_t now_ns);

#endif
