/* weir-recv - a minimal receiver for the quick-start demo: binds a UDP
 * port, decodes what arrives (any of the four protocols) through one
 * template cache and prints each flow in the common JSON format. It stands
 * in for weir-collector until that program exists, and is no collector:
 * one socket, one datagram a syscall, no metrics.
 *
 * Usage: weir-recv [-p PORT] [-n DATAGRAMS] [-t IDLE_SECONDS]
 * Stops after DATAGRAMS datagrams (0 = no limit) or IDLE_SECONDS without
 * one (default 5). Prints a summary on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "flow.h"
#include "flow_json.h"
#include "tmpl.h"

struct recv_state {
	unsigned long flows;
};

static int print_flow(const struct weir_record *rec, void *user)
{
	struct recv_state *st = user;
	char buf[FLOW_JSON_MAX];
	struct flow f;
	size_t n;

	if (flow_from_record(rec, &f) != WEIR_OK)
		return 0;	/* options records carry no flow */
	n = flow_json(&f, buf, sizeof(buf));
	if (n && fwrite(buf, 1, n, stdout) == n)
		st->flows++;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static uint8_t buf[65536];
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct recv_state st = { 0 };
	struct weir_ctx ctx;
	unsigned long max = 0, got = 0, bad = 0;
	int port = 4739, idle = 5, opt, fd, off = 0, r;

	while ((opt = getopt(argc, argv, "p:n:t:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'n': max = strtoul(optarg, NULL, 10); break;
		case 't': idle = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: weir-recv [-p PORT] [-n DATAGRAMS] [-t IDLE_SECONDS]\n");
			return 2;
		}
	}
	if (port < 1 || port > 65535 || idle < 1) {
		fprintf(stderr, "weir-recv: bad port or idle time\n");
		return 2;
	}
	/* Dual stack where the kernel has IPv6, IPv4 alone where it does not. */
	sa.sin6_port = htons((uint16_t)port);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) == 0)
		r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	else {
		struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

		if (fd >= 0)
			close(fd);
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&s4, sizeof(s4));
	}
	if (r < 0) {
		fprintf(stderr, "weir-recv: bind port %d: %s\n", port, strerror(errno));
		return 1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.cache = tmpl_cache_new(NULL, NULL);
	ctx.on_record = print_flow;
	ctx.user = &st;
	if (!ctx.cache)
		return 1;
	fprintf(stderr, "weir-recv: listening on UDP port %d\n", port);
	while (!max || got < max) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct weir_exporter e;
		ssize_t n;

		if (poll(&p, 1, idle * 1000) <= 0)
			break;
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		memset(&e, 0, sizeof(e));
		if (from.ss_family == AF_INET6) {
			const struct sockaddr_in6 *f6 = (const struct sockaddr_in6 *)&from;

			weir_addr_v6(&e.addr, f6->sin6_addr.s6_addr);
			e.port = ntohs(f6->sin6_port);
		} else {
			const struct sockaddr_in *f4 = (const struct sockaddr_in *)&from;

			weir_addr_v4(&e.addr, (const uint8_t *)&f4->sin_addr);
			e.port = ntohs(f4->sin_port);
		}
		got++;
		if (weir_decode(&ctx, &e, buf, (size_t)n, now_ns()) != WEIR_OK)
			bad++;
	}
	fflush(stdout);
	fprintf(stderr, "weir-recv: %lu datagrams, %lu flows printed, %lu with decode errors\n",
		got, st.flows, bad);
	tmpl_cache_free(ctx.cache);
	close(fd);
	return got == 0 || bad != 0;
}
