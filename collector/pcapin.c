/* pcapin.c - see pcapin.h. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "prog_log.h"
#include "pcapin.h"
#include "pkt.h"
#include "rd.h"
#include "wpcap.h"

int col_pcap_dlt_ok(int dlt)
{
	return pkt_start_of_dlt(dlt) >= 0;
}

int col_pcap_frame(int dlt, const uint8_t *frame, size_t caplen, struct col_udp_view *v)
{
	struct pkt_info pi;
	struct rd u;
	uint16_t ulen;
	int start = pkt_start_of_dlt(dlt);

	if (start < 0)
		return COL_PCAP_LINKTYPE;
	if (pkt_parse(&pi, frame, caplen, start) != WEIR_OK)
		return COL_PCAP_LINKTYPE;
	if (!(pi.layers & (PKT_L_IPV4 | PKT_L_IPV6))) {
		switch (pi.flags) {
		case PKT_F_TRUNCATED:
			return COL_PCAP_CUT;
		case 0:
			return COL_PCAP_NOT_IP;
		}
		/* A version nibble that is neither 4 nor 6 is no IP. */
		return pi.why == PKT_WHY_IP_VERSION ? COL_PCAP_NOT_IP : COL_PCAP_BAD;
	}
	if (pi.layers & PKT_L_FRAG)
		return COL_PCAP_FRAGMENT;
	if (!(pi.layers & PKT_L_UDP))
		return pi.flags & PKT_F_TRUNCATED ? COL_PCAP_CUT : COL_PCAP_NOT_UDP;
	/* RFC 768: the length covers the 8-byte header and the data. */
	rd_init(&u, frame, caplen);
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
