/* Unit tests of the generator's simulated exporters (generator/sim.c):
 * records per datagram fit the MTU for every protocol, and what the ledger
 * is told about a datagram is what a decoder finds in it. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "decode.h"
#include "err.h"
#include "flow.h"
#include "model.h"
#include "run.h"
#include "sflow.h"
#include "sim.h"
#include "tmpl.h"

#define T0 (1700000000ull * 1000000000ull)
#define BOOT (T0 - 3600ull * 1000000000ull)

static char err[512];

static void model_for(struct model *m, const char *src, const char *dst, const char *protos,
		      enum gen_proto p, uint32_t rate)
{
	struct model_cfg c;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(prog_parse_cidr_list(src, c.src, MODEL_MAX_RANGES, &c.nsrc, err, sizeof(err)), 0);
	cr_assert_eq(prog_parse_cidr_list(dst, c.dst, MODEL_MAX_RANGES, &c.ndst, err, sizeof(err)), 0);
	cr_assert_eq(parse_protocols(protos, c.protos, MODEL_MAX_PROTOS, &c.nprotos, err,
				     sizeof(err)), 0);
	c.sport = (struct prog_range){ 1024, 65535 };
	c.dport = (struct prog_range){ 1, 1024 };
	c.sampling_rate = rate;
	c.sflow = p == GEN_SFLOW;
	c.seed = 99;
	cr_assert_eq(model_init(m, &c, err, sizeof(err)), WEIR_OK, "%s", err);
}

static struct sim_cfg scfg(enum gen_proto p, uint32_t rate)
{
	return (struct sim_cfg){ .proto = p, .sampling_rate = rate,
				 .template_interval_ns = 30ull * 1000000000ull, .boot_ns = BOOT };
}

static struct weir_addr addr_of(int v6)
{
	struct weir_addr a;
	uint8_t six[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	if (v6)
		weir_addr_v6(&a, six);
	else
		weir_addr_v4u(&a, 0x7f000001);
	return a;
}

struct shape {
	enum gen_proto p;
	const char *src, *dst, *protos;
	int v6_transport;
	uint32_t mtu;
};

static const struct shape shapes[] = {
	{ GEN_IPFIX, "10.0.0.0/8", "192.168.0.0/16", "6,17", 0, 1500 },
	{ GEN_IPFIX, "2001:db8::/32", "2001:db8:1::/48", "6,17", 1, 1500 },
	{ GEN_IPFIX, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48", "6,17,1", 0, 1500 },
	{ GEN_IPFIX, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48", "6", 1, 9000 },
	{ GEN_V9, "10.0.0.0/8", "192.168.0.0/16", "6,17", 0, 1500 },
	{ GEN_V9, "2001:db8::/32", "2001:db8:1::/48", "17", 1, 1500 },
	{ GEN_V9, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48", "6,17,58", 1, 1500 },
	{ GEN_V9, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48", "6", 0, 65535 },
	{ GEN_V5, "10.0.0.0/8", "192.168.0.0/16", "6,17,1", 0, 1500 },
	{ GEN_V5, "10.0.0.0/8", "192.168.0.0/16", "6,17", 1, 1500 },
	{ GEN_V5, "10.0.0.0/8", "192.168.0.0/16", "6,17", 0, 576 },
	{ GEN_SFLOW, "10.0.0.0/8", "192.168.0.0/16", "6,17", 0, 1500 },
	{ GEN_SFLOW, "2001:db8::/32", "2001:db8:1::/48", "6,17,58", 1, 1500 },
	{ GEN_SFLOW, "10.0.0.0/8,2001:db8::/32", "192.168.0.0/16,2001:db8:1::/48", "17,6", 1, 9000 },
	{ GEN_SFLOW, "10.0.0.0/8", "192.168.0.0/16", "47,17", 0, 576 },
};

/* For every shape: the largest -f that fits is accepted, one more is not,
 * and 300 datagrams of that many drawn records stay within the limit. */
Test(gen_sim, records_fit_the_mtu)
{
	for (unsigned s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		struct sim_cfg c = scfg(sh->p, 1);
		struct weir_addr agent = addr_of(sh->v6_transport);
		size_t payload = gen_payload_max(sh->mtu, sh->v6_transport);
		struct sim_exporter x;
		struct model m;
		uint32_t max, again;
		struct flow *fl;
		uint8_t *buf;

		model_for(&m, sh->src, sh->dst, sh->protos, sh->p, 1);
		cr_assert_eq(sim_fit_check(&c, &m, &agent, payload, 65535, &max, err, sizeof(err)),
			     WEIR_E_INVALID, "shape %u: 65535 records fit?", s);
		cr_assert_gt(max, 0, "shape %u: %s", s, err);
		cr_assert_not_null(strstr(err, "do not fit"), "%s", err);
		cr_assert_eq(sim_fit_check(&c, &m, &agent, payload, max, &again, err, sizeof(err)),
			     WEIR_OK, "shape %u: %u records: %s", s, max, err);
		cr_assert_eq(sim_fit_check(&c, &m, &agent, payload, max + 1, &again, err,
					   sizeof(err)), WEIR_E_INVALID, "shape %u: %u", s, max + 1);
		cr_assert_eq(again, max);
		if (sh->p == GEN_V5)
			cr_assert_eq(max, payload >= 24 + 30 * 48 ? 30 : (payload - 24) / 48);

		fl = calloc(max, sizeof(*fl));
		buf = malloc(payload);
		cr_assert(fl && buf);
		cr_assert_eq(sim_init(&x, &c, 0, 5, &agent), WEIR_OK);
		for (int d = 0; d < 300; d++) {
			struct dg_info info;

			model_flows(&m, T0 + d * 1000000ull, fl, max);
			cr_assert_eq(sim_data(&x, T0 + d * 1000000ull, fl, max, buf, payload, &info),
				     WEIR_OK, "shape %u datagram %d", s, d);
			cr_assert_leq(info.len, payload);
			cr_assert_eq(info.records, max);
		}
		sim_free(&x);
		free(fl);
		free(buf);
	}
}

Test(gen_sim, default_flags_fit)
{
	/* -f 10 at 1500 bytes works for every protocol and family */
	for (unsigned s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		struct sim_cfg c = scfg(sh->p, 1);
		struct weir_addr agent = addr_of(sh->v6_transport);
		struct model m;
		uint32_t max;

		if (sh->mtu != 1500)
			continue;
		model_for(&m, sh->src, sh->dst, sh->protos, sh->p, 1);
		cr_assert_eq(sim_fit_check(&c, &m, &agent, gen_payload_max(1500, sh->v6_transport),
					   10, &max, err, sizeof(err)), WEIR_OK, "shape %u: %s", s,
			     err);
	}
}

Test(gen_sim, templates_must_fit)
{
	struct sim_cfg c = scfg(GEN_IPFIX, 100);
	struct weir_addr agent = addr_of(0);
	struct model m;
	uint32_t max = 99;

	model_for(&m, "10.0.0.0/8", "192.168.0.0/16", "6", GEN_IPFIX, 100);
	cr_assert_eq(sim_fit_check(&c, &m, &agent, 100, 1, &max, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(max, 0);
	cr_assert_not_null(strstr(err, "templates"), "%s", err);
}

/* ---- what the ledger hears equals what a decoder reads ---- */

struct seen {
	uint64_t records, options, bytes, packets, frames, scaled_bytes, scaled_packets;
	uint32_t seq, domain, rate;
	uint32_t sample_seq_min, sample_seq_max;
	int msgs;
};

static int on_rec(const struct weir_record *rec, void *user)
{
	struct seen *s = user;
	struct flow f;

	s->seq = rec->msg->sequence;
	s->domain = rec->msg->domain;
	if (rec->is_options) {
		s->options++;
		return 0;
	}
	cr_assert_eq(flow_from_record(rec, &f), WEIR_OK);
	s->records++;
	s->bytes += f.bytes;
	s->packets += f.packets;
	s->rate = rec->sampling_rate;
	if (rec->sflow) {
		const struct sflow_sample *sm = rec->sflow;

		s->frames += sm->header.frame_length;
		s->scaled_bytes += (uint64_t)sm->header.frame_length * sm->sampling_rate;
		s->scaled_packets += sm->sampling_rate;
		if (!s->sample_seq_min || sm->sequence < s->sample_seq_min)
			s->sample_seq_min = sm->sequence;
		if (sm->sequence > s->sample_seq_max)
			s->sample_seq_max = sm->sequence;
	}
	return 0;
}

static void check_accounting(enum gen_proto p, uint32_t rate, const char *src, const char *dst)
{
	struct sim_cfg c = scfg(p, rate);
	struct weir_addr agent = addr_of(0);
	struct weir_exporter ex = { .port = 40000 };
	struct tmpl_cache *cache = tmpl_cache_new(NULL, NULL);
	struct weir_ctx ctx;
	struct sim_exporter x;
	struct flow fl[10];
	struct model m;
	uint8_t buf[1472];
	uint32_t expect_seq = 0;
	int have_seq = 0;

	cr_assert_not_null(cache);
	ex.addr = agent;
	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = cache;
	ctx.on_record = on_rec;
	model_for(&m, src, dst, "6,17,1", p, rate);
	cr_assert_eq(sim_init(&x, &c, 3, 77, &agent), WEIR_OK);
	for (int d = 0; d < 400; d++) {
		uint64_t t = T0 + (uint64_t)d * 200000000ull;	/* 5 datagrams a second */
		struct dg_info info;
		struct seen s;
		int r;

		memset(&s, 0, sizeof(s));
		ctx.user = &s;
		if (sim_template_due(&x, t)) {
			cr_assert(p == GEN_IPFIX || p == GEN_V9);
			cr_assert_eq(sim_templates(&x, t, buf, sizeof(buf), &info), WEIR_OK);
			cr_assert(info.is_template);
		} else {
			model_flows(&m, t, fl, 10);
			cr_assert_eq(sim_data(&x, t, fl, 10, buf, sizeof(buf), &info), WEIR_OK);
		}
		cr_assert_eq(info.exporter, 3);
		cr_assert_eq(info.time_ns, t);
		r = weir_decode(&ctx, &ex, buf, info.len, t);
		cr_assert_eq(r, WEIR_OK, "%s datagram %d: %s", gen_proto_name(p), d, weir_strerror(r));
		cr_assert_eq(s.records, info.records, "datagram %d", d);
		cr_assert_eq(s.options, info.options_records, "datagram %d", d);
		cr_assert_eq(s.bytes, info.bytes, "datagram %d", d);
		cr_assert_eq(s.packets, info.packets, "datagram %d", d);
		if (s.records || s.options) {
			cr_assert_eq(s.seq, info.sequence, "datagram %d", d);
			cr_assert_eq(s.domain, 77, "domain");
		}
		if (s.records && rate > 1)
			cr_assert_eq(s.rate, rate, "%s: sampling rate learnt", gen_proto_name(p));
		if (p == GEN_SFLOW) {
			cr_assert_eq(s.frames, info.frame_bytes);
			cr_assert_eq(s.scaled_bytes, info.scaled_bytes);
			cr_assert_eq(s.scaled_packets, info.scaled_packets);
			cr_assert_eq(s.sample_seq_min, info.sample_seq_first);
			cr_assert_eq(s.sample_seq_max, info.sample_seq_last);
			cr_assert_eq(info.scaled_packets, 10ull * rate);
		}
		/* sequence numbers chain: each datagram's is the last one's + step */
		if (have_seq)
			cr_assert_eq(info.sequence, expect_seq, "%s datagram %d", gen_proto_name(p), d);
		expect_seq = info.sequence + info.sequence_step;
		have_seq = 1;
	}
	for (int e = 1; e < WEIR_E_MAX; e++)
		cr_assert_eq(ctx.errors[e], 0, "%s: %s met", gen_proto_name(p), weir_errname(-e));
	sim_free(&x);
	tmpl_cache_free(cache);
}

Test(gen_sim, ledger_facts_match_the_decoder)
{
	for (int p = 0; p < 4; p++) {
		check_accounting((enum gen_proto)p, 1, "10.0.0.0/8", "192.168.0.0/16");
		check_accounting((enum gen_proto)p, 256, "10.0.0.0/8", "192.168.0.0/16");
		if (p != GEN_V5)
			check_accounting((enum gen_proto)p, 1, "10.0.0.0/8,2001:db8::/32",
					 "192.168.0.0/16,2001:db8:1::/48");
	}
}

Test(gen_sim, template_schedule)
{
	struct sim_cfg c = scfg(GEN_V9, 1);
	struct weir_addr agent = addr_of(0);
	struct sim_exporter x;
	struct dg_info info;
	uint8_t buf[1472];
	const uint64_t s = 1000000000ull;

	cr_assert_eq(sim_init(&x, &c, 0, 1, &agent), WEIR_OK);
	cr_assert(sim_template_due(&x, T0), "templates come first");
	cr_assert_eq(sim_templates(&x, T0, buf, sizeof(buf), &info), WEIR_OK);
	cr_assert_not(sim_template_due(&x, T0 + 29 * s));
	cr_assert(sim_template_due(&x, T0 + 30 * s));
	sim_free(&x);

	c.template_interval_ns = 0;	/* once */
	cr_assert_eq(sim_init(&x, &c, 0, 1, &agent), WEIR_OK);
	cr_assert_eq(sim_templates(&x, T0, buf, sizeof(buf), &info), WEIR_OK);
	cr_assert_not(sim_template_due(&x, T0 + 1000000 * s));
	sim_free(&x);

	for (int p = GEN_V5; p <= GEN_SFLOW; p++) {
		c = scfg((enum gen_proto)p, 1);
		cr_assert_eq(sim_init(&x, &c, 0, 1, &agent), WEIR_OK);
		cr_assert_not(sim_template_due(&x, T0), "%s has no templates",
			      gen_proto_name((enum gen_proto)p));
		cr_assert_eq(sim_templates(&x, T0, buf, sizeof(buf), &info), WEIR_E_INVALID);
		sim_free(&x);
	}
}

Test(gen_sim, partial_fit_changes_nothing)
{
	struct sim_cfg c = scfg(GEN_IPFIX, 1);
	struct weir_addr agent = addr_of(0);
	struct sim_exporter x;
	struct dg_info info;
	struct flow fl[30];
	struct model m;
	uint8_t buf[1472];

	model_for(&m, "10.0.0.0/8", "192.168.0.0/16", "6", GEN_IPFIX, 1);
	model_flows(&m, T0, fl, 30);
	cr_assert_eq(sim_init(&x, &c, 0, 1, &agent), WEIR_OK);
	cr_assert_eq(sim_data(&x, T0, fl, 30, buf, 500, &info), WEIR_E_NOSPACE);
	cr_assert_eq(x.ipfix.sequence, 0, "sequence unchanged after a refused datagram");
	cr_assert_eq(sim_data(&x, T0, fl, 3, buf, 500, &info), WEIR_OK);
	cr_assert_eq(x.ipfix.sequence, 3);
	sim_free(&x);
}
