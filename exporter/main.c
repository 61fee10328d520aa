/* weir-exporter - meter traffic into flows and export them as IPFIX.
 * docs/exporter.md: interfaces metered live by eBPF programs on tc (-i,
 * live.c), or the packets of pcap files (--pcap, offline.c). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "live.h"
#include "offline.h"
#include "prog_cli.h"
#include "prog_log.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* The end of a run: the summary, and what went wrong in one word each;
 * the exit status. */
static int report(const struct exp_cfg *c, const struct off_sum *s)
{
	char line[1024];
	int st = PROG_EXIT_OK;

	off_summary(s, line, sizeof(line));
	prog_log(PROG_LOG_INFO, "%s%s", s->stopped ? "stopped: " : "", line);
	if (s->files_failed || s->read_errors) {
		prog_log(PROG_LOG_ERROR, "%u of %u capture files could not be read whole",
			 s->files_failed + s->read_errors, c->npcaps);
		st = PROG_EXIT_FAIL;
	}
	if (s->xp_failed) {
		prog_log(PROG_LOG_ERROR, "the export was not all sent: %llu records lost, %llu "
			 "send errors", (unsigned long long)s->xp.records_lost,
			 (unsigned long long)s->xp.send_errors);
		st = PROG_EXIT_FAIL;
	}
	if (s->meter.evicted)
		prog_log(PROG_LOG_WARN, "%llu flows ended early (flowEndReason 5, lack of "
			 "resources): more than --max-flows %u at once",
			 (unsigned long long)s->meter.evicted, c->max_flows);
	if (s->meter.refused_flows)
		prog_log(PROG_LOG_WARN, "%llu flows (%llu packets) refused: the table was full "
			 "(--max-flows %u)", (unsigned long long)s->meter.refused_flows,
			 (unsigned long long)s->meter.refused_packets, c->max_flows);
	return st;
}

/* The end of a live run. */
static int live_report(const struct exp_cfg *c, const struct live_sum *s)
{
	char line[1024];
	int st = PROG_EXIT_OK;

	live_summary(s, line, sizeof(line));
	prog_log(PROG_LOG_INFO, "%s%s", s->stopped ? "stopped: " : "", line);
	if (s->xp_failed) {
		prog_log(PROG_LOG_ERROR, "the export was not all sent: %llu records lost, %llu "
			 "send errors", (unsigned long long)s->xp.records_lost,
			 (unsigned long long)s->xp.send_errors);
		st = PROG_EXIT_FAIL;
	}
	if (s->wtc[WTC_ST_SPILL_LOST])
		prog_log(PROG_LOG_WARN, "%llu packets were not metered: the kernel's map was full "
			 "(--max-flows %u) and its spill ring too",
			 (unsigned long long)s->wtc[WTC_ST_SPILL_LOST], c->max_flows);
	if (s->meter.evicted)
		prog_log(PROG_LOG_WARN, "%llu flows ended early (flowEndReason 5, lack of "
			 "resources): more than --max-flows %u at once",
			 (unsigned long long)s->meter.evicted, c->max_flows);
	return st;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct exp_cfg cfg;
	struct off_sum sum;
	struct live_sum lsum;
	char err[512];

	prog_log_init("weir-exporter");
	switch (exp_cli_parse(argc, argv, &cfg, stdout, err, sizeof(err))) {
	case EXP_CLI_RUN:
		break;
	case EXP_CLI_DONE:
		return fflush(stdout) ? PROG_EXIT_FAIL : PROG_EXIT_OK;
	case EXP_CLI_USAGE:
		return prog_cli_error(err);
	}
	if (cfg.npcaps && (cfg.interface_set || cfg.promiscuous))
		prog_log(PROG_LOG_WARN, "%s: for the live path; ignored with --pcap",
			 cfg.interface_set ? "-i" : "--promiscuous");

	/* The first SIGINT/SIGTERM stops cleanly (the flows are flushed and
	 * the export closed); SA_RESETHAND lets a second one kill. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe or socket is a write error */

	if (!cfg.npcaps) {
		if (live_run(&cfg, &stop_requested, &lsum, err, sizeof(err))) {
			prog_log(PROG_LOG_ERROR, "%s", err);
			return PROG_EXIT_FAIL;
		}
		return live_report(&cfg, &lsum);
	}
	if (off_run(&cfg, &stop_requested, &sum, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "%s", err);
		return PROG_EXIT_FAIL;
	}
	return report(&cfg, &sum);
}
