/* wflow.h - the flow state weir-exporter keeps, one layout for the kernel
 * and user space.
 *
 * The offline meter (exporter/meter.c) folds packets into these structs;
 * the live path (BPF tc programs, a later part) will fold packets into the
 * same structs held in a BPF hash map, and user space merges what it reads
 * with meter_merge(). So both are fixed-size, hold no pointer, have every
 * padding byte named (a map key is compared byte by byte), and use the
 * kernel's fixed-width types, which both sides have.
 *
 * Byte order: host order for ports, VLAN and counters; addresses as on the
 * wire (network order).
 */
#ifndef WEIR_WFLOW_H
#define WEIR_WFLOW_H

#include <linux/types.h>

/* wflow_key.dir */
enum wflow_dir {
	WFLOW_DIR_INGRESS = 0,
	WFLOW_DIR_EGRESS = 1,
};

/* TCP flag bits as in the TCP header's flags byte (RFC 9293), and the
 * index of each in wflow_val.flag_cnt. NS (RFC 3540, historic) is bit 8 of
 * tcp_flags and has no counter. */
enum wflow_tcp_flag {
	WFLOW_FIN = 0, WFLOW_SYN, WFLOW_RST, WFLOW_PSH, WFLOW_ACK, WFLOW_URG, WFLOW_ECE,
	WFLOW_CWR, WFLOW_NFLAGS
};

/* One direction of a flow: what identifies it. 48 bytes, no implicit
 * padding. An IPv4 address is in the first 4 bytes of its 16, the other
 * 12 zero. ICMP and ICMPv6 have no ports: src_port 0, dst_port type * 256
 * + code (the NetFlow convention collectors know). Protocols without ports
 * (and later fragments before their first one is seen) have both 0. */
struct wflow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 src_port;
	__u16 dst_port;
	__u16 vlan;		/* outer 802.1Q/802.1ad VLAN id, 0: none */
	__u8 proto;		/* IP protocol (IPv6: the upper layer) */
	__u8 ipver;		/* 4 or 6 */
	__u32 ifindex;		/* the interface metered; 0 offline */
	__u8 dir;		/* enum wflow_dir */
	__u8 pad[3];
};

/* One direction of a flow: what was counted. 72 bytes, no implicit
 * padding. A merge of two (meter_merge) adds the counts, takes the min of
 * first_ns and min_ttl, the max of last_ns and max_ttl, ORs the flags, and
 * keeps the tos of the earlier. */
struct wflow_val {
	__u64 first_ns;		/* ns since the Unix epoch */
	__u64 last_ns;
	__u64 packets;
	__u64 octets;		/* IP bytes: IPv4 total length, IPv6 payload
				 * length + 40 (see docs/exporter.md) */
	__u32 flag_cnt[WFLOW_NFLAGS];	/* TCP packets with each flag set */
	__u16 tcp_flags;	/* OR of the 9 flag bits of every packet */
	__u8 min_ttl;		/* TTL / hop limit */
	__u8 max_ttl;
	__u8 tos;		/* IPv4 TOS / IPv6 traffic class of the first packet */
	__u8 pad[3];
};

#endif
