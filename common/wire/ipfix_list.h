/* ipfix_list.h - RFC 6313 structured data: basicList, subTemplateList,
 * subTemplateMultiList.
 *
 * A list is the value of one field of a data record (usually a
 * variable-length field, RFC 7011 section 7). Its encoding (RFC 6313
 * section 4.5):
 *
 *   basicList            semantic(1) fieldId(2, bit 15 = enterprise)
 *                        elementLength(2) [enterprise number(4)] elements
 *   subTemplateList      semantic(1) templateId(2) data records
 *   subTemplateMultiList semantic(1), then blocks of
 *                        templateId(2) length(2, header included) data records
 *
 * Elements of a basicList with elementLength 65535 carry the variable-length
 * prefix of RFC 7011 section 7 each. Templates named inside lists are looked
 * up in the tmpl_source of the message, as for data sets.
 *
 * Nesting is bounded: a list in a top-level data record has depth 1, a list
 * inside a record or element of that list depth 2, and so on; a list deeper
 * than max_depth is WEIR_E_NESTING. A list whose bytes do not add up is
 * WEIR_E_LIST. Nothing here allocates; the views point into the list bytes.
 */
#ifndef WEIR_IPFIX_LIST_H
#define WEIR_IPFIX_LIST_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "ie.h"
#include "rd.h"
#include "tmpl.h"

/* IANA information elements of the three list types (RFC 6313 section 11.1). */
#define IPFIX_IE_BASICLIST	291
#define IPFIX_IE_STL		292
#define IPFIX_IE_STML		293

/* A hard cap on max_depth whatever the caller asks: recursion is bounded by
 * it, and no exporter nests deeper. */
#define IPFIX_LIST_DEPTH_HARD	32

enum ipfix_list_kind {
	IPFIX_LIST_NONE		= 0,
	IPFIX_LIST_BASIC	= 1,	/* basicList */
	IPFIX_LIST_STL		= 2,	/* subTemplateList */
	IPFIX_LIST_STML		= 3,	/* subTemplateMultiList */
};

/* Structured data semantics (RFC 6313 section 4.4). Other values are
 * unassigned and passed through. */
enum ipfix_list_sem {
	IPFIX_SEM_NONE_OF		= 0x00,
	IPFIX_SEM_EXACTLY_ONE_OF	= 0x01,
	IPFIX_SEM_ONE_OR_MORE_OF	= 0x02,
	IPFIX_SEM_ALL_OF		= 0x03,
	IPFIX_SEM_ORDERED		= 0x04,
	IPFIX_SEM_UNDEFINED		= 0xFF,
};

/* What a walker needs besides the bytes. */
struct ipfix_list_env {
	struct tmpl_source *src;	/* resolves template ids; NULL: the records of
					 * subTemplate(Multi)Lists are opaque */
	const struct ie_registry *ies;	/* basicList element definitions; NULL = built-in */
	unsigned max_depth;		/* 0 = WEIR_LIST_DEPTH_DEFAULT */
	uint64_t now_ns;		/* for tmpl_find() expiry */
};

/* List kind of a field: by its element's abstract type, or for elements the
 * registry does not know by the IANA ids 291..293. */
int ipfix_list_kind(const struct tmpl_field *f);
int ipfix_list_kind_ie(const struct ie_registry *ies, uint32_t pen, uint16_t id);

/* Read one record of template t from r into v[0 .. t->nfields): fixed
 * fields take their template length, variable-length fields their RFC 7011
 * section 7 prefix (1 byte, or 255 then 2 bytes). WEIR_OK, or
 * WEIR_E_VARLEN when a field runs past the bytes of r (r then fails). */
int ipfix_record_read(struct rd *r, const struct tmpl *t, struct weir_value *v);

/* Validate the list of the given kind held in p[0..len) and everything
 * nested in it, the list being at nesting level depth (1 for a field of a
 * top-level record). WEIR_OK, WEIR_E_LIST or WEIR_E_NESTING. Records of
 * templates that env->src does not know are skipped as opaque (their
 * framing is still checked in a subTemplateMultiList). */
int ipfix_list_check(const struct ipfix_list_env *env, int kind, const uint8_t *p,
		     size_t len, unsigned depth);

/* Iterator over one list. Each item comes out as a record: a template and
 * its values. basicList elements come out one at a time as a record of a
 * one-field template (id 0) that lives in the iterator; subTemplateList and
 * subTemplateMultiList records as records of their template from the cache.
 * Views and templates stay valid while the list bytes do and until the
 * cache changes (tmpl_add, tmpl_withdraw). */
struct ipfix_list_it {
	const struct ipfix_list_env *env;
	unsigned depth;			/* nesting level of this list */
	uint8_t kind;			/* enum ipfix_list_kind */
	uint8_t semantic;		/* enum ipfix_list_sem */
	uint16_t tid;			/* STL: template id; STML: id of the current block */
	uint32_t skipped;		/* STML blocks skipped: template unknown */
	int err;			/* sticky */
	struct rd r;			/* list content not yet walked */
	struct rd blk;			/* STML: rest of the current block */
	const struct tmpl *t;		/* STL/STML: template of the current records */
	union {				/* basicList: the element as a one-field template */
		struct tmpl t;
		uint8_t raw[sizeof(struct tmpl) + sizeof(struct tmpl_field)];
	} elem;
};

/* Open the list of kind in p[0..len) at nesting level depth. WEIR_OK, or
 * WEIR_E_NESTING (depth past the bound), WEIR_E_LIST (header malformed),
 * WEIR_E_INVALID (kind). */
int ipfix_list_open(struct ipfix_list_it *it, const struct ipfix_list_env *env, int kind,
		    const uint8_t *p, size_t len, unsigned depth);

/* Open the list held in field f with value v of a record that belongs to
 * the list of parent (parent NULL: a top-level data record, depth 1).
 * WEIR_E_INVALID when f is not of a list type. */
int ipfix_list_open_field(struct ipfix_list_it *it, const struct ipfix_list_env *env,
			  const struct ipfix_list_it *parent, const struct tmpl_field *f,
			  const struct weir_value *v);

/* Next item: 1 with *t and v[0 .. (*t)->nfields) filled, 0 at the end, or a
 * negative error: WEIR_E_LIST (malformed), WEIR_E_NO_TEMPLATE (a
 * subTemplateList whose template is unknown), WEIR_E_LIMIT (more fields
 * than cap). Errors are sticky. */
int ipfix_list_next(struct ipfix_list_it *it, const struct tmpl **t, struct weir_value *v,
		    size_t cap);

#endif
