/* Unit tests of the common CSV writer (common/flow_csv.c): the documented
 * column order, the same names and values as the common JSON, empty cells
 * where the has bit is clear, caps, and rows that a real CSV parser
 * (libcsv, strict) reads back cell for cell. */
#include <criterion/criterion.h>
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "flow_csv.h"
#include "flow_json.h"
#include "ipfix.h"

#define NCOL 37

/* The order docs/formats.md documents. */
static const char *const cols[NCOL] = {
	"type", "time_received_ns", "sequence_num", "sampling_rate", "sampler_address",
	"observation_domain_id", "time_flow_start_ns", "time_flow_end_ns", "bytes", "packets",
	"src_addr", "dst_addr", "etype", "proto", "src_port", "dst_port", "in_if", "out_if",
	"src_mac", "dst_mac", "vlan_id", "dst_vlan_id", "ip_tos", "ip_ttl", "tcp_flags",
	"icmp_type", "icmp_code", "src_as", "dst_as", "next_hop", "bgp_next_hop", "src_net",
	"dst_net", "flow_direction", "ipv6_flow_label", "fragment_offset", "ip_flags",
};

/* Which has bit gates each column (0: always written). */
static const uint64_t gate[NCOL] = {
	0, 0, 0, 0, FLOW_HAS_SAMPLER,
	0, FLOW_HAS_TIME_START, FLOW_HAS_TIME_END, FLOW_HAS_BYTES, FLOW_HAS_PACKETS,
	FLOW_HAS_SRC_ADDR, FLOW_HAS_DST_ADDR, FLOW_HAS_ETYPE, FLOW_HAS_PROTO, FLOW_HAS_SRC_PORT,
	FLOW_HAS_DST_PORT, FLOW_HAS_IN_IF, FLOW_HAS_OUT_IF,
	FLOW_HAS_SRC_MAC, FLOW_HAS_DST_MAC, FLOW_HAS_VLAN, FLOW_HAS_DST_VLAN, FLOW_HAS_TOS,
	FLOW_HAS_TTL, FLOW_HAS_TCP_FLAGS,
	FLOW_HAS_ICMP, FLOW_HAS_ICMP, FLOW_HAS_SRC_AS, FLOW_HAS_DST_AS, FLOW_HAS_NEXT_HOP,
	FLOW_HAS_BGP_NEXT_HOP, FLOW_HAS_SRC_NET,
	FLOW_HAS_DST_NET, FLOW_HAS_DIRECTION, FLOW_HAS_FLOW_LABEL, FLOW_HAS_FRAG, FLOW_HAS_FRAG,
};

#define ALL_HAS ((FLOW_HAS_SAMPLER << 1) - 1)

/* ---- libcsv: rows of cells ---------------------------------------------- */

#define MAXROWS 64
#define MAXCELL 64

struct table {
	size_t nrows;
	size_t ncells[MAXROWS];
	char cell[MAXROWS][NCOL + 4][MAXCELL];
	int quoted;		/* a cell the parser had to unquote */
	int overflow;
};

static void on_cell(void *s, size_t len, void *data)
{
	struct table *t = data;
	size_t r = t->nrows, c;

	if (r >= MAXROWS) {
		t->overflow = 1;
		return;
	}
	c = t->ncells[r]++;
	if (c >= NCOL + 4 || len >= MAXCELL) {
		t->overflow = 1;
		return;
	}
	memcpy(t->cell[r][c], s, len);
	t->cell[r][c][len] = '\0';
}

static void on_row(int c, void *data)
{
	struct table *t = data;

	(void)c;
	t->nrows++;
}

static void parse(struct table *t, const char *buf, size_t len)
{
	struct csv_parser p;

	memset(t, 0, sizeof(*t));
	cr_assert_eq(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL), 0);
	cr_assert_eq(csv_parse(&p, buf, len, on_cell, on_row, t), len, "%s",
		     csv_strerror(csv_error(&p)));
	cr_assert_eq(csv_fini(&p, on_cell, on_row, t), 0);
	csv_free(&p);
	cr_assert_not(t->overflow);
	t->quoted = memchr(buf, '"', len) != NULL;
}

/* ---- the common JSON of the same flow, as key/value pairs --------------- */

struct kv {
	size_t n;
	char k[NCOL + 4][32];
	char v[NCOL + 4][64];
};

/* flow_json() writes a flat object of numbers and unescaped strings. */
static void json_pairs(const struct flow *f, struct kv *kv)
{
	char buf[FLOW_JSON_MAX];
	size_t n = flow_json(f, buf, sizeof(buf));
	const char *p = buf + 1, *e;

	cr_assert_gt(n, 0);
	buf[n] = '\0';
	memset(kv, 0, sizeof(*kv));
	while (*p == '"') {
		cr_assert_lt(kv->n, NCOL + 4);
		e = strchr(p + 1, '"');
		memcpy(kv->k[kv->n], p + 1, (size_t)(e - p - 1));
		p = e + 2;		/* '":' */
		if (*p == '"') {
			e = strchr(p + 1, '"');
			memcpy(kv->v[kv->n], p + 1, (size_t)(e - p - 1));
			p = e + 1;
		} else {
			e = p + strcspn(p, ",}");
			memcpy(kv->v[kv->n], p, (size_t)(e - p));
			p = e;
		}
		kv->n++;
		if (*p == ',')
			p++;
	}
	cr_assert_eq(*p, '}', "%s", buf);
}

/* ---- flows ---------------------------------------------------------------- */

static void full_flow(struct flow *f)
{
	static const uint8_t sm[6] = { 0x00, 0x1b, 0x21, 0xaa, 0xbf, 0x0e };
	static const uint8_t dm[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	flow_clear(f);
	f->has = ALL_HAS;
	f->type = WEIR_PROTO_IPFIX;
	f->time_received_ns = 1700000000123456789ull;
	f->sequence_num = 4294967295u;
	f->sampling_rate = 1000;
	weir_addr_parse(&f->sampler_address, "192.0.2.1");
	f->observation_domain_id = 17;
	f->time_flow_start_ns = 1700000000000000000ull;
	f->time_flow_end_ns = 1700000001000000000ull;
	f->bytes = 18446744073709551615ull;
	f->packets = 12;
	weir_addr_parse(&f->src_addr, "2001:db8::1");
	weir_addr_parse(&f->dst_addr, "2001:db8:0:1::ff");
	f->etype = 0x86dd;
	f->proto = 6;
	f->src_port = 51515;
	f->dst_port = 443;
	f->in_if = 7;
	f->out_if = 8;
	memcpy(f->src_mac, sm, 6);
	memcpy(f->dst_mac, dm, 6);
	f->vlan_id = 100;
	f->dst_vlan_id = 4094;
	f->ip_tos = 0xb8;
	f->ip_ttl = 64;
	f->tcp_flags = 0x1ff;
	f->icmp_type = 0;
	f->icmp_code = 0;
	f->src_as = 4200000000u;
	f->dst_as = 65001;
	weir_addr_parse(&f->next_hop, "10.0.0.254");
	weir_addr_parse(&f->bgp_next_hop, "fe80::1");
	f->src_net = 48;
	f->dst_net = 64;
	f->flow_direction = 1;
	f->ipv6_flow_label = 0xfffff;
	f->fragment_offset = 0;
	f->ip_flags = 0x40;
}

static size_t row(const struct flow *f, char *buf, size_t cap)
{
	size_t n = flow_csv(f, buf, cap);

	cr_assert_gt(n, 0);
	cr_assert_eq(buf[n - 1], '\n');
	return n;
}

/* ---- tests ------------------------------------------------------------------ */

Test(flow_csv, header_is_the_documented_order)
{
	char buf[1024];
	struct table t;
	size_t n = flow_csv_header(buf, sizeof(buf));

	cr_assert_gt(n, 0);
	cr_assert_eq(buf[n - 1], '\n');
	parse(&t, buf, n);
	cr_assert_eq(t.nrows, 1);
	cr_assert_eq(t.ncells[0], NCOL);
	for (size_t i = 0; i < NCOL; i++)
		cr_expect_str_eq(t.cell[0][i], cols[i], "column %zu", i);
	for (size_t cap = 0; cap < n; cap++) {
		memset(buf, 0x5a, sizeof(buf));
		cr_assert_eq(flow_csv_header(buf, cap), 0);
		cr_assert_eq((unsigned char)buf[cap], 0x5a, "cap %zu", cap);
	}
}

/* Same names, same order, same values as the common JSON of the flow. */
Test(flow_csv, names_and_values_equal_the_common_json)
{
	char buf[FLOW_CSV_MAX], hdr[1024];
	struct flow f;
	struct table th, tr;
	struct kv kv;
	size_t n;

	full_flow(&f);
	n = flow_csv_header(hdr, sizeof(hdr));
	parse(&th, hdr, n);
	n = row(&f, buf, sizeof(buf));
	parse(&tr, buf, n);
	json_pairs(&f, &kv);
	cr_assert_eq(tr.nrows, 1);
	cr_assert_eq(tr.ncells[0], NCOL);
	cr_assert_eq(kv.n, NCOL, "every JSON key present with every has bit");
	for (size_t i = 0; i < NCOL; i++) {
		cr_expect_str_eq(th.cell[0][i], kv.k[i], "column %zu", i);
		cr_expect_str_eq(tr.cell[0][i], kv.v[i], "column %s", kv.k[i]);
	}
	cr_expect_str_eq(tr.cell[0][0], "IPFIX");
	cr_expect_str_eq(tr.cell[0][8], "18446744073709551615");
	cr_expect_str_eq(tr.cell[0][10], "2001:db8::1");
	cr_expect_str_eq(tr.cell[0][18], "00:1b:21:aa:bf:0e");
	cr_expect_str_eq(tr.cell[0][29], "10.0.0.254");
	cr_expect_not(tr.quoted, "no cell needs quoting");
}

/* An empty cell exactly where the has bit is clear; the always-written
 * columns never empty. */
Test(flow_csv, empty_cells_follow_has_bits)
{
	char buf[FLOW_CSV_MAX];
	struct flow f;
	struct table t;

	for (int b = -1; b < 30; b++) {
		uint64_t has = b < 0 ? 0 : 1ull << b;
		size_t n;

		full_flow(&f);
		f.has = has;
		n = row(&f, buf, sizeof(buf));
		parse(&t, buf, n);
		cr_assert_eq(t.nrows, 1);
		cr_assert_eq(t.ncells[0], NCOL, "bit %d", b);
		for (size_t i = 0; i < NCOL; i++) {
			int want = gate[i] == 0 || (gate[i] & has);

			cr_expect_eq(t.cell[0][i][0] != '\0', want, "bit %d column %s: '%s'", b,
				     cols[i], t.cell[0][i]);
		}
	}
	/* No has bit: only the header facts of the message. */
	full_flow(&f);
	f.has = 0;
	f.type = WEIR_PROTO_SFLOW;
	cr_assert_eq(flow_csv(&f, buf, sizeof(buf)), 79);
	cr_expect_eq(memcmp(buf, "SFLOW_5,1700000000123456789,4294967295,1000,,17,,,", 50), 0,
		     "%.79s", buf);
}

Test(flow_csv, caps_below_the_length_write_nothing_past_cap)
{
	char want[FLOW_CSV_MAX], buf[FLOW_CSV_MAX + 64];
	struct flow f;
	size_t n;

	full_flow(&f);
	n = row(&f, want, sizeof(want));
	for (size_t cap = 0; cap < n; cap++) {
		memset(buf, 0x5a, sizeof(buf));
		cr_assert_eq(flow_csv(&f, buf, cap), 0, "cap %zu", cap);
		for (size_t k = cap; k < cap + 64; k++)
			cr_assert_eq((unsigned char)buf[k], 0x5a, "byte %zu, cap %zu", k, cap);
	}
	cr_assert_eq(flow_csv(&f, buf, n), n);
	cr_assert_eq(memcmp(buf, want, n), 0);
	cr_assert_leq(n, FLOW_CSV_MAX);
}

/* The longest row fits FLOW_CSV_MAX: every address a full-length IPv6
 * one, every number at its widest. */
Test(flow_csv, longest_row_fits)
{
	char buf[FLOW_CSV_MAX];
	struct flow f;
	size_t n;

	full_flow(&f);
	memset(&f, 0xff, sizeof(f));
	f.has = ALL_HAS;
	f.type = 0;
	weir_addr_parse(&f.src_addr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	f.dst_addr = f.next_hop = f.bgp_next_hop = f.sampler_address = f.src_addr;
	n = flow_csv(&f, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_expect_eq(memcmp(buf, "UNKNOWN,18446744073709551615,", 29), 0);
}

/* Flows normalized from real exporter payloads: each row has as many
 * cells as the header and agrees with the common JSON. */
struct vend {
	size_t rows;
};

static int vend_rec(const struct weir_record *rec, void *user)
{
	struct vend *v = user;
	char buf[FLOW_CSV_MAX];
	struct table t;
	struct flow f;
	struct kv kv;
	size_t n;

	if (flow_from_record(rec, &f) != WEIR_OK)
		return 0;
	n = row(&f, buf, sizeof(buf));
	parse(&t, buf, n);
	json_pairs(&f, &kv);
	cr_assert_eq(t.ncells[0], NCOL);
	for (size_t i = 0, k = 0; i < NCOL; i++) {
		if (!t.cell[0][i][0])
			continue;
		cr_assert_lt(k, kv.n);
		cr_expect_str_eq(kv.k[k], cols[i]);
		cr_expect_str_eq(kv.v[k], t.cell[0][i]);
		k++;
	}
	v->rows++;
	return 0;
}

Test(flow_csv, rows_from_vendor_payloads)
{
	static const char *const files[] = {
		"netflow9_test_cisco_asr9k_tpl260.dat", "netflow9_test_cisco_asr9k_data260.dat",
		"ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat",
		"netflow5_test_juniper_mx80.dat",
	};
	static uint8_t buf[65536];
	const char *shared = getenv("WEIR_SHARED");
	struct tmpl_limits lim;
	struct weir_ctx ctx;
	struct weir_exporter e;
	struct vend v = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	weir_addr_parse(&e.addr, "2001:db8::77");
	e.port = 2055;
	tmpl_limits_default(&lim);
	ctx.cache = tmpl_cache_new(&lim, NULL);
	ctx.on_record = vend_rec;
	ctx.user = &v;
	for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		char path[1024];
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "%s/testdata/vendor-payloads/%s",
			 shared ? shared : "../shared", files[k]);
		fp = fopen(path, "rb");
		if (!fp)
			cr_skip_test("vendor payload %s absent", files[k]);
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		weir_decode(&ctx, &e, buf, n, 1700000000000000000ull);
	}
	cr_expect_gt(v.rows, 40, "rows: %zu", v.rows);
	tmpl_cache_free(ctx.cache);
}

/* A caller's cells (struct flow_extra) go before the newline, as the
 * formatter writes the row; a row they do not fit is 0. */
static size_t two_cells(void *arg, char *out, size_t cap)
{
	(void)arg;
	if (cap < 9)
		return SIZE_MAX;
	memcpy(out, ",64500,x", 8);
	return 8;
}

Test(flow_csv, extra_cells_before_the_newline)
{
	char want[FLOW_CSV_MAX], buf[FLOW_CSV_MAX + 64];
	struct flow_extra x = { two_cells, NULL };
	struct flow f;
	size_t n, m;

	full_flow(&f);
	n = flow_csv(&f, want, sizeof(want));
	m = flow_csv_x(&f, buf, sizeof(buf), &x);
	cr_assert_eq(m, n + 8);
	cr_assert_eq(memcmp(buf, want, n - 1), 0);
	cr_assert_eq(memcmp(buf + n - 1, ",64500,x\n", 9), 0, "%.*s", (int)m, buf);
	for (size_t cap = 0; cap < m; cap++)
		cr_assert_eq(flow_csv_x(&f, buf, cap, &x), 0, "cap %zu", cap);
}
