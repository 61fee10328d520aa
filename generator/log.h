/* log.h - the generator's log lines on stderr, filtered by WEIR_LOG.
 *
 * WEIR_LOG=error|warn|info|debug (default warn). Lines go to stderr as
 * "weir-generator: <level>: <text>". The final summary and the live line are
 * not log lines: they are printed whatever the level.
 */
#ifndef GEN_LOG_H
#define GEN_LOG_H

enum glog_level {
	GLOG_ERROR = 0,
	GLOG_WARN = 1,
	GLOG_INFO = 2,
	GLOG_DEBUG = 3,
};

/* Read WEIR_LOG. Returns 0, or -1 when the value is not a level (the
 * default stays and a warning is logged). */
int glog_init(void);
void glog_set(enum glog_level level);
int glog_enabled(enum glog_level level);
void glog(enum glog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
