/* spec.c - the --enrich argument: comma-separated name=value options.
 * See enrich.h and docs/enrichment.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "internal.h"
#include "prog_val.h"

#define RELOAD_MIN_NS	(1000000000ull)			/* 1s */
#define RELOAD_MAX_NS	(24ull * 3600 * 1000000000ull)	/* 24h */

static const char *const key_names[] = {
	[ENRICH_KEY_SRC_ADDR] = "src_addr",
	[ENRICH_KEY_DST_ADDR] = "dst_addr",
	[ENRICH_KEY_NEXT_HOP] = "next_hop",
	[ENRICH_KEY_SAMPLER_ADDRESS] = "sampler_address",
};

const char *enrich_key_name(enum enrich_key k)
{
	if ((unsigned)k >= sizeof(key_names) / sizeof(key_names[0]))
		return "?";
	return key_names[k];
}

/* The members and columns the common flow record writes itself
 * (common/flow_json.c, common/flow_csv.c; docs/formats.md): an enrichment
 * field of the same name would make a JSON object with a duplicate member
 * and a CSV header with two columns of one name. test_enrich_spec checks
 * this list against what flow_json() really writes. */
static const char *const flow_names[] = {
	"type", "time_received_ns", "sequence_num", "sampling_rate",
	"sampler_address", "observation_domain_id", "time_flow_start_ns",
	"time_flow_end_ns", "bytes", "packets", "src_addr", "dst_addr", "etype",
	"proto", "src_port", "dst_port", "in_if", "out_if", "src_mac", "dst_mac",
	"vlan_id", "dst_vlan_id", "ip_tos", "ip_ttl", "tcp_flags", "icmp_type",
	"icmp_code", "src_as", "dst_as", "next_hop", "bgp_next_hop", "src_net",
	"dst_net", "flow_direction", "ipv6_flow_label", "fragment_offset",
	"ip_flags",
};

int enrich_name_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(flow_names) / sizeof(flow_names[0]); i++)
		if (strcmp(name, flow_names[i]) == 0)
			return 1;
	return 0;
}

/* A culprit quoted in an error: cut at 64 bytes so a pasted file does not
 * become the message. */
static const char *quoted(char *buf, size_t len, const char *s, size_t n)
{
	if (n > 64)
		snprintf(buf, len, "'%.64s...'", s);
	else
		snprintf(buf, len, "'%.*s'", (int)n, s);
	return buf;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks around s[0..*n): returns the new start. */
static const char *trim(const char *s, size_t *n)
{
	while (*n && is_blank(*s)) {
		s++;
		(*n)--;
	}
	while (*n && is_blank(s[*n - 1]))
		(*n)--;
	return s;
}

static int ident_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcasecmp(s + n - m, suffix) == 0;
}

/* reload=: a duration by the rules of every weir flag (prog_val.h: "30s",
 * "5m", "1.5h", seconds without a unit), from 1s to 24h. */
static int parse_interval(const char *v, size_t n, uint64_t *ns, char *err, size_t errlen)
{
	char buf[64], q[80];

	if (n >= sizeof(buf))
		return prog_fail(err, errlen, "reload: %s is not a duration (too long)",
				 quoted(q, sizeof(q), v, n));
	memcpy(buf, v, n);
	buf[n] = '\0';
	return prog_parse_duration(buf, RELOAD_MIN_NS, RELOAD_MAX_NS, ns, "reload", err, errlen);
}

/* A dotted MMDB path: no empty component (a.b, subdivisions.0.iso_code). */
static int path_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 1; i < n; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

static int parse_pair(struct enrich_spec *s, const char *p, size_t n, unsigned idx,
		      char *err, size_t errlen)
{
	const char *colon, *src, *out;
	size_t ns, no;
	char q[80], q2[80];

	p = trim(p, &n);
	if (!n)
		return prog_fail(err, errlen,
				 "fields: pair %u is empty (pairs are source:output separated by ';')", idx);
	quoted(q, sizeof(q), p, n);
	colon = memchr(p, ':', n);
	if (!colon)
		return prog_fail(err, errlen, "fields: pair %s has no ':' (expected source:output)", q);
	if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - p)))
		return prog_fail(err, errlen, "fields: pair %s has more than one ':'", q);
	ns = (size_t)(colon - p);
	no = n - ns - 1;
	src = trim(p, &ns);
	out = trim(colon + 1, &no);
	if (!ns)
		return prog_fail(err, errlen, "fields: pair %s has an empty source name", q);
	if (!no)
		return prog_fail(err, errlen, "fields: pair %s has an empty output name", q);
	if (ns > ENRICH_NAME_MAX)
		return prog_fail(err, errlen, "fields: source name %s is longer than %d bytes",
				 quoted(q2, sizeof(q2), src, ns), ENRICH_NAME_MAX);
	if (no > ENRICH_NAME_MAX)
		return prog_fail(err, errlen, "fields: output name %s is longer than %d bytes",
				 quoted(q2, sizeof(q2), out, no), ENRICH_NAME_MAX);
	quoted(q2, sizeof(q2), out, no);
	if (!ident_ok(out, no))
		return prog_fail(err, errlen,
				 "fields: output name %s is not a name ([A-Za-z_][A-Za-z0-9_]*)", q2);
	if (s->nfields == ENRICH_MAX_FIELDS)
		return prog_fail(err, errlen, "fields: more than %d pairs", ENRICH_MAX_FIELDS);
	s->f[s->nfields].src = strndup(src, ns);
	s->f[s->nfields].out = strndup(out, no);
	if (!s->f[s->nfields].src || !s->f[s->nfields].out) {
		free(s->f[s->nfields].src);
		free(s->f[s->nfields].out);
		s->f[s->nfields].src = s->f[s->nfields].out = NULL;
		prog_fail(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	s->nfields++;
	if (enrich_name_reserved(s->f[s->nfields - 1].out))
		return prog_fail(err, errlen, "fields: output name %s is a field of the flow record already", q2);
	for (unsigned i = 0; i + 1 < s->nfields; i++)
		if (strcmp(s->f[i].out, s->f[s->nfields - 1].out) == 0)
			return prog_fail(err, errlen, "fields: output name %s is given twice", q2);
	return WEIR_OK;
}

static int parse_fields(struct enrich_spec *s, const char *v, size_t n, char *err, size_t errlen)
{
	const char *end = v + n, *p = v, *semi;
	unsigned idx = 1;
	int rc;

	for (;;) {
		semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			semi = end;
		rc = parse_pair(s, p, (size_t)(semi - p), idx++, err, errlen);
		if (rc)
			return rc;
		if (semi == end)
			break;
		p = semi + 1;
	}
	return WEIR_OK;
}

enum opt { O_TYPE, O_SOURCE, O_KEY, O_FIELDS, O_RELOAD, O_COUNT };

static const char *const opt_names[O_COUNT] = {
	"type", "source", "key", "fields", "reload",
};

int enrich_spec_parse(const char *text, struct enrich_spec *s, char *err, size_t errlen)
{
	const char *val[O_COUNT] = { 0 };
	size_t vlen[O_COUNT] = { 0 };
	const char *p, *end, *comma, *eq, *name, *v;
	size_t nn, nv;
	char q[80];
	unsigned k;
	int rc;

	memset(s, 0, sizeof(*s));
	if (err && errlen)
		err[0] = '\0';
	if (!text)
		return prog_fail(err, errlen, "empty --enrich option");
	s->text = strdup(text);
	if (!s->text) {
		prog_fail(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	p = text;
	end = text + strlen(text);
	if (p == end)
		return prog_fail(err, errlen, "empty --enrich option");
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (!comma)
			comma = end;
		nn = (size_t)(comma - p);
		name = trim(p, &nn);
		if (!nn)
			return prog_fail(err, errlen, "an empty option (two commas in a row, or one at an end)");
		eq = memchr(name, '=', nn);
		if (!eq)
			return prog_fail(err, errlen, "option %s has no '=' (options are name=value separated by ',')",
					 quoted(q, sizeof(q), name, nn));
		nv = nn - (size_t)(eq + 1 - name);
		v = trim(eq + 1, &nv);
		nn = (size_t)(eq - name);
		name = trim(name, &nn);
		for (k = 0; k < O_COUNT; k++)
			if (strlen(opt_names[k]) == nn && memcmp(opt_names[k], name, nn) == 0)
				break;
		if (k == O_COUNT)
			return prog_fail(err, errlen, "unknown option %s (known: type, source, key, fields, reload)",
					 quoted(q, sizeof(q), name, nn));
		if (val[k])
			return prog_fail(err, errlen, "option '%s' is given twice", opt_names[k]);
		if (!nv)
			return prog_fail(err, errlen, "option '%s' is empty", opt_names[k]);
		val[k] = v;
		vlen[k] = nv;
		if (comma == end)
			break;
		p = comma + 1;
	}
	for (k = 0; k < O_COUNT; k++)
		if (!val[k] && k != O_RELOAD)
			return prog_fail(err, errlen, "option '%s' is missing", opt_names[k]);

	if (vlen[O_TYPE] != strlen("prefix_lookup") ||
	    memcmp(val[O_TYPE], "prefix_lookup", vlen[O_TYPE]) != 0)
		return prog_fail(err, errlen, "unknown type %s (the one type is prefix_lookup)",
				 quoted(q, sizeof(q), val[O_TYPE], vlen[O_TYPE]));

	for (k = 0; k < sizeof(key_names) / sizeof(key_names[0]); k++)
		if (strlen(key_names[k]) == vlen[O_KEY] &&
		    memcmp(key_names[k], val[O_KEY], vlen[O_KEY]) == 0)
			break;
	if (k == sizeof(key_names) / sizeof(key_names[0]))
		return prog_fail(err, errlen, "unknown key %s (src_addr, dst_addr, next_hop or sampler_address)",
				 quoted(q, sizeof(q), val[O_KEY], vlen[O_KEY]));
	s->key = (enum enrich_key)k;

	s->source = strndup(val[O_SOURCE], vlen[O_SOURCE]);
	if (!s->source) {
		prog_fail(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	if (ends_with_ci(s->source, ".csv"))
		s->kind = ENRICH_CSV;
	else if (ends_with_ci(s->source, ".mmdb"))
		s->kind = ENRICH_MMDB;
	else
		return prog_fail(err, errlen, "source %s is neither a .csv nor a .mmdb file",
				 quoted(q, sizeof(q), val[O_SOURCE], vlen[O_SOURCE]));

	rc = parse_fields(s, val[O_FIELDS], vlen[O_FIELDS], err, errlen);
	if (rc)
		return rc;
	if (s->kind == ENRICH_MMDB)
		for (k = 0; k < s->nfields; k++)
			if (!path_ok(s->f[k].src, strlen(s->f[k].src)))
				return prog_fail(err, errlen, "fields: path %s has an empty component (a.b.0.c)",
						 quoted(q, sizeof(q), s->f[k].src, strlen(s->f[k].src)));

	if (val[O_RELOAD]) {
		rc = parse_interval(val[O_RELOAD], vlen[O_RELOAD], &s->reload_ns, err, errlen);
		if (rc)
			return rc;
	}
	return WEIR_OK;
}

void enrich_spec_free(struct enrich_spec *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < s->nfields && i < ENRICH_MAX_FIELDS; i++) {
		free(s->f[i].src);
		free(s->f[i].out);
	}
	free(s->source);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

int enrich_spec_clash(const struct enrich_spec *a, const struct enrich_spec *b,
		      char *err, size_t errlen)
{
	for (unsigned i = 0; i < a->nfields; i++)
		for (unsigned j = 0; j < b->nfields; j++)
			if (strcmp(a->f[i].out, b->f[j].out) == 0)
				return prog_fail(err, errlen, "output name '%s' is given by two --enrich options",
						 a->f[i].out);
	return WEIR_OK;
}

size_t enrich_csv_header(const struct enrich_spec *s, char *out, size_t cap)
{
	struct wr w;

	wr_init(&w, out, cap);
	for (unsigned i = 0; i < s->nfields; i++) {
		wr_u8(&w, ',');
		wr_bytes(&w, s->f[i].out, strlen(s->f[i].out));
	}
	return w.err ? SIZE_MAX : w.off;
}
