/* bench/udpsend - send the messages of a file (each a 2-byte big-endian
 * length and the message) as UDP datagrams to HOST PORT, paced at PPS
 * datagrams per second (0 = as fast as sendmmsg goes), in batches.
 * Usage: udpsend [-l SECONDS] [-q RECORDS] FILE HOST PORT PPS
 *   -l SECONDS  send the file over and over for this long (the first
 *               message, which carries the template, too)
 *   -q RECORDS  rewrite each IPFIX message's sequence number as the count
 *               of data records sent before it, RECORDS a message, so that
 *               a looped file stays a gap-free stream
 * Prints the datagrams sent and the seconds the sending took (file reading
 * excluded) on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
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

/* Read the whole file into *buf; 0 or -1 (said on stderr). */
static int read_file(const char *path, uint8_t **buf, size_t *size)
{
	struct stat st;
	FILE *fp = fopen(path, "rb");

	if (!fp || fstat(fileno(fp), &st) < 0) {
		perror(path);
		return -1;
	}
	*size = (size_t)st.st_size;
	*buf = malloc(*size ? *size : 1);
	if (!*buf || fread(*buf, 1, *size, fp) != *size) {
		perror(path);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* Up to BATCH messages from buf at *off into mm/iov; the count. With recs,
 * an IPFIX message's sequence number becomes (sent + its index) * recs. */
static int fill_batch(uint8_t *buf, size_t size, size_t *off, long sent, unsigned recs,
		      struct mmsghdr *mm, struct iovec *iov)
{
	int n = 0;

	memset(mm, 0, BATCH * sizeof(*mm));
	while (n < BATCH && *off + 2 <= size) {
		size_t len = (size_t)buf[*off] << 8 | buf[*off + 1];
		uint8_t *m = buf + *off + 2;

		if (*off + 2 + len > size) {
			*off = size;
			break;
		}
		if (recs && len >= 16 && m[0] == 0 && m[1] == 10) {
			uint32_t seq = (uint32_t)((uint64_t)(sent + n) * recs);

			m[8] = (uint8_t)(seq >> 24);
			m[9] = (uint8_t)(seq >> 16);
			m[10] = (uint8_t)(seq >> 8);
			m[11] = (uint8_t)seq;
		}
		iov[n].iov_base = m;
		iov[n].iov_len = len;
		mm[n].msg_hdr.msg_iov = &iov[n];
		mm[n].msg_hdr.msg_iovlen = 1;
		*off += 2 + len;
		n++;
	}
	return n;
}

/* Wait until sent datagrams are due at pps since t0. Sleep off most of a
 * long wait, spin the rest: a sender spinning all the time takes a core
 * the receiver needs. */
static void pace(double t0, long sent, double pps)
{
	double due = t0 + sent / pps, ahead = due - now();

	if (ahead > 0.0005) {
		struct timespec ts = { 0, (long)((ahead - 0.0003) * 1e9) };

		nanosleep(&ts, NULL);
	}
	while (now() < due)
		;
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
	int fd, opt;
	double loop_s = 0;
	unsigned recs = 0;

	while ((opt = getopt(argc, argv, "l:q:")) != -1) {
		if (opt == 'l')
			loop_s = atof(optarg);
		else if (opt == 'q')
			recs = (unsigned)atoi(optarg);
		else
			return 2;
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 5) {
		fprintf(stderr, "usage: udpsend [-l SECONDS] [-q RECORDS] FILE HOST PORT PPS\n");
		return 2;
	}
	pps = atof(argv[4]);
	if (read_file(argv[1], &buf, &size))
		return 1;
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
	for (;;) {
		int n, r;

		if (off + 2 > size) {
			if (loop_s <= 0 || now() - t0 >= loop_s)
				break;
			off = 0;
		}
		n = fill_batch(buf, size, &off, sent, recs, mm, iov);
		if (!n)
			continue;
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
		if (pps > 0)
			pace(t0, sent, pps);
	}
	printf("%ld %.6f\n", sent, now() - t0);
	freeaddrinfo(ai);
	free(buf);
	return 0;
}
