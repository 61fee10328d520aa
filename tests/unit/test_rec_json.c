/* Unit tests of the raw JSON writer (common/rec_json.c): records built by
 * hand and messages built with the encoders and decoded. Real exporter
 * payloads are in test_rec_json_vendor.c, sFlow samples in
 * test_rec_json_sflow.c; the strict JSON validator and what else they share
 * in rjhelp.h. Every line must be strict JSON, and each test checks values
 * that a wrong writer would get wrong. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "ie.h"
#include "ipfix.h"
#include "ipfix_list.h"
#include "rd.h"
#include "rec_json.h"
#include "tmpl.h"
#include "wr.h"

#include "rjhelp.h"

/* ---- a record builder ---------------------------------------------------- */

#define MAXF 48

struct rb {
	union {
		struct tmpl t;
		uint8_t space[sizeof(struct tmpl) + MAXF * sizeof(struct tmpl_field)];
	} u;
	struct weir_value v[MAXF];
	uint8_t data[MAXF][64];
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
	b->e.port = 4739;
	b->m.exporter = &b->e;
	b->rec.msg = &b->m;
	b->rec.t = &b->u.t;
	b->rec.v = b->v;
	b->rec.sampling_rate = 100;
}

static void add_raw(struct rb *b, uint32_t pen, uint16_t id, const void *p, uint16_t len)
{
	uint16_t i = b->u.t.nfields++;

	cr_assert_lt(i, MAXF);
	cr_assert_leq(len, sizeof(b->data[i]));
	b->u.t.f[i].pen = pen;
	b->u.t.f[i].id = id;
	b->u.t.f[i].len = len;
	if (len)
		memcpy(b->data[i], p, len);
	b->v[i].p = b->data[i];
	b->v[i].len = len;
}

static void add_u(struct rb *b, uint32_t pen, uint16_t id, uint16_t len, uint64_t val)
{
	uint8_t tmp[16] = { 0 };

	cr_assert_leq(len, sizeof(tmp));
	for (uint16_t k = 0; k < len && k < 8; k++)
		tmp[len - 1 - k] = (uint8_t)(val >> (8 * k));
	add_raw(b, pen, id, tmp, len);
}

static void rb_finish(struct rb *b, const struct tmpl_cache *c)
{
	tmpl_finish(c, &b->u.t);
}

static struct tmpl *mkt(uint16_t id, uint16_t scope, size_t n, const uint32_t spec[][3]);

/* ---- hand-built records --------------------------------------------------- */

Test(rec_json, exact_line_of_a_small_ipfix_record)
{
	static const char want[] =
		"{\"type\":\"IPFIX\",\"exporter\":\"192.0.2.1\",\"exporter_port\":4739,"
		"\"observation_domain_id\":5,\"template_id\":256,\"options\":false,"
		"\"time_received_ns\":1700000000123456789,\"sequence_num\":77,"
		"\"export_time\":1700000000,\"sampling_rate\":100,\"fields\":{"
		"\"octetDeltaCount\":1234,\"sourceIPv4Address\":\"10.1.2.3\","
		"\"destinationTransportPort\":443}}\n";
	uint8_t src[4] = { 10, 1, 2, 3 };
	struct rb b;
	size_t n;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 0, 1, 8, 1234);
	add_raw(&b, 0, 8, src, 4);
	add_u(&b, 0, 11, 2, 443);
	rb_finish(&b, NULL);
	n = emit(&b.rec);
	cr_expect_str_eq(out, want);
	cap_sweep(&b.rec, want, n, 1);
}

Test(rec_json, values_by_abstract_type)
{
	static const uint8_t mac[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbf, 0x0e };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	/* a quote, a backslash, a control char, UTF-8 "é", a stray continuation
	 * byte, a truncated 3-byte sequence, an overlong '/', trailing NULs */
	static const uint8_t str[] = { 'a', '"', 'b', '\\', 0x01, 0xc3, 0xa9, 0x80, 'c',
				       0xe2, 0x82, 'd', 0xc0, 0xaf, 0, 0 };
	static const uint8_t oct[3] = { 0xde, 0xad, 0x01 };
	uint64_t ntp = (uint64_t)(2208988800ull + 1700000000ull) << 32 | 0x80000000u;
	double half = 0.5;
	uint64_t hb;
	uint8_t dbl[8], bad_v4[5] = { 1, 2, 3, 4, 5 };
	struct rb b;
	size_t n;

	memcpy(&hb, &half, 8);
	for (int k = 0; k < 8; k++)
		dbl[k] = (uint8_t)(hb >> (56 - 8 * k));
	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 0, 1, 8, 18446744073709551615ull);	/* octetDeltaCount max */
	add_u(&b, 0, 2, 3, 0x123456);			/* reduced size: 1193046 */
	add_raw(&b, 0, 56, mac, 6);
	add_raw(&b, 0, 28, v6, 16);
	add_raw(&b, 0, 82, str, sizeof(str));		/* interfaceName */
	add_u(&b, 0, 276, 1, 1);			/* boolean true */
	add_u(&b, 0, 333, 1, 2);			/* boolean false */
	add_u(&b, 0, 388, 1, 7);			/* not a boolean value: null */
	add_raw(&b, 0, 311, dbl, 8);			/* float64 0.5 */
	add_u(&b, 0, 150, 4, 1700000000);		/* dateTimeSeconds */
	add_u(&b, 0, 152, 8, 1700000000123ull);		/* dateTimeMilliseconds */
	add_u(&b, 0, 156, 8, ntp);			/* dateTimeNanoseconds */
	add_u(&b, 0, 154, 8, ntp | 0x7ff);		/* microseconds: low bits ignored */
	add_raw(&b, 0, 313, oct, 3);			/* octetArray */
	add_raw(&b, 0, 12, bad_v4, 5);			/* ipv4Address of 5 bytes: hex */
	add_u(&b, 0, 2, 9, 5);				/* 9-byte unsigned: hex */
	add_u(&b, 0, 48, 2, 1);				/* samplerId (unsigned8) in 2 bytes */
	add_u(&b, 0, 210, 4, 0);			/* paddingOctets: not printed */
	add_u(&b, 6871, 40000, 2, 0xbeef);		/* unknown enterprise element */
	add_u(&b, IE_PEN_V9, 45000, 1, 0x7f);		/* unknown v9 vendor type */
	add_u(&b, 0, 1, 4, 99);				/* second octetDeltaCount */
	add_u(&b, 0, 1, 2, 98);				/* third */
	rb_finish(&b, NULL);
	n = emit(&b.rec);
	HAS("\"octetDeltaCount\":18446744073709551615,");
	HAS("\"packetDeltaCount\":1193046,");
	HAS("\"sourceMacAddress\":\"00:1b:21:aa:bf:0e\"");
	HAS("\"destinationIPv6Address\":\"2001:db8::1\"");
	HAS("\"interfaceName\":\"a\\\"b\\\\\\u0001\xc3\xa9\\ufffdc\\ufffdd\\ufffd\\ufffd\",");
	HAS("\"dataRecordsReliability\":true,");
	HAS("\"hashDigestOutput\":false,");
	HAS("\"dot1qDEI\":null,");
	HAS("\"samplingProbability\":0.5,");
	HAS("\"flowStartSeconds\":1700000000,");
	HAS("\"flowStartMilliseconds\":1700000000123,");
	HAS("\"flowStartNanoseconds\":1700000000500000000,");
	HAS("\"flowStartMicroseconds\":1700000000500000000,");
	HAS("\"ipHeaderPacketSection\":\"dead01\"");
	HAS("\"destinationIPv4Address\":\"0102030405\"");
	HAS("\"packetDeltaCount_2\":\"000000000000000005\"");
	HAS("\"samplerId\":1,");
	HAS("\"6871_40000\":\"beef\"");
	HAS("\"v9_45000\":\"7f\"");
	HAS("\"octetDeltaCount_2\":99,\"octetDeltaCount_3\":98}}");
	HASNT("paddingOctets");
	cap_sweep(&b.rec, out, n, 1);
}

/* Elements of types the IANA registry has none of (signed, float32), a
 * name that needs escaping, and NaN, from a registry loaded at run time. */
Test(rec_json, custom_registry_types_and_escaped_name)
{
	static const char csv[] =
		"enterprise,id,name,type,semantics,units\n"
		"99999,1,tempDelta,signed8,,\n"
		"99999,2,offsetNs,signed64,,\n"
		"99999,3,ratio,float32,,\n"
		"99999,4,bad\\name,float64,,\n"
		"99999,5,dupName,unsigned8,,\n"
		"99998,5,dupName,unsigned8,,\n";
	char path[] = "/tmp/weir-rj-XXXXXX", err[256];
	struct ie_registry *reg = ie_registry_new();
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	uint8_t f32[4] = { 0x3f, 0xc0, 0, 0 };			/* 1.5f */
	uint8_t nan[8] = { 0x7f, 0xf8, 0, 0, 0, 0, 0, 0 };
	struct rb b;
	size_t n;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, csv, sizeof(csv) - 1), (ssize_t)sizeof(csv) - 1);
	close(fd);
	cr_assert_not_null(reg);
	cr_assert_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_OK, "%s", err);
	unlink(path);
	tmpl_limits_default(&lim);
	c = tmpl_cache_new(&lim, reg);
	cr_assert_not_null(c);

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 99999, 1, 1, 0xfe);				/* -2 */
	add_u(&b, 99999, 2, 3, 0xfffffe);			/* reduced size: -2 */
	add_u(&b, 99999, 2, 8, 0x8000000000000000ull);		/* INT64_MIN */
	add_raw(&b, 99999, 3, f32, 4);
	add_raw(&b, 99999, 4, nan, 8);
	add_u(&b, 99999, 5, 1, 1);
	add_u(&b, 99998, 5, 1, 2);			/* other element, same name */
	rb_finish(&b, c);
	n = emit(&b.rec);
	HAS("\"tempDelta\":-2,");
	HAS("\"offsetNs\":-2,");
	HAS("\"offsetNs_2\":-9223372036854775808,");
	HAS("\"ratio\":1.5,");
	HAS("\"bad\\\\name\":null,");
	HAS("\"dupName\":1,\"dupName_2\":2}");
	cap_sweep(&b.rec, out, n, 1);
	tmpl_cache_free(c);
	ie_registry_free(reg);
}

Test(rec_json, ipv6_text_matches_inet_ntop)
{
	static const char *addrs[] = {
		"::", "::1", "1::", "2001:db8::1", "2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1",
		"fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "1:0:3:4:5:6:7:8", "::ffff:10.1.2.3",
		"ff02::1:ff00:1", "2001:db8:abcd:12::ff", "0:1::", "1:0:0:2::3",
	};

	for (size_t k = 0; k < sizeof(addrs) / sizeof(addrs[0]); k++) {
		uint8_t a[16];
		char want[64], key[128];
		struct rb b;

		cr_assert_eq(inet_pton(AF_INET6, addrs[k], a), 1);
		cr_assert_not_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
		rb_init(&b, WEIR_PROTO_IPFIX);
		add_raw(&b, 0, 27, a, 16);
		rb_finish(&b, NULL);
		emit(&b.rec);
		snprintf(key, sizeof(key), "\"sourceIPv6Address\":\"%s\"", want);
		HAS(key);
	}
}

Test(rec_json, ntp_eras_and_zero)
{
	struct rb b;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 0, 156, 8, 0);				/* not set */
	add_u(&b, 0, 156, 8, (uint64_t)1 << 32);		/* era 1: 2036 + 1 s */
	add_u(&b, 0, 156, 8, (uint64_t)(2208988800ull - 1) << 32);	/* 1969 */
	add_u(&b, 0, 154, 8, (uint64_t)2208988800ull << 32 | 0x00418937);	/* 0.001 s */
	rb_finish(&b, NULL);
	emit(&b.rec);
	HAS("\"flowStartNanoseconds\":0,");
	HAS("\"flowStartNanoseconds_2\":2085978497000000000,");
	HAS("\"flowStartNanoseconds_3\":-1000000000,");
	HAS("\"flowStartMicroseconds\":1000000}");
}

Test(rec_json, v5_and_v9_headers)
{
	struct rb b;

	rb_init(&b, WEIR_PROTO_NF9);
	add_u(&b, 0, 22, 4, 90000);
	rb_finish(&b, NULL);
	emit(&b.rec);
	HAS("{\"type\":\"NETFLOW_V9\",");
	HAS("\"sys_uptime_ms\":100000,");
	HAS("\"flowStartSysUpTime\":90000}");

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_u(&b, 0, 22, 4, 90000);
	rb_finish(&b, NULL);
	emit(&b.rec);
	HASNT("sys_uptime_ms");
}

Test(rec_json, options_record_scope)
{
	struct rb b;
	size_t n;

	rb_init(&b, WEIR_PROTO_IPFIX);
	b.u.t.scope_count = 2;
	b.rec.is_options = 1;
	add_u(&b, 0, 149, 4, 9);	/* observationDomainId (scope) */
	add_u(&b, 0, 48, 1, 3);		/* samplerId (scope) */
	add_u(&b, 0, 34, 4, 512);	/* samplingInterval */
	add_u(&b, 0, 48, 1, 4);		/* a samplerId again, in the fields */
	rb_finish(&b, NULL);
	n = emit(&b.rec);
	HAS("\"options\":true,");
	HAS(",\"scope\":{\"observationDomainId\":9,\"samplerId\":3},"
	    "\"fields\":{\"samplingInterval\":512,\"samplerId_2\":4}}\n");
	cap_sweep(&b.rec, out, n, 1);
}

/* A list that does not walk is its hex string: a basicList whose bytes
 * are not a whole number of elements, a subTemplateList without a cache. */
Test(rec_json, list_that_does_not_walk_is_hex)
{
	static const uint8_t bad_basic[] = { 3, 0, 7, 0, 2, 0, 80, 1 };	/* 3 bytes of u16 */
	static const uint8_t stl[] = { 3, 1, 44, 0, 80 };			/* template 300 */
	static const uint8_t good_basic[] = { 3, 0, 7, 0, 2, 0, 80, 1, 187 };
	struct rb b;

	rb_init(&b, WEIR_PROTO_IPFIX);
	add_raw(&b, 0, 291, bad_basic, sizeof(bad_basic));
	add_raw(&b, 0, 292, stl, sizeof(stl));
	add_raw(&b, 0, 291, good_basic, sizeof(good_basic));
	rb_finish(&b, NULL);
	emit(&b.rec);
	HAS("\"basicList\":\"0300070002005001\"");
	HAS("\"subTemplateList\":\"03012c0050\"");
	HAS("\"basicList_2\":[80,443]");

	/* NetFlow v9 has no lists: the same bytes are hex there. */
	rb_init(&b, WEIR_PROTO_NF9);
	add_raw(&b, 0, 291, good_basic, sizeof(good_basic));
	rb_finish(&b, NULL);
	emit(&b.rec);
	HAS("\"basicList\":\"0300070002005001bb\"");
}

/* Records of zero-length fields expand far beyond their bytes. A list is
 * JSON while it stays within 64 bytes per byte; past that, or once the
 * record's lists reach 3/8 of REC_JSON_MAX, it is its hex string, so that
 * REC_JSON_MAX suffices for any record. */
#define NLIST 30
#define NREC 2000

Test(rec_json, list_expansion_is_bounded, .timeout = 60)
{
	static const uint32_t s300[][3] = { { 0, 4, 1 }, { 0, 313, 0 } };
	static const uint32_t s301[][3] = { { 0, 4, 1 }, { 0, 313, 0 }, { 0, 313, 0 } };
	static uint8_t lst[NREC + 3], amp[3 + 100];
	struct weir_exporter e;
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct tmpl_source *src;
	struct tmpl *t300 = mkt(300, 0, 2, s300), *t301 = mkt(301, 0, 3, s301);
	static struct rb b;
	char *p;
	size_t n;

	tmpl_limits_default(&lim);
	c = tmpl_cache_new(&lim, NULL);
	memset(&e, 0, sizeof(e));
	src = tmpl_source_get(c, &e, 0, 1);
	cr_assert_not_null(src);
	tmpl_finish(c, t300);
	tmpl_finish(c, t301);
	cr_assert_eq(tmpl_add(src, t300, 1), WEIR_OK);
	cr_assert_eq(tmpl_add(src, t301, 1), WEIR_OK);

	/* 55 bytes of JSON per record byte: within the bound. */
	lst[0] = 3;
	lst[1] = 300 >> 8;
	lst[2] = 300 & 255;
	memset(lst + 3, 255, NREC);
	/* 84 per byte: past it. */
	amp[0] = 3;
	amp[1] = 301 >> 8;
	amp[2] = 301 & 255;
	memset(amp + 3, 7, sizeof(amp) - 3);

	rb_init(&b, WEIR_PROTO_IPFIX);
	b.m.src = src;
	b.m.recv_time_ns = 1;
	add_raw(&b, 0, 292, amp, 0);
	b.v[0] = (struct weir_value){ amp, sizeof(amp) };
	add_raw(&b, 0, 292, amp, 0);
	b.v[1] = (struct weir_value){ amp, 3 + 5 };
	for (int i = 0; i < NLIST; i++) {
		add_raw(&b, 0, 292, lst, 0);
		b.v[2 + i] = (struct weir_value){ lst, sizeof(lst) };
	}
	rb_finish(&b, c);
	n = rec_json(&b.rec, out, sizeof(out));
	cr_assert_gt(n, 0, "REC_JSON_MAX suffices");
	out[n] = 0;
	EXPECT_JSON(out, n);
	HAS("\"subTemplateList\":\"03012d0707");
	HAS("\"subTemplateList_2\":[{\"protocolIdentifier\":7,\"ipHeaderPacketSection\":\"\","
	    "\"ipHeaderPacketSection_2\":\"\"},");
	HAS("\"subTemplateList_3\":[{\"protocolIdentifier\":255,\"ipHeaderPacketSection\":\"\"},");
	p = strstr(out, "\"subTemplateList_32\":");
	cr_assert_not_null(p);
	cr_expect_eq(strncmp(p, "\"subTemplateList_32\":\"03012cffff", 32), 0, "%.60s", p);
	cr_expect_lt(n, REC_JSON_MAX);
	tmpl_cache_free(c);
	free(t300);
	free(t301);
}

static struct tmpl *mkt(uint16_t id, uint16_t scope, size_t n, const uint32_t spec[][3])
{
	struct tmpl *t = ipfix_tmpl_new(id, (uint16_t)n, scope);

	cr_assert_not_null(t);
	for (size_t i = 0; i < n; i++)
		ipfix_tmpl_field(t, (uint16_t)i, spec[i][0], (uint16_t)spec[i][1],
				 (uint16_t)spec[i][2]);
	return t;
}

Test(rec_json, lists_from_a_decoded_message)
{
	static const uint32_t s300[][3] = { { 0, 7, 2 }, { 0, 4, 1 } };
	static const uint32_t s301[][3] = { { 0, 8, 4 } };
	static const uint32_t s302[][3] = { { 0, 291, TMPL_VARLEN } };
	static const uint32_t s256[][3] = {
		{ 0, 1, 8 }, { 0, 291, TMPL_VARLEN }, { 0, 292, TMPL_VARLEN },
		{ 0, 293, TMPL_VARLEN }, { 0, 292, TMPL_VARLEN }, { 0, 292, TMPL_VARLEN },
	};
	static const uint8_t p80[2] = { 0, 80 }, p443[2] = { 1, 187 }, p1000[2] = { 3, 232 };
	static const uint8_t p2000[2] = { 7, 208 }, p53[2] = { 0, 53 }, tcp = 6, udp = 17;
	static const uint8_t ip[4] = { 10, 0, 0, 1 }, one[4] = { 0, 0, 0, 1 }, two[4] = { 0, 0, 0, 2 };
	static const uint8_t oct[8] = { 0, 0, 0, 0, 0, 0, 0x30, 0x39 };
	struct tmpl *t300 = mkt(300, 0, 2, s300), *t301 = mkt(301, 0, 1, s301);
	struct tmpl *t302 = mkt(302, 0, 1, s302), *t256 = mkt(256, 0, 6, s256);
	uint8_t bl[64], stl[64], stml[64], nest[64], inner[64], unk[16], msg[1024];
	struct weir_value el[2] = { { p80, 2 }, { p443, 2 } };
	struct weir_value r300[4] = { { p1000, 2 }, { &tcp, 1 }, { p2000, 2 }, { &udp, 1 } };
	struct weir_value r301[1] = { { ip, 4 } }, r300b[2] = { { p53, 2 }, { &udp, 1 } };
	struct weir_value iel[2] = { { one, 4 }, { two, 4 } }, r302[1], v[6];
	struct wr w, wm;
	struct ipfix_wmsg m;
	struct tmpl_limits lim;
	struct weir_ctx ctx;
	struct weir_exporter e;
	struct cap_log lg = { 0 };
	int len;

	wr_init(&w, bl, sizeof(bl));
	cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ALL_OF, 0, 11, 2, el, 2), WEIR_OK);
	v[1] = (struct weir_value){ bl, (uint32_t)w.off };
	wr_init(&w, stl, sizeof(stl));
	cr_assert_eq(ipfix_write_stl(&w, IPFIX_SEM_ALL_OF, t300, r300, 2), WEIR_OK);
	v[2] = (struct weir_value){ stl, (uint32_t)w.off };
	wr_init(&w, stml, sizeof(stml));
	cr_assert_eq(ipfix_write_stml_begin(&w, IPFIX_SEM_ALL_OF), WEIR_OK);
	cr_assert_eq(ipfix_write_stml_block(&w, t301, r301, 1), WEIR_OK);
	cr_assert_eq(ipfix_write_stml_block(&w, t300, r300b, 1), WEIR_OK);
	v[3] = (struct weir_value){ stml, (uint32_t)w.off };
	/* A subTemplateList whose records hold a basicList of ingressInterface. */
	wr_init(&w, inner, sizeof(inner));
	cr_assert_eq(ipfix_write_basic_list(&w, IPFIX_SEM_ORDERED, 0, 10, 4, iel, 2), WEIR_OK);
	r302[0] = (struct weir_value){ inner, (uint32_t)w.off };
	wr_init(&w, nest, sizeof(nest));
	cr_assert_eq(ipfix_write_stl(&w, IPFIX_SEM_ALL_OF, t302, r302, 1), WEIR_OK);
	v[4] = (struct weir_value){ nest, (uint32_t)w.off };
	/* A subTemplateList of a template this exporter never sent. */
	unk[0] = 3;
	unk[1] = 0x03;
	unk[2] = 0xe7;		/* 999 */
	unk[3] = 0xab;
	v[5] = (struct weir_value){ unk, 4 };
	v[0] = (struct weir_value){ oct, 8 };

	wr_init(&wm, msg, sizeof(msg));
	cr_assert_eq(ipfix_msg_begin(&m, &wm, 1700000000, 1, 42), WEIR_OK);
	cr_assert_eq(ipfix_set_begin(&m, IPFIX_SET_TEMPLATE), WEIR_OK);
	cr_assert_eq(ipfix_write_template(&m, t300), WEIR_OK);
	cr_assert_eq(ipfix_write_template(&m, t301), WEIR_OK);
	cr_assert_eq(ipfix_write_template(&m, t302), WEIR_OK);
	cr_assert_eq(ipfix_write_template(&m, t256), WEIR_OK);
	cr_assert_eq(ipfix_set_begin(&m, 256), WEIR_OK);
	cr_assert_eq(ipfix_write_data(&m, t256, v), WEIR_OK);
	len = ipfix_msg_end(&m);
	cr_assert_gt(len, 0);

	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0xc6336407);
	e.port = 4739;
	tmpl_limits_default(&lim);
	ctx.cache = tmpl_cache_new(&lim, NULL);
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	cr_assert_eq(ipfix_decode(&ctx, &e, msg, (size_t)len, 1700000000000000000ull), WEIR_OK);
	cr_assert_eq(lg.n, 1);
	cr_expect(strstr(lg.line[0], "\"observation_domain_id\":42,\"template_id\":256,") != NULL,
		  "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0],
			 "\"fields\":{\"octetDeltaCount\":12345,"
			 "\"basicList\":[80,443],"
			 "\"subTemplateList\":[{\"sourceTransportPort\":1000,\"protocolIdentifier\":6},"
			 "{\"sourceTransportPort\":2000,\"protocolIdentifier\":17}],"
			 "\"subTemplateMultiList\":[{\"sourceIPv4Address\":\"10.0.0.1\"},"
			 "{\"sourceTransportPort\":53,\"protocolIdentifier\":17}],"
			 "\"subTemplateList_2\":[{\"basicList\":[1,2]}],"
			 "\"subTemplateList_3\":\"0303e7ab\"}}\n") != NULL,
		  "%s", lg.line[0]);
	cap_log_free(&lg);
	tmpl_cache_free(ctx.cache);
	free(t300);
	free(t301);
	free(t302);
	free(t256);
}
