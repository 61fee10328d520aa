/* Unit tests of normalization (common/flow/norm.c) and the common JSON writer
 * (common/fmt/flow_json.c), on records built by hand. */
#include <criterion/criterion.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "flow_json.h"
#include "norm_int.h"
#include "tmpl.h"

#define MAXF 32

struct rb {
	union {
		struct tmpl t;
		uint8_t space[sizeof(struct tmpl) + MAXF * sizeof(struct tmpl_field)];
	} u;
	struct weir_value v[MAXF];
	uint8_t data[MAXF][16];
	struct weir_msg m;
	struct weir_exporter e;
	struct weir_record rec;
};

static void rb_init(struct rb *b, uint8_t proto)
{
	memset(b, 0, sizeof(*b));
	b->u.t.id = 256;
	b->u.t.proto = proto;
	b->m.proto = proto;
	b->m.export_time = 1700000000;
	b->m.sys_uptime_ms = 100000;
	b->m.recv_time_ns = 1700000000123456789ull;
	b->m.sequence = 77;
	b->m.domain = 5;
	weir_addr_v4u(&b->e.addr, 0xc0000201);
	b->m.exporter = &b->e;
	b->rec.msg = &b->m;
	b->rec.t = &b->u.t;
	b->rec.v = b->v;
	b->rec.sampling_rate = 100;
}

/* Add field (id, len) with value val (big-endian, len <= 8), or raw bytes. */
static void add_u(struct rb *b, uint16_t id, uint16_t len, uint64_t val)
{
	uint16_t i = b->u.t.nfields++;

	b->u.t.f[i].id = id;
	b->u.t.f[i].len = len;
	for (uint16_t k = 0; k < len && k < 8; k++)
		b->data[i][len - 1 - k] = (uint8_t)(val >> (8 * k));
	b->v[i].p = b->data[i];
	b->v[i].len = len;
}

static void add_raw(struct rb *b, uint16_t id, const void *p, uint16_t len)
{
	uint16_t i = b->u.t.nfields++;

	b->u.t.f[i].id = id;
	b->u.t.f[i].len = len;
	memcpy(b->data[i], p, len);
	b->v[i].p = b->data[i];
	b->v[i].len = len;
}

static struct flow norm(struct rb *b)
{
	struct flow f;

	tmpl_finish(NULL, &b->u.t);
	cr_assert_eq(flow_from_record(&b->rec, &f), WEIR_OK);
	return f;
}

Test(norm, ipfix_basic_fields)
{
	struct rb b;
	struct flow f;
	uint8_t src[4] = { 10, 1, 2, 3 }, dst[4] = { 192, 168, 9, 9 };
	uint8_t mac[6] = { 0, 1, 2, 3, 4, 5 };

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 1, 8, 123456789012ull);
	add_u(&b, 2, 4, 1000);
	add_raw(&b, 8, src, 4);
	add_raw(&b, 12, dst, 4);
	add_u(&b, 7, 2, 40000);
	add_u(&b, 11, 2, 443);
	add_u(&b, 4, 1, 6);
	add_u(&b, 5, 1, 0x2e);
	add_u(&b, 6, 2, 0x1ff);
	add_u(&b, 10, 4, 7);
	add_u(&b, 14, 2, 8);
	add_u(&b, 16, 4, 4200000000u);
	add_u(&b, 17, 2, 65001);
	add_u(&b, 9, 1, 24);
	add_u(&b, 13, 1, 16);
	add_raw(&b, 56, mac, 6);
	add_u(&b, 58, 2, 0x1064);	/* priority bits above the 12-bit id */
	add_u(&b, 192, 1, 63);
	add_u(&b, 152, 8, 1700000000500ull);
	add_u(&b, 153, 8, 1700000000900ull);
	f = norm(&b);
	cr_assert_eq(f.type, WEIR_PROTO_IPFIX);
	cr_assert_eq(f.bytes, 123456789012ull);
	cr_assert_eq(f.packets, 1000);
	cr_assert(weir_addr_is_v4(&f.src_addr));
	cr_assert_eq(memcmp(f.src_addr.a + 12, src, 4), 0);
	cr_assert_eq(memcmp(f.dst_addr.a + 12, dst, 4), 0);
	cr_assert_eq(f.etype, 0x0800);
	cr_assert_eq(f.src_port, 40000);
	cr_assert_eq(f.dst_port, 443);
	cr_assert_eq(f.proto, 6);
	cr_assert_eq(f.ip_tos, 0x2e);
	cr_assert_eq(f.tcp_flags, 0x1ff);
	cr_assert_eq(f.in_if, 7);
	cr_assert_eq(f.out_if, 8);
	cr_assert_eq(f.src_as, 4200000000u);
	cr_assert_eq(f.dst_as, 65001);
	cr_assert_eq(f.src_net, 24);
	cr_assert_eq(f.dst_net, 16);
	cr_assert_eq(memcmp(f.src_mac, mac, 6), 0);
	cr_assert_eq(f.vlan_id, 0x064);
	cr_assert_eq(f.ip_ttl, 63);
	cr_assert_eq(f.time_flow_start_ns, 1700000000500000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1700000000900000000ull);
	cr_assert_eq(f.sampling_rate, 100);
	cr_assert_eq(f.sequence_num, 77);
	cr_assert_eq(f.observation_domain_id, 5);
	cr_assert_eq(f.time_received_ns, 1700000000123456789ull);
	cr_assert(f.has & FLOW_HAS_SAMPLER);
	cr_assert_not(f.has & FLOW_HAS_DST_MAC);
	cr_assert_not(f.has & FLOW_HAS_NEXT_HOP);
	cr_assert_not(f.has & FLOW_HAS_ICMP);
}

Test(norm, delta_counters_win_over_total_in_any_order)
{
	struct rb b;
	struct flow f;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 85, 8, 999);		/* octetTotalCount first */
	add_u(&b, 86, 8, 99);
	add_u(&b, 1, 4, 10);
	add_u(&b, 2, 4, 1);
	f = norm(&b);
	cr_assert_eq(f.bytes, 10);
	cr_assert_eq(f.packets, 1);

	rb_init(&b, WEIR_PROTO_NF9);
	add_u(&b, 23, 4, 555);		/* OUT_BYTES alone stands in */
	add_u(&b, 24, 4, 5);
	f = norm(&b);
	cr_assert_eq(f.bytes, 555);
	cr_assert_eq(f.packets, 5);
}

Test(norm, reduced_size_and_odd_widths)
{
	struct rb b;
	struct flow f;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 1, 3, 0x123456);	/* RFC 7011 6.2: any width up to 8 */
	add_u(&b, 2, 6, 0x0000ab0000cdull);
	add_u(&b, 10, 1, 200);
	f = norm(&b);
	cr_assert_eq(f.bytes, 0x123456);
	cr_assert_eq(f.packets, 0xab0000cdull);
	cr_assert_eq(f.in_if, 200);
}

Test(norm, v9_uptime_times_are_absolute)
{
	struct rb b;
	struct flow f;

	rb_init(&b, WEIR_PROTO_NF9);
	/* Header: export at 1700000000 s with uptime 100000 ms. */
	add_u(&b, 22, 4, 90000);	/* started 10 s before export */
	add_u(&b, 21, 4, 100250);	/* ended 250 ms after the header's snapshot */
	f = norm(&b);
	cr_assert_eq(f.time_flow_start_ns, 1699999990000000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1700000000250000000ull);

	/* Uptime that wrapped past 2^32 ms between the flow and the export. */
	rb_init(&b, WEIR_PROTO_NF9);
	b.m.sys_uptime_ms = 1000;
	add_u(&b, 22, 4, 0xFFFFFC18u);	/* 1000 ms before the wrap */
	f = norm(&b);
	cr_assert_eq(f.time_flow_start_ns, 1699999998000000000ull);
}

Test(norm, ipfix_uptime_needs_system_init_time)
{
	struct rb b;
	struct flow f;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 22, 4, 5000);
	f = norm(&b);
	cr_assert_not(f.has & FLOW_HAS_TIME_START, "no base for IPFIX uptime");

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 22, 4, 5000);
	add_u(&b, 21, 4, 6000);
	add_u(&b, 160, 8, 1600000000000ull);
	f = norm(&b);
	cr_assert_eq(f.time_flow_start_ns, 1600000005000000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1600000006000000000ull);
}

Test(norm, ntp_seconds_and_delta_times)
{
	struct rb b;
	struct flow f;
	/* 1700000000 s since 1970 is 3908988800 s since 1900; fraction 0.5. */
	uint64_t ntp = (3908988800ull << 32) | 0x80000000u;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 156, 8, ntp);		/* flowStartNanoseconds */
	add_u(&b, 155, 8, ntp | 0x7ff);	/* flowEndMicroseconds: low 11 bits ignored */
	f = norm(&b);
	cr_assert_eq(f.time_flow_start_ns, 1700000000500000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1700000000500000000ull);

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 150, 4, 1700000001);
	add_u(&b, 159, 4, 250000);	/* flowEndDeltaMicroseconds */
	f = norm(&b);
	cr_assert_eq(f.time_flow_start_ns, 1700000001000000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1699999999750000000ull);
}

Test(norm, ipv6_and_zeroed_other_family)
{
	struct rb b;
	struct flow f;
	uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	uint8_t z4[4] = { 0 }, nh6[16] = { 0xfe, 0x80, [15] = 9 };

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_raw(&b, 8, z4, 4);		/* both families in one template, v4 zero */
	add_raw(&b, 12, z4, 4);
	add_raw(&b, 27, s6, 16);
	add_raw(&b, 28, d6, 16);
	add_raw(&b, 62, nh6, 16);
	add_u(&b, 31, 4, 0xfff12345);
	add_u(&b, 139, 2, 0x8000);	/* ICMPv6 echo request */
	f = norm(&b);
	cr_assert_eq(memcmp(f.src_addr.a, s6, 16), 0);
	cr_assert_eq(memcmp(f.dst_addr.a, d6, 16), 0);
	cr_assert_eq(memcmp(f.next_hop.a, nh6, 16), 0);
	cr_assert_eq(f.etype, 0x86dd);
	cr_assert_eq(f.ipv6_flow_label, 0x12345);
	cr_assert_eq(f.icmp_type, 128);
	cr_assert_eq(f.icmp_code, 0);
	cr_assert(f.has & FLOW_HAS_ICMP);
}

Test(norm, fallbacks_mac_vlan_ttl)
{
	struct rb b;
	struct flow f;
	uint8_t m1[6] = { 1, 1, 1, 1, 1, 1 }, m2[6] = { 2, 2, 2, 2, 2, 2 };

	rb_init(&b, WEIR_PROTO_NF9);
	add_raw(&b, 57, m2, 6);		/* OUT_DST_MAC before IN_DST_MAC */
	add_raw(&b, 80, m1, 6);
	add_raw(&b, 81, m2, 6);		/* OUT_SRC_MAC alone */
	add_u(&b, 243, 2, 30);		/* dot1qVlanId before vlanId */
	add_u(&b, 58, 2, 20);
	add_u(&b, 52, 1, 5);		/* minimumTTL, maximumTTL */
	add_u(&b, 53, 1, 60);
	f = norm(&b);
	cr_assert_eq(memcmp(f.dst_mac, m1, 6), 0);
	cr_assert_eq(memcmp(f.src_mac, m2, 6), 0);
	cr_assert_eq(f.vlan_id, 20);
	cr_assert_eq(f.ip_ttl, 60);
}

Test(norm, options_records_and_scope_are_not_flows)
{
	struct rb b;
	struct flow f;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 10, 4, 3);		/* scope: ingressInterface */
	add_u(&b, 34, 4, 100);
	b.u.t.scope_count = 1;
	tmpl_finish(NULL, &b.u.t);
	b.rec.is_options = 1;
	cr_assert_eq(flow_from_record(&b.rec, &f), WEIR_E_INVALID);
	cr_assert_not(f.has & FLOW_HAS_IN_IF);
}

Test(norm, unusable_lengths_are_left_out)
{
	struct rb b;
	struct flow f;
	uint8_t junk[16] = { 0 };

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_raw(&b, 8, junk, 3);	/* an IPv4 address of 3 bytes */
	add_raw(&b, 56, junk, 5);	/* a MAC of 5 */
	add_raw(&b, 1, junk, 12);	/* a counter wider than 8 */
	add_u(&b, 2, 0, 0);		/* zero-length (v9 allows it) */
	f = norm(&b);
	cr_assert_not(f.has & (FLOW_HAS_SRC_ADDR | FLOW_HAS_SRC_MAC | FLOW_HAS_BYTES |
			       FLOW_HAS_PACKETS | FLOW_HAS_ETYPE));
}

Test(norm, json_line)
{
	struct rb b;
	struct flow f;
	char buf[FLOW_JSON_MAX];
	uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
	size_t n;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_raw(&b, 8, src, 4);
	add_raw(&b, 12, dst, 4);
	add_u(&b, 1, 4, 1500);
	add_u(&b, 2, 4, 3);
	add_u(&b, 4, 1, 17);
	f = norm(&b);
	n = flow_json(&f, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(buf[n - 1], '\n');
	buf[n] = '\0';
	cr_assert_str_eq(buf,
		"{\"type\":\"IPFIX\",\"time_received_ns\":1700000000123456789,"
		"\"sequence_num\":77,\"sampling_rate\":100,\"sampler_address\":\"192.0.2.1\","
		"\"observation_domain_id\":5,\"bytes\":1500,\"packets\":3,"
		"\"src_addr\":\"10.0.0.1\",\"dst_addr\":\"10.0.0.2\",\"etype\":2048,\"proto\":17}\n");
	/* Every shorter buffer is refused, never overrun. */
	for (size_t cap = 0; cap < n; cap++)
		cr_assert_eq(flow_json(&f, buf, cap), 0, "cap %zu", cap);
}

/* ---- one engine: the v5 straight-line code is the plan written out ---- */

struct pair_log {
	unsigned n, same;
	int first_bad;
};

static int both_ways(const struct weir_record *rec, void *user)
{
	struct pair_log *l = user;
	struct flow a, b;

	cr_assert_eq(flow_from_record(rec, &a), WEIR_OK);
	cr_assert_eq(norm_by_plan(rec, &b), WEIR_OK);
	l->n++;
	if (memcmp(&a, &b, sizeof(a)) == 0)
		l->same++;
	else if (l->first_bad < 0)
		l->first_bad = (int)l->n - 1;
	return 0;
}

static uint32_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

Test(norm, v5_straight_line_equals_the_plan)
{
	uint8_t msg[24 + 30 * 48];
	struct weir_exporter e = { 0 };
	struct pair_log log = { 0, 0, -1 };
	struct weir_ctx ctx = { .on_record = both_ways, .user = &log };
	uint64_t seed = 11;

	weir_addr_v4u(&e.addr, 0xc0000202);
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(msg); i++)
			msg[i] = (uint8_t)lcg(&seed);
		msg[0] = 0, msg[1] = 5, msg[2] = 0, msg[3] = 30;
		cr_assert_eq(nf5_decode(&ctx, &e, msg, sizeof(msg), 1700000000000000000ull), WEIR_OK);
	}
	cr_assert_eq(log.n, 50 * 30);
	cr_assert_eq(log.same, log.n, "record %d differs between the two", log.first_bad);
}

/* A record whose fields lie back to back runs the plan by offsets; one
 * built field by field (as held or variable-length data may be) by field
 * values. Both give the same flow. */
Test(norm, fixed_layout_and_field_values_agree)
{
	struct rb b;
	struct flow by_value, by_offset;
	uint8_t flat[64];
	struct weir_value flatv[MAXF];
	uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t off = 0;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 1, 8, 123456789);
	add_u(&b, 2, 3, 70000);		/* odd width */
	add_raw(&b, 27, src, 16);
	add_u(&b, 8, 4, 0);		/* zeroed IPv4 beside a set IPv6: IPv6 wins */
	add_u(&b, 58, 2, 0x1234);
	add_u(&b, 32, 2, 0x0301);
	add_u(&b, 152, 8, 1700000000123ull);
	add_u(&b, 151, 4, 1700000002);
	by_value = norm(&b);
	for (uint16_t i = 0; i < b.u.t.nfields; i++) {
		memcpy(flat + off, b.v[i].p, b.v[i].len);
		flatv[i].p = flat + off;
		flatv[i].len = b.v[i].len;
		off += b.v[i].len;
	}
	b.rec.v = flatv;
	cr_assert_eq(flow_from_record(&b.rec, &by_offset), WEIR_OK);
	cr_assert_eq(memcmp(&by_value, &by_offset, sizeof(by_value)), 0);
	cr_assert_eq(by_value.bytes, 123456789);
	cr_assert_eq(by_value.packets, 70000);
	cr_assert_eq(by_value.etype, 0x86dd);
	cr_assert_eq(memcmp(by_value.src_addr.a, src, 16), 0);
	cr_assert_eq(by_value.vlan_id, 0x234);
	cr_assert_eq(by_value.icmp_type, 3);
	cr_assert_eq(by_value.icmp_code, 1);
	cr_assert_eq(by_value.time_flow_start_ns, 1700000000123000000ull);
	cr_assert_eq(by_value.time_flow_end_ns, 1700000002000000000ull);
}

/* norm(), then the same record laid out flat so that the fixed-layout
 * addressing runs too; both must give the same flow. */
static struct flow norm_both_ways(struct rb *b)
{
	static uint8_t flat[MAXF * 16];
	struct weir_value flatv[MAXF];
	struct flow by_value = norm(b), by_offset;
	size_t off = 0;

	for (uint16_t i = 0; i < b->u.t.nfields; i++) {
		memcpy(flat + off, b->v[i].p, b->v[i].len);
		flatv[i].p = flat + off;
		flatv[i].len = b->v[i].len;
		off += b->v[i].len;
	}
	b->rec.v = flatv;
	cr_assert_eq(flow_from_record(&b->rec, &by_offset), WEIR_OK);
	b->rec.v = b->v;
	cr_assert_eq(memcmp(&by_value, &by_offset, sizeof(by_value)), 0);
	return by_value;
}

/* Two steps of one kind in a row run as one pair step: every plain width
 * (1, 2, 4, 8 bytes into 8-, 4-, 2- and 1-byte fields), two addresses,
 * two 8-byte ms times, two 4-byte second times, v5 and v9 uptimes, each
 * with values that tell the two halves of the pair apart. */
Test(norm, paired_steps_of_every_kind)
{
	static const uint16_t w[] = { 1, 2, 4, 8 };
	struct rb b;
	struct flow f;

	for (unsigned k = 0; k < 4; k++) {
		uint64_t big = w[k] == 1 ? 0xa1 : w[k] == 2 ? 0xa1b2 : w[k] == 4 ? 0xa1b2c3d4u
						 : 0xa1b2c3d4e5f60718ull;
		uint64_t mask32 = w[k] == 8 ? 0xffffffffull : ~0ull;

		rb_init(&b, WEIR_PROTO_IPFIX);
		add_u(&b, 1, w[k], big);		/* bytes, packets: into 8 */
		add_u(&b, 2, w[k], big - 1);
		add_u(&b, 4, w[k], 0x11);		/* proto, tos: into 1 */
		add_u(&b, 5, w[k], 0x22);
		add_u(&b, 7, w[k], 0x3344);		/* ports: into 2 */
		add_u(&b, 11, w[k], 0x5566);
		add_u(&b, 10, w[k], 0x778899aa);	/* interfaces: into 4 */
		add_u(&b, 14, w[k], 0x778899ab);
		add_u(&b, 150, 4, 1700000001);		/* seconds */
		add_u(&b, 151, 4, 1700000003);
		f = norm_both_ways(&b);
		cr_assert_eq(f.bytes, big, "width %u", w[k]);
		cr_assert_eq(f.packets, big - 1, "width %u", w[k]);
		cr_assert_eq(f.proto, 0x11 & 0xff);
		cr_assert_eq(f.ip_tos, 0x22);
		cr_assert_eq(f.src_port, (uint16_t)(w[k] == 1 ? 0x44 : 0x3344), "width %u", w[k]);
		cr_assert_eq(f.dst_port, (uint16_t)(w[k] == 1 ? 0x66 : 0x5566), "width %u", w[k]);
		cr_assert_eq(f.in_if, (uint32_t)((w[k] == 1 ? 0xaa : w[k] == 2 ? 0x99aa : 0x778899aa) &
						 mask32), "width %u", w[k]);
		cr_assert_eq(f.out_if, (uint32_t)((w[k] == 1 ? 0xab : w[k] == 2 ? 0x99ab : 0x778899ab) &
						  mask32), "width %u", w[k]);
		cr_assert_eq(f.time_flow_start_ns, 1700000001000000000ull);
		cr_assert_eq(f.time_flow_end_ns, 1700000003000000000ull);
	}

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 8, 4, 0x0a000001);
	add_u(&b, 12, 4, 0x0a000002);
	add_u(&b, 152, 8, 1700000000500ull);
	add_u(&b, 153, 8, 1700000000900ull);
	f = norm_both_ways(&b);
	cr_assert_eq(memcmp(f.src_addr.a + 12, "\x0a\x00\x00\x01", 4), 0);
	cr_assert_eq(memcmp(f.dst_addr.a + 12, "\x0a\x00\x00\x02", 4), 0);
	cr_assert_eq(f.time_flow_start_ns, 1700000000500000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1700000000900000000ull);

	/* Uptimes: the header says 100 s of uptime at export 1700000000. */
	for (unsigned k = 0; k < 2; k++) {
		uint8_t proto = k ? WEIR_PROTO_NF9 : WEIR_PROTO_NF5;

		rb_init(&b, proto);
		add_u(&b, 22, 4, 90000);
		add_u(&b, 21, 4, 99000);
		f = norm_both_ways(&b);
		cr_assert_eq(f.time_flow_start_ns, 1699999990000000000ull, "proto %u", proto);
		cr_assert_eq(f.time_flow_end_ns, 1699999999000000000ull, "proto %u", proto);
	}
}

/* ---- time bases from outside the record ---- */

/* softflowd -v 10 sends systemInitTimeMilliseconds in an options record
 * and flowStart/EndSysUpTime in its data records: the source keeps the
 * base, and every later record of it gets absolute times. */
Test(norm, ipfix_uptime_from_options_time_base)
{
	struct tmpl_cache *c = tmpl_cache_new(NULL, NULL);
	struct weir_exporter e = { 0 };
	struct tmpl_source *src;
	struct rb o, b;
	struct flow f;

	cr_assert_not_null(c);
	weir_addr_v4u(&e.addr, 0x7f000001);
	src = tmpl_source_get(c, &e, 0, 1);
	cr_assert_not_null(src);

	rb_init(&o, WEIR_PROTO_IPFIX);
	add_u(&o, 143, 4, 3512);		/* scope: meteringProcessId */
	add_u(&o, 160, 8, 1699999000000ull);	/* systemInitTimeMilliseconds */
	o.u.t.scope_count = 1;
	o.m.src = src;
	o.rec.is_options = 1;
	tmpl_finish(c, &o.u.t);
	cr_assert_eq(flow_from_record(&o.rec, &f), WEIR_E_INVALID);

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 22, 4, 600000);		/* start 600 s after init */
	add_u(&b, 21, 4, 612345);
	add_u(&b, 1, 4, 100);
	b.m.src = src;
	f = norm(&b);
	cr_assert(f.has & FLOW_HAS_TIME_START);
	cr_assert(f.has & FLOW_HAS_TIME_END);
	cr_assert_eq(f.time_flow_start_ns, 1699999600000000000ull);
	cr_assert_eq(f.time_flow_end_ns, 1699999612345000000ull);

	/* another domain of the same exporter learnt nothing */
	b.m.src = tmpl_source_get(c, &e, 1, 1);
	f = norm(&b);
	cr_assert_not(f.has & (FLOW_HAS_TIME_START | FLOW_HAS_TIME_END));
	tmpl_cache_free(c);
}

/* softflowd -r: the base is the export time, the uptimes are the pcap's
 * (years earlier) minus it, modulo 2^32 ms: taken at face value the flow
 * would lie ~24 days after its export. It lies before, whole wraps back,
 * with its duration kept. */
Test(norm, ipfix_uptime_past_the_export_is_wrapped_back)
{
	struct rb b;
	struct flow f;
	uint64_t init = 1700000000000ull;	/* export_time of rb_init, in ms */

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 160, 8, init);
	add_u(&b, 22, 4, 2100780136u);
	add_u(&b, 21, 4, 2100781446u);
	f = norm(&b);
	cr_assert(f.has & FLOW_HAS_TIME_START);
	cr_assert_lt(f.time_flow_end_ns, (uint64_t)b.m.export_time * 1000000000ull);
	cr_assert_eq(f.time_flow_end_ns - f.time_flow_start_ns, 1310000000ull);
	cr_assert_eq(f.time_flow_start_ns, (init + 2100780136u - (1ull << 32)) * 1000000ull);
}
