/* flow_json.h - struct flow as one JSON object (the "common" format).
 *
 * Field names are those of docs/design.md; fields the record did not carry
 * (struct flow.has) are left out. Written by hand, without printf, because
 * a collector writes millions of these a second.
 */
#ifndef WEIR_FLOW_JSON_H
#define WEIR_FLOW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/* Longest object flow_json() can write, newline included. */
#define FLOW_JSON_MAX 1024

/* Write f as one JSON object and a newline into buf (cap bytes). Returns the
 * length written, or 0 when cap is too small (nothing useful written). */
size_t flow_json(const struct flow *f, char *buf, size_t cap);

/* The members every record of one message shares (type, time received,
 * sequence number, sampling rate, sampler address, observation domain),
 * kept as text between calls: a collector formats them once per message
 * instead of once per record. Zero it before first use; one per thread. */
#define FLOW_JSON_HEAD_MAX 256
struct flow_json_cache {
	uint64_t time_received_ns;
	uint32_t sequence_num, sampling_rate, observation_domain_id;
	struct weir_addr sampler_address;
	uint8_t type, has_sampler;
	uint16_t len;			/* 0: empty */
	char text[FLOW_JSON_HEAD_MAX];
};

/* flow_json() with the shared members taken from c when they match f
 * (and c refilled when they do not). The output is the same. */
size_t flow_json_cached(const struct flow *f, char *buf, size_t cap, struct flow_json_cache *c);
/* flow_json_cached() with x's members written before the closing brace
 * (x may be NULL); 0 when they do not fit either. */
size_t flow_json_cached_x(const struct flow *f, char *buf, size_t cap, struct flow_json_cache *c,
			  const struct flow_extra *x);

#endif
