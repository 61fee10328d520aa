/* meter.h - the flow meter of weir-exporter: packets (or aggregates read
 * from the kernel) in, flow records with their end reason out.
 *
 * A flow is the two directions of one conversation: the meter keys an
 * entry by the key of the first packet seen (the initiator is key.src) and
 * counts the packets of the opposite key in the same entry (rev), so that
 * it sees a TCP teardown from both sides and can export one record per
 * direction or one bidirectional record (RFC 5103) alike.
 *
 * Time is whatever the caller says it is: packet time offline (timeouts run
 * on the capture's clock), the real clock live. Nothing here reads a clock.
 *
 * The table is bounded (meter_cfg.max_flows, entries allocated once at
 * init). A packet of a new flow that finds the table full makes room: the
 * flow idle longest ends with reason "lack of resources" (5) and its record
 * goes out (meter_stats.evicted), so that every packet metered is in some
 * record. refused_* count what could still not be metered (none today; the
 * exporting process reports them, see exporter/xp.h).
 *
 * Records are handed to the emit callback during meter_packet, meter_merge,
 * meter_expire and meter_flush; the callback must not call the meter.
 */
#ifndef WEIR_METER_H
#define WEIR_METER_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"
#include "wflow.h"	/* bpf/ */

/* IPFIX flowEndReason (IE 136, RFC 7012 / IANA). */
enum meter_end {
	METER_END_IDLE = 1,		/* idle timeout */
	METER_END_ACTIVE = 2,		/* active timeout: the flow goes on in a new record */
	METER_END_EOF = 3,		/* end of flow detected: FIN both ways acked, or RST */
	METER_END_FORCED = 4,		/* forced end: exit, end of the pcap files */
	METER_END_RESOURCES = 5,	/* lack of resources */
};

struct meter_cfg {
	uint64_t active_ns;		/* active timeout (default 60 s) */
	uint64_t inactive_ns;		/* idle timeout (default 15 s) */
	uint64_t linger_ns;		/* after FIN/FIN-ACK or RST, how long the entry waits
					 * for the trailing ACK before it ends (default 1 s) */
	uint32_t max_flows;		/* table bound (default 65536) */
	uint32_t sampling;		/* 1-in-N packets metered, systematic count-based
					 * (RFC 5475 §6.1); 0 and 1: every packet */
};

/* One flow record: a flow's counts since its previous record. */
struct meter_rec {
	struct wflow_key key;		/* the initiator's direction */
	struct wflow_val fwd;		/* packets of key */
	struct wflow_val rev;		/* packets of the reverse key; packets 0: none */
	uint8_t end_reason;		/* enum meter_end */
	uint8_t icmp_type, icmp_code;	/* of the first ICMP packet, either way */
};

/* Where records go. Called during meter_packet/meter_expire/meter_flush;
 * rec is valid only during the call. */
typedef void (*meter_emit_fn)(void *arg, const struct meter_rec *rec);

/* Counters; all monotonic. */
struct meter_stats {
	uint64_t packets;		/* handed to meter_packet */
	uint64_t sampled_out;		/* not selected by 1-in-N sampling */
	uint64_t not_ip;		/* no IPv4/IPv6 layer (ARP, LLDP, ...) */
	uint64_t truncated;		/* IP header cut short (PKT_F_TRUNCATED before IP) */
	uint64_t malformed;		/* PKT_F_MALFORMED / PKT_F_DEPTH */
	uint64_t frag_pending;		/* later fragments held until their first one */
	uint64_t frag_orphaned;		/* fragments whose first one never came */
	uint64_t refused_flows;		/* new flows the full table refused */
	uint64_t refused_packets;	/* their packets */
	uint64_t refused_octets;	/* and IP bytes */
	uint64_t flows_created;
	uint64_t records;		/* emitted */
	uint64_t active;		/* entries in the table now */
	uint64_t evicted;		/* flows ended to make room (reason 5) */
	uint64_t frag_evicted;		/* fragment entries dropped to make room
					 * (their held fragments: frag_orphaned) */
};

struct meter;

/* A meter with cfg (copied; zero fields take the defaults above) that
 * hands records to emit(arg, rec). NULL when out of memory (every entry is
 * allocated here, once). */
struct meter *meter_new(const struct meter_cfg *cfg, meter_emit_fn emit, void *arg);
void meter_free(struct meter *m);		/* NULL is fine; emits nothing */

/* One packet parsed by pkt_parse(), seen at t_ns on interface ifindex in
 * direction dir. Its octets are pi->ip_len (the IP length from the header;
 * a caller that knows better, e.g. a TSO capture's total length 0, puts
 * its figure there). Timeouts due at or before t_ns run first, so offline
 * the packet clock drives expiry. */
void meter_packet(struct meter *m, const struct pkt_info *pi, uint64_t t_ns, uint32_t ifindex,
		  uint8_t dir);

/* The same for n packets in order (pi[i] seen at t_ns[i]), with the same
 * result as n calls of meter_packet, only faster: the table lookups of a
 * batch overlap their cache misses (1.2-1.8x on bench/meter). The offline
 * path parses METER_BATCH frames into an array and hands them here. */
#define METER_BATCH	32
void meter_packets(struct meter *m, const struct pkt_info *pi, const uint64_t *t_ns, size_t n,
		   uint32_t ifindex, uint8_t dir);

/* Fold an aggregate of one direction (a kernel map entry's delta) into the
 * flow of key, as meter_packet would have for its packets. key.dir and
 * key.ifindex as the kernel saw them; dir is not part of a flow's identity
 * (an egress key and its reverse on ingress are one flow). An aggregate
 * cannot order its packets: FIN both ways completed by an aggregate that
 * holds an ACK counts as the end detected. Timeouts do not run here:
 * meter_expire does that on the caller's clock. */
void meter_merge(struct meter *m, const struct wflow_key *key, const struct wflow_val *val);

/* Run the timeouts due at now_ns (idle, active, linger ends). */
void meter_expire(struct meter *m, uint64_t now_ns);

/* End every flow with reason (METER_END_FORCED at exit or the end of the
 * input), emitting their records; a flow whose end was already detected
 * (lingering after FIN/RST) ends with METER_END_EOF. Fragments still held
 * for their first one are counted with ports 0 first (frag_orphaned). */
void meter_flush(struct meter *m, uint8_t reason);

const struct meter_stats *meter_stats(const struct meter *m);

#endif
