/* pcapin.h - the --pcap input: the export datagrams of a capture file.
 *
 * Link types: those of pkt_start_of_dlt() (Ethernet with 802.1Q/QinQ/MPLS,
 * Linux cooked v1 and v2, raw IP, BSD and OpenBSD loopback), parsed by
 * pkt_parse like every packet in weir. IPv4 and IPv6, UDP.
 * IP fragments and frames cut short by the snap length are skipped (a
 * datagram that is not whole cannot be decoded) and counted. The UDP
 * source address and port are the exporter; the frame's capture time is
 * the receive time.
 */
#ifndef COL_PCAPIN_H
#define COL_PCAPIN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "worker.h"

/* Why a frame carries no datagram for us. */
enum col_pcap_skip {
	COL_PCAP_OK = 0,
	COL_PCAP_NOT_IP = -1,		/* link layer carries no IPv4/IPv6 */
	COL_PCAP_NOT_UDP = -2,
	COL_PCAP_FRAGMENT = -3,
	COL_PCAP_CUT = -4,		/* the frame ends inside the datagram */
	COL_PCAP_BAD = -5,		/* impossible IP or UDP header */
	COL_PCAP_LINKTYPE = -6,		/* a link type we do not read */
};

struct col_udp_view {
	struct weir_exporter e;		/* UDP source address and port */
	uint16_t dport;
	const uint8_t *p;		/* UDP payload, a view into the frame */
	size_t len;
};

/* Whether dlt (a libpcap DLT_* value) is one col_pcap_frame() reads. */
int col_pcap_dlt_ok(int dlt);
/* Find the UDP datagram in one captured frame. COL_PCAP_OK and *v filled,
 * or why not. */
int col_pcap_frame(int dlt, const uint8_t *frame, size_t caplen, struct col_udp_view *v);

/* Decode every datagram of the capture at path ("-": stdin) with worker w;
 * port != 0 keeps only datagrams to that UDP port. tick(arg) is called
 * every 1024 frames and stops the run when it returns non-zero. The batch
 * is flushed at the end. WEIR_OK, or WEIR_E_IO with a sentence in err. */
int col_pcap_run(struct col_worker *w, const char *path, uint16_t port,
		 int (*tick)(void *arg), void *arg, char *err, size_t errlen);

#endif
