/* test_exp_meter_batch.c - the flow meter's fast paths against its plain
 * one: meter_packets (batches) and the packet path's bound on when
 * something can be due (next_due in meter.c) give the records of
 * meter_packet with every timeout run by a look at the lists before each
 * packet, to the bit, over mixed traffic and several sets of timeouts. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "meter.h"
#include "pkt.h"
#include "unit/meterhelp.h"

#define NMIX	3000
#define NREC	8192

/* The three ways: 0 meter_packet, 1 meter_packets, 2 meter_expire then
 * meter_packet (the reference). */
static struct meter_rec mix_recs[3][NREC];
static int mix_n[3];

static void on_mix(void *arg, const struct meter_rec *r)
{
	int w = (int)(intptr_t)arg;

	cr_assert_lt(mix_n[w], NREC);
	mix_recs[w][mix_n[w]++] = *r;
}

/* Mixed traffic: TCP teardowns (FIN, RST) and reopenings, UDP, ICMP,
 * IPv4 fragments in and out of order, IPv6, both ways, a non-IP frame. */
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

static void same_records(int a, int b, const struct meter *ma, const struct meter *mb,
			 const char *what)
{
	cr_assert_eq(mix_n[a], mix_n[b], "%s: %d records against %d", what, mix_n[a], mix_n[b]);
	cr_assert_eq(memcmp(meter_stats(ma), meter_stats(mb), sizeof(struct meter_stats)), 0,
		     "%s: stats", what);
	for (int i = 0; i < mix_n[a]; i++) {
		const struct meter_rec *x = &mix_recs[a][i], *y = &mix_recs[b][i];

		cr_assert_eq(memcmp(&x->key, &y->key, sizeof(x->key)), 0, "%s: record %d", what, i);
		cr_assert_eq(memcmp(&x->fwd, &y->fwd, sizeof(x->fwd)), 0, "%s: record %d", what, i);
		cr_assert_eq(memcmp(&x->rev, &y->rev, sizeof(x->rev)), 0, "%s: record %d", what, i);
		cr_assert_eq(x->end_reason, y->end_reason, "%s: record %d", what, i);
		cr_assert_eq(x->icmp_type, y->icmp_type, "%s: record %d", what, i);
		cr_assert_eq(x->icmp_code, y->icmp_code, "%s: record %d", what, i);
	}
}

/* The timeouts, each shorter than the others in one set, and a table
 * small enough that flows end for room. */
static const struct meter_cfg CFGS[] = {
	{ .active_ns = 3 * SEC, .inactive_ns = 1 * SEC, .max_flows = 48 },
	{ .active_ns = 2 * SEC, .inactive_ns = 500 * MS, .linger_ns = 1500 * MS, .max_flows = 64 },
	{ .active_ns = 400 * MS, .inactive_ns = 5 * SEC, .linger_ns = 100 * MS, .max_flows = 40 },
	{ .active_ns = 60 * SEC, .inactive_ns = 15 * SEC, .linger_ns = 20 * MS, .max_flows = 1000 },
	{ .active_ns = 1 * SEC, .inactive_ns = 300 * MS, .linger_ns = 2 * SEC, .max_flows = 4096,
	  .sampling = 3 },
};

Test(meter, batches_and_due_bound_give_the_same_records)
{
	static struct pkt_info pis[NMIX];
	static uint64_t ts[NMIX];
	uint64_t rng = 0x1234567;
	uint64_t evicted = 0, pending = 0, ends[6] = { 0 };

	/* Times out of order too: every fifth packet 0.9 s ahead. */
	for (uint32_t i = 0; i < NMIX; i++) {
		pis[i] = mix_pkt(i, &rng);
		ts[i] = T0 + (uint64_t)i * 7 * MS + (i % 5 == 0 ? 900 * MS : 0);
	}
	for (size_t c = 0; c < sizeof(CFGS) / sizeof(CFGS[0]); c++) {
		struct meter *w[3];

		for (int k = 0; k < 3; k++) {
			mix_n[k] = 0;
			w[k] = meter_new(&CFGS[c], on_mix, (void *)(intptr_t)k);
			cr_assert_not_null(w[k]);
		}
		for (uint32_t i = 0; i < NMIX; i++) {
			meter_packet(w[0], &pis[i], ts[i], IFX, 0);
			meter_expire(w[2], ts[i]);
			meter_packet(w[2], &pis[i], ts[i], IFX, 0);
		}
		for (uint32_t i = 0; i < NMIX;) {
			uint32_t n = 1 + i % (2 * METER_BATCH);	/* every batch size */

			n = n < NMIX - i ? n : NMIX - i;
			meter_packets(w[1], &pis[i], &ts[i], n, IFX, 0);
			i += n;
		}
		for (int k = 0; k < 3; k++)
			meter_flush(w[k], METER_END_FORCED);
		cr_assert_gt(mix_n[2], 100);
		same_records(2, 0, w[2], w[0], "meter_packet");
		same_records(2, 1, w[2], w[1], "meter_packets");
		evicted += meter_stats(w[2])->evicted;
		pending += meter_stats(w[2])->frag_pending;
		for (int i = 0; i < mix_n[2]; i++)
			ends[mix_recs[2][i].end_reason]++;
		for (int k = 0; k < 3; k++)
			meter_free(w[k]);
	}
	/* The traffic met every way a flow ends. */
	cr_assert_gt(evicted, 0);
	cr_assert_gt(pending, 0);
	for (int e = METER_END_IDLE; e <= METER_END_RESOURCES; e++)
		cr_assert_gt(ends[e], 0, "no record with end reason %d", e);
}

/* ---- the due bound between other timeouts ---- */

static struct meter *one(const struct meter_cfg *c)
{
	struct meter *w = meter_new(c, on_mix, (void *)(intptr_t)0);

	cr_assert_not_null(w);
	mix_n[0] = 0;
	return w;
}

static void pkt(struct meter *w, const struct fr *f, uint64_t t)
{
	struct pkt_info pi = mk(f);

	meter_packet(w, &pi, T0 + t, IFX, 0);
}

/* A flow's linger ends (1.1 s) before the bound the idle timeout of
 * another flow set (0.8 s + 0.5 s): a packet of it at 1.2 s starts a new
 * flow, the lingering one has ended before it. */
Test(meter, linger_ends_between_idle_timeouts)
{
	struct meter_cfg c = { .active_ns = 60 * SEC, .inactive_ns = 500 * MS, .linger_ns = SEC };
	struct fr b = { .proto = PKTB_TCP, .src = A4, .dst = B4, .sp = 1234, .dp = 80 };
	struct fr a = { .proto = PKTB_UDP, .src = A4, .dst = B4, .sp = 53, .dp = 53 };
	struct fr cc = { .proto = PKTB_UDP, .src = A4, .dst = B4, .sp = 54, .dp = 54 };
	struct meter *w = one(&c);

	b.flags = F_SYN;
	pkt(w, &b, 0);
	b.flags = F_RST;
	pkt(w, &b, 100 * MS);			/* lingers until 1.1 s */
	pkt(w, &a, 300 * MS);
	pkt(w, &cc, 800 * MS);			/* a ends idle */
	b.flags = F_ACK;
	pkt(w, &b, 1200 * MS);
	meter_flush(w, METER_END_FORCED);
	cr_assert_eq(mix_n[0], 4);
	cr_assert_eq(mix_recs[0][0].key.src_port, 53);
	cr_assert_eq(mix_recs[0][0].end_reason, METER_END_IDLE);
	cr_assert_eq(mix_recs[0][1].key.src_port, 1234);
	cr_assert_eq(mix_recs[0][1].end_reason, METER_END_EOF);
	cr_assert_eq(mix_recs[0][1].fwd.packets, 2);
	cr_assert_eq(mix_recs[0][2].key.src_port, 54);
	cr_assert_eq(mix_recs[0][3].key.src_port, 1234);
	cr_assert_eq(mix_recs[0][3].fwd.packets, 1);
	cr_assert_eq(mix_recs[0][3].fwd.tcp_flags, F_ACK);
	meter_free(w);
}

/* A later fragment held since 0 s is orphaned at 30 s (its first fragment
 * never came in time) though the bound the other flow set last (29.5 s +
 * 1 s) is later: the first fragment at 30.2 s finds nothing held. */
Test(meter, fragment_orphaned_between_other_timeouts)
{
	struct meter_cfg c = { .active_ns = 60 * SEC, .inactive_ns = 10 * SEC };
	struct fr x = { .proto = PKTB_UDP, .src = A4, .dst = B4, .sp = 1000, .dp = 80, .id = 5,
			.frag = 185, .payload = 8 };
	struct fr cc = { .proto = PKTB_UDP, .src = A4, .dst = B4, .sp = 54, .dp = 54 };
	static const uint64_t keep[] = { 0, 9 * SEC, 18 * SEC, 27 * SEC, 29500 * MS };
	struct meter *w = one(&c);

	pkt(w, &x, 0);
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		pkt(w, &cc, keep[i]);
	x.frag = 0x2000;			/* the first fragment: MF, offset 0 */
	pkt(w, &x, 30200 * MS);
	meter_flush(w, METER_END_FORCED);
	cr_assert_eq(meter_stats(w)->frag_orphaned, 1);
	cr_assert_eq(mix_n[0], 3);
	cr_assert_eq(mix_recs[0][1].key.src_port, 0);
	cr_assert_eq(mix_recs[0][1].fwd.packets, 1);
	cr_assert_eq(mix_recs[0][2].key.src_port, 1000);
	cr_assert_eq(mix_recs[0][2].fwd.packets, 1);
	meter_free(w);
}
