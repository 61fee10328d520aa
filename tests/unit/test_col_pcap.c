/* Unit tests of the collector's --pcap input (collector/pcapin.c) fed by
 * weir-generator's --pcap-out: the records written equal the generator's
 * ledger for every protocol and format; link types; frames that are not
 * whole UDP datagrams; sampling overrides; templates kept across a restart
 * by --template-file (collector/tsave.c), with one and with two workers. */
#include <criterion/criterion.h>
#include <pcap/pcap.h>	/* DLT_* names only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "out.h"
#include "pcapin.h"
#include "pktbuild.h"
#include "tsave.h"
#include "worker.h"
#include "wpcap.h"

TestSuite(col_pcap, .init = suite_init, .fini = suite_fini);

/* Run weir-generator with seed 11 into a pcap and a ledger. */
static void gen_pcap(const char *args, const char *pcap, const char *ledger)
{
	char a[512];

	snprintf(a, sizeof(a), "%s --seed 11", args);
	generate(0, pcap, a, ledger);
}

/* ---- one worker, its output in a file ---- */

struct rig {
	struct col_cfg cfg;
	struct col_shared sh;
	struct col_out out;
	struct col_worker *w[2];
	const char *outpath;
};

static void rig_start(struct rig *r, unsigned nw, const char *outpath)
{
	char err[256];

	memset(&r->sh, 0, sizeof(r->sh));
	pthread_mutex_init(&r->sh.labels.mu, NULL);
	r->sh.cfg = &r->cfg;
	r->outpath = outpath;
	if (outpath) {
		cr_assert_eq(col_out_open(&r->out, outpath, NULL, 0, err, sizeof(err)), WEIR_OK);
		r->sh.out = &r->out;
	}
	r->sh.nw = nw;
	r->sh.w = r->w;
	for (unsigned i = 0; i < nw; i++) {
		r->w[i] = col_worker_new(&r->sh, i, err, sizeof(err));
		cr_assert_not_null(r->w[i], "%s", err);
	}
}

static void rig_stop(struct rig *r)
{
	for (unsigned i = 0; i < r->sh.nw; i++)
		col_worker_free(r->w[i]);
	if (r->sh.out)
		col_out_close(&r->out);
}

static void run_pcap(struct col_worker *w, const char *pcap, uint16_t port)
{
	char err[256];

	cr_assert_eq(col_pcap_run(w, pcap, port, NULL, NULL, err, sizeof(err)), WEIR_OK, "%s", err);
}

static size_t lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Sum of "key":N over every line. */
static unsigned long long sum_key(const char *s, const char *key)
{
	unsigned long long sum = 0;
	char want[64];
	size_t wl;

	snprintf(want, sizeof(want), "\"%s\":", key);
	wl = strlen(want);
	for (const char *p = s; (p = strstr(p, want)); p += wl)
		sum += strtoull(p + wl, NULL, 10);
	return sum;
}

static void ledger_equal(const char *proto, const char *extra)
{
	char args[256], pcap[64], ledger[64];
	unsigned long long flows, opts, bytes, packets;
	struct rig r;
	char *s;

	snprintf(pcap, sizeof(pcap), "%s.pcap", proto);
	snprintf(ledger, sizeof(ledger), "%s.json", proto);
	snprintf(args, sizeof(args), "--protocol %s -n 120 --exporters 3 %s", proto, extra);
	gen_pcap(args, path_of(pcap), path_of(ledger));
	flows = ledger_total(path_of(ledger), "flow_records");
	opts = ledger_total(path_of(ledger), "options_records");
	cr_assert_gt(flows, 0);

	/* Raw JSON: every data and options record. */
	col_cfg_defaults(&r.cfg);
	r.cfg.type = strcmp(proto, "sflow") ? COL_T_NETFLOW : COL_T_SFLOW;
	rig_start(&r, 1, path_of("raw.json"));
	run_pcap(r.w[0], path_of(pcap), 0);
	cr_assert_eq(r.w[0]->c.records_out, flows + opts, "%s raw", proto);
	for (int k = 1; k < WEIR_E_MAX; k++)
		cr_assert_eq(r.w[0]->ctx.errors[k], 0, "%s: %s", proto, weir_errname(-k));
	cr_assert_eq(r.w[0]->c.pcap_skipped, 0);
	cr_assert_eq(r.w[0]->c.datagrams[COL_P_OTHER], 0);
	rig_stop(&r);
	s = slurp(path_of("raw.json"), NULL);
	cr_assert_eq(lines(s), flows + opts);
	free(s);

	/* Common JSON: the flows, with the ledger's byte and packet sums. */
	col_cfg_defaults(&r.cfg);
	r.cfg.type = strcmp(proto, "sflow") ? COL_T_NETFLOW : COL_T_SFLOW;
	r.cfg.format = COL_F_COMMON;
	rig_start(&r, 1, path_of("common.json"));
	run_pcap(r.w[0], path_of(pcap), 0);
	cr_assert_eq(r.w[0]->c.records_out, flows, "%s common", proto);
	cr_assert_eq(r.w[0]->c.skipped_no_flow, opts);
	rig_stop(&r);
	s = slurp(path_of("common.json"), NULL);
	cr_assert_eq(lines(s), flows);
	if (strcmp(proto, "sflow")) {
		bytes = ledger_total(path_of(ledger), "bytes");
		packets = ledger_total(path_of(ledger), "flow_packets");
	} else {
		bytes = ledger_total(path_of(ledger), "frame_bytes");
		packets = flows;
	}
	cr_assert_eq(sum_key(s, "bytes"), bytes, "%s bytes", proto);
	cr_assert_eq(sum_key(s, "packets"), packets, "%s packets", proto);
	free(s);
}

Test(col_pcap, ledger_ipfix)
{
	ledger_equal("ipfix", "--sampling-rate 10");
}

Test(col_pcap, ledger_ipfix_ipv6)
{
	ledger_equal("ipfix", "-H ::1 --src-cidr 10.0.0.0/8,2001:db8::/32 "
		     "--dst-cidr 192.168.0.0/16,2001:db8:1::/48");
}

Test(col_pcap, ledger_v9)
{
	ledger_equal("v9", "--sampling-rate 10 --template-interval 0");
}

Test(col_pcap, ledger_v5)
{
	ledger_equal("v5", "--sampling-rate 100");
}

Test(col_pcap, ledger_sflow)
{
	ledger_equal("sflow", "--sampling-rate 64 -H ::1");
}

Test(col_pcap, port_filter_and_type)
{
	struct rig r;

	gen_pcap("--protocol ipfix -n 20 -p 4739", path_of("p.pcap"), path_of("p.json"));
	col_cfg_defaults(&r.cfg);
	rig_start(&r, 1, NULL);
	run_pcap(r.w[0], path_of("p.pcap"), 2055);
	cr_assert_eq(r.w[0]->c.records_out, 0, "no datagram to port 2055");
	cr_assert_eq(r.w[0]->c.pcap_skipped, r.w[0]->c.pcap_frames);
	cr_assert_gt(r.w[0]->c.pcap_frames, 20);
	rig_stop(&r);

	/* IPFIX read by an sFlow collector: every datagram refused by version. */
	col_cfg_defaults(&r.cfg);
	r.cfg.type = COL_T_SFLOW;
	rig_start(&r, 1, NULL);
	run_pcap(r.w[0], path_of("p.pcap"), 4739);
	cr_assert_eq(r.w[0]->c.records_out, 0);
	cr_assert_eq(r.w[0]->ctx.errors[-WEIR_E_VERSION], r.w[0]->c.datagrams[COL_P_IPFIX]);
	cr_assert_gt(r.w[0]->c.datagrams[COL_P_IPFIX], 20);
	rig_stop(&r);
}

Test(col_pcap, missing_file)
{
	struct rig r;
	char err[256];

	col_cfg_defaults(&r.cfg);
	rig_start(&r, 1, NULL);
	cr_assert_eq(col_pcap_run(r.w[0], path_of("none.pcap"), 0, NULL, NULL, err, sizeof(err)),
		     WEIR_E_IO);
	cr_assert_not_null(strstr(err, "none.pcap"), "%s", err);
	rig_stop(&r);
}

/* ---- link types: the generator's Ethernet frames rewritten ---- */

static void relink(const char *in, const char *out, int dlt)
{
	char ebuf[256];
	struct wpcap_rd src;
	struct wpcap_wr dst;
	struct wpcap_frame f;
	static uint8_t frame[70000];

	cr_assert_eq(wpcap_open_read(&src, in, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	cr_assert_eq(wpcap_open_write(&dst, out, dlt, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	while (wpcap_next(&src, &f) == 1) {
		uint16_t et = (uint16_t)(f.p[12] << 8 | f.p[13]);
		size_t ip = f.caplen - 14, off = 0;

		memset(frame, 0, 20);
		switch (dlt) {
		case DLT_LINUX_SLL:
			frame[14] = (uint8_t)(et >> 8);
			frame[15] = (uint8_t)et;
			off = 16;
			break;
		case DLT_LINUX_SLL2:
			frame[0] = (uint8_t)(et >> 8);
			frame[1] = (uint8_t)et;
			off = 20;
			break;
		case DLT_NULL:
			/* Host order, little endian; AF_INET6 as a BSD writes it
			 * (LINKTYPE_NULL: 24, 28 or 30), never Linux's 10. */
			frame[0] = et == 0x0800 ? 2 : 24;
			off = 4;
			break;
		case DLT_RAW:
			off = 0;
			break;
		}
		memcpy(frame + off, f.p + 14, ip);
		cr_assert_eq(wpcap_write(&dst, frame, ip + off, f.t_ns), WEIR_OK);
	}
	cr_assert_eq(wpcap_close_write(&dst), WEIR_OK);
	wpcap_close_read(&src);
}

Test(col_pcap, link_types)
{
	static const int dlts[] = { DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL };
	unsigned long long flows;

	gen_pcap("--protocol v9 -n 30 -H ::1", path_of("l6.pcap"), path_of("l6.json"));
	gen_pcap("--protocol v9 -n 30", path_of("l4.pcap"), path_of("l4.json"));
	flows = ledger_total(path_of("l4.json"), "flow_records");
	cr_assert_eq(flows, ledger_total(path_of("l6.json"), "flow_records"));
	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct rig r;

			relink(path_of(v6 ? "l6.pcap" : "l4.pcap"), path_of("relinked.pcap"), dlts[i]);
			col_cfg_defaults(&r.cfg);
			r.cfg.format = COL_F_COMMON;
			rig_start(&r, 1, NULL);
			run_pcap(r.w[0], path_of("relinked.pcap"), 0);
			cr_assert_eq(r.w[0]->c.records_out, flows, "dlt %d v6 %d", dlts[i], v6);
			rig_stop(&r);
		}
	}
}

/* ---- frames that carry no whole datagram ---- */

/* Ethernet + IPv4 + UDP carrying 8 bytes of payload (f: 128 bytes). */
static size_t eth_udp(uint8_t *f)
{
	static const uint8_t dmac[6] = { 0, 1, 2, 3, 4, 5 }, smac[6] = { 6, 7, 8, 9, 10, 11 };
	static const uint8_t payload[8] = { 0, 10, 0, 16, 1, 2, 3, 4 };
	struct pktb_ip4 ip = {
		.src = { 192, 0, 2, 1 }, .dst = { 192, 0, 2, 2 },
		.ttl = 64, .proto = PKTB_UDP, .id = 1, .frag = 0x4000,
	};
	struct pktb b;
	size_t n;

	pktb_init(&b, f, 128);
	pktb_eth(&b, dmac, smac, PKTB_ETH_IPV4);
	pktb_ipv4(&b, &ip);
	pktb_udp(&b, 40000, 2055, 0);
	pktb_bytes(&b, payload, sizeof(payload));
	n = pktb_finish(&b);
	cr_assert_eq(n, 50);
	return n;
}

Test(col_pcap, frame_parser)
{
	uint8_t f[128];
	struct col_udp_view v;
	size_t n = eth_udp(f);
	struct weir_addr src;

	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_OK);
	weir_addr_v4u(&src, 0xc0000201);
	cr_assert(weir_addr_eq(&v.e.addr, &src));
	cr_assert_eq(v.e.port, 40000);
	cr_assert_eq(v.dport, 2055);
	cr_assert_eq(v.len, 8);
	cr_assert_eq(v.p, f + 42);

	/* Ethernet padding after the datagram is not payload. */
	memset(f + n, 0xee, 10);
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n + 10, &v), COL_PCAP_OK);
	cr_assert_eq(v.len, 8);

	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n - 1, &v), COL_PCAP_CUT, "snap length");
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, 30, &v), COL_PCAP_CUT);
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, 10, &v), COL_PCAP_CUT);
	cr_assert_eq(col_pcap_frame(DLT_LINUX_SLL, f, 10, &v), COL_PCAP_CUT);

	n = eth_udp(f);
	f[20] = 0x20;					/* MF: a first fragment */
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_FRAGMENT);
	n = eth_udp(f);
	f[23] = 6;					/* TCP */
	cr_assert_neq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_OK);
	n = eth_udp(f);
	f[12] = 0x08;
	f[13] = 0x06;					/* ARP */
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_NOT_IP);
	n = eth_udp(f);
	f[38] = 0;
	f[39] = 4;					/* UDP length below its header */
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_BAD);
	n = eth_udp(f);
	f[39] = 200;					/* UDP length past the frame */
	cr_assert_eq(col_pcap_frame(DLT_EN10MB, f, n, &v), COL_PCAP_CUT);
	n = eth_udp(f);
	cr_assert_eq(col_pcap_frame(DLT_RAW, f + 14, n - 14, &v), COL_PCAP_OK);
	f[14] = 0x75;					/* IP version 7 */
	cr_assert_eq(col_pcap_frame(DLT_RAW, f + 14, n - 14, &v), COL_PCAP_NOT_IP);
	cr_assert_eq(col_pcap_frame(DLT_IEEE802_11, f, n, &v), COL_PCAP_LINKTYPE);
	cr_assert(!col_pcap_dlt_ok(DLT_IEEE802_11));
	cr_assert(col_pcap_dlt_ok(DLT_LINUX_SLL));
}

/* ---- sampling: override per exporter, default ---- */

static size_t count_str(const char *s, const char *w)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, w)); p += strlen(w))
		n++;
	return n;
}

Test(col_pcap, sampling_override_and_default)
{
	char err[256], *s;
	unsigned long long flows;
	struct rig r;

	/* The generator's pcap frames come from 127.0.0.1. */
	gen_pcap("--protocol ipfix -n 20 --sampling-rate 10", path_of("s.pcap"), path_of("s.json"));
	flows = ledger_total(path_of("s.json"), "flow_records");

	col_cfg_defaults(&r.cfg);
	r.cfg.format = COL_F_COMMON;
	rig_start(&r, 1, path_of("s1.json"));
	run_pcap(r.w[0], path_of("s.pcap"), 0);
	rig_stop(&r);
	s = slurp(path_of("s1.json"), NULL);
	cr_assert_eq(count_str(s, "\"sampling_rate\":10,"), flows, "announced rate");
	free(s);

	col_cfg_defaults(&r.cfg);
	r.cfg.format = COL_F_COMMON;
	r.cfg.renormalize = 1;
	cr_assert_eq(col_samp_parse(&r.cfg.samp, "127.0.0.1=7", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_samp_parse(&r.cfg.samp, "192.0.2.1=99", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(col_samp_parse(&r.cfg.samp, "3", err, sizeof(err)), WEIR_OK);
	col_samp_finish(&r.cfg.samp);
	rig_start(&r, 1, path_of("s2.json"));
	run_pcap(r.w[0], path_of("s.pcap"), 0);
	rig_stop(&r);
	s = slurp(path_of("s2.json"), NULL);
	cr_assert_eq(count_str(s, "\"sampling_rate\":7,"), flows, "the override wins");
	cr_assert_eq(sum_key(s, "bytes"), 7 * ledger_total(path_of("s.json"), "bytes"),
		     "renormalized by the override");
	free(s);
	col_samp_free(&r.cfg.samp);

	/* Unsampled v5 (rate 0 in the header): the default fills it. */
	gen_pcap("--protocol v5 -n 5", path_of("d.pcap"), path_of("d.json"));
	col_cfg_defaults(&r.cfg);
	r.cfg.format = COL_F_COMMON;
	cr_assert_eq(col_samp_parse(&r.cfg.samp, "3", err, sizeof(err)), WEIR_OK);
	col_samp_finish(&r.cfg.samp);
	rig_start(&r, 1, path_of("s3.json"));
	run_pcap(r.w[0], path_of("d.pcap"), 0);
	rig_stop(&r);
	s = slurp(path_of("s3.json"), NULL);
	cr_assert_eq(count_str(s, "\"sampling_rate\":3,"), ledger_total(path_of("d.json"), "flow_records"));
	free(s);
	col_samp_free(&r.cfg.samp);
}

/* ---- template persistence ---- */

/* Copy in to out without the datagrams that carry templates (IPFIX sets 2
 * and 3, v9 flowsets 0 and 1: the generator sends them alone). */
static void data_only(const char *in, const char *out)
{
	char ebuf[256];
	struct wpcap_rd src;
	struct wpcap_wr d;
	struct wpcap_frame f;
	unsigned dropped = 0;

	cr_assert_eq(wpcap_open_read(&src, in, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	cr_assert_eq(wpcap_open_write(&d, out, src.dlt, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	while (wpcap_next(&src, &f) == 1) {
		struct col_udp_view v;
		unsigned set;

		cr_assert_eq(col_pcap_frame(DLT_EN10MB, f.p, f.caplen, &v), COL_PCAP_OK);
		set = v.p[1] == 10 ? (unsigned)(v.p[16] << 8 | v.p[17])
				   : (unsigned)(v.p[20] << 8 | v.p[21]);
		if (set < 256) {
			dropped++;
			continue;
		}
		cr_assert_eq(wpcap_write_cut(&d, f.p, f.caplen, f.len, f.t_ns), WEIR_OK);
	}
	cr_assert_gt(dropped, 0, "the capture had templates");
	cr_assert_eq(wpcap_close_write(&d), WEIR_OK);
	wpcap_close_read(&src);
}

static void restart(const char *proto, unsigned nw)
{
	char args[128];
	unsigned long long flows;
	struct rig r;
	char tf[200];

	snprintf(tf, sizeof(tf), "%s", path_of("templates.bin"));

	snprintf(args, sizeof(args), "--protocol %s -n 60 --exporters 4 --sampling-rate 10", proto);
	gen_pcap(args, path_of("full.pcap"), path_of("full.json"));
	data_only(path_of("full.pcap"), path_of("data.pcap"));
	flows = ledger_total(path_of("full.json"), "flow_records");

	/* Without the file nothing decodes: the data waits for templates. */
	col_cfg_defaults(&r.cfg);
	rig_start(&r, 1, NULL);
	run_pcap(r.w[0], path_of("data.pcap"), 0);
	cr_assert_eq(r.w[0]->c.records_out, 0);
	cr_assert_gt(r.w[0]->ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	rig_stop(&r);

	/* First run: worker 0 learns the templates, the others nothing. */
	col_cfg_defaults(&r.cfg);
	r.cfg.template_file = tf;
	unlink(tf);
	rig_start(&r, nw, NULL);
	cr_assert_eq(col_tsave_load(&r.sh, prog_now_real()), WEIR_OK, "no file yet is fine");
	run_pcap(r.w[0], path_of("full.pcap"), 0);
	cr_assert_eq(col_tsave_save(&r.sh, 0), WEIR_OK);
	cr_assert_eq(r.sh.tsave_ok, 1);
	rig_stop(&r);
	cr_assert_eq(access(tf, R_OK), 0);
	for (unsigned i = 0; i < nw; i++) {
		char part[220];

		snprintf(part, sizeof(part), "%s.w%u", tf, i);
		cr_assert_neq(access(part, F_OK), 0, "part %s left behind", part);
	}

	/* Restart: every worker holds the templates and the sampler rates. */
	col_cfg_defaults(&r.cfg);
	r.cfg.template_file = tf;
	r.cfg.format = COL_F_COMMON;
	rig_start(&r, nw, path_of("after.json"));
	{
		int e = col_tsave_load(&r.sh, prog_now_real());

		cr_assert_eq(e, WEIR_OK, "%s", weir_strerror(e));
	}
	for (unsigned i = 0; i < nw; i++) {
		cr_assert_eq(tmpl_cache_stats(r.w[i]->ctx.cache)->templates, 4 * 3,
			     "worker %u: 4 exporters x (IPv4, IPv6, options)", i);
		run_pcap(r.w[i], path_of("data.pcap"), 0);
		cr_assert_eq(r.w[i]->c.records_out, flows, "%s worker %u", proto, i);
		cr_assert_eq(r.w[i]->ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	}
	rig_stop(&r);
	{
		char *s = slurp(path_of("after.json"), NULL);

		cr_assert_eq(count_str(s, "\"sampling_rate\":10,"), nw * flows,
			     "sampler rates came back with the templates");
		free(s);
	}
}

Test(col_pcap, template_file_restart_ipfix)
{
	restart("ipfix", 1);
}

Test(col_pcap, template_file_restart_v9_two_workers)
{
	restart("v9", 2);
}

Test(col_pcap, template_file_damaged)
{
	char tf[200];
	FILE *fp;
	struct rig r;

	snprintf(tf, sizeof(tf), "%s", path_of("bad.bin"));
	fp = fopen(tf, "w");

	fputs("WEIRTPL1 but not really a template file\n", fp);
	fclose(fp);
	col_cfg_defaults(&r.cfg);
	r.cfg.template_file = tf;
	rig_start(&r, 2, NULL);
	cr_assert_eq(col_tsave_load(&r.sh, prog_now_real()), WEIR_E_PARSE);
	cr_assert_eq(tmpl_cache_stats(r.w[0]->ctx.cache)->templates, 0);
	cr_assert_eq(tmpl_cache_stats(r.w[1]->ctx.cache)->templates, 0);
	rig_stop(&r);
}

Test(col_pcap, template_file_unwritable)
{
	struct rig r;

	col_cfg_defaults(&r.cfg);
	r.cfg.template_file = "/nonexistent-dir/templates.bin";
	rig_start(&r, 2, NULL);
	cr_assert_neq(col_tsave_save(&r.sh, 0), WEIR_OK);
	cr_assert_eq(r.sh.tsave_err, 1);
	cr_assert_eq(r.sh.tsave_ok, 0);
	rig_stop(&r);
}
