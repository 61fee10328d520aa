/* bench/tcpsend - send IPFIX over one TCP connection to 127.0.0.1 PORT as
 * fast as it goes: 100,000 IPv4 flows (10 fields) in messages of at most
 * 1,400 bytes (the templates in the first), ROUNDS times over.
 * Usage: tcpsend PORT ROUNDS
 * Prints the records and bytes sent and the seconds the sending took on
 * stdout. With weir-collector --transport tcp on PORT, the collector's
 * side is read from its /metrics and /proc (docs/collector.md, TCP).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flow.h"
#include "ipfix.h"

#define NFLOWS	100000
#define MTU	1400

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void mkflows(struct flow *f)
{
	for (uint32_t i = 0; i < NFLOWS; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		weir_addr_v4u(&f[i].src_addr, 0x0a000000u + i);
		weir_addr_v4u(&f[i].dst_addr, 0xc0a80000u + i);
		f[i].bytes = 1000 + i;
		f[i].packets = 3;
		f[i].proto = 6;
		f[i].src_port = (uint16_t)(1024 + i);
		f[i].dst_port = 443;
		f[i].etype = 0x0800;
		f[i].time_flow_start_ns = 1700000000000000000ull + i * 1000ull;
		f[i].time_flow_end_ns = f[i].time_flow_start_ns + 1000000;
		f[i].has = FLOW_HAS_SRC_ADDR | FLOW_HAS_DST_ADDR | FLOW_HAS_BYTES |
			   FLOW_HAS_PACKETS | FLOW_HAS_PROTO | FLOW_HAS_SRC_PORT |
			   FLOW_HAS_DST_PORT | FLOW_HAS_ETYPE | FLOW_HAS_TIME_START |
			   FLOW_HAS_TIME_END;
	}
}

int main(int argc, char **argv)
{
	static struct flow fl[NFLOWS];
	static uint8_t s[NFLOWS * 96];
	struct ipfix_flow_enc_cfg cfg = { .domain = 1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct ipfix_flow_enc e;
	size_t n = 0, done = 0, used;
	int fd, rounds;
	double t0;

	if (argc != 3 || (rounds = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: tcpsend PORT ROUNDS\n");
		return 2;
	}
	mkflows(fl);
	if (ipfix_flow_enc_init(&e, &cfg))
		return 1;
	while (done < NFLOWS) {
		int len = ipfix_flow_enc_msg(&e, s + n, MTU, 1700000000u, fl + done, NFLOWS - done,
					     n == 0, &used);

		if (len <= 0 || n + (size_t)len > sizeof(s))
			return 1;
		n += (size_t)len;
		done += used;
	}
	ipfix_flow_enc_free(&e);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("tcpsend: connect");
		return 1;
	}
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		for (size_t off = 0; off < n;) {
			ssize_t k = send(fd, s + off, n - off, 0);

			if (k <= 0) {
				perror("tcpsend: send");
				return 1;
			}
			off += (size_t)k;
		}
	}
	printf("%d records, %zu bytes in %.3f s\n", rounds * NFLOWS, n * (size_t)rounds, now() - t0);
	close(fd);
	return 0;
}
