/* pcapw.c - see pcapw.h. */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pcapw.h"
#include "wr.h"

#define ETH_HLEN	14
#define IP4_HLEN	20
#define IP6_HLEN	40
#define UDP_HLEN	8

/* Locally administered MACs: the capture is synthetic. */
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* RFC 1071 one's complement sum of big-endian 16-bit words, continued from
 * sum; an odd last byte is padded with zero. Four words at a time: the
 * sum is associative (RFC 1071 section 2(B)), carries are folded at the
 * end. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		v = be64toh(v);
		sum += (v >> 48) + (v >> 32 & 0xffff) + (v >> 16 & 0xffff) + (v & 0xffff);
	}
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t pcapw_frame(uint8_t *buf, size_t cap, const struct weir_addr *src, uint16_t sport,
		   const struct weir_addr *dst, uint16_t dport, uint16_t ip_id,
		   const uint8_t *payload, size_t len)
{
	int v6 = !weir_addr_is_v4(dst);
	size_t ip_hlen = v6 ? IP6_HLEN : IP4_HLEN, udp_at, ip_at;
	size_t udp_len = UDP_HLEN + len;
	uint64_t sum;
	uint16_t ck;
	struct wr w;

	if (udp_len > 0xffff || ip_hlen + udp_len > (v6 ? 0xffff + IP6_HLEN : 0xffff))
		return 0;
	wr_init(&w, buf, cap);
	wr_bytes(&w, mac_dst, 6);
	wr_bytes(&w, mac_src, 6);
	wr_u16(&w, v6 ? 0x86dd : 0x0800);
	ip_at = w.off;
	if (!v6) {			/* RFC 791 section 3.1 */
		wr_u8(&w, 0x45);
		wr_u8(&w, 0);
		wr_u16(&w, (uint16_t)(IP4_HLEN + udp_len));
		wr_u16(&w, ip_id);
		wr_u16(&w, 0x4000);	/* DF */
		wr_u8(&w, 64);
		wr_u8(&w, 17);
		wr_u16(&w, 0);
		wr_bytes(&w, src->a + 12, 4);
		wr_bytes(&w, dst->a + 12, 4);
		if (!w.err)
			wr_put_u16(&w, ip_at + 10, csum_fold(csum_add(0, buf + ip_at, IP4_HLEN)));
	} else {			/* RFC 8200 section 3 */
		wr_u32(&w, 6u << 28);
		wr_u16(&w, (uint16_t)udp_len);
		wr_u8(&w, 17);
		wr_u8(&w, 64);
		wr_bytes(&w, src->a, 16);
		wr_bytes(&w, dst->a, 16);
	}
	udp_at = w.off;
	wr_u16(&w, sport);
	wr_u16(&w, dport);
	wr_u16(&w, (uint16_t)udp_len);
	wr_u16(&w, 0);
	wr_bytes(&w, payload, len);
	if (w.err)
		return 0;
	/* UDP checksum over the pseudo-header (RFC 768; RFC 8200 section
	 * 8.1), the UDP header and the data; 0 goes out as 0xffff. */
	if (v6) {
		sum = csum_add(0, src->a, 16);
		sum = csum_add(sum, dst->a, 16);
	} else {
		sum = csum_add(0, src->a + 12, 4);
		sum = csum_add(sum, dst->a + 12, 4);
	}
	sum += 17 + (uint32_t)udp_len;
	sum = csum_add(sum, buf + udp_at, udp_len);
	ck = csum_fold(sum);
	wr_put_u16(&w, udp_at + 6, ck ? ck : 0xffff);
	return w.off;
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
