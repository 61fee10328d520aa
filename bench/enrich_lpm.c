/* bench/enrich_lpm - the prefix table of enrichment (enrich/lpm.c): build
 * time, memory, and lookups per second per core, beside libmaxminddb in
 * the same run.
 *
 * The table: 1,000,000 IPv4 prefixes of a routing table's length mix
 * (mostly /24, then /22, /23, /20, /21, /16, /19; a few /8-/15, /17, /18
 * and /25-/32) drawn uniformly from 1.0.0.0-223.255.255.255, and 200,000
 * IPv6 prefixes in 2000::/3: allocations (/29, /32) in six /12-sized RIR
 * blocks, and the longer prefixes (mostly /48, then /40, /44, /36, some
 * /56, /64, /128) inside random allocations, so they nest as real ones do.
 * Values are row numbers. Everything is seeded.
 *
 * Lookups: single thread, over arrays of 2^20 addresses generated before
 * the clock starts; each figure is the best of several passes, in lookups
 * per CPU-second of the thread. (a) uniform random IPv4 addresses, (b)
 * IPv4 addresses inside the table's prefixes, (c) IPv6 addresses inside
 * its prefixes, (d) (b) and (c) interleaved 90/10 at random. All through
 * lpm_lookup on struct weir_addr, the collector's form; (a) and (b) also
 * through lpm_lookup4.
 *
 * (e) The collector's pattern: 30 lookups of set (b) (one datagram's
 * records), then GAP_US microseconds of other work before the next 30,
 * timed over the lookups only; one lookup after the other (lpm_lookup) and
 * the 30 together (lpm_lookup_many), and their ratio. On a machine whose
 * caches lose an idle table within microseconds (a shared VM), nearly every
 * lookup here misses, and what counts is how many misses overlap.
 *
 * libmaxminddb: MMDB_lookup_sockaddr on each MaxMind test database that
 * opens (MMDB_MODE_MMAP), with addresses inside the networks the database
 * holds (found by walking its search tree with MMDB_read_node) and with
 * uniform random IPv4 addresses. Those databases are small (kilobytes), so
 * theirs is a lookup in cache against ours in a table of tens of MB: the
 * ratio is for scale.
 *
 * Usage: enrich_lpm [passes]   (WEIR_SHARED: folder holding testdata/mmdb)
 */
#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "lpm.h"

typedef unsigned __int128 u128;

#define N4		1000000
#define N6		200000
#define NQ		(1u << 20)	/* addresses per lookup set */
#define NQ_MMDB		(1u << 18)
#define TARGET_MLPS	20.0		/* lookups/s/core, millions */
#define TARGET_BUILD_S	2.0
#define TARGET_BYTES	200e6

static volatile uint64_t sink;
static uint64_t rng = 0x5eed;

static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd32(void)
{
	return (uint32_t)(rnd64() >> 32);
}

static u128 mask(unsigned len)
{
	return len ? ~(u128)0 << (128 - len) : 0;
}

static struct weir_addr addr_of(u128 x)
{
	struct weir_addr a;

	for (int i = 15; i >= 0; i--) {
		a.a[i] = (uint8_t)x;
		x >>= 8;
	}
	return a;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pick from a table of (weight, value) rows whose weights sum to 1000. */
static unsigned pick(const unsigned (*tab)[2], size_t n)
{
	unsigned r = (unsigned)(rnd64() % 1000);

	for (size_t i = 0; i < n; i++) {
		if (r < tab[i][0])
			return tab[i][1];
		r -= tab[i][0];
	}
	return tab[n - 1][1];
}

/* Per mille. /8-/15, /17, /18 and /25-/32 are spread over their lengths. */
static const unsigned len4_mix[][2] = {
	{ 550, 24 }, { 90, 22 }, { 90, 23 }, { 50, 20 }, { 50, 21 }, { 40, 16 },
	{ 40, 19 }, { 20, 17 }, { 20, 18 }, { 20, 0 /* /8-/15 */ }, { 30, 33 /* /25-/32 */ },
};

static const unsigned len6_mix[][2] = {
	{ 400, 48 }, { 150, 32 }, { 100, 40 }, { 100, 44 }, { 70, 36 }, { 50, 29 },
	{ 50, 56 }, { 50, 64 }, { 30, 128 },
};

/* RIR-like /12 blocks of 2000::/3, per mille of the allocations. */
static const uint16_t rir_block[] = { 0x2000, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00 };
static const unsigned rir_mix[][2] = {
	{ 150, 0 }, { 200, 1 }, { 250, 2 }, { 100, 3 }, { 250, 4 }, { 50, 5 },
};

struct pfx4 {
	uint32_t p;
	uint8_t len;
};

struct pfx6 {
	u128 p;
	uint8_t len;
};

static void gen4(struct pfx4 *p)
{
	for (size_t i = 0; i < N4; i++) {
		unsigned len = pick(len4_mix, sizeof(len4_mix) / sizeof(len4_mix[0]));
		uint32_t a = (1 + (uint32_t)(rnd64() % 223)) << 24 | (rnd32() & 0xffffff);

		if (len == 0)
			len = 8 + (unsigned)(rnd64() % 8);
		else if (len == 33)
			len = 25 + (unsigned)(rnd64() % 8);
		p[i].p = a & (0xffffffffu << (32 - len));
		p[i].len = (uint8_t)len;
	}
}

static void gen6(struct pfx6 *p)
{
	size_t nalloc = 0, i;

	/* Allocations first: the /29s and /32s. */
	for (i = 0; i < N6; i++) {
		unsigned len = pick(len6_mix, sizeof(len6_mix) / sizeof(len6_mix[0]));
		u128 blk = (u128)rir_block[pick(rir_mix, 6)] << 112;
		u128 r = (u128)rnd64() << 64 | rnd64();

		if (len > 32)
			continue;
		p[nalloc].p = (blk | (r >> 12)) & mask(len);
		p[nalloc].len = (uint8_t)len;
		nalloc++;
	}
	/* Then the more specifics, each inside one of them. */
	for (i = nalloc; i < N6; i++) {
		unsigned len;
		const struct pfx6 *al = &p[rnd64() % nalloc];
		u128 r = (u128)rnd64() << 64 | rnd64();

		do
			len = pick(len6_mix, sizeof(len6_mix) / sizeof(len6_mix[0]));
		while (len <= 32);
		p[i].p = (al->p | (r & ~mask(al->len))) & mask(len);
		p[i].len = (uint8_t)len;
	}
}

static void print_rate(const char *what, double rate, int target)
{
	printf("%-36s %8.2f M lookups/s/core", what, rate / 1e6);
	if (target)
		printf("  (target >= %.0f M: %s)", TARGET_MLPS,
		       rate >= TARGET_MLPS * 1e6 ? "PASS" : "BELOW");
	printf("\n");
}

/* Best of passes over q[0..n) through lpm_lookup. */
static double rate_addr(const struct lpm *t, const struct weir_addr *q, size_t n, int passes)
{
	double best = 0;

	for (int p = 0; p < passes; p++) {
		uint64_t sum = 0;
		double t0 = cpu_now(), dt;

		for (size_t i = 0; i < n; i++)
			sum += lpm_lookup(t, &q[i]);
		dt = cpu_now() - t0;
		sink += sum;
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	return best;
}

static double rate_v4(const struct lpm *t, const uint32_t *q, size_t n, int passes)
{
	double best = 0;

	for (int p = 0; p < passes; p++) {
		uint64_t sum = 0;
		double t0 = cpu_now(), dt;

		for (size_t i = 0; i < n; i++)
			sum += lpm_lookup4(t, q[i]);
		dt = cpu_now() - t0;
		sink += sum;
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	return best;
}

#define GAP_BATCH	30
#define GAP_US		20.0

/* (e): lookups per second of the time spent looking up, in batches of
 * GAP_BATCH with GAP_US of spinning between them; many: lpm_lookup_many. */
static double rate_gap(const struct lpm *t, const struct weir_addr *q, size_t n, int many)
{
	const struct weir_addr *pa[GAP_BATCH];
	uint32_t v[GAP_BATCH];
	double spent = 0;
	size_t done = 0;
	uint64_t sum = 0;

	for (size_t off = 0; off + GAP_BATCH <= n; off += GAP_BATCH) {
		double t0, t1;

		for (unsigned i = 0; i < GAP_BATCH; i++)
			pa[i] = &q[off + i];
		t0 = wall_now();
		if (many)
			lpm_lookup_many(t, pa, v, GAP_BATCH);
		else
			for (unsigned i = 0; i < GAP_BATCH; i++)
				v[i] = lpm_lookup(t, pa[i]);
		for (unsigned i = 0; i < GAP_BATCH; i++)
			sum += v[i];
		t1 = wall_now();
		spent += t1 - t0;
		done += GAP_BATCH;
		while (wall_now() - t1 < GAP_US / 1e6)
			;
	}
	sink += sum;
	return spent > 0 ? done / spent : 0;
}

static double maxrss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024.0 / 1e6;
}

static double rss_now_mb(void)
{
	long pages = 0, res = 0;
	FILE *fp = fopen("/proc/self/statm", "r");

	if (fp) {
		if (fscanf(fp, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(fp);
	}
	return res * (double)sysconf(_SC_PAGESIZE) / 1e6;
}

/* ---- libmaxminddb ---- */

union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct net {
	u128 p;		/* top-aligned on the tree's depth */
	unsigned len;
};

struct nets {
	struct net *n;
	size_t cnt, cap;
};

/* Every network of the search tree that leads to data, walked depth
 * first from node 0. The IPv4 subtree of an IPv6 tree (::/96) comes
 * first; the aliases to it (::ffff:0:0/96, 2002::/16) lead to nodes
 * already seen and are skipped. */
static int mmdb_networks(const MMDB_s *db, struct nets *out)
{
	struct { uint32_t node; unsigned depth; u128 path; } *st;
	uint32_t nc = db->metadata.node_count;
	unsigned bits = db->metadata.ip_version == 6 ? 128 : 32;
	uint8_t *seen = calloc(nc ? nc : 1, 1);
	size_t sp = 0;

	st = malloc((size_t)(nc + 1) * sizeof(*st));
	if (!seen || !st) {
		free(seen);
		free(st);
		return -1;
	}
	st[sp].node = 0;
	st[sp].depth = 0;
	st[sp].path = 0;
	sp++;
	seen[0] = 1;
	while (sp) {
		MMDB_search_node_s nd;
		uint32_t node = st[sp - 1].node;
		unsigned depth = st[sp - 1].depth;
		u128 path = st[sp - 1].path;

		sp--;
		if (MMDB_read_node(db, node, &nd) != MMDB_SUCCESS || depth >= bits)
			continue;
		for (int b = 1; b >= 0; b--) {
			uint8_t type = b ? nd.right_record_type : nd.left_record_type;
			uint64_t rec = b ? nd.right_record : nd.left_record;
			u128 sub = path | (u128)b << (127 - depth);

			if (type == MMDB_RECORD_TYPE_SEARCH_NODE && rec < nc && !seen[rec]) {
				seen[rec] = 1;
				st[sp].node = (uint32_t)rec;
				st[sp].depth = depth + 1;
				st[sp].path = sub;
				sp++;
			} else if (type == MMDB_RECORD_TYPE_DATA) {
				if (out->cnt == out->cap) {
					out->cap = out->cap ? out->cap * 2 : 256;
					out->n = realloc(out->n, out->cap * sizeof(*out->n));
					if (!out->n)
						return -1;
				}
				out->n[out->cnt].p = sub;
				out->n[out->cnt].len = depth + 1;
				out->cnt++;
			}
		}
	}
	free(seen);
	free(st);
	return 0;
}

static void sa_v4(union sa *s, uint32_t a)
{
	memset(s, 0, sizeof(*s));
	s->in.sin_family = AF_INET;
	s->in.sin_addr.s_addr = htonl(a);
}

static void sa_v6(union sa *s, u128 x)
{
	struct weir_addr a = addr_of(x);

	memset(s, 0, sizeof(*s));
	s->in6.sin6_family = AF_INET6;
	memcpy(s->in6.sin6_addr.s6_addr, a.a, 16);
}

static double rate_mmdb(const MMDB_s *db, const union sa *q, size_t n, int passes)
{
	double best = 0;

	for (int p = 0; p < passes; p++) {
		uint64_t sum = 0;
		double t0 = cpu_now(), dt;

		for (size_t i = 0; i < n; i++) {
			int err;
			MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, &q[i].sa, &err);

			sum += r.found_entry + r.entry.offset + (unsigned)err;
		}
		dt = cpu_now() - t0;
		sink += sum;
		if (dt > 0 && n / dt > best)
			best = n / dt;
	}
	return best;
}

/* Our rates for (a), (b), (c), against which each database is set. */
struct ours {
	double random4, inside4, inside6;
};

static void bench_mmdb(const char *dir, const char *name, const struct ours *o, int passes)
{
	char path[4096];
	MMDB_s db;
	struct nets nets = { 0 };
	size_t n4 = 0, n6 = 0;
	union sa *in4 = malloc(NQ_MMDB * sizeof(*in4));
	union sa *in6 = malloc(NQ_MMDB * sizeof(*in6));
	union sa *rnd = malloc(NQ_MMDB * sizeof(*rnd));
	double r4 = 0, r6 = 0, rr;
	int st;

	snprintf(path, sizeof(path), "%s/testdata/mmdb/%s", dir, name);
	st = MMDB_open(path, MMDB_MODE_MMAP, &db);
	if (st != MMDB_SUCCESS) {
		printf("libmaxminddb %-24s SKIPPED (%s)\n", name, MMDB_strerror(st));
		goto out;
	}
	if (!in4 || !in6 || !rnd || mmdb_networks(&db, &nets) || nets.cnt == 0) {
		printf("libmaxminddb %-24s SKIPPED (no networks found)\n", name);
		MMDB_close(&db);
		goto out;
	}
	/* Addresses inside the networks: IPv4 ones (an IPv4 tree, or ::/96
	 * of an IPv6 tree) as AF_INET, the others as AF_INET6. */
	for (size_t tries = 0; (n4 < NQ_MMDB || n6 < NQ_MMDB) && tries < 16 * NQ_MMDB; tries++) {
		const struct net *nt = &nets.n[rnd64() % nets.cnt];
		u128 x = nt->p | (((u128)rnd64() << 64 | rnd64()) & ~mask(nt->len));
		int v4 = db.metadata.ip_version == 4 || (x >> 32) == 0;

		if (v4 && n4 < NQ_MMDB)
			sa_v4(&in4[n4++], db.metadata.ip_version == 4 ? (uint32_t)(x >> 96) : (uint32_t)x);
		else if (!v4 && n6 < NQ_MMDB)
			sa_v6(&in6[n6++], x);
	}
	for (size_t i = 0; i < NQ_MMDB; i++)
		sa_v4(&rnd[i], rnd32());
	printf("libmaxminddb %s: %zu networks, %u nodes, IPv%u tree\n", name, nets.cnt,
	       db.metadata.node_count, db.metadata.ip_version);
	if (n4) {
		r4 = rate_mmdb(&db, in4, n4, passes);
		printf("  %-34s %8.2f M lookups/s/core   ratio lpm (b) / this: %.1fx\n",
		       "IPv4 inside its networks", r4 / 1e6, o->inside4 / r4);
	}
	if (n6) {
		r6 = rate_mmdb(&db, in6, n6, passes);
		printf("  %-34s %8.2f M lookups/s/core   ratio lpm (c) / this: %.1fx\n",
		       "IPv6 inside its networks", r6 / 1e6, o->inside6 / r6);
	}
	rr = rate_mmdb(&db, rnd, NQ_MMDB, passes);
	printf("  %-34s %8.2f M lookups/s/core   ratio lpm (a) / this: %.1fx\n",
	       "IPv4 uniform random", rr / 1e6, o->random4 / rr);
	MMDB_close(&db);
out:
	free(nets.n);
	free(in4);
	free(in6);
	free(rnd);
}

/* Build the table of p4 and p6, printing its build time and memory. NULL
 * when out of memory (said on stderr). */
static struct lpm *build_table(const struct pfx4 *p4, const struct pfx6 *p6, int passes)
{
	struct lpm_builder *b;
	struct lpm_stats st;
	struct lpm *t = NULL;
	double t0, t1, t2;

	t0 = wall_now();
	b = lpm_builder_new();
	for (size_t i = 0; b && i < N4; i++)
		if (lpm_builder_add4(b, p4[i].p, p4[i].len, (uint32_t)i) != WEIR_OK)
			goto fail;
	for (size_t i = 0; b && i < N6; i++) {
		struct weir_addr a = addr_of(p6[i].p);

		if (lpm_builder_add(b, &a, p6[i].len, (uint32_t)(N4 + i)) != WEIR_OK)
			goto fail;
	}
	t1 = wall_now();
	t = b ? lpm_build(b) : NULL;
	t2 = wall_now();
	if (!t)
		goto fail;
	lpm_builder_free(b);
	lpm_stats(t, &st);

	printf("bench/enrich_lpm: %d IPv4 + %d IPv6 prefixes, one core, best of %d passes over %u addresses\n",
	       N4, N6, passes, NQ);
	printf("%-36s %zu IPv4, %zu IPv6\n", "distinct prefixes in the table", st.prefixes4, st.prefixes6);
	printf("%-36s %8.3f s  (target < %.0f s: %s)\n", "build (builder adds + lpm_build)",
	       t2 - t0, TARGET_BUILD_S, t2 - t0 < TARGET_BUILD_S ? "PASS" : "BELOW");
	printf("%-36s %8.3f s\n", "  of which lpm_build", t2 - t1);
	printf("%-36s %8.1f MB  (target <= %.0f MB: %s)\n", "table memory (lpm_stats)",
	       st.bytes / 1e6, TARGET_BYTES / 1e6, st.bytes <= TARGET_BYTES ? "PASS" : "BELOW");
	printf("%-36s %8.1f MB  (peak, builder and prefix lists included)\n",
	       "process max RSS (getrusage)", maxrss_mb());
	printf("%-36s %8.1f MB  (table and prefix lists, builder freed)\n", "process RSS now", rss_now_mb());
	return t;
fail:
	lpm_builder_free(b);
	fprintf(stderr, "enrich_lpm: out of memory\n");
	return NULL;
}

int main(int argc, char **argv)
{
	static const char *dbs[] = {
		"GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", "GeoLite2-Country-Test.mmdb",
	};
	int passes = argc > 1 ? atoi(argv[1]) : 9;
	const char *shared = getenv("WEIR_SHARED");
	struct pfx4 *p4 = malloc(N4 * sizeof(*p4));
	struct pfx6 *p6 = malloc(N6 * sizeof(*p6));
	struct weir_addr *qa, *qb, *qc, *qd;
	uint32_t *qa4, *qb4;
	struct lpm *t;
	struct ours o;
	double r;

	if (passes < 1 || !p4 || !p6) {
		fprintf(stderr, "usage: enrich_lpm [passes]\n");
		return 2;
	}
	if (!shared || !*shared)
		shared = "../shared";
	gen4(p4);
	gen6(p6);

	t = build_table(p4, p6, passes);
	if (!t)
		return 1;

	qa = malloc(NQ * sizeof(*qa));
	qb = malloc(NQ * sizeof(*qb));
	qc = malloc(NQ * sizeof(*qc));
	qd = malloc(NQ * sizeof(*qd));
	qa4 = malloc(NQ * sizeof(*qa4));
	qb4 = malloc(NQ * sizeof(*qb4));
	if (!qa || !qb || !qc || !qd || !qa4 || !qb4)
		return 1;
	for (size_t i = 0; i < NQ; i++) {
		const struct pfx4 *x4 = &p4[rnd64() % N4];
		const struct pfx6 *x6 = &p6[rnd64() % N6];
		u128 r6 = (u128)rnd64() << 64 | rnd64();

		qa4[i] = rnd32();
		weir_addr_v4u(&qa[i], qa4[i]);
		qb4[i] = x4->p | (x4->len < 32 ? rnd32() >> x4->len : 0);
		weir_addr_v4u(&qb[i], qb4[i]);
		qc[i] = addr_of(x6->p | (r6 & ~mask(x6->len)));
	}
	for (size_t i = 0; i < NQ; i++)
		qd[i] = rnd64() % 10 ? qb[rnd64() % NQ] : qc[rnd64() % NQ];

	o.random4 = r = rate_addr(t, qa, NQ, passes);
	print_rate("(a) IPv4 uniform random", r, 1);
	o.inside4 = r = rate_addr(t, qb, NQ, passes);
	print_rate("(b) IPv4 inside prefixes", r, 1);
	o.inside6 = r = rate_addr(t, qc, NQ, passes);
	print_rate("(c) IPv6 inside prefixes", r, 1);
	r = rate_addr(t, qd, NQ, passes);
	print_rate("(d) 90% (b) / 10% (c), interleaved", r, 1);
	print_rate("(a) via lpm_lookup4 (host order)", rate_v4(t, qa4, NQ, passes), 0);
	print_rate("(b) via lpm_lookup4 (host order)", rate_v4(t, qb4, NQ, passes), 0);
	{
		double one = 0, many = 0;

		/* Alternated, best of each: the machine's load moves. */
		for (int p = 0; p < passes; p++) {
			double x = rate_gap(t, qb, 1u << 15, 0), y = rate_gap(t, qb, 1u << 15, 1);

			one = x > one ? x : one;
			many = y > many ? y : many;
		}
		printf("(e) batches of %d, %.0f us apart:\n", GAP_BATCH, GAP_US);
		print_rate("  one by one (lpm_lookup)", one, 0);
		print_rate("  together (lpm_lookup_many)", many, 0);
		printf("  %-34s %8.2fx\n", "ratio together / one by one", one > 0 ? many / one : 0);
	}

	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
		bench_mmdb(shared, dbs[i], &o, passes);

	lpm_free(t);
	free(qa);
	free(qb);
	free(qc);
	free(qd);
	free(qa4);
	free(qb4);
	free(p4);
	free(p6);
	return sink == 42 ? 3 : 0;
}
