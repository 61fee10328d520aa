/* bench/tmplflood - many exporters, many templates: for the collector's
 * memory benchmark (bench/run-collector memory).
 *
 * Usage: tmplflood HOST PORT EXPORTERS TEMPLATES [ROUNDS]
 *
 * Exporter i sends from 127.x.y.z (its own loopback address, set per
 * datagram with IP_PKTINFO) one IPFIX message per template: the template
 * (ids 256.., each a different field list of 8..27 fields) and one data
 * record, ROUNDS times (default 1). Every exporter has its own observation
 * domain and gap-free sequence numbers. Prints the datagrams sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wr.h"

/* Fields to draw template field lists from: IANA element id and length. */
static const uint16_t pool[][2] = {
	{ 1, 8 }, { 2, 8 }, { 4, 1 }, { 5, 1 }, { 6, 1 }, { 7, 2 }, { 8, 4 },
	{ 9, 1 }, { 10, 4 }, { 11, 2 }, { 12, 4 }, { 13, 1 }, { 14, 4 },
	{ 15, 4 }, { 16, 4 }, { 17, 4 }, { 18, 4 }, { 21, 4 }, { 22, 4 },
	{ 27, 16 }, { 28, 16 }, { 56, 6 }, { 58, 2 }, { 61, 1 }, { 80, 6 },
	{ 136, 1 }, { 152, 8 }, { 153, 8 },
};
#define POOL (sizeof(pool) / sizeof(pool[0]))

static size_t message(uint8_t *buf, size_t cap, uint32_t domain, uint32_t seq, uint16_t tid)
{
	unsigned nf = 8 + (tid - 256) % 20, first = (tid * 7u) % POOL;
	struct wr w;
	size_t set;

	wr_init(&w, buf, cap);
	wr_u16(&w, 10);
	wr_u16(&w, 0);
	wr_u32(&w, 1700000000);
	wr_u32(&w, seq);
	wr_u32(&w, domain);
	set = wr_reserve(&w, 4);
	wr_u16(&w, tid);
	wr_u16(&w, (uint16_t)nf);
	for (unsigned i = 0; i < nf; i++) {
		wr_u16(&w, pool[(first + i) % POOL][0]);
		wr_u16(&w, pool[(first + i) % POOL][1]);
	}
	wr_put_u16(&w, set, 2);
	wr_put_u16(&w, set + 2, (uint16_t)(w.off - set));
	set = wr_reserve(&w, 4);
	for (unsigned i = 0; i < nf; i++)
		for (unsigned k = 0; k < pool[(first + i) % POOL][1]; k++)
			wr_u8(&w, (uint8_t)(i + k + 1));
	wr_put_u16(&w, set, tid);
	wr_put_u16(&w, set + 2, (uint16_t)(w.off - set));
	wr_put_u16(&w, 2, (uint16_t)w.off);
	return w.err ? 0 : w.off;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned nexp, ntpl, rounds;
	uint8_t buf[1500];
	long sent = 0;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: tmplflood HOST PORT EXPORTERS TEMPLATES [ROUNDS]\n");
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "tmplflood: %s: not an IPv4 address\n", argv[1]);
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	nexp = (unsigned)atoi(argv[3]);
	ntpl = (unsigned)atoi(argv[4]);
	rounds = argc > 5 ? (unsigned)atoi(argv[5]) : 1;
	if (!nexp || nexp > 1u << 22 || !ntpl || ntpl > 1000) {
		fprintf(stderr, "tmplflood: 1..4194304 exporters, 1..1000 templates\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned e = 0; e < nexp; e++) {
			/* 127.1.0.1 upwards: every 127/8 address is local. */
			uint32_t src = 0x7f010001u + e;
			char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];

			for (unsigned t = 0; t < ntpl; t++) {
				uint16_t tid = (uint16_t)(256 + t);
				size_t len = message(buf, sizeof(buf), e + 1, r * ntpl + t, tid);
				struct iovec iov = { buf, len };
				struct msghdr mh = {
					.msg_name = &dst, .msg_namelen = sizeof(dst),
					.msg_iov = &iov, .msg_iovlen = 1,
					.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
				};
				struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
				struct in_pktinfo pi;

				memset(cbuf, 0, sizeof(cbuf));
				memset(&pi, 0, sizeof(pi));
				pi.ipi_spec_dst.s_addr = htonl(src);
				c->cmsg_level = IPPROTO_IP;
				c->cmsg_type = IP_PKTINFO;
				c->cmsg_len = CMSG_LEN(sizeof(pi));
				memcpy(CMSG_DATA(c), &pi, sizeof(pi));
				while (sendmsg(fd, &mh, 0) < 0) {
					if (errno != ENOBUFS && errno != EAGAIN) {
						perror("sendmsg");
						return 1;
					}
				}
				sent++;
				/* Pace gently so the measure is memory, not loss:
				 * a pause every 64 datagrams. */
				if (sent % 64 == 0) {
					struct timespec ts = { 0, 200000 };

					nanosleep(&ts, NULL);
				}
			}
		}
	}
	printf("%ld\n", sent);
	close(fd);
	return 0;
}
