/* bench/meter - the flow meter's packets per CPU-second: pkt_parse and
 * the meter over Ethernet frames held in memory, the offline path of
 * weir-exporter without the pcap reader and the exporting process.
 *
 * The traffic: LIVE flows at a time (20,000); a flow that has sent its
 * packets is replaced by a new one, so the run holds NPKT packets (1.5 M)
 * over some 88,000 flows. Mix: 70 % TCP over IPv4 (SYN, SYN-ACK, data both
 * ways, FIN both ways, the last ACK), 10 % TCP over IPv6, 15 % UDP over
 * IPv4, 5 % ICMP echo; flow lengths 2 to 100 packets; frames cut after the
 * headers as a snaplen of 96 would, with IP lengths of 40 to 1500. Packets
 * 40 us apart (60 s). Twice: each packet from a flow drawn at random (the
 * worst case for the caches: every packet a miss in a table of megabytes),
 * then in bursts of 1 to 8 packets of a flow (closer to real traffic).
 * Everything is seeded; the frames are built before the clock starts.
 *
 * Runs (each the best of several passes, CPU time of the process; "meter"
 * in the output is the run's time less pkt_parse's alone):
 *   parse   pkt_parse alone;
 *   one     pkt_parse + meter_packet, defaults (60 s / 15 s, 65,536 flows);
 *   batch   pkt_parse of 32 frames, then meter_packets over them;
 *   churn   batch, idle timeout 50 ms: flows end and start all the time;
 *   bound   batch, max_flows 4,096 < 20,000 live: new flows end others.
 * Each run checks that its records hold every packet and octet it was given.
 *
 * Target (issue 12): the whole offline path at >= 4x softflowd's 1.8 M
 * packets per CPU-second (7.2 M), so the meter's own share well under
 * 100 ns a packet.
 *
 * Usage: meter [passes [batch]]   (batch: that run alone, for a profiler)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "err.h"
#include "meter.h"
#include "pkt.h"
#include "pktbuild.h"

#define NPKT		1500000u
#define LIVE		20000u
#define SNAP		96
#define DT_NS		40000ull
#define T0		(1700000000ull * 1000000000ull)
#define TARGET_MPPS	7.2		/* 4 x softflowd, end to end */

static uint64_t rng = 0x6d657465;

static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)((rnd64() >> 32) * n >> 32);
}

/* One live flow of the generator. */
struct gflow {
	uint8_t kind;		/* 0 TCP4, 1 TCP6, 2 UDP4, 3 ICMP4 */
	uint8_t a[16], b[16];
	uint16_t sp, dp;
	uint32_t sent, len;	/* packets sent, packets it will send */
};

static uint8_t *frames;		/* NPKT frames, back to back */
static uint32_t *off;		/* NPKT + 1 offsets */
static uint64_t total_octets;

static void gflow_new(struct gflow *f, uint32_t n)
{
	uint32_t k = rnd(100);

	f->kind = k < 70 ? 0 : k < 80 ? 1 : k < 95 ? 2 : 3;
	memset(f->a, 0, 16);
	memset(f->b, 0, 16);
	if (f->kind == 1) {
		f->a[0] = 0x20;
		f->a[1] = 0x01;
		memcpy(f->b, f->a, 2);
		for (int i = 8; i < 16; i++) {
			f->a[i] = (uint8_t)rnd64();
			f->b[i] = (uint8_t)rnd64();
		}
	} else {
		uint32_t x = 0x0a000000u | rnd(1u << 16), y = 0xc0a80000u | rnd(1u << 12);

		for (int i = 0; i < 4; i++) {
			f->a[i] = (uint8_t)(x >> (24 - 8 * i));
			f->b[i] = (uint8_t)(y >> (24 - 8 * i));
		}
	}
	f->sp = (uint16_t)(1024 + (n * 7 + rnd(64)) % 64000);
	f->dp = f->kind == 2 ? 53 : (uint16_t)(rnd(4) ? 443 : 80);
	f->sent = 0;
	f->len = 2 + (rnd(8) ? rnd(20) : rnd(99));
	if (f->kind == 0 || f->kind == 1)
		f->len += 6;	/* handshake and teardown */
}

/* The TCP flags of packet i of a flow of len packets; *rev: the responder's. */
static uint16_t tcp_step(uint32_t i, uint32_t len, int *rev)
{
	*rev = 0;
	if (i == 0)
		return 0x02;				/* SYN */
	if (i == 1) {
		*rev = 1;
		return 0x12;				/* SYN-ACK */
	}
	if (i == len - 3)
		return 0x11;				/* FIN-ACK */
	if (i == len - 2) {
		*rev = 1;
		return 0x11;
	}
	if (i == len - 1)
		return 0x10;				/* the last ACK */
	*rev = (int)rnd(2);
	return rnd(4) ? 0x10 : 0x18;
}

static size_t build(uint8_t *buf, struct gflow *f)
{
	static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };
	uint16_t iplen = (uint16_t)(40 + rnd(1461)), flags = 0;
	int rev = f->kind < 2 ? 0 : (int)rnd(2);
	struct pktb b;
	size_t n;

	if (f->kind < 2)
		flags = tcp_step(f->sent, f->len, &rev);
	if (f->kind == 1 && iplen < 60)
		iplen = 60;			/* IPv6 + TCP; plen 0 would mean "the frame's" */
	pktb_init(&b, buf, 128);
	pktb_eth(&b, mac1, mac2, f->kind == 1 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4);
	if (f->kind == 1) {
		struct pktb_ip6 ip = { .hlim = 64, .nh = PKTB_TCP, .plen = (uint16_t)(iplen - 40) };

		memcpy(ip.src, rev ? f->b : f->a, 16);
		memcpy(ip.dst, rev ? f->a : f->b, 16);
		pktb_ipv6(&b, &ip);
	} else {
		struct pktb_ip4 ip = { .ttl = (uint8_t)(rev ? 57 : 64), .total = iplen,
				       .proto = f->kind == 0 ? PKTB_TCP : f->kind == 2 ? PKTB_UDP : PKTB_ICMP };

		memcpy(ip.src, rev ? f->b : f->a, 4);
		memcpy(ip.dst, rev ? f->a : f->b, 4);
		pktb_ipv4(&b, &ip);
	}
	if (f->kind < 2) {
		struct pktb_tcp t = { .sport = rev ? f->dp : f->sp, .dport = rev ? f->sp : f->dp,
				      .flags = flags, .window = 1000 };

		pktb_tcp(&b, &t);
	} else if (f->kind == 2) {
		pktb_udp(&b, rev ? f->dp : f->sp, rev ? f->sp : f->dp, (uint16_t)(iplen - 20));
	} else {
		pktb_icmp(&b, rev ? 0 : 8, 0, f->sp);
	}
	n = pktb_finish_cut(&b);
	f->sent++;
	total_octets += iplen;
	return n < SNAP ? n : SNAP;
}

/* The frames: with burst, a flow picked sends 1 to 8 packets in a row (a
 * window's worth), as real traffic does; without, every packet is drawn
 * anew, the worst case for the caches. */
static uint32_t make_traffic(int burst)
{
	struct gflow *live = calloc(LIVE, sizeof(*live));
	uint32_t nflows = LIVE, pos = 0;

	rng = 0x6d657465;
	total_octets = 0;
	free(frames);
	free(off);
	frames = malloc((size_t)NPKT * SNAP);
	off = malloc(((size_t)NPKT + 1) * sizeof(*off));
	if (!live || !frames || !off) {
		fprintf(stderr, "meter: out of memory\n");
		exit(1);
	}
	for (uint32_t i = 0; i < LIVE; i++)
		gflow_new(&live[i], i);
	for (uint32_t p = 0; p < NPKT;) {
		struct gflow *f = &live[rnd(LIVE)];
		uint32_t n = burst ? 1 + rnd(8) : 1;

		for (; n && p < NPKT && f->sent < f->len; n--, p++) {
			off[p] = pos;
			pos += (uint32_t)build(frames + pos, f);
		}
		if (f->sent == f->len)
			gflow_new(f, nflows++);
	}
	off[NPKT] = pos;
	free(live);
	return nflows;
}

struct tally {
	uint64_t packets, octets, records, by_reason[6];
};

static void on_rec(void *arg, const struct meter_rec *r)
{
	struct tally *t = arg;

	t->packets += r->fwd.packets + r->rev.packets;
	t->octets += r->fwd.octets + r->rev.octets;
	t->records++;
	t->by_reason[r->end_reason < 6 ? r->end_reason : 0]++;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint64_t sink;

static double run_parse(void)
{
	struct pkt_info pi;
	double t0 = cpu_s();
	uint64_t s = 0;

	for (uint32_t p = 0; p < NPKT; p++) {
		pkt_parse(&pi, frames + off[p], off[p + 1] - off[p], PKT_START_ETH);
		s += pi.ip_len;
	}
	sink = s;
	return cpu_s() - t0;
}

static double best_parse(int passes)
{
	double best = 1e9;

	for (int i = 0; i < passes; i++) {
		double s = run_parse();

		best = s < best ? s : best;
	}
	printf("parse  %6.2f M packets/CPU-s  %5.1f ns/packet\n", NPKT / best / 1e6,
	       best * 1e9 / NPKT);
	return best;
}

/* pkt_parse + meter_packet over every frame, then the flush; the CPU
 * seconds, and the tally checked against the traffic. */
static double run_meter(const struct meter_cfg *cfg, int batch, struct tally *t)
{
	struct pkt_info pi, pis[METER_BATCH];
	uint64_t ts[METER_BATCH];
	struct meter *m;
	double t0, dt;

	memset(t, 0, sizeof(*t));
	m = meter_new(cfg, on_rec, t);
	if (!m) {
		fprintf(stderr, "meter: meter_new failed\n");
		exit(1);
	}
	t0 = cpu_s();
	if (!batch) {
		for (uint32_t p = 0; p < NPKT; p++) {
			pkt_parse(&pi, frames + off[p], off[p + 1] - off[p], PKT_START_ETH);
			meter_packet(m, &pi, T0 + p * DT_NS, 0, 0);
		}
	} else {
		for (uint32_t p = 0; p < NPKT;) {
			uint32_t b = 0;

			for (; b < METER_BATCH && p < NPKT; b++, p++) {
				pkt_parse(&pis[b], frames + off[p], off[p + 1] - off[p], PKT_START_ETH);
				ts[b] = T0 + p * DT_NS;
			}
			meter_packets(m, pis, ts, b, 0, 0);
		}
	}
	meter_flush(m, METER_END_FORCED);
	dt = cpu_s() - t0;
	if (t->packets != NPKT || t->octets != total_octets) {
		fprintf(stderr, "meter: records hold %llu packets %llu octets, sent %u %llu\n",
			(unsigned long long)t->packets, (unsigned long long)t->octets, NPKT,
			(unsigned long long)total_octets);
		exit(1);
	}
	meter_free(m);
	return dt;
}

static double report(const char *name, const struct meter_cfg *cfg, int batch, int passes,
		     double parse_s)
{
	struct tally t;
	double best = 1e9;

	for (int i = 0; i < passes; i++) {
		double s = run_meter(cfg, batch, &t);

		best = s < best ? s : best;
	}
	printf("%-6s %6.2f M packets/CPU-s  %5.1f ns/packet (meter %5.1f)  records %llu"
	       " (idle %llu active %llu end %llu forced %llu resources %llu)\n",
	       name, NPKT / best / 1e6, best * 1e9 / NPKT, (best - parse_s) * 1e9 / NPKT,
	       (unsigned long long)t.records, (unsigned long long)t.by_reason[1],
	       (unsigned long long)t.by_reason[2], (unsigned long long)t.by_reason[3],
	       (unsigned long long)t.by_reason[4], (unsigned long long)t.by_reason[5]);
	return NPKT / best / 1e6;
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 5;
	struct meter_cfg def = { 0 };
	struct meter_cfg churn = { .inactive_ns = 50000000ull };
	struct meter_cfg bound = { .max_flows = 4096 };
	double parse_s, one, mpps, one_b, mpps_b;
	struct rusage ru;
	uint32_t nflows;

	if (passes < 1)
		passes = 1;
	nflows = make_traffic(0);
	printf("traffic: %u packets, %u flows (%u live at a time), %.1f MB of frames;"
	       " each packet from a flow drawn at random\n", NPKT, nflows, LIVE, off[NPKT] / 1e6);
	parse_s = best_parse(passes);
	if (argc > 2) {			/* "batch": that run alone, for a profiler */
		report("batch", &def, 1, passes, parse_s);
		return 0;
	}
	one = report("one", &def, 0, passes, parse_s);
	mpps = report("batch", &def, 1, passes, parse_s);
	report("churn", &churn, 1, passes, parse_s);
	report("bound", &bound, 1, passes, parse_s);

	nflows = make_traffic(1);
	printf("traffic: the same in bursts of 1 to 8 packets of a flow, %u flows\n", nflows);
	parse_s = best_parse(passes);
	one_b = report("one", &def, 0, passes, parse_s);
	mpps_b = report("batch", &def, 1, passes, parse_s);
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS %.0f MB (frames included)\n", ru.ru_maxrss / 1024.0);
	printf("parse + meter in batches: %.2f M packets/CPU-s at random (%.2fx one at a time),"
	       " %.2f M in bursts (%.2fx); against the end-to-end target of %.1f M"
	       " (4x softflowd): %.2fx and %.2fx\n", mpps, mpps / one, mpps_b, mpps_b / one_b,
	       TARGET_MPPS, mpps / TARGET_MPPS, mpps_b / TARGET_MPPS);
	free(frames);
	free(off);
	return 0;
}
