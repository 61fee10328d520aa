/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Set once at start, before any thread exists; read-only afterwards. */
static enum col_log_level col_log_level = COL_LOG_WARN;

static const char *const col_log_names[] = { "error", "warn", "info", "debug" };

int col_log_init(void)
{
	const char *v = getenv("WEIR_LOG");

	if (!v || !*v)
		return 0;
	for (unsigned i = 0; i < sizeof(col_log_names) / sizeof(col_log_names[0]); i++) {
		if (strcmp(v, col_log_names[i]) == 0) {
			col_log_level = (enum col_log_level)i;
			return 0;
		}
	}
	col_log(COL_LOG_WARN, "WEIR_LOG=%s is not error, warn, info or debug; using warn", v);
	return -1;
}

void col_log_set(enum col_log_level level)
{
	col_log_level = level;
}

int col_log_enabled(enum col_log_level level)
{
	return level <= col_log_level;
}

void col_log(enum col_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n, m;

	if (!col_log_enabled(level))
		return;
	n = snprintf(line, sizeof(line), "weir-collector: %s: ", col_log_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so lines of concurrent threads do not mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
