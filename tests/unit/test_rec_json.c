/* Unit tests of the raw JSON writer (common/rec_json.c): records built by
 * hand, messages built with the encoders and decoded, real exporter
 * payloads, sFlow samples from the encoder. Every line must be strict JSON
 * (the validator below; python3's json module too where it is installed),
 * and each test checks values that a wrong writer would get wrong. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
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
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

/* ---- a strict RFC 8259 validator ------------------------------------- */

struct jp {
	const unsigned char *s;
	size_t n, i;
	int depth;
	const char *why;
};

static int jv_value(struct jp *p);

static void jv_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static int jv_fail(struct jp *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One UTF-8 character by decoding it: code point, shortest form, no
 * surrogates, at most U+10FFFF. */
static int jv_utf8(struct jp *p)
{
	unsigned c = p->s[p->i], cp, k, need;

	if (c < 0x80) {
		p->i++;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		need = 1;
		cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		need = 2;
		cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		need = 3;
		cp = c & 0x07;
	} else {
		return jv_fail(p, "bad UTF-8 lead byte");
	}
	for (k = 1; k <= need; k++) {
		if (p->i + k >= p->n || (p->s[p->i + k] & 0xC0) != 0x80)
			return jv_fail(p, "bad UTF-8 continuation");
		cp = cp << 6 | (p->s[p->i + k] & 0x3F);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000))
		return jv_fail(p, "overlong UTF-8");
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return jv_fail(p, "UTF-8 surrogate or past U+10FFFF");
	p->i += need + 1;
	return 1;
}

static int jv_string(struct jp *p)
{
	p->i++;		/* '"' */
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];

		if (c == '"') {
			p->i++;
			return 1;
		}
		if (c < 0x20)
			return jv_fail(p, "raw control character in string");
		if (c == '\\') {
			if (p->i + 1 >= p->n)
				return jv_fail(p, "escape at end");
			c = p->s[p->i + 1];
			if (c == 'u') {
				if (p->i + 6 > p->n)
					return jv_fail(p, "short \\u");
				for (int k = 2; k < 6; k++)
					if (hexval(p->s[p->i + k]) < 0)
						return jv_fail(p, "bad \\u digit");
				p->i += 6;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				p->i += 2;
			} else {
				return jv_fail(p, "bad escape");
			}
			continue;
		}
		if (!jv_utf8(p))
			return 0;
	}
	return jv_fail(p, "unterminated string");
}

static int isdig(struct jp *p)
{
	return p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9';
}

static int jv_number(struct jp *p)
{
	if (p->s[p->i] == '-')
		p->i++;
	if (!isdig(p))
		return jv_fail(p, "number without digits");
	if (p->s[p->i] == '0') {
		p->i++;
		if (isdig(p))
			return jv_fail(p, "leading zero");
	} else {
		while (isdig(p))
			p->i++;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!isdig(p))
			return jv_fail(p, "fraction without digits");
		while (isdig(p))
			p->i++;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!isdig(p))
			return jv_fail(p, "exponent without digits");
		while (isdig(p))
			p->i++;
	}
	return 1;
}

static int jv_lit(struct jp *p, const char *lit)
{
	size_t l = strlen(lit);

	if (p->n - p->i < l || memcmp(p->s + p->i, lit, l) != 0)
		return jv_fail(p, "bad literal");
	p->i += l;
	return 1;
}

#define JV_MAX_KEYS 4096

static int jv_object(struct jp *p)
{
	size_t ks[JV_MAX_KEYS], kl[JV_MAX_KEYS], nk = 0;

	p->i++;
	jv_ws(p);
	if (p->i < p->n && p->s[p->i] == '}') {
		p->i++;
		return 1;
	}
	for (;;) {
		size_t at;

		jv_ws(p);
		if (p->i >= p->n || p->s[p->i] != '"')
			return jv_fail(p, "object key is not a string");
		at = p->i;
		if (!jv_string(p))
			return 0;
		/* Keys must be unique (RFC 8259 section 4 says SHOULD; the
		 * writer promises it). */
		for (size_t k = 0; k < nk; k++)
			if (kl[k] == p->i - at && memcmp(p->s + ks[k], p->s + at, kl[k]) == 0)
				return jv_fail(p, "duplicate key");
		if (nk < JV_MAX_KEYS) {
			ks[nk] = at;
			kl[nk++] = p->i - at;
		}
		jv_ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return jv_fail(p, "missing ':'");
		p->i++;
		if (!jv_value(p))
			return 0;
		jv_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}') {
			p->i++;
			return 1;
		}
		return jv_fail(p, "missing ',' or '}'");
	}
}

static int jv_array(struct jp *p)
{
	p->i++;
	jv_ws(p);
	if (p->i < p->n && p->s[p->i] == ']') {
		p->i++;
		return 1;
	}
	for (;;) {
		if (!jv_value(p))
			return 0;
		jv_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == ']') {
			p->i++;
			return 1;
		}
		return jv_fail(p, "missing ',' or ']'");
	}
}

static int jv_value(struct jp *p)
{
	int ok;

	jv_ws(p);
	if (p->i >= p->n)
		return jv_fail(p, "value expected");
	if (++p->depth > 64)
		return jv_fail(p, "too deep");
	switch (p->s[p->i]) {
	case '{': ok = jv_object(p); break;
	case '[': ok = jv_array(p); break;
	case '"': ok = jv_string(p); break;
	case 't': ok = jv_lit(p, "true"); break;
	case 'f': ok = jv_lit(p, "false"); break;
	case 'n': ok = jv_lit(p, "null"); break;
	default: ok = jv_number(p); break;
	}
	p->depth--;
	return ok;
}

/* One JSON object, then exactly one newline, then nothing. */
static const char *json_line_check(const char *s, size_t n)
{
	struct jp p = { (const unsigned char *)s, n, 0, 0, NULL };

	if (n == 0 || s[0] != '{')
		return "not an object";
	if (!jv_value(&p))
		return p.why;
	if (p.i + 1 != n || s[p.i] != '\n')
		return "not exactly one newline after the object";
	return NULL;
}

#define EXPECT_JSON(s, n)							\
	do {									\
		const char *_why = json_line_check((s), (n));			\
		cr_expect_null(_why, "%s: %.*s", _why ? _why : "", (int)(n), (s)); \
	} while (0)

/* ---- output of one record, with the cap sweep ------------------------- */

static char out[REC_JSON_MAX];

/* Every cap below the length returns 0 and writes nothing past cap; the
 * exact cap gives the same line. */
static void cap_sweep(const struct weir_record *rec, const char *want, size_t len, size_t step)
{
	size_t gl = 32;
	char *b = malloc(len + gl);

	cr_assert_not_null(b);
	for (size_t cap = 0; cap < len; cap += (cap + step >= len || step == 1) ? 1 : step) {
		memset(b, 0xA5, len + gl);
		cr_assert_eq(rec_json(rec, b, cap), 0, "cap %zu of %zu", cap, len);
		for (size_t k = cap; k < cap + gl; k++)
			cr_assert_eq((unsigned char)b[k], 0xA5, "byte %zu written, cap %zu", k, cap);
	}
	memset(b, 0xA5, len + gl);
	cr_assert_eq(rec_json(rec, b, len), len);
	cr_assert_eq(memcmp(b, want, len), 0);
	cr_assert_eq((unsigned char)b[len], 0xA5);
	free(b);
}

static size_t emit(const struct weir_record *rec)
{
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	cr_assert_lt(n, sizeof(out));
	out[n] = '\0';
	EXPECT_JSON(out, n);
	return n;
}

#define HAS(s) cr_expect(strstr(out, (s)) != NULL, "missing %s in %s", (s), out)
#define HASNT(s) cr_expect(strstr(out, (s)) == NULL, "unexpected %s in %s", (s), out)

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

/* ---- messages built with the encoder and decoded ------------------------ */

struct cap_log {
	size_t n;
	char *line[64];
	int sweep;
};

static int log_json(const struct weir_record *rec, void *user)
{
	struct cap_log *l = user;
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	out[n] = '\0';
	EXPECT_JSON(out, n);
	if (l->sweep)
		cap_sweep(rec, out, n, 1);
	if (l->n < 64)
		l->line[l->n] = strdup(out);
	l->n++;
	return 0;
}

static void log_free(struct cap_log *l)
{
	for (size_t i = 0; i < l->n && i < 64; i++)
		free(l->line[i]);
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
	log_free(&lg);
	tmpl_cache_free(ctx.cache);
	free(t300);
	free(t301);
	free(t302);
	free(t256);
}

/* ---- real exporter payloads ------------------------------------------------ */

#define VENDOR_MAX 65536

static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s ? s : "../shared";
}

static long vendor_load(const char *name, uint8_t *buf)
{
	char path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/testdata/vendor-payloads/%s", shared_dir(), name);
	fp = fopen(path, "rb");
	if (!fp)
		return -1;
	n = fread(buf, 1, VENDOR_MAX, fp);
	fclose(fp);
	return (long)n;
}

/* Decode a file: IPFIX files may hold several messages back to back. */
static int decode_file(struct weir_ctx *ctx, const struct weir_exporter *e, const uint8_t *b,
		       size_t n)
{
	size_t off = 0, ml;
	int err = WEIR_OK, e2;

	if (n >= 2 && b[0] == 0 && b[1] == 10) {
		while (off < n && ipfix_msg_length(b + off, n - off, &ml) == WEIR_OK) {
			e2 = ipfix_decode(ctx, e, b + off, ml, 1700000000000000000ull);
			if (!err)
				err = e2;
			off += ml;
		}
		return err;
	}
	return weir_decode(ctx, e, b, n, 1700000000000000000ull);
}

static void feed(struct weir_ctx *ctx, const char *const *files, size_t n)
{
	static uint8_t buf[VENDOR_MAX];
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0xc0000201);
	e.port = 2055;
	for (size_t k = 0; k < n; k++) {
		long len = vendor_load(files[k], buf);

		if (len < 0)
			cr_skip_test("vendor payload %s absent", files[k]);
		decode_file(ctx, &e, buf, (size_t)len);
	}
}

static struct tmpl_cache *new_cache(void)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;

	tmpl_limits_default(&lim);
	c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(c);
	return c;
}

/* YAF: every flow record holds a subTemplateMultiList (values as tshark
 * shows them); an options record puts its scope under "scope". */
Test(rec_json_vendor, yaf_stml_and_options)
{
	static const char *const files[] = {
		"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
		"ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data53248.dat",
	};
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = new_cache();
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 4);
	cr_assert_eq(lg.n, 2);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"172.16.32.201\"") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"destinationTransportPort\":53,") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"reverseOctetTotalCount\":200") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"subTemplateMultiList\":[{\"sourceMacAddress\":"
				     "\"00:0c:29:70:86:09\",\"destinationMacAddress\":"
				     "\"00:0c:29:8d:af:c3\"}]") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[1], "\"options\":true,") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"scope\":{") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"packetTotalCount\":1960") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"ignoredPacketTotalCount\":58") != NULL, "%s", lg.line[1]);
	log_free(&lg);
	tmpl_cache_free(ctx.cache);
}

/* NetScaler: variable-length strings, one of 602 bytes in the 3-byte
 * form; "GET" arrives with its C terminator, a cookie as one NUL. */
Test(rec_json_vendor, netscaler_strings)
{
	static const char *const files[] = {
		"ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat",
	};
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };
	const char *p;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = new_cache();
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 2);
	cr_assert_eq(lg.n, 3);
	cr_expect(strstr(lg.line[0], "\"httpRequestCookie\":\"\"") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"192.168.0.1\"") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[2], "\"httpRequestMethod\":\"GET\"") != NULL, "%s", lg.line[2]);
	p = strstr(lg.line[2], "\"httpRequestUrl\":\"/aa/bb/ccccc/");
	cr_expect_not_null(p, "%s", lg.line[2]);
	p = strstr(lg.line[2], "\"httpRequestCookie\":\"");
	cr_assert_not_null(p);
	p += strlen("\"httpRequestCookie\":\"");
	cr_expect_gt(strcspn(p, "\""), 500, "the 602-byte cookie");
	log_free(&lg);
	tmpl_cache_free(ctx.cache);
}

/* NetFlow v5: the static template of nf5_template(); padding not shown. */
Test(rec_json_vendor, netflow5)
{
	static const char *const files[] = { "netflow5_test_juniper_mx80.dat" };
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 1);
	cr_assert_gt(lg.n, 0);
	cr_expect(strstr(lg.line[0], "{\"type\":\"NETFLOW_V5\",") == lg.line[0], "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"sys_uptime_ms\":") != NULL);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"") != NULL);
	cr_expect(strstr(lg.line[0], "\"bgpDestinationAsNumber\":") != NULL);
	cr_expect(strstr(lg.line[0], "padding") == NULL, "%s", lg.line[0]);
	log_free(&lg);
}

/* Every payload: every record is strict JSON, caps below its length give
 * 0 without writing past cap; python3's json module agrees where present. */
struct corpus {
	FILE *py;
	int py_short;
	size_t records, sweeps;
};

/* rec_json_cached() must write what rec_json() writes, record after
 * record of every vendor's templates, options and lists, with one cache
 * that sees templates, messages and exporters change under it. */
static struct rec_json_cache corpus_cache;
static char out_cached[REC_JSON_MAX];

static int corpus_rec(const struct weir_record *rec, void *user)
{
	struct corpus *c = user;
	size_t n = rec_json(rec, out, sizeof(out));
	size_t m = rec_json_cached(rec, out_cached, sizeof(out_cached), &corpus_cache);

	cr_assert_gt(n, 0);
	cr_assert_eq(m, n, "cached: %zu bytes, uncached %zu", m, n);
	cr_assert_eq(memcmp(out, out_cached, n), 0, "cached output differs:\n%.*s\n%.*s",
		     (int)n, out, (int)m, out_cached);
	EXPECT_JSON(out, n);
	/* A python3 that stopped on a bad line closed its end: its exit
	 * status tells, below. */
	if (c->py && fwrite(out, 1, n, c->py) != n)
		c->py_short = 1;
	if (c->sweeps < 400) {
		c->sweeps++;
		cap_sweep(rec, out, n, n > 2048 ? 7 : 1);
	} else {
		cap_sweep(rec, out, n, n / 3 + 1);
	}
	c->records++;
	return 0;
}

/* One exporter per capture, so that vendors' template ids do not collide:
 * a hash of the name up to "_tpl", "_opttpl", "_data". */
static unsigned vendor_key(const char *name)
{
	static const char *const marks[] = { "_tpl", "_opttpl", "_data" };
	const char *end = name + strlen(name);
	unsigned h = 0;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(name, marks[i]);

		if (p && p < end)
			end = p;
	}
	for (const char *s = name; s < end; s++)
		h = h * 31 + (unsigned char)*s;
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(rec_json_vendor, every_payload_is_strict_json, .timeout = 120)
{
	static const char script[] =
		"import json, sys\n"
		"def pairs(p):\n"
		"    k = [a for a, _ in p]\n"
		"    if len(k) != len(set(k)):\n"
		"        raise ValueError('duplicate key')\n"
		"    return dict(p)\n"
		"def const(c):\n"
		"    raise ValueError('constant ' + c)\n"
		"n = 0\n"
		"for line in sys.stdin.buffer:\n"
		"    json.loads(line.decode('utf-8'), object_pairs_hook=pairs, parse_constant=const)\n"
		"    n += 1\n"
		"print(n)\n";
	char dir[1024], spath[] = "/tmp/weir-rj-py-XXXXXX", opath[] = "/tmp/weir-rj-out-XXXXXX";
	char cmd[256], *names[256];
	size_t nn = 0;
	struct corpus c = { 0 };
	struct weir_ctx ctx;
	struct dirent *de;
	DIR *d;
	int fd, have_py;

	snprintf(dir, sizeof(dir), "%s/testdata/vendor-payloads", shared_dir());
	d = opendir(dir);
	if (!d)
		cr_skip_test("vendor payloads absent (%s)", dir);
	while ((de = readdir(d)) && nn < 256)
		if (strstr(de->d_name, ".dat"))
			names[nn++] = strdup(de->d_name);
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_str);
	cr_assert_gt(nn, 50);

	signal(SIGPIPE, SIG_IGN);
	have_py = system("python3 -c 'import json' >/dev/null 2>&1") == 0;
	if (have_py) {
		fd = mkstemp(spath);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, script, sizeof(script) - 1), (ssize_t)sizeof(script) - 1);
		close(fd);
		fd = mkstemp(opath);
		cr_assert_geq(fd, 0);
		close(fd);
		snprintf(cmd, sizeof(cmd), "python3 %s > %s 2>&1", spath, opath);
		c.py = popen(cmd, "w");
		cr_assert_not_null(c.py);
	} else {
		cr_log_warn("python3 absent: only the built-in validator ran");
	}

	/* Twice through one cache: the first pass learns every template
	 * (files of one exporter share it, as on the wire), the second
	 * decodes data that came before its template in name order. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = new_cache();
	ctx.on_record = corpus_rec;
	ctx.user = &c;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < nn; k++) {
			static uint8_t buf[VENDOR_MAX];
			struct weir_exporter e;
			long len = vendor_load(names[k], buf);

			cr_assert_geq(len, 0);
			memset(&e, 0, sizeof(e));
			weir_addr_v4u(&e.addr, 0x0a000000u | (vendor_key(names[k]) & 0xffffff));
			e.port = 2055;
			decode_file(&ctx, &e, buf, (size_t)len);
		}
	}
	cr_expect_gt(c.records, 300, "records decoded: %zu", c.records);
	if (c.py) {
		char res[256] = "";
		FILE *o;
		int st = pclose(c.py);

		o = fopen(opath, "r");
		cr_assert_not_null(o);
		if (!fgets(res, sizeof(res), o))
			res[0] = '\0';
		fclose(o);
		unlink(spath);
		unlink(opath);
		cr_expect_eq(st, 0, "python3 json: %s", res);
		cr_expect_not(c.py_short, "python3 stopped reading");
		cr_expect_eq(strtoul(res, NULL, 10), c.records, "python3 parsed %s lines", res);
	}
	tmpl_cache_free(ctx.cache);
	for (size_t k = 0; k < nn; k++)
		free(names[k]);
}

/* ---- sFlow ----------------------------------------------------------------- */

struct sf_log {
	size_t n;
	char *line[16];
};

static int sf_rec(const struct weir_record *rec, void *user)
{
	struct sf_log *l = user;
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	out[n] = '\0';
	EXPECT_JSON(out, n);
	cap_sweep(rec, out, n, 1);
	if (l->n < 16)
		l->line[l->n] = strdup(out);
	l->n++;
	return 0;
}

static void paddr(struct weir_addr *a, const char *s)
{
	cr_assert_eq(weir_addr_parse(a, s), WEIR_OK, "%s", s);
}

#define LHAS(i, s) cr_expect(strstr(lg.line[i], (s)) != NULL, "missing %s in %s", (s), lg.line[i])
#define LHASNT(i, s) cr_expect(strstr(lg.line[i], (s)) == NULL, "unexpected %s in %s", (s), lg.line[i])

Test(rec_json_sflow, samples_from_the_encoder)
{
	static const uint8_t ma[6] = { 0x02, 0, 0, 0, 0, 0xa1 }, mb[6] = { 0x02, 0, 0, 0, 0, 0xb2 };
	struct sflow_agent a;
	struct sflow_sample cs;
	struct flow fl[2];
	struct weir_ctx ctx;
	struct weir_exporter e;
	struct sf_log lg = { 0 };
	uint8_t buf[4096];
	struct wr w;

	memset(&a, 0, sizeof(a));
	paddr(&a.addr, "192.0.2.9");
	a.sub_agent = 7;
	a.sequence = 1000;
	a.uptime_ms = 123456;
	a.flow_seq = 50;

	memset(fl, 0, sizeof(fl));
	fl[0].has = FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_ETYPE | FLOW_HAS_SRC_ADDR |
		    FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_TOS | FLOW_HAS_TTL |
		    FLOW_HAS_BYTES | FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_TCP_FLAGS |
		    FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
		    FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_SRC_AS |
		    FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP | FLOW_HAS_FRAG;
	memcpy(fl[0].src_mac, ma, 6);
	memcpy(fl[0].dst_mac, mb, 6);
	fl[0].etype = 0x0800;
	paddr(&fl[0].src_addr, "10.1.2.3");
	paddr(&fl[0].dst_addr, "192.0.2.200");
	fl[0].proto = 6;
	fl[0].ip_tos = 0x28;
	fl[0].ip_ttl = 57;
	fl[0].bytes = 1518;
	fl[0].src_port = 51515;
	fl[0].dst_port = 443;
	fl[0].tcp_flags = 0x12;
	fl[0].vlan_id = 101;
	fl[0].dst_vlan_id = 202;
	fl[0].in_if = 11;
	fl[0].out_if = 12;
	paddr(&fl[0].next_hop, "10.255.0.1");
	fl[0].src_net = 24;
	fl[0].dst_net = 19;
	fl[0].src_as = 64512;
	fl[0].dst_as = 4200000000u;
	paddr(&fl[0].bgp_next_hop, "198.51.100.1");
	fl[0].ip_flags = 0x40;
	fl[0].sampling_rate = 2048;
	/* A second flow with only addresses: no extended records. */
	fl[1].has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_BYTES |
		    FLOW_HAS_ETYPE;
	fl[1].etype = 0x86dd;
	paddr(&fl[1].src_addr, "2001:db8::10");
	paddr(&fl[1].dst_addr, "2001:db8:ffff::1");
	fl[1].proto = 17;
	fl[1].bytes = 200;
	fl[1].sampling_rate = 1;

	memset(&cs, 0, sizeof(cs));
	cs.kind = SFLOW_KIND_COUNTER;
	cs.sequence = 9;
	cs.source_id_index = 11;
	cs.has = SFLOW_HAS_IF_COUNTERS | SFLOW_HAS_ETH_COUNTERS;
	cs.ifc.if_index = 11;
	cs.ifc.if_speed = 10000000000ull;
	cs.ifc.in_octets = 123456789012345ull;
	cs.ifc.out_discards = 77;
	cs.ethc.fcs_errors = 5;
	cs.ethc.symbol_errors = 6;

	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, 2, &cs, 1), WEIR_OK);
	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	paddr(&e.addr, "192.0.2.9");
	e.port = 6343;
	ctx.on_record = sf_rec;
	ctx.user = &lg;
	cr_assert_eq(sflow_decode(&ctx, &e, buf, w.off, 1700000000000000000ull), WEIR_OK);
	cr_assert_eq(lg.n, 3);

	LHAS(0, "{\"type\":\"SFLOW_5\",\"exporter\":\"192.0.2.9\",\"exporter_port\":6343,"
		"\"agent\":\"192.0.2.9\",\"sub_agent_id\":7,\"sequence_num\":1000,");
	LHAS(0, "\"time_received_ns\":1700000000000000000,\"sample\":{\"kind\":\"flow\",");
	LHAS(0, "\"sampling_rate\":2048,");
	LHAS(0, "\"input\":11,");
	LHAS(0, "\"output\":12,");
	LHAS(0, "\"raw_header\":{\"protocol\":1,");
	LHAS(0, "\"src_mac\":\"02:00:00:00:00:a1\",\"dst_mac\":\"02:00:00:00:00:b2\"");
	LHAS(0, "\"vlan_id\":101,");
	LHAS(0, "\"src_addr\":\"10.1.2.3\",\"dst_addr\":\"192.0.2.200\",\"proto\":6,"
		"\"ip_tos\":40,\"ip_ttl\":57,");
	LHAS(0, "\"ip_flags\":64,");
	LHAS(0, "\"src_port\":51515,\"dst_port\":443,\"tcp_flags\":18");
	LHAS(0, "\"switch\":{\"src_vlan\":101,");
	LHAS(0, "\"dst_vlan\":202,");
	LHAS(0, "\"router\":{\"src_mask\":24,\"dst_mask\":19,\"next_hop\":\"10.255.0.1\"}");
	LHAS(0, "\"gateway\":{\"next_hop\":\"198.51.100.1\",");
	LHAS(0, "\"src_as\":64512,");
	LHAS(0, "\"dst_as\":4200000000,");
	LHAS(0, "\"as_path\":[4200000000]");
	LHAS(0, "\"communities\":[]");
	LHASNT(0, "if_counters");

	LHAS(1, "\"src_addr\":\"2001:db8::10\",\"dst_addr\":\"2001:db8:ffff::1\",\"proto\":17,");
	LHAS(1, "\"etype\":34525,");
	LHASNT(1, "\"switch\"");
	LHASNT(1, "\"router\"");
	LHASNT(1, "\"gateway\"");

	LHAS(2, "\"sample\":{\"kind\":\"counter\",");
	LHAS(2, "\"if_counters\":{\"if_index\":11,");
	LHAS(2, "\"if_speed\":10000000000,");
	LHAS(2, "\"in_octets\":123456789012345,");
	LHAS(2, "\"out_discards\":77,");
	LHAS(2, "\"ethernet_counters\":{\"alignment_errors\":0,\"fcs_errors\":5,");
	LHAS(2, "\"symbol_errors\":6}");
	LHASNT(2, "raw_header");
	LHASNT(2, "sampling_rate");
	for (size_t i = 0; i < lg.n; i++)
		free(lg.line[i]);
}

/* The decoder does not clear the parts a sample lacks: only parts whose
 * SFLOW_HAS_ bit is set may show, whatever the others hold. */
Test(rec_json_sflow, only_parts_with_their_bit)
{
	static const uint8_t comm[8] = { 0xfd, 0xe8, 0, 1, 0xff, 0xff, 0xff, 1 };
	struct sflow_sample s;
	struct weir_msg m;
	struct weir_exporter e;
	struct weir_record rec;
	size_t n;

	memset(&s, 0x5a, sizeof(s));	/* stale bytes everywhere */
	s.kind = SFLOW_KIND_FLOW;
	s.expanded = 0;
	s.has = SFLOW_HAS_GATEWAY | SFLOW_HAS_ETHERNET | SFLOW_HAS_IPV4;
	s.gw.nh_type = SFLOW_ADDR_UNKNOWN;
	s.gw.as_path_len = 20;		/* more than kept: 16 shown */
	for (int i = 0; i < SFLOW_AS_PATH_KEEP; i++)
		s.gw.as_path[i] = 100 + (uint32_t)i;
	s.gw.ncommunities = 2;
	s.gw.communities = comm;
	s.header.bytes = NULL;
	memset(&m, 0, sizeof(m));
	memset(&e, 0, sizeof(e));
	m.proto = WEIR_PROTO_SFLOW;
	m.exporter = &e;
	paddr(&m.agent, "2001:db8::5");
	memset(&rec, 0, sizeof(rec));
	rec.msg = &m;
	rec.sflow = &s;
	n = emit(&rec);
	HAS("\"agent\":\"2001:db8::5\"");
	HAS("\"gateway\":{\"next_hop\":null,");
	HAS("\"as_path_len\":20,\"as_path\":[100,101,102,103,104,105,106,107,108,109,110,111,"
	    "112,113,114,115],\"communities\":[4259840001,4294967041],");
	HAS("\"ethernet\":{\"length\":1515870810,");
	HAS("\"ipv4\":{");
	HASNT("raw_header");
	HASNT("\"ipv6\"");
	HASNT("\"switch\"");
	HASNT("\"router\"");
	HASNT("if_counters");
	HASNT("ethernet_counters");
	cap_sweep(&rec, out, n, 1);
}

/* A raw header the parser does not know is shown as its bytes. */
Test(rec_json_sflow, unparsed_header_as_hex)
{
	static const uint8_t hdr[5] = { 1, 2, 3, 0xfe, 0xff };
	struct sflow_sample s;
	struct weir_msg m;
	struct weir_record rec;

	memset(&s, 0, sizeof(s));
	s.kind = SFLOW_KIND_FLOW;
	s.has = SFLOW_HAS_HEADER;
	s.header.protocol = 7;
	s.header.frame_length = 64;
	s.header.bytes = hdr;
	s.header.len = 5;
	memset(&m, 0, sizeof(m));
	m.proto = WEIR_PROTO_SFLOW;
	memset(&rec, 0, sizeof(rec));
	rec.msg = &m;
	rec.sflow = &s;
	emit(&rec);
	HAS("\"exporter\":null,\"exporter_port\":null,");
	HAS("\"raw_header\":{\"protocol\":7,\"frame_length\":64,\"stripped\":0,"
	    "\"header_length\":5,\"header\":\"010203feff\"}");
}
