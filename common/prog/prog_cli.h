/* prog_cli.h - the command-line scaffolding of the weir programs.
 *
 * A program describes its options in a table and sets one option at a time
 * in a handler; the driver runs getopt_long, adds -h/--help and
 * -V/--version, accepts every multi-word long option with underscores as
 * well as dashes (--template_file for --template-file: generated from the
 * table, not listed twice), refuses an empty value where the table says so,
 * names the option in every error, and leaves the exit code to the caller:
 * PROG_EXIT_USAGE (2) for bad usage, after prog_cli_error() printed
 * "<program>: <what>; see --help".
 */
#ifndef PROG_CLI_H
#define PROG_CLI_H

#include <stddef.h>
#include <stdio.h>

enum { PROG_EXIT_OK = 0, PROG_EXIT_FAIL = 1, PROG_EXIT_USAGE = 2 };

#define PROG_CLI_MAX_OPTS	64	/* entries of a table */
#define PROG_CLI_NAME_MAX	40	/* bytes of a long name */

enum prog_arg {
	PROG_ARG_NONE = 0,		/* a switch */
	PROG_ARG_VALUE = 1,		/* takes a value */
	PROG_ARG_NONEMPTY = 2,		/* takes a value that may not be "" (files, hosts) */
};

struct prog_opt {
	const char *name;		/* long name, words joined by '-'; NULL ends the table */
	int key;			/* the short option's letter, or a value >= 256 */
	enum prog_arg arg;
};

struct prog_cli {
	const char *prog;		/* "weir-collector" */
	const struct prog_opt *opts;
	void (*usage)(FILE *fp);	/* --help */
	void (*defaults)(void *cfg);	/* before the first option */
	/* One option's value (NULL for a switch) into cfg: WEIR_OK, or
	 * WEIR_E_INVALID with a sentence in err. A sentence that does not
	 * start with '-' gets the option's name in front. */
	int (*set)(void *cfg, int key, const char *val, char *err, size_t errlen);
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

/* Parse argv into cfg with cli's table: defaults, each option, finish.
 * --help and --version print to out. Restarts getopt, so it may run more
 * than once in a process (tests). */
enum prog_cli_result prog_cli_parse(const struct prog_cli *cli, int argc, char **argv, void *cfg,
				    FILE *out, char *err, size_t errlen);
/* The lines every program's --help ends with: the underscore spellings,
 * WEIR_LOG, WEIR_LOG_TIME. */
void prog_cli_usage_tail(FILE *fp);
/* Print "<program>: <err>; see --help" on stderr (the program of
 * prog_log_init()). Returns PROG_EXIT_USAGE. */
int prog_cli_error(const char *err);

#endif
