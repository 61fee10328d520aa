/* ie.h - the registry of IPFIX information elements.
 *
 * The built-in table is generated at build time from the CSV files of ie-defs/; the same
 * CSV format loads at run time (ie_load_csv) for custom elements. CSV format,
 * one header row then one element a row ('#' starts a comment line):
 *
 *   enterprise,id,name,type,semantics,units
 *   0,1,octetDeltaCount,unsigned64,deltaCounter,octets
 *
 * enterprise: private enterprise number (0 = IANA), or "v9" for NetFlow v9
 * field types in the vendor range (>= 32768), which have no enterprise bit.
 * type: an RFC 7012 abstract data type name; semantics and units may be empty.
 */
#ifndef WEIR_IE_H
#define WEIR_IE_H

#include <stddef.h>
#include <stdint.h>

#define IE_PEN_IANA	0u
#define IE_PEN_REVERSE	29305u		/* RFC 5103 reverse information elements */
#define IE_PEN_V9	0xFFFFFFFFu	/* NetFlow v9 vendor field types >= 32768 */

enum ie_type {
	IE_T_OCTETS = 0,	/* octetArray; also the type of unknown elements */
	IE_T_U8, IE_T_U16, IE_T_U32, IE_T_U64,
	IE_T_I8, IE_T_I16, IE_T_I32, IE_T_I64,
	IE_T_F32, IE_T_F64,
	IE_T_BOOL,
	IE_T_MAC,
	IE_T_STRING,
	IE_T_DT_SEC, IE_T_DT_MS, IE_T_DT_US, IE_T_DT_NS,
	IE_T_IPV4, IE_T_IPV6,
	IE_T_BASICLIST, IE_T_STL, IE_T_STML,
	IE_T_COUNT
};

enum ie_sem {
	IE_S_DEFAULT = 0, IE_S_QUANTITY, IE_S_TOTAL, IE_S_DELTA, IE_S_IDENTIFIER,
	IE_S_FLAGS, IE_S_LIST, IE_S_SNMP_COUNTER, IE_S_SNMP_GAUGE,
	IE_S_COUNT
};

struct ie_def {
	uint32_t pen;
	uint16_t id;		/* without the enterprise bit */
	uint8_t type;		/* enum ie_type */
	uint8_t sem;		/* enum ie_sem */
	const char *name;
	const char *units;	/* "" when none */
};

struct ie_registry;

/* The generated built-in table, sorted by (pen, id). */
extern const struct ie_def ie_builtin_defs[];
extern const size_t ie_builtin_count;

/* A registry starts with the built-in table; the caller owns it and frees it
 * with ie_registry_free() (NULL is accepted). NULL on allocation failure. */
struct ie_registry *ie_registry_new(void);
void ie_registry_free(struct ie_registry *reg);

/* Look an element up; custom (loaded) elements win over built-in ones.
 * reg may be NULL: built-in table only. Returns NULL when unknown. The
 * returned pointer lives as long as the registry (built-ins forever). */
const struct ie_def *ie_find(const struct ie_registry *reg, uint32_t pen, uint16_t id);
const struct ie_def *ie_find_name(const struct ie_registry *reg, const char *name);

/* Load custom elements from a CSV file in the format above. On error returns
 * WEIR_E_PARSE or WEIR_E_IO and writes "file:line: what" into err; the
 * registry then holds none of that file's lines. */
int ie_load_csv(struct ie_registry *reg, const char *path, char *err, size_t errlen);

/* Names <-> enum values; -1 for an unknown name, "?" for a bad value. */
int ie_type_parse(const char *s);
const char *ie_type_name(int type);
int ie_sem_parse(const char *s);
const char *ie_sem_name(int sem);

/* Natural size in bytes of a fixed-size type, 0 for variable ones. */
unsigned ie_type_size(int type);

#endif
