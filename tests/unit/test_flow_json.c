/* test_flow_json.c - flow_json_cached() writes what flow_json() writes,
 * whichever shared member changes between two records. */
#include <criterion/criterion.h>
#include <string.h>

#include "flow_json.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_flow(struct flow *f, uint64_t *s, const struct flow *prev)
{
	uint64_t r = rnd(s);

	if (prev)
		*f = *prev;
	else
		memset(f, 0, sizeof(*f));
	/* Change one shared member at a time (or none) so that every kind
	 * of cache miss and hit comes up. */
	switch (r % 8) {
	case 0: f->time_received_ns = rnd(s); break;
	case 1: f->sequence_num = (uint32_t)rnd(s); break;
	case 2: f->sampling_rate = (uint32_t)rnd(s) % 3; break;
	case 3: f->observation_domain_id = (uint32_t)rnd(s) % 3; break;
	case 4: f->type = (uint8_t)(rnd(s) % 5); break;
	case 5: f->has ^= FLOW_HAS_SAMPLER; break;
	case 6: weir_addr_v4u(&f->sampler_address, (uint32_t)rnd(s) % 4); break;
	default: break;
	}
	f->has = (f->has & FLOW_HAS_SAMPLER) | (rnd(s) & ~(uint64_t)FLOW_HAS_SAMPLER & ((1ull << 30) - 1));
	f->bytes = rnd(s);
	f->packets = rnd(s) >> (rnd(s) % 64);
	f->time_flow_start_ns = rnd(s);
	weir_addr_v4u(&f->src_addr, (uint32_t)rnd(s));
	weir_addr_v4u(&f->dst_addr, (uint32_t)rnd(s));
	f->src_port = (uint16_t)rnd(s);
	f->proto = (uint8_t)rnd(s);
}

Test(flow_json, cached_output_equals_uncached)
{
	struct flow_json_cache c;
	struct flow f, prev;
	char a[FLOW_JSON_MAX], b[FLOW_JSON_MAX];
	uint64_t s = 12345;
	unsigned hits = 0;

	memset(&c, 0, sizeof(c));
	for (int i = 0; i < 20000; i++) {
		random_flow(&f, &s, i ? &prev : NULL);
		size_t n = flow_json(&f, a, sizeof(a));
		uint16_t before = c.len;
		uint64_t t = c.time_received_ns;
		size_t m = flow_json_cached(&f, b, sizeof(b), &c);

		hits += before && t == f.time_received_ns && c.len == before;
		cr_assert_gt(n, 0);
		cr_assert_eq(n, m, "record %d: %zu vs %zu bytes", i, n, m);
		cr_assert_eq(memcmp(a, b, n), 0, "record %d:\n%.*s%.*s", i, (int)n, a, (int)m, b);
		prev = f;
	}
	cr_assert_gt(hits, 1000, "the cache was used (%u hits)", hits);
}

Test(flow_json, cached_output_too_small_is_zero)
{
	struct flow_json_cache c;
	struct flow f;
	char b[FLOW_JSON_MAX];
	uint64_t s = 99;

	memset(&c, 0, sizeof(c));
	random_flow(&f, &s, NULL);
	size_t n = flow_json(&f, b, sizeof(b));
	for (size_t cap = 0; cap < n; cap++)
		cr_assert_eq(flow_json_cached(&f, b, cap, &c), 0, "cap %zu", cap);
	cr_assert_eq(flow_json_cached(&f, b, n, &c), n);
}

/* A caller's members (struct flow_extra) go before the closing brace, as
 * the formatter writes the line; a line they do not fit is 0. */
static size_t two_members(void *arg, char *out, size_t cap)
{
	static const char m[] = ",\"asn\":64500,\"org\":\"x\"";

	(*(unsigned *)arg)++;
	if (cap < sizeof(m) - 1)
		return SIZE_MAX;
	memcpy(out, m, sizeof(m) - 1);
	return sizeof(m) - 1;
}

Test(flow_json, extra_members_before_the_brace)
{
	struct flow_json_cache c;
	struct flow f;
	char a[FLOW_JSON_MAX], b[FLOW_JSON_MAX + 64];
	unsigned calls = 0;
	struct flow_extra x = { two_members, &calls };
	uint64_t s = 7;

	memset(&c, 0, sizeof(c));
	random_flow(&f, &s, NULL);
	size_t n = flow_json(&f, a, sizeof(a));
	size_t m = flow_json_cached_x(&f, b, sizeof(b), &c, &x);

	cr_assert_eq(m, n + 22);
	cr_assert_eq(memcmp(a, b, n - 2), 0);
	cr_assert_eq(memcmp(b + n - 2, ",\"asn\":64500,\"org\":\"x\"}\n", 24), 0, "%.*s", (int)m, b);
	cr_assert_eq(calls, 1);
	for (size_t cap = n - 2; cap < m; cap++)
		cr_assert_eq(flow_json_cached_x(&f, b, cap, &c, &x), 0, "cap %zu", cap);
	cr_assert_eq(flow_json_cached_x(&f, b, sizeof(b), &c, NULL), n, "no extra: the plain line");
}
