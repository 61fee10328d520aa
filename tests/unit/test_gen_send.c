/* Unit tests of the generator's UDP sending (generator/send.c): one socket
 * and source port per exporter, and the fate of every datagram reported
 * one by one. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "send.h"

static int sink(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)sa, &sl), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void batch(struct mmsghdr *mm, struct iovec *iov, uint8_t *bufs, const size_t *len,
		  unsigned n)
{
	memset(mm, 0, n * sizeof(*mm));
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = bufs;
		iov[i].iov_len = len[i];
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
}

Test(gen_send, one_port_per_exporter)
{
	struct sockaddr_in sa;
	struct udp_out u;
	char err[256];
	int fd = sink(&sa);

	cr_assert_eq(udp_open(&u, (struct sockaddr *)&sa, sizeof(sa), 4, err, sizeof(err)),
		     WEIR_OK, "%s", err);
	for (int i = 0; i < 4; i++) {
		char b[64];

		cr_assert_str_eq(weir_addr_str(&u.local[i], b, sizeof(b)), "127.0.0.1");
		cr_assert_neq(u.port[i], 0);
		for (int k = 0; k < i; k++)
			cr_assert_neq(u.port[i], u.port[k]);
	}
	udp_close(&u);
	close(fd);
}

/* A datagram too big for UDP fails alone; the ones around it go out. */
Test(gen_send, failures_are_per_datagram)
{
	static uint8_t bufs[70000];
	const size_t len[5] = { 100, 200, 70000, 300, 400 };
	struct mmsghdr mm[5];
	struct iovec iov[5];
	struct sockaddr_in sa;
	struct udp_out u;
	int status[5], fd = sink(&sa), got = 0;
	char err[256];
	uint8_t rb[2048];

	cr_assert_eq(udp_open(&u, (struct sockaddr *)&sa, sizeof(sa), 1, err, sizeof(err)), WEIR_OK);
	batch(mm, iov, bufs, len, 5);
	cr_assert_eq(udp_send(&u, 0, mm, 5, status), 4);
	cr_assert_eq(status[0], 0);
	cr_assert_eq(status[1], 0);
	cr_assert_eq(status[2], EMSGSIZE);
	cr_assert_eq(status[3], 0);
	cr_assert_eq(status[4], 0);
	while (recv(fd, rb, sizeof(rb), 0) > 0)
		got++;
	cr_assert_eq(got, 4);
	udp_close(&u);
	close(fd);
}

/* Nothing listening: the ICMP port unreachable of one datagram fails the
 * next send on Linux, which is retried, so every datagram is sent. */
Test(gen_send, refused_is_retried)
{
	static uint8_t bufs[64];
	const size_t len[8] = { 10, 10, 10, 10, 10, 10, 10, 10 };
	struct mmsghdr mm[8];
	struct iovec iov[8];
	struct sockaddr_in sa;
	struct udp_out u;
	int status[8], fd = sink(&sa);
	char err[256];

	close(fd);			/* the port is now closed */
	cr_assert_eq(udp_open(&u, (struct sockaddr *)&sa, sizeof(sa), 1, err, sizeof(err)), WEIR_OK);
	for (int round = 0; round < 20; round++) {
		batch(mm, iov, bufs, len, 8);
		cr_assert_eq(udp_send(&u, 0, mm, 8, status), 8);
		for (int i = 0; i < 8; i++)
			cr_assert_eq(status[i], 0);
	}
	cr_assert_gt(u.refused, 0, "loopback answers with port unreachable");
	udp_close(&u);
}
