/* Helpers shared by the collector's unit tests (tests/unit/test_col_*.c): a
 * temp dir per test, files in it, time, free loopback ports, HTTP to the
 * metrics endpoint and metrics scraped from it, weir-generator and
 * weir-collector run from COL_TEST_BIN and reaped, NetFlow v5 datagrams.
 * All static inline, so that a test includes what it does not use without
 * -Wunused-function. Suites use them as
 *	TestSuite(col_x, .init = suite_init, .fini = suite_fini);
 * and skip with SKIP() rather than cr_skip_test(). */
#ifndef WEIR_TESTS_COLHELP_H
#define WEIR_TESTS_COLHELP_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prog_log.h"
#include "tmpdir.h"

/* The build folder with weir-collector and weir-generator: the Makefile
 * passes $(B) as COL_TEST_BUILD; WEIR_TEST_BIN, when set, replaces it at
 * run time (make tsan runs these tests against the programs built with
 * ThreadSanitizer, which Criterion's own runner cannot be built with). */
#ifndef COL_TEST_BUILD
#define COL_TEST_BUILD "build"
#endif

static inline const char *col_test_bin(void)
{
	const char *b = getenv("WEIR_TEST_BIN");

	return b && *b ? b : COL_TEST_BUILD;
}
#define COL_TEST_BIN col_test_bin()

/* The running test's temp dir, made by suite_init. */
static char tmpdir[128];

/* Children spawn() started and nobody reaped yet: a failed assertion
 * leaves them to suite_fini. */
#define KIDS_MAX 16
static pid_t kids[KIDS_MAX];

/* A suite's .init: a fresh $TMPDIR/test_<suite>.XXXXXX, the in-process
 * collector code logging errors only, and SIGPIPE ignored so that a peer
 * that closed its socket is an error return, not the test's death. */
static inline void suite_init(void)
{
	char name[96];

	snprintf(name, sizeof(name), "test_%s", criterion_current_suite->name);
	cr_assert_not_null(tmpdir_make(tmpdir, sizeof(tmpdir), name), "mkdtemp %s: %s", tmpdir,
			   strerror(errno));
	prog_log_set(PROG_LOG_ERROR);
	signal(SIGPIPE, SIG_IGN);
}

/* A suite's .fini: kill what spawn() left running, remove the temp dir. */
static inline void suite_fini(void)
{
	for (int i = 0; i < KIDS_MAX; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
	tmpdir_remove(tmpdir);
}

/* cr_skip_test(), which does not run the suite's fini: run it first. */
#define SKIP(...)					\
	do {						\
		suite_fini();				\
		cr_skip_test(__VA_ARGS__);		\
	} while (0)

/* name in the test's temp dir. The 16 buffers are used in turn, so that
 * several paths can be arguments of one call. */
static inline const char *path_of(const char *name)
{
	static char p[16][256];
	static int k;

	k = (k + 1) % 16;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
	return p[k];
}

/* The whole file, NUL-terminated, malloc'd; its length in *len unless len
 * is NULL. A missing file fails the test. */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(fp, "%s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = 0;
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return buf;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Milliseconds of CLOCK_MONOTONIC, for bounds on how long a call took. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The port a socket (IPv4 or IPv6) is bound to. */
static inline uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A port of 127.0.0.1 free for type (SOCK_DGRAM, SOCK_STREAM) a moment
 * ago: the kernel's pick for port 0. */
static inline uint16_t free_port(int type)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint16_t p;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	p = local_port(fd);
	close(fd);
	return p;
}

/* Send the raw request req to 127.0.0.1:port and read the answer, head and
 * body, into buf (NUL-terminated, cap - 1 bytes at most) until the server
 * closes; a read stalled 5 s ends it too. 0, or -1 when the connection or
 * the write failed. */
static inline int http_req(uint16_t port, const char *req, char *buf, size_t cap)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 5, 0 };
	size_t len = 0, rl = strlen(req);
	ssize_t n;

	cr_assert_geq(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, rl) != (ssize_t)rl) {
		close(fd);
		return -1;
	}
	while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
	return 0;
}

/* GET path (HTTP/1.0) from 127.0.0.1:port; as http_req. */
static inline int http_get(uint16_t port, const char *path, char *buf, size_t cap)
{
	char req[128];

	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	return http_req(port, req, buf, cap);
}

/* The value of series (name{labels}, exactly as rendered) on a page of the
 * Prometheus text format, with or without the HTTP head; -1 when no line
 * holds it. */
static inline long long metric(const char *page, const char *series)
{
	size_t n = strlen(series);

	for (const char *l = page; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, series, n) && l[n] == ' ')
			return strtoll(l + n + 1, NULL, 10);
	return -1;
}

/* GET /metrics from 127.0.0.1:port into page every 10 ms until series
 * reaches want or ms pass; its last value. page keeps the last scrape for
 * more metric() calls. */
static inline long long scrape_until(uint16_t port, char *page, size_t cap, const char *series,
				     long long want, unsigned ms)
{
	long long v = -1;

	for (unsigned t = 0; t < ms; t += 10) {
		cr_assert_eq(http_get(port, "/metrics", page, cap), 0, "GET /metrics from port %u", port);
		v = metric(page, series);
		if (v >= want)
			break;
		sleep_ms(10);
	}
	return v;
}

/* Start argv[0], a program in COL_TEST_BIN, with argv; stdin and stdout on
 * /dev/null, stderr into errf (NULL: /dev/null), env ("NAME=value", or
 * NULL) added to its environment. Remembered in kids until reaped. */
static inline pid_t spawn(char *const *argv, const char *errf, const char *env)
{
	char prog[256];
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/%s", COL_TEST_BIN, argv[0]);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(errf ? errf : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDWR);

		if (fd < 0 || nul < 0 || (env && putenv((char *)env) != 0))
			_exit(126);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(fd, 2);
		execv(prog, argv);
		_exit(127);
	}
	for (int i = 0; i < KIDS_MAX; i++) {
		if (!kids[i]) {
			kids[i] = pid;
			break;
		}
	}
	return pid;
}

/* pid was waited for: the fini must not kill its number again. */
static inline void reaped(pid_t pid)
{
	for (int i = 0; i < KIDS_MAX; i++)
		if (kids[i] == pid)
			kids[i] = 0;
}

/* Wait for pid to end; its wait status. */
static inline int wait_status(pid_t pid)
{
	int st;

	cr_assert_eq(waitpid(pid, &st, 0), pid);
	reaped(pid);
	return st;
}

/* Wait for pid at most ms; its wait status, or -1 after killing it. */
static inline int wait_for(pid_t pid, unsigned ms)
{
	int st;

	for (unsigned t = 0; t < ms; t += 10) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			reaped(pid);
			return st;
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	reaped(pid);
	return -1;
}

/* SIGTERM to pid, then its wait status. */
static inline int term_wait(pid_t pid)
{
	cr_assert_eq(kill(pid, SIGTERM), 0);
	return wait_status(pid);
}

/* Poll the collector pid's /healthz on 127.0.0.1:mport every 10 ms until
 * it answers ok: 1, or 0 after ms. page holds the last answer. A collector
 * that exits meanwhile fails the test at once, with its stderr errf. */
static inline int wait_up(pid_t pid, uint16_t mport, char *page, size_t cap, const char *errf,
			  unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 10) {
		int st;

		if (http_get(mport, "/healthz", page, cap) == 0 && strstr(page, "ok"))
			return 1;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			char *e = errf ? slurp(errf, NULL) : NULL;

			reaped(pid);
			cr_assert_fail("the collector exited (status %d): %s", st, e ? e : "");
		}
		sleep_ms(10);
	}
	return 0;
}

/* weir-generator with args, its ledger into ledger: to 127.0.0.1:port, or
 * into the capture file pcap when pcap is not NULL. Must exit 0. */
static inline void generate(uint16_t port, const char *pcap, const char *args, const char *ledger)
{
	char cmd[1024];

	if (pcap)
		snprintf(cmd, sizeof(cmd), "%s/weir-generator --pcap-out '%s' %s --ledger '%s' 2>/dev/null",
			 COL_TEST_BIN, pcap, args, ledger);
	else
		snprintf(cmd, sizeof(cmd), "%s/weir-generator -p %u %s --ledger '%s' 2>/dev/null",
			 COL_TEST_BIN, port, args, ledger);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A number of the ledger's "totals" object. */
static inline unsigned long long ledger_total(const char *ledger, const char *key)
{
	char *s = slurp(ledger, NULL), *t = strstr(s, "\"totals\""), want[64], *k;
	unsigned long long v;

	cr_assert_not_null(t);
	snprintf(want, sizeof(want), "\"%s\": ", key);
	k = strstr(t, want);
	cr_assert_not_null(k, "%s not in the ledger totals", key);
	v = strtoull(k + strlen(want), NULL, 10);
	free(s);
	return v;
}

/* A NetFlow v5 datagram of count records, all zero, into b (24 + 48 *
 * count bytes); its length. The header has unix_secs in 2023 and the
 * sequence seq. */
static inline size_t v5_dgram(uint8_t *b, unsigned count, uint32_t seq)
{
	size_t n = 24 + 48 * (size_t)count;

	memset(b, 0, n);
	b[1] = 5;
	b[3] = (uint8_t)count;
	b[8] = 0x65;
	b[16] = (uint8_t)(seq >> 24);
	b[17] = (uint8_t)(seq >> 16);
	b[18] = (uint8_t)(seq >> 8);
	b[19] = (uint8_t)seq;
	return n;
}

/* As v5_dgram, the records UDP flows of one packet of 64 bytes from
 * 10.0.0.<i> to 192.168.0.0. */
static inline size_t v5_flows(uint8_t *b, unsigned count, uint32_t seq)
{
	size_t n = v5_dgram(b, count, seq);

	for (unsigned i = 0; i < count; i++) {
		uint8_t *r = b + 24 + 48 * i;

		r[0] = 10;
		r[3] = (uint8_t)i;		/* srcaddr */
		r[4] = 192;
		r[5] = 168;			/* dstaddr */
		r[19] = 1;			/* dPkts */
		r[23] = 64;			/* dOctets */
		r[38] = 17;			/* prot */
	}
	return n;
}

#endif
