/* test_exp_xp.c - the IPFIX exporting process (exporter/xp.c) over UDP and
 * to files: what it sends, decoded by the library's own decoder, field by
 * field against the flow records given (IPv4, IPv6, ICMP, biflow), the
 * sampling and statistics options records, sequence numbers across
 * messages, the MTU, the refresh and the wait of a record; a file read
 * back, by tshark and by ipfixDump when they are installed. TCP is in
 * test_exp_xp_tcp.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "pktbuild.h"
#include "tmpdir.h"
#include "wpcap.h"

#include "xphelp.h"

static const struct xp_cfg base = { .domain = 77 };

/* Run recs[0..n) through a UDP xp made of cfg (all at now, closed at
 * now), decode what came; returns the xp's statistics. */
static struct xp_stats udp_run(const struct xp_cfg *cfg, const struct meter_rec *recs, size_t n,
			       const struct meter_stats *ms, struct fx *f, struct xcap *cap)
{
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x = xopen(cfg, XP_UDP, port);
	struct xp_stats st;

	for (size_t i = 0; i < n; i++)
		xp_add(x, &recs[i], T0 + 10 * SEC);
	cr_assert_eq(xp_close(x, T0 + 10 * SEC, ms, &st), 0);
	cr_assert_eq(udp_catch(fd, cap, st.messages, NULL), st.messages);
	close(fd);
	cr_assert_eq(xcap_decode(f, cap), st.messages);
	for (size_t e = 1; e < WEIR_E_MAX; e++)
		cr_expect_eq(f->ctx.errors[e], 0, "decode error %s", weir_strerror(-(int)e));
	for (size_t q = 0; q < WEIR_Q_MAX; q++)
		cr_expect_eq(f->ctx.quirks[q], 0, "quirk %s", weir_quirk_name((int)q));
	return st;
}

/* IPv4 without biflow: a forward and a reverse record, every field. */
Test(exp_xp, udp_ipv4_every_field)
{
	struct meter_rec r = xrec(0, 3);
	struct xcap cap = { 0 };
	struct xp_stats st;
	struct fx f;

	fx_init(&f, 1);
	st = udp_run(&base, &r, 1, NULL, &f, &cap);
	/* templates and the statistics; the data; the statistics at close */
	cr_assert_eq(st.messages, 3);
	cr_assert_eq(f.lg->n, 4);
	cr_expect(f.lg->r[0].is_options);
	xcheck(&f.lg->r[1], &r, 0, 0);
	xcheck(&f.lg->r[2], &r, 1, 0);
	cr_expect(f.lg->r[3].is_options);
	cr_expect_eq(f.lg->r[1].domain, 77);
	cr_expect_eq(f.lg->r[1].export_time, 1700000010u);
	cr_expect_eq(f.lg->r[1].sequence, 1);
	cr_expect_eq(st.records, 2);
	cr_expect_eq(st.packets, r.fwd.packets + r.rev.packets);
	cr_expect_eq(st.octets, r.fwd.octets + r.rev.octets);
	cr_expect_eq(st.records_lost, 0);
	fx_fini(&f);
	free(cap.b);
}

/* IPv6, and a flow without reverse packets: one record only. */
Test(exp_xp, udp_ipv6_and_one_way)
{
	struct meter_rec r[2] = { xrec(1, 9), xrec(1, 10) };
	struct xcap cap = { 0 };
	struct xp_stats st;
	struct fx f;

	r[1].rev = (struct wflow_val){ 0 };
	r[1].key.dir = WFLOW_DIR_EGRESS;
	r[1].end_reason = METER_END_ACTIVE;
	fx_init(&f, 1);
	st = udp_run(&base, r, 2, NULL, &f, &cap);
	cr_assert_eq(f.lg->n, 5);
	xcheck(&f.lg->r[1], &r[0], 0, 0);
	xcheck(&f.lg->r[2], &r[0], 1, 0);
	xcheck(&f.lg->r[3], &r[1], 0, 0);
	cr_expect_eq(st.records, 3);
	fx_fini(&f);
	free(cap.b);
}

/* ICMP and ICMPv6: icmpTypeCode, and the "ports" (0, type * 256 + code)
 * kept as they are in the reverse record. */
Test(exp_xp, udp_icmp)
{
	struct meter_rec r[2] = { xrec(0, 1), xrec(1, 2) };
	struct xcap cap = { 0 };
	struct fx f;

	r[0].key.proto = 1;
	r[0].icmp_type = 8;
	r[0].icmp_code = 0;
	r[1].key.proto = 58;
	r[1].icmp_type = 128;
	r[1].icmp_code = 3;
	for (int i = 0; i < 2; i++) {
		r[i].key.src_port = 0;
		r[i].key.dst_port = (uint16_t)(r[i].icmp_type * 256 + r[i].icmp_code);
		memset(r[i].fwd.flag_cnt, 0, sizeof(r[i].fwd.flag_cnt));
		memset(r[i].rev.flag_cnt, 0, sizeof(r[i].rev.flag_cnt));
		r[i].fwd.tcp_flags = r[i].rev.tcp_flags = 0;
	}
	fx_init(&f, 1);
	udp_run(&base, r, 2, NULL, &f, &cap);
	cr_assert_eq(f.lg->n, 6);
	for (int i = 0; i < 2; i++) {
		xcheck(&f.lg->r[1 + 2 * i], &r[i], 0, 0);
		xcheck(&f.lg->r[2 + 2 * i], &r[i], 1, 0);
		cr_expect_eq(fu(&f.lg->r[2 + 2 * i], 0, 11), r[i].key.dst_port);
	}
	cr_expect_eq(fu(&f.lg->r[1], 0, 32), 0x0800);
	cr_expect_eq(fu(&f.lg->r[3], 0, 139), 128 * 256 + 3);
	fx_fini(&f);
	free(cap.b);
}

/* Biflow: one RFC 5103 record per flow, reverse elements under PEN 29305;
 * a flow without reverse packets has zeros there. */
Test(exp_xp, udp_biflow)
{
	struct xp_cfg cfg = base;
	struct meter_rec r[3] = { xrec(0, 4), xrec(1, 5), xrec(0, 6) };
	struct xcap cap = { 0 };
	struct xp_stats st;
	struct fx f;

	cfg.biflow = 1;
	r[2].rev = (struct wflow_val){ 0 };
	fx_init(&f, 1);
	st = udp_run(&cfg, r, 3, NULL, &f, &cap);
	cr_assert_eq(f.lg->n, 5);
	for (int i = 0; i < 3; i++)
		xcheck(&f.lg->r[1 + i], &r[i], 0, 1);
	cr_expect_eq(fu(&f.lg->r[3], IE_PEN_REVERSE, 2), 0);
	cr_expect_eq(fu(&f.lg->r[3], IE_PEN_REVERSE, 152), 0);
	cr_expect_eq(st.records, 3);
	cr_expect_eq(st.packets, r[0].fwd.packets + r[0].rev.packets + r[1].fwd.packets +
				 r[1].rev.packets + r[2].fwd.packets);
	fx_fini(&f);
	free(cap.b);
}

/* 1 in 100: the RFC 5477 options record, and the decoder's rate on data. */
Test(exp_xp, udp_sampling_options)
{
	struct xp_cfg cfg = base;
	struct meter_rec r = xrec(0, 1);
	struct xcap cap = { 0 };
	const struct rec_copy *o;
	struct fx f;

	cfg.sampling = 100;
	fx_init(&f, 1);
	udp_run(&cfg, &r, 1, NULL, &f, &cap);
	/* sampling, statistics; forward, reverse; statistics */
	cr_assert_eq(f.lg->n, 5);
	o = &f.lg->r[0];
	cr_expect(o->is_options);
	cr_expect_eq(o->tid, XP_TID_SAMPLING);
	cr_expect_eq(fu(o, 0, 149), 77);
	cr_expect_eq(fu(o, 0, 304), 1);
	cr_expect_eq(fu(o, 0, 305), 1);
	cr_expect_eq(fu(o, 0, 306), 99);
	cr_expect_eq(f.lg->r[2].sampling_rate, 100);
	cr_expect_eq(f.lg->r[3].sampling_rate, 100);
	fx_fini(&f);
	free(cap.b);
}

/* The reliability statistics: what went out (messages, flow records,
 * message bytes) and what the meter refused or could not read. */
Test(exp_xp, udp_statistics_options)
{
	struct meter_stats ms = { .refused_flows = 2, .refused_packets = 7, .refused_octets = 900,
				  .truncated = 1, .malformed = 2, .frag_orphaned = 3, .not_ip = 50 };
	struct meter_rec r[2] = { xrec(0, 1), xrec(1, 2) };
	size_t lens[8], n;
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x = xopen(&base, XP_UDP, port);
	struct xcap cap = { 0 };
	const struct rec_copy *s;
	struct xp_stats st;
	struct fx f;

	xp_add(x, &r[0], T0);
	xp_tick(x, T0 + 2 * SEC, &ms);	/* the refusals seen at T0 + 2 s */
	xp_add(x, &r[1], T0 + 3 * SEC);
	cr_assert_eq(xp_close(x, T0 + 4 * SEC, &ms, &st), 0);
	n = udp_catch(fd, &cap, st.messages, lens);
	close(fd);
	cr_assert_eq(n, 4);	/* templates, data, data, statistics */
	fx_init(&f, 1);
	cr_assert_eq(xcap_decode(&f, &cap), 4);
	cr_assert_eq(f.lg->n, 6);
	s = &f.lg->r[5];
	cr_expect_eq(s->tid, XP_TID_STATS);
	cr_expect(s->is_options);
	cr_expect_eq(fu(s, 0, 144), 77);
	cr_expect_eq(fu(s, 0, 41), 3);
	cr_expect_eq(fu(s, 0, 42), 4);
	cr_expect_eq(fu(s, 0, 40), lens[0] + lens[1] + lens[2]);
	cr_expect_eq(fu(s, 0, 166), 2);
	cr_expect_eq(fu(s, 0, 167), 7);
	cr_expect_eq(fu(s, 0, 168), 900);
	cr_expect_eq(fu(s, 0, 164), 6);
	/* time of the first and the last flow not sent: both fields 323 */
	cr_expect_eq(s->id[8], 323);
	cr_expect_eq(s->id[9], 323);
	cr_expect_eq(be_uint(s->val[8], 8), (T0 + 2 * SEC) / MS);
	cr_expect_eq(be_uint(s->val[9], 8), (T0 + 2 * SEC) / MS);
	/* the first one, at start, has all zeros */
	cr_expect_eq(fu(&f.lg->r[0], 0, 41), 0);
	cr_expect_eq(fu(&f.lg->r[0], 0, 166), 0);
	cr_expect_eq(st.messages, 4);
	cr_expect_eq(st.records, 4);
	fx_fini(&f);
	free(cap.b);
}

/* Packets lost before the meter (the live path's kernel: spill ring full)
 * are refused packets without flows: counted in notSentPacketTotalCount
 * and dated like a refused flow. */
Test(exp_xp, udp_statistics_packets_only)
{
	struct meter_stats m1 = { .refused_packets = 5 }, m2 = { .refused_packets = 9 };
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x = xopen(&base, XP_UDP, port);
	struct xcap cap = { 0 };
	const struct rec_copy *s;
	struct xp_stats st;
	struct fx f;

	xp_tick(x, T0, NULL);
	xp_tick(x, T0 + 2 * SEC, &m1);
	cr_assert_eq(xp_close(x, T0 + 4 * SEC, &m2, &st), 0);
	cr_assert_eq(udp_catch(fd, &cap, st.messages, NULL), st.messages);
	close(fd);
	fx_init(&f, 1);
	cr_assert_eq(xcap_decode(&f, &cap), st.messages);
	cr_assert_gt(f.lg->n, 1);
	s = &f.lg->r[f.lg->n - 1];
	cr_expect_eq(s->tid, XP_TID_STATS);
	cr_expect_eq(fu(s, 0, 166), 0);
	cr_expect_eq(fu(s, 0, 167), 9);
	cr_expect_eq(be_uint(s->val[8], 8), (T0 + 2 * SEC) / MS);
	cr_expect_eq(be_uint(s->val[9], 8), (T0 + 4 * SEC) / MS);
	fx_fini(&f);
	free(cap.b);
}

/* Many records: every message within the MTU and as full as it can be,
 * sequence numbers counting the data records before each message. */
Test(exp_xp, udp_mtu_and_sequence)
{
	struct xp_cfg cfg = base;
	struct meter_rec r;
	size_t lens[256], n, data_msgs = 0;
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x;
	struct xcap cap = { 0 };
	struct xp_stats st;
	struct fx f;

	cfg.mtu = 512;
	x = xopen(&cfg, XP_UDP, port);
	for (uint32_t i = 0; i < 150; i++) {
		r = xrec(i % 3 == 0, i);
		xp_add(x, &r, T0 + i * MS);
	}
	cr_assert_eq(xp_close(x, T0 + SEC / 2, NULL, &st), 0);
	n = udp_catch(fd, &cap, st.messages, lens);
	close(fd);
	cr_assert_eq(n, st.messages);
	fx_init(&f, 1);
	cr_assert_eq(xcap_decode(&f, &cap), n);	/* checks every sequence number */
	cr_assert_eq(f.lg->n, 300 + 2);
	cr_expect_eq(st.records, 300);
	for (size_t i = 0; i < n; i++) {
		cr_expect_leq(lens[i], 512, "message %zu: %zu bytes", i, lens[i]);
		/* a data message leaves less room than one more set and record
		 * (IPv6: 112 bytes) unless it is the last */
		if (i > 0 && i + 2 < n) {
			cr_expect_gt(lens[i] + 4 + 112, 512, "message %zu: %zu bytes", i, lens[i]);
			data_msgs++;
		}
	}
	cr_expect_gt(data_msgs, 50);
	cr_expect_eq(tmpl_cache_stats(f.c)->added, 3);
	cr_expect_eq(fx_src(&f, 77)->seq_gaps, 0);
	cr_expect_eq(f.ctx.quirks[WEIR_Q_SEQ_CONVENTION], 0);
	fx_fini(&f);
	free(cap.b);
}

/* A record waits up to 1 s of the given clock; templates and options come
 * again every refresh interval; export time is the clock's second. */
Test(exp_xp, udp_wait_and_refresh)
{
	struct xp_cfg cfg = base;
	struct meter_rec r = xrec(0, 1);
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x;
	struct xcap cap = { 0 };
	struct xp_stats st;
	size_t off[16];

	cfg.refresh_ns = 10 * SEC;
	x = xopen(&cfg, XP_UDP, port);
	xp_add(x, &r, T0);
	cr_expect_eq(udp_catch(fd, &cap, 1, NULL), 1);		/* the templates only */
	xp_tick(x, T0 + 999 * MS, NULL);
	cr_expect_eq(xp_stats(x)->messages, 1);
	xp_tick(x, T0 + SEC, NULL);
	cr_expect_eq(xp_stats(x)->messages, 2);			/* waited 1 s: sent */
	xp_add(x, &r, T0 + 9 * SEC);
	xp_tick(x, T0 + 9999 * MS, NULL);
	cr_expect_eq(xp_stats(x)->messages, 2);
	xp_tick(x, T0 + 10 * SEC, NULL);	/* refresh: templates again, then the data */
	cr_expect_eq(xp_stats(x)->messages, 4);
	xp_tick(x, T0 + 19 * SEC, NULL);
	cr_expect_eq(xp_stats(x)->messages, 4);
	xp_tick(x, T0 + 20 * SEC, NULL);
	cr_expect_eq(xp_stats(x)->messages, 5);
	cr_assert_eq(xp_close(x, T0 + 21 * SEC, NULL, &st), 0);
	cr_assert_eq(udp_catch(fd, &cap, 5, NULL), 5);
	close(fd);
	cr_assert_eq(xcap_split(&cap, off, 16), 6);
	/* export times, and which messages hold templates (set 2 first) */
	static const uint32_t when[6] = { 0, 1, 10, 10, 20, 21 };
	static const int tmpl[6] = { 1, 0, 1, 0, 1, 0 };

	for (int i = 0; i < 6; i++) {
		cr_expect_eq(xbe32(cap.b + off[i] + 4), 1700000000u + when[i], "message %d", i);
		cr_expect_eq(be_uint(cap.b + off[i] + 16, 2) == IPFIX_SET_TEMPLATE, tmpl[i],
			     "message %d", i);
	}
	free(cap.b);
}

/* Messages that cannot go out are counted: a UDP collector that is not
 * there (ICMP port unreachable) makes sends fail. */
Test(exp_xp, udp_no_collector_counted)
{
	uint16_t port;
	int fd = udp_rx(&port);
	struct meter_rec r = xrec(0, 1);
	struct xp *x;
	struct xp_stats st;
	uint64_t end = prog_now_mono() + 5 * SEC, t = T0;

	close(fd);	/* nobody on the port */
	x = xopen(&base, XP_UDP, port);
	while (!xp_stats(x)->records_lost && prog_now_mono() < end) {
		xp_add(x, &r, t);
		t += SEC;	/* each record in a message of its own */
		xp_tick(x, t, NULL);
	}
	cr_expect_gt(xp_stats(x)->records_lost, 0);
	cr_expect_gt(xp_stats(x)->send_errors, 0);
	xp_close(x, t, NULL, &st);
	cr_expect_eq(st.records + st.records_lost, 2 * ((t - T0) / SEC));
}

Test(exp_xp, open_refuses)
{
	struct xp_cfg cfg = base;
	char err[256] = "";

	cfg.transport = XP_UDP;
	cfg.host = "127.0.0.1";
	cfg.port = 4739;
	cfg.mtu = 100;
	cr_expect_null(xp_open(&cfg, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "too small"), "%s", err);
	cfg.mtu = 70000;
	cr_expect_null(xp_open(&cfg, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "65535"), "%s", err);
	cfg.mtu = 0;
	cfg.host = "no-such-host.invalid";
	cr_expect_null(xp_open(&cfg, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "no-such-host.invalid"), "%s", err);
	cfg.transport = XP_FILE;
	cfg.path = "/nonexistent-dir/x.ipfix";
	cr_expect_null(xp_open(&cfg, err, sizeof(err)));
	cr_expect_not_null(strstr(err, "/nonexistent-dir/x.ipfix"), "%s", err);
	cr_expect_eq(xp_close(NULL, 0, NULL, NULL), 0);
}

/* ---- files (RFC 5655) ---- */

static void write_file(const char *path, int biflow, int sampling, size_t n)
{
	struct xp_cfg cfg = base;
	struct xp *x;
	struct xp_stats st;
	char err[256] = "";

	cfg.transport = XP_FILE;
	cfg.path = path;
	cfg.biflow = biflow;
	cfg.sampling = (uint32_t)sampling;
	x = xp_open(&cfg, err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	for (uint32_t i = 0; i < n; i++) {
		struct meter_rec r = xrec(i % 2, i);

		if (i % 5 == 4) {
			r.key.proto = i % 2 ? 58 : 1;
			r.icmp_type = 3;
			r.icmp_code = 1;
		}
		xp_add(x, &r, T0 + i * 100 * MS);
		xp_tick(x, T0 + i * 100 * MS, NULL);
	}
	cr_assert_eq(xp_close(x, T0 + n * 100 * MS, NULL, &st), 0);
	cr_expect_eq(st.records, biflow ? n : 2 * n);
}

static void read_file(const char *path, struct xcap *cap)
{
	uint8_t buf[65536];
	FILE *fp = fopen(path, "rb");
	size_t k;

	cr_assert_not_null(fp);
	while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
		xcap_put(cap, buf, k);
	fclose(fp);
}

Test(exp_xp, file_decodes)
{
	char dir[256], path[300];
	struct xcap cap = { 0 };
	struct fx f;
	size_t off[64];

	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-xp"));
	snprintf(path, sizeof(path), "%s/out.ipfix", dir);
	write_file(path, 0, 0, 20);
	read_file(path, &cap);
	cr_assert_gt(xcap_split(&cap, off, 64), 2);
	cr_expect_eq(be_uint(cap.b + 16, 2), IPFIX_SET_TEMPLATE, "templates first");
	fx_init(&f, 1);
	xcap_decode(&f, &cap);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	cr_assert_eq(f.lg->n, 40 + 2);
	for (uint32_t i = 0; i < 20; i++) {
		struct meter_rec r = xrec(i % 2, i);

		if (i % 5 == 4) {
			r.key.proto = i % 2 ? 58 : 1;
			r.icmp_type = 3;
			r.icmp_code = 1;
		}
		xcheck(&f.lg->r[1 + 2 * i], &r, 0, 0);
		xcheck(&f.lg->r[2 + 2 * i], &r, 1, 0);
	}
	fx_fini(&f);
	free(cap.b);
	tmpdir_remove(dir);
}

/* "-" writes to stdout: the same messages. */
Test(exp_xp, file_stdout)
{
	char dir[256], path[300];
	struct xcap cap = { 0 };
	int fd, saved;
	struct fx f;

	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-xp"));
	snprintf(path, sizeof(path), "%s/stdout.ipfix", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	cr_assert_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	write_file("-", 1, 0, 7);
	cr_expect_neq(fcntl(STDOUT_FILENO, F_GETFD), -1, "xp closed stdout");
	cr_assert_eq(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	close(fd);
	read_file(path, &cap);
	fx_init(&f, 1);
	xcap_decode(&f, &cap);
	cr_expect_eq(f.lg->n, 7 + 2);
	cr_expect_eq(f.ctx.errors[-WEIR_E_NO_TEMPLATE], 0);
	fx_fini(&f);
	free(cap.b);
	tmpdir_remove(dir);
}

/* The file as UDP frames of a pcap for tshark: every message of it, one
 * per frame, to port 4739. */
static void file_to_pcap(const struct xcap *cap, const char *pcap)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct pktb_ip4 ip = { .src = { 127, 0, 0, 1 }, .dst = { 127, 0, 0, 1 }, .ttl = 64,
			       .proto = PKTB_UDP };
	struct wpcap_wr w = { 0 };
	size_t off[256], n = xcap_split(cap, off, 256);
	char err[256];

	cr_assert_leq(n, 256);
	cr_assert_eq(wpcap_open_write(&w, pcap, 1, err, sizeof(err)), WEIR_OK, "%s", err);
	for (size_t i = 0; i < n; i++) {
		uint8_t frame[2048];
		size_t len = (i + 1 < n ? off[i + 1] : cap->n) - off[i], fl;
		struct pktb b;

		pktb_init(&b, frame, sizeof(frame));
		pktb_eth(&b, mac, mac, PKTB_ETH_IPV4);
		pktb_ipv4(&b, &ip);
		pktb_udp(&b, 40000, 4739, 0);
		pktb_bytes(&b, cap->b + off[i], len);
		fl = pktb_finish(&b);
		cr_assert_gt(fl, 0);
		cr_assert_eq(wpcap_write(&w, frame, fl, T0 + i * MS), WEIR_OK);
	}
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
}

/* Output of a command into out (NUL-terminated); its exit status. */
static int run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0, k;

	cr_assert_not_null(p);
	while (n + 1 < cap && (k = fread(out + n, 1, cap - 1 - n, p)) > 0)
		n += k;
	out[n] = 0;
	return pclose(p);
}

static int have(const char *tool)
{
	char cmd[128], out[64];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1 && echo yes", tool);
	run_cmd(cmd, out, sizeof(out));
	return !strncmp(out, "yes", 3);
}

/* tshark dissects every message (uniflow and biflow, sampled) with no
 * malformed packet and no expert error. */
Test(exp_xp, tshark_dissects, .timeout = 120)
{
	char dir[256], path[300], pcap[300], cmd[1024], out[65536];

	if (!have("tshark"))
		cr_skip_test("SKIPPED: tshark is not installed");
	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-xp"));
	for (int biflow = 0; biflow < 2; biflow++) {
		struct xcap cap = { 0 };

		snprintf(path, sizeof(path), "%s/out%d.ipfix", dir, biflow);
		snprintf(pcap, sizeof(pcap), "%s/out%d.pcap", dir, biflow);
		write_file(path, biflow, 10, 40);
		read_file(path, &cap);
		file_to_pcap(&cap, pcap);
		snprintf(cmd, sizeof(cmd),
			 "tshark -n -r '%s' -d udp.port==4739,cflow "
			 "-Y '_ws.malformed || _ws.expert.severity >= warning' 2>/dev/null", pcap);
		cr_expect_eq(run_cmd(cmd, out, sizeof(out)), 0, "%s", out);
		cr_expect_eq(out[0], 0, "tshark found problems:\n%s", out);
		/* and it sees every flow record: 40 (biflow) or 80 */
		snprintf(cmd, sizeof(cmd),
			 "tshark -n -r '%s' -d udp.port==4739,cflow -T fields -e cflow.srcport "
			 "2>/dev/null | tr ',' '\\n' | grep -c .", pcap);
		run_cmd(cmd, out, sizeof(out));
		cr_expect_eq(atoi(out), biflow ? 40 : 80, "tshark saw %s records", out);
		free(cap.b);
	}
	tmpdir_remove(dir);
}

/* libfixbuf's ipfixDump reads the file with no error and finds every
 * record. */
Test(exp_xp, ipfixdump_reads, .timeout = 60)
{
	char dir[256], path[300], cmd[1024], out[1 << 16];

	if (!have("ipfixDump"))
		cr_skip_test("SKIPPED: ipfixDump (libfixbuf-tools) is not installed");
	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-xp"));
	for (int biflow = 0; biflow < 2; biflow++) {
		snprintf(path, sizeof(path), "%s/out%d.ipfix", dir, biflow);
		write_file(path, biflow, 10, 40);
		snprintf(cmd, sizeof(cmd), "ipfixDump --in '%s' --stats 2>&1", path);
		cr_expect_eq(run_cmd(cmd, out, sizeof(out)), 0, "%s", out);
		cr_expect_null(strcasestr(out, "error"), "%s", out);
		cr_expect_null(strcasestr(out, "warning"), "%s", out);
		/* flow records, two statistics records and the sampling one */
		cr_expect_not_null(strstr(out, biflow ? " 43 Data Records" : " 83 Data Records"),
				   "%s", out);
	}
	tmpdir_remove(dir);
}

/* The export's own addresses, for the live path (its own traffic is not
 * metered): the connected UDP socket's, the collector's; none for a file. */
Test(exp_xp, sockaddrs)
{
	struct sockaddr_storage l, p;
	struct sockaddr_in *l4 = (struct sockaddr_in *)&l, *p4 = (struct sockaddr_in *)&p;
	struct xp_cfg fc = base;
	char dir[256], path[300], err[256];
	uint16_t port;
	int fd = udp_rx(&port);
	struct xp *x = xopen(&base, XP_UDP, port);

	cr_assert_eq(xp_sockaddrs(x, &l, &p), 0);
	cr_assert_eq(l.ss_family, AF_INET);
	cr_assert_eq(p.ss_family, AF_INET);
	cr_expect_eq(ntohs(p4->sin_port), port);
	cr_expect_eq(ntohl(p4->sin_addr.s_addr), 0x7f000001u);
	cr_expect_eq(ntohl(l4->sin_addr.s_addr), 0x7f000001u);
	cr_expect_neq(l4->sin_port, 0, "connected: an ephemeral port");
	xp_close(x, T0, NULL, NULL);
	close(fd);

	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "weir-xp"));
	snprintf(path, sizeof(path), "%s/out.ipfix", dir);
	fc.transport = XP_FILE;
	fc.path = path;
	x = xp_open(&fc, err, sizeof(err));
	cr_assert_not_null(x, "%s", err);
	cr_expect_eq(xp_sockaddrs(x, &l, &p), -1);
	xp_close(x, T0, NULL, NULL);
	tmpdir_remove(dir);
}
