/* prog_log.c - see prog_log.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prog_clock.h"
#include "prog_log.h"

/* Set once at start, before any thread exists; read-only afterwards. */
static enum prog_log_level prog_log_level = PROG_LOG_WARN;
static int prog_log_time;
static int prog_log_fd = STDERR_FILENO;
static const char *prog_log_name = "weir";

static const char *const prog_log_names[] = { "error", "warn", "info", "debug" };

int prog_log_init(const char *prog)
{
	const char *v = getenv("WEIR_LOG"), *t = getenv("WEIR_LOG_TIME");
	int ret = 0;

	if (prog)
		prog_log_name = prog;
	if (t && *t) {
		if (strcmp(t, "1") == 0 || strcmp(t, "0") == 0) {
			prog_log_time = t[0] == '1';
		} else {
			prog_log(PROG_LOG_WARN, "WEIR_LOG_TIME=%s is not 0 or 1; no times", t);
			ret = -1;
		}
	}
	if (!v || !*v)
		return ret;
	for (unsigned i = 0; i < sizeof(prog_log_names) / sizeof(prog_log_names[0]); i++) {
		if (strcmp(v, prog_log_names[i]) == 0) {
			prog_log_level = (enum prog_log_level)i;
			return ret;
		}
	}
	prog_log(PROG_LOG_WARN, "WEIR_LOG=%s is not error, warn, info or debug; using warn", v);
	return -1;
}

const char *prog_name(void)
{
	return prog_log_name;
}

void prog_log_set(enum prog_log_level level)
{
	prog_log_level = level;
}

void prog_log_set_time(int on)
{
	prog_log_time = on != 0;
}

void prog_log_set_fd(int fd)
{
	prog_log_fd = fd;
}

int prog_log_enabled(enum prog_log_level level)
{
	return level <= prog_log_level;
}

size_t prog_log_format(char *buf, size_t cap, enum prog_log_level level, uint64_t time_ns,
		       const char *fmt, va_list ap)
{
	size_t n = 0;
	int m;

	if (time_ns != UINT64_MAX) {
		time_t s = (time_t)(time_ns / 1000000000u);
		struct tm tm;

		gmtime_r(&s, &tm);
		n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
		m = snprintf(buf + n, cap - n, ".%03uZ ", (unsigned)(time_ns / 1000000u % 1000u));
		n += m > 0 ? (size_t)m : 0;
	}
	m = snprintf(buf + n, cap - n, "%s: %s: ", prog_log_name, prog_log_names[level]);
	n += m > 0 ? (size_t)m : 0;
	if (n > cap - 2)
		n = cap - 2;
	m = vsnprintf(buf + n, cap - n - 1, fmt, ap);
	n += m > 0 ? (size_t)m : 0;
	if (n > cap - 2)
		n = cap - 2;	/* cut: the newline still ends it */
	buf[n++] = '\n';
	buf[n] = 0;
	return n;
}

void prog_log(enum prog_log_level level, const char *fmt, ...)
{
	char line[PROG_LOG_LINE_MAX];
	va_list ap;
	size_t n;

	if (!prog_log_enabled(level))
		return;
	va_start(ap, fmt);
	n = prog_log_format(line, sizeof(line), level,
			    prog_log_time ? prog_now_real() : UINT64_MAX, fmt, ap);
	va_end(ap);
	/* One write per line, so lines of concurrent threads do not mix. */
	if (write(prog_log_fd, line, n) < 0)
		return;
}
