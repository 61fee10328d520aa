/* prog_http.c - see prog_http.h. */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "prog_http.h"

/* The bounded buffer of buf.h, with the sticky error the renderers
 * check once at the end. */
void prog_text_printf(struct prog_text *t, const char *fmt, ...)
{
	struct dbuf b = { .p = t->p, .len = t->len, .cap = t->cap, .max = PROG_TEXT_MAX };
	va_list ap;
	int err;

	if (t->err)
		return;
	va_start(ap, fmt);
	err = dbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	t->p = b.p;
	t->len = b.len;
	t->cap = b.cap;
	t->err = err;
}

void prog_text_free(struct prog_text *t)
{
	free(t->p);
	memset(t, 0, sizeof(*t));
}

void prog_prom_head(struct prog_text *t, const char *name, const char *type, const char *help)
{
	prog_text_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prog_prom_one(struct prog_text *t, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	prog_prom_head(t, name, type, help);
	prog_text_printf(t, "%s %llu\n", name, (unsigned long long)v);
}

/* ---- the HTTP server ---- */

struct prog_http {
	struct MHD_Daemon *d;
	prog_http_render_fn render;
	void *arg;
	uint16_t port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct prog_http *m = cls;
	struct prog_text t = { 0 };

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9,
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/healthz") == 0)
		return reply(c, MHD_HTTP_OK, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics\n", 24,
			     MHD_RESPMEM_PERSISTENT);
	if (m->render(m->arg, &t) || !t.p) {
		prog_text_free(&t);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			     "metrics did not fit\n", 20, MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", t.p, t.len,
		     MHD_RESPMEM_MUST_FREE);
}

/* Our own listening socket, for an error message with the reason in it. */
static int listen_on(const char *host, uint16_t port, uint16_t *bound, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ps[8];
	int fd = -1, one = 1, e = 0, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", port);
	r = getaddrinfo(host, ps, &hints, &res);
	if (r) {
		snprintf(err, errlen, "--metrics-host %s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot serve metrics on %s:%u: %s", host, port, strerror(e));
		return -1;
	}
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		*bound = port;
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
			if (ss.ss_family == AF_INET)
				*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			else if (ss.ss_family == AF_INET6)
				*bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	return fd;
}

struct prog_http *prog_http_start(const char *host, uint16_t port, prog_http_render_fn render,
				  void *arg, char *err, size_t errlen)
{
	struct prog_http *m = calloc(1, sizeof(*m));
	int fd;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->render = render;
	m->arg = arg;
	fd = listen_on(host, port, &m->port, err, errlen);
	if (fd < 0) {
		free(m);
		return NULL;
	}
	/* MHD closes the listening socket in MHD_stop_daemon(). */
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, m,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_END);
	if (!m->d) {
		snprintf(err, errlen, "cannot start the metrics server on %s:%u", host, port);
		close(fd);
		free(m);
		return NULL;
	}
	return m;
}

uint16_t prog_http_port(const struct prog_http *m)
{
	return m->port;
}

void prog_http_stop(struct prog_http *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	free(m);
}
