/* Unit tests of the programs' logger (common/prog/prog_log.c): the line
 * format, WEIR_LOG and WEIR_LOG_TIME, the level filter, cut lines, and
 * whole lines from many threads at once. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prog_log.h"

static char path[64];
static int fd = -1;

/* The log goes to a fresh temporary file. */
static void to_file(void)
{
	snprintf(path, sizeof(path), "/tmp/test_prog_log.XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	prog_log_set_fd(fd);
}

static char *read_back(size_t *len)
{
	static char buf[1 << 23];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	cr_assert_geq(n, 0);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

static void done(void)
{
	close(fd);
	unlink(path);
	prog_log_set_fd(STDERR_FILENO);
	prog_log_set(PROG_LOG_WARN);
	prog_log_set_time(0);
	unsetenv("WEIR_LOG");
	unsetenv("WEIR_LOG_TIME");
}

static size_t fmt(char *buf, size_t cap, enum prog_log_level l, uint64_t t, const char *f, ...)
	__attribute__((format(printf, 5, 6)));

static size_t fmt(char *buf, size_t cap, enum prog_log_level l, uint64_t t, const char *f, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, f);
	n = prog_log_format(buf, cap, l, t, f, ap);
	va_end(ap);
	return n;
}

Test(prog_log, format, .fini = done)
{
	char line[PROG_LOG_LINE_MAX];
	size_t n;

	prog_log_init("weir-test");
	cr_assert_str_eq(prog_name(), "weir-test");
	n = fmt(line, sizeof(line), PROG_LOG_WARN, UINT64_MAX, "%d apples", 3);
	cr_assert_str_eq(line, "weir-test: warn: 3 apples\n");
	cr_assert_eq(n, strlen(line));
	/* 2026-12-07T22:30:23.123456789 UTC */
	n = fmt(line, sizeof(line), PROG_LOG_ERROR, 1796682623123456789ull, "x");
	cr_assert_str_eq(line, "2026-12-07T22:30:23.123Z weir-test: error: x\n");
	cr_assert_eq(n, strlen(line));
}

Test(prog_log, long_lines_are_cut_but_whole, .fini = done)
{
	char line[128], big[4000];
	size_t n;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	prog_log_init("weir-test");
	n = fmt(line, sizeof(line), PROG_LOG_INFO, UINT64_MAX, "%s", big);
	cr_assert_eq(n, sizeof(line) - 1);
	cr_assert_eq(line[n - 1], '\n');
	cr_assert_eq(line[n], 0);
	cr_assert(strncmp(line, "weir-test: info: aaa", 20) == 0, "%s", line);
}

Test(prog_log, level_from_env_filters, .fini = done)
{
	size_t len;
	char *text;

	to_file();
	setenv("WEIR_LOG", "info", 1);
	cr_assert_eq(prog_log_init("weir-test"), 0);
	cr_assert(prog_log_enabled(PROG_LOG_INFO));
	cr_assert(!prog_log_enabled(PROG_LOG_DEBUG));
	prog_log(PROG_LOG_DEBUG, "hidden");
	prog_log(PROG_LOG_INFO, "shown %s", "too");
	prog_log(PROG_LOG_ERROR, "bad");
	text = read_back(&len);
	cr_assert_str_eq(text, "weir-test: info: shown too\nweir-test: error: bad\n");
}

Test(prog_log, bad_env_values_warn_and_keep_defaults, .fini = done)
{
	size_t len;
	char *text;

	to_file();
	setenv("WEIR_LOG", "loud", 1);
	cr_assert_eq(prog_log_init("weir-test"), -1);
	cr_assert(prog_log_enabled(PROG_LOG_WARN));
	cr_assert(!prog_log_enabled(PROG_LOG_INFO));
	text = read_back(&len);
	cr_assert_not_null(strstr(text, "weir-test: warn: WEIR_LOG=loud is not error, warn, info or debug"),
			   "%s", text);
	unsetenv("WEIR_LOG");
	setenv("WEIR_LOG_TIME", "yes", 1);
	cr_assert_eq(prog_log_init("weir-test"), -1);
}

Test(prog_log, time_from_env, .fini = done)
{
	size_t len;
	char *text;

	to_file();
	setenv("WEIR_LOG_TIME", "1", 1);
	cr_assert_eq(prog_log_init("weir-test"), 0);
	prog_log(PROG_LOG_WARN, "stamped");
	text = read_back(&len);
	/* "YYYY-MM-DDThh:mm:ss.mmmZ " is 25 bytes. */
	cr_assert_gt(len, 25);
	cr_assert(text[4] == '-' && text[10] == 'T' && text[19] == '.' && text[23] == 'Z',
		  "%s", text);
	cr_assert_str_eq(text + 25, "weir-test: warn: stamped\n");
}

#define NTHR	8
#define NLINES	500

static void *spam(void *arg)
{
	char fill[600];

	memset(fill, 'a' + (int)(intptr_t)arg, sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = 0;
	for (int i = 0; i < NLINES; i++)
		prog_log(PROG_LOG_WARN, "t%d %05d %s", (int)(intptr_t)arg, i, fill);
	return NULL;
}

/* Lines of threads that log at once are never mixed: one write a line. */
Test(prog_log, threads_never_interleave, .fini = done)
{
	pthread_t t[NTHR];
	unsigned seen[NTHR] = { 0 };
	size_t len, lines = 0;
	char *text, *p;

	to_file();
	prog_log_init("weir-test");
	for (intptr_t i = 0; i < NTHR; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, spam, (void *)i), 0);
	for (int i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	text = read_back(&len);
	for (p = text; *p; lines++) {
		char *nl = strchr(p, '\n');
		int k, seq, off = 0;

		cr_assert_not_null(nl, "a line without its end");
		*nl = 0;
		cr_assert_eq(sscanf(p, "weir-test: warn: t%d %d %n", &k, &seq, &off), 2, "%.80s", p);
		cr_assert(k >= 0 && k < NTHR);
		cr_assert_eq(strspn(p + off, (char[]){ (char)('a' + k), 0 }), 599, "mixed line %.80s", p);
		cr_assert_eq(p[off + 599], 0);
		cr_assert_eq((unsigned)seq, seen[k], "thread %d's lines in order", k);
		seen[k]++;
		p = nl + 1;
	}
	cr_assert_eq(lines, NTHR * NLINES);
}
