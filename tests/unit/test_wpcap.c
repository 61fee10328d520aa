/* test_wpcap.c - the pcap reader and writer of wpcap.h: what is written
 * reads back the same, cut frames and bounds, errors that name the file. */
#include <criterion/criterion.h>
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
