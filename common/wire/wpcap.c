/* wpcap.c - see wpcap.h. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "wpcap.h"

_Static_assert(WPCAP_DLT_EN10MB == DLT_EN10MB && WPCAP_DLT_RAW == DLT_RAW &&
	       WPCAP_DLT_NULL == DLT_NULL && WPCAP_DLT_LOOP == DLT_LOOP &&
	       WPCAP_DLT_LINUX_SLL == DLT_LINUX_SLL, "libpcap's link type numbers");

int wpcap_open_read(struct wpcap_rd *r, const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	memset(r, 0, sizeof(*r));
	ebuf[0] = 0;
	p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		/* libpcap names the file in some of its sentences only. */
		if (strstr(ebuf, path))
			snprintf(err, errlen, "%s", ebuf);
		else
			snprintf(err, errlen, "%s: %s", path, ebuf);
		return WEIR_E_IO;
	}
	r->pcap = p;
	r->dlt = pcap_datalink(p);
	return WEIR_OK;
}

int wpcap_next(struct wpcap_rd *r, struct wpcap_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->pcap, &h, &data);

	if (rc == 1) {
		f->p = data;
		f->caplen = h->caplen;
		f->len = h->len;
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		f->t_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		r->frames++;
		return 1;
	}
	return rc == PCAP_ERROR_BREAK ? 0 : WEIR_E_IO;
}

const char *wpcap_error(const struct wpcap_rd *r)
{
	return r->pcap ? pcap_geterr(r->pcap) : "not open";
}

const char *wpcap_dlt_name(int dlt)
{
	const char *n = pcap_datalink_val_to_name(dlt);

	return n ? n : "?";
}

void wpcap_close_read(struct wpcap_rd *r)
{
	if (r->pcap)
		pcap_close(r->pcap);
	memset(r, 0, sizeof(*r));
}

int wpcap_open_write(struct wpcap_wr *w, const char *path, int dlt, char *err, size_t errlen)
{
	pcap_t *p;

	memset(w, 0, sizeof(*w));
	p = pcap_open_dead(dlt, WPCAP_SNAPLEN);
	if (!p) {
		snprintf(err, errlen, "%s: pcap_open_dead failed", path);
		return WEIR_E_IO;
	}
	w->pcap = p;
	w->dumper = pcap_dump_open(p, path);
	if (!w->dumper) {
		snprintf(err, errlen, "%s", pcap_geterr(p));	/* names the file */
		wpcap_close_write(w);
		return WEIR_E_IO;
	}
	return WEIR_OK;
}

int wpcap_write_cut(struct wpcap_wr *w, const uint8_t *frame, size_t caplen, size_t len,
		    uint64_t t_ns)
{
	struct pcap_pkthdr h;

	if (caplen > WPCAP_SNAPLEN || caplen > len || len > UINT32_MAX)
		return WEIR_E_INVALID;
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(t_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(t_ns % 1000000000ull / 1000);
	h.caplen = (bpf_u_int32)caplen;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)w->dumper, &h, frame);
	w->frames++;
	return ferror(pcap_dump_file(w->dumper)) ? WEIR_E_IO : WEIR_OK;
}

int wpcap_write(struct wpcap_wr *w, const uint8_t *frame, size_t len, uint64_t t_ns)
{
	return wpcap_write_cut(w, frame, len, len, t_ns);
}

int wpcap_close_write(struct wpcap_wr *w)
{
	int ret = WEIR_OK;

	if (w->dumper) {
		FILE *fp = pcap_dump_file(w->dumper);

		if (pcap_dump_flush(w->dumper) != 0 || ferror(fp))
			ret = WEIR_E_IO;
		pcap_dump_close(w->dumper);	/* fclose(); its error is not reported */
	}
	if (w->pcap)
		pcap_close(w->pcap);
	memset(w, 0, sizeof(*w));
	return ret;
}
