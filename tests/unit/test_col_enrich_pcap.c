/* End-to-end tests of --enrich in weir-collector --pcap and at start-up
 * (collector/enr.c, main.c, out.c): the CSV output's enrichment cells and
 * header, several --enrich in order, start-up errors (exit 2 and a message
 * naming the fault), and a flow without the key. Split from
 * test_col_enrich.c (which has the UDP cases); what both use is in colenr.h. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "colenr.h"

TestSuite(col_enrich_pcap, .init = suite_init, .fini = suite_fini);

/* weir-collector --pcap pcap ... (NULL-terminated); its wait status. */
static int col_pcap(const char *pcap, const char *out, const char *errf, const char *const *extra)
{
	char *argv[ARGS_MAX];
	int n = 0;

	argv[n++] = "weir-collector";
	argv[n++] = "--pcap";
	argv[n++] = (char *)pcap;
	argv[n++] = "-f";
	argv[n++] = "common";
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	for (int i = 0; extra[i]; i++) {
		cr_assert_lt(n, ARGS_MAX - 1);
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;
	return wait_status(spawn(argv, errf, NULL));
}

/* 2. CSV output: the header names the enrichment columns at its end, in
 * order; every row has as many cells; the cells hold the values. */
Test(col_enrich_pcap, csv_output_cells_and_header)
{
	const char *csv = path_of("asn.csv"), *src = path_of("src.csv"), *pcap = path_of("t2.pcap");
	const char *out = path_of("t2.csv"), *errf = path_of("t2.err");
	char spec1[512], spec2[512];
	const char *extra[] = { "-s", "csv", "--enrich", spec1, "--enrich", spec2, NULL };
	struct row *h = malloc(sizeof(*h)), *r = malloc(sizeof(*r));
	size_t len;
	char *buf, *e;
	const char *p, *end;
	long long flows, rows = 0, misses = 0;
	int st, ia, id, is;

	put_str(csv, asn_csv);
	put_str(src, "prefix,org\n10.0.0.0/9,\"low, half\"\n10.128.0.0/9,high\nfd00::/16,ula\n");
	snprintf(spec1, sizeof(spec1), SPEC "dst_addr,fields=asn:dst_asn;org:dst_org",
		 csv);
	snprintf(spec2, sizeof(spec2), SPEC "src_addr,fields=org:src_org", src);
	generate(0, pcap, "--protocol v9 -n 100 -f 10 --seed 22 " ASN_ARGS, path_of("t2-ledger.json"));
	flows = ledger_total(path_of("t2-ledger.json"), "flow_records");
	st = col_pcap(pcap, out, errf, extra);
	e = slurp(errf, NULL);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, e);
	free(e);

	buf = slurp(out, &len);
	p = buf;
	end = buf + len;
	cr_assert_eq(csv_row(&p, end, h), 0, "a header row");
	cr_assert_geq(h->n, 4);
	cr_assert_str_eq(h->cell[h->n - 3], "dst_asn");
	cr_assert_str_eq(h->cell[h->n - 2], "dst_org");
	cr_assert_str_eq(h->cell[h->n - 1], "src_org");
	cr_assert_str_eq(h->cell[0], "type", "the flow's own columns first");
	ia = col_index(h, "dst_addr");
	is = col_index(h, "src_addr");
	id = h->n - 3;
	cr_assert(ia >= 0 && is >= 0 && ia < id && is < id);
	while (p < end) {
		int m;

		cr_assert_eq(csv_row(&p, end, r), 0, "row %lld is a CSV row", rows + 1);
		rows++;
		cr_assert_eq(r->n, h->n, "row %lld: %d cells, the header has %d", rows, r->n, h->n);
		m = asn_match(r->cell[ia]);
		if (m < 0) {
			misses++;
			cr_assert_str_eq(r->cell[id], "", "row %lld: a miss writes empty cells", rows);
			cr_assert_str_eq(r->cell[id + 1], "");
		} else {
			cr_assert_str_eq(r->cell[id], asn_rows[m].asn_cell, "row %lld (%s)", rows,
					 r->cell[ia]);
			cr_assert_str_eq(r->cell[id + 1], asn_rows[m].org_cell, "row %lld (%s)", rows,
					 r->cell[ia]);
		}
		if (strchr(r->cell[is], ':'))
			cr_assert_str_eq(r->cell[id + 2], "ula");
		else if (strtoul(r->cell[is] + 3, NULL, 10) < 128)	/* "10.x..." */
			cr_assert_str_eq(r->cell[id + 2], "low, half", "row %lld (%s)", rows, r->cell[is]);
		else
			cr_assert_str_eq(r->cell[id + 2], "high", "row %lld (%s)", rows, r->cell[is]);
	}
	cr_assert_eq(rows, flows, "one row per flow");
	cr_assert_gt(misses, 0);
	cr_assert_lt(misses, rows);
	/* RFC 4180 on the wire: the comma and the quotes of a cell quoted. */
	cr_assert_not_null(strstr(buf, ",\"Wide, \"\"Quoted\"\" Net\","));
	free(buf);
	free(h);
	free(r);
}

/* ---- several --enrich ---- */

struct order {
	const char *const *names;	/* the enriched members, in order */
	int k;
	long long records;
};

static void check_order(const struct jm *m, int n, size_t lineno, void *arg)
{
	struct order *o = arg;

	o->records++;
	cr_assert_gt(n, o->k + 10);
	for (int i = 0; i < o->k; i++)
		cr_assert(name_is(&m[n - o->k + i], o->names[i]), "line %zu: member %d is %.*s, not %s",
			  lineno + 1, n - o->k + i, (int)m[n - o->k + i].nlen, m[n - o->k + i].name,
			  o->names[i]);
	for (int i = 0; i < o->k; i++)
		cr_assert_eq(count_named(m, n, o->names[i]), 1, "line %zu: %s once", lineno + 1,
			     o->names[i]);
	/* The flow's own members come first: dst_addr is one of them. */
	cr_assert_lt(member(m, n, "dst_addr") - m, n - o->k);
}

/* 4. Two enrichments: their members follow the flow's, in --enrich order
 * (then fields= order), whichever order that is. */
Test(col_enrich_pcap, two_enrichments_in_order)
{
	const char *db = asn_mmdb(), *csv = path_of("all.csv"), *pcap = path_of("t4.pcap");
	char s_csv[512], s_mmdb[512];
	static const char *const fwd[] = { "dst_asn", "dst_org", "src_org", "src_asn" };
	static const char *const rev[] = { "src_org", "src_asn", "dst_asn", "dst_org" };
	const char *e1[] = { "--enrich", s_csv, "--enrich", s_mmdb, NULL };
	const char *e2[] = { "--enrich", s_mmdb, "--enrich", s_csv, NULL };
	struct order o = { fwd, 4, 0 };
	long long flows;
	int st;

	put_str(csv, "prefix,asn,org\n192.168.0.0/16,64510,\"Lab, Inc.\"\n");
	snprintf(s_csv, sizeof(s_csv), SPEC "dst_addr,fields=asn:dst_asn;org:dst_org",
		 csv);
	/* fields= in another order than the DB's record. */
	snprintf(s_mmdb, sizeof(s_mmdb), SPEC "src_addr,"
		 "fields=autonomous_system_organization:src_org;autonomous_system_number:src_asn", db);
	generate(0, pcap, "--protocol v9 -n 20 -f 10 --seed 24 --src-cidr 1.128.0.0/11",
		 path_of("t4-ledger.json"));
	flows = ledger_total(path_of("t4-ledger.json"), "flow_records");
	st = col_pcap(pcap, path_of("t4a.json"), path_of("t4a.err"), e1);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert_eq(each_json_line(path_of("t4a.json"), check_order, &o), (size_t)flows);
	cr_assert(contains(path_of("t4a.json"),
			   ",\"dst_asn\":64510,\"dst_org\":\"Lab, Inc.\",\"src_org\":\"Telstra Pty Ltd\","
			   "\"src_asn\":1221}\n"));

	o.names = rev;
	st = col_pcap(pcap, path_of("t4b.json"), path_of("t4b.err"), e2);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert_eq(each_json_line(path_of("t4b.json"), check_order, &o), (size_t)flows);
}

/* ---- start-up errors ---- */

/* weir-collector with args (NULL-terminated) must exit 2 and say each
 * of the needles on stderr. */
static void refused(const char *what, const char *const *args, const char *n1, const char *n2)
{
	char *argv[ARGS_MAX], ps[8];
	const char *errf = path_of("start.err");
	char *e;
	int n = 0, st;

	snprintf(ps, sizeof(ps), "%u", free_port(SOCK_DGRAM));
	argv[n++] = "weir-collector";
	argv[n++] = "-p";
	argv[n++] = ps;
	for (int i = 0; args[i]; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	st = wait_for(spawn(argv, errf, NULL), 10000);
	e = slurp(errf, NULL);
	cr_assert_neq(st, -1, "%s: still running after 10 s: %s", what, e);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "%s: status %d (exit %d), not 2: %s", what, st,
		  WIFEXITED(st) ? WEXITSTATUS(st) : -1, e);
	cr_assert_not_null(strstr(e, n1), "%s: '%s' not in: %s", what, n1, e);
	if (n2)
		cr_assert_not_null(strstr(e, n2), "%s: '%s' not in: %s", what, n2, e);
	free(e);
}

/* 5. Start-up errors: exit status 2 and a message that names the
 * problem. */
Test(col_enrich_pcap, startup_errors)
{
	const char *csv = path_of("ok.csv"), *missing = path_of("missing.csv");
	char s[8][512];
	const char *db = mmdb_path("GeoIP2-City-Test-Invalid-Node-Count.mmdb");
	const char *db2 = mmdb_path("GeoIP2-City-Test-Broken-Double-Format.mmdb");

	put_str(csv, "prefix,asn,org\n10.0.0.0/8,1,x\n");
	snprintf(s[0], sizeof(s[0]), SPEC "dst_addr,fields=asn:dst_asn,color=red", csv);
	refused("bad syntax", (const char *[]){ "-f", "common", "--enrich", s[0], NULL },
		"unknown option 'color'", NULL);
	snprintf(s[1], sizeof(s[1]), SPEC "dst_addr", csv);
	refused("no fields", (const char *[]){ "-f", "common", "--enrich", s[1], NULL },
		"option 'fields' is missing", NULL);
	snprintf(s[2], sizeof(s[2]), SPEC "src_ip,fields=asn:a", csv);
	refused("unknown key", (const char *[]){ "-f", "common", "--enrich", s[2], NULL },
		"unknown key 'src_ip'", NULL);
	snprintf(s[3], sizeof(s[3]), SPEC "dst_addr,fields=asn:a", missing);
	refused("missing file", (const char *[]){ "-f", "common", "--enrich", s[3], NULL },
		missing, "No such file or directory");
	snprintf(s[4], sizeof(s[4]), SPEC "dst_addr,fields=asn:a;country:cc", csv);
	refused("unknown column", (const char *[]){ "-f", "common", "--enrich", s[4], NULL },
		"no column 'country'", "ok.csv");
	snprintf(s[5], sizeof(s[5]), SPEC "dst_addr,fields=asn:dst_asn", csv);
	refused("-f raw", (const char *[]){ "--enrich", s[5], NULL },
		"--enrich needs -f common", NULL);
	snprintf(s[6], sizeof(s[6]), SPEC "src_addr,fields=org:dst_asn", csv);
	refused("one output name twice",
		(const char *[]){ "-f", "common", "--enrich", s[5], "--enrich", s[6], NULL },
		"output name 'dst_asn' is given by two --enrich options", NULL);

	if (access(db, R_OK) != 0 || access(db2, R_OK) != 0)
		SKIP("%s is absent: the broken MaxMind DB cases did not run", db);
	snprintf(s[7], sizeof(s[7]), SPEC "dst_addr,fields=country.iso_code:cc", db);
	refused("broken MMDB", (const char *[]){ "-f", "common", "--enrich", s[7], NULL },
		"GeoIP2-City-Test-Invalid-Node-Count.mmdb", "invalid metadata");
	/* Opens fine; a record deep inside does not decode. */
	snprintf(s[7], sizeof(s[7]), SPEC "dst_addr,fields=country.iso_code:cc", db2);
	refused("MMDB with a broken record", (const char *[]){ "-f", "common", "--enrich", s[7], NULL },
		"GeoIP2-City-Test-Broken-Double-Format.mmdb", "data record at offset");
}

/* 8. A flow without the key (sFlow samples carry no next hop): nothing to
 * look up, no JSON member, empty CSV cells; the other enrichment still
 * applies (the exporter's address is the sampler_address). */
Test(col_enrich_pcap, flow_without_the_key)
{
	const char *csv = path_of("k.csv"), *pcap = path_of("t8.pcap");
	char s1[512], s2[512];
	const char *ej[] = { "-t", "sflow", "--enrich", s1, "--enrich", s2, NULL };
	const char *ec[] = { "-t", "sflow", "-s", "csv", "--enrich", s1, "--enrich", s2, NULL };
	static const char *const names[] = { "sa_b" };
	struct order o = { names, 1, 0 };
	struct row *h = malloc(sizeof(*h)), *r = malloc(sizeof(*r));
	const char *p, *end;
	long long flows, rows = 0;
	size_t len;
	char *buf;
	int st;

	put_str(csv, "prefix,a,b\n0.0.0.0/0,1,\"x, y\"\n::/0,2,z\n");
	snprintf(s1, sizeof(s1), SPEC "next_hop,fields=a:nh_a;b:nh_b", csv);
	snprintf(s2, sizeof(s2), SPEC "sampler_address,fields=b:sa_b", csv);
	generate(0, pcap, "--protocol sflow -n 10 -f 5 --seed 29", path_of("t8-ledger.json"));
	flows = ledger_total(path_of("t8-ledger.json"), "flow_records");

	st = col_pcap(pcap, path_of("t8.json"), path_of("t8.err"), ej);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert_eq(each_json_line(path_of("t8.json"), check_order, &o), (size_t)flows);
	cr_assert(!contains(path_of("t8.json"), "\"nh_a\""), "no next hop, no lookup");
	cr_assert(!contains(path_of("t8.json"), "\"next_hop\""), "the samples have no next hop");

	st = col_pcap(pcap, path_of("t8.csv"), path_of("t8c.err"), ec);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	buf = slurp(path_of("t8.csv"), &len);
	p = buf;
	end = buf + len;
	cr_assert_eq(csv_row(&p, end, h), 0);
	cr_assert_str_eq(h->cell[h->n - 1], "sa_b");
	while (p < end) {
		cr_assert_eq(csv_row(&p, end, r), 0);
		rows++;
		cr_assert_eq(r->n, h->n, "row %lld: %d cells, the header has %d", rows, r->n, h->n);
		cr_assert_str_eq(r->cell[h->n - 3], "");
		cr_assert_str_eq(r->cell[h->n - 2], "");
		cr_assert_str_eq(r->cell[h->n - 1], "x, y");
	}
	cr_assert_eq(rows, flows);
	free(buf);
	free(h);
	free(r);
}
