/* test_wpcap.c - the pcap reader and writer of wpcap.h: what is written
 * reads back the same, cut frames and bounds, errors that name the file;
 * the classic format read without libpcap gives what libpcap gives (every
 * capture of the shared set), pcapng still goes through libpcap. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"
#include "err.h"
#include "wpcap.h"

static char dir[64];

static void mk(void)
{
	cr_assert_not_null(tmpdir_make(dir, sizeof(dir), "test_wpcap"));
}

static void rm(void)
{
	tmpdir_remove(dir);
}

TestSuite(wpcap, .init = mk, .fini = rm);

Test(wpcap, frames_read_back)
{
	static uint8_t frame[3004];
	char path[128], err[256];
	struct wpcap_wr w;
	struct wpcap_rd r;
	struct wpcap_frame f;
	uint64_t t0 = 1700000000123456789ull;
	size_t lens[] = { 1, 60, 1514, 3000 };

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 31 + 7);
	snprintf(path, sizeof(path), "%s/a.pcap", dir);
	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_RAW, err, sizeof(err)), WEIR_OK, "%s", err);
	for (size_t i = 0; i < 4; i++)
		cr_assert_eq(wpcap_write(&w, frame + i, lens[i], t0 + i * 1000001), WEIR_OK);
	cr_assert_eq(wpcap_write_cut(&w, frame, 100, 1500, t0), WEIR_OK);
	cr_assert_eq(wpcap_write(&w, frame, WPCAP_SNAPLEN + 1, t0), WEIR_E_INVALID);
	cr_assert_eq(wpcap_write_cut(&w, frame, 10, 9, t0), WEIR_E_INVALID);
	cr_assert_eq(w.frames, 5);
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);

	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(r.dlt, WPCAP_DLT_RAW);
	for (size_t i = 0; i < 4; i++) {
		uint64_t t = t0 + i * 1000001;

		cr_assert_eq(wpcap_next(&r, &f), 1);
		cr_assert_eq(f.caplen, lens[i]);
		cr_assert_eq(f.len, lens[i]);
		cr_assert_eq(memcmp(f.p, frame + i, lens[i]), 0);
		cr_assert_eq(f.t_ns, t / 1000 * 1000, "microsecond file: %llu", (unsigned long long)f.t_ns);
	}
	cr_assert_eq(wpcap_next(&r, &f), 1);
	cr_assert_eq(f.caplen, 100);
	cr_assert_eq(f.len, 1500);
	cr_assert_eq(wpcap_next(&r, &f), 0, "end of file");
	cr_assert_eq(r.frames, 5);
	wpcap_close_read(&r);
	wpcap_close_read(&r);	/* twice is harmless */
}

Test(wpcap, errors_name_the_file)
{
	char path[128], err[256];
	struct wpcap_rd r;
	struct wpcap_wr w;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/none.pcap", dir);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_E_IO);
	cr_assert_not_null(strstr(err, "none.pcap"), "%s", err);
	snprintf(path, sizeof(path), "%s/not.pcap", dir);
	fp = fopen(path, "w");
	fputs("this is not a capture file at all\n", fp);
	fclose(fp);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_E_IO);
	cr_assert_not_null(strstr(err, "not.pcap"), "%s", err);
	snprintf(path, sizeof(path), "%s/no/such/dir.pcap", dir);
	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_E_IO);
	cr_assert_not_null(strstr(err, "dir.pcap"), "%s", err);
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK, "a writer never opened");
}

/* A full disk: the write error reaches the caller at the latest at close. */
Test(wpcap, full_disk_is_an_error)
{
	static uint8_t frame[1500];
	char err[256];
	struct wpcap_wr w;
	int rc = WEIR_OK;

	if (access("/dev/full", W_OK))
		cr_skip_test("no /dev/full");
	cr_assert_eq(wpcap_open_write(&w, "/dev/full", WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_OK,
		     "%s", err);
	for (int i = 0; i < 100 && !rc; i++)
		rc = wpcap_write(&w, frame, sizeof(frame), 0);
	if (!rc)
		rc = wpcap_close_write(&w);
	else
		wpcap_close_write(&w);
	cr_assert_eq(rc, WEIR_E_IO);
}

/* A truncated file: the frames before the cut, then an error. */
Test(wpcap, cut_file_is_an_error)
{
	static uint8_t frame[200];
	char path[128], err[256];
	struct wpcap_wr w;
	struct wpcap_rd r;
	struct wpcap_frame f;

	snprintf(path, sizeof(path), "%s/cut.pcap", dir);
	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(wpcap_write(&w, frame, sizeof(frame), 0), WEIR_OK);
	cr_assert_eq(wpcap_write(&w, frame, sizeof(frame), 0), WEIR_OK);
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
	cr_assert_eq(truncate(path, 24 + 16 + 200 + 16 + 50), 0);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(wpcap_next(&r, &f), 1);
	cr_assert_eq(wpcap_next(&r, &f), WEIR_E_IO);
	cr_assert_str_neq(wpcap_error(&r), "");
	wpcap_close_read(&r);
}

/* ---- the classic format read without libpcap ---------------------------- */

/* A classic file written by hand: magic (its byte order says the file's),
 * version 2.4, snap length, link type; records of n bytes each. */
static void put32(FILE *fp, uint32_t v, int be)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[be ? i : 3 - i] = (uint8_t)(v >> (24 - 8 * i));
	fwrite(b, 1, 4, fp);
}

static void classic_file(const char *path, int be, uint32_t magic, uint32_t snap,
			 const uint32_t (*rec)[4], int nrec, const uint8_t *bytes)
{
	FILE *fp = fopen(path, "wb");

	cr_assert_not_null(fp);
	put32(fp, magic, be);
	put32(fp, be ? 0x00020004 : 0x00040002, be);	/* 2.4, as two 16-bit words */
	put32(fp, 0, be);
	put32(fp, 0, be);
	put32(fp, snap, be);
	put32(fp, WPCAP_DLT_EN10MB, be);
	for (int i = 0; i < nrec; i++) {
		for (int k = 0; k < 4; k++)
			put32(fp, rec[i][k], be);
		fwrite(bytes, 1, rec[i][2], fp);
	}
	cr_assert_eq(fclose(fp), 0);
}

/* Both byte orders, microsecond and nanosecond magic, a record longer than
 * the snap length (cut to it, as libpcap does), libpcap's own answers the
 * same. */
Test(wpcap, classic_variants)
{
	static const uint32_t rec[][4] = {
		{ 1700000000, 999999, 60, 60 },
		{ 4000000000u, 5, 100, 1514 },	/* after 2038: unsigned seconds */
		{ 1700000001, 0, 300, 300 },	/* longer than the snap length 200 */
	};
	static uint8_t bytes[300];
	char path[128], err[256];
	struct wpcap_rd r;
	struct wpcap_frame f;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(i ^ 0x5a);
	for (int v = 0; v < 4; v++) {
		int be = v & 1, nano = v >> 1;

		snprintf(path, sizeof(path), "%s/c%d.pcap", dir, v);
		classic_file(path, be, nano ? 0xa1b23c4d : 0xa1b2c3d4, 200, rec, 3, bytes);
		cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
		cr_assert_not_null(r.buf, "variant %d is read without libpcap", v);
		cr_assert_eq(r.dlt, WPCAP_DLT_EN10MB);
		for (int i = 0; i < 3; i++) {
			uint64_t frac = nano ? rec[i][1] : rec[i][1] * 1000ull;

			cr_assert_eq(wpcap_next(&r, &f), 1, "variant %d record %d", v, i);
			cr_assert_eq(f.t_ns, rec[i][0] * 1000000000ull + frac, "variant %d", v);
			cr_assert_eq(f.caplen, rec[i][2] > 200 ? 200 : rec[i][2]);
			cr_assert_eq(f.len, rec[i][3]);
			cr_assert_eq(memcmp(f.p, bytes, f.caplen), 0);
		}
		cr_assert_eq(wpcap_next(&r, &f), 0);
		cr_assert_eq(r.frames, 3);
		wpcap_close_read(&r);
	}
}

/* A record longer than any snap length, and files that end inside a
 * record's header or its bytes: the records before, then an error with
 * libpcap's sentence, then the end. */
Test(wpcap, classic_errors)
{
	static const uint32_t big[][4] = { { 1, 0, 10, 10 }, { 2, 0, WPCAP_SNAPLEN + 1, 70000 } };
	static const uint32_t two[][4] = { { 1, 0, 100, 100 }, { 2, 0, 100, 100 } };
	static uint8_t bytes[WPCAP_SNAPLEN + 1];
	const size_t cuts[] = { 24 + 116 + 10, 24 + 116 + 16 + 40 };
	const char *says[] = { "16 header bytes, only got 10", "100 captured bytes, only got 40" };
	char path[128], err[256];
	struct wpcap_rd r;
	struct wpcap_frame f;

	snprintf(path, sizeof(path), "%s/big.pcap", dir);
	classic_file(path, 0, 0xa1b2c3d4, 65535, big, 2, bytes);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(wpcap_next(&r, &f), 1);
	cr_assert_eq(wpcap_next(&r, &f), WEIR_E_IO);
	cr_assert_not_null(strstr(wpcap_error(&r), "bigger than maximum"), "%s", wpcap_error(&r));
	wpcap_close_read(&r);
	for (int i = 0; i < 2; i++) {
		classic_file(path, 0, 0xa1b2c3d4, 65535, two, 2, bytes);
		cr_assert_eq(truncate(path, (off_t)cuts[i]), 0);
		cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
		cr_assert_eq(wpcap_next(&r, &f), 1);
		cr_assert_eq(wpcap_next(&r, &f), WEIR_E_IO);
		cr_assert_not_null(strstr(wpcap_error(&r), says[i]), "%s", wpcap_error(&r));
		cr_assert_eq(wpcap_next(&r, &f), 0, "after the error: the end");
		wpcap_close_read(&r);
	}
}

/* More records than one block of WPCAP_RD_BLOCK bytes holds, of every
 * length up to the largest: each whole, in order. */
Test(wpcap, classic_across_blocks)
{
	static uint8_t frame[70000];
	char path[128], err[256];
	struct wpcap_wr w;
	struct wpcap_rd r;
	struct wpcap_frame f;
	uint64_t bytes = 0;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7);
	snprintf(path, sizeof(path), "%s/blocks.pcap", dir);
	cr_assert_eq(wpcap_open_write(&w, path, WPCAP_DLT_EN10MB, err, sizeof(err)), WEIR_OK);
	for (size_t len = 1; bytes < 3 * WPCAP_RD_BLOCK; len = len * 5 % 69997 + 1, n++) {
		cr_assert_eq(wpcap_write(&w, frame + n % 3, len, n * 1000), WEIR_OK);
		bytes += len + 16;
	}
	cr_assert_eq(wpcap_close_write(&w), WEIR_OK);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_not_null(r.buf);
	for (size_t k = 0, len = 1; k < n; k++, len = len * 5 % 69997 + 1) {
		cr_assert_eq(wpcap_next(&r, &f), 1, "record %zu of %zu", k, n);
		cr_assert_eq(f.caplen, len);
		cr_assert_eq(f.t_ns, k * 1000);
		cr_assert_eq(memcmp(f.p, frame + k % 3, len), 0, "record %zu", k);
	}
	cr_assert_eq(wpcap_next(&r, &f), 0);
	wpcap_close_read(&r);
}

/* pcapng goes to libpcap, the bytes read to look at the magic included: a
 * section header, an Ethernet interface with nanosecond times, one packet. */
Test(wpcap, pcapng_through_libpcap)
{
	static const uint8_t ng[] = {
		0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
		/* IDB: link type 1, snap 0, option if_tsresol = 9, end of options */
		1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,
		/* EPB: interface 0, time 1700000000123456789 ns, 4 of 60 bytes */
		6, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0x9c, 0x97, 0x17,
		0x15, 0xcd, 0x85, 0x3d, 4, 0, 0, 0, 60, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef,
		36, 0, 0, 0,
	};
	char path[128], err[256];
	struct wpcap_rd r;
	struct wpcap_frame f;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/a.pcapng", dir);
	fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	fwrite(ng, 1, sizeof(ng), fp);
	fclose(fp);
	cr_assert_eq(wpcap_open_read(&r, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_null(r.buf);
	cr_assert_eq(r.dlt, WPCAP_DLT_EN10MB);
	cr_assert_eq(wpcap_next(&r, &f), 1, "%s", wpcap_error(&r));
	cr_assert_eq(f.caplen, 4);
	cr_assert_eq(f.len, 60);
	cr_assert_eq(f.t_ns, 1700000000123456789ull);
	cr_assert_eq(memcmp(f.p, "\xde\xad\xbe\xef", 4), 0);
	cr_assert_eq(wpcap_next(&r, &f), 0);
	wpcap_close_read(&r);
}

/* libpcap's time of a record as read here: libpcap takes the record's two
 * 32-bit words as signed, the reader here as unsigned (after 2038 stays
 * after 2038; wpcap.h). */
static uint64_t libpcap_ns(const struct wpcap_rd *r, const struct pcap_pkthdr *h)
{
	long scale = r->buf && !r->nano ? 1000 : 1;

	if (!r->buf)
		return (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
	return (uint64_t)(uint32_t)h->ts.tv_sec * 1000000000ull +
	       (uint64_t)(uint32_t)(h->ts.tv_usec / scale) * (uint64_t)scale;
}

/* Every capture of the shared set read both ways, here and by libpcap
 * alone: the same link type, frames, bytes, times (see libpcap_ns), and end
 * (an error at the same frame). */
static int same_as_libpcap(const char *path, char *why, size_t whylen)
{
	char ebuf[PCAP_ERRBUF_SIZE], err[256];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	struct wpcap_rd r;
	struct wpcap_frame f;
	struct pcap_pkthdr *h;
	const u_char *d;
	int a, b;

	if (wpcap_open_read(&r, path, err, sizeof(err)) != WEIR_OK) {
		if (p)
			snprintf(why, whylen, "refused here, not by libpcap: %s", err);
		if (p)
			pcap_close(p);
		return !p;
	}
	if (!p) {
		snprintf(why, whylen, "refused by libpcap only: %s", ebuf);
		wpcap_close_read(&r);
		return 0;
	}
	if (pcap_datalink(p) != r.dlt) {
		snprintf(why, whylen, "link type %d, libpcap %d", r.dlt, pcap_datalink(p));
		goto differ;
	}
	do {
		a = wpcap_next(&r, &f);
		b = pcap_next_ex(p, &h, &d);
		if ((a == 1) != (b == 1) || (a == 0) != (b == PCAP_ERROR_BREAK)) {
			snprintf(why, whylen, "frame %llu: %d here, %d by libpcap (%s)",
				 (unsigned long long)r.frames, a, b, a < 0 ? wpcap_error(&r) : "");
			goto differ;
		}
		if (a == 1 && (f.caplen != h->caplen || f.len != h->len || f.t_ns != libpcap_ns(&r, h) ||
			       memcmp(f.p, d, f.caplen))) {
			snprintf(why, whylen, "frame %llu: caplen %zu len %zu t %llu, libpcap %u %u %lld.%09ld",
				 (unsigned long long)r.frames, f.caplen, f.len,
				 (unsigned long long)f.t_ns, h->caplen, h->len, (long long)h->ts.tv_sec,
				 (long)h->ts.tv_usec);
			goto differ;
		}
	} while (a == 1);
	pcap_close(p);
	wpcap_close_read(&r);
	return 1;
differ:
	pcap_close(p);
	wpcap_close_read(&r);
	return 0;
}

Test(wpcap, shared_captures_as_libpcap_reads_them)
{
	const char *s = getenv("WEIR_SHARED");
	char d[512], path[1024], why[512];
	struct dirent *e;
	unsigned n = 0, fast = 0;
	DIR *dp;

	snprintf(d, sizeof(d), "%s/testdata/tcpdump-pcaps", s && *s ? s : "../shared");
	dp = opendir(d);
	if (!dp)
		cr_skip_test("%s absent (set WEIR_SHARED to the shared folder)", d);
	while ((e = readdir(dp))) {
		struct wpcap_rd r;
		char err[256];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
		why[0] = 0;
		cr_expect(same_as_libpcap(path, why, sizeof(why)), "%s: %s", e->d_name, why);
		if (wpcap_open_read(&r, path, err, sizeof(err)) == WEIR_OK) {
			fast += r.buf != NULL;
			wpcap_close_read(&r);
		}
		n++;
	}
	closedir(dp);
	cr_assert_gt(n, 100, "only %u captures in %s", n, d);
	cr_assert_gt(fast, n / 2, "%u of %u read without libpcap", fast, n);
}
