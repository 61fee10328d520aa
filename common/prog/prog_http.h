/* prog_http.h - what the programs' /metrics endpoints share: a bounded
 * text buffer, the Prometheus text exposition format's HELP/TYPE lines
 * (version 0.0.4), and the HTTP server (libmicrohttpd, its own thread)
 * that serves GET /metrics (the program's render callback), /healthz, 404
 * for anything else and 405 for other methods. weir-collector and
 * weir-exporter use it (docs/collector.md, docs/exporter.md: metrics).
 */
#ifndef PROG_HTTP_H
#define PROG_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define PROG_TEXT_MAX	(16u << 20)	/* bound on one page of metrics */

/* A growing text buffer; err is set (and text stops growing) past
 * PROG_TEXT_MAX or when memory runs out. */
struct prog_text {
	char *p;
	size_t len, cap;
	int err;
};

void prog_text_printf(struct prog_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void prog_text_free(struct prog_text *t);

/* "# HELP name help" and "# TYPE name type". */
void prog_prom_head(struct prog_text *t, const char *name, const char *type, const char *help);
/* The two lines and one sample without labels. */
void prog_prom_one(struct prog_text *t, const char *name, const char *type, const char *help,
		   uint64_t v);

/* Render every metric into t (appending), called on the server's thread
 * for each GET /metrics; WEIR_OK or t->err. */
typedef int (*prog_http_render_fn)(void *arg, struct prog_text *t);

struct prog_http;

/* Serve on host:port (port 0: a port the kernel picks, prog_http_port()
 * tells which). NULL with a sentence in err (naming --metrics-host). */
struct prog_http *prog_http_start(const char *host, uint16_t port, prog_http_render_fn render,
				  void *arg, char *err, size_t errlen);
uint16_t prog_http_port(const struct prog_http *h);
void prog_http_stop(struct prog_http *h);	/* NULL is fine */

#endif
