/* End-to-end tests of --enrich in weir-collector (collector/enr.c, its use
 * in worker.c, main.c and metrics.c; issue 5): weir-generator sends flows
 * with a ledger, the real weir-collector enriches them from a CSV or a
 * MaxMind DB file, and every output record is checked against a longest
 * prefix match computed here by brute force (CSV) or against mmdblookup
 * (MaxMind DB). Covered: JSON members and their types, CSV cells and the
 * header, the order of several --enrich, start-up errors, a periodic reload
 * under load (nothing lost, no record mixing two tables, a cut file refused
 * and logged), SIGHUP, and the weir_enrich_* metrics. */
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

#include "colhelp.h"

/* The start of an --enrich argument, the source's path to fill in. */
#define SPEC "type=prefix_lookup,source=%s,key="

TestSuite(col_enrich, .init = suite_init, .fini = suite_fini);

static int contains(const char *path, const char *needle)
{
	char *s = slurp(path, NULL);
	int r = strstr(s, needle) != NULL;

	free(s);
	return r;
}

/* Write path whole by renaming a new file over it (a new inode), as a
 * table would be replaced in production. */
static void put_file(const char *path, const char *text, size_t len)
{
	char tmp[256];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	fp = fopen(tmp, "wb");
	cr_assert_not_null(fp, "%s", tmp);
	cr_assert_eq(fwrite(text, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(rename(tmp, path), 0, "rename: %s", strerror(errno));
}

static void put_str(const char *path, const char *text)
{
	put_file(path, text, strlen(text));
}

static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s && *s ? s : "../shared";
}

static const char *mmdb_path(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/testdata/mmdb/%s", shared_dir(), name);
	return p[k];
}

static const char *asn_mmdb(void)
{
	const char *p = mmdb_path("GeoLite2-ASN-Test.mmdb");

	if (access(p, R_OK) != 0)
		SKIP("%s is absent (set WEIR_SHARED to the shared folder)", p);
	return p;
}

/* ---- JSON lines: a flat object's members, values as raw JSON text ---- */

struct jm {
	const char *name, *val;
	size_t nlen, vlen;
	char type;		/* s string, n number, o other */
};

#define JM_MAX 80

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *skip_str(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < end ? p + 1 : NULL;
}

static const char *skip_val(const char *p, const char *end)
{
	int depth = 0;

	if (p < end && *p == '"')
		return skip_str(p, end);
	while (p < end) {
		if (*p == '"') {
			p = skip_str(p, end);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']' || *p == ',') {
			if (!depth)
				return p;
			if (*p != ',')
				depth--;
		}
		p++;
	}
	return depth ? NULL : p;
}

/* The members of the object on [s, end), or -1 when it is not one. */
static int json_members(const char *s, const char *end, struct jm *m, int max)
{
	const char *p = skip_ws(s, end);
	int n = 0;

	if (p >= end || *p++ != '{')
		return -1;
	p = skip_ws(p, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		const char *q;

		if (n == max || p >= end || *p != '"')
			return -1;
		q = skip_str(p, end);
		if (!q)
			return -1;
		m[n].name = p + 1;
		m[n].nlen = (size_t)(q - p - 2);
		p = skip_ws(q, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		q = skip_val(p, end);
		if (!q || q == p)
			return -1;
		m[n].val = p;
		m[n].vlen = (size_t)(q - p);
		m[n].type = *p == '"' ? 's' : (*p == '-' || (*p >= '0' && *p <= '9')) ? 'n' : 'o';
		n++;
		p = skip_ws(q, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return skip_ws(p + 1, end) == end ? n : -1;
		return -1;
	}
}

static const struct jm *member(const struct jm *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (m[i].nlen == strlen(name) && !memcmp(m[i].name, name, m[i].nlen))
			return &m[i];
	return NULL;
}

static int count_named(const struct jm *m, int n, const char *name)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += m[i].nlen == strlen(name) && !memcmp(m[i].name, name, m[i].nlen);
	return k;
}

static int val_is(const struct jm *m, const char *raw)
{
	return m && m->vlen == strlen(raw) && !memcmp(m->val, raw, m->vlen);
}

static int name_is(const struct jm *m, const char *name)
{
	return m->nlen == strlen(name) && !memcmp(m->name, name, m->nlen);
}

/* A string member without escapes (an address), into out. */
static void str_of(const struct jm *m, char *out, size_t cap)
{
	cr_assert_not_null(m);
	cr_assert_eq(m->type, 's');
	cr_assert_lt(m->vlen - 2, cap);
	memcpy(out, m->val + 1, m->vlen - 2);
	out[m->vlen - 2] = 0;
}

static long long num_of(const struct jm *m)
{
	cr_assert_not_null(m);
	cr_assert_eq(m->type, 'n', "%.*s is not a number", (int)m->vlen, m->val);
	return strtoll(m->val, NULL, 10);
}

/* Each line of a JSON lines file, its members parsed. */
typedef void (*line_fn)(const struct jm *m, int n, size_t lineno, void *arg);

static size_t each_json_line(const char *path, line_fn fn, void *arg)
{
	static struct jm m[JM_MAX];
	size_t len, lines = 0;
	char *buf = slurp(path, &len), *p = buf, *end = buf + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		int n;

		cr_assert_not_null(nl, "line %zu has no end", lines + 1);
		n = json_members(p, nl, m, JM_MAX);
		cr_assert_geq(n, 0, "line %zu is not a JSON object: %.*s", lines + 1, (int)(nl - p), p);
		fn(m, n, lines, arg);
		lines++;
		p = nl + 1;
	}
	free(buf);
	return lines;
}

/* ---- CSV rows (RFC 4180: quoted cells with commas, quotes, newlines) ---- */

#define CELLS_MAX 64
#define CELL_MAX 600

struct row {
	int n;
	char cell[CELLS_MAX][CELL_MAX];
};

/* The row at *pp (unquoted cells), advancing *pp past its line break.
 * 0, or -1 at the end or on a malformed row. */
static int csv_row(const char **pp, const char *end, struct row *r)
{
	const char *p = *pp;
	size_t k = 0;
	int quoted = 0, closed = 0;

	if (p >= end)
		return -1;
	r->n = 0;
	while (p < end) {
		char c = *p++;

		if (r->n == CELLS_MAX || k + 1 >= CELL_MAX)
			return -1;
		if (quoted) {
			if (c != '"') {
				r->cell[r->n][k++] = c;
			} else if (p < end && *p == '"') {
				r->cell[r->n][k++] = '"';
				p++;
			} else {
				quoted = 0;
				closed = 1;
			}
			continue;
		}
		if (c == ',' || c == '\n') {
			r->cell[r->n][k] = 0;
			r->n++;
			k = 0;
			closed = 0;
			if (c == '\n') {
				*pp = p;
				return 0;
			}
			continue;
		}
		if (closed)
			return -1;		/* text after a closing quote */
		if (c == '"' && !k) {
			quoted = 1;
			continue;
		}
		r->cell[r->n][k++] = c;
	}
	return -1;		/* no line break at the end */
}

static int col_index(const struct row *h, const char *name)
{
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->cell[i], name))
			return i;
	return -1;
}

/* ---- prefixes, matched by brute force ---- */

struct pfx {
	int v6;
	uint8_t a[16];
	unsigned len;
};

static int parse_addr(const char *s, struct pfx *p)
{
	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, s, p->a) == 1) {
		p->len = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, p->a) == 1) {
		p->v6 = 1;
		p->len = 128;
		return 0;
	}
	return -1;
}

static void parse_pfx(const char *s, struct pfx *p)
{
	char t[64];
	const char *slash = strchr(s, '/');

	snprintf(t, sizeof(t), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	cr_assert_eq(parse_addr(t, p), 0, "%s", s);
	if (slash)
		p->len = (unsigned)atoi(slash + 1);
}

static int covers(const struct pfx *p, const struct pfx *a)
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (p->v6 != a->v6 || memcmp(p->a, a->a, full))
		return 0;
	return !rest || ((p->a[full] ^ a->a[full]) & (0xff00 >> rest) & 0xff) == 0;
}

/* ---- processes ---- */

/* A running weir-collector on UDP, one output file, metrics. */
struct col {
	pid_t pid;
	uint16_t port, mport;
	char out[192], errf[192];
	char page[1 << 17];
};

#define ARGS_MAX 48

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

/* ---- the CSV table of tests 1 and 2 ---- */

/* Overlapping prefixes: a quoted org with a comma and doubled quotes, the
 * same prefix twice (the later wins), a host route, bits past the length
 * (192.168.3.77/24 is 192.168.3.0/24), an IPv4-mapped prefix (the IPv4 one
 * it maps), ::/0 (which covers no IPv4 address), cells that are JSON
 * numbers (-7, 1.5e3) and one that is not (0123), an empty cell, a tab,
 * a backslash, UTF-8 and a line break inside quoted cells. The column
 * "note" is not used. */
static const char asn_csv[] =
	"prefix,asn,org,note\n"
	"192.168.0.0/22,64500,\"Wide, \"\"Quoted\"\" Net\",a\n"
	"192.168.1.0/24,64501,Small,b\n"
	"192.168.1.0/24,64502,Later wins,c\n"
	"192.168.1.128/25,64503,\"tab\there\",d\n"
	"192.168.1.200,64504,host,e\n"
	"192.168.3.77/24,0123,\"back\\slash \xc3\xa9\",f\n"
	"::ffff:10.20.0.0/113,-7,mapped,g\n"
	"10.20.128.0/17,1.5e3,,h\n"
	"::/0,1,v6-default,i\n"
	"2001:db8:8000::/33,65000,\"Doc, upper half\",j\n"
	"2001:db8:c000::/34,65001,\"line\nbreak\",k\n";

#define ASN_ARGS "--src-cidr 10.0.0.0/8,fd00::/16 " \
		 "--dst-cidr 192.168.0.0/22,10.20.0.0/16,172.16.0.0/16,2001:db8::/32"

/* Each row as the collector should read it: its effective prefix, and
 * the written forms of its cells (NULL: absent). */
static const struct {
	const char *pfx;
	const char *asn_json, *org_json;	/* JSON values */
	const char *asn_cell, *org_cell;	/* CSV cells, unquoted */
} asn_rows[] = {
	{ "192.168.0.0/22", "64500", "\"Wide, \\\"Quoted\\\" Net\"", "64500", "Wide, \"Quoted\" Net" },
	{ "192.168.1.0/24", "64501", "\"Small\"", "64501", "Small" },
	{ "192.168.1.0/24", "64502", "\"Later wins\"", "64502", "Later wins" },
	{ "192.168.1.128/25", "64503", "\"tab\\there\"", "64503", "tab\there" },
	{ "192.168.1.200/32", "64504", "\"host\"", "64504", "host" },
	{ "192.168.3.0/24", "\"0123\"", "\"back\\\\slash \xc3\xa9\"", "0123", "back\\slash \xc3\xa9" },
	{ "10.20.0.0/17", "-7", "\"mapped\"", "-7", "mapped" },
	{ "10.20.128.0/17", "1.5e3", NULL, "1.5e3", "" },
	{ "::/0", "1", "\"v6-default\"", "1", "v6-default" },
	{ "2001:db8:8000::/33", "65000", "\"Doc, upper half\"", "65000", "Doc, upper half" },
	{ "2001:db8:c000::/34", "65001", "\"line\\nbreak\"", "65001", "line\nbreak" },
};

#define NROWS ((int)(sizeof(asn_rows) / sizeof(asn_rows[0])))

/* The row a longest-prefix match gives addr (the later of equal
 * prefixes), or -1. */
static int asn_match(const char *addr)
{
	struct pfx a;
	int best = -1;
	unsigned blen = 0;

	cr_assert_eq(parse_addr(addr, &a), 0, "address '%s'", addr);
	for (int i = 0; i < NROWS; i++) {
		struct pfx p;

		parse_pfx(asn_rows[i].pfx, &p);
		if (covers(&p, &a) && (best < 0 || p.len >= blen)) {
			best = i;
			blen = p.len;
		}
	}
	return best;
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

/* 2. CSV output: the header names the enrichment columns at its end, in
 * order; every row has as many cells; the cells hold the values. */
Test(col_enrich, csv_output_cells_and_header)
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
Test(col_enrich, two_enrichments_in_order)
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
Test(col_enrich, startup_errors)
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

/* 8. A flow without the key (sFlow samples carry no next hop): nothing to
 * look up, no JSON member, empty CSV cells; the other enrichment still
 * applies (the exporter's address is the sampler_address). */
Test(col_enrich, flow_without_the_key)
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
