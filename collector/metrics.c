/* metrics.c - see metrics.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "kafka.h"
#include "prog_log.h"
#include "metrics.h"
#include "prog_version.h"

/* ---- the sums ---- */

struct col_sum {
	struct col_counters c;
	uint64_t errors[WEIR_E_MAX];
	uint64_t quirks[WEIR_Q_MAX];
	struct tmpl_stats ts;
};

static void sum_u64(uint64_t *dst, const uint64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] += cnt_load(&src[i]);
}

static void sum_workers(const struct col_shared *sh, struct col_sum *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < sh->nw; i++) {
		const struct col_worker *w = sh->w[i];
		const struct tmpl_stats *ts = tmpl_cache_stats(w->ctx.cache);

		/* Both structs are nothing but uint64_t counters. */
		sum_u64((uint64_t *)&s->c, (const uint64_t *)&w->c, sizeof(s->c) / 8);
		sum_u64(s->errors, w->ctx.errors, WEIR_E_MAX);
		sum_u64(s->quirks, w->ctx.quirks, WEIR_Q_MAX);
		sum_u64((uint64_t *)&s->ts, (const uint64_t *)ts, sizeof(s->ts) / 8);
	}
}

_Static_assert(sizeof(struct col_counters) % 8 == 0, "col_counters is uint64_t only");
_Static_assert(sizeof(struct tmpl_stats) % 8 == 0, "tmpl_stats is uint64_t only");

/* ---- writing ---- */

static void per_proto(struct prog_text *t, const char *name, const char *help, const uint64_t *v)
{
	prog_prom_head(t, name, "counter", help);
	for (int p = 0; p < COL_P_MAX; p++)
		prog_text_printf(t, "%s{protocol=\"%s\"} %llu\n", name, col_proto_name(p),
				(unsigned long long)v[p]);
}

static void per_worker(struct prog_text *t, const struct col_shared *sh, const char *name,
		       const char *type, const char *help, size_t field)
{
	prog_prom_head(t, name, type, help);
	for (unsigned i = 0; i < col_nudp(sh); i++) {
		const uint64_t *v = (const uint64_t *)((const char *)&sh->w[i]->c + field);

		prog_text_printf(t, "%s{worker=\"%u\"} %llu\n", name, i,
				(unsigned long long)cnt_load(v));
	}
}

static uint64_t worker_datagrams(const struct col_worker *w)
{
	uint64_t n = 0;

	for (int p = 0; p < COL_P_MAX; p++)
		n += cnt_load(&w->c.datagrams[p]);
	return n;
}

/* Sequence numbers per exporter address, over every worker's sources. */
/* Give the sources w's cache made since the last scrape their exporter
 * label (the first COL_EXPORTER_LABELS addresses met, then "other"). */
static void label_sources(struct col_shared *sh, struct col_worker *w)
{
	uint32_t n = tmpl_cache_nsources(w->ctx.cache);

	if (n > w->label_cap) {
		uint32_t cap = w->label_cap ? w->label_cap : 64;
		uint32_t *nl;

		while (cap < n)
			cap *= 2;
		nl = realloc(w->src_label, cap * sizeof(*nl));
		if (!nl)
			return;		/* labelled next time */
		w->src_label = nl;
		w->label_cap = cap;
	}
	for (; w->nlabelled < n; w->nlabelled++) {
		const struct tmpl_source *s = tmpl_cache_source(w->ctx.cache, w->nlabelled);

		w->src_label[w->nlabelled] = col_labels_get(&sh->labels, &s->exporter.addr);
	}
}

static void per_exporter(struct prog_text *t, struct col_shared *sh)
{
	static const char *const names[3] = {
		"weir_sequence_gaps_total", "weir_sequence_lost_total",
		"weir_sequence_reordered_total",
	};
	static const char *const helps[3] = {
		"Gaps in the export sequence numbers, per exporter address (all its ports and domains).",
		"Units missing in those gaps: records (IPFIX, NetFlow v5), export packets (NetFlow v9) or datagrams (sFlow).",
		"Sequence numbers that went backwards (late or duplicated datagrams).",
	};
	const uint32_t nl = COL_EXPORTER_LABELS + 1;
	uint64_t (*v)[3] = calloc(nl, sizeof(*v));
	struct weir_addr *addr = malloc(COL_EXPORTER_LABELS * sizeof(*addr));
	uint32_t n;
	uint8_t other;
	char buf[64];

	if (!v || !addr) {
		t->err = WEIR_E_NOMEM;
		goto out;
	}
	for (unsigned i = 0; i < sh->nw; i++)
		label_sources(sh, sh->w[i]);
	pthread_mutex_lock(&sh->labels.mu);
	n = sh->labels.n;
	other = sh->labels.other_used;
	memcpy(addr, sh->labels.addr, n * sizeof(*addr));
	pthread_mutex_unlock(&sh->labels.mu);
	for (unsigned i = 0; i < sh->nw; i++) {
		struct col_worker *w = sh->w[i];
		const struct tmpl_cache *c = w->ctx.cache;

		for (uint32_t j = 0; j < w->nlabelled; j++) {
			const struct tmpl_source *s = tmpl_cache_source(c, j);
			uint32_t l = w->src_label[j];

			v[l][0] += cnt_load(&s->seq_gaps);
			v[l][1] += cnt_load(&s->seq_lost);
			v[l][2] += cnt_load(&s->seq_reordered);
		}
	}
	for (int k = 0; k < 3; k++) {
		prog_prom_head(t, names[k], "counter", helps[k]);
		for (uint32_t l = 0; l < n; l++)
			prog_text_printf(t, "%s{exporter=\"%s\"} %llu\n", names[k],
					weir_addr_str(&addr[l], buf, sizeof(buf)),
					(unsigned long long)v[l][k]);
		if (other)
			prog_text_printf(t, "%s{exporter=\"other\"} %llu\n", names[k],
					(unsigned long long)v[COL_LABEL_OTHER][k]);
	}
out:
	free(v);
	free(addr);
}

/* What arrives and how it decodes. */
static void render_input(struct col_shared *sh, const struct col_sum *s, struct prog_text *t)
{
	prog_prom_head(t, "weir_build_info", "gauge", "Version and --type of this weir-collector.");
	prog_text_printf(t, "weir_build_info{version=\"%s\",type=\"%s\"} 1\n", WEIR_VERSION,
			sh->cfg->type == COL_T_SFLOW ? "sflow" : "netflow");
	prog_prom_one(t, "weir_start_time_seconds", "gauge", "Start time of the process, seconds since the epoch.",
	    sh->start_time_ns / 1000000000ull);
	prog_prom_one(t, "weir_workers", "gauge", "UDP worker threads (one receiving socket each).",
	    col_nudp(sh));

	per_proto(t, "weir_datagrams_total",
		  "Datagrams received, by protocol (their version field; unknown: neither).",
		  s->c.datagrams);
	per_proto(t, "weir_received_bytes_total", "UDP payload bytes received, by protocol.",
		  s->c.bytes);
	per_proto(t, "weir_records_total",
		  "Data and options records decoded (sFlow: samples), by protocol.", s->c.records);
	prog_prom_head(t, "weir_worker_datagrams_total", "counter", "Datagrams received, by worker.");
	for (unsigned i = 0; i < col_nudp(sh); i++)
		prog_text_printf(t, "weir_worker_datagrams_total{worker=\"%u\"} %llu\n", i,
				(unsigned long long)worker_datagrams(sh->w[i]));
	per_worker(t, sh, "weir_kernel_drops_total", "counter",
		   "Datagrams the kernel dropped on a worker's full socket (SO_RXQ_OVFL).",
		   offsetof(struct col_counters, kernel_drops));
	per_worker(t, sh, "weir_socket_receive_buffer_bytes", "gauge",
		   "Receive buffer the kernel gave a worker's socket (SO_RCVBUF as read back).",
		   offsetof(struct col_counters, rcvbuf));
	prog_prom_one(t, "weir_receive_errors_total", "counter",
	    "recvmmsg() calls that failed (other than timeouts).", s->c.recv_errors);

	prog_prom_head(t, "weir_decode_errors_total", "counter",
	     "Decoding errors, by kind (a datagram can count several).");
	for (int k = 1; k < WEIR_E_MAX; k++)
		prog_text_printf(t, "weir_decode_errors_total{kind=\"%s\"} %llu\n", weir_errname(-k),
				(unsigned long long)s->errors[k]);
	prog_prom_head(t, "weir_decode_quirks_total", "counter",
	     "Exporter quirks met: against the letter of the RFC, harmless, not errors: nf9_count_flowsets, nf9_count_data (v9 header counts), sequence_convention (IPFIX sequence numbers, once per source).");
	for (int q = 0; q < WEIR_Q_MAX; q++)
		prog_text_printf(t, "weir_decode_quirks_total{kind=\"%s\"} %llu\n", weir_quirk_name(q),
				(unsigned long long)s->quirks[q]);
	if (sh->cfg->pcap) {
		prog_prom_one(t, "weir_pcap_frames_total", "counter", "Frames read from --pcap.",
		    s->c.pcap_frames);
		prog_prom_one(t, "weir_pcap_frames_skipped_total", "counter",
		    "Frames of --pcap that held no UDP datagram for us (other traffic, fragments, cut frames).",
		    s->c.pcap_skipped);
	}
}

/* A counter with one series per value of label: name(i) for i < n. */
static void per_label(struct prog_text *t, const char *name, const char *help, const char *label,
		      const char *(*lname)(int), const uint64_t *v, int n)
{
	prog_prom_head(t, name, "counter", help);
	for (int i = 0; i < n; i++)
		prog_text_printf(t, "%s{%s=\"%s\"} %llu\n", name, label, lname(i),
				(unsigned long long)v[i]);
}

/* The TCP input, when it listens. */
static void render_tcp(const struct col_sum *s, struct prog_text *t)
{
	prog_prom_one(t, "weir_tcp_connections", "gauge", "TCP connections open now.", s->c.tcp_open);
	prog_prom_one(t, "weir_tcp_connections_accepted_total", "counter", "TCP connections accepted.",
	    s->c.tcp_accepted);
	per_label(t, "weir_tcp_connections_refused_total",
		  "TCP connections closed at once, by reason: limit (--tcp-max-connections open), error (no descriptor or memory).",
		  "reason", col_tcp_refuse_name, s->c.tcp_refused, COL_TR_MAX);
	per_label(t, "weir_tcp_connections_closed_total",
		  "TCP connections closed, by reason: eof (by the exporter), error (a read failed), framing (not IPFIX), timeout (a message incomplete past --tcp-message-timeout), stop.",
		  "reason", col_tcp_close_name, s->c.tcp_closed, COL_TC_MAX);
	prog_prom_one(t, "weir_tcp_received_bytes_total", "counter", "Bytes read from TCP connections.",
	    s->c.tcp_bytes);
	prog_prom_one(t, "weir_tcp_messages_total", "counter", "IPFIX messages framed on TCP connections.",
	    s->c.tcp_messages);
	per_label(t, "weir_tcp_framing_errors_total",
		  "TCP streams that broke the IPFIX framing, by kind: version (not 10), length (below 16), truncated (the stream ended inside a message), timeout.",
		  "kind", col_tcp_ferr_name, s->c.tcp_framing, COL_TF_MAX);
}

/* The template caches. */
static void render_templates(const struct col_sum *s, struct prog_text *t)
{
	prog_prom_one(t, "weir_sources", "gauge",
	    "Sources known: (exporter address, port, observation domain) triples.", s->ts.sources);
	prog_prom_one(t, "weir_sources_refused_total", "counter", "Sources a cache bound refused.",
	    s->ts.sources_refused);
	prog_prom_one(t, "weir_templates", "gauge", "Templates live in the caches (each worker counts its own).",
	    s->ts.templates);
	prog_prom_one(t, "weir_templates_added_total", "counter", "Templates learnt.", s->ts.added);
	prog_prom_one(t, "weir_templates_replaced_total", "counter",
	    "Templates replaced by a different one with the same id.", s->ts.replaced);
	prog_prom_one(t, "weir_templates_refreshed_total", "counter", "Templates sent again unchanged.",
	    s->ts.refreshed);
	prog_prom_one(t, "weir_templates_refused_total", "counter", "Templates a cache bound refused.",
	    s->ts.refused);
	prog_prom_one(t, "weir_templates_evicted_total", "counter",
	    "Templates of the exporter holding the most, evicted for one under its minimum.",
	    s->ts.evicted);
	prog_prom_one(t, "weir_templates_expired_total", "counter",
	    "Templates dropped after --template-lifetime without a refresh.", s->ts.expired);
	prog_prom_one(t, "weir_templates_withdrawn_total", "counter", "Templates withdrawn by the exporter.",
	    s->ts.withdrawn);
	prog_prom_one(t, "weir_templates_session_ended_total", "counter",
	    "Templates dropped because their TCP connection closed (RFC 7011 section 8).", s->ts.ended);
	prog_prom_one(t, "weir_held_sets_total", "counter",
	    "Data sets held because their template was not known yet.", s->ts.pending_held);
	prog_prom_one(t, "weir_held_sets_rescued_total", "counter",
	    "Held data sets decoded once their template arrived.", s->ts.pending_rescued);
	prog_prom_one(t, "weir_held_sets_dropped_total", "counter",
	    "Held data sets dropped (too old, or over the held-bytes bound).", s->ts.pending_dropped);
	prog_prom_one(t, "weir_held_bytes", "gauge", "Bytes of data sets held now.", s->ts.pending_bytes);
}

/* What is written. */
static void render_output(struct col_shared *sh, const struct col_sum *s, struct prog_text *t)
{
	const struct col_out *o = sh->out;

	prog_prom_one(t, "weir_records_formatted_total", "counter",
	    "Records formatted for the output (lines): written, lost or on their way.",
	    s->c.records_out);
	prog_prom_one(t, "weir_records_written_total", "counter",
	    "Records that reached the output (whole lines written; Kafka: taken by the producer queue).",
	    o ? cnt_load(&o->lines) : 0);
	prog_prom_head(t, "weir_records_skipped_total", "counter",
	     "Records decoded but not written: no_flow (common format: options records, sFlow counter samples), too_large.");
	prog_text_printf(t, "weir_records_skipped_total{reason=\"no_flow\"} %llu\n",
			(unsigned long long)s->c.skipped_no_flow);
	prog_text_printf(t, "weir_records_skipped_total{reason=\"too_large\"} %llu\n",
			(unsigned long long)s->c.skipped_too_large);
	if (o) {
		prog_prom_one(t, "weir_output_bytes_total", "counter", "Bytes written to the output.",
		    cnt_load(&o->bytes));
		prog_prom_one(t, "weir_output_flushes_total", "counter", "Batches handed to the output.",
		    cnt_load(&o->flushes));
		prog_prom_one(t, "weir_output_writes_total", "counter", "write() calls on the output.",
		    cnt_load(&o->writes));
		prog_prom_one(t, "weir_output_write_errors_total", "counter",
		    "Output writes that failed (their batch is lost).", cnt_load(&o->write_errors));
		prog_prom_head(t, "weir_records_lost_total", "counter",
		     "Lines formatted that did not reach the output, by reason: write_error (disk full, I/O error, closed pipe; Kafka: dropped before the queue), stalled (at stop, the output took nothing for 2 s).");
		for (int r = 0; r < COL_LOST_MAX; r++)
			prog_text_printf(t, "weir_records_lost_total{reason=\"%s\"} %llu\n",
					col_lost_name(r), (unsigned long long)cnt_load(&o->lost[r]));
		prog_prom_one(t, "weir_output_cut_lines_total", "counter",
		    "Lines a failed write cut that could not be taken back (not a regular file).",
		    cnt_load(&o->cut_lines));
		prog_prom_one(t, "weir_output_reopens_total", "counter", "Output reopens (SIGHUP).",
		    cnt_load(&o->reopens));
		prog_prom_one(t, "weir_output_queue_bytes", "gauge",
		    "Bytes of batches waiting for the writer thread.", cnt_load(&o->queued_bytes));
		prog_prom_one(t, "weir_output_queue_waits_total", "counter",
		    "Times a worker waited for the writer thread (its queue was full).",
		    cnt_load(&o->queue_waits));
	}
	prog_prom_head(t, "weir_template_file_saves_total", "counter", "Saves of --template-file, by result.");
	prog_text_printf(t, "weir_template_file_saves_total{result=\"ok\"} %llu\n",
			(unsigned long long)cnt_load(&sh->tsave_ok));
	prog_text_printf(t, "weir_template_file_saves_total{result=\"error\"} %llu\n",
			(unsigned long long)cnt_load(&sh->tsave_err));
}

/* --enrich, per enrichment. */
static void render_enrich(const struct col_shared *sh, struct prog_text *t)
{
	const struct col_enr *e = sh->enr;
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "weir_enrich_lookups_total", "counter", "Records looked up (those that carry the key)." },
		{ "weir_enrich_misses_total", "counter", "Lookups no prefix covered." },
		{ "weir_enrich_reloads_total", "counter", "Tables swapped in by a reload (reload= or SIGHUP)." },
		{ "weir_enrich_reload_failures_total", "counter",
		  "Reloads that failed (unreadable or bad file); the loaded table stays." },
		{ "weir_enrich_entries", "gauge", "Prefixes (CSV) or search-tree nodes (MMDB) of the loaded table." },
		{ "weir_enrich_table_bytes", "gauge",
		  "Memory of the loaded table (CSV); file size plus the IPv4 table built from it (MMDB)." },
		{ "weir_enrich_loaded_time_seconds", "gauge", "When the loaded table was read (Unix time)." },
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		prog_prom_head(t, m[k].name, m[k].type, m[k].help);
		for (unsigned i = 0; i < e->n; i++) {
			const struct col_enr_slot *s = &e->slot[i];
			uint64_t v = 0;

			switch (k) {
			case 0:
			case 1:
				for (unsigned w = 0; w < sh->nw; w++)
					v += cnt_load(k == 0 ? &sh->w[w]->ec.lookups[i] : &sh->w[w]->ec.misses[i]);
				break;
			case 2: v = cnt_load(&s->reloads); break;
			case 3: v = cnt_load(&s->reload_failures); break;
			case 4: v = cnt_load(&s->entries); break;
			case 5: v = cnt_load(&s->bytes); break;
			default: v = cnt_load(&s->loaded_at); break;
			}
			/* Label values: the index (stable), the key and the
			 * file as given; a path needs escaping of \ and ". */
			prog_text_printf(t, "%s{enrichment=\"%u\",key=\"%s\",source=\"", m[k].name, i,
					enrich_key_name(s->spec.key));
			for (const char *c = s->spec.source; *c; c++) {
				if (*c == '\\' || *c == '"')
					prog_text_printf(t, "\\%c", *c);
				else if (*c == '\n')
					prog_text_printf(t, "\\n");
				else
					prog_text_printf(t, "%c", *c);
			}
			prog_text_printf(t, "\"} %llu\n", (unsigned long long)v);
		}
	}
}

/* The Kafka output, when it is on. */
static void render_kafka(struct col_kafka *k, struct prog_text *t)
{
	struct col_kafka_stats ks;

	col_kafka_stats(k, &ks);
	prog_prom_one(t, "weir_kafka_messages_produced_total", "counter",
	    "Messages (records) taken by the Kafka producer queue.", ks.produced);
	prog_prom_one(t, "weir_kafka_produced_bytes_total", "counter", "Payload bytes of those messages.",
	    ks.produced_bytes);
	prog_prom_one(t, "weir_kafka_messages_delivered_total", "counter",
	    "Messages the Kafka cluster acknowledged.", ks.delivered);
	prog_prom_one(t, "weir_kafka_delivery_errors_total", "counter",
	    "Messages that failed for good after being queued (timeout, broker error, purged at exit).",
	    ks.delivery_errors);
	prog_prom_head(t, "weir_kafka_produce_errors_total", "counter",
	     "Messages dropped before the queue, by kind: queue_full (no room within the wait), too_large, unknown_topic, other.");
	for (int i = 0; i < COL_KAFKA_PE_MAX; i++)
		prog_text_printf(t, "weir_kafka_produce_errors_total{kind=\"%s\"} %llu\n",
				col_kafka_perr_name(i), (unsigned long long)ks.produce_errors[i]);
	prog_prom_one(t, "weir_kafka_queue_full_waits_total", "counter",
	    "Messages that found the producer queue full and waited for room.", ks.queue_full_waits);
	prog_prom_one(t, "weir_kafka_client_errors_total", "counter",
	    "Errors librdkafka reported on the connection (it retries): brokers down, transport.",
	    ks.client_errors);
	prog_prom_one(t, "weir_kafka_queue_messages", "gauge",
	    "Messages and requests waiting in the producer (rd_kafka_outq_len).", ks.queue_messages);
}

int col_metrics_render(struct col_shared *sh, struct prog_text *t)
{
	struct col_sum s;

	sum_workers(sh, &s);
	render_input(sh, &s, t);
	if (sh->ntcp)
		render_tcp(&s, t);
	per_exporter(t, sh);
	render_templates(&s, t);
	render_output(sh, &s, t);
	if (col_out_kafka(sh->out))
		render_kafka(col_out_kafka(sh->out), t);
	if (sh->enr && sh->enr->n)
		render_enrich(sh, t);
	return t->err;
}

/* ---- the HTTP server: prog_http.h ---- */

struct col_metrics {
	struct prog_http *h;
};

static int render_cb(void *arg, struct prog_text *t)
{
	return col_metrics_render(arg, t);
}

struct col_metrics *col_metrics_start(struct col_shared *sh, const char *host, uint16_t port,
				      char *err, size_t errlen)
{
	struct col_metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->h = prog_http_start(host, port, render_cb, sh, err, errlen);
	if (!m->h) {
		free(m);
		return NULL;
	}
	return m;
}

uint16_t col_metrics_port(const struct col_metrics *m)
{
	return prog_http_port(m->h);
}

void col_metrics_stop(struct col_metrics *m)
{
	if (!m)
		return;
	prog_http_stop(m->h);
	free(m);
}
