/* Unit tests of the NetFlow v9 decoder (common/wire/nf9.c) on real exporter
 * payloads (../shared/testdata/vendor-payloads; values checked with tshark
 * -d udp.port==2055,cflow), whole and cut at every length. Split from
 * test_nf9.c. */
#include <criterion/criterion.h>

#include "decode.h"
#include "flow.h"
#include "ie.h"
#include "nf9.h"
#include "tmpl.h"
#include "nf9help.h"

/* ---- vendor payloads (values checked with tshark -d udp.port==2055,cflow) ---- */

struct vgroup {
	const char *name;
	const char *files[8];
	int rc[8];			/* decode result per file */
	size_t data, options;
};

static const struct vgroup vgroups[] = {
	{ "asr1001x", { "netflow9_cisco_asr1001x_tpl259.dat" }, { 0 }, 25, 0 },
	{ "0length", { "netflow9_test_0length_fields_tpl_data.dat" }, { 0 }, 10, 0 },
	{ "1941", { "netflow9_test_cisco_1941K9.dat" }, { 0 }, 29, 0 },
	{ "aci", { "netflow9_test_cisco_aci_tpl256-258.dat", "netflow9_test_cisco_aci_data256.dat" },
	  { 0, 0 }, 3, 0 },
	{ "asa1", { "netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat" },
	  { 0, 0 }, 14, 0 },
	{ "asa2", { "netflow9_test_cisco_asa_2_tpl_26x.dat", "netflow9_test_cisco_asa_2_tpl_27x.dat",
		    "netflow9_test_cisco_asa_2_data.dat" }, { 0, 0, 0 }, 19, 0 },
	{ "asr9k", { "netflow9_test_cisco_asr9k_opttpl256.dat", "netflow9_test_cisco_asr9k_opttpl257.dat",
		     "netflow9_test_cisco_asr9k_opttpl334.dat", "netflow9_test_cisco_asr9k_tpl260.dat",
		     "netflow9_test_cisco_asr9k_tpl266.dat", "netflow9_test_cisco_asr9k_data256.dat",
		     "netflow9_test_cisco_asr9k_data260.dat" }, { 0, 0, 0, 0, 0, 0, 0 }, 21, 19 },
	{ "nbar", { "netflow9_test_cisco_nbar_opttpl260.dat", "netflow9_test_cisco_nbar_tpl262.dat",
		    "netflow9_test_cisco_nbar_data262.dat" }, { 0, 0, 0 }, 5, 15 },
	{ "wlc", { "netflow9_test_cisco_wlc_tpl.dat", "netflow9_test_cisco_wlc_8510_tpl_262.dat",
		   "netflow9_test_cisco_wlc_data261.dat" }, { 0, 0, 0 }, 19, 0 },
	{ "l2seg", { "netflow9_test_field_layer2segmentid_tpl.dat",
		     "netflow9_test_field_layer2segmentid_data.dat" }, { 0, 0 }, 1, 0 },
	{ "forti521", { "netflow9_test_fortigate_fortios_521_tpl.dat",
			"netflow9_test_fortigate_fortios_521_data256.dat",
			"netflow9_test_fortigate_fortios_521_data257.dat" }, { 0, 0, 0 }, 1, 1 },
	{ "forti542", { "netflow9_test_fortigate_fortios_542_appid_tpl258-269.dat",
			"netflow9_test_fortigate_fortios_542_appid_data258_262.dat" }, { 0, 0 }, 17, 0 },
	{ "h3c", { "netflow9_test_h3c_tpl3281.dat", "netflow9_test_h3c_data3281.dat" }, { 0, 0 }, 16, 0 },
	{ "h3c varlen", { "netflow9_test_h3c_netstream_varstring_tpl3281.dat",
			  "netflow9_test_h3c_netstream_varstring_data3281.dat" }, { 0, 0 }, 1, 0 },
	{ "huawei", { "netflow9_test_huawei_netstream_tpl.dat",
		      "netflow9_test_huawei_netstream_data.dat" }, { 0, 0 }, 1, 0 },
	{ "ipt-netflow", { "netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat" }, { WEIR_E_NO_TEMPLATE }, 12, 0 },
	{ "srx", { "netflow9_test_juniper_srx_tplopt.dat" }, { 0 }, 0, 1 },
	{ "macaddr", { "netflow9_test_macaddr_tpl.dat", "netflow9_test_macaddr_data.dat" },
	  { 0, 0 }, 29, 1 },
	{ "nprobe", { "netflow9_test_nprobe_tpl.dat", "netflow9_test_nprobe_data.dat",
		      "netflow9_test_nprobe_dpi.dat" }, { 0, 0, 0 }, 2, 1 },
	{ "paloalto81", { "netflow9_test_paloalto_81_tpl256-263.dat",
			  "netflow9_test_paloalto_81_data257_1flowset_in_large_zerofilled_packet.dat" },
	  { 0, 0 }, 1, 0 },
	{ "panos", { "netflow9_test_paloalto_panos_tpl.dat", "netflow9_test_paloalto_panos_data.dat" },
	  { 0, 0 }, 8, 0 },
	{ "softflowd", { "netflow9_test_softflowd_tpl_data.dat" }, { 0 }, 7, 0 },
	{ "streamcore", { "netflow9_test_streamcore_tpl_data256.dat",
			  "netflow9_test_streamcore_tpl_data260.dat" }, { 0, 0 }, 4, 0 },
	{ "ubnt", { "netflow9_test_ubnt_edgerouter_tpl.dat", "netflow9_test_ubnt_edgerouter_data1024.dat",
		    "netflow9_test_ubnt_edgerouter_data1025.dat" }, { 0, 0, 0 }, 16, 0 },
	{ "unknown", { "netflow9_test_unknown_tpl266_292_data.dat" }, { 0 }, 2, 0 },
	{ "valid01", { "netflow9_test_valid01.dat" }, { 0 }, 7, 0 },
	/* invalid01: the header count says 2 for 6 flowsets of 6 records: its
	 * 2 flow records, softflowd's meaning of the count (a quirk, counted
	 * apart, not an error); everything else holds. */
	{ "invalid01", { "netflow9_test_invalid01.dat" }, { WEIR_OK }, 2, 1 },
};

/* Feed the files of group g through one cache; records into log. */
static void feed(const struct vgroup *g, struct tmpl_cache *c, struct rec_log *log)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	struct weir_exporter e = exp1();
	struct weir_ctx ctx;

	ctx_init(&ctx, log, c);
	for (unsigned k = 0; k < 8 && g->files[k]; k++) {
		size_t len = VENDOR(g->files[k], buf);
		/* exactly the payload's bytes, so ASan sees any overread */
		uint8_t *p = malloc(len);

		memcpy(p, buf, len);
		cr_assert_eq(nf9_decode(&ctx, &e, p, len, RECV_NS + k), g->rc[k], "%s: %s",
			     g->name, g->files[k]);
		free(p);
	}
	free(buf);
}

static const struct vgroup *vgroup(const char *name)
{
	for (size_t i = 0; i < sizeof(vgroups) / sizeof(vgroups[0]); i++)
		if (!strcmp(vgroups[i].name, name))
			return &vgroups[i];
	cr_assert_fail("no group %s", name);
	return NULL;
}

Test(nf9, vendor_record_counts)
{
	for (size_t i = 0; i < sizeof(vgroups) / sizeof(vgroups[0]); i++) {
		const struct vgroup *g = &vgroups[i];
		struct tmpl_cache *c = cache_new();
		struct rec_log log;

		log_init(&log, 64);
		feed(g, c, &log);
		cr_assert_eq(log.data, g->data, "%s: %zu data records", g->name, log.data);
		cr_assert_eq(log.options, g->options, "%s: %zu options records", g->name, log.options);
		for (size_t k = 0; k < log.n && k < log.cap; k++) {
			cr_assert_eq(log.r[k].proto, 9);
			if (!log.r[k].is_options)
				cr_assert_eq(log.r[k].flow_err, WEIR_OK, "%s rec %zu", g->name, k);
		}
		log_free(&log);
		tmpl_cache_free(c);
	}
}

/* Decodes group name into log (with its own cache). */
#define GROUP(name, log)					\
	struct tmpl_cache *c_ = cache_new();			\
	log_init(&(log), 64);					\
	feed(vgroup(name), c_, &(log))

#define GROUP_END(log)						\
	do {							\
		log_free(&(log));				\
		tmpl_cache_free(c_);				\
	} while (0)

Test(nf9, vendor_asr9k_options_and_data)
{
	struct rec_log log;
	const struct log_rec *r;
	const struct log_field *f;

	GROUP("asr9k", log);
	r = &log.r[0];
	cr_assert(r->is_options);
	cr_assert_eq(r->tid, 256);
	cr_assert_eq(r->scope_count, 1);
	cr_assert_eq(log_u(r, V9, NF9_SCOPE_SYSTEM), 0xc1c4be43);
	cr_assert_eq(log_u(r, 0, 10), 74);
	f = log_get(r, 0, 83);
	cr_assert_not_null(f);
	cr_assert_eq(f->len, 64);
	cr_assert_str_eq((const char *)f->b, "TenGigE0_0_1_0");
	r = &log.r[19];
	cr_assert_not(r->is_options);
	cr_assert_eq(r->tid, 260);
	cr_assert_eq(r->msg.domain, 2177);
	cr_assert_eq(r->flow.packets, 1);
	cr_assert_eq(r->flow.bytes, 40);
	cr_assert_eq(log_u(r, 0, 8), ip4(10, 0, 9, 146));
	cr_assert_eq(log_u(r, 0, 12), ip4(10, 0, 31, 81));
	cr_assert_eq(r->flow.in_if, 110);
	cr_assert_eq(r->flow.out_if, 158);
	cr_assert_eq(r->flow.src_port, 54017);
	cr_assert_eq(r->flow.dst_port, 443);
	cr_assert_eq(r->flow.dst_as, 64496);
	cr_assert_eq(log_u(r, 0, 18), ip4(10, 0, 14, 33));
	/* StartTime 1704740.613 s of uptime, header uptime 1704770.673 s */
	cr_assert_eq(r->flow.time_flow_start_ns, 1481018964ull * 1000000000 - 30060ull * 1000000);
	GROUP_END(log);
}

Test(nf9, vendor_nbar_options)
{
	struct rec_log log;
	const struct log_rec *r;

	GROUP("nbar", log);
	r = &log.r[0];
	cr_assert(r->is_options);
	cr_assert_eq(log_u(r, V9, NF9_SCOPE_SYSTEM), ip4(10, 15, 1, 115));
	cr_assert_eq(log_u(r, 0, 95), 0x01000008);
	cr_assert_str_eq((const char *)log_get(r, 0, 96)->b, "egp");
	r = &log.r[15];
	cr_assert_not(r->is_options);
	cr_assert_eq(log_u(r, 0, 8), ip4(10, 30, 18, 62));
	cr_assert_eq(log_u(r, 0, 12), ip4(10, 30, 19, 180));
	cr_assert_eq(log_u(r, 0, 95), 0x01000001);
	cr_assert_eq(r->flow.proto, 1);
	cr_assert_eq(r->flow.dst_port, 2048);
	cr_assert_eq(r->flow.src_net, 23);
	GROUP_END(log);
}

Test(nf9, vendor_h3c_and_varlen)
{
	struct rec_log log;
	const struct log_rec *r;
	const struct log_field *f;

	{
		GROUP("h3c", log);
		r = &log.r[0];
		cr_assert_eq(r->flow.packets, 697);
		cr_assert_eq(r->flow.bytes, 1027087);
		cr_assert_eq(log_u(r, 0, 8), ip4(10, 22, 166, 30));
		cr_assert_eq(log_u(r, 0, 12), ip4(10, 22, 163, 21));
		cr_assert_eq(log_u(r, 0, 15), ip4(10, 21, 25, 142));
		cr_assert_eq(r->flow.in_if, 2662);
		cr_assert_eq(r->flow.out_if, 1590);
		GROUP_END(log);
	}
	{
		/* field 236 of length 65535: a 0xff, 0x0001 prefix and 1 byte */
		GROUP("h3c varlen", log);
		r = &log.r[0];
		cr_assert_eq(r->flow.packets, 9);
		cr_assert_eq(r->flow.bytes, 702);
		cr_assert_eq(log_u(r, 0, 8), ip4(20, 20, 20, 20));
		cr_assert_eq(log_u(r, 0, 12), ip4(20, 20, 255, 255));
		cr_assert_eq(log_u(r, 0, 93), 0xffffffff);
		f = log_get(r, 0, 236);
		cr_assert_not_null(f);
		cr_assert_eq(f->len, 1);
		cr_assert_eq(f->b[0], 0);
		GROUP_END(log);
	}
}

Test(nf9, vendor_sampling_options)
{
	struct rec_log log;
	const struct log_rec *r;

	{
		/* FortiOS: interval 1 deterministic, learnt from options data */
		GROUP("forti521", log);
		r = &log.r[0];
		cr_assert(r->is_options);
		cr_assert_eq(log_u(r, V9, NF9_SCOPE_SYSTEM), 1);
		cr_assert_eq(log_u(r, 0, 40), 6871319015ull);
		cr_assert_eq(log_u(r, 0, 34), 1);
		cr_assert_eq(log_u(r, 0, 35), 1);
		r = &log.r[1];
		cr_assert_not(r->is_options);
		cr_assert_eq(r->sampling_rate, 1);
		cr_assert_eq(r->flow.bytes, 152);
		cr_assert_eq(r->flow.packets, 3);
		cr_assert_eq(r->flow.src_port, 61910);
		cr_assert_eq(r->flow.dst_port, 443);
		cr_assert_eq(r->flow.in_if, 9);
		cr_assert_eq(r->flow.out_if, 3);
		GROUP_END(log);
	}
	{
		/* Junos SRX: scope System of length 0, random 1:1 */
		GROUP("srx", log);
		r = &log.r[0];
		cr_assert_eq(log_get(r, V9, NF9_SCOPE_SYSTEM)->len, 0);
		cr_assert_eq(log_u(r, 0, 35), 2);
		cr_assert_eq(log_u(r, 0, 34), 1);
		GROUP_END(log);
	}
	{
		/* invalid01: scope Interface, interval 100 -> both data records */
		GROUP("invalid01", log);
		cr_assert(log.r[0].is_options);
		cr_assert_eq(log_u(&log.r[0], V9, NF9_SCOPE_INTERFACE), 0);
		cr_assert_eq(log_u(&log.r[0], 0, 34), 100);
		cr_assert_eq(log.r[1].sampling_rate, 100);
		cr_assert_eq(log.r[1].flow.etype, 0x86dd);
		cr_assert_eq(log.r[2].sampling_rate, 100);
		cr_assert_eq(log_u(&log.r[2], 0, 8), ip4(192, 168, 0, 1));
		cr_assert_eq(log_u(&log.r[2], 0, 12), ip4(192, 168, 0, 105));
		cr_assert_eq(log.r[2].flow.bytes, 98);
		cr_assert_eq(log.r[2].flow.dst_port, 55575);
		GROUP_END(log);
	}
}

Test(nf9, vendor_cisco_misc)
{
	struct rec_log log;
	const struct log_rec *r;

	{
		GROUP("wlc", log);
		r = &log.r[0];
		cr_assert_eq(r->tid, 261);
		cr_assert_eq(memcmp(log_get(r, 0, 365)->b, "\x34\x02\x86\x75\xc0\x51", 6), 0);
		cr_assert_eq(log_u(r, 0, 366), ip4(192, 168, 20, 121));
		cr_assert_eq(r->flow.bytes, 3320);
		cr_assert_eq(r->flow.packets, 83);
		cr_assert_str_eq((const char *)log_get(r, 0, 147)->b, "Test-env");
		GROUP_END(log);
	}
	{
		GROUP("asa1", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 148), 8500);
		cr_assert_eq(log_u(r, 0, 8), ip4(192, 168, 14, 1));
		cr_assert_eq(log_u(r, 0, 12), ip4(2, 2, 2, 11));
		cr_assert_eq(r->flow.in_if, 3);
		cr_assert_eq(r->flow.out_if, 2);
		cr_assert_eq(r->flow.proto, 1);
		GROUP_END(log);
	}
	{
		GROUP("1941", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(192, 168, 0, 111));
		cr_assert_eq(log_u(r, 0, 12), ip4(62, 217, 193, 1));
		cr_assert_eq(r->flow.in_if, 17);
		cr_assert_eq(r->flow.src_port, 37301);
		cr_assert_eq(r->flow.dst_port, 53);
		cr_assert_eq(r->flow.proto, 17);
		GROUP_END(log);
	}
	{
		GROUP("asr1001x", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(10, 111, 111, 242));
		cr_assert_eq(log_u(r, 0, 12), ip4(10, 12, 100, 13));
		cr_assert_eq(r->flow.src_port, 52444);
		cr_assert_eq(r->flow.dst_port, 53218);
		cr_assert_eq(r->flow.in_if, 4);
		cr_assert_eq(r->flow.out_if, 16);
		cr_assert_eq(log_u(r, 0, 15), ip4(10, 10, 5, 100));
		cr_assert_eq(r->flow.flow_direction, 1);
		GROUP_END(log);
	}
	{
		/* three flowsets of one 42-byte record and 2 bytes of padding,
		 * then 64 zero bytes after the template flowsets */
		GROUP("aci", log);
		for (unsigned k = 0; k < 3; k++) {
			r = &log.r[k];
			cr_assert_eq(r->flow.packets, 2);
			cr_assert_eq(r->flow.bytes, 99);
			cr_assert_eq(r->flow.tcp_flags, 0x18);
			cr_assert_eq(r->flow.src_port, 179);
		}
		GROUP_END(log);
	}
}

/* The host and firewall exporters of vendor_other_exporters. */
static void other_hosts(void)
{
	struct rec_log log;
	const struct log_rec *r;

	{
		GROUP("macaddr", log);
		cr_assert(log.r[0].is_options);
		cr_assert_eq(log_u(&log.r[0], 0, 42), 1);
		r = &log.r[1];
		cr_assert_eq(r->flow.proto, 6);
		cr_assert_eq(r->flow.src_port, 65058);
		cr_assert_eq(r->flow.dst_port, 22);
		cr_assert_eq(log_u(r, 0, 8), ip4(172, 16, 32, 1));
		cr_assert_eq(memcmp(r->flow.src_mac, "\x00\x50\x56\xc0\x00\x01", 6), 0);
		cr_assert_eq(memcmp(r->flow.dst_mac, "\x00\x0c\x29\x70\x86\x09", 6), 0);
		GROUP_END(log);
	}
	{
		/* zero-length fields (type 0, length 0) at the end of the records */
		GROUP("0length", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(239, 255, 255, 250));
		cr_assert_eq(log_u(r, 0, 12), ip4(192, 168, 1, 80));
		cr_assert_eq(r->flow.in_if, 3);
		cr_assert_eq(r->flow.out_if, 2);
		cr_assert_eq(log_get(r, 0, 0)->len, 0);
		cr_assert_eq(r->nfields, 21);
		GROUP_END(log);
	}
	{
		/* one flowset, then 1220 zero bytes */
		GROUP("paloalto81", log);
		r = &log.r[0];
		cr_assert_eq(r->flow.bytes, 363);
		cr_assert_eq(r->flow.packets, 3);
		cr_assert_eq(r->flow.tcp_flags, 0x5e);
		cr_assert_eq(r->flow.src_port, 88);
		cr_assert_eq(log_u(r, 0, 8), ip4(134, 220, 2, 6));
		/* a vendor type (>= 32768): pen IE_PEN_V9, id the type */
		cr_assert_str_eq((const char *)log_get(r, V9, 56701)->b, "kerberos");
		GROUP_END(log);
	}
	{
		GROUP("softflowd", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(172, 16, 32, 100));
		cr_assert_eq(r->flow.bytes, 76);
		cr_assert_eq(r->flow.src_port, 123);
		r = &log.r[6];
		cr_assert_eq(r->flow.etype, 0x86dd);
		cr_assert_eq(memcmp(log_get(r, 0, 27)->b,
				    "\xfe\x80\0\0\0\0\0\0\x02\x0c\x29\xff\xfe\x83\x3b\x6e", 16), 0);
		cr_assert_eq(r->flow.bytes, 672);
		cr_assert_eq(r->flow.packets, 7);
		GROUP_END(log);
	}
}

/* The routers and switches of vendor_other_exporters. */
static void other_routers(void)
{
	struct rec_log log;
	const struct log_rec *r;

	{
		GROUP("ubnt", log);
		r = &log.r[0];
		cr_assert_eq(r->tid, 1024);
		cr_assert_eq(r->flow.bytes, 174);
		cr_assert_eq(r->flow.packets, 2);
		cr_assert_eq(log_u(r, 0, 8), ip4(10, 1, 0, 135));
		cr_assert_eq(r->flow.src_port, 53);
		cr_assert_eq(r->flow.dst_port, 17232);
		GROUP_END(log);
	}
	{
		GROUP("unknown", log);
		cr_assert_eq(log_u(&log.r[0], 0, 8), ip4(192, 168, 0, 3));
		cr_assert_eq(log.r[0].flow.bytes, 78);
		cr_assert_eq(log_u(&log.r[1], 0, 8), ip4(192, 168, 0, 4));
		cr_assert_eq(log.r[1].flow.bytes, 232);
		cr_assert_eq(log.r[1].flow.out_if, 13);
		GROUP_END(log);
	}
	{
		GROUP("l2seg", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(192, 168, 200, 136));
		cr_assert_eq(r->flow.dst_port, 445);
		cr_assert_eq(r->flow.vlan_id, 3174);
		cr_assert_eq(r->flow.in_if, 7);
		GROUP_END(log);
	}
	{
		GROUP("forti542", log);
		r = &log.r[0];
		cr_assert_eq(r->tid, 262);
		cr_assert_eq(r->flow.bytes, 748);
		cr_assert_eq(r->flow.packets, 6);
		cr_assert_eq(r->flow.src_port, 45380);
		cr_assert_eq(r->flow.in_if, 8);
		GROUP_END(log);
	}
	{
		GROUP("huawei", log);
		r = &log.r[0];
		cr_assert_eq(log_u(r, 0, 8), ip4(10, 108, 219, 53));
		cr_assert_eq(log_u(r, 0, 15), ip4(10, 108, 252, 41));
		GROUP_END(log);
	}
}

Test(nf9, vendor_other_exporters)
{
	other_hosts();
	other_routers();
}

/* ipt-netflow: data for templates 259 and 262, never sent, is held; the
 * records of 260 (reduced-size encoding) come out. */
Test(nf9, vendor_iptnetflow_held)
{
	struct rec_log log;
	const struct log_rec *r;
	const struct tmpl_stats *st;

	GROUP("ipt-netflow", log);
	st = tmpl_cache_stats(c_);
	cr_assert_eq(st->pending_held, 6);
	cr_assert_eq(st->pending_rescued, 0);
	r = &log.r[0];
	cr_assert_eq(log_u(r, 0, 8), ip4(37, 122, 1, 226));
	cr_assert_eq(log_u(r, 0, 12), ip4(193, 151, 198, 166));
	cr_assert_eq(r->flow.in_if, 7);
	cr_assert_eq(r->flow.packets, 3);
	cr_assert_eq(r->flow.bytes, 156);
	cr_assert_eq(r->flow.tcp_flags, 0x02);
	GROUP_END(log);
}

Test(nf9, vendor_truncated_at_every_length)
{
	uint8_t *buf = malloc(VENDOR_MAX);
	size_t n = 0;

	for (size_t i = 0; i < sizeof(vgroups) / sizeof(vgroups[0]); i++) {
		for (unsigned k = 0; k < 8 && vgroups[i].files[k]; k++) {
			size_t len = VENDOR(vgroups[i].files[k], buf);

			cut_everywhere(buf, len, vgroups[i].files[k]);
			n++;
		}
	}
	cr_assert_geq(n, 50);
	free(buf);
}
