/* log.c - see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum glog_level glog_level = GLOG_WARN;

static const char *const glog_names[] = { "error", "warn", "info", "debug" };

int glog_init(void)
{
	const char *v = getenv("WEIR_LOG");

	if (!v || !*v)
		return 0;
	for (unsigned i = 0; i < sizeof(glog_names) / sizeof(glog_names[0]); i++) {
		if (strcmp(v, glog_names[i]) == 0) {
			glog_level = (enum glog_level)i;
			return 0;
		}
	}
	glog(GLOG_WARN, "WEIR_LOG=%s is not error, warn, info or debug; using warn", v);
	return -1;
}

void glog_set(enum glog_level level)
{
	glog_level = level;
}

int glog_enabled(enum glog_level level)
{
	return level <= glog_level;
}

void glog(enum glog_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!glog_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of concurrent writers do not mix. */
	fprintf(stderr, "weir-generator: %s: %s\n", glog_names[level], line);
}
