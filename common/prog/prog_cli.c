/* prog_cli.c - see prog_cli.h. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "prog_cli.h"
#include "prog_log.h"
#include "prog_version.h"

/* getopt_long's view of the --help text: each option, its underscore
 * spelling where it has a dash, --help and --version. An option's getopt
 * value is 256 + its index (a short letter maps to the same index). Lives
 * for one prog_cli_parse(). */
struct prog_getopt {
	struct option lo[2 * PROG_CLI_MAX_OPTS + 3];
	char name[PROG_CLI_MAX_OPTS][PROG_CLI_NAME_MAX];
	char alt[PROG_CLI_MAX_OPTS][PROG_CLI_NAME_MAX];
	unsigned char nonempty[PROG_CLI_MAX_OPTS];
	int shortkey[PROG_CLI_MAX_OPTS];	/* its letter, or 0 */
	char shorts[3 * PROG_CLI_MAX_OPTS + 4];
	unsigned n;
};

/* One line of the help text: an option into g (1), no option (0), or a
 * table that does not fit (-1). */
static int prog_getopt_line(const char *l, size_t len, struct prog_getopt *g)
{
	static const char *const named[] = { "FILE", "HOST", "ADDR", "LIST" };
	size_t k = 0, arg;
	int letter = 0;

	if (len > 6 && memcmp(l, "  -", 3) == 0 && isalnum((unsigned char)l[3]) &&
	    memcmp(l + 4, ", --", 4) == 0) {
		letter = l[3];
		l += 8;
		len -= 8;
	} else if (len > 8 && memcmp(l, "      --", 8) == 0) {
		l += 8;
		len -= 8;
	} else {
		return 0;
	}
	while (k < len && (isalnum((unsigned char)l[k]) || l[k] == '-'))
		k++;
	if (k == 0 || k >= PROG_CLI_NAME_MAX || g->n == PROG_CLI_MAX_OPTS)
		return -1;
	memcpy(g->name[g->n], l, k);
	g->name[g->n][k] = 0;
	g->shortkey[g->n] = letter;
	/* One blank and a word: the value's name. */
	arg = k + 1 < len && l[k] == ' ' && l[k + 1] != ' ' ? k + 1 : 0;
	g->nonempty[g->n] = 0;
	for (size_t i = 0; arg && i < sizeof(named) / sizeof(named[0]); i++)
		if (strncmp(l + arg, named[i], 4) == 0 && (arg + 4 == len || l[arg + 4] == ' '))
			g->nonempty[g->n] = 1;
	g->lo[g->n] = (struct option){ g->name[g->n], arg ? required_argument : no_argument, NULL,
				       256 + (int)g->n };
	g->n++;
	return 1;
}

/* The table of the --help text into g: 0, or -1 when it does not fit. */
static int prog_getopt_build(const char *usage, struct prog_getopt *g)
{
	size_t n, s = 0, alts = 0;

	g->n = 0;
	g->shorts[s++] = ':';		/* a missing value returns ':' */
	for (const char *l = usage; *l; l += n + (l[n] == '\n')) {
		n = strcspn(l, "\n");
		if (prog_getopt_line(l, n, g) < 0)
			return -1;
	}
	for (unsigned i = 0; i < g->n; i++) {
		if (g->shortkey[i]) {
			g->shorts[s++] = (char)g->shortkey[i];
			if (g->lo[i].has_arg)
				g->shorts[s++] = ':';
		}
		if (!strchr(g->name[i], '-'))
			continue;
		strcpy(g->alt[i], g->name[i]);
		for (char *p = g->alt[i]; (p = strchr(p, '-')); )
			*p = '_';
		g->lo[g->n + alts++] = (struct option){ g->alt[i], g->lo[i].has_arg, NULL, g->lo[i].val };
	}
	g->lo[g->n + alts++] = (struct option){ "help", no_argument, NULL, 'h' };
	g->lo[g->n + alts++] = (struct option){ "version", no_argument, NULL, 'V' };
	g->lo[g->n + alts] = (struct option){ NULL, 0, NULL, 0 };
	memcpy(g->shorts + s, "hV", 3);
	return 0;
}

/* The index of getopt's answer key, or -1. */
static int prog_getopt_index(const struct prog_getopt *g, int key)
{
	if (key >= 256 && key < 256 + (int)g->n)
		return key - 256;
	for (unsigned i = 0; i < g->n; i++)
		if (g->shortkey[i] == key)
			return (int)i;
	return -1;
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
	struct prog_getopt g;		/* 10 kB */
	int key, i, longindex = -1;

	if (prog_getopt_build(cli->usage, &g)) {
		snprintf(err, errlen, "the option table of --help does not fit (a bug)");
		return PROG_CLI_USAGE;
	}
	opterr = 0;
	optind = 0;		/* glibc: start over */
	while ((key = getopt_long(argc, argv, g.shorts, g.lo, &longindex)) != -1) {
		const char *given = longindex >= 0 ? g.lo[longindex].name : NULL;

		longindex = -1;
		switch (key) {
		case 'h':
			prog_cli_usage(cli, out);
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
		i = prog_getopt_index(&g, key);
		if (i < 0)
			continue;	/* not getopt's answer to our table */
		err[0] = 0;
		if (g.nonempty[i] && !*optarg)
			snprintf(err, errlen, "an empty value is not allowed here");
		else if (cli->set(cfg, g.name[i], optarg, err, errlen) == WEIR_OK)
			continue;
		if (!err[0])
			snprintf(err, errlen, "not understood");
		prog_name_option(given, g.shortkey[i], err, errlen);
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

/* The program's first multi-word long option in its usage text, with
 * underscores ("--active_timeout"), into out; "" when it has none. */
static void underscore_example(const char *usage, char *out, size_t cap)
{
	out[0] = 0;
	for (const char *p = strstr(usage, "--"); p; p = strstr(p + 2, "--")) {
		size_t n = 2;

		while (p[n] && (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]) ||
				p[n] == '-'))
			n++;
		if (n >= cap || !memchr(p + 2, '-', n - 2) || p[n - 1] == '-')
			continue;
		memcpy(out, p, n);
		out[n] = 0;
		for (size_t i = 2; i < n; i++)
			if (out[i] == '-')
				out[i] = '_';
		return;
	}
}

void prog_cli_usage(const struct prog_cli *cli, FILE *fp)
{
	char ex[64];

	underscore_example(cli->usage, ex, sizeof(ex));
	fputs(cli->usage, fp);
	fputs("  -h, --help                    this text\n"
	      "  -V, --version                 the version\n"
	      "\n", fp);
	if (ex[0])
		fprintf(fp, "Every multi-word option is also accepted with underscores (%s).\n", ex);
	fputs("Log lines on stderr: level from WEIR_LOG=error|warn|info|debug (default warn);\n"
	      "WEIR_LOG_TIME=1 puts the UTC time in front of each.\n", fp);
	if (cli->usage_end)
		fputs(cli->usage_end, fp);
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
