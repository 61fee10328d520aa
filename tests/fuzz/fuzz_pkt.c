/* libFuzzer harness: pkt_parse() and pkt_parse_frame() over one input read
 * from every start (Ethernet, raw IP, DLT_IPV4/IPV6, Linux cooked v1/v2,
 * BSD and OpenBSD loopback). libFuzzer hands the input in a buffer of
 * exactly its size, so ASan sees any read past it; and what every parse
 * must hold whatever the bytes (pkt.h) is checked, a violation aborts, as
 * does a difference between pkt_parse_frame's fast path for the common
 * shape and the general walk (pkt_int.h).
 * Seeds: the frames of the shared tcpdump captures (tests/fuzz/run).
 */
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "pkt_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int starts[] = {
	PKT_START_ETH, PKT_START_IPV4, PKT_START_IPV6, PKT_START_RAW,
	PKT_START_SLL, PKT_START_SLL2, PKT_START_NULL, PKT_START_LOOP,
};

static void check(const struct pkt_info *pi, size_t size, size_t wire)
{
	uint32_t ip = pi->layers & (PKT_L_IPV4 | PKT_L_IPV6);
	uint32_t l4 = pi->layers & (PKT_L_TCP | PKT_L_UDP | PKT_L_SCTP | PKT_L_ICMP | PKT_L_ICMPV6);

	if (pi->why >= PKT_WHY_MAX || (pi->why != 0) != (pi->flags != 0))
		abort();
	if (ip == (PKT_L_IPV4 | PKT_L_IPV6))
		abort();
	if (pi->why && pi->why < PKT_WHY_IP_FIRST && ip)
		abort();
	if (pi->why >= PKT_WHY_IP_FIRST && !ip)
		abort();
	if (pi->hdr_len > size || pi->l3_off > size || pi->l4_off > size)
		abort();
	if (ip && pi->ip_len < (ip == PKT_L_IPV4 ? 20u : 40u))
		abort();
	if (ip && pi->len_from_frame && pi->ip_len != wire - pi->l3_off)
		abort();
	if (l4 && (!ip || pi->frag_off || __builtin_popcount(l4) != 1 || pi->l4_off < pi->l3_off))
		abort();
	if (pi->nvlans > PKT_VLAN_MAX_DEPTH || pi->nlabels > PKT_MPLS_MAX_DEPTH ||
	    pi->n_ext > PKT_IPV6_MAX_EXT)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A wire length past the capture, from the last byte, so that the
	 * offload lengths (len_from_frame) meet a frame cut by a snap length. */
	size_t wire = size + (size ? (size_t)data[size - 1] * 257 : 0);
	struct pkt_info pi, w;

	for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		if (pkt_parse(&pi, data, size, starts[i]))
			abort();
		check(&pi, size, size);
		if (pkt_parse_frame(&pi, data, size, wire, starts[i]))
			abort();
		check(&pi, size, wire);
		pkt_parse_walk(&w, data, size, wire, starts[i]);
		if (memcmp(&pi, &w, sizeof(w)))
			abort();
	}
	return 0;
}
