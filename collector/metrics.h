/* metrics.h - /metrics in the Prometheus text exposition format (version
 * 0.0.4) and /healthz, served by libmicrohttpd on its own thread.
 *
 * Every metric is named weir_*, counters end in _total, units are suffixes
 * (_bytes, _seconds); labels are protocol, worker, kind, reason, result and
 * exporter (bounded: COL_EXPORTER_LABELS addresses, then "other"). The list
 * is in docs/collector.md. The text buffer and the HTTP server are
 * common/prog/prog_http.h, shared with weir-exporter.
 */
#ifndef COL_METRICS_H
#define COL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "prog_http.h"
#include "worker.h"

/* Render every metric of sh into t (appending). WEIR_OK or t->err. */
int col_metrics_render(struct col_shared *sh, struct prog_text *t);

struct col_metrics;

/* Serve on host:port (port 0: a port the kernel picks, col_metrics_port()
 * tells which). NULL with a sentence in err. */
struct col_metrics *col_metrics_start(struct col_shared *sh, const char *host, uint16_t port,
				      char *err, size_t errlen);
uint16_t col_metrics_port(const struct col_metrics *m);
void col_metrics_stop(struct col_metrics *m);

#endif
