/* Unit tests of the MaxMind DB enrichment source (enrich/mmdbsrc.c) on a
 * database written at test time by tests/fixtures/mkmmdb.pl
 * (MaxMind::DB::Writer::Tree), checked field by field: every data type,
 * escapes, containers, longest match, IPv4 in IPv6 and IPv4-only files,
 * values past the bounds, reloads of damaged files, a looping search tree,
 * threads sharing a table. Split from test_enrich_mmdb.c. */
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

#include "tmpdir.h"
#include "enrich.h"
#include "enrhelp.h"
#include "err.h"

/* Tables of a MaxMind DB looked up by the source address. */
#define load(path, fields, s, err, errlen) enr_load("src_addr", path, fields, s, err, errlen)
#define must_load(path, fields, s) enr_must_load("src_addr", path, fields, s)

/* ---- the database of tests/fixtures/mkmmdb.pl ---------------------------- */

static char tmpdir[64];

static void mk_tmp(void)
{
	cr_assert_not_null(tmpdir_make(tmpdir, sizeof(tmpdir), "weir-enrich-mmdb"));
}

static void rm_tmp(void)
{
	tmpdir_remove(tmpdir);
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
	if (tmpdir_make(d, sizeof(d), "weir-enrich-mmdb-fx"))
		setenv(FIXTURE_ENV, d, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	const char *d = getenv(FIXTURE_ENV);

	(void)stats;
	/* Only a folder this runner made. */
	if (d && strstr(d, "/weir-enrich-mmdb-fx."))
		tmpdir_remove(d);
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
