/* flow_csv.c - struct flow -> CSV line. See flow_csv.h.
 *
 * Cells hold the same values as the common JSON of flow_json.c (same
 * names, same text for addresses and MACs). No cell can hold a comma, a
 * quote or a line break (numbers, addresses, MACs, the fixed type names),
 * so no cell ever needs RFC 4180 quoting and none is quoted.
 */
#include <arpa/inet.h>
#include <string.h>

#include "flow_csv.h"
#include "txt.h"
#include "wr.h"

/* The column order; docs/formats.md documents it. Append only. */
static const char csv_header[] =
	"type,time_received_ns,sequence_num,sampling_rate,sampler_address,"
	"observation_domain_id,time_flow_start_ns,time_flow_end_ns,bytes,packets,"
	"src_addr,dst_addr,etype,proto,src_port,dst_port,in_if,out_if,src_mac,dst_mac,"
	"vlan_id,dst_vlan_id,ip_tos,ip_ttl,tcp_flags,icmp_type,icmp_code,src_as,dst_as,"
	"next_hop,bgp_next_hop,src_net,dst_net,flow_direction,ipv6_flow_label,"
	"fragment_offset,ip_flags\n";

size_t flow_csv_header(char *buf, size_t cap)
{
	size_t n = sizeof(csv_header) - 1;

	if (cap < n)
		return 0;
	memcpy(buf, csv_header, n);
	return n;
}

/* ",value" when the flow has the field, else "," (an empty cell). */
static void cell_num(struct wr *w, uint64_t has, uint64_t v)
{
	wr_u8(w, ',');
	if (has)
		wr_dec_u64(w, v);
}

static void cell_addr(struct wr *w, uint64_t has, const struct weir_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];

	wr_u8(w, ',');
	if (has) {
		weir_addr_str(a, tmp, sizeof(tmp));
		wr_bytes(w, tmp, strlen(tmp));
	}
}

static void cell_mac(struct wr *w, uint64_t has, const uint8_t *m)
{
	char tmp[WEIR_MAC_STRLEN];

	wr_u8(w, ',');
	if (!has)
		return;
	weir_mac_fmt(tmp, m);
	wr_bytes(w, tmp, sizeof(tmp));
}

static inline __attribute__((always_inline)) size_t
csv_row(const struct flow *f, char *buf, size_t cap, const struct flow_extra *x)
{
	struct wr w;
	uint64_t h = f->has;
	const char *type = flow_type_name(f->type);

	wr_init(&w, buf, cap);
	wr_bytes(&w, type, strlen(type));
	cell_num(&w, 1, f->time_received_ns);
	cell_num(&w, 1, f->sequence_num);
	cell_num(&w, 1, f->sampling_rate);
	cell_addr(&w, h & FLOW_HAS_SAMPLER, &f->sampler_address);
	cell_num(&w, 1, f->observation_domain_id);
	cell_num(&w, h & FLOW_HAS_TIME_START, f->time_flow_start_ns);
	cell_num(&w, h & FLOW_HAS_TIME_END, f->time_flow_end_ns);
	cell_num(&w, h & FLOW_HAS_BYTES, f->bytes);
	cell_num(&w, h & FLOW_HAS_PACKETS, f->packets);
	cell_addr(&w, h & FLOW_HAS_SRC_ADDR, &f->src_addr);
	cell_addr(&w, h & FLOW_HAS_DST_ADDR, &f->dst_addr);
	cell_num(&w, h & FLOW_HAS_ETYPE, f->etype);
	cell_num(&w, h & FLOW_HAS_PROTO, f->proto);
	cell_num(&w, h & FLOW_HAS_SRC_PORT, f->src_port);
	cell_num(&w, h & FLOW_HAS_DST_PORT, f->dst_port);
	cell_num(&w, h & FLOW_HAS_IN_IF, f->in_if);
	cell_num(&w, h & FLOW_HAS_OUT_IF, f->out_if);
	cell_mac(&w, h & FLOW_HAS_SRC_MAC, f->src_mac);
	cell_mac(&w, h & FLOW_HAS_DST_MAC, f->dst_mac);
	cell_num(&w, h & FLOW_HAS_VLAN, f->vlan_id);
	cell_num(&w, h & FLOW_HAS_DST_VLAN, f->dst_vlan_id);
	cell_num(&w, h & FLOW_HAS_TOS, f->ip_tos);
	cell_num(&w, h & FLOW_HAS_TTL, f->ip_ttl);
	cell_num(&w, h & FLOW_HAS_TCP_FLAGS, f->tcp_flags);
	cell_num(&w, h & FLOW_HAS_ICMP, f->icmp_type);
	cell_num(&w, h & FLOW_HAS_ICMP, f->icmp_code);
	cell_num(&w, h & FLOW_HAS_SRC_AS, f->src_as);
	cell_num(&w, h & FLOW_HAS_DST_AS, f->dst_as);
	cell_addr(&w, h & FLOW_HAS_NEXT_HOP, &f->next_hop);
	cell_addr(&w, h & FLOW_HAS_BGP_NEXT_HOP, &f->bgp_next_hop);
	cell_num(&w, h & FLOW_HAS_SRC_NET, f->src_net);
	cell_num(&w, h & FLOW_HAS_DST_NET, f->dst_net);
	cell_num(&w, h & FLOW_HAS_DIRECTION, f->flow_direction);
	cell_num(&w, h & FLOW_HAS_FLOW_LABEL, f->ipv6_flow_label);
	cell_num(&w, h & FLOW_HAS_FRAG, f->fragment_offset);
	cell_num(&w, h & FLOW_HAS_FRAG, f->ip_flags);
	if (x && !w.err) {
		size_t n = x->fn(x->arg, (char *)w.buf + w.off, w.cap - w.off);

		if (n == SIZE_MAX)
			w.err = WEIR_E_NOSPACE;
		else
			w.off += n;
	}
	wr_u8(&w, '\n');
	return w.err ? 0 : w.off;
}

size_t flow_csv(const struct flow *f, char *buf, size_t cap)
{
	return csv_row(f, buf, cap, NULL);
}

size_t flow_csv_x(const struct flow *f, char *buf, size_t cap, const struct flow_extra *x)
{
	return csv_row(f, buf, cap, x);
}
