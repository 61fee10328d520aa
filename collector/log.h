/* log.h - the collector's log lines on stderr, filtered by WEIR_LOG.
 *
 * WEIR_LOG=error|warn|info|debug (default warn). Lines go to stderr as
 * "weir-collector: <level>: <text>", each in one write so that lines of
 * several threads do not mix. Data never goes here: it goes to stdout or -o.
 */
#ifndef COL_LOG_H
#define COL_LOG_H

enum col_log_level {
	COL_LOG_ERROR = 0,
	COL_LOG_WARN = 1,
	COL_LOG_INFO = 2,
	COL_LOG_DEBUG = 3,
};

/* Read WEIR_LOG. Returns 0, or -1 when the value is not a level (the
 * default stays and a warning is logged). */
int col_log_init(void);
void col_log_set(enum col_log_level level);
int col_log_enabled(enum col_log_level level);
void col_log(enum col_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
