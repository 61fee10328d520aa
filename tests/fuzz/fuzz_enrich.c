/* libFuzzer harness: the --enrich sources as files (enrich_table_load) and
 * lookups in what loads. A file is input too: a half-written CSV, a
 * damaged or hostile MaxMind DB must give an error, never a crash, a hang
 * or unbounded memory.
 *
 * Input: the file. One that holds the MaxMind DB metadata marker is loaded
 * as a .mmdb, anything else as a .csv. Seeds: tests/fuzz/seeds/fuzz_enrich
 * (CSV) and the MaxMind test databases (tests/fuzz/run adds them).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "enrich.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const addrs[] = {
	"0.0.0.0", "10.1.2.3", "81.2.69.160", "1.128.0.1", "89.160.20.112", "192.168.1.1",
	"255.255.255.255", "::", "2001:db8::1", "2a02:cf40::1", "::ffff:1.2.3.4",
	"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
};

static void lookups(const struct enrich_table *t, const uint8_t *data, size_t size)
{
	static char out[ENRICH_OUT_MAX(ENRICH_MAX_FIELDS)];
	struct weir_addr a;
	int hit;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]) + 8; i++) {
		const struct weir_addr *pa;
		uint32_t row;

		if (i < sizeof(addrs) / sizeof(addrs[0])) {
			weir_addr_parse(&a, addrs[i]);
		} else {
			/* Addresses from the input, so that lookups follow
			 * the prefixes it holds. */
			memset(&a, 0, sizeof(a));
			if (size >= 16)
				memcpy(a.a, data + ((i * 37) % (size - 15)), 16);
			if (i % 2)
				memcpy(a.a, weir_v4_prefix, 12);
		}
		enrich_json(t, &a, out, sizeof(out), &hit);
		enrich_csv(t, &a, out, sizeof(out), &hit);
		/* A cap too small must write nothing past it. */
		enrich_json(t, &a, out, 3, &hit);
		pa = &a;
		for (int csv = 0; csv < 2; csv++) {
			struct enrich_rows r;

			enrich_find_many(t, csv, &pa, &row, 1);
			if (row == ENRICH_ROW_NONE || row == ENRICH_ROW_DIRECT)
				continue;
			if (csv)
				enrich_csv_row(t, row, out, sizeof(out));
			else
				enrich_json_row(t, row, out, sizeof(out));
			if (enrich_table_rows(t, csv, &r))
				enrich_row_text(&r, row, out, sizeof(out));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[2] = {
		"asn:x;org:y;prefix:p",
		"country.iso_code:c;autonomous_system_number:n;subdivisions.0.names.en:s;location:l",
	};
	char path[96], spec[256], err[512];
	struct enrich_spec s;
	struct enrich_table *t;
	int kind;
	FILE *fp;
	static const uint8_t marker[] = "\xab\xcd\xefMaxMind.com";

	kind = memmem(data, size, marker, sizeof(marker) - 1) != NULL;
	snprintf(path, sizeof(path), "/tmp/weir-fuzz-enrich-%d.%s", (int)getpid(), kind ? "mmdb" : "csv");
	fp = fopen(path, "wb");
	if (!fp)
		return 0;
	if (size && fwrite(data, 1, size, fp) != size) {
		fclose(fp);
		return 0;
	}
	fclose(fp);
	snprintf(spec, sizeof(spec), "type=prefix_lookup,source=%s,key=dst_addr,fields=%s", path,
		 fields[kind]);
	if (enrich_spec_parse(spec, &s, err, sizeof(err)) != WEIR_OK)
		__builtin_trap();	/* the spec is ours: it must parse */
	t = enrich_table_load(&s, err, sizeof(err));
	if (t) {
		struct enrich_table_stats st;

		enrich_table_stats(t, &st);
		lookups(t, data, size);
		enrich_table_free(t);
	} else if (!err[0]) {
		__builtin_trap();	/* a refusal says why */
	}
	enrich_spec_free(&s);
	return 0;
}
