/* prog_cli.h - the command-line scaffolding of the weir programs.
 *
 * A program writes its --help text and sets one option at a time in a
 * handler. The --help text is also the table of options, so that the two
 * never disagree: every line that starts "  -p, --port PORT" or
 * "      --pcap FILE" (a short letter or six blanks, the long name, then
 * one blank and the value's name if it takes one) is an option; its
 * explanation follows after two or more blanks, continued on lines
 * indented past that. A value named FILE, HOST, ADDR or LIST may not be
 * empty ("" never names one).
 *
 * The driver runs getopt_long, adds -h/--help and -V/--version, accepts
 * every multi-word long option with underscores as well as dashes
 * (--template_file for --template-file: generated, never listed twice),
 * names the option as it was spelled in every error, and leaves the exit
 * code to the caller: PROG_EXIT_USAGE (2) for bad usage, after
 * prog_cli_error() printed "<program>: <what>; see --help".
 */
#ifndef PROG_CLI_H
#define PROG_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { PROG_EXIT_OK = 0, PROG_EXIT_FAIL = 1, PROG_EXIT_USAGE = 2 };

#define PROG_CLI_MAX_OPTS	64	/* options of a program */
#define PROG_CLI_NAME_MAX	40	/* bytes of a long name */

struct prog_cli {
	const char *prog;		/* "weir-collector" */
	const char *usage;		/* --help up to the options' end; the table */
	const char *usage_end;		/* --help after the shared lines, or NULL */
	/* One option into cfg: opt is its long name with dashes ("port" for
	 * -p and --port), val its value (NULL for a switch). WEIR_OK, or
	 * WEIR_E_INVALID with a sentence in err; a sentence that does not
	 * start with '-' gets the option's name in front. */
	int (*set)(void *cfg, const char *opt, const char *val, char *err, size_t errlen);
	/* After the last option (NULL: none): what no single option can
	 * check, and defaults that depend on other options. WEIR_OK, or
	 * WEIR_E_INVALID with a sentence in err. */
	int (*finish)(void *cfg, char *err, size_t errlen);
};

enum prog_cli_result {
	PROG_CLI_RUN = 0,		/* cfg is ready */
	PROG_CLI_DONE = 1,		/* --help or --version printed to out: exit 0 */
	PROG_CLI_USAGE = 2,		/* bad usage: err says why, exit 2 */
};

/* Parse argv into cfg (its defaults set by the caller): each option, then
 * finish. --help and
 * --version print to out. Restarts getopt, so it may run more than once in
 * a process (tests). */
enum prog_cli_result prog_cli_parse(const struct prog_cli *cli, int argc, char **argv, void *cfg,
				    FILE *out, char *err, size_t errlen);
/* The whole --help text: cli->usage, the lines every program shares (-h,
 * -V, the underscore spellings, WEIR_LOG, WEIR_LOG_TIME), cli->usage_end. */
void prog_cli_usage(const struct prog_cli *cli, FILE *fp);
/* Print "<program>: <err>; see --help" on stderr (the program of
 * prog_log_init()). Returns PROG_EXIT_USAGE. */
int prog_cli_error(const char *err);

/* For handlers: whether opt is the option name. */
static inline int prog_opt_is(const char *opt, const char *name)
{
	return strcmp(opt, name) == 0;
}

#endif
