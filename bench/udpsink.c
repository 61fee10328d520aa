/* bench/udpsink - a UDP receiver for the sending benchmarks.
 *
 * Usage: udpsink hold  HOST PORT
 *        udpsink drain HOST PORT [IDLE_SECONDS]
 *
 * Binds HOST:PORT and prints "ready" on stdout once bound.
 *
 * hold: never reads while the senders run, so a sender pays its own costs
 * only (the kernel drops what overflows the receive buffer and counts it).
 * On SIGINT or SIGTERM it reads what is queued and prints
 *   "hold received R dropped D total T"
 * where D is the socket's drop count (the drops column of /proc/net/udp or
 * udp6, found by the socket's inode) and T = R + D is every datagram that
 * reached the socket.
 *
 * drain: reads everything with recvmmsg into a 64 MiB buffer (SO_RCVBUFFORCE
 * when allowed) and stops IDLE_SECONDS (default 2) after the last datagram,
 * or on SIGINT/SIGTERM. Prints
 *   "drain datagrams N bytes B first_ns F last_ns L rate R dropped D"
 * with F and L the CLOCK_MONOTONIC arrival times of the first and the last
 * datagram and R = (N - 1) / (L - F) datagrams per second.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BATCH	64
#define DGRAM	65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bind_udp(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_PASSIVE }, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		fprintf(stderr, "udpsink: cannot resolve %s\n", host);
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udpsink: bind");
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* The socket's drop count, sk_drops: the last column of its line in
 * /proc/net/udp (or udp6), the line whose inode is the socket's. (SO_RXQ_OVFL
 * would not do: it stamps each datagram with the count at its queueing, and
 * the datagrams a full queue holds were queued before the drops.) */
static unsigned long long drops_of(int fd)
{
	static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6" };
	unsigned long long drops = 0;
	struct stat st;
	char line[512];

	if (fstat(fd, &st) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long inode, d;

			/* sl local rem st tx:rx tr:when retr uid timeout inode ref ptr drops */
			if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %*s %*s %llu",
				   &inode, &d) == 2 && inode == (unsigned long long)st.st_ino)
				drops = d;
		}
		fclose(f);
	}
	return drops;
}

struct batch {
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	uint8_t *buf;
};

static int batch_recv(int fd, struct batch *b, int flags)
{
	for (int i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->buf + (size_t)i * DGRAM;
		b->iov[i].iov_len = DGRAM;
		memset(&b->mm[i].msg_hdr, 0, sizeof(b->mm[i].msg_hdr));
		b->mm[i].msg_hdr.msg_iov = &b->iov[i];
		b->mm[i].msg_hdr.msg_iovlen = 1;
	}
	return recvmmsg(fd, b->mm, BATCH, flags, NULL);
}

static int hold(int fd, struct batch *b)
{
	unsigned long long got = 0, drops;
	int n;

	while (!stop)
		pause();
	drops = drops_of(fd);
	while ((n = batch_recv(fd, b, MSG_DONTWAIT)) > 0)
		got += (unsigned long long)n;
	printf("hold received %llu dropped %llu total %llu\n", got, drops, got + drops);
	return 0;
}

static int drain(int fd, struct batch *b, double idle)
{
	uint64_t n_all = 0, bytes = 0, first = 0, last = 0;
	int big = 64 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n, r = poll(&p, 1, 100);

		if (r < 0 && errno != EINTR) {
			perror("udpsink: poll");
			return 1;
		}
		if (r <= 0) {
			if (n_all && (double)(now_ns() - last) / 1e9 >= idle)
				break;
			continue;
		}
		n = batch_recv(fd, b, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		last = now_ns();
		if (!n_all)
			first = last;
		n_all += (uint64_t)n;
		for (int i = 0; i < n; i++)
			bytes += b->mm[i].msg_len;
	}
	printf("drain datagrams %llu bytes %llu first_ns %llu last_ns %llu rate %.3f dropped %llu\n",
	       (unsigned long long)n_all, (unsigned long long)bytes, (unsigned long long)first,
	       (unsigned long long)last,
	       n_all > 1 && last > first ? (double)(n_all - 1) * 1e9 / (double)(last - first) : 0.0,
	       drops_of(fd));
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct batch *b;
	int fd, hold_mode;

	if (argc < 4 || argc > 5 || (strcmp(argv[1], "hold") && strcmp(argv[1], "drain"))) {
		fprintf(stderr, "usage: udpsink hold|drain HOST PORT [IDLE_SECONDS]\n");
		return 2;
	}
	hold_mode = !strcmp(argv[1], "hold");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fd = bind_udp(argv[2], argv[3]);
	if (fd < 0)
		return 1;
	b = calloc(1, sizeof(*b));
	if (b)
		b->buf = malloc((size_t)BATCH * DGRAM);
	if (!b || !b->buf) {
		fprintf(stderr, "udpsink: out of memory\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	return hold_mode ? hold(fd, b) : drain(fd, b, argc == 5 ? atof(argv[4]) : 2.0);
}
