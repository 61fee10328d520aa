/* rec_json.h - one decoded record as raw JSON (the collector's default
 * output): every field under its IANA (or vendor) name, values typed by the
 * element's abstract data type. docs/formats.md has the whole shape.
 *
 * Shape of a template-based record (v5, v9, IPFIX):
 *   {"type":"IPFIX","exporter":"192.0.2.1","exporter_port":4739,
 *    "observation_domain_id":1,"template_id":256,"options":false,
 *    "time_received_ns":...,"sequence_num":...,"export_time":...,
 *    "sampling_rate":...,"fields":{"octetDeltaCount":1234,...}}
 * v5 and v9 records also carry "sys_uptime_ms" (the base of their
 * SysUpTime fields). Options records have "options":true and their scope
 * fields in "scope":{...}. Unknown elements are named "<pen>_<id>" ("v9_<id>"
 * for v9 vendor types) with their value as a hex string; octetArray values,
 * and values whose length does not fit their type, are hex strings; integers
 * of any width up to 8 bytes are numbers; NaN/infinities and boolean values
 * other than 1/2 are null; NTP times (dateTimeMicro/Nanoseconds) are
 * nanoseconds since 1970; strings are escaped, ill-formed UTF-8 becomes
 * U+FFFD and trailing NULs are dropped; paddingOctets is left out. RFC 6313
 * lists become JSON arrays (of values for a basicList, of objects for
 * subTemplate(Multi)Lists), nested as deep as the decoder let through; a
 * list that does not walk, or whose JSON would be more than 64 bytes per
 * list byte, is its hex string. sFlow samples become
 * {"type":"SFLOW_5",...,"sample":{...}} with their decoded records. A name
 * that occurs twice in one record gets "_2", "_3" suffixes.
 */
#ifndef WEIR_REC_JSON_H
#define WEIR_REC_JSON_H

#include <stddef.h>

#include "decode.h"

/* Write rec as one JSON object and a newline into buf. Returns the length,
 * or 0 when cap is too small (the caller may retry with a larger buffer;
 * REC_JSON_MAX always suffices for a record of a 65535-byte message whose
 * elements have built-in names; a list's JSON that outgrows a smaller cap
 * gives 0 even where its hex form would have fitted). Nothing is written
 * past buf[cap - 1].
 * Call it during the record callback, on the decoder's thread: the views
 * die after the callback, and subTemplate(Multi)Lists look their templates
 * up in the record's source (tmpl_find, which may expire them). No
 * allocation. */
#define REC_JSON_MAX (1u << 20)
size_t rec_json(const struct weir_record *rec, char *buf, size_t cap);

/* What consecutive records share, kept as text between calls: the members
 * before "fields" (the same for every record of a message and template)
 * and the "name": keys of one template's fields. A collector formats them
 * once per message and template instead of once per record. Zero it before
 * first use; one per thread. The template is recognized by its address and
 * a signature of its field list, so a template replaced in place is not
 * mistaken for the old one. */
#define REC_JSON_HEAD_MAX	512
#define REC_JSON_KEYS_MAX	8192
#define REC_JSON_KEYS_FIELDS	256	/* templates with more fields are not cached */
struct rec_json_cache {
	/* The head: valid when head_len != 0 and every key member matches. */
	struct weir_exporter exporter;
	uint8_t has_exporter, proto, is_options;
	uint32_t domain, sequence, export_time, sys_uptime_ms, sampling_rate;
	uint64_t recv_time_ns;
	uint16_t tid;
	uint16_t head_len;
	char head[REC_JSON_HEAD_MAX];
	/* The keys: valid when kt != NULL and the signature matches. */
	const void *kt;
	uint64_t ksig;
	uint16_t nkeys;
	uint16_t koff[REC_JSON_KEYS_FIELDS + 1];
	char keys[REC_JSON_KEYS_MAX];
};

/* rec_json() with c (same output). */
size_t rec_json_cached(const struct weir_record *rec, char *buf, size_t cap, struct rec_json_cache *c);

#endif
