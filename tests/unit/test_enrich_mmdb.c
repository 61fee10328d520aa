/* Unit tests of the MaxMind DB enrichment source (enrich/mmdbsrc.c).
 *
 * - The MaxMind test databases (../shared/testdata/mmdb, or $WEIR_SHARED):
 *   for addresses from each database's own networks, every value agrees
 *   with what `mmdblookup --file F --ip A PATH` prints (run as a child),
 *   and addresses outside every network miss, as mmdblookup says.
 * - The broken databases are refused at load, each with its reason, though
 *   libmaxminddb itself opens two of them.
 * - A database written at test time by tests/fixtures/mkmmdb.pl
 *   (MaxMind::DB::Writer::Tree) checked field by field: every data type,
 *   escapes, containers, longest match, IPv4 in IPv6 and IPv4-only files.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maxminddb.h>

#include "enrich.h"
#include "enrhelp.h"
#include "err.h"

/* ---- helpers --------------------------------------------------------- */

static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s && *s ? s : "../shared";
}

/* The path of a shared test database, or skip the test. */
static const char *shared_db(const char *name)
{
	static char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/testdata/mmdb/%s", shared_dir(), name);
	if (stat(path, &sb) != 0)
		cr_skip_test("%s absent (set WEIR_SHARED to the shared folder)", path);
	return path;
}

static int have_mmdblookup(void)
{
	return system("mmdblookup --version >/dev/null 2>&1") == 0;
}

static struct enrich_table *load(const char *path, const char *fields, struct enrich_spec *s,
				 char *err, size_t errlen)
{
	char text[2048];

	snprintf(text, sizeof(text), "type=prefix_lookup,source=%s,key=src_addr,fields=%s", path, fields);
	cr_assert_eq(enrich_spec_parse(text, s, err, errlen), WEIR_OK, "%s: %s", text, err);
	return enrich_table_load(s, err, errlen);
}

static struct enrich_table *must_load(const char *path, const char *fields, struct enrich_spec *s)
{
	char err[512];
	struct enrich_table *t = load(path, fields, s, err, sizeof(err));

	cr_assert_not_null(t, "%s", err);
	return t;
}


/* ---- our JSON members, read back ---------------------------------------- */

struct member {
	char name[64];
	const char *v;		/* the value's text in the output */
	size_t n;
};

/* Split ,"name":value,... into members; the count. Values are scanned by
 * the JSON grammar: strings with their escapes, containers by depth. */
static size_t members(const char *s, struct member *m, size_t max)
{
	size_t k = 0;

	while (*s) {
		const char *q, *v;
		int depth = 0, in_str = 0;

		cr_assert_eq(s[0], ',', "member starts with a comma: %s", s);
		cr_assert_eq(s[1], '"');
		q = strchr(s + 2, '"');
		cr_assert_not_null(q);
		cr_assert_eq(q[1], ':');
		cr_assert_lt(k, max);
		snprintf(m[k].name, sizeof(m[k].name), "%.*s", (int)(q - s - 2), s + 2);
		v = q + 2;
		for (q = v; *q; q++) {
			if (in_str) {
				if (*q == '\\')
					q++;
				else if (*q == '"')
					in_str = 0;
				continue;
			}
			if (*q == '"')
				in_str = 1;
			else if (*q == '{' || *q == '[')
				depth++;
			else if (*q == '}' || *q == ']')
				depth--;
			else if (*q == ',' && depth == 0)
				break;
		}
		m[k].v = v;
		m[k].n = (size_t)(q - v);
		k++;
		s = q;
	}
	return k;
}

/* A JSON string's text (RFC 8259 section 7) into out; 0 when malformed. */
static int unescape(const char *v, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;

	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return 0;
	for (i = 1; i < n - 1 && o + 4 < cap; i++) {
		char c = v[i];

		if ((unsigned char)c < 0x20)
			return 0;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		c = v[++i];
		switch (c) {
		case '"': case '\\': case '/': out[o++] = c; break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'u': {
			unsigned u;

			if (sscanf(v + i + 1, "%4x", &u) != 1 || u >= 0x80)
				return 0;	/* we only ever escape controls */
			out[o++] = (char)u;
			i += 4;
			break;
		}
		default:
			return 0;
		}
	}
	out[o] = '\0';
	return 1;
}

/* ---- mmdblookup as the reference ------------------------------------------ */

enum ref_kind { REF_MISS, REF_ABSENT, REF_VALUE, REF_OTHER };

struct ref {
	enum ref_kind kind;
	char type[32];		/* utf8_string, uint32, double, ... */
	char text[1024];	/* the value as mmdblookup prints it */
};

/* mmdblookup --file F --ip A path parts: "  "GB" <utf8_string>" for a
 * scalar, "Could not find an entry" for a miss, an error for a path the
 * record does not have. */
static void mmdblookup(const char *file, const char *ip, const char *path, struct ref *r)
{
	char cmd[2048], parts[512], buf[8192];
	size_t n = 0, k;
	FILE *p;
	char *lt, *gt, *s, *e;
	int st;

	snprintf(parts, sizeof(parts), "%s", path);
	for (s = parts; *s; s++)
		if (*s == '.')
			*s = ' ';
	snprintf(cmd, sizeof(cmd), "mmdblookup --file '%s' --ip '%s' %s 2>&1", file, ip, parts);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while ((k = fread(buf + n, 1, sizeof(buf) - 1 - n, p)) > 0)
		n += k;
	buf[n] = '\0';
	st = pclose(p);
	memset(r, 0, sizeof(*r));
	if (strstr(buf, "Could not find an entry")) {
		r->kind = REF_MISS;
		return;
	}
	if (strstr(buf, "lookup path does not match the data")) {
		r->kind = REF_ABSENT;
		return;
	}
	cr_assert_eq(st, 0, "%s: %s", cmd, buf);
	/* One scalar: text, a blank, <type>. Containers span lines. */
	s = buf;
	while (*s == ' ' || *s == '\n')
		s++;
	e = buf + n;
	while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
		e--;
	*e = '\0';
	if (*s == '{' || *s == '[') {
		r->kind = REF_OTHER;
		return;
	}
	lt = strrchr(s, '<');
	gt = strrchr(s, '>');
	cr_assert(lt && gt && gt > lt && lt > s, "%s: %s", cmd, buf);
	snprintf(r->type, sizeof(r->type), "%.*s", (int)(gt - lt - 1), lt + 1);
	e = lt - 1;
	snprintf(r->text, sizeof(r->text), "%.*s", (int)(e - s), s);
	if (strcmp(r->type, "utf8_string") == 0) {
		size_t tl = strlen(r->text);

		cr_assert(tl >= 2 && r->text[0] == '"' && r->text[tl - 1] == '"', "%s", r->text);
		memmove(r->text, r->text + 1, tl - 2);
		r->text[tl - 2] = '\0';
	}
	r->kind = REF_VALUE;
}

/* Our value v[0..n) against mmdblookup's, by type. */
static void agree(const char *what, const struct ref *r, const char *v, size_t n)
{
	char ours[1024];

	snprintf(ours, sizeof(ours), "%.*s", (int)n, v);
	if (strcmp(r->type, "utf8_string") == 0) {
		char s[1024];

		cr_assert(unescape(v, n, s, sizeof(s)), "%s: not a JSON string: %s", what, ours);
		cr_assert_str_eq(s, r->text, "%s", what);
	} else if (!strcmp(r->type, "uint16") || !strcmp(r->type, "uint32") ||
		   !strcmp(r->type, "uint64") || !strcmp(r->type, "int32")) {
		cr_assert_str_eq(ours, r->text, "%s (%s)", what, r->type);
	} else if (!strcmp(r->type, "double") || !strcmp(r->type, "float")) {
		char *end;
		double a = strtod(ours, &end), b = strtod(r->text, NULL);

		cr_assert_eq(*end, '\0', "%s: %s", what, ours);
		/* mmdblookup prints %f: six decimals. */
		cr_assert(fabs(a - b) <= 5e-7 * (fabs(b) > 1 ? fabs(b) : 1), "%s: %s vs %s", what, ours, r->text);
	} else if (!strcmp(r->type, "boolean")) {
		cr_assert_str_eq(ours, r->text, "%s", what);
	} else if (!strcmp(r->type, "uint128") || !strcmp(r->type, "bytes")) {
		cr_assert_eq(strlen(r->text) + 2, n, "%s: %s vs %s", what, ours, r->text);
		cr_assert_eq(strncasecmp(ours + 1, r->text, n - 2), 0, "%s: %s vs %s", what, ours, r->text);
	} else {
		cr_assert_fail("%s: type %s not compared", what, r->type);
	}
}

/* ---- networks of a database, by libmaxminddb's own tree ---------------------- */

struct net {
	uint8_t a[16];
	unsigned len;
	int data;		/* a data record, else empty */
};

struct walk {
	MMDB_s db;
	uint8_t *seen;
	struct net *n;
	size_t count, cap;
};

static void walk_node(struct walk *w, uint32_t node, uint8_t *a, unsigned depth)
{
	MMDB_search_node_s sn;

	if (w->seen[node])
		return;		/* an alias of a subtree already listed */
	w->seen[node] = 1;
	cr_assert_eq(MMDB_read_node(&w->db, node, &sn), MMDB_SUCCESS);
	for (int side = 0; side < 2; side++) {
		uint8_t type = side ? sn.right_record_type : sn.left_record_type;
		uint64_t rec = side ? sn.right_record : sn.left_record;

		if (side)
			a[depth / 8] |= (uint8_t)(0x80 >> (depth % 8));
		if (type == MMDB_RECORD_TYPE_SEARCH_NODE) {
			walk_node(w, (uint32_t)rec, a, depth + 1);
		} else if (w->count < w->cap) {
			memcpy(w->n[w->count].a, a, 16);
			w->n[w->count].len = depth + 1;
			w->n[w->count].data = type == MMDB_RECORD_TYPE_DATA;
			w->count++;
		}
		if (side)
			a[depth / 8] &= (uint8_t)~(0x80 >> (depth % 8));
	}
}

/* The networks of file, in tree order. */
static size_t networks(const char *file, struct net *n, size_t cap, int *v6)
{
	struct walk w = { .n = n, .cap = cap };
	uint8_t a[16] = { 0 };

	cr_assert_eq(MMDB_open(file, MMDB_MODE_MMAP, &w.db), MMDB_SUCCESS, "%s", file);
	w.seen = calloc(w.db.metadata.node_count, 1);
	cr_assert_not_null(w.seen);
	walk_node(&w, 0, a, 0);
	*v6 = w.db.metadata.ip_version == 6;
	free(w.seen);
	MMDB_close(&w.db);
	return w.count;
}

/* An address of the network as text: its first or its last address;
 * IPv4 (in an IPv4 database, or under ::/96) as a dotted quad. */
static void net_text(const struct net *n, int v6, int last, char *out, size_t cap)
{
	uint8_t b[16];
	unsigned bits = v6 ? 128 : 32;

	memcpy(b, n->a, 16);
	if (last)
		for (unsigned i = n->len; i < bits; i++)
			b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (!v6) {
		snprintf(out, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return;
	}
	if (n->len >= 96 && !memcmp(b, (uint8_t[12]){ 0 }, 12)) {
		snprintf(out, cap, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
		return;
	}
	cr_assert_not_null(inet_ntop(AF_INET6, b, out, (socklen_t)cap));
}

/* ---- the MaxMind test databases against mmdblookup ---------------------- */

#define MAXNETS 4096
#define SAMPLES 16

static void compare_db(const char *name, const char *const *paths, size_t npaths)
{
	const char *file;
	struct net *nets;
	size_t count, ndata = 0, nempty = 0, done = 0, misses = 0, values = 0;
	char fields[1024], ip[64];
	struct enrich_spec s;
	struct enrich_table *t;
	int v6;
	size_t fl = 0;

	file = shared_db(name);
	if (!have_mmdblookup())
		cr_skip_test("mmdblookup (package mmdb-bin) is not installed");
	nets = calloc(MAXNETS, sizeof(*nets));
	cr_assert_not_null(nets);
	count = networks(file, nets, MAXNETS, &v6);
	for (size_t i = 0; i < count; i++)
		nets[i].data ? ndata++ : nempty++;
	cr_assert_gt(ndata, SAMPLES / 2, "%s: %zu networks with data", name, ndata);

	for (size_t i = 0; i < npaths; i++)
		fl += (size_t)snprintf(fields + fl, sizeof(fields) - fl, "%s%s:f%zu", i ? ";" : "", paths[i], i);
	t = must_load(file, fields, &s);

	/* SAMPLES networks with data spread over the tree (first and last
	 * addresses in turn), and four empty ones. */
	for (size_t i = 0, kd = 0, ke = 0; i < count; i++) {
		struct member m[ENRICH_MAX_FIELDS];
		size_t nm;
		int hit;

		if (nets[i].data ? kd++ % (ndata / SAMPLES + 1) : ke++ % (nempty / 4 + 1))
			continue;
		net_text(&nets[i], v6, (int)(done & 1), ip, sizeof(ip));
		json(t, ip, &hit);
		nm = members(outbuf, m, ENRICH_MAX_FIELDS);
		for (size_t p = 0; p < npaths; p++) {
			struct ref r;
			char what[256], fname[24];
			size_t j;

			snprintf(what, sizeof(what), "%s %s %s", name, ip, paths[p]);
			mmdblookup(file, ip, paths[p], &r);
			if (r.kind == REF_MISS) {
				cr_assert_not(hit, "%s: mmdblookup finds no entry", what);
				cr_assert_eq(nm, 0);
				misses++;
				break;
			}
			cr_assert(hit, "%s: a miss, mmdblookup finds the entry", what);
			snprintf(fname, sizeof(fname), "f%zu", p);
			for (j = 0; j < nm; j++)
				if (strcmp(m[j].name, fname) == 0)
					break;
			if (r.kind == REF_ABSENT) {
				cr_assert_eq(j, nm, "%s: we write a value the record does not have", what);
				continue;
			}
			cr_assert_lt(j, nm, "%s: left out, mmdblookup has %s <%s>", what, r.text, r.type);
			if (r.kind == REF_VALUE) {
				agree(what, &r, m[j].v, m[j].n);
				values++;
			} else {
				cr_assert(m[j].v[0] == '{' || m[j].v[0] == '[', "%s", what);
			}
		}
		done++;
	}
	cr_assert_geq(values, SAMPLES / 2, "%s: only %zu values compared", name, values);
	if (nempty)
		cr_assert_gt(misses, 0, "%s: no miss compared", name);
	cr_log_info("%s: %zu addresses, %zu values, %zu misses", name, done, values, misses);
	enrich_table_free(t);
	enrich_spec_free(&s);
	free(nets);
}

Test(enrich_mmdb, city_agrees_with_mmdblookup)
{
	static const char *const p[] = {
		"country.iso_code", "city.names.en", "subdivisions.0.iso_code", "location.latitude",
		"location.longitude", "location.accuracy_radius", "city.geoname_id",
		"traits.is_anonymous_proxy", "postal.code", "continent.code",
		"registered_country.iso_code", "subdivisions.1.names.en", "country.is_in_european_union",
	};

	compare_db("GeoIP2-City-Test.mmdb", p, sizeof(p) / sizeof(p[0]));
}

Test(enrich_mmdb, country_agrees_with_mmdblookup)
{
	static const char *const p[] = {
		"country.iso_code", "country.names.en", "country.geoname_id", "continent.code",
		"traits.is_anonymous_proxy", "traits.is_satellite_provider", "country.is_in_european_union",
		"represented_country.type",
	};

	compare_db("GeoLite2-Country-Test.mmdb", p, sizeof(p) / sizeof(p[0]));
}

Test(enrich_mmdb, asn_agrees_with_mmdblookup)
{
	static const char *const p[] = {
		"autonomous_system_number", "autonomous_system_organization",
	};

	compare_db("GeoLite2-ASN-Test.mmdb", p, sizeof(p) / sizeof(p[0]));
}

Test(enrich_mmdb, mixed_agrees_with_mmdblookup)
{
	static const char *const p[] = { "ip" };

	compare_db("MaxMind-DB-test-mixed-32.mmdb", p, sizeof(p) / sizeof(p[0]));
}

/* IPv4 goes through our own table (mmdbsrc.c), IPv6 through libmaxminddb:
 * the first and last address of every IPv4 network of a database (those
 * under ::/96 of an IPv6 one) answer the same both ways, JSON and CSV,
 * hits and misses: "a.b.c.d" by the table, "::a.b.c.d" (the same tree
 * nodes) by libmaxminddb. */
static void v4_table_agrees(const char *name, const char *fields)
{
	const char *file = shared_db(name);
	static char a_out[sizeof(outbuf)];
	struct net *nets = calloc(MAXNETS, sizeof(*nets));
	struct enrich_spec s;
	struct enrich_table *t;
	size_t count, compared = 0, hits = 0;
	int v6;

	cr_assert_not_null(nets);
	count = networks(file, nets, MAXNETS, &v6);
	cr_assert(v6, "%s: an IPv6 database", name);
	t = must_load(file, fields, &s);
	for (size_t i = 0; i < count; i++) {
		for (int last = 0; last < 2; last++) {
			char v4[64], compat[80];
			int hit4, hit6;

			if (nets[i].len < 96 || memcmp(nets[i].a, (uint8_t[12]){ 0 }, 12))
				continue;
			net_text(&nets[i], 1, last, v4, sizeof(v4));
			snprintf(compat, sizeof(compat), "::%s", v4);
			snprintf(a_out, sizeof(a_out), "%s", json(t, v4, &hit4));
			cr_assert_str_eq(json(t, compat, &hit6), a_out, "%s %s", name, v4);
			cr_assert_eq(hit4, hit6, "%s %s", name, v4);
			snprintf(a_out, sizeof(a_out), "%s", csv(t, v4, &hit4));
			cr_assert_str_eq(csv(t, compat, &hit6), a_out, "%s %s", name, v4);
			cr_assert_eq(hit4, hit6, "%s %s", name, v4);
			compared++;
			hits += (size_t)hit4;
		}
	}
	cr_assert_gt(hits, 4, "%s: %zu of %zu addresses were hits", name, hits, compared);
	cr_assert_lt(hits, compared, "%s: no miss compared", name);
	enrich_table_free(t);
	enrich_spec_free(&s);
	free(nets);
}

Test(enrich_mmdb, ipv4_table_agrees_with_libmaxminddb)
{
	v4_table_agrees("GeoIP2-City-Test.mmdb",
			"country.iso_code:c;city.names.en:n;location:l;subdivisions.0.iso_code:s");
	v4_table_agrees("GeoLite2-Country-Test.mmdb", "country.iso_code:c;country.names:n");
	v4_table_agrees("GeoLite2-ASN-Test.mmdb",
			"autonomous_system_number:a;autonomous_system_organization:o");
	v4_table_agrees("MaxMind-DB-test-mixed-32.mmdb", "ip:ip");
}

/* Known answers from the City test database, and a whole map. */
Test(enrich_mmdb, city_known_answers)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(shared_db("GeoIP2-City-Test.mmdb"),
					   "country.iso_code:cc;city.names.en:city;subdivisions.0.iso_code:sub;"
					   "location.time_zone:tz;location:loc", &s);
	struct enrich_table_stats st;
	int hit;

	static const char head[] = ",\"cc\":\"GB\",\"city\":\"London\",\"sub\":\"ENG\","
		"\"tz\":\"Europe/London\",\"loc\":{\"accuracy_radius\":100,\"latitude\":51.5142,";
	char first[1024];

	snprintf(first, sizeof(first), "%s", json(t, "81.2.69.160", &hit));
	cr_assert(hit);
	cr_assert(strncmp(first, head, sizeof(head) - 1) == 0, "%s", first);
	cr_assert(strstr(first, "\"time_zone\":\"Europe/London\"}"), "%s", first);
	/* The same record through the IPv4-mapped form and ::/96. */
	JSON_IS(t, "::ffff:81.2.69.160", first);
	JSON_IS(t, "::81.2.69.160", first);
	MISS(t, "1.1.1.1", ",,,,,");
	MISS(t, "2001:db9::1", ",,,,,");
	enrich_table_stats(t, &st);
	cr_assert_eq(st.entries, 1547);
	/* The file, and the IPv4 table built from it. */
	cr_assert_gt(st.bytes, 22569);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* ---- broken databases ------------------------------------------------------ */

static void refused(const char *name, const char *says)
{
	const char *file = shared_db(name);
	struct enrich_spec s;
	char err[512] = "";
	struct enrich_table *t = load(file, "country.iso_code:cc", &s, err, sizeof(err));

	cr_assert_null(t, "%s loaded", name);
	cr_assert(strstr(err, name), "the message names the file: %s", err);
	cr_assert(strstr(err, says), "%s\nwanted: %s", err, says);
	enrich_spec_free(&s);
}

/* How many data records of file decode, and how many fail. */
static void decode_all(const char *file, size_t *good, size_t *bad)
{
	struct net *nets = calloc(MAXNETS, sizeof(*nets));
	MMDB_s db;
	size_t count;
	int v6, gai, merr;
	char ip[64];

	cr_assert_not_null(nets);
	count = networks(file, nets, MAXNETS, &v6);
	cr_assert_eq(MMDB_open(file, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
	*good = *bad = 0;
	for (size_t i = 0; i < count; i++) {
		MMDB_lookup_result_s r;
		MMDB_entry_data_list_s *l = NULL;

		if (!nets[i].data)
			continue;
		net_text(&nets[i], v6, 0, ip, sizeof(ip));
		r = MMDB_lookup_string(&db, ip, &gai, &merr);
		cr_assert(r.found_entry && merr == MMDB_SUCCESS, "%s", ip);
		if (MMDB_get_entry_data_list(&r.entry, &l) == MMDB_SUCCESS)
			(*good)++;
		else
			(*bad)++;
		MMDB_free_entry_data_list(l);
	}
	MMDB_close(&db);
	free(nets);
}

/* A double whose size is not 8 bytes in the data section: libmaxminddb
 * opens the file and answers most addresses, and fails the records that
 * reach that double (81.2.69.160 among them). Refused at load. */
Test(enrich_mmdb, broken_double_format_refused)
{
	const char *file = shared_db("GeoIP2-City-Test-Broken-Double-Format.mmdb");
	size_t good, bad;

	decode_all(file, &good, &bad);
	cr_assert_gt(good, 0);
	cr_assert_gt(bad, 0);
	refused("GeoIP2-City-Test-Broken-Double-Format.mmdb",
		"data record at offset 155: The MaxMind DB file's data section contains bad data");
}

/* Metadata that says 100000 nodes in a 22 KB file: libmaxminddb refuses to
 * open it. */
Test(enrich_mmdb, invalid_node_count_refused)
{
	MMDB_s db;

	cr_assert_eq(MMDB_open(shared_db("GeoIP2-City-Test-Invalid-Node-Count.mmdb"), MMDB_MODE_MMAP, &db),
		     MMDB_INVALID_METADATA_ERROR);
	refused("GeoIP2-City-Test-Invalid-Node-Count.mmdb", "contains invalid metadata");
}

/* An IPv4 database whose data section holds pointers past its end: it
 * opens, some addresses answer (1.1.1.1), others fail. Refused at load. */
Test(enrich_mmdb, broken_pointers_refused)
{
	const char *file = shared_db("MaxMind-DB-test-broken-pointers-24.mmdb");
	size_t good, bad;

	decode_all(file, &good, &bad);
	cr_assert_gt(good, 0);
	cr_assert_gt(bad, 0);
	refused("MaxMind-DB-test-broken-pointers-24.mmdb", "data record at offset 0: The MaxMind DB file's data");
}

/* ---- the database of tests/fixtures/mkmmdb.pl ---------------------------- */

static char tmpdir[64];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/weir-enrich-mmdb-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", tmpdir);
}

/* The fixture databases are written once per run (perl takes most of a
 * second to start the writer): into a directory the runner makes before
 * the tests and removes after them, named in the environment the forked
 * tests inherit. */
#define FIXTURE_ENV "WEIR_ENRICH_MMDB_FIXTURES"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	static char d[64];

	(void)set;
	snprintf(d, sizeof(d), "/tmp/weir-enrich-mmdb-fx-XXXXXX");
	if (mkdtemp(d))
		setenv(FIXTURE_ENV, d, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *d = getenv(FIXTURE_ENV);
	char cmd[128];

	(void)stats;
	if (!d || strncmp(d, "/tmp/weir-enrich-mmdb-fx-", 25) != 0)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d);
}

/* The fixture database (ipv 4 or 6), written if not yet; its path. */
static const char *mkmmdb(int ipv)
{
	static char out[128];
	char script[256], cmd[768], part[160];
	const char *slash = strrchr(__FILE__, '/');
	const char *d = getenv(FIXTURE_ENV);
	struct stat sb;

	if (!d)
		d = tmpdir;
	snprintf(out, sizeof(out), "%s/fixture%d.mmdb", d, ipv);
	if (stat(out, &sb) == 0)
		return out;
	snprintf(script, sizeof(script), "%.*s/../fixtures/mkmmdb.pl",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	if (stat(script, &sb) != 0)
		cr_skip_test("%s not found (run the tests from the source tree)", script);
	if (system("perl -MMaxMind::DB::Writer::Tree -e 1 >/dev/null 2>&1") != 0)
		cr_skip_test("perl MaxMind::DB::Writer::Tree is missing (libmaxmind-db-writer-perl)");
	/* Another test may write the same file at once: each writes its own
	 * and renames it into place. */
	snprintf(part, sizeof(part), "%s.%d", out, (int)getpid());
	snprintf(cmd, sizeof(cmd), "perl '%s' '%s' %d", script, part, ipv);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(rename(part, out), 0, "%s: %s", out, strerror(errno));
	return out;
}

TestSuite(enrich_mmdb_fixture, .init = mk_tmp, .fini = rm_tmp);

#define ALL "name:n;esc:e;utf:u;empty:em;dbl:d;dbl2:d2;lat:lat;flt:f;neg:neg;u16:u16;u32:u32;" \
	"u64:u64;u128:u128;flag:flag;raw:raw;nope:nope;country.iso_code:cc"

Test(enrich_mmdb_fixture, every_type_in_json)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), ALL, &s);

	JSON_IS(t, "192.0.2.1",
		",\"n\":\"Doc Net 1\""
		",\"e\":\"say \\\"hi\\\" \\\\ back\\\\slash\\ttab\\nnl\\u0001ctl\\u001f\""
		",\"u\":\"Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80\""
		",\"em\":\"\""
		",\"d\":1.5,\"d2\":0.1,\"lat\":-33.8688,\"f\":1.25,\"neg\":-3"
		",\"u16\":65535,\"u32\":4294967295,\"u64\":18446744073709551615"
		",\"u128\":\"0x00000010000000000000000000000000\""
		",\"flag\":true,\"raw\":\"0001feff\",\"cc\":\"ZZ\"");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_mmdb_fixture, every_type_in_csv)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), ALL, &s);

	CSV_IS(t, "192.0.2.1",
	       ",Doc Net 1"
	       ",\"say \"\"hi\"\" \\ back\\slash\ttab\nnl\x01" "ctl\x1f\""
	       ",Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80"
	       ","
	       ",1.5,0.1,-33.8688,1.25,-3,65535,4294967295,18446744073709551615"
	       ",0x00000010000000000000000000000000,true,0001feff,,ZZ");
	MISS(t, "203.0.113.1", ",,,,,,,,,,,,,,,,,");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* Longest match: the /25 inside the /24 carries its own record; a host
 * route; IPv6 networks and IPv4 through every form that reaches it. */
Test(enrich_mmdb_fixture, networks_and_families)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), "name:n;flag:flag;u32:u32;dbl:d;neg:neg", &s);

	JSON_IS(t, "192.0.2.127", ",\"n\":\"Doc Net 1\",\"flag\":true,\"u32\":4294967295,\"d\":1.5,\"neg\":-3");
	JSON_IS(t, "192.0.2.128", ",\"n\":\"Doc Net 1 upper\",\"flag\":false,\"u32\":7");
	CSV_IS(t, "192.0.2.255", ",Doc Net 1 upper,false,7,,");
	JSON_IS(t, "198.51.100.7", ",\"n\":\"host\",\"neg\":-2147483648");
	MISS(t, "198.51.100.6", ",,,,,");
	MISS(t, "198.51.100.8", ",,,,,");
	JSON_IS(t, "2001:db8::1", ",\"n\":\"v6 doc\",\"d\":1e+300");
	JSON_IS(t, "2001:db8:1::1", ",\"n\":\"v6 more specific\"");
	JSON_IS(t, "2001:db8:2::1", ",\"n\":\"v6 doc\",\"d\":1e+300");
	MISS(t, "2001:db9::1", ",,,,,");
	/* IPv4 as mapped (our form), as ::/96 and as 6to4 (aliases the
	 * writer puts in, as MaxMind's databases have). */
	JSON_IS(t, "::ffff:198.51.100.7", ",\"n\":\"host\",\"neg\":-2147483648");
	JSON_IS(t, "::198.51.100.7", ",\"n\":\"host\",\"neg\":-2147483648");
	JSON_IS(t, "2002:c633:6407::", ",\"n\":\"host\",\"neg\":-2147483648");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_mmdb_fixture, ipv4_only_database)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(4), "name:n;u32:u32", &s);

	JSON_IS(t, "192.0.2.1", ",\"n\":\"Doc Net 1\",\"u32\":4294967295");
	JSON_IS(t, "192.0.2.200", ",\"n\":\"Doc Net 1 upper\",\"u32\":7");
	JSON_IS(t, "::ffff:198.51.100.7", ",\"n\":\"host\"");
	MISS(t, "198.51.100.8", ",,");
	/* No IPv6 in an IPv4 database: a miss, not an error. */
	MISS(t, "2001:db8::1", ",,");
	MISS(t, "::198.51.100.7", ",,");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* Paths into arrays by index and into nested maps; whole containers as
 * compact JSON (a quoted cell in CSV); paths that name nothing. */
Test(enrich_mmdb_fixture, paths_and_containers)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6),
					   "tags.1:t1;subdivisions.1.iso_code:sub;nested.inner.deep:deep;nums.2:n2;"
					   "tags:tags;nested:nested;subdivisions:subs;nums:nums;"
					   "subdivisions.5.iso_code:none;name.x:none2;tags.x:none3", &s);

	JSON_IS(t, "192.0.2.1",
		",\"t1\":\"b,c\",\"sub\":\"WLS\",\"deep\":\"x\",\"n2\":3"
		",\"tags\":[\"a\",\"b,c\",\"d\\\"e\"]"
		",\"nested\":{\"inner\":{\"deep\":\"x\"}}"
		",\"subs\":[{\"iso_code\":\"ENG\"},{\"iso_code\":\"WLS\"}]"
		",\"nums\":[1,2,3]");
	CSV_IS(t, "192.0.2.1",
	       ",\"b,c\",WLS,x,3"
	       ",\"[\"\"a\"\",\"\"b,c\"\",\"\"d\\\"\"e\"\"]\""
	       ",\"{\"\"inner\"\":{\"\"deep\"\":\"\"x\"\"}}\""
	       ",\"[{\"\"iso_code\"\":\"\"ENG\"\"},{\"\"iso_code\"\":\"\"WLS\"\"}]\""
	       ",\"[1,2,3]\",,,");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* ENRICH_VALUE_MAX bounds the written form, quotes included. */
Test(enrich_mmdb_fixture, long_values)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), "long510:a;long511:b;long600:c;name:n", &s);
	char want[2048];
	char y510[511], y511[512];

	memset(y510, 'y', 510);
	y510[510] = '\0';
	memset(y511, 'y', 511);
	y511[511] = '\0';
	snprintf(want, sizeof(want), ",\"a\":\"%s\",\"n\":\"Doc Net 1\"", y510);
	JSON_IS(t, "192.0.2.1", want);
	snprintf(want, sizeof(want), ",%s,%s,,Doc Net 1", y510, y511);
	CSV_IS(t, "192.0.2.1", want);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* Too small a buffer: SIZE_MAX with nothing written; just enough: the same
 * text as with a large one. */
Test(enrich_mmdb_fixture, size_max_when_cap_is_small)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), "name:n;tags:tags;dbl:d", &s);
	struct weir_addr a = addr("192.0.2.1"), miss = addr("203.0.113.9");
	char full[256], buf[256];
	size_t n, c;
	int hit;

	n = enrich_json(t, &a, full, sizeof(full), &hit);
	cr_assert(hit);
	cr_assert_eq(n, strlen(",\"n\":\"Doc Net 1\",\"tags\":[\"a\",\"b,c\",\"d\\\"e\"],\"d\":1.5"));
	memset(buf, '#', sizeof(buf));
	hit = 0;
	cr_assert_eq(enrich_json(t, &a, buf, n - 1, &hit), SIZE_MAX);
	cr_assert(hit);
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], '#', "byte %zu written", i);
	cr_assert_eq(enrich_json(t, &a, buf, n, &hit), n);
	cr_assert_eq(memcmp(buf, full, n), 0);

	c = enrich_csv(t, &a, full, sizeof(full), &hit);
	cr_assert_eq(enrich_csv(t, &a, buf, c - 1, &hit), SIZE_MAX);
	cr_assert_eq(enrich_csv(t, &a, buf, c, &hit), c);
	cr_assert_eq(memcmp(buf, full, c), 0);

	cr_assert_eq(enrich_csv(t, &miss, buf, 2, &hit), SIZE_MAX);
	cr_assert_not(hit);
	cr_assert_eq(enrich_csv(t, &miss, buf, 3, &hit), 3);
	cr_assert_eq(memcmp(buf, ",,,", 3), 0);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_mmdb_fixture, stats)
{
	const char *file = mkmmdb(6);
	struct enrich_spec s;
	struct enrich_table *t = must_load(file, "name:n", &s);
	struct enrich_table_stats st;
	struct stat sb;
	MMDB_s db;

	cr_assert_eq(MMDB_open(file, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
	cr_assert_eq(stat(file, &sb), 0);
	enrich_table_stats(t, &st);
	cr_assert_eq(st.entries, db.metadata.node_count);
	cr_assert_gt(st.bytes, (uint64_t)sb.st_size);
	MMDB_close(&db);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* What a reload may meet: a file cut in half, an empty file, noise, a
 * missing file, a directory. Each refused with a sentence. */
Test(enrich_mmdb_fixture, half_written_and_unreadable)
{
	const char *good = mkmmdb(6);
	static const char noise[] = "this is not a MaxMind DB file\n";
	struct enrich_spec s;
	char path[256], err[512];
	struct stat sb;
	FILE *in, *out;
	char *buf;
	struct enrich_table *t;

	cr_assert_eq(stat(good, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	cr_assert_not_null(buf);
	in = fopen(good, "rb");
	cr_assert_eq(fread(buf, 1, (size_t)sb.st_size, in), (size_t)sb.st_size);
	fclose(in);

	snprintf(path, sizeof(path), "%s/half.mmdb", tmpdir);
	out = fopen(path, "wb");
	fwrite(buf, 1, (size_t)sb.st_size / 2, out);
	fclose(out);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "half.mmdb: "), "%s", err);
	enrich_spec_free(&s);

	/* The tree whole, the data and metadata gone. */
	snprintf(path, sizeof(path), "%s/cut.mmdb", tmpdir);
	out = fopen(path, "wb");
	fwrite(buf, 1, (size_t)sb.st_size - 200, out);
	fclose(out);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "cut.mmdb: "), "%s", err);
	enrich_spec_free(&s);

	snprintf(path, sizeof(path), "%s/empty.mmdb", tmpdir);
	out = fopen(path, "wb");
	fclose(out);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "empty.mmdb: "), "%s", err);
	enrich_spec_free(&s);

	snprintf(path, sizeof(path), "%s/noise.mmdb", tmpdir);
	out = fopen(path, "wb");
	fwrite(noise, 1, sizeof(noise) - 1, out);
	fclose(out);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "noise.mmdb: "), "%s", err);
	enrich_spec_free(&s);

	snprintf(path, sizeof(path), "%s/absent.mmdb", tmpdir);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "absent.mmdb: No such file or directory"), "%s", err);
	enrich_spec_free(&s);

	snprintf(path, sizeof(path), "%s/dir.mmdb", tmpdir);
	cr_assert_eq(mkdir(path, 0700), 0);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "dir.mmdb: not a regular file"), "%s", err);
	enrich_spec_free(&s);
	free(buf);
}

/* A search tree record made to point back at a node already on the path:
 * MMDB_open does not look, the load-time walk refuses it. */
Test(enrich_mmdb_fixture, search_tree_loop_refused)
{
	const char *good = mkmmdb(4);	/* record size 24: 3 bytes a record */
	struct enrich_spec s;
	char path[256], err[512];
	struct stat sb;
	FILE *in, *out;
	uint8_t *buf;
	MMDB_s db;
	MMDB_search_node_s n1;
	struct enrich_table *t;

	cr_assert_eq(MMDB_open(good, MMDB_MODE_MMAP, &db), MMDB_SUCCESS);
	cr_assert_eq(db.metadata.record_size, 24);
	cr_assert_eq(MMDB_read_node(&db, 0, &n1), MMDB_SUCCESS);
	/* 192.0.2.0 starts with bit 1: node 0's right record leads there. */
	cr_assert_eq(n1.right_record_type, MMDB_RECORD_TYPE_SEARCH_NODE);
	MMDB_close(&db);
	cr_assert_eq(stat(good, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	in = fopen(good, "rb");
	cr_assert_eq(fread(buf, 1, (size_t)sb.st_size, in), (size_t)sb.st_size);
	fclose(in);
	/* Node N's right record (bytes 6N+3..6N+5) now points to node N
	 * itself, N being where 1.x.x.x leads. */
	{
		uint32_t node = (uint32_t)n1.right_record;
		uint8_t *r = buf + 6 * (size_t)node + 3;

		r[0] = (uint8_t)(node >> 16);
		r[1] = (uint8_t)(node >> 8);
		r[2] = (uint8_t)node;
	}
	snprintf(path, sizeof(path), "%s/loop.mmdb", tmpdir);
	out = fopen(path, "wb");
	fwrite(buf, 1, (size_t)sb.st_size, out);
	fclose(out);
	free(buf);
	cr_assert_eq(MMDB_open(path, MMDB_MODE_MMAP, &db), MMDB_SUCCESS, "libmaxminddb opens it");
	MMDB_close(&db);
	t = load(path, "name:n", &s, err, sizeof(err));
	cr_assert_null(t);
	cr_assert(strstr(err, "loop.mmdb: search tree node") && strstr(err, "a loop back to node"), "%s", err);
	enrich_spec_free(&s);
}

/* Many threads look up in one table at once and see what one thread sees. */
struct par {
	const struct enrich_table *t;
	int bad;
};

static void *par_lookups(void *arg)
{
	struct par *p = arg;
	static const char *const ips[] = { "192.0.2.1", "192.0.2.200", "198.51.100.7", "2001:db8::1", "10.0.0.1" };
	static const char *const want[] = {
		",\"n\":\"Doc Net 1\",\"tags\":[\"a\",\"b,c\",\"d\\\"e\"]",
		",\"n\":\"Doc Net 1 upper\"",
		",\"n\":\"host\"",
		",\"n\":\"v6 doc\"",
		"",
	};
	char buf[1024];

	for (int i = 0; i < 2000; i++) {
		size_t k = (size_t)i % 5, n;
		struct weir_addr a;
		int hit;

		weir_addr_parse(&a, ips[k]);
		n = enrich_json(p->t, &a, buf, sizeof(buf), &hit);
		if (n != strlen(want[k]) || memcmp(buf, want[k], n) != 0 || hit != (k != 4))
			p->bad++;
	}
	return NULL;
}

Test(enrich_mmdb_fixture, threads_share_a_table)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(mkmmdb(6), "name:n;tags:tags", &s);
	struct par p[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		p[i].t = t;
		p[i].bad = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, par_lookups, &p[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(p[i].bad, 0, "thread %d", i);
	}
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* libmaxminddb hands strings out as stored; bytes that are not UTF-8
 * (here an overlong form, a lone continuation, a surrogate) come out as
 * U+FFFD, one per maximal ill-formed subpart (five here, one per byte), so
 * the line stays valid JSON: in JSON as the escape \ufffd that every JSON
 * string of weir uses (txt.h), in CSV as the character itself. */
Test(enrich_mmdb_fixture, strings_that_are_not_utf8)
{
	const char *good = mkmmdb(6);
	static const char from[] = "Doc Net 1 upper";
	static const char to[] = "Doc Net 1 \xc0\xaf\xed\xa0\x80";
	struct enrich_spec s;
	struct enrich_table *t;
	char path[256];
	struct stat sb;
	FILE *in, *out;
	char *buf, *at;

	cr_assert_eq(stat(good, &sb), 0);
	buf = malloc((size_t)sb.st_size);
	in = fopen(good, "rb");
	cr_assert_eq(fread(buf, 1, (size_t)sb.st_size, in), (size_t)sb.st_size);
	fclose(in);
	at = memmem(buf, (size_t)sb.st_size, from, sizeof(from) - 1);
	cr_assert_not_null(at);
	memcpy(at, to, sizeof(to) - 1);
	snprintf(path, sizeof(path), "%s/utf8.mmdb", tmpdir);
	out = fopen(path, "wb");
	fwrite(buf, 1, (size_t)sb.st_size, out);
	fclose(out);
	free(buf);

	t = must_load(path, "name:n;u32:u32", &s);
	JSON_IS(t, "192.0.2.200", ",\"n\":\"Doc Net 1 "
		"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\",\"u32\":7");
	CSV_IS(t, "192.0.2.200", ",Doc Net 1 "
	       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd,7");
	JSON_IS(t, "192.0.2.1", ",\"n\":\"Doc Net 1\",\"u32\":4294967295");
	enrich_table_free(t);
	enrich_spec_free(&s);
}
