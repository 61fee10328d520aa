/* bench/enrich_mmdb - the load of a MaxMind DB enrichment source: its time,
 * the memory of the IPv4 table built from it (enrich/mmdbsrc.c), the
 * process's peak RSS; then IPv4 lookups through that table against the same
 * addresses through libmaxminddb ("::a.b.c.d" walks the same tree nodes),
 * which must agree, and each one's lookups per second.
 *
 * Usage: enrich_mmdb FILE.mmdb FIELDS [ADDRESSES]
 *   FIELDS as in --enrich (country.iso_code:c;city.names.en:n), ADDRESSES
 *   random IPv4 addresses in 1.0.0.0-40.255.255.255 (default 1,000,000).
 * A large database: perl bench/mkmmdb-big.pl (libmaxmind-db-writer-perl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "addr.h"
#include "enrich.h"
#include "err.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static char out[ENRICH_OUT_MAX(ENRICH_MAX_FIELDS)], ref[ENRICH_OUT_MAX(ENRICH_MAX_FIELDS)];
	char spec[4096], err[512];
	struct enrich_spec s;
	struct enrich_table *t;
	struct enrich_table_stats st;
	struct weir_addr *v4, *compat;
	struct rusage ru;
	size_t n = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000, hits = 0, bad = 0;
	uint64_t x = 0x5eed, sum = 0;
	double t0, t1, t_ours, t_lib;

	if (argc < 3 || !n) {
		fprintf(stderr, "usage: enrich_mmdb FILE.mmdb FIELDS [ADDRESSES]\n");
		return 2;
	}
	snprintf(spec, sizeof(spec), "type=prefix_lookup,source=%s,key=src_addr,fields=%s", argv[1], argv[2]);
	if (enrich_spec_parse(spec, &s, err, sizeof(err)) != WEIR_OK) {
		fprintf(stderr, "enrich_mmdb: %s\n", err);
		return 2;
	}
	t0 = now();
	t = enrich_table_load(&s, err, sizeof(err));
	t1 = now();
	if (!t) {
		fprintf(stderr, "enrich_mmdb: %s\n", err);
		return 1;
	}
	enrich_table_stats(t, &st);
	getrusage(RUSAGE_SELF, &ru);
	printf("%-40s %8.2f s\n", "load (check, IPv4 table)", t1 - t0);
	printf("%-40s %8llu\n", "search tree nodes", (unsigned long long)st.entries);
	printf("%-40s %8.1f MB  (file and IPv4 table)\n", "weir_enrich_table_bytes", st.bytes / 1e6);
	printf("%-40s %8.1f MB\n", "process peak RSS", ru.ru_maxrss / 1e3);

	v4 = malloc(n * sizeof(*v4));
	compat = malloc(n * sizeof(*compat));
	if (!v4 || !compat)
		return 1;
	for (size_t i = 0; i < n; i++) {
		uint32_t a;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a = (uint32_t)((1 + (x >> 24) % 40) << 24 | (x & 0xffffff));
		weir_addr_v4u(&v4[i], a);
		memset(&compat[i], 0, sizeof(compat[i]));
		memcpy(compat[i].a + 12, v4[i].a + 12, 4);
	}
	for (size_t i = 0; i < n; i++) {
		int h1, h2;
		size_t k1 = enrich_json(t, &v4[i], out, sizeof(out), &h1);
		size_t k2 = enrich_json(t, &compat[i], ref, sizeof(ref), &h2);

		hits += (size_t)h1;
		if (h1 != h2 || k1 != k2 || (k1 != SIZE_MAX && memcmp(out, ref, k1)))
			bad++;
	}
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		int h;

		sum += enrich_json(t, &v4[i], out, sizeof(out), &h);
	}
	t_ours = now() - t0;
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		int h;

		sum += enrich_json(t, &compat[i], out, sizeof(out), &h);
	}
	t_lib = now() - t0;
	printf("%-40s %zu of %zu differ (%zu hits)\n", "table against libmaxminddb", bad, n, hits);
	printf("%-40s %8.2f M/s\n", "lookups + JSON, IPv4 table", n / t_ours / 1e6);
	printf("%-40s %8.2f M/s  (ratio %.1fx)\n", "lookups + JSON, libmaxminddb", n / t_lib / 1e6,
	       t_ours > 0 ? t_lib / t_ours : 0);
	enrich_table_free(t);
	enrich_spec_free(&s);
	free(v4);
	free(compat);
	return bad || sum == 42 ? 1 : 0;
}
