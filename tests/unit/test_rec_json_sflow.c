/* Unit tests of the raw JSON writer (common/rec_json.c) on sFlow samples
 * made by the encoder: flow and counter samples with every part, and only the
 * parts whose bit is set. Split from test_rec_json.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "ie.h"
#include "rd.h"
#include "rec_json.h"
#include "sflow.h"
#include "wr.h"

#include "rjhelp.h"

/* ---- sFlow ----------------------------------------------------------------- */

struct sf_log {
	size_t n;
	char *line[16];
};

static int sf_rec(const struct weir_record *rec, void *user)
{
	struct sf_log *l = user;
	size_t n = rec_json(rec, out, sizeof(out));

	cr_assert_gt(n, 0);
	out[n] = '\0';
	EXPECT_JSON(out, n);
	cap_sweep(rec, out, n, 1);
	if (l->n < 16)
		l->line[l->n] = strdup(out);
	l->n++;
	return 0;
}

static void paddr(struct weir_addr *a, const char *s)
{
	cr_assert_eq(weir_addr_parse(a, s), WEIR_OK, "%s", s);
}

#define LHAS(i, s) cr_expect(strstr(lg.line[i], (s)) != NULL, "missing %s in %s", (s), lg.line[i])
#define LHASNT(i, s) cr_expect(strstr(lg.line[i], (s)) == NULL, "unexpected %s in %s", (s), lg.line[i])

/* The agent of samples_from_the_encoder. */
static void sf_agent(struct sflow_agent *a)
{
	memset(a, 0, sizeof(*a));
	paddr(&a->addr, "192.0.2.9");
	a->sub_agent = 7;
	a->sequence = 1000;
	a->uptime_ms = 123456;
	a->flow_seq = 50;
}

/* Its two flows: one with every part, one with addresses only. */
static void sf_flows(struct flow *fl)
{
	static const uint8_t ma[6] = { 0x02, 0, 0, 0, 0, 0xa1 }, mb[6] = { 0x02, 0, 0, 0, 0, 0xb2 };

	memset(fl, 0, 2 * sizeof(*fl));
	fl[0].has = FLOW_HAS_SRC_MAC | FLOW_HAS_DST_MAC | FLOW_HAS_ETYPE | FLOW_HAS_SRC_ADDR |
		    FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_TOS | FLOW_HAS_TTL |
		    FLOW_HAS_BYTES | FLOW_HAS_SRC_PORT | FLOW_HAS_DST_PORT | FLOW_HAS_TCP_FLAGS |
		    FLOW_HAS_VLAN | FLOW_HAS_DST_VLAN | FLOW_HAS_IN_IF | FLOW_HAS_OUT_IF |
		    FLOW_HAS_NEXT_HOP | FLOW_HAS_SRC_NET | FLOW_HAS_DST_NET | FLOW_HAS_SRC_AS |
		    FLOW_HAS_DST_AS | FLOW_HAS_BGP_NEXT_HOP | FLOW_HAS_FRAG;
	memcpy(fl[0].src_mac, ma, 6);
	memcpy(fl[0].dst_mac, mb, 6);
	fl[0].etype = 0x0800;
	paddr(&fl[0].src_addr, "10.1.2.3");
	paddr(&fl[0].dst_addr, "192.0.2.200");
	fl[0].proto = 6;
	fl[0].ip_tos = 0x28;
	fl[0].ip_ttl = 57;
	fl[0].bytes = 1518;
	fl[0].src_port = 51515;
	fl[0].dst_port = 443;
	fl[0].tcp_flags = 0x12;
	fl[0].vlan_id = 101;
	fl[0].dst_vlan_id = 202;
	fl[0].in_if = 11;
	fl[0].out_if = 12;
	paddr(&fl[0].next_hop, "10.255.0.1");
	fl[0].src_net = 24;
	fl[0].dst_net = 19;
	fl[0].src_as = 64512;
	fl[0].dst_as = 4200000000u;
	paddr(&fl[0].bgp_next_hop, "198.51.100.1");
	fl[0].ip_flags = 0x40;
	fl[0].sampling_rate = 2048;
	/* A second flow with only addresses: no extended records. */
	fl[1].has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_PROTO | FLOW_HAS_BYTES |
		    FLOW_HAS_ETYPE;
	fl[1].etype = 0x86dd;
	paddr(&fl[1].src_addr, "2001:db8::10");
	paddr(&fl[1].dst_addr, "2001:db8:ffff::1");
	fl[1].proto = 17;
	fl[1].bytes = 200;
	fl[1].sampling_rate = 1;
}

/* Its counter sample: interface and Ethernet counters. */
static void sf_counters(struct sflow_sample *cs)
{
	memset(cs, 0, sizeof(*cs));
	cs->kind = SFLOW_KIND_COUNTER;
	cs->sequence = 9;
	cs->source_id_index = 11;
	cs->has = SFLOW_HAS_IF_COUNTERS | SFLOW_HAS_ETH_COUNTERS;
	cs->ifc.if_index = 11;
	cs->ifc.if_speed = 10000000000ull;
	cs->ifc.in_octets = 123456789012345ull;
	cs->ifc.out_discards = 77;
	cs->ethc.fcs_errors = 5;
	cs->ethc.symbol_errors = 6;
}

Test(rec_json_sflow, samples_from_the_encoder)
{
	struct sflow_agent a;
	struct sflow_sample cs;
	struct flow fl[2];
	struct weir_ctx ctx;
	struct weir_exporter e;
	struct sf_log lg = { 0 };
	uint8_t buf[4096];
	struct wr w;

	sf_agent(&a);
	sf_flows(fl);
	sf_counters(&cs);

	wr_init(&w, buf, sizeof(buf));
	cr_assert_eq(sflow_encode(&w, &a, fl, 2, &cs, 1), WEIR_OK);
	memset(&ctx, 0, sizeof(ctx));
	memset(&e, 0, sizeof(e));
	paddr(&e.addr, "192.0.2.9");
	e.port = 6343;
	ctx.on_record = sf_rec;
	ctx.user = &lg;
	cr_assert_eq(sflow_decode(&ctx, &e, buf, w.off, 1700000000000000000ull), WEIR_OK);
	cr_assert_eq(lg.n, 3);

	LHAS(0, "{\"type\":\"SFLOW_5\",\"exporter\":\"192.0.2.9\",\"exporter_port\":6343,"
		"\"agent\":\"192.0.2.9\",\"sub_agent_id\":7,\"sequence_num\":1000,");
	LHAS(0, "\"time_received_ns\":1700000000000000000,\"sample\":{\"kind\":\"flow\",");
	LHAS(0, "\"sampling_rate\":2048,");
	LHAS(0, "\"input\":11,");
	LHAS(0, "\"output\":12,");
	LHAS(0, "\"raw_header\":{\"protocol\":1,");
	LHAS(0, "\"src_mac\":\"02:00:00:00:00:a1\",\"dst_mac\":\"02:00:00:00:00:b2\"");
	LHAS(0, "\"vlan_id\":101,");
	LHAS(0, "\"src_addr\":\"10.1.2.3\",\"dst_addr\":\"192.0.2.200\",\"proto\":6,"
		"\"ip_tos\":40,\"ip_ttl\":57,");
	LHAS(0, "\"ip_flags\":64,");
	LHAS(0, "\"src_port\":51515,\"dst_port\":443,\"tcp_flags\":18");
	LHAS(0, "\"switch\":{\"src_vlan\":101,");
	LHAS(0, "\"dst_vlan\":202,");
	LHAS(0, "\"router\":{\"src_mask\":24,\"dst_mask\":19,\"next_hop\":\"10.255.0.1\"}");
	LHAS(0, "\"gateway\":{\"next_hop\":\"198.51.100.1\",");
	LHAS(0, "\"src_as\":64512,");
	LHAS(0, "\"dst_as\":4200000000,");
	LHAS(0, "\"as_path\":[4200000000]");
	LHAS(0, "\"communities\":[]");
	LHASNT(0, "if_counters");

	LHAS(1, "\"src_addr\":\"2001:db8::10\",\"dst_addr\":\"2001:db8:ffff::1\",\"proto\":17,");
	LHAS(1, "\"etype\":34525,");
	LHASNT(1, "\"switch\"");
	LHASNT(1, "\"router\"");
	LHASNT(1, "\"gateway\"");

	LHAS(2, "\"sample\":{\"kind\":\"counter\",");
	LHAS(2, "\"if_counters\":{\"if_index\":11,");
	LHAS(2, "\"if_speed\":10000000000,");
	LHAS(2, "\"in_octets\":123456789012345,");
	LHAS(2, "\"out_discards\":77,");
	LHAS(2, "\"ethernet_counters\":{\"alignment_errors\":0,\"fcs_errors\":5,");
	LHAS(2, "\"symbol_errors\":6}");
	LHASNT(2, "raw_header");
	LHASNT(2, "sampling_rate");
	for (size_t i = 0; i < lg.n; i++)
		free(lg.line[i]);
}

/* The decoder does not clear the parts a sample lacks: only parts whose
 * SFLOW_HAS_ bit is set may show, whatever the others hold. */
Test(rec_json_sflow, only_parts_with_their_bit)
{
	static const uint8_t comm[8] = { 0xfd, 0xe8, 0, 1, 0xff, 0xff, 0xff, 1 };
	struct sflow_sample s;
	struct weir_msg m;
	struct weir_exporter e;
	struct weir_record rec;
	size_t n;

	memset(&s, 0x5a, sizeof(s));	/* stale bytes everywhere */
	s.kind = SFLOW_KIND_FLOW;
	s.expanded = 0;
	s.has = SFLOW_HAS_GATEWAY | SFLOW_HAS_ETHERNET | SFLOW_HAS_IPV4;
	s.gw.nh_type = SFLOW_ADDR_UNKNOWN;
	s.gw.as_path_len = 20;		/* more than kept: 16 shown */
	for (int i = 0; i < SFLOW_AS_PATH_KEEP; i++)
		s.gw.as_path[i] = 100 + (uint32_t)i;
	s.gw.ncommunities = 2;
	s.gw.communities = comm;
	s.header.bytes = NULL;
	memset(&m, 0, sizeof(m));
	memset(&e, 0, sizeof(e));
	m.proto = WEIR_PROTO_SFLOW;
	m.exporter = &e;
	paddr(&m.agent, "2001:db8::5");
	memset(&rec, 0, sizeof(rec));
	rec.msg = &m;
	rec.sflow = &s;
	n = emit(&rec);
	HAS("\"agent\":\"2001:db8::5\"");
	HAS("\"gateway\":{\"next_hop\":null,");
	HAS("\"as_path_len\":20,\"as_path\":[100,101,102,103,104,105,106,107,108,109,110,111,"
	    "112,113,114,115],\"communities\":[4259840001,4294967041],");
	HAS("\"ethernet\":{\"length\":1515870810,");
	HAS("\"ipv4\":{");
	HASNT("raw_header");
	HASNT("\"ipv6\"");
	HASNT("\"switch\"");
	HASNT("\"router\"");
	HASNT("if_counters");
	HASNT("ethernet_counters");
	cap_sweep(&rec, out, n, 1);
}

/* A raw header the parser does not know is shown as its bytes. */
Test(rec_json_sflow, unparsed_header_as_hex)
{
	static const uint8_t hdr[5] = { 1, 2, 3, 0xfe, 0xff };
	struct sflow_sample s;
	struct weir_msg m;
	struct weir_record rec;

	memset(&s, 0, sizeof(s));
	s.kind = SFLOW_KIND_FLOW;
	s.has = SFLOW_HAS_HEADER;
	s.header.protocol = 7;
	s.header.frame_length = 64;
	s.header.bytes = hdr;
	s.header.len = 5;
	memset(&m, 0, sizeof(m));
	m.proto = WEIR_PROTO_SFLOW;
	memset(&rec, 0, sizeof(rec));
	rec.msg = &m;
	rec.sflow = &s;
	emit(&rec);
	HAS("\"exporter\":null,\"exporter_port\":null,");
	HAS("\"raw_header\":{\"protocol\":7,\"frame_length\":64,\"stripped\":0,"
	    "\"header_length\":5,\"header\":\"010203feff\"}");
}
