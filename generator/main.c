/* weir-generator - synthetic IPFIX / NetFlow v9 / v5 / sFlow load at a
 * controlled rate, with a ledger of what was sent. docs/generator.md. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"
#include "prog_cli.h"
#include "prog_log.h"
#include "run.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct gen_cfg cfg;
	char err[512];

	prog_log_init("weir-generator");
	switch (cli_parse(argc, argv, &cfg, stdout, err, sizeof(err))) {
	case CLI_RUN:
		break;
	case CLI_DONE:
		return fflush(stdout) ? GEN_EXIT_FAIL : GEN_EXIT_OK;
	case CLI_USAGE:
		return prog_cli_error(err);
	}
	cfg.live = isatty(STDERR_FILENO);

	/* The first SIGINT/SIGTERM stops cleanly (the ledger is written);
	 * SA_RESETHAND lets a second one kill. No SA_RESTART: a sleep or a
	 * blocked send returns at once. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed pipe is a write error, not death */
	/* Timer slack (50 us by default) would make every paced sleep late. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	return gen_run(&cfg, &stop_requested);
}
