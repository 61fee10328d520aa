/* Unit tests of the command-line scaffolding (common/prog/prog_cli.c): the
 * --help text as the table of options, the generated underscore spellings,
 * --help and --version, the error messages and their style. The programs' own tables are tested in test_col_cli.c
 * and test_gen_parse.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "prog_cli.h"
#include "prog_log.h"
#include "prog_val.h"
#include "prog_version.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

struct t_cfg {
	uint64_t n;
	const char *file;
	const char *name;
	int flag, finished, defaulted;
};

/* The --help text is the table: -n takes N, --long-name-here a WORD, --the-file a
 * FILE (never ""), --flag nothing. */
static const char t_usage[] =
	"Usage: weir-test [OPTION]...\n"
	"A program of the tests.\n"
	"\n"
	"  -n, --number N                a number, 1..10\n"
	"      --long-name-here WORD     a word, not 'bad'; the explanation goes on\n"
	"                                --on a line of its own\n"
	"      --the-file FILE           a file\n"
	"      --flag                    a switch\n";

static int t_set(void *cfg, const char *o, const char *v, char *err, size_t errlen)
{
	struct t_cfg *c = cfg;

	if (prog_opt_is(o, "number"))
		return prog_parse_u64(v, 1, 10, &c->n, "--number", err, errlen);
	if (prog_opt_is(o, "long-name-here")) {
		if (strcmp(v, "bad") == 0) {
			snprintf(err, errlen, "'%s' is not good", v);
			return WEIR_E_INVALID;
		}
		c->name = v;
	} else if (prog_opt_is(o, "the-file")) {
		c->file = v;
	} else {
		cr_assert_str_eq(o, "flag");
		cr_assert_null(v);
		c->flag = 1;
	}
	return WEIR_OK;
}

static int t_finish(void *cfg, char *err, size_t errlen)
{
	struct t_cfg *c = cfg;

	c->finished = 1;
	if (c->flag && !c->file) {
		snprintf(err, errlen, "--flag needs --the-file");
		return WEIR_E_INVALID;
	}
	return WEIR_OK;
}

static const struct prog_cli t_cli = {
	.prog = "weir-test",
	.usage = t_usage,
	.usage_end = "Exit status: 0 always.\n",
	.set = t_set,
	.finish = t_finish,
};

static struct t_cfg cfg;
static char err[512];

static enum prog_cli_result parse(int argc, char **argv)
{
	FILE *out = fopen("/dev/null", "w");
	enum prog_cli_result r;

	cr_assert_not_null(out);
	err[0] = 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.defaulted = 1;
	r = prog_cli_parse(&t_cli, argc, argv, &cfg, out, err, sizeof(err));
	fclose(out);
	return r;
}

static void refuse(int argc, char **argv, const char *want)
{
	cr_assert_eq(parse(argc, argv), PROG_CLI_USAGE, "accepted: %s", argv[1]);
	cr_assert_str_eq(err, want);
}

Test(prog_cli, both_spellings_and_defaults)
{
	char *dash[] = { "weir-test", "--long-name-here", "x", "--the-file", "f", "--flag", "-n", "3", NULL };
	char *under[] = { "weir-test", "--long_name_here", "y", "--the_file", "g", "--number", "4", NULL };
	char *none[] = { "weir-test", NULL };

	cr_assert_eq(parse(ARGC(dash), dash), PROG_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.name, "x");
	cr_assert_str_eq(cfg.file, "f");
	cr_assert_eq(cfg.flag, 1);
	cr_assert_eq(cfg.n, 3);
	cr_assert(cfg.defaulted && cfg.finished, "the caller's defaults stay; finish ran");
	cr_assert_eq(parse(ARGC(under), under), PROG_CLI_RUN, "%s", err);
	cr_assert_str_eq(cfg.name, "y");
	cr_assert_str_eq(cfg.file, "g");
	cr_assert_eq(cfg.flag, 0);
	cr_assert_eq(cfg.n, 4);
	cr_assert_eq(parse(ARGC(none), none), PROG_CLI_RUN, "%s", err);
	cr_assert_null(cfg.name);
}

Test(prog_cli, errors_name_the_option_as_given)
{
	char *a[] = { "weir-test", "--long_name_here", "bad", NULL };
	char *b[] = { "weir-test", "--long-name-here", "bad", NULL };
	char *c[] = { "weir-test", "--the_file", "", NULL };
	char *d[] = { "weir-test", "-n", "11", NULL };
	char *e[] = { "weir-test", "--frob", NULL };
	char *f[] = { "weir-test", "-z", NULL };
	char *g[] = { "weir-test", "--number", NULL };
	char *h[] = { "weir-test", "stray", NULL };
	char *i[] = { "weir-test", "--flag", NULL };
	char *j[] = { "weir-test", "--flag=1", NULL };
	char *k[] = { "weir-test", "--on", NULL };

	refuse(ARGC(a), a, "--long_name_here: 'bad' is not good");
	refuse(ARGC(b), b, "--long-name-here: 'bad' is not good");
	refuse(ARGC(c), c, "--the_file: an empty value is not allowed here");
	refuse(ARGC(d), d, "--number: '11' is not a number in 1..10");
	refuse(ARGC(e), e, "unknown or ambiguous option --frob");
	refuse(ARGC(f), f, "unknown option -z");
	refuse(ARGC(g), g, "--number needs a value");
	refuse(ARGC(h), h, "unexpected argument 'stray'");
	refuse(ARGC(i), i, "--flag needs --the-file");
	cr_assert_eq(parse(ARGC(j), j), PROG_CLI_USAGE, "a switch takes no value");
	refuse(ARGC(k), k, "unknown or ambiguous option --on");
}

Test(prog_cli, help_and_version)
{
	char *h[] = { "weir-test", "--flag", "-h", NULL };
	char *v[] = { "weir-test", "--version", NULL };
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);

	cr_assert_eq(prog_cli_parse(&t_cli, ARGC(h), h, &cfg, out, err, sizeof(err)), PROG_CLI_DONE);
	fflush(out);
	cr_assert(strncmp(text, t_usage, strlen(t_usage)) == 0, "%s", text);
	cr_assert_not_null(strstr(text, "\nExit status: 0 always.\n"), "the program's end last");
	cr_assert_not_null(strstr(text, "--help"));
	cr_assert_not_null(strstr(text, "WEIR_LOG=error|warn|info|debug"));
	cr_assert_not_null(strstr(text, "WEIR_LOG_TIME=1"));
	/* the example is the program's own first multi-word option */
	cr_assert_not_null(strstr(text, "with underscores (--long_name_here).\n"), "%s", text);
	fclose(out);
	free(text);
	out = open_memstream(&text, &len);
	cr_assert_eq(prog_cli_parse(&t_cli, ARGC(v), v, &cfg, out, err, sizeof(err)), PROG_CLI_DONE);
	fclose(out);
	cr_assert_str_eq(text, "weir-test " WEIR_VERSION "\n");
	free(text);
}

/* One style for every program: "<program>: <what>; see --help", exit 2. */
Test(prog_cli, error_style)
{
	char path[] = "/tmp/test_prog_cli.XXXXXX", buf[256] = { 0 };
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);

	cr_assert_geq(fd, 0);
	prog_log_init("weir-test");
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	cr_assert_eq(prog_cli_error("--number: '11' is not a number in 1..10"), PROG_EXIT_USAGE);
	cr_assert_eq(PROG_EXIT_USAGE, 2);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	cr_assert_gt(pread(fd, buf, sizeof(buf) - 1, 0), 0);
	close(fd);
	unlink(path);
	cr_assert_str_eq(buf, "weir-test: --number: '11' is not a number in 1..10; see --help\n");
}
