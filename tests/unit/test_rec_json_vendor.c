/* Unit tests of the raw JSON writer (common/rec_json.c) on real exporter
 * payloads (../shared/testdata/vendor-payloads): YAF lists, NetScaler
 * strings, NetFlow v5, and every payload's every record strict JSON (python3's
 * json module too where it is installed), capped cleanly, and the same from
 * the cached writer. Split from test_rec_json.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "ie.h"
#include "ipfix.h"
#include "rd.h"
#include "rec_json.h"
#include "tmpl.h"

#include "msgbuild.h"
#include "rjhelp.h"

/* ---- real exporter payloads ------------------------------------------------ */

static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s ? s : "../shared";
}

/* Decode a file: IPFIX files may hold several messages back to back. */
static int decode_file(struct weir_ctx *ctx, const struct weir_exporter *e, const uint8_t *b,
		       size_t n)
{
	size_t off = 0, ml;
	int err = WEIR_OK, e2;

	if (n >= 2 && b[0] == 0 && b[1] == 10) {
		while (off < n && ipfix_msg_length(b + off, n - off, &ml) == WEIR_OK) {
			e2 = ipfix_decode(ctx, e, b + off, ml, 1700000000000000000ull);
			if (!err)
				err = e2;
			off += ml;
		}
		return err;
	}
	return weir_decode(ctx, e, b, n, 1700000000000000000ull);
}

static void feed(struct weir_ctx *ctx, const char *const *files, size_t n)
{
	static uint8_t buf[VENDOR_MAX];
	struct weir_exporter e;

	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0xc0000201);
	e.port = 2055;
	for (size_t k = 0; k < n; k++) {
		long len = vendor_load(files[k], buf, VENDOR_MAX);

		if (len < 0)
			cr_skip_test("vendor payload %s absent", files[k]);
		decode_file(ctx, &e, buf, (size_t)len);
	}
}

/* YAF: every flow record holds a subTemplateMultiList (values as tshark
 * shows them); an options record puts its scope under "scope". */
Test(rec_json_vendor, yaf_stml_and_options)
{
	static const char *const files[] = {
		"ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
		"ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data53248.dat",
	};
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = cache_new();
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 4);
	cr_assert_eq(lg.n, 2);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"172.16.32.201\"") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"destinationTransportPort\":53,") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"reverseOctetTotalCount\":200") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"subTemplateMultiList\":[{\"sourceMacAddress\":"
				     "\"00:0c:29:70:86:09\",\"destinationMacAddress\":"
				     "\"00:0c:29:8d:af:c3\"}]") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[1], "\"options\":true,") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"scope\":{") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"packetTotalCount\":1960") != NULL, "%s", lg.line[1]);
	cr_expect(strstr(lg.line[1], "\"ignoredPacketTotalCount\":58") != NULL, "%s", lg.line[1]);
	cap_log_free(&lg);
	tmpl_cache_free(ctx.cache);
}

/* NetScaler: variable-length strings, one of 602 bytes in the 3-byte
 * form; "GET" arrives with its C terminator, a cookie as one NUL. */
Test(rec_json_vendor, netscaler_strings)
{
	static const char *const files[] = {
		"ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat",
	};
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };
	const char *p;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = cache_new();
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 2);
	cr_assert_eq(lg.n, 3);
	cr_expect(strstr(lg.line[0], "\"httpRequestCookie\":\"\"") != NULL, "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"192.168.0.1\"") != NULL, "%s",
		  lg.line[0]);
	cr_expect(strstr(lg.line[2], "\"httpRequestMethod\":\"GET\"") != NULL, "%s", lg.line[2]);
	p = strstr(lg.line[2], "\"httpRequestUrl\":\"/aa/bb/ccccc/");
	cr_expect_not_null(p, "%s", lg.line[2]);
	p = strstr(lg.line[2], "\"httpRequestCookie\":\"");
	cr_assert_not_null(p);
	p += strlen("\"httpRequestCookie\":\"");
	cr_expect_gt(strcspn(p, "\""), 500, "the 602-byte cookie");
	cap_log_free(&lg);
	tmpl_cache_free(ctx.cache);
}

/* NetFlow v5: the static template of nf5_template(); padding not shown. */
Test(rec_json_vendor, netflow5)
{
	static const char *const files[] = { "netflow5_test_juniper_mx80.dat" };
	struct weir_ctx ctx;
	struct cap_log lg = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.on_record = log_json;
	ctx.user = &lg;
	lg.sweep = 1;
	feed(&ctx, files, 1);
	cr_assert_gt(lg.n, 0);
	cr_expect(strstr(lg.line[0], "{\"type\":\"NETFLOW_V5\",") == lg.line[0], "%s", lg.line[0]);
	cr_expect(strstr(lg.line[0], "\"sys_uptime_ms\":") != NULL);
	cr_expect(strstr(lg.line[0], "\"sourceIPv4Address\":\"") != NULL);
	cr_expect(strstr(lg.line[0], "\"bgpDestinationAsNumber\":") != NULL);
	cr_expect(strstr(lg.line[0], "padding") == NULL, "%s", lg.line[0]);
	cap_log_free(&lg);
}

/* Every payload: every record is strict JSON, caps below its length give
 * 0 without writing past cap; python3's json module agrees where present. */
struct corpus {
	FILE *py;
	int py_short;
	size_t records, sweeps;
};

/* rec_json_cached() must write what rec_json() writes, record after
 * record of every vendor's templates, options and lists, with one cache
 * that sees templates, messages and exporters change under it. */
static struct rec_json_cache corpus_cache;
static char out_cached[REC_JSON_MAX];

static int corpus_rec(const struct weir_record *rec, void *user)
{
	struct corpus *c = user;
	size_t n = rec_json(rec, out, sizeof(out));
	size_t m = rec_json_cached(rec, out_cached, sizeof(out_cached), &corpus_cache);

	cr_assert_gt(n, 0);
	cr_assert_eq(m, n, "cached: %zu bytes, uncached %zu", m, n);
	cr_assert_eq(memcmp(out, out_cached, n), 0, "cached output differs:\n%.*s\n%.*s",
		     (int)n, out, (int)m, out_cached);
	EXPECT_JSON(out, n);
	/* A python3 that stopped on a bad line closed its end: its exit
	 * status tells, below. */
	if (c->py && fwrite(out, 1, n, c->py) != n)
		c->py_short = 1;
	if (c->sweeps < 400) {
		c->sweeps++;
		cap_sweep(rec, out, n, n > 2048 ? 7 : 1);
	} else {
		cap_sweep(rec, out, n, n / 3 + 1);
	}
	c->records++;
	return 0;
}

/* One exporter per capture, so that vendors' template ids do not collide:
 * a hash of the name up to "_tpl", "_opttpl", "_data". */
static unsigned vendor_key(const char *name)
{
	static const char *const marks[] = { "_tpl", "_opttpl", "_data" };
	const char *end = name + strlen(name);
	unsigned h = 0;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(name, marks[i]);

		if (p && p < end)
			end = p;
	}
	for (const char *s = name; s < end; s++)
		h = h * 31 + (unsigned char)*s;
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(rec_json_vendor, every_payload_is_strict_json, .timeout = 120)
{
	static const char script[] =
		"import json, sys\n"
		"def pairs(p):\n"
		"    k = [a for a, _ in p]\n"
		"    if len(k) != len(set(k)):\n"
		"        raise ValueError('duplicate key')\n"
		"    return dict(p)\n"
		"def const(c):\n"
		"    raise ValueError('constant ' + c)\n"
		"n = 0\n"
		"for line in sys.stdin.buffer:\n"
		"    json.loads(line.decode('utf-8'), object_pairs_hook=pairs, parse_constant=const)\n"
		"    n += 1\n"
		"print(n)\n";
	char dir[1024], spath[] = "/tmp/weir-rj-py-XXXXXX", opath[] = "/tmp/weir-rj-out-XXXXXX";
	char cmd[256], *names[256];
	size_t nn = 0;
	struct corpus c = { 0 };
	struct weir_ctx ctx;
	struct dirent *de;
	DIR *d;
	int fd, have_py;

	snprintf(dir, sizeof(dir), "%s/testdata/vendor-payloads", shared_dir());
	d = opendir(dir);
	if (!d)
		cr_skip_test("vendor payloads absent (%s)", dir);
	while ((de = readdir(d)) && nn < 256)
		if (strstr(de->d_name, ".dat"))
			names[nn++] = strdup(de->d_name);
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_str);
	cr_assert_gt(nn, 50);

	signal(SIGPIPE, SIG_IGN);
	have_py = system("python3 -c 'import json' >/dev/null 2>&1") == 0;
	if (have_py) {
		fd = mkstemp(spath);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, script, sizeof(script) - 1), (ssize_t)sizeof(script) - 1);
		close(fd);
		fd = mkstemp(opath);
		cr_assert_geq(fd, 0);
		close(fd);
		snprintf(cmd, sizeof(cmd), "python3 %s > %s 2>&1", spath, opath);
		c.py = popen(cmd, "w");
		cr_assert_not_null(c.py);
	} else {
		cr_log_warn("python3 absent: only the built-in validator ran");
	}

	/* Twice through one cache: the first pass learns every template
	 * (files of one exporter share it, as on the wire), the second
	 * decodes data that came before its template in name order. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = cache_new();
	ctx.on_record = corpus_rec;
	ctx.user = &c;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < nn; k++) {
			static uint8_t buf[VENDOR_MAX];
			struct weir_exporter e;
			long len = vendor_load(names[k], buf, VENDOR_MAX);

			cr_assert_geq(len, 0);
			memset(&e, 0, sizeof(e));
			weir_addr_v4u(&e.addr, 0x0a000000u | (vendor_key(names[k]) & 0xffffff));
			e.port = 2055;
			decode_file(&ctx, &e, buf, (size_t)len);
		}
	}
	cr_expect_gt(c.records, 300, "records decoded: %zu", c.records);
	if (c.py) {
		char res[256] = "";
		FILE *o;
		int st = pclose(c.py);

		o = fopen(opath, "r");
		cr_assert_not_null(o);
		if (!fgets(res, sizeof(res), o))
			res[0] = '\0';
		fclose(o);
		unlink(spath);
		unlink(opath);
		cr_expect_eq(st, 0, "python3 json: %s", res);
		cr_expect_not(c.py_short, "python3 stopped reading");
		cr_expect_eq(strtoul(res, NULL, 10), c.records, "python3 parsed %s lines", res);
	}
	tmpl_cache_free(ctx.cache);
	for (size_t k = 0; k < nn; k++)
		free(names[k]);
}
