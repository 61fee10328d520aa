/* prog_log.h - the programs' log lines on stderr (weir-collector,
 * weir-generator, ...), filtered by WEIR_LOG.
 *
 * WEIR_LOG=error|warn|info|debug (default warn). A line is
 * "<program>: <level>: <text>\n", written with one write(2) so that lines of
 * several threads never mix; text past PROG_LOG_LINE_MAX bytes is cut.
 * WEIR_LOG_TIME=1 puts the UTC time in front ("2026-12-07T22:30:23.123Z ").
 * Data never goes here: it goes to stdout or an output file.
 *
 * prog_log_init() runs once at start, before any thread exists; the level,
 * name and descriptor are read-only afterwards (the tests may set them
 * before they start threads).
 */
#ifndef PROG_LOG_H
#define PROG_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define PROG_LOG_LINE_MAX	1024

enum prog_log_level {
	PROG_LOG_ERROR = 0,
	PROG_LOG_WARN = 1,
	PROG_LOG_INFO = 2,
	PROG_LOG_DEBUG = 3,
};

/* Name the program (a static string, kept) and read WEIR_LOG and
 * WEIR_LOG_TIME. Returns 0, or -1 when a value is not understood (the
 * default stays and a warning is logged). */
int prog_log_init(const char *prog);
/* The name given to prog_log_init() ("weir" before). */
const char *prog_name(void);
void prog_log_set(enum prog_log_level level);
void prog_log_set_time(int on);
/* Where the lines go (STDERR_FILENO by default). */
void prog_log_set_fd(int fd);
int prog_log_enabled(enum prog_log_level level);
void prog_log(enum prog_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The line prog_log() writes, into buf (cap >= 64): time_ns is the UTC
 * time to print, or UINT64_MAX for none. Returns its length, newline
 * included; the line is cut to fit cap. */
size_t prog_log_format(char *buf, size_t cap, enum prog_log_level level, uint64_t time_ns,
		       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
