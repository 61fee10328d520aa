/* sock.h - what the UDP and TCP inputs share about sockets: the listening
 * address of --listen and -p, its name in messages, and the exporter of a
 * sender's address.
 */
#ifndef COL_SOCK_H
#define COL_SOCK_H

#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"
#include "cli.h"

/* A socket of type (SOCK_DGRAM, SOCK_STREAM) for cfg's --listen: AF_INET6
 * for an IPv6 address or "::" (dual stack), AF_INET for an IPv4 one, or
 * for "::" where the kernel has no IPv6. *v4 says which; ss and *sl get
 * the address to bind to (port cfg->port). The fd, or -1 with errno set. */
int col_sock_listen(const struct col_cfg *cfg, int type, int *v4, struct sockaddr_storage *ss,
		    socklen_t *sl);

/* "0.0.0.0:2055", "[::]:2055", "127.0.0.1:4739": the listening address for
 * messages, into buf of len bytes. */
void col_sock_name(const struct col_cfg *cfg, int v4, char *buf, size_t len);

/* The sentence for a bind() to the listening address that failed with
 * errno e: "cannot listen on UDP 0.0.0.0:2055: Address already in use
 * (another program holds the port: ...)". proto is "UDP" or "TCP". */
void col_sock_bind_error(const struct col_cfg *cfg, int v4, const char *proto, int e, char *err,
			 size_t errlen);

/* The exporter of a sender's address: a dual-stack socket reports IPv4
 * senders as ::ffff:a.b.c.d, which is how weir_addr keeps IPv4 too. */
void col_sock_exporter(const struct sockaddr_storage *ss, struct weir_exporter *e);

#endif
