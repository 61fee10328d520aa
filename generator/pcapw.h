/* pcapw.h - export datagrams into a pcap file instead of onto the network.
 *
 * Each datagram becomes one Ethernet frame: IPv4 (RFC 791, header checksum
 * set, DF, identification = frame number) or IPv6 (RFC 8200), UDP (RFC 768;
 * checksum set, as IPv6 requires) from the exporter's address and source
 * port to the collector's, stamped with the datagram's model time to the
 * microsecond. Frames are built by pktbuild.h, the file written by wpcap.h.
 */
#ifndef GEN_PCAPW_H
#define GEN_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "wpcap.h"

#define PCAPW_SNAPLEN	WPCAP_SNAPLEN

struct pcapw {
	struct wpcap_wr out;
	struct weir_addr dst;
	uint16_t dport;
	int v6;
	uint16_t ip_id;
	uint64_t frames;
	uint8_t *frame;			/* PCAPW_SNAPLEN bytes */
};

/* Create path ("-" is stdout). dst: the collector (its family decides
 * IPv4 or IPv6 frames). WEIR_OK or WEIR_E_IO / WEIR_E_NOMEM with a
 * sentence in err. */
int pcapw_open(struct pcapw *w, const char *path, const struct weir_addr *dst,
	       uint16_t dport, char *err, size_t errlen);
/* One frame from src:sport carrying payload. WEIR_OK, WEIR_E_INVALID when
 * it cannot be one frame, WEIR_E_IO when the file has a write error. */
int pcapw_write(struct pcapw *w, const struct weir_addr *src, uint16_t sport,
		const uint8_t *payload, size_t len, uint64_t time_ns);
/* Flush and close; WEIR_E_IO when anything failed to reach the file. Safe
 * on a pcapw never opened (zeroed). */
int pcapw_close(struct pcapw *w);

/* The frame pcapw_write() would write, into buf (cap bytes); its length, or
 * 0 when it does not fit. For tests. */
size_t pcapw_frame(uint8_t *buf, size_t cap, const struct weir_addr *src, uint16_t sport,
		   const struct weir_addr *dst, uint16_t dport, uint16_t ip_id,
		   const uint8_t *payload, size_t len);

#endif
