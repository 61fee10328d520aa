/* wpcap.c - see wpcap.h. */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "wpcap.h"

_Static_assert(WPCAP_DLT_EN10MB == DLT_EN10MB && WPCAP_DLT_RAW == DLT_RAW &&
	       WPCAP_DLT_NULL == DLT_NULL && WPCAP_DLT_LOOP == DLT_LOOP &&
	       WPCAP_DLT_LINUX_SLL == DLT_LINUX_SLL, "libpcap's link type numbers");

/* The classic format's magic numbers (pcap-savefile(5)) in the file's byte
 * order, and the one version read here. */
#define MAGIC_US	0xa1b2c3d4u
#define MAGIC_NS	0xa1b23c4du
#define RD_CAP		(WPCAP_RD_BLOCK + 16 + WPCAP_SNAPLEN)

/* Up to n bytes (fewer only at the end of the file): the count, or -1. */
static ssize_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, buf + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* Whether the 24 bytes of hdr are a classic header read here: magic and
 * version 2.4, either byte order. */
static int classic_magic(const uint8_t *hdr, uint8_t *swap, uint8_t *nano)
{
	uint32_t m;
	uint16_t maj, min;

	memcpy(&m, hdr, 4);
	memcpy(&maj, hdr + 4, 2);
	memcpy(&min, hdr + 6, 2);
	*swap = m == __builtin_bswap32(MAGIC_US) || m == __builtin_bswap32(MAGIC_NS);
	*nano = m == MAGIC_NS || m == __builtin_bswap32(MAGIC_NS);
	if (*swap) {
		maj = __builtin_bswap16(maj);
		min = __builtin_bswap16(min);
	}
	return (m == MAGIC_US || m == MAGIC_NS || *swap) && maj == 2 && min == 4;
}

/* libpcap's reading of a classic header: the link type (its LINKTYPE_ to
 * DLT_ mapping) and the snap length it will apply. 0, or -1. */
static int classic_header(const uint8_t *hdr, int *dlt, uint32_t *snap)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	FILE *fp = fmemopen((void *)hdr, 24, "rb");
	pcap_t *p;

	if (!fp)
		return -1;
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		fclose(fp);
		return -1;
	}
	*dlt = pcap_datalink(p);
	*snap = (uint32_t)pcap_snapshot(p);
	pcap_close(p);			/* and fp */
	return 0;
}

/* A stream for libpcap that gives the bytes already read from fd first. */
struct replay {
	int fd;
	uint8_t pre[24];
	size_t n, off;
	struct wpcap_rd *r;		/* for r->stop */
};

static ssize_t replay_read(void *c, char *buf, size_t size)
{
	struct replay *rp = c;
	ssize_t k;

	if (rp->off < rp->n) {
		size_t m = rp->n - rp->off < size ? rp->n - rp->off : size;

		memcpy(buf, rp->pre + rp->off, m);
		rp->off += m;
		return (ssize_t)m;
	}
	do
		k = read(rp->fd, buf, size);
	while (k < 0 && errno == EINTR && !(rp->r->stop && *rp->r->stop));
	return k;
}

static int replay_close(void *c)
{
	struct replay *rp = c;
	int rc = close(rp->fd);

	free(rp);
	return rc;
}

/* Hand fd, of which the n bytes at pre were read, to libpcap. fd is closed
 * in every case. */
static int open_libpcap(struct wpcap_rd *r, const char *path, int fd, const uint8_t *pre,
			size_t n, char *err, size_t errlen)
{
	static const cookie_io_functions_t io = { .read = replay_read, .close = replay_close };
	char ebuf[PCAP_ERRBUF_SIZE];
	struct replay *rp = calloc(1, sizeof(*rp));
	FILE *fp = rp ? fopencookie(rp, "rb", io) : NULL;
	pcap_t *p;

	if (!fp) {
		free(rp);
		close(fd);
		snprintf(err, errlen, "%s: no memory", path);
		return WEIR_E_IO;
	}
	rp->fd = fd;
	rp->r = r;
	memcpy(rp->pre, pre, n);
	rp->n = n;
	ebuf[0] = 0;
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		fclose(fp);
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

int wpcap_open_read(struct wpcap_rd *r, const char *path, char *err, size_t errlen)
{
	int is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
	uint8_t hdr[24];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", is_stdin ? "stdin" : path, strerror(errno));
		return WEIR_E_IO;
	}
	n = read_full(fd, hdr, sizeof(hdr));
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", is_stdin ? "stdin" : path, strerror(errno));
		close(fd);
		return WEIR_E_IO;
	}
	if (n == (ssize_t)sizeof(hdr) && classic_magic(hdr, &r->swap, &r->nano) &&
	    classic_header(hdr, &r->dlt, &r->snap) == 0) {
		r->buf = malloc(RD_CAP);
		if (r->buf) {
			r->fd = fd;
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);	/* a hint: no error */
			return WEIR_OK;
		}
	}
	r->swap = r->nano = 0;
	return open_libpcap(r, is_stdin ? "stdin" : path, fd, hdr, (size_t)n, err, errlen);
}

/* More bytes behind the ones not handed out yet. 0, 1 when a stop request
 * interrupted the read, or -1 (r->err). */
static int classic_fill(struct wpcap_rd *r)
{
	size_t left = r->end - r->beg, room;
	ssize_t n;

	if (r->beg) {
		memmove(r->buf, r->buf + r->beg, left);
		r->beg = 0;
		r->end = left;
	}
	room = RD_CAP - r->end < WPCAP_RD_BLOCK ? RD_CAP - r->end : WPCAP_RD_BLOCK;
	do {
		n = read(r->fd, r->buf + r->end, room);
		if (n < 0 && errno == EINTR && r->stop && *r->stop)
			return 1;
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(r->err, sizeof(r->err), "error reading dump file: %s", strerror(errno));
		return -1;
	}
	r->eof = n == 0;
	r->end += (size_t)n;
	return 0;
}

/* The next record of a classic file (see wpcap_next, which reads one that
 * is whole in the buffer itself, the same way). A record is whole in the
 * buffer before it is handed out: the buffer holds a block and a largest
 * record, and a record's length is checked before it is waited for. */
static int classic_next(struct wpcap_rd *r, struct wpcap_frame *f)
{
	for (;;) {
		size_t left = r->end - r->beg;
		uint32_t h[4];

		if (wpcap_rec_take(r, f))
			return 1;
		if (left >= 16) {
			wpcap_rec_hdr(r, h);
			if (h[2] > WPCAP_SNAPLEN) {
				snprintf(r->err, sizeof(r->err), "invalid packet capture length %u, "
					 "bigger than maximum of %u", h[2], WPCAP_SNAPLEN);
				return WEIR_E_IO;
			}
		}
		if (r->eof) {
			if (!left)
				return 0;
			if (left < 16)
				snprintf(r->err, sizeof(r->err), "truncated dump file; tried to read "
					 "16 header bytes, only got %zu", left);
			else
				snprintf(r->err, sizeof(r->err), "truncated dump file; tried to read "
					 "%u captured bytes, only got %zu", h[2], left - 16);
			r->beg = r->end;	/* once: then the end */
			return WEIR_E_IO;
		}
		switch (classic_fill(r)) {
		case 0:
			break;
		case 1:
			return 0;
		default:
			return WEIR_E_IO;
		}
	}
}

int wpcap_next_more(struct wpcap_rd *r, struct wpcap_frame *f)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (r->buf)
		return classic_next(r, f);
	rc = pcap_next_ex(r->pcap, &h, &data);
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
	return r->pcap ? pcap_geterr(r->pcap) : r->buf ? r->err : "not open";
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
	if (r->buf) {
		close(r->fd);
		free(r->buf);
	}
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
