/* test_pkt_pcaps.c - every capture of $WEIR_SHARED/testdata/tcpdump-pcaps
 * (tcpdump's own test suite: every link type, many frames made to crash a
 * parser) through wpcap + pkt_start_of_dlt + pkt_parse_frame, as the
 * exporter's pcap path reads them. Under ASan in `make asan` this is the
 * "no crash on any of them" check; here it also holds the invariants of
 * every parse and the counts: each frame of a link type weir parses is IP,
 * not IP, or refused with a reason, and the totals are those tshark agrees
 * with (tests/integration/t-pkt-tshark compares them frame by frame).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkt.h"
#include "pkt_int.h"
#include "unit/pkthelp.h"
#include "unit/pktcount.h"

struct sum {
	unsigned files, opened, parsed_files;
	struct pktcount t;
	uint64_t from_frame;		/* IP lengths taken from the frame (offload) */
	uint64_t link_frames[PKT_START_LOOP + 1];
	const struct pktcount *cur;	/* the file being read (its start) */
	uint64_t cuts;			/* cut frames compared */
};

static void check_frame(void *arg, uint64_t n, const struct wpcap_frame *f,
			const struct pkt_info *pi)
{
	struct sum *s = arg;

	(void)n;
	assert_sane(pi, f->caplen);
	/* The fast path against the walk, on the frame and on every cut of
	 * its first 128 bytes. */
	assert_as_walk(pi, f->p, f->caplen, f->len, s->cur->start);
	for (size_t cut = 0; cut < f->caplen && cut < 128; cut++) {
		struct pkt_info c;

		pkt_parse_frame(&c, f->p, cut, f->len, s->cur->start);
		assert_as_walk(&c, f->p, cut, f->len, s->cur->start);
		s->cuts++;
	}
	if ((pi->layers & (PKT_L_IPV4 | PKT_L_IPV6)) && pi->len_from_frame) {
		size_t wire = f->len > f->caplen ? f->len : f->caplen;

		cr_assert_eq(pi->ip_len, wire - pi->l3_off);
		s->from_frame++;
	}
}

static void add(struct pktcount *t, const struct pktcount *c)
{
	t->frames += c->frames;
	t->ipv4 += c->ipv4;
	t->ipv6 += c->ipv6;
	t->ip_bytes += c->ip_bytes;
	t->not_ip += c->not_ip;
	t->refused += c->refused;
	for (int w = 0; w < PKT_WHY_MAX; w++)
		t->why[w] += c->why[w];
}

Test(pkt_pcaps, every_tcpdump_capture, .timeout = 120)
{
	const char *sh = getenv("WEIR_SHARED");
	char dir[512], path[1024];
	struct sum s;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/testdata/tcpdump-pcaps", sh && *sh ? sh : "../shared");
	d = opendir(dir);
	if (!d) {
		printf("SKIPPED: pkt_pcaps: %s absent (set WEIR_SHARED to the shared folder)\n", dir);
		cr_skip_test("%s absent", dir);
	}
	memset(&s, 0, sizeof(s));
	while ((de = readdir(d))) {
		struct pktcount c;
		struct stat sb;
		uint64_t sum_why = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) || !S_ISREG(sb.st_mode) || !strncmp(de->d_name, "LICENSE", 7))
			continue;
		s.files++;
		s.cur = &c;
		pktcount_file(&c, path, 1, check_frame, &s);
		cr_assert(!c.open_failed, "%s: %s", de->d_name, c.err);
		cr_assert(!c.read_failed, "%s: %s", de->d_name, c.err);
		s.opened++;
		if (c.start < 0)
			continue;
		s.parsed_files++;
		s.link_frames[c.start] += c.frames;
		cr_assert_eq(c.frames, c.ipv4 + c.ipv6 + c.not_ip + c.refused, "%s", de->d_name);
		for (int w = 1; w < PKT_WHY_MAX; w++) {
			sum_why += c.why[w];
			if (w < PKT_WHY_IP_FIRST)
				cr_assert_leq(c.why[w], c.refused, "%s", de->d_name);
		}
		cr_assert_geq(sum_why, c.refused, "%s", de->d_name);
		add(&s.t, &c);
	}
	closedir(d);

	printf("pkt_pcaps: %u files, %u of link types weir parses: %llu frames, %llu IPv4, "
	       "%llu IPv6, %llu IP bytes, %llu not IP, %llu refused\n", s.files, s.parsed_files,
	       (unsigned long long)s.t.frames, (unsigned long long)s.t.ipv4,
	       (unsigned long long)s.t.ipv6, (unsigned long long)s.t.ip_bytes,
	       (unsigned long long)s.t.not_ip, (unsigned long long)s.t.refused);
	/* The data set is tcpdump's tests/ at commit 39b50f7 (README of the
	 * shared folder); these are its figures, equal to tshark's where
	 * t-pkt-tshark compares them. */
	cr_assert_eq(s.files, 830);
	cr_assert_eq(s.parsed_files, 552);
	cr_assert_eq(s.link_frames[PKT_START_ETH], 8510);
	cr_assert_eq(s.link_frames[PKT_START_SLL], 683);
	cr_assert_eq(s.link_frames[PKT_START_NULL], 125);
	cr_assert_eq(s.link_frames[PKT_START_RAW], 18);
	cr_assert_eq(s.link_frames[PKT_START_IPV4], 5);
	cr_assert_eq(s.link_frames[PKT_START_IPV6], 32);
	cr_assert_eq(s.t.frames, 9373);
	cr_assert_eq(s.t.ipv4, 4590);
	cr_assert_eq(s.t.ipv6, 823);
	cr_assert_eq(s.t.ip_bytes, 8849894);
	cr_assert_eq(s.t.not_ip, 3894);
	cr_assert_eq(s.t.refused, 66);
	cr_assert_eq(s.from_frame, 15);
	printf("pkt_pcaps: %llu cuts parsed by pkt_parse_frame and by the walk, the same\n",
	       (unsigned long long)s.cuts);
	cr_assert_gt(s.cuts, 500000);
	for (int w = 1; w < PKT_WHY_MAX; w++)
		if (w != PKT_WHY_EXT_DEPTH && w != PKT_WHY_VLAN_DEPTH && w != PKT_WHY_MPLS_DEPTH)
			cr_assert_gt(s.t.why[w], 0, "no frame refused for %s", pkt_why_name(w));
}
