/* bench/decode - records per second per core, decoded and normalized, for
 * each protocol, from messages held in memory.
 *
 * IPFIX: 30 records of 13 fields per message, the shape the issue names.
 * NetFlow v5: 30 records per message. NetFlow v9: 30 records of 13 fields.
 * sFlow: flow samples with 128-byte raw headers (Ethernet/IPv4/TCP), 10
 * samples per datagram. Each measurement decodes a ring of distinct
 * messages for about BENCH_SECONDS of thread CPU time (default 2) and
 * reports records / CPU-second.
 *
 * Usage: decode [seconds [protocol]]   protocol: a name prefix (ipfix, netflow v9, ...)
 *        decode --write-ipfix FILE N   the IPFIX template message and N data
 *            messages of the same shape, each as a 2-byte big-endian length
 *            and the message, for bench/udpsend to feed a peer collector.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "flow.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#define RING		256
#define MSG_MAX		1500
#define IPFIX_RECS	30

struct ring {
	uint8_t msg[RING][MSG_MAX];
	size_t len[RING];
	int n;
};

static volatile uint64_t sink;

static int on_record(const struct weir_record *rec, void *user)
{
	struct flow f;

	(void)user;
	if (flow_from_record(rec, &f) == WEIR_OK)
		sink += f.bytes + f.packets + f.src_port;
	return 0;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* IPFIX template 256: 13 fields, 47 bytes a record. */
static const uint16_t ipfix_fields[][2] = {
	{ 1, 4 }, { 2, 4 }, { 8, 4 }, { 12, 4 }, { 7, 2 }, { 11, 2 }, { 4, 1 },
	{ 5, 1 }, { 6, 1 }, { 10, 4 }, { 14, 4 }, { 152, 8 }, { 153, 8 },
};
#define NFIELDS (sizeof(ipfix_fields) / sizeof(ipfix_fields[0]))

static void put_record(struct wr *w, uint64_t *s, int with_ms)
{
	wr_u32(w, 64 + rnd(s) % 100000);
	wr_u32(w, 1 + rnd(s) % 100);
	wr_u32(w, 0x0a000000 | (rnd(s) & 0xffffff));
	wr_u32(w, 0xc0a80000 | (rnd(s) & 0xffff));
	wr_u16(w, (uint16_t)(1024 + rnd(s) % 60000));
	wr_u16(w, (uint16_t)(rnd(s) % 1024));
	wr_u8(w, rnd(s) % 2 ? 6 : 17);
	wr_u8(w, 0);
	wr_u8(w, 0x18);
	wr_u32(w, rnd(s) % 64);
	wr_u32(w, rnd(s) % 64);
	if (with_ms) {
		wr_u64(w, 1700000000000ull + rnd(s) % 1000);
		wr_u64(w, 1700000001000ull + rnd(s) % 1000);
	} else {
		wr_u32(w, 100000 + rnd(s) % 1000);
		wr_u32(w, 101000 + rnd(s) % 1000);
	}
}

static size_t ipfix_msg(uint8_t *buf, uint32_t seq, int with_template, uint64_t *s)
{
	struct wr w;
	size_t set;

	wr_init(&w, buf, MSG_MAX);
	wr_u16(&w, 10);
	wr_u16(&w, 0);
	wr_u32(&w, 1700000002);
	wr_u32(&w, seq);
	wr_u32(&w, 1);
	if (with_template) {
		wr_u16(&w, 2);
		wr_u16(&w, 4 + 4 + 4 * NFIELDS);
		wr_u16(&w, 256);
		wr_u16(&w, NFIELDS);
		for (size_t i = 0; i < NFIELDS; i++) {
			wr_u16(&w, ipfix_fields[i][0]);
			wr_u16(&w, ipfix_fields[i][1]);
		}
	}
	set = wr_reserve(&w, 4);
	for (int r = 0; r < IPFIX_RECS; r++)
		put_record(&w, s, 1);
	wr_put_u16(&w, set, 256);
	wr_put_u16(&w, set + 2, (uint16_t)(w.off - set));
	wr_put_u16(&w, 2, (uint16_t)w.off);
	return w.err ? 0 : w.off;
}

static size_t nf9_msg(uint8_t *buf, uint32_t seq, int with_template, uint64_t *s)
{
	struct wr w;
	size_t set;

	wr_init(&w, buf, MSG_MAX);
	wr_u16(&w, 9);
	wr_u16(&w, IPFIX_RECS + (with_template ? 1 : 0));
	wr_u32(&w, 200000);
	wr_u32(&w, 1700000002);
	wr_u32(&w, seq);
	wr_u32(&w, 1);
	if (with_template) {
		wr_u16(&w, 0);
		wr_u16(&w, 4 + 4 + 4 * NFIELDS);
		wr_u16(&w, 256);
		wr_u16(&w, NFIELDS);
		for (size_t i = 0; i < NFIELDS; i++) {
			/* v9 times are uptime-relative: FIRST/LAST_SWITCHED. */
			uint16_t id = ipfix_fields[i][0];

			wr_u16(&w, id == 152 ? 22 : id == 153 ? 21 : id);
			wr_u16(&w, id >= 152 ? 4 : ipfix_fields[i][1]);
		}
	}
	set = wr_reserve(&w, 4);
	for (int r = 0; r < IPFIX_RECS; r++)
		put_record(&w, s, 0);
	wr_put_u16(&w, set, 256);
	wr_put_u16(&w, set + 2, (uint16_t)(w.off - set));
	return w.err ? 0 : w.off;
}

static size_t nf5_msg(uint8_t *buf, uint32_t seq, uint64_t *s)
{
	struct wr w;

	wr_init(&w, buf, MSG_MAX);
	wr_u16(&w, 5);
	wr_u16(&w, 30);
	wr_u32(&w, 200000);
	wr_u32(&w, 1700000002);
	wr_u32(&w, 0);
	wr_u32(&w, seq);
	wr_u8(&w, 0);
	wr_u8(&w, 0);
	wr_u16(&w, 0);
	for (int r = 0; r < 30; r++) {
		wr_u32(&w, 0x0a000000 | (rnd(s) & 0xffffff));
		wr_u32(&w, 0xc0a80000 | (rnd(s) & 0xffff));
		wr_u32(&w, 0);
		wr_u16(&w, (uint16_t)(rnd(s) % 64));
		wr_u16(&w, (uint16_t)(rnd(s) % 64));
		wr_u32(&w, 1 + rnd(s) % 100);
		wr_u32(&w, 64 + rnd(s) % 100000);
		wr_u32(&w, 100000 + rnd(s) % 1000);
		wr_u32(&w, 101000 + rnd(s) % 1000);
		wr_u16(&w, (uint16_t)(1024 + rnd(s) % 60000));
		wr_u16(&w, (uint16_t)(rnd(s) % 1024));
		wr_u8(&w, 0);
		wr_u8(&w, 0x18);
		wr_u8(&w, 6);
		wr_u8(&w, 0);
		wr_u16(&w, 65000);
		wr_u16(&w, 65001);
		wr_u8(&w, 8);
		wr_u8(&w, 16);
		wr_u16(&w, 0);
	}
	return w.err ? 0 : w.off;
}

static size_t sflow_msg(uint8_t *buf, uint32_t seq, uint64_t *s, unsigned *nrec)
{
	struct flow fl[10];
	struct sflow_agent ag;
	struct wr w;

	memset(&ag, 0, sizeof(ag));
	weir_addr_v4u(&ag.addr, 0xc0000201);
	ag.sequence = seq;
	ag.uptime_ms = 200000;
	for (int i = 0; i < 10; i++) {
		memset(&fl[i], 0, sizeof(fl[i]));
		weir_addr_v4u(&fl[i].src_addr, 0x0a000000 | (rnd(s) & 0xffffff));
		weir_addr_v4u(&fl[i].dst_addr, 0xc0a80000 | (rnd(s) & 0xffff));
		fl[i].etype = 0x0800;
		fl[i].proto = 6;
		fl[i].src_port = (uint16_t)(1024 + rnd(s) % 60000);
		fl[i].dst_port = (uint16_t)(rnd(s) % 1024);
		fl[i].bytes = 64 + rnd(s) % 1400;
		fl[i].packets = 1;
		fl[i].ip_ttl = 64;
		fl[i].tcp_flags = 0x18;
		fl[i].sampling_rate = 1000;
		fl[i].in_if = 1;
		fl[i].out_if = 2;
		fl[i].has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_ETYPE |
			    FLOW_HAS_PROTO | FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT |
			    FLOW_HAS_BYTES | FLOW_HAS_PACKETS | FLOW_HAS_TTL |
			    FLOW_HAS_TCP_FLAGS | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF;
	}
	wr_init(&w, buf, MSG_MAX);
	if (sflow_encode(&w, &ag, fl, 10, NULL, 0) != WEIR_OK)
		return 0;
	*nrec = 10;
	return w.off;
}

/* Decode the ring over and over for about secs of CPU time. */
static const char *only;	/* run just this protocol (argv[2]) */

static double run(const char *name, struct weir_ctx *ctx, const struct ring *rg,
		  unsigned recs_per_msg, double secs)
{
	struct weir_exporter e;
	uint64_t recs = 0, before = ctx->records;
	double t0, t;
	int loops = 0;

	if (only && strncmp(name, only, strlen(only)) != 0)
		return 0;
	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0x7f000001);
	e.port = 2055;
	t0 = cpu_now();
	do {
		for (int i = 0; i < rg->n; i++)
			weir_decode(ctx, &e, rg->msg[i], rg->len[i], 1700000003000000000ull);
		loops++;
		t = cpu_now() - t0;
	} while (t < secs);
	recs = ctx->records - before;
	if (recs != (uint64_t)loops * rg->n * recs_per_msg) {
		fprintf(stderr, "%s: decoded %llu records, expected %llu\n", name,
			(unsigned long long)recs,
			(unsigned long long)loops * rg->n * recs_per_msg);
		exit(1);
	}
	printf("%-28s %8.2f M records/s/core  (%llu records in %.2f CPU-s)\n", name,
	       recs / t / 1e6, (unsigned long long)recs, t);
	return recs / t;
}

static int write_ipfix(const char *path, long n)
{
	uint8_t buf[MSG_MAX + 2];
	uint64_t s = 7;
	FILE *fp = fopen(path, "wb");
	size_t len;

	if (!fp || n < 1) {
		perror(path);
		return 1;
	}
	for (long i = 0; i <= n; i++) {
		len = ipfix_msg(buf + 2, (uint32_t)(i * IPFIX_RECS), i == 0, &s);
		buf[0] = (uint8_t)(len >> 8);
		buf[1] = (uint8_t)len;
		if (!len || fwrite(buf, 1, len + 2, fp) != len + 2) {
			fclose(fp);
			return 1;
		}
	}
	return fclose(fp) != 0;
}

int main(int argc, char **argv)
{
	static struct ring rg;
	struct weir_exporter e;
	struct weir_ctx ctx;
	double secs;
	uint64_t s = 42;
	uint8_t tbuf[MSG_MAX];
	size_t tlen;
	unsigned nrec = 0;

	if (argc == 4 && strcmp(argv[1], "--write-ipfix") == 0)
		return write_ipfix(argv[2], atol(argv[3]));
	secs = argc > 1 ? atof(argv[1]) : 2.0;
	only = argc > 2 ? argv[2] : NULL;
	if (secs <= 0) {
		fprintf(stderr, "usage: decode [seconds] | decode --write-ipfix FILE N\n");
		return 2;
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0x7f000001);
	e.port = 2055;
	ctx.cache = tmpl_cache_new(NULL, NULL);
	ctx.on_record = on_record;

	/* IPFIX: the template goes in once, then only data messages. */
	tlen = ipfix_msg(tbuf, 0, 1, &s);
	weir_decode(&ctx, &e, tbuf, tlen, 1700000003000000000ull);
	for (rg.n = 0; rg.n < RING; rg.n++)
		rg.len[rg.n] = ipfix_msg(rg.msg[rg.n], (uint32_t)(30 + rg.n * 30), 0, &s);
	printf("bench/decode: decode + normalize, one core, %.1f CPU-s each\n", secs);
	run("ipfix (30 x 13 fields)", &ctx, &rg, IPFIX_RECS, secs);

	tlen = nf9_msg(tbuf, 0, 1, &s);
	weir_decode(&ctx, &e, tbuf, tlen, 1700000003000000000ull);
	for (rg.n = 0; rg.n < RING; rg.n++)
		rg.len[rg.n] = nf9_msg(rg.msg[rg.n], (uint32_t)(1 + rg.n), 0, &s);
	run("netflow v9 (30 x 13 fields)", &ctx, &rg, IPFIX_RECS, secs);

	for (rg.n = 0; rg.n < RING; rg.n++)
		rg.len[rg.n] = nf5_msg(rg.msg[rg.n], (uint32_t)(rg.n * 30), &s);
	run("netflow v5 (30 records)", &ctx, &rg, 30, secs);

	for (rg.n = 0; rg.n < RING; rg.n++)
		rg.len[rg.n] = sflow_msg(rg.msg[rg.n], (uint32_t)rg.n, &s, &nrec);
	run("sflow (10 raw-header samples)", &ctx, &rg, nrec, secs);

	tmpl_cache_free(ctx.cache);
	return sink == 42 ? 2 : 0;
}
