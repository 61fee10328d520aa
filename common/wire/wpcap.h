/* wpcap.h - the one pcap reader and writer of weir: libpcap, wrapped once.
 *
 * libpcap is Debian's library made for the job: it reads every pcap
 * variant (byte order, microsecond and nanosecond magic, pcapng) and
 * writes the classic format every tool reads. The classic format, by far
 * the most common, is also read here without it, for speed (see struct
 * wpcap_rd), with libpcap's results. Writing a frame is one
 * buffered fwrite of a 16-byte header and the bytes, so it costs the
 * generator's --pcap-out loop nothing a hand-written writer would save.
 * (The file is wpcap.h, not pcap.h: common/wire is on the include path,
 * and a pcap.h there would shadow libpcap's own <pcap.h>.)
 *
 * Times are nanoseconds since the Unix epoch on both sides: the reader
 * opens files with nanosecond precision (libpcap scales microsecond
 * files), the writer writes microsecond files (what peers expect) and
 * truncates. The library never prints: errors come back as a sentence in
 * err that names the file.
 */
#ifndef WEIR_WPCAP_H
#define WEIR_WPCAP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WPCAP_SNAPLEN	262144	/* libpcap's maximum */

/* libpcap's link types (DLT_*), the ones weir reads and writes. */
enum {
	WPCAP_DLT_NULL = 0,		/* BSD loopback: a host-order family word */
	WPCAP_DLT_EN10MB = 1,		/* Ethernet */
	WPCAP_DLT_RAW = 12,		/* raw IP, the version nibble first */
	WPCAP_LINKTYPE_RAW = 101,	/* the same as a file's link type (libpcap
					 * hands it out as DLT_RAW) */
	WPCAP_DLT_LOOP = 108,		/* OpenBSD loopback: a network-order family */
	WPCAP_DLT_LINUX_SLL = 113,	/* Linux cooked capture v1 */
	WPCAP_DLT_IPV4 = 228,		/* raw IPv4 */
	WPCAP_DLT_IPV6 = 229,		/* raw IPv6 */
	WPCAP_DLT_LINUX_SLL2 = 276,	/* Linux cooked capture v2 */
};

struct wpcap_frame {
	const uint8_t *p;	/* caplen bytes, valid until the next wpcap_next */
	size_t caplen;		/* bytes captured */
	size_t len;		/* bytes on the wire */
	uint64_t t_ns;
};

/* A reader. Classic pcap files (microsecond or nanosecond magic, either
 * byte order, version 2.4) are read here, from the descriptor in blocks of
 * WPCAP_RD_BLOCK bytes into one buffer allocated at open: no per-frame
 * library call, which is most of what reading a frame costs. Everything
 * else (pcapng, older or modified formats) goes through libpcap. Both
 * follow libpcap's rules: a frame captured longer than the file's snap
 * length comes back cut to it; one longer than WPCAP_SNAPLEN, or a file
 * that ends inside a record, is an error. Two things libpcap does are not
 * done on the fast path: it reads record times as signed 32-bit seconds
 * (here unsigned: times after 2038 stay right), and it rewrites the
 * byte order of the SocketCAN and USB pseudo-headers in other-endian files
 * (no IP behind those). */
#define WPCAP_RD_BLOCK	(256u * 1024)

struct wpcap_rd {
	void *pcap;		/* pcap_t, when libpcap reads the file */
	int dlt;		/* the file's link type */
	uint64_t frames;	/* read so far */
	/* The classic format, read here (buf not NULL, pcap NULL). */
	int fd;
	uint8_t *buf;		/* WPCAP_RD_BLOCK + a largest record */
	size_t beg, end;	/* the bytes not handed out yet */
	uint32_t snap;		/* the file's snap length */
	uint8_t swap;		/* the other byte order */
	uint8_t nano;		/* nanosecond times */
	uint8_t eof;
	char err[200];		/* the sentence of the last error */
	/* Set by the caller after open (NULL: none): when a signal interrupts
	 * a read that waits (a pipe) and *stop is then non-zero, the read
	 * gives up: wpcap_next returns 0 (classic format) or WEIR_E_IO. Else
	 * an interrupted read is retried. */
	volatile sig_atomic_t *stop;
};

/* Open path for reading ("-": stdin). WEIR_OK, or WEIR_E_IO with err. */
int wpcap_open_read(struct wpcap_rd *r, const char *path, char *err, size_t errlen);

/* wpcap_next() for all it does not do inline. */
int wpcap_next_more(struct wpcap_rd *r, struct wpcap_frame *f);

/* The 16-byte record header at the start of a classic file's buffer (at
 * least 16 bytes there) in host order: seconds, fraction, caplen, len. */
static inline void wpcap_rec_hdr(const struct wpcap_rd *r, uint32_t h[4])
{
	memcpy(h, r->buf + r->beg, 16);
	if (r->swap)
		for (int i = 0; i < 4; i++)
			h[i] = __builtin_bswap32(h[i]);
}

/* The record at the start of a classic file's buffer into f when it is
 * whole there and not too long: 1; else 0 (more to read, or an error:
 * wpcap_next_more tells). 0 for libpcap's files (their buffer is empty). */
static inline int wpcap_rec_take(struct wpcap_rd *r, struct wpcap_frame *f)
{
	size_t left = r->end - r->beg;
	uint32_t h[4];

	if (left < 16)
		return 0;
	wpcap_rec_hdr(r, h);
	if (h[2] > WPCAP_SNAPLEN || left - 16 < h[2])
		return 0;
	f->p = r->buf + r->beg + 16;
	f->caplen = h[2] > r->snap ? r->snap : h[2];
	f->len = h[3];
	f->t_ns = (uint64_t)h[0] * 1000000000ull + (r->nano ? h[1] : (uint64_t)h[1] * 1000);
	r->beg += 16 + (size_t)h[2];
	r->frames++;
	return 1;
}

/* The next frame: 1 (f filled), 0 at the end, WEIR_E_IO on a read error
 * (the sentence: wpcap_error). Inline for a classic file's record that is
 * whole in the buffer (the common case: a block holds hundreds), so that
 * a frame costs no call; everything else (a block to read, an error,
 * libpcap's files) in wpcap_next_more. */
static inline int wpcap_next(struct wpcap_rd *r, struct wpcap_frame *f)
{
	if (wpcap_rec_take(r, f))
		return 1;
	return wpcap_next_more(r, f);
}

const char *wpcap_error(const struct wpcap_rd *r);
/* libpcap's name of a link type ("EN10MB"), or "?". */
const char *wpcap_dlt_name(int dlt);
/* Safe on a reader never opened (zeroed). */
void wpcap_close_read(struct wpcap_rd *r);

struct wpcap_wr {
	void *pcap;		/* pcap_t (dead) */
	void *dumper;		/* pcap_dumper_t */
	uint64_t frames;	/* written */
};

/* Create path ("-": stdout) for frames of link type dlt. WEIR_OK, or
 * WEIR_E_IO with a sentence in err. */
int wpcap_open_write(struct wpcap_wr *w, const char *path, int dlt, char *err, size_t errlen);
/* One frame of len bytes (at most WPCAP_SNAPLEN), captured whole.
 * WEIR_OK, WEIR_E_INVALID (too long), WEIR_E_IO (the file's error). */
int wpcap_write(struct wpcap_wr *w, const uint8_t *frame, size_t len, uint64_t t_ns);
/* The same with a capture length below the wire length (a cut frame). */
int wpcap_write_cut(struct wpcap_wr *w, const uint8_t *frame, size_t caplen, size_t len,
		    uint64_t t_ns);
/* Flush and close: WEIR_E_IO when anything failed to reach the file.
 * Safe on a writer never opened (zeroed). */
int wpcap_close_write(struct wpcap_wr *w);

#endif
