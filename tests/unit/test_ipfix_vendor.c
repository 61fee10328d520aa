/* Unit tests of the IPFIX decoder (common/ipfix.c) on real exporter
 * payloads (../shared/testdata/vendor-payloads): expected values as
 * Wireshark's decoder shows them (tshark -V -d udp.port==4739,cflow).
 * Split from test_ipfix.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "ipfix.h"
#include "ipfix_list.h"
#include "rd.h"
#include "rec_json.h"
#include "tmpl.h"

#include "ipfixhelp.h"

/* ---- real exporter payloads; expected values as tshark -V shows them ---- */

/* Decode one payload file; returns the error, *added the records it gave. */
static int feed(struct fx *f, const char *name, size_t *added)
{
	static uint8_t buf[VENDOR_MAX];
	size_t before = f->lg->n, n = VENDOR(name, buf);
	int err = dec(f, buf, n);

	if (added)
		*added = f->lg->n - before;
	return err;
}

static void expect_v4(const struct weir_addr *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	char s[64];

	cr_expect(v4eq(a, x, y, z, w), "address %s, want %u.%u.%u.%u", weir_addr_str(a, s, sizeof(s)),
		  x, y, z, w);
}

Test(ipfix_vendor, mikrotik)
{
	struct fx f;
	size_t n;
	const struct rec_copy *r;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(n, 0);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 2);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_data258.dat", &n), WEIR_OK);
	cr_assert_eq(n, 28);
	r = &f.lg->r[0];
	cr_expect_eq(r->tid, 258);
	expect_v4(&r->fl.src_addr, 10, 10, 8, 197);
	expect_v4(&r->fl.dst_addr, 192, 168, 128, 17);
	expect_v4(&r->fl.next_hop, 192, 168, 224, 1);
	cr_expect_eq(r->fl.src_port, 123);
	cr_expect_eq(r->fl.dst_port, 123);
	cr_expect_eq(r->fl.in_if, 13);
	cr_expect_eq(r->fl.out_if, 7);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.packets, 2);
	cr_expect_eq(r->fl.bytes, 152);
	cr_expect_eq(fu(r, 0, 225), 0xc0a8e6d8u);	/* postNATSourceIPv4Address 192.168.230.216 */
	cr_expect_eq(r->export_time, 1500481088);
	cr_expect_eq(r->sequence, 3936);
	cr_assert_eq(feed(&f, "ipfix_test_mikrotik_data259.dat", &n), WEIR_OK);
	cr_expect_eq(n, 18);
	cr_expect_eq(f.lg->r[28].tid, 259);
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0);
	fx_fini(&f);
}

/* Variable-length strings, a 602-byte one with the 3-byte prefix, and a set
 * whose template this capture never had. */
Test(ipfix_vendor, netscaler)
{
	struct fx f;
	size_t n;
	uint32_t len;
	const uint8_t *p;
	const struct rec_copy *r;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_netscaler_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 7);
	cr_assert_eq(feed(&f, "ipfix_test_netscaler_data.dat", &n), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(n, 3);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 1);
	r = &f.lg->r[0];
	cr_expect_eq(r->tid, 258);
	expect_v4(&r->fl.src_addr, 192, 168, 0, 1);
	expect_v4(&r->fl.dst_addr, 10, 0, 0, 1);
	cr_expect_eq(r->fl.src_port, 51053);
	cr_expect_eq(r->fl.dst_port, 443);
	cr_expect_eq(r->fl.packets, 1);
	cr_expect_eq(r->fl.bytes, 40);
	fv(r, 5951, 131, &len);		/* HTTP Request Cookie: one NUL */
	cr_expect_eq(len, 1);
	cr_expect_eq(f.lg->r[1].tid, 257);
	cr_expect_eq(f.lg->r[1].fl.bytes, 1525);
	r = &f.lg->r[2];
	cr_expect_eq(r->fl.bytes, 1541);
	fv(r, 5951, 131, &len);
	cr_expect_eq(len, 602);
	p = fv(r, 5951, 130, &len);	/* HTTP Request URL */
	cr_expect_eq(len, 39);
	cr_expect_eq(memcmp(p, "/aa/bb/ccccc/", 13), 0);
	p = fv(r, 5951, 141, &len);	/* HTTP Request Method */
	cr_expect_eq(len, 4);
	cr_expect_eq(memcmp(p, "GET", 4), 0);
	fx_fini(&f);
}

/* Three messages in one file: framed with ipfix_msg_length(). */
Test(ipfix_vendor, plain_stream_of_three)
{
	static uint8_t buf[VENDOR_MAX];
	static const size_t want_len[3] = { 484, 64, 240 }, want_rec[3] = { 7, 1, 5 };
	size_t n = VENDOR("ipfix.dat", buf), off = 0, k = 0;
	const struct rec_copy *r;
	struct fx f;

	fx_init(&f, 1);
	while (off < n) {
		size_t ml = 0, before = f.lg->n;

		cr_assert_lt(k, 3);
		cr_assert_eq(ipfix_msg_length(buf + off, n - off, &ml), WEIR_OK);
		cr_expect_eq(ml, want_len[k]);
		cr_assert_eq(dec(&f, buf + off, ml), WEIR_OK);
		cr_expect_eq(f.lg->n - before, want_rec[k], "message %zu", k);
		off += ml;
		k++;
	}
	cr_expect_eq(k, 3);
	r = &f.lg->r[0];
	cr_expect(r->is_options);
	cr_expect_eq(fu(r, 0, 143), 2679);	/* meteringProcessId */
	cr_expect_eq(r->sampling_rate, 1);	/* interval 1, space 0 */
	r = &f.lg->r[1];
	cr_expect_eq(r->tid, 1024);
	cr_expect_eq(r->sampling_rate, 1);
	expect_v4(&r->fl.src_addr, 192, 168, 253, 1);
	expect_v4(&r->fl.dst_addr, 192, 168, 253, 128);
	cr_expect_eq(r->fl.bytes, 260);
	cr_expect_eq(r->fl.packets, 5);
	cr_expect_eq(r->fl.src_port, 60560);
	cr_expect_eq(r->fl.dst_port, 22);
	cr_expect_eq(r->fl.proto, 6);
	cr_expect_eq(r->fl.tcp_flags, 0x10);
	r = &f.lg->r[7];
	expect_v4(&r->fl.src_addr, 192, 168, 253, 130);
	expect_v4(&r->fl.dst_addr, 10, 4, 36, 64);
	cr_expect_eq(r->fl.dst_port, 9200);
	cr_expect_eq(r->fl.tcp_flags, 0x02);
	cr_expect_eq(f.lg->r[8].fl.bytes, 256);
	cr_expect_eq(ipfix_msg_length(buf, 10, &off), WEIR_E_TRUNCATED);
	cr_expect_eq(ipfix_msg_length(buf, 100, &off), WEIR_E_TRUNCATED);

	/* The whole file as one datagram: bytes past the first message are
	 * ignored. */
	fx_fini(&f);
	fx_init(&f, 1);
	cr_expect_eq(dec(&f, buf, n), WEIR_OK);
	cr_expect_eq(f.lg->n, 7);
	fx_fini(&f);
}

Test(ipfix_vendor, barracuda)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 8);
	r = &f.lg->r[0];
	cr_expect_eq(r->fl.in_if, 48660);
	cr_expect_eq(r->fl.out_if, 26092);
	cr_expect_eq(r->fl.proto, 17);
	expect_v4(&r->fl.src_addr, 10, 99, 130, 239);
	expect_v4(&r->fl.dst_addr, 10, 99, 252, 50);
	cr_expect_eq(r->fl.src_port, 65105);
	cr_expect_eq(r->fl.dst_port, 53);
	cr_expect_eq(fu(r, 0, 85), 65);		/* octetTotalCount */
	cr_expect_eq(fu(&f.lg->r[1], 0, 85), 81);
	fx_fini(&f);
}

Test(ipfix_vendor, barracuda_extended_uniflow)
{
	const struct rec_copy *r;
	const uint8_t *p;
	uint32_t len;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_extended_uniflow_tpl256.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_barracuda_extended_uniflow_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 2);
	r = &f.lg->r[0];
	cr_expect_eq(r->fl.in_if, 35233);
	cr_expect_eq(r->fl.out_if, 3689);
	cr_expect_eq(r->fl.proto, 6);
	expect_v4(&r->fl.src_addr, 10, 236, 5, 4);
	expect_v4(&r->fl.dst_addr, 64, 235, 151, 76);
	cr_expect_eq(r->fl.src_port, 51917);
	cr_expect_eq(r->fl.dst_port, 443);
	p = fv(r, 10704, 4, &len);		/* FW Rule */
	cr_assert_not_null(p);
	cr_expect_eq(len, 18);
	cr_expect_eq(memcmp(p, "MTH:MTH-MC-to-Inet", 18), 0);
	cr_expect_eq(f.lg->r[1].fl.src_port, 443);
	fx_fini(&f);
}

Test(ipfix_vendor, ixia_two_domains)
{
	const struct rec_copy *r;
	uint32_t len;
	const uint8_t *p;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_ixia_tpldata256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	cr_expect_eq(r->domain, 0);
	cr_expect_eq(r->fl.bytes, 360);
	cr_expect_eq(r->fl.packets, 4);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.src_port, 51695);
	cr_expect_eq(r->fl.dst_port, 36197);
	expect_v4(&r->fl.src_addr, 119, 103, 128, 175);
	expect_v4(&r->fl.dst_addr, 202, 170, 60, 247);
	cr_expect_eq(r->fl.src_as, 4134);
	cr_expect_eq(r->fl.dst_as, 24090);
	cr_expect_eq(r->fl.in_if, 1);
	p = fv(r, 3054, 111, &len);		/* L7 Application Name */
	cr_assert_not_null(p);
	cr_expect_eq(len, 7);
	cr_expect_eq(memcmp(p, "unknown", 7), 0);
	p = fv(r, 3054, 186, &len);		/* Source AS Name */
	cr_assert_not_null(p);
	cr_expect_eq(len, 43);
	cr_expect_eq(memcmp(p, "CHINANET-BACKBONE", 17), 0);
	cr_assert_eq(feed(&f, "ipfix_test_ixia_tpldata271.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[1].domain, 1);
	cr_expect_eq(f.lg->r[1].tid, 271);
	cr_expect_not_null(fx_src(&f, 1));
	fx_fini(&f);
}

/* Options data with samplingInterval 1000: the source learns it. */
Test(ipfix_vendor, juniper_sampling_options)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_juniper_mx240_junos151r6s3_data512.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	cr_expect(r->is_options);
	cr_expect_eq(r->domain, 524288);
	cr_expect_eq(r->sampling_rate, 1000);
	cr_expect_eq(fu(r, 0, 34), 1000);
	cr_expect_eq(fu(r, 0, 41), 76);		/* exportedMessageTotalCount */
	cr_expect_eq(fu(r, 0, 130), 0x0a000001u);	/* exporterIPv4Address */
	cr_expect_eq(tmpl_sampler_get(fx_src(&f, 524288), 0), 1000);
	fx_fini(&f);
}

Test(ipfix_vendor, nokia_openbsd_procera_viptela)
{
	const struct rec_copy *r;
	const uint8_t *p;
	uint32_t len;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_nokia_bras_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_nokia_bras_data256.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[f.lg->n - 1];
	cr_expect_eq(r->domain, 2228226);
	expect_v4(&r->fl.src_addr, 10, 0, 1, 228);
	expect_v4(&r->fl.dst_addr, 10, 0, 0, 34);
	cr_expect_eq(r->fl.src_port, 5878);
	cr_expect_eq(r->fl.dst_port, 80);
	cr_expect_eq(r->fl.proto, 6);

	cr_assert_eq(feed(&f, "ipfix_test_openbsd_pflow_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_openbsd_pflow_data.dat", &n), WEIR_OK);
	cr_assert_eq(n, 26);
	r = &f.lg->r[f.lg->n - 26];
	cr_expect_eq(r->domain, 42);
	expect_v4(&r->fl.src_addr, 192, 168, 0, 17);
	expect_v4(&r->fl.dst_addr, 192, 168, 0, 1);
	cr_expect_eq(r->fl.packets, 7);
	cr_expect_eq(r->fl.bytes, 373);
	cr_expect_eq(r->fl.src_port, 64020);
	cr_expect_eq(r->fl.dst_port, 80);
	cr_expect_eq(f.lg->r[f.lg->n - 25].fl.bytes, 6634);

	cr_assert_eq(feed(&f, "ipfix_test_procera_tpl52935.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_procera_data52935.dat", &n), WEIR_OK);
	cr_assert_eq(n, 8);
	r = &f.lg->r[f.lg->n - 8];
	cr_expect_eq(r->tid, 52935);
	cr_expect_eq(r->domain, 2875616939u);
	/* The template has IPv4 and (zero) IPv6 addresses both: check the wire
	 * values, which the normalized flow may take either of. */
	cr_expect_eq(fu(r, 0, 8), 0xb5d65747u);	/* 181.214.87.71 */
	cr_expect_eq(fu(r, 0, 12), 0x8a2ca10eu);	/* 138.44.161.14 */
	cr_expect_eq(r->fl.src_port, 53787);
	cr_expect_eq(r->fl.dst_port, 47838);
	cr_expect_eq(r->fl.src_as, 7575);
	p = fv(r, 15397, 1, &len);
	cr_assert_not_null(p);
	cr_expect_eq(len, 14);
	cr_expect_eq(memcmp(p, "Being analyzed", 14), 0);

	cr_assert_eq(feed(&f, "ipfix_test_viptela_tpl257.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_viptela_data257.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[f.lg->n - 1];
	expect_v4(&r->fl.src_addr, 10, 113, 7, 54);
	expect_v4(&r->fl.dst_addr, 172, 16, 21, 27);
	cr_expect_eq(r->fl.dst_port, 443);
	cr_expect_eq(r->fl.src_port, 41717);
	cr_expect_eq(r->fl.bytes, 775);
	cr_expect_eq(r->fl.packets, 8);
	cr_expect_eq(r->fl.in_if, 11);
	cr_expect_eq(r->fl.out_if, 3);
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0, "%s", weir_errname(-i));
	fx_fini(&f);
}

Test(ipfix_vendor, vmware_vds)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_tpl.dat", &n), WEIR_OK);
	cr_expect_eq(tmpl_cache_stats(f.c)->templates, 13);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data264.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	expect_v4(&r->fl.src_addr, 172, 18, 65, 21);
	expect_v4(&r->fl.dst_addr, 172, 18, 65, 211);
	cr_expect_eq(r->fl.bytes, 100);
	cr_expect_eq(r->fl.packets, 2);
	cr_expect_eq(r->fl.src_port, 61209);
	cr_expect_eq(r->fl.dst_port, 5985);
	cr_expect_eq(r->fl.in_if, 3);
	cr_expect_eq(r->fl.out_if, 11);
	cr_expect_eq(r->fl.time_flow_start_ns, 1482409057000000000ull);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data266.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[2].fl.in_if, 3);
	cr_assert_eq(feed(&f, "ipfix_test_vmware_vds_data266_267.dat", &n), WEIR_OK);
	cr_expect_eq(n, 2);
	cr_expect_eq(f.lg->r[3].tid, 266);
	cr_expect_eq(f.lg->r[4].tid, 267);
	fx_fini(&f);
}

/* YAF: options templates, reverse elements, and a subTemplateMultiList in
 * every flow record (the lists themselves: test_ipfix_list.c). */
Test(ipfix_vendor, yaf)
{
	const struct rec_copy *r;
	struct fx f;
	size_t n;

	fx_init(&f, 1);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_tpls_option_tpl.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_tpl45841.dat", &n), WEIR_OK);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data45841.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[0];
	expect_v4(&r->fl.src_addr, 172, 16, 32, 201);
	expect_v4(&r->fl.dst_addr, 172, 16, 32, 100);
	cr_expect_eq(r->fl.src_port, 46086);
	cr_expect_eq(r->fl.dst_port, 53);
	cr_expect_eq(r->fl.proto, 17);
	cr_expect_eq(r->fl.bytes, 132);
	cr_expect_eq(fu(r, IE_PEN_REVERSE, 85), 200);
	cr_expect_eq(r->fl.time_flow_start_ns, 1482670715818000000ull);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data45873.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[1];
	cr_expect_eq(fu(r, 0, 184), 340533701u);	/* tcpSequenceNumber */
	cr_expect_eq(fu(r, IE_PEN_REVERSE, 184), 3788795034u);
	cr_assert_eq(feed(&f, "ipfix_test_yaf_data53248.dat", &n), WEIR_OK);
	cr_assert_eq(n, 1);
	r = &f.lg->r[2];
	cr_expect(r->is_options);
	cr_expect_eq(fu(r, 0, 86), 1960);		/* packetTotalCount */
	cr_expect_eq(fu(r, 0, 164), 58);		/* ignoredPacketTotalCount */
	for (int i = 1; i < WEIR_E_MAX; i++)
		cr_expect_eq(f.ctx.errors[i], 0, "%s", weir_errname(-i));
	fx_fini(&f);
}
