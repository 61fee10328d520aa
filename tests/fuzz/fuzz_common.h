/* fuzz_common.h - the shape every decoder harness shares.
 *
 * An input is split into several messages at the 4-byte marker "\xffWM\xff",
 * and all of them go through one template cache, so templates learnt from
 * one message meet data of the next, held data gets rescued, withdrawals hit
 * live templates. State is fresh for every input. Every record handed out
 * is normalized and every value byte read, so an out-of-bounds view shows
 * under ASan.
 */
#ifndef WEIR_FUZZ_COMMON_H
#define WEIR_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "tmpl.h"

#define FUZZ_MARK "\xffWM\xff"
#define FUZZ_MAX_MSGS 16

typedef int (*fuzz_decode_fn)(struct weir_ctx *, const struct weir_exporter *,
			      const uint8_t *, size_t, uint64_t);

static volatile uint64_t fuzz_sink;

static int fuzz_on_record(const struct weir_record *rec, void *user)
{
	struct flow f;
	uint64_t acc = 0;

	(void)user;
	if (rec->t && rec->v) {
		for (uint16_t i = 0; i < rec->t->nfields; i++)
			for (uint32_t k = 0; k < rec->v[i].len; k++)
				acc += rec->v[i].p[k];
	}
	if (flow_from_record(rec, &f) == WEIR_OK)
		acc += f.bytes + f.packets + f.src_port;
	fuzz_sink += acc;
	return 0;
}

static int fuzz_run(fuzz_decode_fn decode, const uint8_t *data, size_t size)
{
	struct tmpl_limits lim;
	struct weir_exporter e;
	struct weir_ctx ctx;
	size_t off = 0;
	int n = 0;

	tmpl_limits_default(&lim);
	/* Small bounds so the fuzzer reaches them. */
	lim.max_templates = 64;
	lim.max_templates_per_exporter = 32;
	lim.max_pending_bytes = 64 << 10;
	lim.max_pending_per_source = 16 << 10;
	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0x7f000001);
	e.port = 2055;
	ctx.cache = tmpl_cache_new(&lim, NULL);
	if (!ctx.cache)
		return 0;
	ctx.on_record = fuzz_on_record;
	while (off <= size && n++ < FUZZ_MAX_MSGS) {
		const uint8_t *m = memmem(data + off, size - off, FUZZ_MARK, 4);
		size_t len = m ? (size_t)(m - (data + off)) : size - off;

		decode(&ctx, &e, data + off, len, (uint64_t)n * 1000000000ull);
		if (!m)
			break;
		off += len + 4;
	}
	tmpl_cache_free(ctx.cache);
	return 0;
}

#endif
