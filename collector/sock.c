/* sock.c - see sock.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sock.h"

int col_sock_listen(const struct col_cfg *cfg, int type, int *v4, struct sockaddr_storage *ss,
		    socklen_t *sl)
{
	int fd = -1;

	*v4 = cfg->listen_v4;
	memset(ss, 0, sizeof(*ss));
	if (!*v4) {
		fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0);
		/* No IPv6 in this kernel: "::" falls back to 0.0.0.0. */
		if (fd < 0 && errno == EAFNOSUPPORT && cfg->listen_any)
			*v4 = 1;
	}
	if (*v4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->port);
		if (!cfg->listen_any)
			memcpy(&s4->sin_addr, cfg->listen_addr.a + 12, 4);
		*sl = sizeof(*s4);
		fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->port);
		memcpy(&s6->sin6_addr, cfg->listen_addr.a, 16);
		*sl = sizeof(*s6);
	}
	return fd;
}

void col_sock_name(const struct col_cfg *cfg, int v4, char *buf, size_t len)
{
	char host[WEIR_ADDR_STRLEN];

	if (v4 && cfg->listen_any)
		snprintf(host, sizeof(host), "0.0.0.0");
	else
		weir_addr_str(&cfg->listen_addr, host, sizeof(host));
	snprintf(buf, len, "%s%s%s:%u", v4 ? "" : "[", host, v4 ? "" : "]", cfg->port);
}

void col_sock_bind_error(const struct col_cfg *cfg, int v4, const char *proto, int e, char *err,
			 size_t errlen)
{
	char name[80];

	col_sock_name(cfg, v4, name, sizeof(name));
	snprintf(err, errlen, "cannot listen on %s %s: %s%s", proto, name, strerror(e),
		 e == EADDRINUSE ? " (another program holds the port: is another "
				   "weir-collector running?)" : "");
}

void col_sock_exporter(const struct sockaddr_storage *ss, struct weir_exporter *e)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		weir_addr_v6(&e->addr, s6->sin6_addr.s6_addr);
		e->port = ntohs(s6->sin6_port);
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		weir_addr_v4(&e->addr, (const uint8_t *)&s4->sin_addr);
		e->port = ntohs(s4->sin_port);
	}
}
