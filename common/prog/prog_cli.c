/* prog_cli.c - see prog_cli.h. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "prog_cli.h"
#include "prog_log.h"
#include "prog_version.h"

/* getopt_long's view of a table: each entry, its underscore spelling where
 * it has a dash, --help and --version. Lives for one prog_cli_parse(). */
struct prog_getopt {
	struct option lo[2 * PROG_CLI_MAX_OPTS + 3];
	char alt[PROG_CLI_MAX_OPTS][PROG_CLI_NAME_MAX];
	char shorts[3 * PROG_CLI_MAX_OPTS + 4];
};

static void prog_getopt_build(const struct prog_opt *opts, struct prog_getopt *g)
{
	size_t n = 0, s = 0;

	g->shorts[s++] = ':';		/* a missing value returns ':' */
	for (size_t i = 0; opts[i].name && i < PROG_CLI_MAX_OPTS; i++) {
		const struct prog_opt *o = &opts[i];
		int has = o->arg == PROG_ARG_NONE ? no_argument : required_argument;

		g->lo[n++] = (struct option){ o->name, has, NULL, o->key };
		if (strchr(o->name, '-') && strlen(o->name) < PROG_CLI_NAME_MAX) {
			char *a = g->alt[i];

			strcpy(a, o->name);
			for (char *p = a; (p = strchr(p, '-')); )
				*p = '_';
			g->lo[n++] = (struct option){ a, has, NULL, o->key };
		}
		if (o->key < 128 && isalnum(o->key)) {
			g->shorts[s++] = (char)o->key;
			if (has)
				g->shorts[s++] = ':';
		}
	}
	g->lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	g->lo[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	g->lo[n] = (struct option){ NULL, 0, NULL, 0 };
	memcpy(g->shorts + s, "hV", 3);
}

static const struct prog_opt *prog_opt_find(const struct prog_opt *opts, int key)
{
	for (size_t i = 0; opts[i].name && i < PROG_CLI_MAX_OPTS; i++)
		if (opts[i].key == key)
			return &opts[i];
	return NULL;
}

/* Name the option in a message that does not name it yet. */
static void prog_name_option(const char *given, int key, char *err, size_t errlen)
{
	char msg[512];

	if (err[0] == '-')
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	if (given)
		snprintf(err, errlen, "--%s: %s", given, msg);
	else
		snprintf(err, errlen, "-%c: %s", key, msg);
}

enum prog_cli_result prog_cli_parse(const struct prog_cli *cli, int argc, char **argv, void *cfg,
				    FILE *out, char *err, size_t errlen)
{
	struct prog_getopt g;
	int key, longindex = -1;

	cli->defaults(cfg);
	prog_getopt_build(cli->opts, &g);
	opterr = 0;
	optind = 0;		/* glibc: start over */
	while ((key = getopt_long(argc, argv, g.shorts, g.lo, &longindex)) != -1) {
		const struct prog_opt *o = prog_opt_find(cli->opts, key);
		const char *given = longindex >= 0 ? g.lo[longindex].name : NULL;

		longindex = -1;
		switch (key) {
		case 'h':
			cli->usage(out);
			return PROG_CLI_DONE;
		case 'V':
			fprintf(out, "%s %s\n", cli->prog, WEIR_VERSION);
			return PROG_CLI_DONE;
		case ':':
			snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
			return PROG_CLI_USAGE;
		case '?':
			if (optopt)
				snprintf(err, errlen, "unknown option -%c", optopt);
			else
				snprintf(err, errlen, "unknown or ambiguous option %s", argv[optind - 1]);
			return PROG_CLI_USAGE;
		}
		err[0] = 0;
		if (o && o->arg == PROG_ARG_NONEMPTY && !*optarg)
			snprintf(err, errlen, "an empty value is not allowed here");
		else if (!o || cli->set(cfg, key, optarg, err, errlen) == WEIR_OK)
			continue;
		if (!err[0])
			snprintf(err, errlen, "not understood");
		prog_name_option(given, key, err, errlen);
		return PROG_CLI_USAGE;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return PROG_CLI_USAGE;
	}
	if (cli->finish && cli->finish(cfg, err, errlen))
		return PROG_CLI_USAGE;
	return PROG_CLI_RUN;
}

void prog_cli_usage_tail(FILE *fp)
{
	fputs("  -h, --help                    this text\n"
	      "  -V, --version                 the version\n"
	      "\n"
	      "Every multi-word option is also accepted with underscores (--template_file).\n"
	      "Log lines on stderr: level from WEIR_LOG=error|warn|info|debug (default warn);\n"
	      "WEIR_LOG_TIME=1 puts the UTC time in front of each.\n", fp);
}

int prog_cli_error(const char *err)
{
	char line[PROG_LOG_LINE_MAX];
	int n = snprintf(line, sizeof(line), "%s: %s; see --help\n", prog_name(), err);

	if (n > 0 && (size_t)n < sizeof(line))
		fputs(line, stderr);
	else
		fprintf(stderr, "%s: %.200s...; see --help\n", prog_name(), err);
	return PROG_EXIT_USAGE;
}
