/* End-to-end tests of --enrich in weir-collector on UDP (collector/enr.c,
 * its use in worker.c, main.c and metrics.c; issue 5): weir-generator sends
 * flows with a ledger, the real weir-collector (workers, metrics scraped)
 * enriches them from a CSV or a MaxMind DB file, and every output record is
 * checked against a longest prefix match computed here by brute force (CSV)
 * or against mmdblookup (MaxMind DB). Covered here: JSON members and their
 * types, a periodic reload under load (nothing lost, no record mixing two
 * tables, a cut file refused and logged), SIGHUP, SIGTERM during a reload,
 * and the weir_enrich_* metrics; `make tsan` runs these. The --pcap and
 * start-up cases are in test_col_enrich_pcap.c, what both use in colenr.h. */
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

TestSuite(col_enrich, .init = suite_init, .fini = suite_fini);

/* ---- processes ---- */

/* A running weir-collector on UDP, one output file, metrics. */
struct col {
	pid_t pid;
	uint16_t port, mport;
	char out[192], errf[192];
	char page[1 << 17];
};

/* Start weir-collector -f common -o <name>.out with the extra arguments
 * (NULL-terminated) and wait until it serves /healthz. */
static void col_start(struct col *c, const char *name, unsigned workers, const char *const *extra)
{
	char *argv[ARGS_MAX], ps[8], ms[8], ws[8];
	int n = 0;

	c->port = free_port(SOCK_DGRAM);
	c->mport = free_port(SOCK_STREAM);
	snprintf(c->out, sizeof(c->out), "%s/%s.out", tmpdir, name);
	snprintf(c->errf, sizeof(c->errf), "%s/%s.err", tmpdir, name);
	snprintf(ps, sizeof(ps), "%u", c->port);
	snprintf(ms, sizeof(ms), "%u", c->mport);
	snprintf(ws, sizeof(ws), "%u", workers);
	argv[n++] = "weir-collector";
	argv[n++] = "-p";
	argv[n++] = ps;
	argv[n++] = "--metrics-port";
	argv[n++] = ms;
	argv[n++] = "-w";
	argv[n++] = ws;
	argv[n++] = "-f";
	argv[n++] = "common";
	argv[n++] = "-o";
	argv[n++] = c->out;
	for (int i = 0; extra && extra[i]; i++) {
		cr_assert_lt(n, ARGS_MAX - 1);
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;
	c->pid = spawn(argv, c->errf, NULL);
	cr_assert(wait_up(c->pid, c->mport, c->page, sizeof(c->page), c->errf, 10000),
		  "the collector did not come up");
}

static void col_scrape(struct col *c)
{
	cr_assert_eq(http_get(c->mport, "/metrics", c->page, sizeof(c->page)), 0);
}

/* A weir_enrich_* series of enrichment i from the last scrape; -1 when
 * absent. */
static long long enr_metric(const struct col *c, const char *name, unsigned i)
{
	char want[128];
	const char *p;

	snprintf(want, sizeof(want), "\n%s{enrichment=\"%u\",", name, i);
	p = strstr(c->page, want);
	if (!p)
		return -1;
	p = strstr(p + 1, "} ");
	return p ? strtoll(p + 2, NULL, 10) : -1;
}

/* Scrape until series >= want (or ms pass); returns its last value. */
static long long wait_metric(struct col *c, const char *name, unsigned i, long long want, unsigned ms)
{
	long long v = -1;

	for (unsigned t = 0; t <= ms; t += 10) {
		col_scrape(c);
		v = enr_metric(c, name, i);
		if (v >= want)
			break;
		sleep_ms(10);
	}
	return v;
}

static void col_stop(struct col *c)
{
	int st = term_wait(c->pid);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char *e = slurp(c->errf, NULL);

		cr_assert_fail("the collector ended with status %d: %s", st, e);
	}
}

struct tally {
	long long records, misses;
	int hits[NROWS];
};

/* Test 1's check of one JSON record. */
static void check_asn_json(const struct jm *m, int n, size_t lineno, void *arg)
{
	struct tally *t = arg;
	char addr[64];
	int r, k = 0;

	str_of(member(m, n, "dst_addr"), addr, sizeof(addr));
	r = asn_match(addr);
	t->records++;
	cr_assert_leq(count_named(m, n, "dst_asn"), 1, "line %zu", lineno + 1);
	cr_assert_leq(count_named(m, n, "dst_org"), 1, "line %zu", lineno + 1);
	if (r < 0) {
		t->misses++;
		cr_assert_null(member(m, n, "dst_asn"), "line %zu: %s matches nothing", lineno + 1, addr);
		cr_assert_null(member(m, n, "dst_org"), "line %zu: %s matches nothing", lineno + 1, addr);
		return;
	}
	t->hits[r]++;
	/* The enriched members close the object, in the order of fields=. */
	k = (asn_rows[r].asn_json != NULL) + (asn_rows[r].org_json != NULL);
	cr_assert_gt(n, k);
	if (asn_rows[r].asn_json) {
		const struct jm *a = &m[n - k];

		cr_assert(name_is(a, "dst_asn"), "line %zu: %.*s where dst_asn was due", lineno + 1,
			  (int)a->nlen, a->name);
		cr_assert(val_is(a, asn_rows[r].asn_json), "line %zu: %s (row %d): dst_asn %.*s, not %s",
			  lineno + 1, addr, r + 2, (int)a->vlen, a->val, asn_rows[r].asn_json);
	} else {
		cr_assert_null(member(m, n, "dst_asn"), "line %zu", lineno + 1);
	}
	if (asn_rows[r].org_json) {
		const struct jm *o = &m[n - 1];

		cr_assert(name_is(o, "dst_org"), "line %zu: %.*s where dst_org was due", lineno + 1,
			  (int)o->nlen, o->name);
		cr_assert(val_is(o, asn_rows[r].org_json), "line %zu: %s (row %d): dst_org %.*s, not %s",
			  lineno + 1, addr, r + 2, (int)o->vlen, o->val, asn_rows[r].org_json);
	} else {
		cr_assert_null(member(m, n, "dst_org"), "line %zu: an empty cell is absent", lineno + 1);
	}
}

/* 1. CSV source, JSON output, against a brute-force longest-prefix match. */
Test(col_enrich, csv_source_json_output)
{
	const char *csv = path_of("asn.csv"), *ledger = path_of("t1-ledger.json");
	char spec[512];
	const char *extra[] = { "--enrich", spec, NULL };
	struct col *c = calloc(1, sizeof(*c));
	struct tally t = { 0 };
	long long flows;
	int rows_hit = 0;

	put_str(csv, asn_csv);
	snprintf(spec, sizeof(spec), SPEC "dst_addr,fields=asn:dst_asn;org:dst_org",
		 csv);
	col_start(c, "t1", 2, extra);
	generate(c->port, NULL, "--protocol ipfix -n 300 -f 10 -r 20000 --exporters 4 --seed 21 " ASN_ARGS,
		 ledger);
	flows = ledger_total(ledger, "flow_records");
	cr_assert_eq(flows, 3000);
	wait_metric(c, "weir_enrich_lookups_total", 0, flows, 5000);
	cr_assert_eq(enr_metric(c, "weir_enrich_lookups_total", 0), flows);
	cr_assert_eq(enr_metric(c, "weir_enrich_entries", 0), NROWS - 1, "one prefix is given twice");
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 0);
	cr_assert_eq(enr_metric(c, "weir_enrich_reload_failures_total", 0), 0);
	cr_assert_gt(enr_metric(c, "weir_enrich_table_bytes", 0), 0);
	cr_assert_geq(enr_metric(c, "weir_enrich_loaded_time_seconds", 0), 1700000000);
	cr_assert(strstr(c->page, "weir_enrich_misses_total{enrichment=\"0\",key=\"dst_addr\",source=\""),
		  "labels enrichment, key, source");
	col_stop(c);
	cr_assert_eq(each_json_line(c->out, check_asn_json, &t), (size_t)flows, "no record lost");
	cr_assert_eq(enr_metric(c, "weir_enrich_misses_total", 0), t.misses);
	/* Not a vacuous run: misses, and most rows matched. */
	cr_assert_gt(t.misses, 0);
	for (int i = 0; i < NROWS; i++)
		rows_hit += t.hits[i] > 0;
	cr_assert_eq(t.hits[1], 0, "row 3 repeats the prefix of row 2 and wins");
	cr_assert_gt(t.hits[2], 0);
	cr_assert_gt(t.hits[3], 0);
	cr_assert_gt(t.hits[5], 0);
	cr_assert_gt(t.hits[6], 0);
	cr_assert_gt(t.hits[7], 0);
	cr_assert_gt(t.hits[8], 0);
	cr_assert_gt(t.hits[10], 0);
	cr_assert_geq(rows_hit, 8, "%d rows hit", rows_hit);
	free(c);
}

/* ---- MaxMind DB ---- */

/* mmdblookup's value of path for ip into val: its text (a number, or a
 * string with its quotes), "" when the record lacks the path; NULL when no
 * network holds ip. */
static const char *mmdblookup(const char *db, const char *ip, const char *path, char val[256])
{
	char cmd[512], line[256];
	FILE *fp;
	int st;

	val[0] = 0;
	snprintf(cmd, sizeof(cmd), "mmdblookup --file '%s' --ip '%s' %s 2>/dev/null", db, ip, path);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *s = line, *t;

		while (*s == ' ')
			s++;
		t = strstr(s, " <");
		if (*s != '\n' && t) {
			*t = 0;
			snprintf(val, 256, "%s", s);
		}
	}
	st = pclose(fp);
	cr_assert(WIFEXITED(st), "mmdblookup: %d", st);
	if (WEXITSTATUS(st) == 6)
		return NULL;		/* "Could not find an entry" */
	if (WEXITSTATUS(st) == 5)
		return "";		/* the path is not in the record */
	cr_assert_eq(WEXITSTATUS(st), 0, "%s", cmd);
	return val;
}

static int have_mmdblookup(void)
{
	return system("mmdblookup --version >/dev/null 2>&1") == 0;
}

#define MMDB_ARGS "--src-cidr 1.128.0.0/11,12.81.64.0/18,2600:6000::/19 " \
		  "--dst-cidr 192.168.0.0/16,2001:db8::/32"

struct mm_tally {
	const char *db;
	long long records, telstra, sampled, sampled_hits, sampled_misses;
	int lookup;		/* mmdblookup is there */
};

static void check_mmdb_json(const struct jm *m, int n, size_t lineno, void *arg)
{
	struct mm_tally *t = arg;
	const struct jm *asn = member(m, n, "src_asn"), *org = member(m, n, "src_org");
	char addr[64];

	str_of(member(m, n, "src_addr"), addr, sizeof(addr));
	t->records++;
	if (asn)
		cr_assert_eq(asn->type, 'n', "line %zu: a uint32 stays a number: %.*s", lineno + 1,
			     (int)asn->vlen, asn->val);
	if (!strncmp(addr, "1.", 2)) {
		/* 1.128.0.0/11 is one network of the test DB. */
		cr_assert(val_is(asn, "1221"), "line %zu: %s", lineno + 1, addr);
		cr_assert(val_is(org, "\"Telstra Pty Ltd\""), "line %zu: %s", lineno + 1, addr);
		cr_assert(name_is(&m[n - 1], "src_org") && name_is(&m[n - 2], "src_asn"));
		t->telstra++;
	}
	if (t->lookup && lineno % 40 == 0) {
		char b1[256], b2[256];
		const char *want_asn = mmdblookup(t->db, addr, "autonomous_system_number", b1);
		const char *want_org = mmdblookup(t->db, addr, "autonomous_system_organization", b2);

		t->sampled++;
		if (!want_asn) {
			t->sampled_misses++;
			cr_assert_null(asn, "line %zu: %s is in no network", lineno + 1, addr);
			cr_assert_null(org, "line %zu: %s is in no network", lineno + 1, addr);
			return;
		}
		t->sampled_hits++;
		cr_assert(val_is(asn, want_asn), "line %zu: %s: src_asn %.*s, mmdblookup %s", lineno + 1,
			  addr, asn ? (int)asn->vlen : 6, asn ? asn->val : "absent", want_asn);
		if (!*want_org)
			cr_assert_null(org, "line %zu: %s: the record has no organization", lineno + 1, addr);
		else
			cr_assert(val_is(org, want_org), "line %zu: %s: src_org %.*s, mmdblookup %s",
				  lineno + 1, addr, org ? (int)org->vlen : 6, org ? org->val : "absent",
				  want_org);
	}
}

/* 3. A MaxMind DB source, checked against mmdblookup. */
Test(col_enrich, mmdb_source_json_output)
{
	const char *db = asn_mmdb(), *ledger = path_of("t3-ledger.json");
	char spec[512];
	const char *extra[] = { "--enrich", spec, NULL };
	struct col *c = calloc(1, sizeof(*c));
	struct mm_tally t = { .db = db, .lookup = have_mmdblookup() };
	long long flows, lookups;

	snprintf(spec, sizeof(spec), SPEC "src_addr,"
		 "fields=autonomous_system_number:src_asn;autonomous_system_organization:src_org", db);
	col_start(c, "t3", 1, extra);
	generate(c->port, NULL, "--protocol ipfix -n 100 -f 10 -r 20000 --seed 23 " MMDB_ARGS, ledger);
	flows = ledger_total(ledger, "flow_records");
	lookups = wait_metric(c, "weir_enrich_lookups_total", 0, flows, 5000);
	cr_assert_eq(lookups, flows);
	cr_assert_gt(enr_metric(c, "weir_enrich_misses_total", 0), 0);
	cr_assert_lt(enr_metric(c, "weir_enrich_misses_total", 0), flows);
	cr_assert_gt(enr_metric(c, "weir_enrich_entries", 0), 0);
	col_stop(c);
	cr_assert_eq(each_json_line(c->out, check_mmdb_json, &t), (size_t)flows);
	cr_assert_gt(t.telstra, 0);
	if (!t.lookup)
		SKIP("mmdblookup is not installed: the values were not checked against it");
	cr_assert_gt(t.sampled_hits, 0);
	cr_assert_gt(t.sampled_misses, 0);
	free(c);
}

/* ---- reloads ---- */

/* A table of gen n: 0.0.0.0/0 and some 3000 more prefixes, each row
 * "n,n" in the columns gen and gen2. cut: the last line cut short, no
 * final line break, as a writer still at work leaves it. */
static void gen_table(const char *path, int n, int cut)
{
	size_t cap = 1 << 18, len = 0;
	char *b = malloc(cap);

	len += (size_t)snprintf(b + len, cap - len, "prefix,gen,gen2\n0.0.0.0/0,%d,%d\n", n, n);
	for (int i = 0; i < 256; i++)
		len += (size_t)snprintf(b + len, cap - len, "192.168.%d.0/24,%d,%d\n", i, n, n);
	for (int i = 0; i < 2816; i++)
		len += (size_t)snprintf(b + len, cap - len, "10.%d.%d.0/24,%d,%d\n", i / 256, i % 256,
					n, n);
	cr_assert_lt(len, cap - 64);
	if (cut)
		len += (size_t)snprintf(b + len, cap - len, "192.168.7.128/25,%d", n);
	put_file(path, b, len);
	free(b);
}

struct gens {
	long long records, seen[10];
	long long last;
};

static void check_gen(const struct jm *m, int n, size_t lineno, void *arg)
{
	struct gens *g = arg;
	const struct jm *g1 = member(m, n, "g1"), *g2 = member(m, n, "g2");
	long long v;

	g->records++;
	cr_assert_not_null(g1, "line %zu: no g1 (0.0.0.0/0 covers every address)", lineno + 1);
	cr_assert_not_null(g2, "line %zu: no g2", lineno + 1);
	v = num_of(g1);
	cr_assert_eq(v, num_of(g2), "line %zu: g1 %lld and g2 %lld come from two tables", lineno + 1, v,
		     num_of(g2));
	cr_assert(v >= 1 && v <= 9, "line %zu: gen %lld", lineno + 1, v);
	cr_assert_geq(v, g->last, "line %zu: gen %lld after gen %lld (one worker)", lineno + 1, v,
		      g->last);
	g->last = v;
	g->seen[v]++;
}

/* Scrape until the series reaches want; fail after ms. */
static void await(struct col *c, const char *name, unsigned i, long long want, unsigned ms,
		  const char *what)
{
	long long v = wait_metric(c, name, i, want, ms);

	cr_assert_geq(v, want, "%s: %s is %lld after %u ms, not %lld", what, name, v, ms, want);
}

/* 6. reload=1s under load: the file replaced while traffic flows, then a
 * cut file (refused, logged, counted; the table in use stays), then a
 * good one. No record is lost, none mixes two tables, the generations
 * follow each other. */
Test(col_enrich, reload_under_load)
{
	const char *csv = path_of("gen.csv"), *ledger = path_of("t6-ledger.json");
	char spec[512], ps[8];
	const char *extra[] = { "--enrich", spec, NULL };
	struct col *c = calloc(1, sizeof(*c));
	struct gens g = { 0 };
	char *gargv[] = { "weir-generator", "-p", ps, "--protocol", "ipfix", "-r", "2000", "-f", "1",
			  "-n", "0", "--seed", "26", "--ledger", (char *)ledger, NULL };
	long long flows, at;
	pid_t gen;
	int st;

	gen_table(csv, 1, 0);
	snprintf(spec, sizeof(spec), SPEC "dst_addr,fields=gen:g1;gen2:g2,reload=1s",
		 csv);
	col_start(c, "t6", 1, extra);
	snprintf(ps, sizeof(ps), "%u", c->port);
	gen = spawn(gargv, path_of("t6-gen.err"), NULL);

	await(c, "weir_enrich_lookups_total", 0, 300, 5000, "gen 1 traffic");
	col_scrape(c);
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 0);

	gen_table(csv, 2, 0);
	await(c, "weir_enrich_reloads_total", 0, 1, 3000, "gen 2");
	at = enr_metric(c, "weir_enrich_lookups_total", 0);
	await(c, "weir_enrich_lookups_total", 0, at + 300, 5000, "gen 2 traffic");

	gen_table(csv, 9, 1);
	await(c, "weir_enrich_reload_failures_total", 0, 1, 3000, "the cut file");
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 1, "the cut file is not swapped in");
	/* Past the next check: a file that did not change since (even a bad
	 * one) is not read again. */
	sleep_ms(1300);
	col_scrape(c);
	cr_assert_eq(enr_metric(c, "weir_enrich_reload_failures_total", 0), 1,
		     "the cut file is not retried");
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 1);

	gen_table(csv, 3, 0);
	await(c, "weir_enrich_reloads_total", 0, 2, 3000, "gen 3");
	at = enr_metric(c, "weir_enrich_lookups_total", 0);
	await(c, "weir_enrich_lookups_total", 0, at + 300, 5000, "gen 3 traffic");

	cr_assert_eq(kill(gen, SIGINT), 0);
	st = wait_status(gen);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "generator status %d", st);
	flows = ledger_total(ledger, "flow_records");
	cr_assert_eq(ledger_total(ledger, "send_errors"), 0);
	await(c, "weir_enrich_lookups_total", 0, flows, 5000, "every flow");
	cr_assert_eq(enr_metric(c, "weir_enrich_lookups_total", 0), flows);
	cr_assert_eq(enr_metric(c, "weir_enrich_misses_total", 0), 0);
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 2);
	cr_assert_eq(enr_metric(c, "weir_enrich_reload_failures_total", 0), 1,
		     "the cut file is not retried until it changes");
	cr_assert_eq(enr_metric(c, "weir_enrich_entries", 0), 1 + 256 + 2816);
	col_stop(c);

	cr_assert_eq(each_json_line(c->out, check_gen, &g), (size_t)flows, "no record lost");
	cr_assert_gt(g.seen[1], 0);
	cr_assert_gt(g.seen[2], 0);
	cr_assert_gt(g.seen[3], 0);
	cr_assert_eq(g.seen[9], 0, "nothing from the cut file");
	cr_assert(contains(c->errf, "reload"), "the log names the failed reload");
	cr_assert(contains(c->errf, "gen.csv"), "and the file");
	cr_assert(contains(c->errf, "without a line break"), "and why");
	free(c);
}

/* 7. SIGHUP reloads every enrichment at once, changed or not; without
 * reload= nothing is reloaded otherwise. */
Test(col_enrich, sighup_reloads)
{
	const char *a = path_of("hup-a.csv"), *b = path_of("hup-b.csv");
	char s1[512], s2[512];
	const char *extra[] = { "--enrich", s1, "--enrich", s2, NULL };
	struct col *c = calloc(1, sizeof(*c));
	size_t len;
	char *buf, *p;
	time_t t0;

	put_str(a, "prefix,tag\n0.0.0.0/0,old\n");
	put_str(b, "prefix,tag\n0.0.0.0/0,same\n");
	snprintf(s1, sizeof(s1), SPEC "dst_addr,fields=tag:dst_tag", a);
	snprintf(s2, sizeof(s2), SPEC "src_addr,fields=tag:src_tag", b);
	col_start(c, "t7", 1, extra);
	generate(c->port, NULL, "--protocol v9 -n 50 -f 10 -r 20000 --seed 27", path_of("t7a-ledger.json"));
	await(c, "weir_enrich_lookups_total", 0, 500, 5000, "first batch");

	put_str(a, "prefix,tag\n0.0.0.0/0,new\n10.0.0.0/8,new\n192.168.0.0/16,new\n");
	sleep_ms(500);
	col_scrape(c);
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 0, "no reload= and no SIGHUP");
	cr_assert_eq(enr_metric(c, "weir_enrich_entries", 0), 1);
	t0 = time(NULL);
	cr_assert_eq(kill(c->pid, SIGHUP), 0);
	await(c, "weir_enrich_reloads_total", 0, 1, 3000, "SIGHUP");
	await(c, "weir_enrich_reloads_total", 1, 1, 3000, "SIGHUP, the unchanged file too");
	cr_assert_eq(enr_metric(c, "weir_enrich_entries", 0), 3);
	cr_assert_geq(enr_metric(c, "weir_enrich_loaded_time_seconds", 0), (long long)t0);

	generate(c->port, NULL, "--protocol v9 -n 50 -f 10 -r 20000 --seed 28", path_of("t7b-ledger.json"));
	await(c, "weir_enrich_lookups_total", 0, 1000, 5000, "second batch");
	cr_assert_eq(enr_metric(c, "weir_enrich_lookups_total", 0), 1000);
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 0), 1);
	cr_assert_eq(enr_metric(c, "weir_enrich_reloads_total", 1), 1);
	cr_assert_eq(enr_metric(c, "weir_enrich_reload_failures_total", 0), 0);
	col_stop(c);

	/* One worker, two batches apart: the first 500 records old, the rest new. */
	buf = slurp(c->out, &len);
	p = buf;
	for (int i = 0; i < 1000; i++) {
		char *nl = strchr(p, '\n');

		cr_assert_not_null(nl, "%d records, not 1000", i);
		*nl = 0;
		cr_assert_not_null(strstr(p, i < 500 ? ",\"dst_tag\":\"old\",\"src_tag\":\"same\"}"
						       : ",\"dst_tag\":\"new\",\"src_tag\":\"same\"}"),
				   "record %d: %s", i + 1, p);
		p = nl + 1;
	}
	cr_assert_eq(*p, 0, "more than 1000 records");
	free(buf);
	free(c);
}

/* 9. SIGTERM while a reload is loading a table: the collector exits
 * within the load's time, status 0, and frees both tables (LeakSanitizer
 * under ASan). The workers are joined before the reload thread stops, so
 * a swap that lands after that must not wait for their quiescent points
 * (found by this test: it used to wait 10 s and leak the old table). */
Test(col_enrich, sigterm_during_reload)
{
	const char *csv = path_of("big.csv");
	char spec[512];
	const char *extra[] = { "--enrich", spec, NULL };
	struct col *c;
	struct timespec t0, t1;
	size_t cap = 24u << 20, len = 0;
	char *b;
	int st;
	double took;

	c = calloc(1, sizeof(*c));
	b = malloc(cap);
	len += (size_t)snprintf(b, cap, "prefix,gen\n");
	/* Big enough that its load outlasts the SIGTERM below. */
	for (unsigned i = 0; i < 1000000; i++)
		len += (size_t)snprintf(b + len, cap - len, "%u.%u.%u.0/24,1\n", 1 + i / 65536,
					(i / 256) % 256, i % 256);
	put_file(csv, b, len);
	free(b);
	snprintf(spec, sizeof(spec), SPEC "dst_addr,fields=gen:g", csv);
	col_start(c, "t9", 2, extra);
	cr_assert_eq(kill(c->pid, SIGHUP), 0);
	sleep_ms(250);		/* the reload thread looks every 200 ms */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(kill(c->pid, SIGTERM), 0);
	st = wait_for(c->pid, 30000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d: %s", st, slurp(c->errf, NULL));
	cr_assert_lt(took, 5.0, "the exit took %.1f s: %s", took, slurp(c->errf, NULL));
	free(c);
}
