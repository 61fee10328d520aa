/* weir-demo - the library's pipeline end to end, in one process: synthetic
 * flows are encoded as IPFIX, NetFlow v9, NetFlow v5 and sFlow v5 with the
 * encoders of libweir, decoded again through one template cache as a
 * collector would, normalized, and printed as common-format JSON lines.
 * Usage: weir-demo [flows-per-protocol]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "flow_json.h"
#include "ipfix.h"
#include "nf5.h"
#include "nf9.h"
#include "sflow.h"
#include "tmpl.h"
#include "wr.h"

#define MAXFLOWS 30
#define EXPORT_TIME 1700000000u

struct demo {
	struct weir_ctx ctx;
	unsigned printed;
	int err;
};

static int print_flow(const struct weir_record *rec, void *user)
{
	struct demo *d = user;
	char buf[FLOW_JSON_MAX];
	struct flow f;
	size_t n;

	if (flow_from_record(rec, &f) != WEIR_OK)
		return 0;	/* options records carry no flow */
	n = flow_json(&f, buf, sizeof(buf));
	if (n && fwrite(buf, 1, n, stdout) == n)
		d->printed++;
	return 0;
}

static void make_flows(struct flow *fl, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct flow *f = &fl[i];
		uint8_t mac[6] = { 0x02, 0, 0, 0, 0, (uint8_t)i };

		memset(f, 0, sizeof(*f));
		weir_addr_v4u(&f->src_addr, 0x0a000001 + i);
		weir_addr_v4u(&f->dst_addr, 0xc0a80001 + i * 7);
		weir_addr_v4u(&f->next_hop, 0x0a0000fe);
		f->etype = 0x0800;
		f->proto = i % 3 ? 6 : 17;
		f->src_port = (uint16_t)(40000 + i);
		f->dst_port = i % 3 ? 443 : 53;
		f->bytes = 1500ull * (i + 1);
		f->packets = i + 1;
		f->tcp_flags = f->proto == 6 ? 0x1b : 0;
		f->ip_tos = 0;
		f->ip_ttl = 64;
		f->in_if = 1;
		f->out_if = 2;
		f->src_as = 64512;
		f->dst_as = 64513 + i;
		f->src_net = 24;
		f->dst_net = 16;
		memcpy(f->src_mac, mac, 6);
		mac[0] = 0x04;
		memcpy(f->dst_mac, mac, 6);
		f->time_flow_start_ns = (EXPORT_TIME - 10ull + i) * 1000000000ull;
		f->time_flow_end_ns = (EXPORT_TIME - 1ull) * 1000000000ull;
		f->sampling_rate = 1;
		f->has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_NEXT_HOP |
			 FLOW_HAS_ETYPE | FLOW_HAS_PROTO | FLOW_HAS_SRC_PORT |
			 FLOW_HAS_DST_PORT | FLOW_HAS_BYTES | FLOW_HAS_PACKETS |
			 FLOW_HAS_TCP_FLAGS | FLOW_HAS_TOS | FLOW_HAS_TTL | FLOW_HAS_IN_IF |
			 FLOW_HAS_OUT_IF | FLOW_HAS_SRC_AS | FLOW_HAS_DST_AS |
			 FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_SRC_MAC |
			 FLOW_HAS_DST_MAC | FLOW_HAS_TIME_START | FLOW_HAS_TIME_END;
	}
}

static void decode(struct demo *d, const char *what, const uint8_t *msg, size_t len)
{
	struct weir_exporter e;
	int err;

	memset(&e, 0, sizeof(e));
	weir_addr_v4u(&e.addr, 0x7f000001);
	e.port = 40000;
	err = weir_decode(&d->ctx, &e, msg, len, (uint64_t)EXPORT_TIME * 1000000000ull);
	if (err) {
		fprintf(stderr, "weir-demo: %s: %s\n", what, weir_strerror(err));
		d->err = 1;
	}
}

int main(int argc, char **argv)
{
	static uint8_t buf[65536];
	struct flow fl[MAXFLOWS];
	struct demo d;
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	size_t len, used;
	int r;

	if (n < 1 || n > MAXFLOWS) {
		fprintf(stderr, "usage: weir-demo [1..%d]\n", MAXFLOWS);
		return 2;
	}
	memset(&d, 0, sizeof(d));
	d.ctx.cache = tmpl_cache_new(NULL, NULL);
	d.ctx.on_record = print_flow;
	d.ctx.user = &d;
	if (!d.ctx.cache)
		return 1;
	make_flows(fl, n);

	{	/* IPFIX: templates and data in one message */
		struct ipfix_flow_enc enc;
		struct ipfix_flow_enc_cfg cfg = { .domain = 1 };

		if (ipfix_flow_enc_init(&enc, &cfg) == WEIR_OK) {
			r = ipfix_flow_enc_msg(&enc, buf, 1500, EXPORT_TIME, fl, n, 1, &used);
			if (r > 0)
				decode(&d, "ipfix", buf, (size_t)r);
			else
				d.err = 1;
			ipfix_flow_enc_free(&enc);
		}
	}
	{	/* NetFlow v9 */
		struct nf9_enc enc;

		memset(&enc, 0, sizeof(enc));
		enc.hdr.sys_uptime_ms = 3600000;
		enc.hdr.unix_secs = EXPORT_TIME;
		enc.hdr.source_id = 2;
		if (nf9_encode_flows(&enc, fl, n, 1, buf, 1500, &len, &used) == WEIR_OK)
			decode(&d, "netflow v9", buf, len);
		else
			d.err = 1;
	}
	{	/* NetFlow v5 */
		struct nf5_hdr h = { .sys_uptime_ms = 3600000, .unix_secs = EXPORT_TIME };

		if (nf5_encode(&h, fl, n, buf, sizeof(buf), &len) == WEIR_OK)
			decode(&d, "netflow v5", buf, len);
		else
			d.err = 1;
	}
	{	/* sFlow v5: each flow becomes a sampled packet of it */
		struct sflow_agent ag;
		struct wr w;

		memset(&ag, 0, sizeof(ag));
		weir_addr_v4u(&ag.addr, 0xc0000201);
		ag.uptime_ms = 3600000;
		wr_init(&w, buf, 1500);
		if (sflow_encode(&w, &ag, fl, n, NULL, 0) == WEIR_OK)
			decode(&d, "sflow", buf, w.off);
		else
			d.err = 1;
	}
	fprintf(stderr, "weir-demo: %u flows per protocol encoded and decoded, %u printed\n",
		n, d.printed);
	tmpl_cache_free(d.ctx.cache);
	return d.err || d.printed != 4 * n;
}
