/* pcapin.c - see pcapin.h. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "prog_log.h"
#include "pcapin.h"
#include "pkt.h"
#include "rd.h"
#include "wpcap.h"

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd

int col_pcap_dlt_ok(int dlt)
{
	switch (dlt) {
	case WPCAP_DLT_EN10MB:
	case WPCAP_DLT_LINUX_SLL:
	case WPCAP_DLT_LINUX_SLL2:
	case WPCAP_DLT_RAW:
	case WPCAP_DLT_IPV4:
	case WPCAP_DLT_IPV6:
	case WPCAP_DLT_NULL:
	case WPCAP_DLT_LOOP:
		return 1;
	}
	return 0;
}

static int start_of_ethertype(uint16_t et)
{
	if (et == ETH_IPV4)
		return PKT_START_IPV4;
	if (et == ETH_IPV6)
		return PKT_START_IPV6;
	return 0;
}

/* Raw IP: the version nibble says which. */
static int start_of_version(struct rd *r)
{
	const uint8_t *p = rd_left(r) ? rd_ptr(r) : NULL;

	if (!p)
		return 0;
	if (*p >> 4 == 4)
		return PKT_START_IPV4;
	if (*p >> 4 == 6)
		return PKT_START_IPV6;
	return 0;
}

int col_pcap_frame(int dlt, const uint8_t *frame, size_t caplen, struct col_udp_view *v)
{
	struct pkt_info pi;
	struct rd r, u;
	uint16_t ulen;
	int start;

	rd_init(&r, frame, caplen);
	switch (dlt) {
	case WPCAP_DLT_EN10MB:
		start = PKT_START_ETH;
		break;
	case WPCAP_DLT_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8 address bytes,
		 * then the protocol (an Ethertype). */
		rd_skip(&r, 14);
		start = start_of_ethertype(rd_u16(&r));
		break;
	case WPCAP_DLT_LINUX_SLL2:
		/* The protocol first, then 18 bytes of interface and address. */
		start = start_of_ethertype(rd_u16(&r));
		rd_skip(&r, 18);
		break;
	case WPCAP_DLT_RAW:
	case WPCAP_DLT_IPV4:
	case WPCAP_DLT_IPV6:
		start = start_of_version(&r);
		break;
	case WPCAP_DLT_NULL:
	case WPCAP_DLT_LOOP:
		/* A 4-byte address family whose values and byte order depend
		 * on the capturing system: the IP version is surer. */
		rd_skip(&r, 4);
		start = start_of_version(&r);
		break;
	default:
		return COL_PCAP_LINKTYPE;
	}
	if (r.err)
		return COL_PCAP_CUT;
	if (!start)
		return COL_PCAP_NOT_IP;
	if (pkt_parse(&pi, rd_ptr(&r), rd_left(&r), start) != WEIR_OK)
		return COL_PCAP_NOT_IP;
	if (pi.flags & PKT_F_MALFORMED)
		return COL_PCAP_BAD;
	if (!(pi.layers & (PKT_L_IPV4 | PKT_L_IPV6)))
		return pi.flags & PKT_F_TRUNCATED ? COL_PCAP_CUT : COL_PCAP_NOT_IP;
	if (pi.layers & PKT_L_FRAG)
		return COL_PCAP_FRAGMENT;
	if (!(pi.layers & PKT_L_UDP))
		return pi.flags & PKT_F_TRUNCATED ? COL_PCAP_CUT : COL_PCAP_NOT_UDP;
	/* RFC 768: the length covers the 8-byte header and the data. */
	rd_init(&u, rd_ptr(&r), rd_left(&r));
	rd_skip(&u, pi.l4_off + 4);
	ulen = rd_u16(&u);
	rd_skip(&u, 2);
	if (u.err)
		return COL_PCAP_CUT;
	if (ulen < 8)
		return COL_PCAP_BAD;
	v->p = rd_bytes(&u, (size_t)ulen - 8);
	if (!v->p)
		return COL_PCAP_CUT;
	v->len = (size_t)ulen - 8;
	memset(&v->e, 0, sizeof(v->e));
	v->e.addr = pi.src;
	v->e.port = pi.src_port;
	v->dport = pi.dst_port;
	return COL_PCAP_OK;
}

int col_pcap_run(struct col_worker *w, const char *path, uint16_t port,
		 int (*tick)(void *arg), void *arg, char *err, size_t errlen)
{
	char ebuf[256];
	struct wpcap_rd rd;
	struct wpcap_frame f;
	int r, ret = WEIR_OK;

	if (wpcap_open_read(&rd, path, ebuf, sizeof(ebuf))) {
		snprintf(err, errlen, "--pcap %s", ebuf);
		return WEIR_E_IO;
	}
	if (!col_pcap_dlt_ok(rd.dlt)) {
		snprintf(err, errlen, "--pcap %s: link type %s is not Ethernet, Linux cooked, raw IP or loopback",
			 path, wpcap_dlt_name(rd.dlt));
		wpcap_close_read(&rd);
		return WEIR_E_IO;
	}
	w->now_ns = prog_now_mono();
	while ((r = wpcap_next(&rd, &f)) == 1) {
		struct col_udp_view v;

		cnt_add(&w->c.pcap_frames, 1);
		if ((w->c.pcap_frames & 1023) == 0) {
			w->now_ns = prog_now_mono();
			col_buf_tick(&w->buf, w->now_ns);
			col_enr_quiescent(&w->qs);
			if (tick && tick(arg))
				break;
		}
		if (col_pcap_frame(rd.dlt, f.p, f.caplen, &v) || (port && v.dport != port)) {
			cnt_add(&w->c.pcap_skipped, 1);
			continue;
		}
		col_worker_datagram(w, &v.e, v.p, v.len, f.t_ns);
	}
	if (r < 0) {
		snprintf(err, errlen, "--pcap %s: %s", path, wpcap_error(&rd));
		ret = WEIR_E_IO;
	}
	wpcap_close_read(&rd);
	col_buf_flush(&w->buf);
	return ret;
}
