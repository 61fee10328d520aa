/* Unit tests of whole generator runs (generator/run.c, pcapw.c): same seed,
 * same bytes; the schedule clock; flag combinations refused with exit 2;
 * pcap frames that are valid IPv4/IPv6 UDP and decode without error. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "err.h"
#include "prog_log.h"
#include "pcapw.h"
#include "run.h"
#include "tmpl.h"
#include "wpcap.h"

static char tmpdir[64];
static volatile sig_atomic_t no_stop;

static void mk_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_gen_run.XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp");
	prog_log_init("weir-generator");
	prog_log_set(PROG_LOG_ERROR);
}

static void rm_tmpdir(void)
{
	char cmd[128];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static struct gen_cfg cfg_for(enum gen_proto p, uint64_t seed, const char *pcap)
{
	struct gen_cfg c;
	char err[128];

	gen_cfg_defaults(&c);
	c.proto = p;
	c.seed = seed;
	c.seeded = 1;
	c.pcap_out = pcap;
	c.quiet = 1;
	c.count = 300;
	c.exporters = 2;
	c.sampling_rate = p == GEN_V5 ? 1 : 10;
	if (p != GEN_V5) {
		cr_assert_eq(prog_parse_cidr_list("10.0.0.0/8,2001:db8::/32", c.model.src, MODEL_MAX_RANGES,
					     &c.model.nsrc, err, sizeof(err)), 0);
		cr_assert_eq(prog_parse_cidr_list("192.168.0.0/16,2001:db8:1::/48", c.model.dst,
					     MODEL_MAX_RANGES, &c.model.ndst, err, sizeof(err)), 0);
	}
	c.model.zipf_s = 1.0;
	return c;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(fp, "%s missing", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void run_to(enum gen_proto p, uint64_t seed, const char *name, char *path, size_t cap)
{
	struct gen_cfg c;

	snprintf(path, cap, "%s/%s", tmpdir, name);
	c = cfg_for(p, seed, path);
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK, "%s", gen_proto_name(p));
}

Test(gen_run, same_seed_same_bytes, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	for (int p = 0; p < 4; p++) {
		char a[128], b[128], d[128];
		size_t la, lb, ld;
		char *ba, *bb, *bd;

		run_to((enum gen_proto)p, 1234, "a.pcap", a, sizeof(a));
		run_to((enum gen_proto)p, 1234, "b.pcap", b, sizeof(b));
		run_to((enum gen_proto)p, 1235, "d.pcap", d, sizeof(d));
		ba = slurp(a, &la);
		bb = slurp(b, &lb);
		bd = slurp(d, &ld);
		cr_assert_gt(la, 300 * 100);
		cr_assert_eq(la, lb, "%s: sizes differ", gen_proto_name(p));
		cr_assert_eq(memcmp(ba, bb, la), 0, "%s: same seed, different bytes",
			     gen_proto_name(p));
		cr_assert(la != ld || memcmp(ba, bd, la) != 0, "%s: another seed, same bytes",
			  gen_proto_name(p));
		free(ba);
		free(bb);
		free(bd);
	}
}

/* The schedule to the nanosecond, without drift however far. */
Test(gen_run, schedule_arithmetic)
{
	const uint64_t t0 = 1700000000ull * 1000000000ull;

	cr_assert_eq(gen_schedule_ns(t0, 3, 0), t0);
	cr_assert_eq(gen_schedule_ns(t0, 3, 1), t0 + 333333333);
	cr_assert_eq(gen_schedule_ns(t0, 3, 2), t0 + 666666666);
	cr_assert_eq(gen_schedule_ns(t0, 3, 3), t0 + 1000000000);
	cr_assert_eq(gen_schedule_ns(t0, 3, 7), t0 + 2333333333ull);
	cr_assert_eq(gen_schedule_ns(t0, 3, 3000000000ull), t0 + 1000000000000000000ull);
	cr_assert_eq(gen_schedule_ns(t0, 200000, 7), t0 + 35000);
	cr_assert_eq(gen_schedule_ns(t0, 0, 7), t0 + 7 * GEN_NOMINAL_PERIOD_NS);
	cr_assert_eq(gen_seed_epoch_ns(42), (GEN_SEED_EPOCH_S + 42) * 1000000000ull);
	cr_assert_eq(gen_seed_epoch_ns(1000042), gen_seed_epoch_ns(42));
	cr_assert_eq(gen_payload_max(1500, 0), 1472);
	cr_assert_eq(gen_payload_max(1500, 1), 1452);
}

/* Frame k of a seeded run is stamped T0 + k / rate, and the export
 * headers carry the same clock. */
Test(gen_run, schedule_clock, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[128], ebuf[256];
	struct wpcap_frame f;
	struct wpcap_rd p;
	struct gen_cfg c;
	uint64_t t0 = gen_seed_epoch_ns(77), k = 0;

	snprintf(path, sizeof(path), "%s/clock.pcap", tmpdir);
	c = cfg_for(GEN_IPFIX, 77, path);
	c.rate = 400;
	c.count = 1000;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	cr_assert_eq(wpcap_open_read(&p, path, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	while (wpcap_next(&p, &f) == 1) {
		const uint8_t *d = f.p;
		uint64_t want = t0 + k * 1000000000ull / 400;
		uint32_t export = (uint32_t)d[42 + 4] << 24 | d[42 + 5] << 16 | d[42 + 6] << 8 |
				  d[42 + 7];

		/* The file is to the microsecond. */
		cr_assert_eq(f.t_ns, want / 1000 * 1000, "frame %llu", (unsigned long long)k);
		cr_assert_eq(export, want / 1000000000ull, "IPFIX export time of frame %llu",
			     (unsigned long long)k);
		k++;
	}
	wpcap_close_read(&p);
	cr_assert_eq(k, 1000 + 2, "1000 data datagrams and one template datagram per exporter");
}

/* In a pcap run --duration is schedule time: 2 s at 100/s is 200
 * datagrams; templates are re-sent every --template-interval of it. */
Test(gen_run, duration_and_template_interval, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[128], ebuf[256];
	struct wpcap_frame f;
	struct wpcap_rd p;
	struct gen_cfg c;
	uint64_t frames = 0, tmpl = 0;

	snprintf(path, sizeof(path), "%s/dur.pcap", tmpdir);
	c = cfg_for(GEN_IPFIX, 3, path);
	c.count = 0;
	c.exporters = 1;
	c.rate = 10;
	c.duration_ns = 20ull * 1000000000ull;
	c.template_interval_s = 5;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	cr_assert_eq(wpcap_open_read(&p, path, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	while (wpcap_next(&p, &f) == 1) {
		uint16_t set = (uint16_t)(f.p[42 + 16] << 8 | f.p[42 + 17]);

		if (set == 2) {
			/* at 0, 5, 10, 15 s of the schedule: frames 0, 50, 100, 150 */
			cr_assert_eq(frames % 50, 0, "template in frame %llu",
				     (unsigned long long)frames);
			tmpl++;
		}
		frames++;
	}
	wpcap_close_read(&p);
	cr_assert_eq(frames, 200);
	cr_assert_eq(tmpl, 4);
}

/* ---- flags only the run can judge: exit 2, nothing written ---- */

static int run_expect(struct gen_cfg *c)
{
	return gen_run(c, &no_stop);
}

/* gen_run with its stderr caught: what it said, into said (cap bytes). */
static int run_said(struct gen_cfg *c, char *said, size_t cap)
{
	char path[128];
	int fd, saved, ret;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(fd, STDERR_FILENO), 0);
	ret = gen_run(c, &no_stop);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, said, cap - 1, 0);
	close(fd);
	unlink(path);
	cr_assert_geq(n, 0);
	said[n] = 0;
	return ret;
}

/* Refused as bad usage, as a bad flag is (prog_cli_error): exit 2 and the
 * one line "weir-generator: <why ...>; see --help". */
static void refused(struct gen_cfg *c, const char *why)
{
	static const char pre[] = "weir-generator: ", post[] = "; see --help\n";
	char said[1024];
	size_t n;

	cr_assert_eq(run_said(c, said, sizeof(said)), GEN_EXIT_USAGE, "%s: exit 2", why);
	n = strlen(said);
	cr_assert(n > strlen(pre) + strlen(post) && strncmp(said, pre, strlen(pre)) == 0 &&
		  strcmp(said + n - strlen(post), post) == 0 && strchr(said, '\n') == said + n - 1,
		  "not one usage error line: \"%s\"", said);
	cr_assert_not_null(strstr(said, why), "said \"%s\", not \"%s\"", said, why);
}

Test(gen_run, impossible_combinations_exit_2, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[128];
	struct gen_cfg c;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/never.pcap", tmpdir);
	c = cfg_for(GEN_V5, 1, path);
	cr_assert_eq(prog_parse_cidr_list("2001:db8::/32", c.model.src, MODEL_MAX_RANGES, &c.model.nsrc,
				     (char[128]){ 0 }, 128), 0);
	cr_assert_eq(prog_parse_cidr_list("2001:db8:1::/48", c.model.dst, MODEL_MAX_RANGES,
				     &c.model.ndst, (char[128]){ 0 }, 128), 0);
	refused(&c, ": NetFlow v5 carries IPv4 flows only: --src-cidr and --dst-cidr must be IPv4 ranges");

	c = cfg_for(GEN_V5, 1, path);
	c.flows_per_packet = 31;
	refused(&c, ": 31 v5 records do not fit one datagram (v5 carries at most 30): lower -f");
	/* 30 v5 records past a 1400-byte MTU are sent, IP-fragmented (issue
	 * 11, fault 8: test_gen_mtu.c). */
	c.flows_per_packet = 30;
	c.sampling_rate = 20000;
	refused(&c, ": --sampling-rate 20000: NetFlow v5 carries at most 16383");
	c.sampling_rate = 1;
	c.domain = 65535;
	c.exporters = 2;
	refused(&c, ": NetFlow v5 domains (engine type and id) are 16 bits: ");

	c = cfg_for(GEN_IPFIX, 1, path);
	c.flows_per_packet = 1000;
	refused(&c, ": 1000 ipfix records do not fit one datagram (at most ");
	c.flows_per_packet = 18;
	c.count = 1;
	cr_assert_eq(run_expect(&c), GEN_EXIT_OK, "18 in 1500 bytes: sent, IP-fragmented");

	c = cfg_for(GEN_SFLOW, 1, path);
	c.host = "no-such-host.invalid";
	refused(&c, ": -H no-such-host.invalid: ");

	c = cfg_for(GEN_IPFIX, 1, path);
	c.domain = UINT32_MAX;
	refused(&c, ": --observation-domain-id + --exporters - 1 is above 2^32 - 1");

	/* the refused runs created nothing but the one that ran */
	fp = fopen(path, "rb");
	cr_assert_not_null(fp);
	fclose(fp);
	remove(path);
	c = cfg_for(GEN_V9, 1, path);
	c.flows_per_packet = 5000;
	refused(&c, ": 5000 v9 records do not fit one datagram (at most ");
	cr_assert_null(fopen(path, "rb"), "a refused run created its pcap");
}

Test(gen_run, unwritable_pcap_exit_1, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[128];
	struct gen_cfg c;

	snprintf(path, sizeof(path), "%s/no/such/dir.pcap", tmpdir);
	c = cfg_for(GEN_V9, 1, path);
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_FAIL);
}

/* ---- the frames ---- */

static uint32_t csum_words(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Every frame: Ethernet, a valid IPv4 or IPv6 header, a UDP header whose
 * length and checksum are right, to the collector's port; and the payload
 * decodes through one cache without a single error. */
static void check_pcap(const char *path, int v6, uint16_t dport, uint64_t *records)
{
	char ebuf[256];
	struct tmpl_cache *cache = tmpl_cache_new(NULL, NULL);
	struct weir_ctx ctx = { .cache = cache };
	struct wpcap_frame f;
	struct wpcap_rd p;

	cr_assert_eq(wpcap_open_read(&p, path, ebuf, sizeof(ebuf)), WEIR_OK, "%s", ebuf);
	cr_assert_not_null(cache);
	while (wpcap_next(&p, &f) == 1) {
		const uint8_t *d = f.p;
		size_t ip = v6 ? 40 : 20, udp_len = f.caplen - 14 - ip;
		const uint8_t *u = d + 14 + ip;
		struct weir_exporter ex = { .port = (uint16_t)(u[0] << 8 | u[1]) };
		uint32_t sum;
		int r;

		cr_assert_eq(d[12] << 8 | d[13], v6 ? 0x86dd : 0x0800);
		if (v6) {
			cr_assert_eq(d[14] >> 4, 6);
			cr_assert_eq(d[14 + 4] << 8 | d[14 + 5], udp_len);
			cr_assert_eq(d[14 + 6], 17);
			sum = csum_words(d + 14 + 8, 32, 0);
			weir_addr_v6(&ex.addr, d + 14 + 8);
		} else {
			cr_assert_eq(d[14], 0x45);
			cr_assert_eq(d[14 + 2] << 8 | d[14 + 3], f.caplen - 14);
			cr_assert_eq(fold(csum_words(d + 14, 20, 0)), 0xffff, "IPv4 header checksum");
			cr_assert_eq(d[14 + 9], 17);
			sum = csum_words(d + 14 + 12, 8, 0);
			weir_addr_v4(&ex.addr, d + 14 + 12);
		}
		cr_assert_eq(u[2] << 8 | u[3], dport);
		cr_assert_eq(u[4] << 8 | u[5], udp_len);
		sum += 17 + (uint32_t)udp_len;
		cr_assert_eq(fold(csum_words(u, udp_len, sum)), 0xffff, "UDP checksum");
		r = weir_decode(&ctx, &ex, u + 8, udp_len - 8, 0);
		cr_assert_eq(r, WEIR_OK, "%s: %s", path, weir_strerror(r));
	}
	wpcap_close_read(&p);
	for (int e = 1; e < WEIR_E_MAX; e++)
		cr_assert_eq(ctx.errors[e], 0, "%s: %s", path, weir_errname(-e));
	*records = ctx.records;
	tmpl_cache_free(cache);
}

Test(gen_run, pcap_frames_are_valid_and_decode, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	const char *hosts[] = { "127.0.0.1", "::1" };

	for (int v6 = 0; v6 < 2; v6++) {
		for (int p = 0; p < 4; p++) {
			char path[128];
			struct gen_cfg c;
			uint64_t records;
			/* data records, plus the sampling options records of
			 * the template datagrams (one per exporter) */
			uint64_t want = 300 * 10 + (p == GEN_IPFIX || p == GEN_V9 ? 2 : 0);

			snprintf(path, sizeof(path), "%s/%d-%s.pcap", tmpdir, v6, gen_proto_name(p));
			c = cfg_for((enum gen_proto)p, 9, path);
			c.host = hosts[v6];
			c.port = 9995;
			c.model.nprotos = 3;
			c.model.protos[2] = p == GEN_V5 ? 1 : 58;
			if (v6 && p != GEN_V5)
				c.flows_per_packet = 10;
			cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK, "%s over IPv%d",
				     gen_proto_name(p), v6 ? 6 : 4);
			check_pcap(path, v6, 9995, &records);
			cr_assert_eq(records, want, "%s over IPv%d", gen_proto_name(p), v6 ? 6 : 4);
		}
	}
}

/* pcapw_frame on its own: an odd payload length, and what does not fit. */
Test(gen_run, frame_builder)
{
	uint8_t buf[128], payload[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct weir_addr s, d;
	size_t n;

	weir_addr_v4u(&s, 0x7f000001);
	weir_addr_v4u(&d, 0xc0000201);
	n = pcapw_frame(buf, sizeof(buf), &s, 40000, &d, 2055, 9, payload, sizeof(payload));
	cr_assert_eq(n, 14 + 20 + 8 + 7);
	cr_assert_eq(buf[18] << 8 | buf[19], 9, "IP identification");
	cr_assert_eq(fold(csum_words(buf + 14, 20, 0)), 0xffff);
	cr_assert_eq(fold(csum_words(buf + 34, 15, csum_words(buf + 26, 8, 0) + 17 + 15)), 0xffff);
	cr_assert_eq(pcapw_frame(buf, 40, &s, 1, &d, 2, 0, payload, sizeof(payload)), 0);
}
