/* Unit tests of the MaxMind DB enrichment source (enrich/mmdbsrc.c).
 *
 * - The MaxMind test databases (../shared/testdata/mmdb, or $WEIR_SHARED):
 *   for addresses from each database's own networks, every value agrees
 *   with what `mmdblookup --file F --ip A PATH` prints (run as a child),
 *   and addresses outside every network miss, as mmdblookup says.
 * - The broken databases are refused at load, each with its reason, though
 *   libmaxminddb itself opens two of them.
 * The database written at test time by tests/fixtures/mkmmdb.pl is checked
 * in test_enrich_mmdb_fixture.c.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <maxminddb.h>

#include "enrich.h"
#include "enrhelp.h"
#include "err.h"

/* Tables of a MaxMind DB looked up by the source address. */
#define load(path, fields, s, err, errlen) enr_load("src_addr", path, fields, s, err, errlen)
#define must_load(path, fields, s) enr_must_load("src_addr", path, fields, s)

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
