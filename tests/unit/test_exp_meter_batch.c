/* test_exp_meter_batch.c - the flow meter in batches (meter_packets) against
 * one packet at a time, and every shared capture through the meter. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "meter.h"
#include "pkt.h"
#include "pktbuild.h"
#include "wpcap.h"
#include "meterhelp.h"

/* ---- batches ---- */

/* meter_packets gives meter_packet's records to the bit: the same mixed
 * traffic (TCP teardowns, UDP, ICMP, fragments in and out of order, a
 * non-IP frame, timeouts, a full table) through both, compared. */
#define NMIX	3000

static struct meter_rec mix_recs[2][MAXREC];
static int mix_n[2];

static void on_mix(void *arg, const struct meter_rec *r)
{
	int w = (int)(intptr_t)arg;

	cr_assert_lt(mix_n[w], MAXREC);
	mix_recs[w][mix_n[w]++] = *r;
}

static struct pkt_info mix_pkt(uint32_t i, uint64_t *rng)
{
	static const uint16_t tcpf[] = { F_SYN, F_SYN | F_ACK, F_ACK, F_ACK | F_PSH, F_FIN | F_ACK,
					 F_RST, F_ACK | F_URG };
	struct fr f = { .src = A4, .dst = B4, .ttl = (uint8_t)(40 + i % 30) };
	uint64_t r;

	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	r = *rng;
	switch (r % 8) {
	case 0: case 1: case 2:
		f.proto = PKTB_TCP;
		f.flags = tcpf[(r >> 8) % 7];
		break;
	case 3: case 4:
		f.proto = PKTB_UDP;
		break;
	case 5:
		f.proto = PKTB_ICMP;
		f.type = (uint8_t)((r >> 8) % 2 ? 8 : 0);
		break;
	case 6:
		f.proto = PKTB_UDP;
		f.id = (uint32_t)((r >> 8) % 20);
		f.frag = (uint16_t)((r >> 16) % 2 ? 0x2000 : 185);
		break;
	default:
		f.v6 = 1;
		f.src = A6;
		f.dst = B6;
		f.proto = PKTB_UDP;
		break;
	}
	f.sp = (uint16_t)(1000 + (r >> 24) % 40);
	f.dp = 80;
	if ((r >> 40) % 2) {			/* the other way */
		const uint8_t *t = f.src;

		f.src = f.dst;
		f.dst = t;
		f.dp = f.sp;
		f.sp = 80;
	}
	if (i % 500 == 7) {			/* a frame that is not IP */
		struct pkt_info pi;
		uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };

		pkt_parse(&pi, arp, sizeof(arp), PKT_START_ETH);
		return pi;
	}
	return mk(&f);
}

Test(meter, batches_give_the_same_records)
{
	struct meter_cfg c = { .active_ns = 3 * SEC, .inactive_ns = 1 * SEC, .max_flows = 48,
			       .sampling = 1 };
	static struct pkt_info pis[NMIX];
	static uint64_t ts[NMIX];
	struct meter *a, *b;
	uint64_t rng = 0x1234567;

	for (uint32_t i = 0; i < NMIX; i++) {
		pis[i] = mix_pkt(i, &rng);
		ts[i] = T0 + (uint64_t)i * 7 * MS + (i % 5 == 0 ? 900 * MS : 0);
	}
	mix_n[0] = mix_n[1] = 0;
	a = meter_new(&c, on_mix, (void *)(intptr_t)0);
	b = meter_new(&c, on_mix, (void *)(intptr_t)1);
	cr_assert(a && b);
	for (uint32_t i = 0; i < NMIX; i++)
		meter_packet(a, &pis[i], ts[i], IFX, 0);
	for (uint32_t i = 0; i < NMIX;) {
		uint32_t n = 1 + i % (2 * METER_BATCH);	/* every batch size */

		n = n < NMIX - i ? n : NMIX - i;
		meter_packets(b, &pis[i], &ts[i], n, IFX, 0);
		i += n;
	}
	meter_flush(a, METER_END_FORCED);
	meter_flush(b, METER_END_FORCED);

	cr_assert_gt(mix_n[0], 100);
	cr_assert_gt(meter_stats(a)->evicted, 0);
	cr_assert_gt(meter_stats(a)->frag_pending, 0);
	cr_assert_eq(mix_n[0], mix_n[1]);
	cr_assert_eq(memcmp(meter_stats(a), meter_stats(b), sizeof(struct meter_stats)), 0);
	for (int i = 0; i < mix_n[0]; i++) {
		const struct meter_rec *x = &mix_recs[0][i], *y = &mix_recs[1][i];

		cr_assert_eq(memcmp(&x->key, &y->key, sizeof(x->key)), 0, "record %d", i);
		cr_assert_eq(memcmp(&x->fwd, &y->fwd, sizeof(x->fwd)), 0, "record %d", i);
		cr_assert_eq(memcmp(&x->rev, &y->rev, sizeof(x->rev)), 0, "record %d", i);
		cr_assert_eq(x->end_reason, y->end_reason);
		cr_assert_eq(x->icmp_type, y->icmp_type);
	}
	meter_free(a);
	meter_free(b);
}

/* ---- real captures ---- */

struct tally {
	uint64_t packets, octets;
};

static void on_tally(void *arg, const struct meter_rec *r)
{
	struct tally *t = arg;

	t->packets += r->fwd.packets + r->rev.packets;
	t->octets += r->fwd.octets + r->rev.octets;
}

/* One capture through pkt_parse and a meter with a small table: every
 * packet the meter takes reaches exactly one record (fragments held,
 * orphaned or evicted included), and what it skips is counted by the
 * reason the test finds too. 1: the file was read. */
static int meter_capture(const char *path, uint64_t *frames)
{
	struct meter_cfg c = { .max_flows = 256, .inactive_ns = 2 * SEC, .active_ns = 10 * SEC };
	uint64_t want_pk = 0, want_oct = 0, skipped = 0;
	struct tally t = { 0 };
	struct wpcap_frame f;
	struct wpcap_rd r = { 0 };
	struct meter *mt;
	char err[256];
	int start, rc;

	if (wpcap_open_read(&r, path, err, sizeof(err)))
		return 0;
	start = r.dlt == WPCAP_DLT_EN10MB ? PKT_START_ETH :
		r.dlt == WPCAP_DLT_IPV4 ? PKT_START_IPV4 :
		r.dlt == WPCAP_DLT_IPV6 ? PKT_START_IPV6 : 0;
	if (!start) {
		wpcap_close_read(&r);
		return 0;
	}
	mt = meter_new(&c, on_tally, &t);
	cr_assert_not_null(mt);
	while ((rc = wpcap_next(&r, &f)) == 1) {
		struct pkt_info pi;

		cr_assert_eq(pkt_parse(&pi, f.p, f.caplen, start), WEIR_OK);
		if ((pi.layers & (PKT_L_IPV4 | PKT_L_IPV6)) &&
		    !(pi.flags & (PKT_F_MALFORMED | PKT_F_DEPTH))) {
			want_pk++;
			want_oct += pi.ip_len;
		} else {
			skipped++;
		}
		meter_packet(mt, &pi, f.t_ns, 0, 0);
		(*frames)++;
	}
	wpcap_close_read(&r);
	meter_flush(mt, METER_END_FORCED);
	cr_assert_eq(t.packets, want_pk, "%s: packets in records", path);
	cr_assert_eq(t.octets, want_oct, "%s: octets in records", path);
	cr_assert_eq(meter_stats(mt)->not_ip + meter_stats(mt)->truncated +
		     meter_stats(mt)->malformed, skipped, "%s: skipped by reason", path);
	cr_assert_eq(meter_stats(mt)->active, 0);
	meter_free(mt);
	return 1;
}

Test(meter, every_shared_capture_conserves_its_packets, .timeout = 120)
{
	const char *sh = getenv("WEIR_SHARED");
	char dir[512], path[1024];
	uint64_t frames = 0;
	struct dirent *d;
	int files = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/testdata/tcpdump-pcaps", sh && *sh ? sh : "../shared");
	dp = opendir(dir);
	if (!dp) {
		printf("SKIPPED: %s absent (set WEIR_SHARED to the shared folder)\n", dir);
		cr_skip_test("%s absent", dir);
	}
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		files += meter_capture(path, &frames);
	}
	closedir(dp);
	cr_assert_gt(files, 400, "Ethernet and raw IP captures metered: %d", files);
	printf("meter: %d captures, %llu frames\n", files, (unsigned long long)frames);
	cr_assert_gt(frames, 5000);
}
