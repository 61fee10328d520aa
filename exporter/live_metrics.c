/* live_metrics.c - /metrics of the live path, in the collector's
 * conventions (docs/collector.md "Metrics"): weir_* names, counters end in
 * _total, units as suffixes. The server and the text are
 * common/prog/prog_http.h, the collector's too.
 *
 * The loop thread copies its counters into struct live_pub after every
 * drain with relaxed atomic stores (base/cnt.h); the server's thread reads
 * them with relaxed loads: no lock, no data race.
 */
#include <stdlib.h>
#include <string.h>

#include "cnt.h"
#include "err.h"
#include "live_int.h"
#include "prog_http.h"
#include "prog_version.h"

enum {
	P_KPACKETS, P_KBYTES, P_SAMPLED, P_NOTIP, P_MALFORMED, P_OWN, P_SPILLED, P_SPILL_LOST,
	P_EVENTS_LOST, P_MPACKETS, P_MOCTETS, P_FLOWS, P_ACTIVE, P_EVICTED, P_RECORDS,
	P_EXPORTED, P_LOST, P_MESSAGES, P_SEND_ERRORS, P_FILL, P_CAPACITY, P_DRAINS, P_DRAIN_NS,
	P_SPILL_RECS, P_EVENTS, P_READ_ERRORS, P_RUN_NS, P_RUNS, P_HOOKS, P_MAX
};

struct live_pub {
	uint64_t v[P_MAX];
};

static const struct {
	const char *name, *type, *help;
} defs[P_MAX] = {
	[P_KPACKETS] = { "weir_exporter_kernel_packets_total", "counter",
			 "Packets the tc programs saw (a GSO packet counts its segments)." },
	[P_KBYTES] = { "weir_exporter_kernel_bytes_total", "counter",
		       "IP bytes of the packets the programs parsed (metered, sampled out, own export)." },
	[P_SAMPLED] = { "weir_exporter_sampled_out_packets_total", "counter",
			"Packets not selected by 1-in-N sampling." },
	[P_NOTIP] = { "weir_exporter_not_ip_packets_total", "counter",
		      "Packets without an IPv4 or IPv6 layer (ARP, LLDP, ...): not metered." },
	[P_MALFORMED] = { "weir_exporter_malformed_packets_total", "counter",
			  "Packets the programs' parser refused: not metered." },
	[P_OWN] = { "weir_exporter_own_export_packets_total", "counter",
		    "Packets of the exporter's own export: not metered." },
	[P_SPILLED] = { "weir_exporter_spilled_packets_total", "counter",
			"Packets the full flow map could not take, sent to user space one by one." },
	[P_SPILL_LOST] = { "weir_exporter_spill_lost_packets_total", "counter",
			   "Packets lost: the flow map and the spill ring were both full." },
	[P_EVENTS_LOST] = { "weir_exporter_events_lost_total", "counter",
			    "FIN/RST events the ring had no room for (those flows end later)." },
	[P_MPACKETS] = { "weir_exporter_metered_packets_total", "counter",
			 "Packets merged into the flow meter (map entries and spill records)." },
	[P_MOCTETS] = { "weir_exporter_metered_octets_total", "counter",
			"IP octets merged into the flow meter." },
	[P_FLOWS] = { "weir_exporter_flows_total", "counter", "Flows begun in the meter." },
	[P_ACTIVE] = { "weir_exporter_flows_active", "gauge", "Flows the meter holds." },
	[P_EVICTED] = { "weir_exporter_flows_evicted_total", "counter",
			"Flows ended early to make room (flowEndReason 5): more than --max-flows." },
	[P_RECORDS] = { "weir_exporter_records_total", "counter",
			"Flow records the meter made (one per flow end or active timeout)." },
	[P_EXPORTED] = { "weir_exporter_records_exported_total", "counter",
			 "IPFIX data records sent or written." },
	[P_LOST] = { "weir_exporter_records_lost_total", "counter",
		     "IPFIX data records that could not be sent (TCP down, send error)." },
	[P_MESSAGES] = { "weir_exporter_messages_total", "counter", "IPFIX messages sent or written." },
	[P_SEND_ERRORS] = { "weir_exporter_export_errors_total", "counter",
			    "Sends or writes of the export that failed." },
	[P_FILL] = { "weir_exporter_map_entries", "gauge",
		     "Entries of the kernel's flow map at the last drain (both generations)." },
	[P_CAPACITY] = { "weir_exporter_map_capacity", "gauge",
			 "Entries the kernel's flow map holds at most (--max-flows)." },
	[P_DRAINS] = { "weir_exporter_drains_total", "counter", "Generations of the flow map drained." },
	[P_DRAIN_NS] = { "weir_exporter_drain_seconds_total", "counter",
			 "Time spent draining the flow map (the RCU wait included)." },
	[P_SPILL_RECS] = { "weir_exporter_spill_records_total", "counter",
			   "Spill records read from the ring." },
	[P_EVENTS] = { "weir_exporter_events_total", "counter", "FIN/RST events read from the ring." },
	[P_READ_ERRORS] = { "weir_exporter_map_errors_total", "counter",
			    "Reads, deletes or waits on the kernel's maps that failed." },
	[P_RUN_NS] = { "weir_exporter_bpf_run_seconds_total", "counter",
		       "Run time of the tc programs (0 unless kernel.bpf_stats_enabled=1)." },
	[P_RUNS] = { "weir_exporter_bpf_runs_total", "counter",
		     "Runs of the tc programs (0 unless kernel.bpf_stats_enabled=1)." },
	[P_HOOKS] = { "weir_exporter_hooks", "gauge", "Interface directions the programs are attached to." },
};

static int is_seconds(int i)
{
	return i == P_DRAIN_NS || i == P_RUN_NS;
}

static int render(void *arg, struct prog_text *t)
{
	const struct live_pub *p = arg;

	prog_prom_head(t, "weir_build_info", "gauge", "Version of this weir-exporter.");
	prog_text_printf(t, "weir_build_info{version=\"%s\",program=\"weir-exporter\"} 1\n",
			 WEIR_VERSION);
	for (int i = 0; i < P_MAX; i++) {
		uint64_t v = cnt_load(&p->v[i]);

		if (is_seconds(i)) {
			prog_prom_head(t, defs[i].name, defs[i].type, defs[i].help);
			prog_text_printf(t, "%s %.9f\n", defs[i].name, (double)v / 1e9);
		} else {
			prog_prom_one(t, defs[i].name, defs[i].type, defs[i].help, v);
		}
	}
	return t->err;
}

int live_metrics_start(struct live *l, char *err, size_t errlen)
{
	l->pub = calloc(1, sizeof(*l->pub));
	if (!l->pub) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	live_metrics_publish(l);
	if (!l->cfg->metrics_port)
		return 0;
	l->http = prog_http_start(l->cfg->metrics_host, l->cfg->metrics_port, render, l->pub, err,
				  errlen);
	return l->http ? 0 : -1;
}

void live_metrics_publish(struct live *l)
{
	uint64_t v[P_MAX], run_ns, runs;
	const struct meter_stats *ms;
	const struct xp_stats *xs;

	if (!l->pub)
		return;
	ms = meter_stats(l->m);
	xs = xp_stats(l->x);
	live_bpf_runtime(l, &run_ns, &runs);
	memset(v, 0, sizeof(v));
	v[P_KPACKETS] = l->wtc[WTC_ST_PACKETS];
	v[P_KBYTES] = l->wtc[WTC_ST_BYTES];
	v[P_SAMPLED] = l->wtc[WTC_ST_SAMPLED_OUT];
	v[P_NOTIP] = l->wtc[WTC_ST_NOT_IP];
	v[P_MALFORMED] = l->wtc[WTC_ST_MALFORMED];
	v[P_OWN] = l->wtc[WTC_ST_OWN_EXPORT];
	v[P_SPILLED] = l->wtc[WTC_ST_SPILLED];
	v[P_SPILL_LOST] = l->wtc[WTC_ST_SPILL_LOST];
	v[P_EVENTS_LOST] = l->wtc[WTC_ST_EVENTS_LOST];
	v[P_MPACKETS] = l->c.merged_packets;
	v[P_MOCTETS] = l->c.merged_octets;
	v[P_FLOWS] = ms->flows_created;
	v[P_ACTIVE] = ms->active;
	v[P_EVICTED] = ms->evicted;
	v[P_RECORDS] = ms->records;
	if (xs) {
		v[P_EXPORTED] = xs->records;
		v[P_LOST] = xs->records_lost;
		v[P_MESSAGES] = xs->messages;
		v[P_SEND_ERRORS] = xs->send_errors;
	}
	v[P_FILL] = l->c.fill;
	v[P_CAPACITY] = l->flows_max;
	v[P_DRAINS] = l->c.drains;
	v[P_DRAIN_NS] = l->c.drain_ns;
	v[P_SPILL_RECS] = l->c.spill_records;
	v[P_EVENTS] = l->c.events;
	v[P_READ_ERRORS] = l->c.read_errors;
	v[P_RUN_NS] = run_ns;
	v[P_RUNS] = runs;
	v[P_HOOKS] = l->nhooks;
	for (int i = 0; i < P_MAX; i++)
		__atomic_store_n(&l->pub->v[i], v[i], __ATOMIC_RELAXED);
}

void live_metrics_stop(struct live *l)
{
	prog_http_stop(l->http);
	l->http = NULL;
	free(l->pub);
	l->pub = NULL;
}
