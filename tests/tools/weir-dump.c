/* weir-dump - decode export payload files and print every record as JSON.
 *
 * Usage: weir-dump FILE...
 *
 * Every file is one UDP payload. All of them go, in the order given, through
 * one struct weir_ctx and one template cache, as if one exporter
 * (127.0.0.1 port 2055) had sent them, so templates of one file serve the
 * data of the next. One JSON line per record:
 *
 *   {"file":0,"proto":9,"domain":1,"tid":256,"options":0,"scope":0,
 *    "rescued":false,"src_file":0,"fields":[{"pen":0,"id":8,"name":"sourceIPv4Address",
 *    "type":"ipv4Address","units":"","off":26,"len":4,"hex":"0a000001",
 *    "val":"10.0.0.1"}, ...]}
 *
 * "off" is the field's offset inside the payload file. A record decoded
 * from held data (a data set that came before its template, copied by the
 * template cache and rescued later) is marked "rescued":true; its views
 * point into the cache's copy, so its bytes are looked up in the files read
 * before, and "src_file" names the file they were found in, the offsets
 * being in that file ("src_file":-1 and "off":-1 when not found). "val" is
 * the typed value: integers as decimal, floats, booleans, addresses and MACs
 * as text, strings escaped, dateTimeSeconds/Milliseconds as the number on the wire,
 * dateTimeMicro/Nanoseconds (NTP format, RFC 7011 section 6.1.9-6.1.10)
 * converted to nanoseconds since the Unix epoch; null where no typed value
 * exists (octetArray, lists). sFlow samples print their decoded view under
 * "sflow" instead of "fields".
 *
 * After each file one summary line:
 *   {"file":0,"summary":true,"path":"...","rc":0,"result":"success",
 *    "records":3,"rescued":0,"errors":{"no_template":1},
 *    "quirks":{"nf9_count_data":1}}
 *
 * The exit status is 0 whenever the files could be read: a decode error is a
 * finding for the caller (tests/integration/oracle), not a failure here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "err.h"
#include "ie.h"
#include "rd.h"
#include "sflow.h"
#include "tmpl.h"
#include "txt.h"

#define DUMP_MAX_FILE	(1u << 20)	/* a UDP payload is at most 65535 bytes */

struct dump_file {
	uint8_t *buf;
	size_t len;
	size_t cursor;			/* where the search for held records resumes */
};

struct dump {
	unsigned file;			/* index of the file being decoded */
	struct dump_file *files;	/* every file read so far, [0 .. file] */
	uint64_t records, rescued;	/* of the current file */
};

/* The seconds between the NTP era 0 epoch (1900) and the Unix one (1970). */
#define NTP_UNIX_DELTA	2208988800ull

static void put_hex(const uint8_t *p, size_t n)
{
	char buf[512];

	putchar('"');
	while (n) {
		size_t k = n < sizeof(buf) / 2 ? n : sizeof(buf) / 2;

		fwrite(buf, 1, (size_t)(weir_hex(buf, p, k) - buf), stdout);
		p += k;
		n -= k;
	}
	putchar('"');
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t k;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k;
}

/* A JSON string of n bytes: valid UTF-8 passes, control characters are
 * escaped, every byte of an invalid sequence becomes U+FFFD. */
static void put_str(const uint8_t *p, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n;) {
		size_t k = utf8_len(p + i, n - i);

		if (k == 0) {
			fputs("\\ufffd", stdout);
			i++;
			continue;
		}
		if (k > 1) {
			fwrite(p + i, 1, k, stdout);
		} else if (p[i] == '"' || p[i] == '\\') {
			printf("\\%c", p[i]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			printf("\\u%04x", p[i]);
		} else {
			putchar(p[i]);
		}
		i += k;
	}
	putchar('"');
}

static void put_cstr(const char *s)
{
	if (s)
		put_str((const uint8_t *)s, strlen(s));
	else
		fputs("null", stdout);
}

static void put_double(double d)
{
	if (isnan(d))
		fputs("\"nan\"", stdout);
	else if (isinf(d))
		fputs(d > 0 ? "\"inf\"" : "\"-inf\"", stdout);
	else
		printf("%.17g", d);
}

static void put_addr(const struct weir_addr *a)
{
	char buf[64];

	put_cstr(weir_addr_str(a, buf, sizeof(buf)));
}

/* NTP timestamp (RFC 5905 section 6, as RFC 7011 section 6.1.9 uses it) to
 * nanoseconds since the Unix epoch; dateTimeMicroseconds ignores the low
 * 11 bits of the fraction (RFC 7011 section 6.1.9). */
static void put_ntp(const uint8_t *p, int micro)
{
	uint64_t sec = be_uint(p, 4), frac = be_uint(p + 4, 4);
	int64_t ns;

	if (micro)
		frac &= ~(uint64_t)0x7ff;
	ns = ((int64_t)sec - (int64_t)NTP_UNIX_DELTA) * 1000000000;
	ns += (int64_t)((frac * 1000000000ull) >> 32);
	printf("%" PRId64, ns);
}

/* The typed value of one field, or null. */
static void put_val(int type, const uint8_t *p, uint32_t n)
{
	char buf[64];
	float f;
	uint32_t u32;
	uint64_t u64;

	switch (type) {
	case IE_T_U8: case IE_T_U16: case IE_T_U32: case IE_T_U64:
	case IE_T_DT_SEC: case IE_T_DT_MS:
		/* Reduced-size encoding (RFC 7011 section 6.2): fewer bytes,
		 * same big-endian value. */
		if (n >= 1 && n <= 8) {
			printf("%" PRIu64, be_uint(p, n));
			return;
		}
		break;
	case IE_T_I8: case IE_T_I16: case IE_T_I32: case IE_T_I64:
		if (n >= 1 && n <= 8) {
			printf("%" PRId64, be_int(p, n));
			return;
		}
		break;
	case IE_T_F32: case IE_T_F64:
		if (n == 4) {
			u32 = (uint32_t)be_uint(p, 4);
			memcpy(&f, &u32, 4);
			put_double(f);
			return;
		}
		if (n == 8) {
			double d;

			u64 = be_uint(p, 8);
			memcpy(&d, &u64, 8);
			put_double(d);
			return;
		}
		break;
	case IE_T_BOOL:
		/* RFC 7011 section 6.1.5: 1 is true, 2 is false. */
		if (n == 1 && (p[0] == 1 || p[0] == 2)) {
			fputs(p[0] == 1 ? "true" : "false", stdout);
			return;
		}
		break;
	case IE_T_MAC:
		if (n == 6) {
			printf("\"%02x:%02x:%02x:%02x:%02x:%02x\"",
			       p[0], p[1], p[2], p[3], p[4], p[5]);
			return;
		}
		break;
	case IE_T_STRING:
		put_str(p, n);
		return;
	case IE_T_DT_US: case IE_T_DT_NS:
		if (n == 8) {
			put_ntp(p, type == IE_T_DT_US);
			return;
		}
		break;
	case IE_T_IPV4:
		if (n == 4) {
			put_cstr(inet_ntop(AF_INET, p, buf, sizeof(buf)));
			return;
		}
		break;
	case IE_T_IPV6:
		if (n == 16) {
			put_cstr(inet_ntop(AF_INET6, p, buf, sizeof(buf)));
			return;
		}
		break;
	}
	fputs("null", stdout);
}

static void put_if(const char *name, const struct sflow_if *i)
{
	printf(",\"%s\":{\"format\":%" PRIu32 ",\"value\":%" PRIu32 "}", name, i->format, i->value);
}

static void put_sflow_ip(const char *name, const struct sflow_ip *ip)
{
	printf(",\"%s\":{\"length\":%" PRIu32 ",\"protocol\":%" PRIu32 ",\"src\":",
	       name, ip->length, ip->protocol);
	put_addr(&ip->src);
	fputs(",\"dst\":", stdout);
	put_addr(&ip->dst);
	printf(",\"src_port\":%" PRIu32 ",\"dst_port\":%" PRIu32 ",\"tcp_flags\":%" PRIu32
	       ",\"tos\":%" PRIu32 "}", ip->src_port, ip->dst_port, ip->tcp_flags, ip->tos);
}

/* sFlow has no template: the sample's decoded view stands for the fields. */
static void put_sflow(const struct sflow_sample *s)
{
	printf(",\"sflow\":{\"kind\":%u,\"expanded\":%u,\"sequence\":%" PRIu32
	       ",\"source_id_type\":%" PRIu32 ",\"source_id_index\":%" PRIu32,
	       s->kind, s->expanded, s->sequence, s->source_id_type, s->source_id_index);
	if (s->kind == SFLOW_KIND_FLOW) {
		printf(",\"sampling_rate\":%" PRIu32 ",\"sample_pool\":%" PRIu32
		       ",\"drops\":%" PRIu32, s->sampling_rate, s->sample_pool, s->drops);
		put_if("input", &s->input);
		put_if("output", &s->output);
	}
	printf(",\"nrecords\":%" PRIu32 ",\"unknown_records\":%" PRIu32 ",\"has\":%" PRIu32,
	       s->nrecords, s->unknown_records, s->has);
	if (s->has & SFLOW_HAS_HEADER) {
		printf(",\"header\":{\"protocol\":%" PRIu32 ",\"frame_length\":%" PRIu32
		       ",\"stripped\":%" PRIu32 ",\"hex\":", s->header.protocol,
		       s->header.frame_length, s->header.stripped);
		put_hex(s->header.bytes, s->header.len);
		fputs("}", stdout);
	}
	if (s->has & SFLOW_HAS_ETHERNET) {
		const uint8_t *a = s->eth.src_mac, *b = s->eth.dst_mac;

		printf(",\"ethernet\":{\"length\":%" PRIu32 ",\"src_mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\""
		       ",\"dst_mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"type\":%" PRIu32 "}",
		       s->eth.length, a[0], a[1], a[2], a[3], a[4], a[5],
		       b[0], b[1], b[2], b[3], b[4], b[5], s->eth.type);
	}
	if (s->has & SFLOW_HAS_IPV4)
		put_sflow_ip("ipv4", &s->ipv4);
	if (s->has & SFLOW_HAS_IPV6)
		put_sflow_ip("ipv6", &s->ipv6);
	if (s->has & SFLOW_HAS_SWITCH)
		printf(",\"switch\":{\"src_vlan\":%" PRIu32 ",\"src_priority\":%" PRIu32
		       ",\"dst_vlan\":%" PRIu32 ",\"dst_priority\":%" PRIu32 "}",
		       s->sw.src_vlan, s->sw.src_priority, s->sw.dst_vlan, s->sw.dst_priority);
	if (s->has & SFLOW_HAS_ROUTER) {
		fputs(",\"router\":{\"next_hop\":", stdout);
		put_addr(&s->router.next_hop);
		printf(",\"src_mask\":%" PRIu32 ",\"dst_mask\":%" PRIu32 "}",
		       s->router.src_mask, s->router.dst_mask);
	}
	if (s->has & SFLOW_HAS_GATEWAY) {
		fputs(",\"gateway\":{\"next_hop\":", stdout);
		put_addr(&s->gw.next_hop);
		printf(",\"as\":%" PRIu32 ",\"src_as\":%" PRIu32 ",\"src_peer_as\":%" PRIu32
		       ",\"dst_as\":%" PRIu32 ",\"dst_peer_as\":%" PRIu32 ",\"as_path_len\":%" PRIu32
		       ",\"communities\":%" PRIu32 ",\"local_pref\":%" PRIu32 "}",
		       s->gw.as, s->gw.src_as, s->gw.src_peer_as, s->gw.dst_as,
		       s->gw.dst_peer_as, s->gw.as_path_len, s->gw.ncommunities, s->gw.local_pref);
	}
	if (s->has & SFLOW_HAS_IF_COUNTERS)
		printf(",\"if_counters\":{\"if_index\":%" PRIu32 ",\"if_type\":%" PRIu32
		       ",\"if_speed\":%" PRIu64 ",\"in_octets\":%" PRIu64 ",\"in_ucast\":%" PRIu32
		       ",\"out_octets\":%" PRIu64 ",\"out_ucast\":%" PRIu32 "}",
		       s->ifc.if_index, s->ifc.if_type, s->ifc.if_speed, s->ifc.in_octets,
		       s->ifc.in_ucast, s->ifc.out_octets, s->ifc.out_ucast);
	fputs("}", stdout);
}

/* Offset of p in file f, or -1 when it points elsewhere. */
static long file_off(const struct dump_file *f, const uint8_t *p)
{
	if (!p || p < f->buf || p > f->buf + f->len)
		return -1;
	return (long)(p - f->buf);
}

/* A rescued record's views point into the copy the template cache made of
 * its data set, where the record's bytes lie contiguous: [*lo, hi). Find
 * those bytes in the files read so far. Held sets come back oldest first,
 * so each file is searched from just past the last record found in it,
 * which keeps identical records apart. Returns the file index and sets
 * *at, or -1. */
static int find_held(struct dump *d, const struct weir_record *rec, const uint8_t **lo,
		     size_t *at)
{
	const uint8_t *hi = NULL;

	*lo = NULL;
	for (uint16_t i = 0; i < rec->t->nfields; i++) {
		const struct weir_value *v = &rec->v[i];

		if (!v->len)
			continue;
		if (!*lo || v->p < *lo)
			*lo = v->p;
		if (!hi || v->p + v->len > hi)
			hi = v->p + v->len;
	}
	if (!*lo)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned k = 0; k <= d->file; k++) {
			struct dump_file *f = &d->files[k];
			size_t from = pass ? 0 : f->cursor;
			const uint8_t *m;

			if (from >= f->len)
				continue;
			m = memmem(f->buf + from, f->len - from, *lo, (size_t)(hi - *lo));
			if (m) {
				*at = (size_t)(m - f->buf);
				f->cursor = *at + 1;
				return (int)k;
			}
		}
	}
	return -1;
}

static int on_record(const struct weir_record *rec, void *user)
{
	struct dump *d = user;
	const struct tmpl *t = rec->t;
	const struct dump_file *cur = &d->files[d->file];
	const uint8_t *lo = NULL;
	size_t at = 0;
	int rescued = 0, src = (int)d->file;

	d->records++;
	if (t && rec->v) {
		/* A record is rescued when a field that has bytes lies
		 * outside the current file. */
		for (uint16_t i = 0; i < t->nfields; i++)
			if (rec->v[i].len && file_off(cur, rec->v[i].p) < 0)
				rescued = 1;
	}
	if (rescued) {
		d->rescued++;
		src = find_held(d, rec, &lo, &at);
	}
	printf("{\"file\":%u,\"proto\":%u,\"domain\":%" PRIu32 ",\"tid\":%d,\"options\":%u,"
	       "\"scope\":%u,\"rescued\":%s,\"src_file\":%d", d->file, rec->msg->proto,
	       rec->msg->domain, t ? t->id : -1, rec->is_options, t ? t->scope_count : 0,
	       rescued ? "true" : "false", src);
	if (rec->sflow)
		put_sflow(rec->sflow);
	if (t && rec->v) {
		fputs(",\"fields\":[", stdout);
		for (uint16_t i = 0; i < t->nfields; i++) {
			const struct tmpl_field *f = &t->f[i];
			const struct weir_value *v = &rec->v[i];
			int type = f->def ? f->def->type : IE_T_OCTETS;
			long off;

			if (!rescued)
				off = file_off(cur, v->p);
			else if (src >= 0 && v->p >= lo)
				off = (long)(at + (size_t)(v->p - lo));
			else
				off = -1;
			printf("%s{\"pen\":%" PRIu32 ",\"id\":%u,\"name\":", i ? "," : "",
			       f->pen, f->id);
			put_cstr(f->def ? f->def->name : NULL);
			fputs(",\"type\":", stdout);
			put_cstr(ie_type_name(type));
			fputs(",\"units\":", stdout);
			put_cstr(f->def ? f->def->units : "");
			printf(",\"off\":%ld,\"len\":%" PRIu32 ",\"hex\":", off, v->len);
			put_hex(v->p, v->len);
			fputs(",\"val\":", stdout);
			put_val(type, v->p, v->len);
			fputs("}", stdout);
		}
		fputs("]", stdout);
	}
	fputs("}\n", stdout);
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!fp)
		return NULL;
	buf = malloc(DUMP_MAX_FILE);
	if (!buf)
		goto close;
	n = fread(buf, 1, DUMP_MAX_FILE, fp);
	if (ferror(fp) || n == DUMP_MAX_FILE) {
		free(buf);
		buf = NULL;
		goto close;
	}
	*len = n;
close:
	fclose(fp);
	return buf;
}

int main(int argc, char **argv)
{
	struct weir_ctx ctx;
	struct weir_exporter ex;
	struct dump d;
	uint64_t before[WEIR_E_MAX], qbefore[WEIR_Q_MAX];
	int status = 0;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return argc < 2 ? 2 : 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&ex, 0, sizeof(ex));
	memset(&d, 0, sizeof(d));
	d.files = calloc((size_t)argc, sizeof(*d.files));
	if (!d.files) {
		fprintf(stderr, "weir-dump: out of memory\n");
		return 1;
	}
	weir_addr_v4u(&ex.addr, 0x7f000001);
	ex.port = 2055;
	ctx.cache = tmpl_cache_new(NULL, NULL);
	if (!ctx.cache) {
		fprintf(stderr, "weir-dump: out of memory\n");
		return 1;
	}
	ctx.on_record = on_record;
	ctx.user = &d;
	for (int i = 1; i < argc; i++) {
		size_t len = 0;
		uint8_t *buf;
		int rc;
		const char *sep = "";

		errno = 0;
		buf = read_file(argv[i], &len);

		if (!buf) {
			fprintf(stderr, "weir-dump: %s: %s\n", argv[i],
				errno ? strerror(errno) : "too large");
			status = 1;
			continue;
		}
		d.file = (unsigned)(i - 1);
		d.files[d.file].buf = buf;
		d.files[d.file].len = len;
		d.records = d.rescued = 0;
		memcpy(before, ctx.errors, sizeof(before));
		memcpy(qbefore, ctx.quirks, sizeof(qbefore));
		/* A distinct, increasing receive time per file: held data
		 * ages by it, and nothing here waits long enough to expire. */
		rc = weir_decode(&ctx, &ex, buf, len, (uint64_t)i * 1000000000ull);
		printf("{\"file\":%u,\"summary\":true,\"path\":", d.file);
		put_cstr(argv[i]);
		printf(",\"size\":%zu,\"rc\":%d,\"errname\":\"%s\",\"result\":", len, rc,
		       weir_errname(rc));
		put_cstr(weir_strerror(rc));
		printf(",\"records\":%" PRIu64 ",\"rescued\":%" PRIu64 ",\"errors\":{",
		       d.records, d.rescued);
		for (int e = 1; e < WEIR_E_MAX; e++) {
			if (ctx.errors[e] == before[e])
				continue;
			printf("%s\"%s\":%" PRIu64, sep, weir_errname(-e), ctx.errors[e] - before[e]);
			sep = ",";
		}
		fputs("},\"quirks\":{", stdout);
		sep = "";
		for (int q = 0; q < WEIR_Q_MAX; q++) {
			if (ctx.quirks[q] == qbefore[q])
				continue;
			printf("%s\"%s\":%" PRIu64, sep, weir_quirk_name(q), ctx.quirks[q] - qbefore[q]);
			sep = ",";
		}
		fputs("}}\n", stdout);
		fflush(stdout);
	}
	tmpl_cache_free(ctx.cache);
	for (int i = 0; i < argc; i++)
		free(d.files[i].buf);
	free(d.files);
	return status;
}
