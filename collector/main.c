/* weir-collector - receive IPFIX, NetFlow v9/v5 and sFlow v5 over UDP,
 * IPFIX over TCP (or from a pcap file), decode, and write JSON or CSV;
 * Prometheus metrics. docs/collector.md.
 *
 * Threads: the main thread owns the signals (blocked everywhere, taken with
 * sigtimedwait) and the periodic template save; one thread per UDP worker
 * receives and writes, and one more for the TCP input (tcp.h says why);
 * libmicrohttpd runs the metrics endpoint.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "flow_csv.h"
#include "ie.h"
#include "prog_cli.h"
#include "prog_log.h"
#include "metrics.h"
#include "out.h"
#include "pcapin.h"
#include "tcp.h"
#include "tsave.h"
#include "udp.h"
#include "worker.h"

enum { EXIT_STOPPED = 3 /* stopped before start: exit 0 */ };

struct app {
	struct col_cfg cfg;
	struct col_shared sh;
	struct col_out out;
	struct ie_registry *ies;
	struct col_metrics *metrics;
	struct col_enr enr;
	sigset_t sigs;
	uint64_t next_save_ns;
	int stopping;
};

static void on_hup(struct app *a)
{
	char err[512];

	col_enr_sighup(&a->enr);
	if (col_out_reopen(&a->out, err, sizeof(err)))
		prog_log(PROG_LOG_ERROR, "SIGHUP: %s; still writing to the old file", err);
	else
		prog_log(PROG_LOG_INFO, "SIGHUP: %s reopened", a->cfg.output ? a->cfg.output : "stdout");
}

/* Take the signals that arrived, waiting up to wait_ms. Returns 1 when
 * asked to stop. */
static int take_signals(struct app *a, long wait_ms)
{
	struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
	int sig;

	while ((sig = sigtimedwait(&a->sigs, NULL, &ts)) > 0) {
		if (sig == SIGHUP) {
			on_hup(a);
		} else {
			prog_log(PROG_LOG_INFO, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
			a->stopping = 1;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = 0;
	}
	return a->stopping;
}

/* -o FIFO waits for a reader: SIGTERM must still stop us. */
static int open_tick(void *arg)
{
	return take_signals(arg, COL_OUT_POLL_MS);
}

static void periodic_save(struct app *a, int running)
{
	uint64_t now = prog_now_mono();

	if (!a->cfg.template_file || now < a->next_save_ns)
		return;
	col_tsave_save(&a->sh, running);
	a->next_save_ns = now + COL_TSAVE_INTERVAL_S * 1000000000ull;
}

static int pcap_tick(void *arg)
{
	struct app *a = arg;

	periodic_save(a, 0);
	return take_signals(a, 0);
}

/* While the main thread waits for the output (a full queue in --pcap,
 * the writer at close): SIGTERM must still stop it. SIGHUP waits for the
 * main loop: its reopen would wait for the stalled output too. */
static int out_tick(void *arg)
{
	struct app *a = arg;
	struct timespec now = { 0, 0 };
	sigset_t stop;
	int sig;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sig = sigtimedwait(&stop, NULL, &now);
	if (sig > 0 && !a->stopping) {
		prog_log(PROG_LOG_INFO, "%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
		a->stopping = 1;
	}
	return a->stopping;
}

static int run_pcap(struct app *a)
{
	char err[512];

	if (col_pcap_run(a->sh.w[0], a->cfg.pcap, a->cfg.port_set ? a->cfg.port : 0, pcap_tick, a,
			 err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "%s", err);
		return PROG_EXIT_FAIL;
	}
	if (a->stopping)
		col_out_stopping(&a->out, prog_now_mono());
	return PROG_EXIT_OK;
}

static int run_live(struct app *a)
{
	struct col_shared *sh = &a->sh;
	unsigned started = 0;
	int ret = PROG_EXIT_OK;

	for (unsigned i = 0; i < sh->nw; i++) {
		void *(*body)(void *) = i < col_nudp(sh) ? col_udp_thread : col_tcp_thread;
		int r = pthread_create(&sh->w[i]->thr, NULL, body, sh->w[i]);

		if (r) {
			prog_log(PROG_LOG_ERROR, "cannot start worker %u: %s", i, strerror(r));
			ret = PROG_EXIT_FAIL;
			break;
		}
		sh->w[i]->started = 1;
		started++;
	}
	while (ret == PROG_EXIT_OK && !take_signals(a, 1000))
		periodic_save(a, 1);
	col_out_stopping(&a->out, prog_now_mono());
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < started; i++)
		pthread_join(sh->w[i]->thr, NULL);
	return ret;
}

/* After the output is closed: what was written is final. */
static void summary(const struct app *a)
{
	uint64_t dg = 0, rec = 0, out = a->out.lines, lost = 0, errs = 0, drops = 0;
	uint64_t msgs = 0, conns = 0;
	char tcp[96] = "";

	for (unsigned i = 0; i < a->sh.nw; i++) {
		const struct col_worker *w = a->sh.w[i];

		for (int p = 0; p < COL_P_MAX; p++) {
			dg += w->c.datagrams[p];
			rec += w->c.records[p];
		}
		drops += w->c.kernel_drops;
		msgs += w->c.tcp_messages;
		conns += w->c.tcp_accepted;
		for (int k = 1; k < WEIR_E_MAX; k++)
			errs += w->ctx.errors[k];
	}
	for (int r = 0; r < COL_LOST_MAX; r++)
		lost += a->out.lost[r];
	if (a->sh.ntcp)
		snprintf(tcp, sizeof(tcp), "%llu TCP messages on %llu connections, ",
			 (unsigned long long)msgs, (unsigned long long)conns);
	prog_log(PROG_LOG_INFO,
		"%llu datagrams, %s%llu records decoded, %llu written, %llu lost at the output, "
		"%llu decode errors, %llu kernel drops",
		(unsigned long long)dg, tcp, (unsigned long long)rec, (unsigned long long)out,
		(unsigned long long)lost, (unsigned long long)errs, (unsigned long long)drops);
}

/* One bound socket and its receive buffers per UDP worker; the TCP
 * input's listening socket. */
static int open_sockets(struct app *a)
{
	struct col_shared *sh = &a->sh;
	char err[512];

	if (sh->ntcp && col_tcp_open(sh->w[col_nudp(sh)], &a->cfg, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "%s", err);
		return PROG_EXIT_FAIL;
	}
	for (unsigned i = 0; i < col_nudp(sh); i++) {
		struct col_worker *w = sh->w[i];

		/* The first alone: the port must be free, not shared with
		 * another process. */
		w->fd = i ? col_udp_socket(&a->cfg, &w->c.rcvbuf, err, sizeof(err))
			  : col_udp_socket_first(&a->cfg, &w->c.rcvbuf, err, sizeof(err));
		if (w->fd < 0) {
			prog_log(PROG_LOG_ERROR, "%s", err);
			return PROG_EXIT_FAIL;
		}
		if (col_rx_alloc(w)) {
			prog_log(PROG_LOG_ERROR, "out of memory for worker %u", i);
			return PROG_EXIT_FAIL;
		}
	}
	/* The kernel reports twice what it reserves (socket(7)). */
	if (col_nudp(sh) && sh->w[0]->c.rcvbuf / 2 < a->cfg.rcvbuf)
		prog_log(PROG_LOG_WARN,
			"--rcvbuf %u: the kernel gave %llu bytes (raise net.core.rmem_max, or run as root)",
			a->cfg.rcvbuf, (unsigned long long)sh->w[0]->c.rcvbuf / 2);
	return PROG_EXIT_OK;
}

/* A flag whose value proved wrong once used: exit 2. */
static int usage_error(const char *flag, const char *err)
{
	char msg[600];

	snprintf(msg, sizeof(msg), "%s%s", flag, err);
	return prog_cli_error(msg);
}

/* What decoding needs before anything else: a writable template file
 * (checked now, not at exit) and the IE mapping. */
static int setup_decode(struct app *a)
{
	struct col_cfg *cfg = &a->cfg;
	char err[512];

	if (cfg->template_file && col_tsave_check(cfg->template_file, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "--template-file: %s", err);
		return PROG_EXIT_FAIL;
	}
	if (cfg->ie_mapping) {
		a->ies = ie_registry_new();
		if (!a->ies) {
			prog_log(PROG_LOG_ERROR, "out of memory");
			return PROG_EXIT_FAIL;
		}
		if (ie_load_csv(a->ies, cfg->ie_mapping, err, sizeof(err)))
			return usage_error("--ie-mapping: ", err);
	}
	return PROG_EXIT_OK;
}

/* The output: the CSV header (with the enrichment columns, so after
 * col_enr_init), then Kafka, or the file opened (waiting for a FIFO's
 * reader) and its writer thread. */
static int setup_output(struct app *a)
{
	static char header[FLOW_CSV_MAX + COL_ENRICH_FIELDS_MAX * (ENRICH_NAME_MAX + 1)];
	struct col_cfg *cfg = &a->cfg;
	size_t hlen = 0;
	char err[512];
	int r;

	if (cfg->ser == COL_S_CSV) {
		size_t k;

		hlen = flow_csv_header(header, sizeof(header));
		/* The enrichment columns go after the fixed ones, before the
		 * row's end. */
		k = hlen ? col_enr_csv_header(&a->enr, header + hlen - 1, sizeof(header) - hlen) : SIZE_MAX;
		if (k == SIZE_MAX) {
			prog_log(PROG_LOG_ERROR, "the CSV header does not fit %zu bytes", sizeof(header));
			return PROG_EXIT_FAIL;
		}
		hlen += k;
		header[hlen - 1] = '\n';
	}
	if (cfg->kafka.brokers) {
		r = col_out_open_kafka(&a->out, &cfg->kafka, err, sizeof(err));

		if (r == WEIR_E_INVALID)
			return usage_error("--kafka-opt: ", err);
		if (r) {
			prog_log(PROG_LOG_ERROR, "--kafka-brokers: %s", err);
			return PROG_EXIT_FAIL;
		}
	} else if ((r = col_out_open_wait(&a->out, cfg->output, hlen ? header : NULL, hlen, open_tick,
					  a, err, sizeof(err))) != WEIR_OK) {
		prog_log(r == WEIR_E_STOPPED ? PROG_LOG_INFO : PROG_LOG_ERROR, "-o: %s", err);
		return r == WEIR_E_STOPPED ? EXIT_STOPPED : PROG_EXIT_FAIL;
	} else if (cfg->ser != COL_S_NULL && col_out_start_writer(&a->out)) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return PROG_EXIT_FAIL;
	}
	return PROG_EXIT_OK;
}

/* The state the workers share, the workers, their queues handed to the
 * enrichment reloader, the saved templates, and the sockets. */
static int setup_workers(struct app *a)
{
	struct col_cfg *cfg = &a->cfg;
	struct col_shared *sh = &a->sh;
	char err[512];

	sh->cfg = cfg;
	sh->out = &a->out;
	sh->ies = a->ies;
	sh->start_time_ns = prog_now_real();
	pthread_mutex_init(&sh->labels.mu, NULL);
	/* Workers size their held-flow arrays by it (worker.c). */
	sh->enr = a->enr.n ? &a->enr : NULL;
	/* The UDP workers, then the TCP input's. */
	sh->ntcp = !cfg->pcap && (cfg->transport & COL_X_TCP);
	sh->nw = cfg->pcap ? 1 : (cfg->transport & COL_X_UDP ? cfg->workers : 0) + sh->ntcp;
	sh->w = calloc(sh->nw, sizeof(*sh->w));
	if (!sh->w) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return PROG_EXIT_FAIL;
	}
	for (unsigned i = 0; i < sh->nw; i++) {
		sh->w[i] = i < col_nudp(sh) ? col_worker_new(sh, i, err, sizeof(err))
					    : col_worker_new_tcp(sh, i, err, sizeof(err));
		if (!sh->w[i]) {
			prog_log(PROG_LOG_ERROR, "%s", err);
			return PROG_EXIT_FAIL;
		}
	}
	if (a->enr.n) {
		uint64_t *q[COL_MAX_WORKERS + 1];

		for (unsigned i = 0; i < sh->nw; i++)
			q[i] = &sh->w[i]->qs;
		if (col_enr_attach(&a->enr, q, sh->nw) || col_enr_start(&a->enr)) {
			prog_log(PROG_LOG_ERROR, "out of memory");
			return PROG_EXIT_FAIL;
		}
	}
	col_tsave_load(sh, prog_now_real());
	if (!cfg->pcap && open_sockets(a))
		return PROG_EXIT_FAIL;
	return PROG_EXIT_OK;
}

/* The metrics endpoint, then the start-up lines that say what runs. */
static int setup_metrics(struct app *a)
{
	struct col_cfg *cfg = &a->cfg;
	char err[512];

	if (cfg->metrics_port) {
		a->metrics = col_metrics_start(&a->sh, cfg->metrics_host, cfg->metrics_port, err,
					       sizeof(err));
		if (!a->metrics) {
			prog_log(PROG_LOG_ERROR, "%s", err);
			return PROG_EXIT_FAIL;
		}
	}
	if (cfg->pcap)
		prog_log(PROG_LOG_INFO, "decoding %s (%s)", cfg->pcap,
			cfg->type == COL_T_SFLOW ? "sflow" : "netflow");
	if (!cfg->pcap && (cfg->transport & COL_X_UDP))
		prog_log(PROG_LOG_INFO, "listening on UDP %s port %u (%s), %u workers, rcvbuf %llu",
			cfg->listen, cfg->port, cfg->type == COL_T_SFLOW ? "sflow" : "netflow",
			col_nudp(&a->sh), (unsigned long long)a->sh.w[0]->c.rcvbuf / 2);
	if (a->sh.ntcp)
		prog_log(PROG_LOG_INFO,
			"listening on TCP %s port %u (IPFIX), at most %u connections, message timeout %llu s",
			cfg->listen, col_tcp_port(a->sh.w[col_nudp(&a->sh)]), cfg->tcp_max_conn,
			(unsigned long long)cfg->tcp_timeout_s);
	if (a->metrics)
		prog_log(PROG_LOG_INFO, "metrics on http://%s:%u/metrics", cfg->metrics_host,
			col_metrics_port(a->metrics));
	return PROG_EXIT_OK;
}

/* Everything that can fail before receiving starts, in order: the
 * output's CSV header needs the enrichment's columns, the workers the
 * output, the metrics the workers. */
static int setup(struct app *a)
{
	char err[512];
	int r;

	if ((r = setup_decode(a)) != PROG_EXIT_OK)
		return r;
	if (a->cfg.nenrich && col_enr_init(&a->enr, a->cfg.enrich, a->cfg.nenrich, err, sizeof(err)))
		return usage_error("", err);
	if ((r = setup_output(a)) != PROG_EXIT_OK)
		return r;
	if ((r = setup_workers(a)) != PROG_EXIT_OK)
		return r;
	return setup_metrics(a);
}

static void teardown(struct app *a, int ran)
{
	col_metrics_stop(a->metrics);
	col_enr_stop(&a->enr);
	if (a->sh.out)
		col_out_close(&a->out);
	if (ran)
		summary(a);
	for (unsigned i = 0; a->sh.w && i < a->sh.nw; i++) {
		struct col_worker *w = a->sh.w[i];

		if (!w)
			continue;
		if (w->fd >= 0)
			close(w->fd);
		col_rx_free(w->rx);
		col_tcp_free(w->tcp);
		col_worker_free(w);
	}
	free(a->sh.w);
	ie_registry_free(a->ies);
	col_enr_free(&a->enr);
	col_cfg_free(&a->cfg);
}

int main(int argc, char **argv)
{
	static struct app a;
	char err[512];
	int ret, ran;

	prog_log_init("weir-collector");
	switch (col_cli_parse(argc, argv, &a.cfg, stdout, err, sizeof(err))) {
	case COL_CLI_RUN:
		break;
	case COL_CLI_DONE:
		col_cfg_free(&a.cfg);
		return fflush(stdout) ? PROG_EXIT_FAIL : PROG_EXIT_OK;
	case COL_CLI_USAGE:
		prog_cli_error(err);
		col_cfg_free(&a.cfg);
		return PROG_EXIT_USAGE;
	}
	/* Blocked in every thread (they inherit the mask); the main thread
	 * takes them with sigtimedwait. */
	sigemptyset(&a.sigs);
	sigaddset(&a.sigs, SIGINT);
	sigaddset(&a.sigs, SIGTERM);
	sigaddset(&a.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &a.sigs, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe is a write error, not death */

	ret = setup(&a);
	ran = ret == PROG_EXIT_OK;
	if (ran && !a.cfg.kafka.brokers)
		col_out_set_stop_poll(&a.out, out_tick, &a);
	if (ran) {
		a.next_save_ns = prog_now_mono() + COL_TSAVE_INTERVAL_S * 1000000000ull;
		ret = a.cfg.pcap ? run_pcap(&a) : run_live(&a);
		/* Templates not kept are a failure the exit status tells. */
		if (col_tsave_save(&a.sh, 0) && ret == PROG_EXIT_OK)
			ret = PROG_EXIT_FAIL;
	}
	teardown(&a, ran);
	return ret == EXIT_STOPPED ? PROG_EXIT_OK : ret;
}
