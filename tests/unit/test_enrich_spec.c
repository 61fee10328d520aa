/* Unit tests of the --enrich parser (enrich/spec.c): good specs read back
 * option by option, each kind of bad spec refused with a sentence that
 * names the culprit, the reserved output names checked against what
 * flow_json() really writes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enrich.h"
#include "err.h"
#include "flow.h"
#include "flow_json.h"

#define BASE "type=prefix_lookup,source=asn.csv,key=dst_addr,"

Test(enrich_spec, csv_basic)
{
	struct enrich_spec s;
	char err[256];
	const char *t = "type=prefix_lookup,source=asn.csv,key=dst_addr,fields=asn:dst_asn;org:dst_org";

	cr_assert_eq(enrich_spec_parse(t, &s, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_str_eq(s.text, t);
	cr_assert_eq(s.kind, ENRICH_CSV);
	cr_assert_eq(s.key, ENRICH_KEY_DST_ADDR);
	cr_assert_str_eq(s.source, "asn.csv");
	cr_assert_eq(s.nfields, 2);
	cr_assert_str_eq(s.f[0].src, "asn");
	cr_assert_str_eq(s.f[0].out, "dst_asn");
	cr_assert_str_eq(s.f[1].src, "org");
	cr_assert_str_eq(s.f[1].out, "dst_org");
	cr_assert_eq(s.reload_ns, 0);
	enrich_spec_free(&s);
	cr_assert_null(s.text);
}

Test(enrich_spec, mmdb_paths_and_reload)
{
	struct enrich_spec s;
	char err[256];

	cr_assert_eq(enrich_spec_parse("type=prefix_lookup,source=/var/lib/GeoLite2-City.MMDB,key=src_addr,"
				       "fields=country.iso_code:src_country;city.names.en:src_city;"
				       "subdivisions.0.iso_code:src_sub,reload=30s",
				       &s, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(s.kind, ENRICH_MMDB);
	cr_assert_eq(s.key, ENRICH_KEY_SRC_ADDR);
	cr_assert_str_eq(s.source, "/var/lib/GeoLite2-City.MMDB");
	cr_assert_eq(s.nfields, 3);
	cr_assert_str_eq(s.f[2].src, "subdivisions.0.iso_code");
	cr_assert_str_eq(s.f[2].out, "src_sub");
	cr_assert_eq(s.reload_ns, 30000000000ull);
	enrich_spec_free(&s);
}

Test(enrich_spec, options_in_any_order_with_blanks)
{
	struct enrich_spec s;
	char err[256];

	cr_assert_eq(enrich_spec_parse(" reload = 1m , fields = asn : a ; org:b ,key=next_hop,"
				       "source = x.CSV , type=prefix_lookup", &s, err, sizeof(err)),
		     WEIR_OK, "%s", err);
	cr_assert_eq(s.key, ENRICH_KEY_NEXT_HOP);
	cr_assert_eq(s.kind, ENRICH_CSV);
	cr_assert_str_eq(s.source, "x.CSV");
	cr_assert_str_eq(s.f[0].src, "asn");
	cr_assert_str_eq(s.f[0].out, "a");
	cr_assert_str_eq(s.f[1].out, "b");
	cr_assert_eq(s.reload_ns, 60000000000ull);
	enrich_spec_free(&s);
}

Test(enrich_spec, every_key_and_interval_bounds)
{
	static const struct { const char *k; enum enrich_key v; } keys[] = {
		{ "src_addr", ENRICH_KEY_SRC_ADDR }, { "dst_addr", ENRICH_KEY_DST_ADDR },
		{ "next_hop", ENRICH_KEY_NEXT_HOP }, { "sampler_address", ENRICH_KEY_SAMPLER_ADDRESS },
	};
	static const struct { const char *r; uint64_t ns; } iv[] = {
		{ "1s", 1000000000ull }, { "10s", 10000000000ull }, { "90m", 5400000000000ull },
		{ "24h", 86400000000000ull }, { "1440m", 86400000000000ull },
		/* The rules of every weir duration (prog_val.h): seconds without
		 * a unit, fractions, ms. */
		{ "30", 30000000000ull }, { "1.5m", 90000000000ull }, { "2000ms", 2000000000ull },
	};
	struct enrich_spec s;
	char text[256], err[256];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(text, sizeof(text), "type=prefix_lookup,source=a.mmdb,key=%s,fields=x:y", keys[i].k);
		cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_OK, "%s", err);
		cr_assert_eq(s.key, keys[i].v);
		cr_assert_str_eq(enrich_key_name(s.key), keys[i].k);
		enrich_spec_free(&s);
	}
	for (size_t i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		snprintf(text, sizeof(text), BASE "fields=x:y,reload=%s", iv[i].r);
		cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_OK, "%s: %s", iv[i].r, err);
		cr_assert_eq(s.reload_ns, iv[i].ns, "%s", iv[i].r);
		enrich_spec_free(&s);
	}
}

/* 32 pairs and 128-byte names are the bounds, allowed. */
Test(enrich_spec, limits_allowed)
{
	char text[8192], name[ENRICH_NAME_MAX + 1], err[256];
	struct enrich_spec s;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), BASE "fields=");
	for (int i = 0; i < ENRICH_MAX_FIELDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sc%d:o%d", i ? ";" : "", i, i);
	cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(s.nfields, ENRICH_MAX_FIELDS);
	cr_assert_str_eq(s.f[31].out, "o31");
	enrich_spec_free(&s);

	memset(name, 'n', ENRICH_NAME_MAX);
	name[ENRICH_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), BASE "fields=%s:%s", name, name);
	cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(strlen(s.f[0].src), ENRICH_NAME_MAX);
	enrich_spec_free(&s);
}

struct bad {
	const char *text;
	const char *says;	/* the message must hold this */
};

static const struct bad bad[] = {
	{ "", "empty" },
	{ BASE "fields=a:b,color=red", "unknown option 'color'" },
	{ BASE "fields=a:b,Type=prefix_lookup", "unknown option 'Type'" },
	{ BASE "fields=a:b,key=src_addr", "'key' is given twice" },
	{ BASE "fields=a:b,fields=c:d", "'fields' is given twice" },
	{ "source=a.csv,key=dst_addr,fields=a:b", "'type' is missing" },
	{ "type=prefix_lookup,key=dst_addr,fields=a:b", "'source' is missing" },
	{ "type=prefix_lookup,source=a.csv,fields=a:b", "'key' is missing" },
	{ "type=prefix_lookup,source=a.csv,key=dst_addr", "'fields' is missing" },
	{ "type=exact_match,source=a.csv,key=dst_addr,fields=a:b", "unknown type 'exact_match'" },
	{ "type=prefix_lookup,source=a.csv,key=src_ip,fields=a:b", "unknown key 'src_ip'" },
	{ "type=prefix_lookup,source=a.csv,key=DST_ADDR,fields=a:b", "unknown key 'DST_ADDR'" },
	{ "type=prefix_lookup,source=asn.txt,key=dst_addr,fields=a:b", "'asn.txt' is neither" },
	{ "type=prefix_lookup,source=asn.csv.gz,key=dst_addr,fields=a:b", "'asn.csv.gz' is neither" },
	{ "type=prefix_lookup,source=.csv,key=dst_addr,fields=a:b", "'.csv' is neither" },
	{ "type=prefix_lookup,source=,key=dst_addr,fields=a:b", "'source' is empty" },
	{ "type=prefix_lookup,,source=a.csv,key=dst_addr,fields=a:b", "empty option" },
	{ BASE "fields=a:b,", "empty option" },
	{ "type,source=a.csv,key=dst_addr,fields=a:b", "option 'type' has no '='" },
	{ BASE "fields=asn", "pair 'asn' has no ':'" },
	{ BASE "fields=a:b;asn", "pair 'asn' has no ':'" },
	{ BASE "fields=asn:", "pair 'asn:' has an empty output name" },
	{ BASE "fields=:dst_asn", "pair ':dst_asn' has an empty source name" },
	{ BASE "fields=a:b;;c:d", "pair 2 is empty" },
	{ BASE "fields=a:b;", "pair 2 is empty" },
	{ BASE "fields=a:b:c", "pair 'a:b:c' has more than one ':'" },
	{ BASE "fields=asn:1st", "output name '1st' is not a name" },
	{ BASE "fields=asn:dst-asn", "output name 'dst-asn' is not a name" },
	{ BASE "fields=asn:dst asn", "output name 'dst asn' is not a name" },
	{ BASE "fields=asn:bytes", "output name 'bytes' is a field of the flow record" },
	{ BASE "fields=asn:src_addr", "output name 'src_addr' is a field of the flow record" },
	{ BASE "fields=asn:x;org:x", "output name 'x' is given twice" },
	{ BASE "fields=a:b,reload=0s", "reload: '0s' is out of range" },
	{ BASE "fields=a:b,reload=25h", "reload: '25h' is out of range" },
	{ BASE "fields=a:b,reload=86401s", "reload: '86401s' is out of range" },
	{ BASE "fields=a:b,reload=99999999999h", "reload: '99999999999h' is out of range" },
	{ BASE "fields=a:b,reload=500ms", "reload: '500ms' is out of range" },
	{ BASE "fields=a:b,reload=1d", "reload: '1d' is not a duration" },
	{ BASE "fields=a:b,reload=s", "reload: 's' is not a duration" },
	{ BASE "fields=a:b,reload=-5s", "reload: '-5s' is not a duration" },
	{ BASE "fields=a:b,reload=5 s", "reload: '5 s' is not a duration" },
	{ BASE "fields=a:b,reload=", "option 'reload' is empty" },
	{ "type=prefix_lookup,source=a.mmdb,key=dst_addr,fields=country..iso_code:cc",
	  "path 'country..iso_code' has an empty component" },
	{ "type=prefix_lookup,source=a.mmdb,key=dst_addr,fields=.country:cc", "path '.country'" },
	{ "type=prefix_lookup,source=a.mmdb,key=dst_addr,fields=country.:cc", "path 'country.'" },
};

Test(enrich_spec, bad_specs_name_the_culprit)
{
	struct enrich_spec s;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(enrich_spec_parse(bad[i].text, &s, err, sizeof(err)), WEIR_E_INVALID,
			     "accepted: %s", bad[i].text);
		cr_assert(strstr(err, bad[i].says), "%s\n  said: %s\n  wanted: %s",
			  bad[i].text, err, bad[i].says);
		enrich_spec_free(&s);
	}
}

Test(enrich_spec, too_many_and_too_long)
{
	char text[8192], name[ENRICH_NAME_MAX + 2], err[256];
	struct enrich_spec s;
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), BASE "fields=");
	for (int i = 0; i <= ENRICH_MAX_FIELDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sc%d:o%d", i ? ";" : "", i, i);
	cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert(strstr(err, "more than 32 pairs"), "%s", err);
	enrich_spec_free(&s);

	memset(name, 'n', ENRICH_NAME_MAX + 1);
	name[ENRICH_NAME_MAX + 1] = '\0';
	snprintf(text, sizeof(text), BASE "fields=%s:ok", name);
	cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert(strstr(err, "source name 'nnnn") && strstr(err, "longer than 128 bytes"), "%s", err);
	enrich_spec_free(&s);

	snprintf(text, sizeof(text), BASE "fields=ok:%s", name);
	cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert(strstr(err, "output name 'nnnn") && strstr(err, "longer than 128 bytes"), "%s", err);
	enrich_spec_free(&s);
}

/* A small err buffer gets a cut message, never an overflow. */
Test(enrich_spec, short_error_buffer)
{
	struct enrich_spec s;
	char err[12];

	memset(err, 'X', sizeof(err));
	cr_assert_eq(enrich_spec_parse(BASE "fields=a:b,colour=red", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(err[sizeof(err) - 1], '\0');
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	enrich_spec_free(&s);
	cr_assert_eq(enrich_spec_parse(BASE "fields=a:b,colour=red", &s, NULL, 0), WEIR_E_INVALID);
	enrich_spec_free(&s);
}

/* Every member flow_json() writes for a record with every field is
 * reserved, and refused as an output name; the list holds nothing else
 * that a user might want. */
Test(enrich_spec, reserved_names_are_flow_json_members)
{
	struct flow f;
	char line[FLOW_JSON_MAX], text[256], err[256];
	struct enrich_spec s;
	size_t n, seen = 0;
	const char *p;

	memset(&f, 0, sizeof(f));
	f.has = ~0ull;
	n = flow_json(&f, line, sizeof(line));
	cr_assert_gt(n, 0);
	line[n] = '\0';
	for (p = line; (p = strstr(p, "\"")) != NULL; ) {
		const char *q = strchr(p + 1, '"');
		char name[64];

		cr_assert_not_null(q);
		if (q[1] != ':') {	/* a string value, not a member name */
			p = q + 1;
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(q - p - 1), p + 1);
		cr_assert(enrich_name_reserved(name), "flow_json writes '%s', not reserved", name);
		snprintf(text, sizeof(text), BASE "fields=asn:%s", name);
		cr_assert_eq(enrich_spec_parse(text, &s, err, sizeof(err)), WEIR_E_INVALID, "%s", name);
		cr_assert(strstr(err, name), "%s", err);
		enrich_spec_free(&s);
		seen++;
		p = q + 1;
	}
	cr_assert_geq(seen, 37);
	cr_assert_not(enrich_name_reserved("dst_asn"));
	cr_assert_not(enrich_name_reserved("src_country"));
	cr_assert_not(enrich_name_reserved("Bytes"));
}

Test(enrich_spec, clash_between_specs)
{
	struct enrich_spec a, b, c;
	char err[256];

	cr_assert_eq(enrich_spec_parse(BASE "fields=asn:dst_asn;org:dst_org", &a, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(enrich_spec_parse("type=prefix_lookup,source=g.mmdb,key=src_addr,"
				       "fields=country.iso_code:src_country;autonomous_system_organization:dst_org",
				       &b, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(enrich_spec_parse(BASE "fields=asn:src_asn", &c, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(enrich_spec_clash(&a, &b, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert(strstr(err, "'dst_org'"), "%s", err);
	cr_assert_eq(enrich_spec_clash(&a, &c, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(enrich_spec_clash(&b, &c, err, sizeof(err)), WEIR_OK);
	enrich_spec_free(&a);
	enrich_spec_free(&b);
	enrich_spec_free(&c);
}

Test(enrich_spec, csv_header_cells)
{
	struct enrich_spec s;
	char out[64], err[256];

	cr_assert_eq(enrich_spec_parse(BASE "fields=asn:dst_asn;org:dst_org", &s, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(enrich_csv_header(&s, out, sizeof(out)), 16);
	cr_assert_eq(memcmp(out, ",dst_asn,dst_org", 16), 0);
	cr_assert_eq(enrich_csv_header(&s, out, 15), SIZE_MAX);
	enrich_spec_free(&s);
}

/* A table is not loaded from a spec that did not parse. */
Test(enrich_spec, load_needs_a_parsed_spec)
{
	struct enrich_spec s;
	char err[256];

	cr_assert_eq(enrich_spec_parse(BASE "fields=asn", &s, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_null(enrich_table_load(&s, err, sizeof(err)));
	enrich_spec_free(&s);
}
