/* weir-seeds - write fuzz seed inputs made by the library's own encoders
 * into a directory: sFlow datagrams (no vendor sFlow payloads exist in the
 * shared test data), IPFIX with sampling options and variable-length and
 * list fields, NetFlow v9 with options, v5. Multi-message seeds are joined
 * with the fuzz harnesses' marker (tests/fuzz/fuzz_common.h).
 * Usage: weir-seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "ipfix.h"
#include "nf5.h"
#include "nf9.h"
#include "sflow.h"
#include "wr.h"

#define MARK "\xffWM\xff"

static int put(const char *dir, const char *name, const uint8_t *a, size_t alen,
	       const uint8_t *b, size_t blen)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	if (!fp)
		return 1;
	fwrite(a, 1, alen, fp);
	if (b) {
		fwrite(MARK, 1, 4, fp);
		fwrite(b, 1, blen, fp);
	}
	return fclose(fp) != 0;
}

static void flows(struct flow *fl, unsigned n, int v6)
{
	for (unsigned i = 0; i < n; i++) {
		struct flow *f = &fl[i];
		uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = (uint8_t)i };

		memset(f, 0, sizeof(*f));
		if (v6) {
			weir_addr_v6(&f->src_addr, a6);
			a6[14] = 1;
			weir_addr_v6(&f->dst_addr, a6);
			f->etype = 0x86dd;
		} else {
			weir_addr_v4u(&f->src_addr, 0x0a000001 + i);
			weir_addr_v4u(&f->dst_addr, 0xc0a80001 + i);
			f->etype = 0x0800;
		}
		f->proto = i % 2 ? 6 : 17;
		f->src_port = (uint16_t)(1024 + i);
		f->dst_port = 80;
		f->bytes = 100 + i;
		f->packets = 1 + i;
		f->vlan_id = (uint16_t)(i % 2 ? 100 : 0);
		f->in_if = 1;
		f->out_if = 2;
		f->src_as = 65000;
		f->dst_as = 65001;
		f->sampling_rate = 100;
		f->has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_ETYPE | FLOW_HAS_PROTO |
			 FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_BYTES |
			 FLOW_HAS_PACKETS | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF | FLOW_HAS_SRC_AS |
			 FLOW_HAS_DST_AS | (i % 2 ? FLOW_HAS_VLAN : 0);
	}
}

int main(int argc, char **argv)
{
	static uint8_t a[65536], b[65536];
	struct flow fl[8];
	size_t la, lb, used;
	int bad = 0, r;

	if (argc != 2) {
		fprintf(stderr, "usage: weir-seeds DIR\n");
		return 2;
	}
	for (int v6 = 0; v6 < 2; v6++) {
		struct sflow_agent ag;
		struct wr w;

		memset(&ag, 0, sizeof(ag));
		weir_addr_v4u(&ag.addr, 0xc0000201);
		ag.expanded = (uint8_t)v6;
		flows(fl, 4, v6);
		wr_init(&w, a, 1500);
		if (sflow_encode(&w, &ag, fl, 4, NULL, 0) == WEIR_OK)
			bad |= put(argv[1], v6 ? "sflow-v6-expanded" : "sflow-v4", a, w.off, NULL, 0);
		else
			bad = 1;
	}
	{
		struct ipfix_flow_enc enc;
		struct ipfix_flow_enc_cfg cfg = { .domain = 3, .sampling_interval = 100,
						  .sampling_style = IPFIX_SAMPLING_LEGACY };

		flows(fl, 8, 0);
		if (ipfix_flow_enc_init(&enc, &cfg) == WEIR_OK) {
			r = ipfix_flow_enc_msg(&enc, a, 1500, 1700000000, fl, 4, 1, &used);
			la = r > 0 ? (size_t)r : 0;
			r = ipfix_flow_enc_msg(&enc, b, 1500, 1700000001, fl + 4, 4, 0, &used);
			lb = r > 0 ? (size_t)r : 0;
			bad |= !la || !lb || put(argv[1], "ipfix-tpl-then-data", a, la, b, lb);
			bad |= put(argv[1], "ipfix-data-then-tpl", b, lb, a, la);
			ipfix_flow_enc_free(&enc);
		}
	}
	{
		struct nf9_enc enc;

		memset(&enc, 0, sizeof(enc));
		enc.sampling_interval = 10;
		enc.sampling_algorithm = 1;
		enc.hdr.sys_uptime_ms = 1000000;
		enc.hdr.unix_secs = 1700000000;
		flows(fl, 8, 1);
		bad |= nf9_encode_flows(&enc, fl, 4, 1, a, 1500, &la, &used) != WEIR_OK;
		bad |= nf9_encode_flows(&enc, fl + 4, 4, 0, b, 1500, &lb, &used) != WEIR_OK;
		bad |= put(argv[1], "nf9-tpl-then-data", a, la, b, lb);
	}
	{
		struct nf5_hdr h = { .sys_uptime_ms = 1000000, .unix_secs = 1700000000 };

		flows(fl, 8, 0);
		bad |= nf5_encode(&h, fl, 8, a, sizeof(a), &la) != WEIR_OK;
		bad |= put(argv[1], "nf5", a, la, NULL, 0);
	}
	if (bad)
		fprintf(stderr, "weir-seeds: could not write every seed into %s\n", argv[1]);
	return bad;
}
