/* Unit tests of the CSV enrichment source (enrich/csvsrc.c): RFC 4180 cells
 * (quotes, commas, line breaks), a BOM, IPv4/IPv6 prefixes and host routes,
 * longest match, JSON number typing, CSV cell quoting, misses, and every
 * load error with its line. Files are written to a temporary directory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"
#include "enrich.h"
#include "enrhelp.h"
#include "err.h"

static char dir[64];

static void mkdir_tmp(void)
{
	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-enrich-csv"));
}

static void rm_tmp(void)
{
	tmpdir_remove(dir);
}

TestSuite(enrich_csv, .init = mkdir_tmp, .fini = rm_tmp);

/* Write n bytes of text as dir/name; the path (static, one at a time). */
static const char *put(const char *name, const char *text, size_t n)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return path;
}

#define PUT(name, lit) put(name, lit, sizeof(lit) - 1)

/* Tables of a CSV file looked up by the destination address. */
#define load(path, fields, s, err, errlen) enr_load("dst_addr", path, fields, s, err, errlen)
#define must_load(path, fields, s) enr_must_load("dst_addr", path, fields, s)

/* The refusal message for path, which must hold each of the strings. */
static void must_refuse(const char *path, const char *fields, const char *says1, const char *says2)
{
	struct enrich_spec s;
	char err[512] = "";
	struct enrich_table *t = load(path, fields, &s, err, sizeof(err));

	cr_assert_null(t, "loaded %s", path);
	enrich_table_free(t);
	cr_assert(strstr(err, says1), "said: %s\nwanted: %s", err, says1);
	if (says2)
		cr_assert(strstr(err, says2), "said: %s\nwanted: %s", err, says2);
	cr_assert(strstr(err, "/weir-enrich-csv."), "the message names the file: %s", err);
	enrich_spec_free(&s);
}


Test(enrich_csv, quoted_cells)
{
	const char *p = PUT("q.csv",
		"prefix,asn,org\n"
		"10.0.0.0/8,64500,\"Example, Inc.\"\n"
		"10.1.0.0/16,64501,\"say \"\"hi\"\" \\ there\"\n"
		"10.2.0.0/16,64502,\"two\nlines\"\n"
		"10.3.0.0/16,\"64503\",plain text\n"
		" 10.4.0.0/16 ,\t64504 , padded\t\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "asn:dst_asn;org:dst_org", &s);

	JSON_IS(t, "10.0.0.1", ",\"dst_asn\":64500,\"dst_org\":\"Example, Inc.\"");
	CSV_IS(t, "10.0.0.1", ",64500,\"Example, Inc.\"");
	JSON_IS(t, "10.1.0.1", ",\"dst_asn\":64501,\"dst_org\":\"say \\\"hi\\\" \\\\ there\"");
	CSV_IS(t, "10.1.0.1", ",64501,\"say \"\"hi\"\" \\ there\"");
	JSON_IS(t, "10.2.0.1", ",\"dst_asn\":64502,\"dst_org\":\"two\\nlines\"");
	CSV_IS(t, "10.2.0.1", ",64502,\"two\nlines\"");
	/* Quoting in the file does not make a number a string. */
	JSON_IS(t, "10.3.0.1", ",\"dst_asn\":64503,\"dst_org\":\"plain text\"");
	CSV_IS(t, "10.3.0.1", ",64503,plain text");
	/* Blanks around unquoted cells are not part of them. */
	JSON_IS(t, "10.4.0.1", ",\"dst_asn\":64504,\"dst_org\":\"padded\"");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, bom_crlf_and_header_blanks)
{
	const char *p = PUT("bom.csv",
		"\xef\xbb\xbf prefix , asn ,\" org \"\r\n"
		"192.0.2.0/24,1,x\r\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "asn:a;org:o", &s);

	JSON_IS(t, "192.0.2.9", ",\"a\":1,\"o\":\"x\"");
	CSV_IS(t, "192.0.2.9", ",1,x");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, ipv4_ipv6_and_host_routes)
{
	const char *p = PUT("fam.csv",
		"prefix,n\n"
		"198.51.100.0/24,v4net\n"
		"2001:db8::/32,v6net\n"
		"192.0.2.1,v4host\n"
		"2001:db8:ffff::1,v6host\n"
		"203.0.113.0/32,slash32\n"
		"::ffff:100.64.0.0/106,mapped\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "n:n", &s);
	struct enrich_table_stats st;

	JSON_IS(t, "198.51.100.0", ",\"n\":\"v4net\"");
	JSON_IS(t, "198.51.100.255", ",\"n\":\"v4net\"");
	MISS(t, "198.51.101.0", ",");
	JSON_IS(t, "2001:db8:1234::9", ",\"n\":\"v6net\"");
	MISS(t, "2001:db9::", ",");
	JSON_IS(t, "192.0.2.1", ",\"n\":\"v4host\"");
	MISS(t, "192.0.2.0", ",");
	MISS(t, "192.0.2.2", ",");
	/* The /32 of the v6 host covers its one address only, not the
	 * enclosing /32 network. */
	JSON_IS(t, "2001:db8:ffff::1", ",\"n\":\"v6host\"");
	JSON_IS(t, "2001:db8:ffff::2", ",\"n\":\"v6net\"");
	JSON_IS(t, "203.0.113.0", ",\"n\":\"slash32\"");
	MISS(t, "203.0.113.1", ",");
	/* An IPv4-mapped IPv6 prefix is the IPv4 prefix 100.64/10. */
	JSON_IS(t, "100.127.255.255", ",\"n\":\"mapped\"");
	MISS(t, "100.128.0.0", ",");
	/* IPv4 prefixes do not cover IPv6 addresses and the reverse. */
	MISS(t, "::c633:6401", ",");
	enrich_table_stats(t, &st);
	cr_assert_eq(st.entries, 6);
	cr_assert_gt(st.bytes, 0);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, overlaps_resolve_to_the_longest)
{
	const char *p = PUT("ov.csv",
		"prefix,level\n"
		"10.1.2.0/24,24\n"
		"10.0.0.0/8,8\n"
		"10.1.2.3/32,32\n"
		"10.1.0.0/16,16\n"
		"0.0.0.0/0,0\n"
		"2001:db8:1::/48,48\n"
		"2001:db8::/32,32\n"
		"::/0,v6default\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "level:l", &s);

	JSON_IS(t, "10.1.2.3", ",\"l\":32");
	JSON_IS(t, "10.1.2.4", ",\"l\":24");
	JSON_IS(t, "10.1.3.4", ",\"l\":16");
	JSON_IS(t, "10.2.0.0", ",\"l\":8");
	JSON_IS(t, "11.0.0.0", ",\"l\":0");
	JSON_IS(t, "2001:db8:1:2::", ",\"l\":48");
	JSON_IS(t, "2001:db8:2::", ",\"l\":32");
	JSON_IS(t, "fe80::1", ",\"l\":\"v6default\"");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* ::/0 is every IPv6 address and no IPv4 one; 0.0.0.0/0 the reverse. */
Test(enrich_csv, families_stay_apart)
{
	struct enrich_spec s;
	struct enrich_table *t = must_load(PUT("all6.csv", "prefix,n\n::/0,all6\n"), "n:n", &s);

	JSON_IS(t, "2001:db8::1", ",\"n\":\"all6\"");
	JSON_IS(t, "::", ",\"n\":\"all6\"");
	MISS(t, "192.0.2.1", ",");
	MISS(t, "0.0.0.0", ",");
	enrich_table_free(t);
	enrich_spec_free(&s);

	t = must_load(PUT("all4.csv", "prefix,n\n0.0.0.0/0,all4\n"), "n:n", &s);
	JSON_IS(t, "192.0.2.1", ",\"n\":\"all4\"");
	MISS(t, "2001:db8::1", ",");
	MISS(t, "::", ",");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* The bits past the length are ignored: 10.9.8.7/8 is 10.0.0.0/8. The same
 * prefix twice: the later row wins. */
Test(enrich_csv, host_bits_and_repeats)
{
	const char *p = PUT("hb.csv",
		"prefix,v\n"
		"10.9.8.7/8,first\n"
		"2001:db8::dead:beef/32,six\n"
		"10.0.0.0/8,second\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "v:v", &s);

	JSON_IS(t, "10.200.1.1", ",\"v\":\"second\"");
	JSON_IS(t, "2001:db8:7::1", ",\"v\":\"six\"");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* A cell is a JSON number when the JSON grammar says so (RFC 8259 section
 * 6), else a string. */
Test(enrich_csv, numbers_and_strings)
{
	static const struct { const char *cell, *json; } c[] = {
		{ "15169", "15169" }, { "-3", "-3" }, { "0", "0" }, { "-0", "-0" },
		{ "1.5", "1.5" }, { "1.5e3", "1.5e3" }, { "2E-7", "2E-7" }, { "1e+9", "1e+9" },
		{ "0.25", "0.25" }, { "18446744073709551616", "18446744073709551616" },
		{ "0123", "\"0123\"" }, { "1.", "\"1.\"" }, { ".5", "\".5\"" }, { "1e", "\"1e\"" },
		{ "+1", "\"+1\"" }, { "0x10", "\"0x10\"" }, { "--1", "\"--1\"" }, { "-", "\"-\"" },
		{ "1e5.0", "\"1e5.0\"" }, { "NaN", "\"NaN\"" }, { "Infinity", "\"Infinity\"" },
		{ "true", "\"true\"" }, { "null", "\"null\"" }, { "\" 12\"", "\" 12\"" },
		{ "\"1,000\"", "\"1,000\"" }, { "AS15169", "\"AS15169\"" },
	};
	char file[2048], want[128];
	size_t n = 0;
	struct enrich_spec s;
	struct enrich_table *t;
	const char *p;

	n += (size_t)snprintf(file + n, sizeof(file) - n, "prefix,v\n");
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		n += (size_t)snprintf(file + n, sizeof(file) - n, "10.0.%zu.0/24,%s\n", i, c[i].cell);
	p = put("num.csv", file, n);
	t = must_load(p, "v:v", &s);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.0.%zu.1", i);
		snprintf(want, sizeof(want), ",\"v\":%s", c[i].json);
		JSON_IS(t, a, want);
	}
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* Output cells are quoted when RFC 4180 needs it, whatever the file did. */
Test(enrich_csv, output_cell_quoting)
{
	const char *p = PUT("cq.csv",
		"prefix,a,b,c,d\n"
		"10.0.0.0/8,\"plain\",\"com,ma\",\"quo\"\"te\",\"cr\rlf\n\"\n"
		"11.0.0.0/8,caf\xc3\xa9,,x y,\"\"\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "a:a;b:b;c:c;d:d", &s);

	CSV_IS(t, "10.1.1.1", ",plain,\"com,ma\",\"quo\"\"te\",\"cr\rlf\n\"");
	JSON_IS(t, "10.1.1.1", ",\"a\":\"plain\",\"b\":\"com,ma\",\"c\":\"quo\\\"te\",\"d\":\"cr\\rlf\\n\"");
	/* Empty cells are left out of JSON and empty in CSV, quoted or not. */
	CSV_IS(t, "11.1.1.1", ",caf\xc3\xa9,,x y,");
	JSON_IS(t, "11.1.1.1", ",\"a\":\"caf\xc3\xa9\",\"c\":\"x y\"");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, misses_and_empty_hits)
{
	const char *p = PUT("miss.csv",
		"prefix,a,b,c\n"
		"10.0.0.0/8,,,\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "a:a;b:b;c:c", &s);

	MISS(t, "192.0.2.1", ",,,");
	MISS(t, "2001:db8::1", ",,,");
	/* A hit whose row carries none of the fields: no member, hit set. */
	JSON_IS(t, "10.0.0.1", "");
	CSV_IS(t, "10.0.0.1", ",,,");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* A value longer than ENRICH_VALUE_MAX in its written form is left out of
 * JSON and an empty CSV cell; the bound counts the quotes. */
Test(enrich_csv, long_values)
{
	char file[4096], want[1024];
	size_t n;
	struct enrich_spec s;
	struct enrich_table *t;
	const char *p;

	n = (size_t)snprintf(file, sizeof(file), "prefix,v,w\n10.0.0.0/8,%0510d,ok\n11.0.0.0/8,%0511d,ok\n"
			     "12.0.0.0/8,\"%0509d,\",ok\n",
			     0, 0, 0);
	/* Digits with a leading zero are strings: 510 of them and two quotes
	 * are 512, the bound. */
	p = put("long.csv", file, n);
	t = must_load(p, "v:v;w:w", &s);
	snprintf(want, sizeof(want), ",\"v\":\"%0510d\",\"w\":\"ok\"", 0);
	JSON_IS(t, "10.0.0.1", want);
	snprintf(want, sizeof(want), ",%0510d,ok", 0);
	CSV_IS(t, "10.0.0.1", want);
	JSON_IS(t, "11.0.0.1", ",\"w\":\"ok\"");
	snprintf(want, sizeof(want), ",%0511d,ok", 0);
	CSV_IS(t, "11.0.0.1", want);
	/* 510 bytes with a comma: quoted it is 512 in CSV and in JSON. */
	snprintf(want, sizeof(want), ",\"%0509d,\",ok", 0);
	CSV_IS(t, "12.0.0.1", want);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, size_max_when_cap_is_small)
{
	const char *p = PUT("cap.csv",
		"prefix,asn,org\n"
		"10.0.0.0/8,64500,Org\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "asn:a;org:o", &s);
	struct weir_addr hit_a = addr("10.0.0.1"), miss_a = addr("192.0.2.1");
	const char *want = ",\"a\":64500,\"o\":\"Org\"";
	size_t wl = strlen(want);
	char buf[64];
	int hit = 0;

	memset(buf, '#', sizeof(buf));
	cr_assert_eq(enrich_json(t, &hit_a, buf, wl - 1, &hit), SIZE_MAX);
	cr_assert(hit);
	cr_assert_eq(buf[0], '#', "nothing written");
	cr_assert_eq(enrich_json(t, &hit_a, buf, wl, &hit), wl);
	cr_assert_eq(memcmp(buf, want, wl), 0);

	memset(buf, '#', sizeof(buf));
	cr_assert_eq(enrich_csv(t, &hit_a, buf, 9, &hit), SIZE_MAX);
	cr_assert(hit);
	cr_assert_eq(buf[0], '#');
	cr_assert_eq(enrich_csv(t, &hit_a, buf, 10, &hit), 10);
	cr_assert_eq(memcmp(buf, ",64500,Org", 10), 0);

	/* A miss writes no JSON at all, and still needs room for its cells. */
	hit = 1;
	cr_assert_eq(enrich_json(t, &miss_a, buf, 0, &hit), 0);
	cr_assert_not(hit);
	hit = 1;
	cr_assert_eq(enrich_csv(t, &miss_a, buf, 1, &hit), SIZE_MAX);
	cr_assert_not(hit);
	cr_assert_eq(enrich_csv(t, &miss_a, buf, 2, &hit), 2);
	enrich_table_free(t);
	enrich_spec_free(&s);
}

Test(enrich_csv, empty_file_and_header_only)
{
	struct enrich_spec s;
	struct enrich_table *t;
	struct enrich_table_stats st;

	t = must_load(PUT("empty.csv", ""), "asn:a", &s);
	MISS(t, "10.0.0.1", ",");
	enrich_table_stats(t, &st);
	cr_assert_eq(st.entries, 0);
	enrich_table_free(t);
	enrich_spec_free(&s);

	t = must_load(PUT("hdr.csv", "prefix,asn\n"), "asn:a", &s);
	MISS(t, "10.0.0.1", ",");
	enrich_table_free(t);
	enrich_spec_free(&s);

	/* The header still has to name the columns. */
	must_refuse(PUT("hdr2.csv", "prefix,asn\n"), "org:o", "no column 'org'", NULL);
}

Test(enrich_csv, missing_columns)
{
	must_refuse(PUT("mc.csv", "prefix,asn,name\n10.0.0.0/8,1,x\n"), "asn:a;org:o",
		    "no column 'org' in the header", "(columns: 'prefix', 'asn', 'name')");
	must_refuse(PUT("mp.csv", "network,asn\n10.0.0.0/8,1\n"), "asn:a",
		    "no 'prefix' column", "'network', 'asn'");
	/* Names are matched exactly, after trimming. */
	must_refuse(PUT("mcase.csv", "prefix,ASN\n10.0.0.0/8,1\n"), "asn:a", "no column 'asn'", "'ASN'");
	must_refuse(PUT("dup.csv", "prefix,asn,asn\n10.0.0.0/8,1,2\n"), "asn:a",
		    "column 'asn' appears twice", NULL);
	must_refuse(PUT("dupp.csv", "prefix,prefix,asn\n10.0.0.0/8,10.0.0.0/8,2\n"), "asn:a",
		    "column 'prefix' appears twice", NULL);
}

Test(enrich_csv, wrong_cell_count_names_the_line)
{
	must_refuse(PUT("cc.csv",
			"prefix,asn,org\n"
			"10.0.0.0/8,1,\"two\nlines\"\n"
			"\n"
			"11.0.0.0/8,2\n"),
		    "asn:a", "line 5: 2 cells, the header has 3", NULL);
	must_refuse(PUT("cc2.csv",
			"prefix,asn\n"
			"10.0.0.0/8,1,extra\n"),
		    "asn:a", "line 2: 3 cells, the header has 2", NULL);
	must_refuse(PUT("cc3.csv",
			"prefix,asn\n"
			"10.0.0.0/8\n"),
		    "asn:a", "line 2: 1 cell, the header has 2", NULL);
}

Test(enrich_csv, bad_prefix_names_line_and_text)
{
	static const char *const bad[] = {
		"10.0.0/8", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/8x",
		"hello", "10.0.0.0/-1", "10.0.0.256", "fe80::1%eth0/64", "10.0.0.0/0008",
		"010.0.0.0/8", "\" 10.0.0.0/8\"",
	};
	char file[256], want[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = (size_t)snprintf(file, sizeof(file), "prefix,asn\n11.0.0.0/8,1\n%s,2\n", bad[i]);
		const char *shown = bad[i][0] == '"' ? " 10.0.0.0/8" : bad[i];

		snprintf(want, sizeof(want), "line 3: bad prefix '%s'", shown);
		must_refuse(put("bp.csv", file, n), "asn:a", want, NULL);
	}
	must_refuse(PUT("bp2.csv", "prefix,asn\n,1\n"), "asn:a", "line 2: bad prefix ''", NULL);
	must_refuse(PUT("bp3.csv", "prefix,asn\n10.0.0.0\0/8,1\n"), "asn:a", "line 2: bad prefix '10.0.0.0", NULL);
}

/* A row whose cells are all empty holds no byte: its prefix cell is still
 * an empty text to refuse, not a null pointer to step from (UBSan found
 * it; fuzz_enrich within minutes). */
Test(enrich_csv, row_of_empty_cells)
{
	must_refuse(PUT("e1.csv", "prefix,asn,org\n,,\n"), "asn:a;org:o", "line 2: bad prefix ''", NULL);
	must_refuse(PUT("e2.csv", "prefix,asn\n\"\",\n"), "asn:a", "line 2: bad prefix ''", NULL);
}

/* A file cut mid-row (a writer that died, a copy still running) is
 * refused, whether the cut leaves too few cells, a shorter last cell or an
 * open quote. */
Test(enrich_csv, truncated_file)
{
	must_refuse(PUT("t1.csv", "prefix,asn,org\n10.0.0.0/8,1,Org\n11.0.0.0/8,2"),
		    "asn:a", "line 3: the last line ends without a line break", NULL);
	must_refuse(PUT("t2.csv", "prefix,asn,org\n10.0.0.0/8,1,Org\n11.0.0.0/8,2,Or"),
		    "asn:a", "cut short", NULL);
	must_refuse(PUT("t3.csv", "prefix,asn,org\n10.0.0.0/8,1,Org\n11.0.0.0/8,2,\"Or\n"),
		    "asn:a", "line 3: a quoted cell is not closed", NULL);
	must_refuse(PUT("t4.csv", "prefix,asn"), "asn:a", "line 1: the last line ends without a line break", NULL);
}

Test(enrich_csv, malformed_quoting)
{
	must_refuse(PUT("mq.csv", "prefix,asn\n10.0.0.0/8,1\"2\n"), "asn:a", "line 2: malformed quoting", NULL);
	must_refuse(PUT("mq2.csv", "prefix,asn\n10.0.0.0/8,\"1\"x\n"), "asn:a", "line 2: malformed quoting", NULL);
}

Test(enrich_csv, text_must_be_utf8)
{
	must_refuse(PUT("u8.csv", "prefix,org\n10.0.0.0/8,ok\n11.0.0.0/8,caf\xe9\n"), "org:o",
		    "line 3: column 'org' is not UTF-8 text", NULL);
	must_refuse(PUT("nul.csv", "prefix,org\n10.0.0.0/8,a\0b\n"), "org:o",
		    "line 2: column 'org' holds a NUL byte", NULL);
	/* Columns the spec does not use are not checked. */
	{
		struct enrich_spec s;
		struct enrich_table *t = must_load(PUT("u8b.csv", "prefix,org,x\n10.0.0.0/8,ok,\xff\n"),
						   "org:o", &s);

		JSON_IS(t, "10.0.0.1", ",\"o\":\"ok\"");
		enrich_table_free(t);
		enrich_spec_free(&s);
	}
}

Test(enrich_csv, cell_too_long)
{
	size_t n = ENRICH_CSV_CELL_MAX + 64, k;
	char *file = malloc(n + 64);

	cr_assert_not_null(file);
	k = (size_t)sprintf(file, "prefix,v\n10.0.0.0/8,\"");
	memset(file + k, 'a', ENRICH_CSV_CELL_MAX + 1);
	k += ENRICH_CSV_CELL_MAX + 1;
	k += (size_t)sprintf(file + k, "\"\n");
	must_refuse(put("big.csv", file, k), "v:v", "line 2: a cell longer than 65536 bytes", NULL);
	free(file);
}

Test(enrich_csv, unreadable)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/absent.csv", dir);
	must_refuse(path, "a:a", "absent.csv: No such file or directory", NULL);
	snprintf(path, sizeof(path), "%s/sub.csv", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	must_refuse(path, "a:a", "sub.csv: not a regular file", NULL);
}

/* Rows that write the same text share it: 4000 rows of one long org take
 * less memory than 4000 rows of different ones by about their size. */
Test(enrich_csv, identical_rows_share_their_text)
{
	size_t cap = 4000 * 160 + 64, n;
	char *file = malloc(cap);
	struct enrich_spec s1, s2;
	struct enrich_table *t1, *t2;
	struct enrich_table_stats a, b;
	char org[121];

	cr_assert_not_null(file);
	memset(org, 'o', 120);
	org[120] = '\0';
	n = (size_t)sprintf(file, "prefix,asn,org\n");
	for (int i = 0; i < 4000; i++)
		n += (size_t)sprintf(file + n, "10.%d.%d.0/24,15169,%s\n", i / 256, i % 256, org);
	t1 = must_load(put("same.csv", file, n), "asn:a;org:o", &s1);
	n = (size_t)sprintf(file, "prefix,asn,org\n");
	for (int i = 0; i < 4000; i++)
		n += (size_t)sprintf(file + n, "10.%d.%d.0/24,%d,%s\n", i / 256, i % 256, i, org);
	t2 = must_load(put("diff.csv", file, n), "asn:a;org:o", &s2);
	enrich_table_stats(t1, &a);
	enrich_table_stats(t2, &b);
	cr_assert_eq(a.entries, 4000);
	cr_assert_eq(b.entries, 4000);
	/* Each distinct row's JSON and CSV text is over 250 bytes. */
	cr_assert_gt(b.bytes, a.bytes + 4000 * 250, "shared %llu, distinct %llu",
		     (unsigned long long)a.bytes, (unsigned long long)b.bytes);
	JSON_IS(t1, "10.15.159.1", ",\"a\":15169,\"o\":\"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
		"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo\"");
	JSON_IS(t2, "10.15.159.1", ",\"a\":3999,\"o\":\"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
		"oooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo\"");
	enrich_table_free(t1);
	enrich_table_free(t2);
	enrich_spec_free(&s1);
	enrich_spec_free(&s2);
	free(file);
}

/* One column may feed two output fields; columns may come in any order. */
Test(enrich_csv, column_order_and_reuse)
{
	const char *p = PUT("ord.csv", "org,x,prefix,asn\nOrg,ignored,10.0.0.0/8,7\n");
	struct enrich_spec s;
	struct enrich_table *t = must_load(p, "asn:a;org:o;asn:a2", &s);

	JSON_IS(t, "10.0.0.1", ",\"a\":7,\"o\":\"Org\",\"a2\":7");
	CSV_IS(t, "10.0.0.1", ",7,Org,7");
	enrich_table_free(t);
	enrich_spec_free(&s);
}

/* The batch path (enrich_find_many, then the rows written by call or
 * through struct enrich_rows) gives what enrich_json/enrich_csv give, for
 * hits of every text length (rows under a cache line and over it), misses,
 * IPv6 and NULL addresses; the copies write nothing past the text. */
static void check_batch(struct enrich_table *t, int csv)
{
	enum { N = 600 };
	static struct weir_addr a[N];
	static const struct weir_addr *pa[N];
	static uint32_t row[N];
	static char want[ENRICH_OUT_MAX(2) + 1], got[ENRICH_OUT_MAX(2) + 64];
	struct enrich_rows r;
	int has_rows = enrich_table_rows(t, csv, &r);

	for (unsigned i = 0; i < N; i++) {
		char text[64];

		if (i % 3 == 0)
			snprintf(text, sizeof(text), "10.%u.%u.7", i % 2, (i / 3) % 256);
		else if (i % 3 == 1)
			snprintf(text, sizeof(text), "2001:db8:%x::1", (i / 3) % 256);
		else
			snprintf(text, sizeof(text), "11.0.0.%u", i % 256);	/* a miss */
		a[i] = addr(text);
		pa[i] = i % 17 == 4 ? NULL : &a[i];
	}
	/* Calls of uneven sizes. */
	for (unsigned off = 0, n = 1; off < N; off += n, n = n * 2 + 1)
		enrich_find_many(t, csv, pa + off, row + off, off + n <= N ? n : N - off);
	for (unsigned i = 0; i < N; i++) {
		int hit = 0;
		size_t wn, gn;

		if (!pa[i]) {
			cr_assert_eq(row[i], ENRICH_ROW_NONE, "address %u", i);
			continue;
		}
		wn = csv ? enrich_csv(t, pa[i], want, sizeof(want), &hit)
			 : enrich_json(t, pa[i], want, sizeof(want), &hit);
		cr_assert_neq(wn, SIZE_MAX);
		cr_assert_eq(row[i] != ENRICH_ROW_NONE, hit, "address %u", i);
		cr_assert_neq(row[i], ENRICH_ROW_DIRECT, "a CSV source has rows");
		if (!hit)
			continue;
		gn = csv ? enrich_csv_row(t, row[i], got, sizeof(got))
			 : enrich_json_row(t, row[i], got, sizeof(got));
		cr_assert(gn == wn && memcmp(got, want, wn) == 0, "address %u", i);
		cr_assert_eq(csv ? enrich_csv_row(t, row[i], got, wn ? wn - 1 : 0)
				 : enrich_json_row(t, row[i], got, wn ? wn - 1 : 0),
			     wn ? SIZE_MAX : 0, "address %u: a cap one short", i);
		if (has_rows) {
			memset(got, '#', sizeof(got));
			gn = enrich_row_fast(&r, row[i], got);
			cr_assert(gn == wn && memcmp(got, want, wn) == 0, "address %u", i);
			cr_assert_eq(got[wn], '#', "address %u: written past the text", i);
		}
	}
}

Test(enrich_csv, batch_lookups_agree)
{
	static const unsigned longest[] = { 3, 12, 40, 150 };

	for (size_t k = 0; k < sizeof(longest) / sizeof(longest[0]); k++) {
		size_t cap = 600 * 256, n;
		char *file = malloc(cap), name[32];
		struct enrich_spec s;
		struct enrich_table *t;
		struct enrich_rows r;

		cr_assert_not_null(file);
		n = (size_t)sprintf(file, "prefix,v,w\n");
		for (unsigned i = 0; i < 256; i++) {
			unsigned len = i % (longest[k] + 1);

			n += (size_t)sprintf(file + n, "10.%u.%u.0/24,%.*s,%u\n", i % 2, i, (int)len,
					     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
					     "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
					     i * 7);
			n += (size_t)sprintf(file + n, "2001:db8:%x::/48,,%u\n", i, i);
		}
		snprintf(name, sizeof(name), "batch%zu.csv", k);
		t = must_load(put(name, file, n), "v:v;w:w", &s);
		/* Both forms laid out as rows: the fast path is what is tested. */
		cr_assert(enrich_table_rows(t, 0, &r) && enrich_table_rows(t, 1, &r));
		check_batch(t, 0);
		check_batch(t, 1);
		enrich_table_free(t);
		enrich_spec_free(&s);
		free(file);
	}
}

/* Texts of very unequal length are not laid out as rows (it would cost
 * many times their bytes): the batch path reads them from the arena, with
 * the same results. */
Test(enrich_csv, batch_lookups_agree_without_rows)
{
	size_t cap = 600 * 64 + 1024, n;
	char *file = malloc(cap), big[401];
	struct enrich_spec s;
	struct enrich_table *t;
	struct enrich_rows r;

	cr_assert_not_null(file);
	memset(big, 'x', 400);
	big[400] = '\0';
	n = (size_t)sprintf(file, "prefix,v,w\n");
	for (unsigned i = 0; i < 256; i++) {
		n += (size_t)sprintf(file + n, "10.%u.%u.0/24,%s,%u\n", i % 2, i, i == 77 ? big : "a", i);
		n += (size_t)sprintf(file + n, "2001:db8:%x::/48,,%u\n", i, i + 1000);
	}
	t = must_load(put("uneven.csv", file, n), "v:v;w:w", &s);
	cr_assert_not(enrich_table_rows(t, 0, &r), "JSON rows: 400 bytes for texts of ~20");
	check_batch(t, 0);
	check_batch(t, 1);
	enrich_table_free(t);
	enrich_spec_free(&s);
	free(file);
}
