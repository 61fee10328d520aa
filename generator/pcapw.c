/* pcapw.c - see pcapw.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pcapw.h"
#include "pktbuild.h"

#define IP4_HLEN	20
#define UDP_HLEN	8

/* Locally administered MACs: the capture is synthetic. */
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

size_t pcapw_frame(uint8_t *buf, size_t cap, const struct weir_addr *src, uint16_t sport,
		   const struct weir_addr *dst, uint16_t dport, uint16_t ip_id,
		   const uint8_t *payload, size_t len)
{
	int v6 = !weir_addr_is_v4(dst);
	struct pktb b;

	if (UDP_HLEN + len > 0xffff || (!v6 && IP4_HLEN + UDP_HLEN + len > 0xffff))
		return 0;
	pktb_init(&b, buf, cap);
	pktb_eth(&b, mac_dst, mac_src, v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4);
	if (!v6) {
		struct pktb_ip4 ip = { .ttl = 64, .proto = PKTB_UDP, .id = ip_id, .frag = 0x4000 };

		memcpy(ip.src, src->a + 12, 4);
		memcpy(ip.dst, dst->a + 12, 4);
		pktb_ipv4(&b, &ip);
	} else {
		struct pktb_ip6 ip = { .hlim = 64, .nh = PKTB_UDP };

		memcpy(ip.src, src->a, 16);
		memcpy(ip.dst, dst->a, 16);
		pktb_ipv6(&b, &ip);
	}
	pktb_udp(&b, sport, dport, 0);
	pktb_bytes(&b, payload, len);
	return pktb_finish(&b);
}

int pcapw_open(struct pcapw *w, const char *path, const struct weir_addr *dst,
	       uint16_t dport, char *err, size_t errlen)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->frame = malloc(PCAPW_SNAPLEN);
	if (!w->frame) {
		snprintf(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	rc = wpcap_open_write(&w->out, path, WPCAP_DLT_EN10MB, err, errlen);
	if (rc) {
		pcapw_close(w);
		return rc;
	}
	w->dst = *dst;
	w->dport = dport;
	w->v6 = !weir_addr_is_v4(dst);
	return WEIR_OK;
}

int pcapw_write(struct pcapw *w, const struct weir_addr *src, uint16_t sport,
		const uint8_t *payload, size_t len, uint64_t time_ns)
{
	size_t n;
	int rc;

	n = pcapw_frame(w->frame, PCAPW_SNAPLEN, src, sport, &w->dst, w->dport, w->ip_id,
			payload, len);
	if (!n)
		return WEIR_E_INVALID;
	w->ip_id++;
	rc = wpcap_write(&w->out, w->frame, n, time_ns);
	w->frames = w->out.frames;
	return rc;
}

int pcapw_close(struct pcapw *w)
{
	int ret = wpcap_close_write(&w->out);

	free(w->frame);
	memset(w, 0, sizeof(*w));
	return ret;
}
