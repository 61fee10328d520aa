/* bench/udpsend - send the messages of a file (each a 2-byte big-endian
 * length and the message) as UDP datagrams to HOST PORT, paced at PPS
 * datagrams per second (0 = as fast as sendmmsg goes), in batches.
 * Usage: udpsend FILE HOST PORT PPS
 * Prints the datagrams sent and the seconds the sending took (file reading
 * excluded) on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	uint8_t *buf;
	size_t off = 0, size;
	double pps, t0;
	long sent = 0;
	struct stat st;
	FILE *fp;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: udpsend FILE HOST PORT PPS\n");
		return 2;
	}
	pps = atof(argv[4]);
	fp = fopen(argv[1], "rb");
	if (!fp || fstat(fileno(fp), &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	size = (size_t)st.st_size;
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, fp) != size) {
		perror(argv[1]);
		return 1;
	}
	fclose(fp);
	if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0) {
		fprintf(stderr, "udpsend: cannot resolve %s\n", argv[2]);
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udpsend: socket");
		return 1;
	}
	t0 = now();
	while (off + 2 <= size) {
		int n = 0, r;

		memset(mm, 0, sizeof(mm));
		while (n < BATCH && off + 2 <= size) {
			size_t len = (size_t)buf[off] << 8 | buf[off + 1];

			if (off + 2 + len > size)
				break;
			iov[n].iov_base = buf + off + 2;
			iov[n].iov_len = len;
			mm[n].msg_hdr.msg_iov = &iov[n];
			mm[n].msg_hdr.msg_iovlen = 1;
			off += 2 + len;
			n++;
		}
		if (!n)
			break;
		for (int done = 0; done < n; done += r) {
			r = sendmmsg(fd, mm + done, (unsigned)(n - done), 0);
			if (r < 0) {
				if (errno == EINTR || errno == ENOBUFS) {
					r = 0;
					continue;
				}
				perror("udpsend: sendmmsg");
				return 1;
			}
		}
		sent += n;
		if (pps > 0) {
			double due = t0 + sent / pps;

			while (now() < due)
				;
		}
	}
	printf("%ld %.6f\n", sent, now() - t0);
	freeaddrinfo(ai);
	free(buf);
	return 0;
}
