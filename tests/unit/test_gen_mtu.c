/* Issue 11, fault 8: -f records that do not fit the MTU are sent anyway, in
 * datagrams the IP layer fragments, with one warning that says how to avoid
 * it; only what no UDP datagram can carry is refused. Sends to loopback. */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prog_log.h"
#include "run.h"

static volatile sig_atomic_t no_stop;
static char logpath[64];
static int logfd = -1, saved_stderr = -1;

/* The log and stderr (where a refusal goes, as a usage error) into one
 * file that log_text() reads. */
static void log_to_file(void)
{
	snprintf(logpath, sizeof(logpath), "/tmp/test_gen_mtu.XXXXXX");
	logfd = mkstemp(logpath);
	cr_assert_geq(logfd, 0);
	prog_log_init("weir-generator");
	prog_log_set(PROG_LOG_WARN);
	prog_log_set_fd(logfd);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	cr_assert_geq(saved_stderr, 0);
	cr_assert_geq(dup2(logfd, STDERR_FILENO), 0);
}

static void log_done(void)
{
	prog_log_set_fd(STDERR_FILENO);
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(logfd);
	unlink(logpath);
}

/* What was logged since the last call. */
static char *log_text(void)
{
	static char buf[8192];
	ssize_t n = pread(logfd, buf, sizeof(buf) - 1, 0);

	cr_assert_geq(n, 0);
	buf[n] = 0;
	cr_assert_eq(ftruncate(logfd, 0), 0);
	cr_assert_eq(lseek(logfd, 0, SEEK_SET), 0);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* A UDP socket on 127.0.0.1, a port the kernel picked. */
static int udp_sink(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 4 << 20;

	cr_assert_geq(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct gen_cfg cfg_for(enum gen_proto p, uint16_t port, uint32_t f, uint64_t n)
{
	struct gen_cfg c;

	gen_cfg_defaults(&c);
	c.proto = p;
	c.port = port;
	c.rate = 5000;
	c.flows_per_packet = f;
	c.count = n;
	c.seed = 8;
	c.seeded = 1;
	c.quiet = 1;
	return c;
}

/* The reference command: weir-generator -H HOST -p 4739 -r 5000 -f 20. */
Test(gen_mtu, records_past_the_mtu_are_sent_with_one_warning, .init = log_to_file,
     .fini = log_done)
{
	static uint8_t buf[65536];
	uint16_t port;
	int fd = udp_sink(&port);
	unsigned got = 0, big = 0, maxlen = 0;
	struct gen_cfg c = cfg_for(GEN_IPFIX, port, 20, 50);
	char *text;

	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	text = log_text();
	cr_assert_eq(count(text, "IP-fragmented"), 1, "one warning: %s", text);
	cr_assert_not_null(strstr(text, "-f 20: ipfix datagrams of up to "), "%s", text);
	cr_assert_not_null(strstr(text, "to avoid it, lower -f to "), "%s", text);
	cr_assert_not_null(strstr(text, " or raise --mtu to "), "%s", text);
	/* The template datagram and the 50 data datagrams, all of them. */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (got == 51 || poll(&pfd, 1, 5000) != 1)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		cr_assert_gt(n, 16);
		cr_assert_eq(buf[0] << 8 | buf[1], 10, "IPFIX");
		cr_assert_eq((size_t)(buf[2] << 8 | buf[3]), (size_t)n, "message length");
		got++;
		big += n > 1472;
		maxlen = (unsigned)n > maxlen ? (unsigned)n : maxlen;
	}
	close(fd);
	cr_assert_eq(got, 51);
	cr_assert_gt(big, 0, "some datagrams are past the 1472-byte payload of a 1500 MTU (max %u)",
		     maxlen);
}

Test(gen_mtu, records_that_fit_warn_nothing, .init = log_to_file, .fini = log_done)
{
	uint16_t port;
	int fd = udp_sink(&port);
	struct gen_cfg c = cfg_for(GEN_IPFIX, port, 10, 5);

	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	cr_assert_str_eq(log_text(), "");
	c.flows_per_packet = 20;
	c.mtu = 9000;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	cr_assert_str_eq(log_text(), "", "20 records fit a 9000-byte MTU");
	close(fd);
}

/* Refused (exit 2) only what no datagram can carry. */
Test(gen_mtu, what_no_datagram_carries_is_refused, .init = log_to_file, .fini = log_done)
{
	uint16_t port;
	int fd = udp_sink(&port);
	struct gen_cfg c = cfg_for(GEN_IPFIX, port, 5000, 1);
	char *text;

	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_USAGE);
	text = log_text();
	/* A usage error, as a bad flag is: "weir-generator: ...; see --help". */
	cr_assert_not_null(strstr(text, "weir-generator: 5000 ipfix records do not fit one datagram "
				  "(at most "), "%s", text);
	cr_assert_not_null(strstr(text, "in the largest UDP datagram, 65507 bytes): lower -f; "
				  "see --help\n"), "%s", text);
	c = cfg_for(GEN_V5, port, 31, 1);
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_USAGE);
	text = log_text();
	cr_assert_str_eq(text, "weir-generator: 31 v5 records do not fit one datagram "
			 "(v5 carries at most 30): lower -f; see --help\n");
	/* 30 v5 records (1464 bytes) past a 1400-byte MTU: sent, fragmented. */
	c = cfg_for(GEN_V5, port, 30, 1);
	c.mtu = 1400;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	cr_assert_eq(count(log_text(), "IP-fragmented"), 1);
	close(fd);
}

/* --pcap-out: the same records, whole IP packets past the MTU (a capture
 * taken before fragmentation), and the warning says so. */
Test(gen_mtu, capture_holds_packets_past_the_mtu, .init = log_to_file, .fini = log_done)
{
	char path[96], perr[PCAP_ERRBUF_SIZE];
	struct gen_cfg c = cfg_for(GEN_IPFIX, 4739, 20, 20);
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned frames = 0, big = 0;
	pcap_t *p;
	char *text;

	snprintf(path, sizeof(path), "%s.pcap", logpath);
	c.pcap_out = path;
	cr_assert_eq(gen_run(&c, &no_stop), GEN_EXIT_OK);
	text = log_text();
	cr_assert_eq(count(text, "go into the capture as IP packets larger than the MTU"), 1, "%s",
		     text);
	p = pcap_open_offline(path, perr);
	cr_assert_not_null(p, "%s", perr);
	while (pcap_next_ex(p, &h, &data) == 1) {
		frames++;
		/* Ethernet, then IPv4 whose total length is bytes 2..3. */
		big += h->caplen > 14 + 4 && (data[16] << 8 | data[17]) > 1500;
	}
	pcap_close(p);
	unlink(path);
	cr_assert_eq(frames, 21, "the template packet and 20 data packets");
	cr_assert_gt(big, 0);
}
