/* test_exp_offline.c - weir-exporter's offline driver (exporter/offline.c):
 * every capture of tcpdump's test suite through the whole path (reader,
 * parser, meter, exporting process into a file) without a crash (make asan
 * runs it under ASan and UBSan), every IP packet in some exported record;
 * files in order as one stream; a stop request; files that cannot be read. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "offline.h"
#include "pkt.h"
#include "pktbuild.h"
#include "prog_log.h"
#include "tmpdir.h"
#include "wpcap.h"

static char dir[64];
static volatile sig_atomic_t no_stop;

static void mk(void)
{
	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "test_exp_offline"));
	/* The driver logs every file it skips: not the test's output. */
	prog_log_set_fd(open("/dev/null", O_WRONLY));
}

static void rm(void)
{
	tmpdir_remove(dir);
}

TestSuite(exp_offline, .init = mk, .fini = rm);

/* What the parser makes of a file on its own: frames, and IP packets. */
static int count_ip(const char *path, uint64_t *frames, uint64_t *ip)
{
	struct wpcap_rd r;
	struct wpcap_frame f;
	struct pkt_info pi;
	char err[256];
	int start;

	*frames = *ip = 0;
	if (wpcap_open_read(&r, path, err, sizeof(err)))
		return -1;
	start = pkt_start_of_dlt(r.dlt);
	if (start < 0) {
		wpcap_close_read(&r);
		return -1;
	}
	while (wpcap_next(&r, &f) == 1) {
		(*frames)++;
		pkt_parse_frame(&pi, f.p, f.caplen, f.len, start);
		*ip += (pi.layers & (PKT_L_IPV4 | PKT_L_IPV6)) != 0;
	}
	wpcap_close_read(&r);
	return 0;
}

static void cfg_for(struct exp_cfg *c, const char *out)
{
	exp_cfg_defaults(c);
	c->ipfix_file = out;
	c->max_flows = 4096;
}

Test(exp_offline, tcpdump_captures, .timeout = 600)
{
	const char *s = getenv("WEIR_SHARED");
	char d[512], path[1024], out[128], err[256];
	unsigned files = 0, parsed = 0;
	uint64_t ip_total = 0;
	struct dirent *e;
	DIR *dp;

	snprintf(d, sizeof(d), "%s/testdata/tcpdump-pcaps", s && *s ? s : "../shared");
	dp = opendir(d);
	if (!dp)
		cr_skip_test("%s absent (set WEIR_SHARED to the shared folder)", d);
	snprintf(out, sizeof(out), "%s/out.ipfix", dir);
	while ((e = readdir(dp))) {
		struct exp_cfg c;
		struct off_sum sum;
		uint64_t frames, ip;
		int known;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		known = count_ip(path, &frames, &ip) == 0;
		cfg_for(&c, out);
		c.pcaps[c.npcaps++] = path;
		cr_assert_eq(off_run(&c, &no_stop, &sum, err, sizeof(err)), 0, "%s: %s", e->d_name, err);
		files++;
		cr_expect_eq(sum.xp_failed, 0, "%s: the export failed", e->d_name);
		if (!known) {
			cr_expect_eq(sum.files + sum.files_failed, 1, "%s", e->d_name);
			continue;
		}
		parsed++;
		ip_total += ip;
		cr_expect_eq(sum.frames, frames, "%s: %llu frames, %llu read alone", e->d_name,
			     (unsigned long long)sum.frames, (unsigned long long)frames);
		cr_expect_eq(sum.xp.packets, ip, "%s: %llu packets exported, %llu IP packets",
			     e->d_name, (unsigned long long)sum.xp.packets, (unsigned long long)ip);
		cr_expect_eq(sum.xp.records_lost, 0, "%s", e->d_name);
	}
	closedir(dp);
	cr_assert_gt(files, 800, "only %u captures in %s", files, d);
	cr_assert_gt(parsed, 500, "only %u captures of a link type weir parses", parsed);
	cr_assert_gt(ip_total, 5000);
}

/* Two files are one stream: a flow goes on from the first into the
 * second, and the frames of both count. */
static void write_udp(const char *path, uint64_t t0, int n)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct pktb_ip4 ip = { .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 }, .ttl = 64,
			       .proto = PKTB_UDP };
	uint8_t buf[256];
	struct wpcap_wr w;
	struct pktb b;
	char err[256];

	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_OK, "%s", err);
	for (int i = 0; i < n; i++) {
		size_t len;

		pktb_init(&b, buf, sizeof(buf));
		pktb_eth(&b, mac, mac, PKTB_ETH_IPV4);
		pktb_ipv4(&b, &ip);
		pktb_udp(&b, 1000, 53, 0);
		pktb_bytes(&b, buf, 20);
		len = pktb_finish(&b);
		cr_assert_gt(len, 0);
		cr_assert_eq(wpcap_write(&w, buf, len, t0 + (uint64_t)i * 1000000000ull), WEIR_OK);
	}
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
}

Test(exp_offline, files_are_one_stream)
{
	char a[128], b[128], out[128], err[256];
	struct exp_cfg c;
	struct off_sum sum;

	snprintf(a, sizeof(a), "%s/a.pcap", dir);
	snprintf(b, sizeof(b), "%s/b.pcap", dir);
	snprintf(out, sizeof(out), "%s/out.ipfix", dir);
	write_udp(a, 1700000000000000000ull, 3);
	write_udp(b, 1700000003000000000ull, 4);
	cfg_for(&c, out);
	c.pcaps[c.npcaps++] = a;
	c.pcaps[c.npcaps++] = b;
	cr_assert_eq(off_run(&c, &no_stop, &sum, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sum.files, 2);
	cr_assert_eq(sum.frames, 7);
	cr_assert_eq(sum.meter.flows_created, 1, "one flow across both files");
	cr_assert_eq(sum.xp.records, 1);
	cr_assert_eq(sum.xp.packets, 7);
	cr_assert_eq(sum.xp.octets, 7 * 48);
	cr_assert_eq(sum.last_ns, 1700000006000000000ull);
	cr_assert_eq(sum.stopped, 0);
}

/* A stop request before the first frame: nothing metered, the export
 * still opened and closed, the run marked stopped. */
Test(exp_offline, stop_request)
{
	static volatile sig_atomic_t stop = 1;
	char a[128], out[128], err[256];
	struct exp_cfg c;
	struct off_sum sum;

	snprintf(a, sizeof(a), "%s/a.pcap", dir);
	snprintf(out, sizeof(out), "%s/out.ipfix", dir);
	write_udp(a, 1700000000000000000ull, 5);
	cfg_for(&c, out);
	c.pcaps[c.npcaps++] = a;
	c.pcaps[c.npcaps++] = a;
	cr_assert_eq(off_run(&c, &stop, &sum, err, sizeof(err)), 0, "%s", err);
	cr_assert(sum.stopped);
	cr_assert_eq(sum.files, 1, "the second file is not opened");
	cr_assert_eq(sum.frames, 0);
	cr_assert_eq(sum.xp.records, 0);
	cr_assert_gt(sum.xp.messages, 0, "templates and statistics still go out");
}

/* A file that cannot be opened, one of a link type weir does not parse,
 * and a good one: the good one is metered, the others counted. */
Test(exp_offline, unreadable_files_counted)
{
	char a[128], bad[128], out[128], err[256], line[1024];
	struct exp_cfg c;
	struct off_sum sum;
	struct wpcap_wr w;

	snprintf(a, sizeof(a), "%s/a.pcap", dir);
	snprintf(bad, sizeof(bad), "%s/ieee802_11.pcap", dir);
	snprintf(out, sizeof(out), "%s/out.ipfix", dir);
	write_udp(a, 1700000000000000000ull, 2);
	cr_assert_eq(wpcap_open_write(&w, bad, 105, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
	cfg_for(&c, out);
	c.pcaps[c.npcaps++] = "/nonexistent/x.pcap";
	c.pcaps[c.npcaps++] = bad;
	c.pcaps[c.npcaps++] = a;
	cr_assert_eq(off_run(&c, &no_stop, &sum, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(sum.files_failed, 2);
	cr_assert_eq(sum.files, 1);
	cr_assert_eq(sum.xp.packets, 2);
	off_summary(&sum, line, sizeof(line));
	cr_assert_not_null(strstr(line, "1 file, 2 packets"), "%s", line);
}

/* The exporting process cannot open: the run does not start. */
Test(exp_offline, export_cannot_open)
{
	char err[256] = "";
	struct exp_cfg c;
	struct off_sum sum;

	cfg_for(&c, "/nonexistent/dir/out.ipfix");
	c.pcaps[c.npcaps++] = "/nonexistent/x.pcap";
	cr_assert_eq(off_run(&c, &no_stop, &sum, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "out.ipfix"), "%s", err);
}
