/* sim.c - see sim.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sim.h"
#include "wr.h"

#define NS_PER_S	1000000000ull
#define NS_PER_MS	1000000ull

static const char *const proto_names[] = { "ipfix", "v9", "v5", "sflow" };

const char *gen_proto_name(enum gen_proto p)
{
	return (unsigned)p < 4 ? proto_names[p] : "?";
}

int gen_proto_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, proto_names[i]) == 0)
			return i;
	return -1;
}

static uint32_t uptime_ms(const struct sim_exporter *x, uint64_t now_ns)
{
	return (uint32_t)((now_ns - x->cfg.boot_ns) / NS_PER_MS);
}

int sim_init(struct sim_exporter *x, const struct sim_cfg *cfg, uint32_t index,
	     uint32_t domain, const struct weir_addr *agent)
{
	memset(x, 0, sizeof(*x));
	x->cfg = *cfg;
	x->index = index;
	x->domain = domain;
	switch (cfg->proto) {
	case GEN_IPFIX: {
		struct ipfix_flow_enc_cfg ec = {
			.domain = domain,
			.sampling_style = IPFIX_SAMPLING_PSAMP,
			.sampling_interval = cfg->sampling_rate,
		};

		return ipfix_flow_enc_init(&x->ipfix, &ec);
	}
	case GEN_V9:
		x->nf9.hdr.source_id = domain;
		x->nf9.sampling_interval = cfg->sampling_rate > 1 ? cfg->sampling_rate : 0;
		x->nf9.sampling_algorithm = 1;	/* deterministic */
		return WEIR_OK;
	case GEN_V5:
		return WEIR_OK;
	case GEN_SFLOW:
		x->agent.addr = *agent;
		x->agent.sub_agent = domain;
		return WEIR_OK;
	}
	return WEIR_E_INVALID;
}

void sim_free(struct sim_exporter *x)
{
	if (x->cfg.proto == GEN_IPFIX)
		ipfix_flow_enc_free(&x->ipfix);
}

int sim_template_due(const struct sim_exporter *x, uint64_t now_ns)
{
	if (x->cfg.proto != GEN_IPFIX && x->cfg.proto != GEN_V9)
		return 0;
	if (!x->templates_sent)
		return 1;
	return x->cfg.template_interval_ns && now_ns >= x->next_template_ns;
}

static void info_start(struct dg_info *info, const struct sim_exporter *x, uint64_t now_ns)
{
	memset(info, 0, sizeof(*info));
	info->exporter = x->index;
	info->time_ns = now_ns;
}

static void nf9_times(struct sim_exporter *x, uint64_t now_ns)
{
	x->nf9.hdr.unix_secs = (uint32_t)(now_ns / NS_PER_S);
	x->nf9.hdr.sys_uptime_ms = uptime_ms(x, now_ns);
}

int sim_templates(struct sim_exporter *x, uint64_t now_ns, uint8_t *buf, size_t cap,
		  struct dg_info *info)
{
	size_t len, used;
	int r;

	info_start(info, x, now_ns);
	info->is_template = 1;
	if (x->cfg.proto == GEN_IPFIX) {
		uint32_t seq = x->ipfix.sequence;

		r = ipfix_flow_enc_msg(&x->ipfix, buf, cap, (uint32_t)(now_ns / NS_PER_S),
				       NULL, 0, 1, &used);
		if (r < 0)
			return r;
		info->len = (uint32_t)r;
		info->sequence = seq;
		info->sequence_step = x->ipfix.sequence - seq;
		info->options_records = info->sequence_step;
	} else if (x->cfg.proto == GEN_V9) {
		nf9_times(x, now_ns);
		info->sequence = x->nf9.hdr.sequence;
		r = nf9_encode_flows(&x->nf9, NULL, 0, 1, buf, cap, &len, &used);
		if (r)
			return r;
		info->len = (uint32_t)len;
		info->sequence_step = 1;
		info->options_records = x->nf9.sampling_interval ? 1 : 0;
	} else {
		return WEIR_E_INVALID;
	}
	x->templates_sent = 1;
	x->next_template_ns = now_ns + x->cfg.template_interval_ns;
	return WEIR_OK;
}

static void sum_flows(struct dg_info *info, const struct flow *flows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		info->bytes += flows[i].bytes;
		info->packets += flows[i].packets;
	}
	info->records = (uint32_t)n;
}

/* The frame length sflow_encode() writes for a flow: its bytes per packet
 * (sflow.h: a flow sample is one packet of the flow). The model's sFlow
 * flows are single packets with bytes >= the synthesized headers. */
static uint32_t sflow_frame(const struct flow *f)
{
	uint64_t b = f->bytes;

	if (f->packets > 1)
		b /= f->packets;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static int data_sflow(struct sim_exporter *x, uint64_t now_ns, const struct flow *flows,
		      size_t n, uint8_t *buf, size_t cap, struct dg_info *info)
{
	uint32_t first = x->agent.flow_seq + 1;
	struct wr w;
	int r;

	x->agent.uptime_ms = uptime_ms(x, now_ns);
	info->sequence = x->agent.sequence;
	wr_init(&w, buf, cap);
	r = sflow_encode(&w, &x->agent, flows, n, NULL, 0);
	if (r)
		return r;
	info->len = (uint32_t)w.off;
	info->sequence_step = 1;
	info->sample_seq_first = first;
	info->sample_seq_last = x->agent.flow_seq;
	for (size_t i = 0; i < n; i++) {
		uint32_t rate = flows[i].sampling_rate ? flows[i].sampling_rate : 1;
		uint32_t frame = sflow_frame(&flows[i]);

		info->frame_bytes += frame;
		info->scaled_bytes += (uint64_t)frame * rate;
		info->scaled_packets += rate;
	}
	return WEIR_OK;
}

int sim_data(struct sim_exporter *x, uint64_t now_ns, const struct flow *flows, size_t n,
	     uint8_t *buf, size_t cap, struct dg_info *info)
{
	size_t len, used;
	int r;

	info_start(info, x, now_ns);
	if (n == 0)
		return WEIR_E_INVALID;
	switch (x->cfg.proto) {
	case GEN_IPFIX: {
		uint32_t seq = x->ipfix.sequence;

		r = ipfix_flow_enc_msg(&x->ipfix, buf, cap, (uint32_t)(now_ns / NS_PER_S),
				       flows, n, 0, &used);
		if (r < 0)
			return r;
		if (used != n) {
			x->ipfix.sequence = seq;
			return WEIR_E_NOSPACE;
		}
		info->len = (uint32_t)r;
		info->sequence = seq;
		info->sequence_step = (uint32_t)n;
		break;
	}
	case GEN_V9: {
		uint32_t seq = x->nf9.hdr.sequence;

		nf9_times(x, now_ns);
		r = nf9_encode_flows(&x->nf9, flows, n, 0, buf, cap, &len, &used);
		if (r)
			return r;
		if (used != n) {
			x->nf9.hdr.sequence = seq;
			return WEIR_E_NOSPACE;
		}
		info->len = (uint32_t)len;
		info->sequence = seq;
		info->sequence_step = 1;
		break;
	}
	case GEN_V5: {
		struct nf5_hdr h = {
			.sys_uptime_ms = uptime_ms(x, now_ns),
			.unix_secs = (uint32_t)(now_ns / NS_PER_S),
			.unix_nsecs = (uint32_t)(now_ns % NS_PER_S),
			.flow_sequence = x->nf5_sequence,
			.engine_type = (uint8_t)(x->domain >> 8),
			.engine_id = (uint8_t)x->domain,
		};

		if (x->cfg.sampling_rate > 1) {
			h.sampling_mode = 1;	/* deterministic */
			h.sampling_interval = (uint16_t)x->cfg.sampling_rate;
		}
		r = nf5_encode(&h, flows, n, buf, cap, &len);
		if (r)
			return r;
		info->len = (uint32_t)len;
		info->sequence = x->nf5_sequence;
		info->sequence_step = (uint32_t)n;
		x->nf5_sequence += (uint32_t)n;
		break;
	}
	case GEN_SFLOW:
		r = data_sflow(x, now_ns, flows, n, buf, cap, info);
		if (r)
			return r;
		break;
	default:
		return WEIR_E_INVALID;
	}
	sum_flows(info, flows, n);
	return WEIR_OK;
}

/* ---- fitting -f records into a datagram ---- */

struct fit {
	const struct sim_cfg *cfg;
	const struct model *m;
	const struct weir_addr *agent;
	size_t payload;
	struct flow worst[2];		/* largest flow per family */
	int fam[2];			/* families the model draws */
	struct flow *flows;		/* scratch, cap entries */
	uint8_t *buf;			/* scratch, payload bytes */
};

/* Whether n4 IPv4 then n6 IPv6 worst-case flows fit one datagram. */
static int fits_mix(struct fit *ft, size_t n4, size_t n6)
{
	struct sim_exporter x;
	struct dg_info info;
	size_t n = n4 + n6;
	int r;

	for (size_t i = 0; i < n; i++)
		ft->flows[i] = ft->worst[i >= n4];
	if (sim_init(&x, ft->cfg, 0, 0xffffffffu, ft->agent))
		return 0;
	r = sim_data(&x, ft->cfg->boot_ns + 3600 * NS_PER_S, ft->flows, n, ft->buf,
		     ft->payload, &info);
	sim_free(&x);
	return r == WEIR_OK && info.len <= ft->payload;
}

/* Whether every mix of n records the model can draw fits. The size is
 * linear in the mix but for set padding, so every split is tried. */
static int fits(struct fit *ft, size_t n)
{
	if (n == 0)
		return 1;
	if (ft->cfg->proto == GEN_V5 && n > NF5_MAX_RECORDS)
		return 0;
	if (!ft->fam[0])
		return fits_mix(ft, 0, n);
	if (!ft->fam[1])
		return fits_mix(ft, n, 0);
	for (size_t n4 = 0; n4 <= n; n4++)
		if (!fits_mix(ft, n4, n - n4))
			return 0;
	return 1;
}

static int templates_fit(struct fit *ft)
{
	struct sim_exporter x;
	struct dg_info info;
	int r;

	if (ft->cfg->proto != GEN_IPFIX && ft->cfg->proto != GEN_V9)
		return 1;
	if (sim_init(&x, ft->cfg, 0, 0xffffffffu, ft->agent))
		return 0;
	r = sim_templates(&x, ft->cfg->boot_ns + 3600 * NS_PER_S, ft->buf, ft->payload, &info);
	sim_free(&x);
	return r == WEIR_OK;
}

/* The flow of a family whose encoding is largest: for sFlow the sample
 * size depends on the protocol's header, for the others on nothing drawn. */
static void worst_flow(struct fit *ft, int v6)
{
	size_t best = 0;

	for (unsigned i = 0; i < ft->m->cfg.nprotos; i++) {
		struct flow f;
		size_t s;

		model_example_flow(ft->m, v6, ft->m->cfg.protos[i], ft->cfg->boot_ns, &f);
		s = sflow_flow_sample_size(&(struct sflow_agent){ .addr = *ft->agent }, &f);
		if (i == 0 || s > best) {
			best = s;
			ft->worst[v6] = f;
		}
	}
}

int sim_fit_check(const struct sim_cfg *cfg, const struct model *m,
		  const struct weir_addr *agent, size_t payload, uint32_t f,
		  uint32_t *max_fit, char *err, size_t errlen)
{
	struct fit ft = { .cfg = cfg, .m = m, .agent = agent, .payload = payload };
	size_t lo, hi;
	int ret = WEIR_E_INVALID;

	*max_fit = 0;
	ft.flows = calloc((size_t)f + 1, sizeof(*ft.flows));
	ft.buf = malloc(payload ? payload : 1);
	if (!ft.flows || !ft.buf) {
		snprintf(err, errlen, "out of memory");
		ret = WEIR_E_NOMEM;
		goto out;
	}
	for (int v6 = 0; v6 < 2; v6++) {
		ft.fam[v6] = model_has_family(m, v6);
		if (ft.fam[v6])
			worst_flow(&ft, v6);
	}
	if (!templates_fit(&ft)) {
		snprintf(err, errlen, "the %s templates do not fit a datagram of %zu bytes: raise --mtu",
			 gen_proto_name(cfg->proto), payload);
		goto out;
	}
	if (fits(&ft, f)) {
		*max_fit = f;
		ret = WEIR_OK;
		goto out;
	}
	/* Largest count that fits, for the message: binary search below f. */
	lo = 0;
	hi = f;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (fits(&ft, mid))
			lo = mid;
		else
			hi = mid;
	}
	*max_fit = (uint32_t)lo;
	snprintf(err, errlen, "%u %s records do not fit a %zu-byte datagram (at most %zu do%s); "
		 "lower -f or raise --mtu", f, gen_proto_name(cfg->proto), payload, lo,
		 cfg->proto == GEN_V5 ? ", and v5 carries at most 30" : "");
out:
	free(ft.flows);
	free(ft.buf);
	return ret;
}
