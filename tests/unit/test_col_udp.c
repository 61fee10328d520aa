/* Unit tests of the collector's UDP input (collector/udp.c) on loopback
 * sockets: recvmmsg batches, kernel drops from SO_RXQ_OVFL, the drain at
 * stop, SO_REUSEPORT workers sharing a port, dual-stack exporter keys; and
 * the weir-collector binary end to end (exit status, SIGTERM, /metrics). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "colhelp.h"
#include "err.h"
#include "out.h"
#include "tsave.h"
#include "udp.h"
#include "worker.h"

TestSuite(col_udp, .init = suite_init, .fini = suite_fini);

struct rig {
	struct col_cfg cfg;
	struct col_shared sh;
	struct col_out out;
	struct col_worker *w[2];
};

/* nw workers with sockets on listen:port (port 0: the first socket picks
 * one and the others join it). */
static void rig_start(struct rig *r, unsigned nw, const char *listen, uint32_t rcvbuf,
		      const char *outpath)
{
	char err[256];

	col_cfg_defaults(&r->cfg);
	cr_assert_eq(col_parse_listen(listen, &r->cfg.listen_addr, &r->cfg.listen_v4,
				      &r->cfg.listen_any), WEIR_OK);
	r->cfg.listen = listen;
	r->cfg.port = 0;
	r->cfg.rcvbuf = rcvbuf;
	memset(&r->sh, 0, sizeof(r->sh));
	pthread_mutex_init(&r->sh.labels.mu, NULL);
	r->sh.cfg = &r->cfg;
	if (outpath) {
		cr_assert_eq(col_out_open(&r->out, outpath, NULL, 0, err, sizeof(err)), WEIR_OK);
		r->sh.out = &r->out;
	}
	r->sh.nw = nw;
	r->sh.w = r->w;
	for (unsigned i = 0; i < nw; i++) {
		struct col_worker *w = col_worker_new(&r->sh, i, err, sizeof(err));

		cr_assert_not_null(w, "%s", err);
		r->w[i] = w;
		w->fd = col_udp_socket(&r->cfg, &w->c.rcvbuf, err, sizeof(err));
		cr_assert_geq(w->fd, 0, "%s", err);
		cr_assert_eq(col_rx_alloc(w), WEIR_OK);
		if (!r->cfg.port)
			r->cfg.port = local_port(w->fd);
	}
}

static void rig_stop(struct rig *r)
{
	for (unsigned i = 0; i < r->sh.nw; i++) {
		close(r->w[i]->fd);
		col_rx_free(r->w[i]->rx);
		col_worker_free(r->w[i]);
	}
	if (r->sh.out)
		col_out_close(&r->out);
}

/* A client socket connected to the rig. */
static int client(const struct rig *r, int v6)
{
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	if (v6) {
		struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(r->cfg.port),
					   .sin6_addr = IN6ADDR_LOOPBACK_INIT };

		cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(r->cfg.port) };

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	return fd;
}

static void send_v5(int fd, unsigned n, uint32_t seq0)
{
	static uint8_t dg[24 + 48 * 30];

	for (unsigned i = 0; i < n; i++) {
		size_t len = v5_dgram(dg, 30, seq0 + 30 * i);

		cr_assert_eq(send(fd, dg, len, 0), (ssize_t)len, "%s", strerror(errno));
	}
}

static uint64_t received(const struct rig *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->sh.nw; i++)
		n += cnt_load(&r->w[i]->c.datagrams[COL_P_NF5]);
	return n;
}

static void read_all(struct rig *r)
{
	for (unsigned i = 0; i < r->sh.nw; i++)
		while (col_udp_round(r->w[i], MSG_DONTWAIT) > 0)
			;
}

Test(col_udp, batches_and_records)
{
	struct rig r;
	int fd;

	rig_start(&r, 1, "127.0.0.1", 4 << 20, NULL);
	fd = client(&r, 0);
	send_v5(fd, 100, 0);
	cr_assert_eq(col_udp_round(r.w[0], MSG_DONTWAIT), COL_BATCH, "one recvmmsg() takes a whole batch");
	cr_assert_eq(received(&r), COL_BATCH);
	read_all(&r);
	cr_assert_eq(received(&r), 100);
	cr_assert_eq(r.w[0]->c.records_out, 3000);
	cr_assert_eq(r.w[0]->c.kernel_drops, 0);
	cr_assert_gt(r.w[0]->c.rcvbuf, 0);
	cr_assert_eq(col_udp_round(r.w[0], MSG_DONTWAIT), -1, "nothing left");
	close(fd);
	rig_stop(&r);
}

Test(col_udp, kernel_drops_from_rxq_ovfl)
{
	struct rig r;
	int fd;

	rig_start(&r, 1, "127.0.0.1", 1024, NULL);	/* the kernel's minimum */
	fd = client(&r, 0);
	send_v5(fd, 300, 0);
	read_all(&r);
	cr_assert_lt(received(&r), 300, "a small buffer overflowed");
	/* The kernel stamps its drop count on the datagrams queued after the
	 * drops: the next one tells. */
	send_v5(fd, 1, 0);
	read_all(&r);
	cr_assert_gt(r.w[0]->c.kernel_drops, 0);
	cr_assert_eq(received(&r) + r.w[0]->c.kernel_drops, 301,
		     "%llu received + %llu dropped", (unsigned long long)received(&r),
		     (unsigned long long)r.w[0]->c.kernel_drops);
	close(fd);
	rig_stop(&r);
}

Test(col_udp, stop_drains_the_socket)
{
	struct rig r;
	int fd;
	FILE *fp;
	char line[8192];
	size_t lines = 0;

	rig_start(&r, 1, "127.0.0.1", 4 << 20, path_of("drain.json"));
	fd = client(&r, 0);
	send_v5(fd, 150, 0);
	r.sh.stop = 1;		/* asked to stop before it read anything */
	col_udp_thread(r.w[0]);
	cr_assert_eq(received(&r), 150, "what was queued is read");
	cr_assert_eq(r.w[0]->buf.len, 0, "and flushed");
	close(fd);
	rig_stop(&r);
	fp = fopen(path_of("drain.json"), "r");
	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp))
		lines++;
	fclose(fp);
	cr_assert_eq(lines, 150 * 30);
}

Test(col_udp, reuseport_workers_threads_and_template_save)
{
	struct rig r;
	int fds[16];
	pthread_t t[2];

	rig_start(&r, 2, "127.0.0.1", 4 << 20, NULL);
	cr_assert_eq(local_port(r.w[1]->fd), r.cfg.port, "both sockets on one port");
	r.cfg.template_file = path_of("t.bin");
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, col_udp_thread, r.w[i]), 0);
	for (int i = 0; i < 16; i++) {
		fds[i] = client(&r, 0);
		send_v5(fds[i], 10, 0);
	}
	for (int i = 0; i < 200 && received(&r) < 160; i++)
		sleep_ms(10);
	cr_assert_eq(received(&r), 160);
	/* The running workers save their parts when asked; one file results. */
	cr_assert_eq(col_tsave_save(&r.sh, 1), WEIR_OK);
	cr_assert_eq(access(r.cfg.template_file, R_OK), 0);
	__atomic_store_n(&r.sh.stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* 16 sources (source ports) spread over the two sockets by the kernel. */
	cr_assert_eq(tmpl_cache_nsources(r.w[0]->ctx.cache) +
		     tmpl_cache_nsources(r.w[1]->ctx.cache), 16);
	cr_assert_eq(r.w[0]->c.records_out + r.w[1]->c.records_out, 160 * 30);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	rig_stop(&r);
}

Test(col_udp, dual_stack_exporters)
{
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	struct weir_addr v4, v6;
	struct rig r;
	int fd4, fd6;

	struct sockaddr_in6 lo = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };

	if (probe < 0 || bind(probe, (struct sockaddr *)&lo, sizeof(lo)) < 0)
		SKIP("no IPv6 loopback here");
	close(probe);
	rig_start(&r, 1, "::", 4 << 20, NULL);
	fd4 = client(&r, 0);
	fd6 = client(&r, 1);
	send_v5(fd4, 1, 0);
	send_v5(fd6, 1, 0);
	read_all(&r);
	cr_assert_eq(received(&r), 2);
	/* The exporters as the cache keys them (the metrics label them so). */
	cr_assert_eq(tmpl_cache_nsources(r.w[0]->ctx.cache), 2);
	weir_addr_v4u(&v4, 0x7f000001);
	cr_assert_eq(weir_addr_parse(&v6, "::1"), 0);
	cr_assert(weir_addr_eq(&tmpl_cache_source(r.w[0]->ctx.cache, 0)->exporter.addr, &v4),
		  "IPv4 sender keyed as IPv4");
	cr_assert(weir_addr_eq(&tmpl_cache_source(r.w[0]->ctx.cache, 1)->exporter.addr, &v6));
	close(fd4);
	close(fd6);
	rig_stop(&r);
}

Test(col_udp, port_in_use)
{
	struct col_cfg cfg;
	char err[256];
	uint64_t got;
	int a = socket(AF_INET, SOCK_DGRAM, 0), fd;
	struct sockaddr_in sa = { .sin_family = AF_INET };

	/* A socket without SO_REUSEPORT holds the port. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(a, (struct sockaddr *)&sa, sizeof(sa)), 0);
	col_cfg_defaults(&cfg);
	cr_assert_eq(col_parse_listen("127.0.0.1", &cfg.listen_addr, &cfg.listen_v4, &cfg.listen_any), 0);
	cfg.port = local_port(a);
	fd = col_udp_socket(&cfg, &got, err, sizeof(err));
	cr_assert_lt(fd, 0);
	cr_assert_not_null(strstr(err, "cannot listen on UDP 127.0.0.1:"), "%s", err);
	cr_assert_not_null(strstr(err, "in use"), "%s", err);
	close(a);
}

/* ---- the binary ---- */

static size_t file_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t n = 0;
	int c;

	cr_assert_not_null(fp, "%s", path);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

Test(col_udp, binary_end_to_end)
{
	static char page[1 << 16];
	uint16_t port = free_port(SOCK_DGRAM), mport = free_port(SOCK_STREAM);
	char ps[8], ms[8];
	const char *out = path_of("bin.json"), *errf = path_of("bin.err");
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", ps, "--metrics-port", ms, "-w", "2",
			 "-f", "common", "-o", (char *)out, NULL };
	int status;
	pid_t pid;

	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(ms, sizeof(ms), "%u", mport);
	pid = spawn(argv, errf, NULL);
	cr_assert(wait_up(pid, mport, page, sizeof(page), errf, 5000), "the collector did not come up");
	generate(port, NULL, "--protocol v9 -n 200 -r 20000 --exporters 4", path_of("bin-ledger.json"));
	scrape_until(mport, page, sizeof(page), "weir_records_total{protocol=\"netflow_v9\"}", 2000, 2000);
	cr_assert_eq(metric(page, "weir_records_total{protocol=\"netflow_v9\"}"), 2000);
	cr_assert_eq(metric(page, "weir_datagrams_total{protocol=\"netflow_v9\"}"), 204);
	cr_assert_eq(metric(page, "weir_sequence_gaps_total{exporter=\"127.0.0.1\"}"), 0);
	status = term_wait(pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_eq(file_lines(out), 2000, "every flow flushed before exit");
}

/* A full disk (RLIMIT_FSIZE, inherited by the collector, with SIGXFSZ
 * ignored: write() takes part of a batch, then fails with EFBIG):
 * weir_records_written_total counts the lines that reached the file, not
 * those formatted, and the rest are counted as lost. */
Test(col_udp, binary_full_disk_counts_what_was_written)
{
	static char page[1 << 16];
	uint16_t port = free_port(SOCK_DGRAM), mport = free_port(SOCK_STREAM);
	char ps[8], ms[8];
	const char *out = path_of("full.json"), *errf = path_of("full.err");
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", ps, "--metrics-port", ms,
			 "-f", "common", "-o", (char *)out, NULL };
	const char *lost = "weir_records_lost_total{reason=\"write_error\"}";
	struct rlimit rl;
	long long written = -1, gone = -1;
	pid_t pid;

	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(ms, sizeof(ms), "%u", mport);
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = 40000;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0, "%s", strerror(errno));
	pid = spawn(argv, errf, NULL);
	cr_assert(wait_up(pid, mport, page, sizeof(page), errf, 5000), "the collector did not come up");
	generate(port, NULL, "--protocol v9 -n 100 -r 20000", path_of("full-ledger.json"));
	scrape_until(mport, page, sizeof(page), "weir_records_total{protocol=\"netflow_v9\"}", 1000, 5000);
	cr_assert_eq(metric(page, "weir_records_total{protocol=\"netflow_v9\"}"), 1000);
	/* The batch goes out within 100 ms; wait until every line is
	 * accounted for, written or lost. */
	for (unsigned t = 0; t < 5000; t += 10) {
		cr_assert_eq(http_get(mport, "/metrics", page, sizeof(page)), 0);
		written = metric(page, "weir_records_written_total");
		gone = metric(page, lost);
		if (written >= 0 && gone >= 0 && written + gone >= 1000)
			break;
		sleep_ms(10);
	}
	cr_assert_eq((size_t)written, file_lines(out), "written %lld, the file has %zu lines",
		     written, file_lines(out));
	cr_assert_gt(gone, 0, "40,000 bytes cannot hold 1,000 flows");
	cr_assert_eq(written + gone, 1000, "written %lld + lost %lld", written, gone);
	term_wait(pid);
}

/* Wait up to ms for path to hold needle: 1, or 0. */
static int file_says(const char *path, const char *needle, unsigned ms)
{
	for (unsigned t = 0;; t += 10) {
		char *s = access(path, R_OK) == 0 ? slurp(path, NULL) : NULL;
		int found = s && strstr(s, needle);

		free(s);
		if (found)
			return 1;
		if (t >= ms)
			return 0;
		sleep_ms(10);
	}
}

/* -o a FIFO whose reader stops reading: SIGTERM must end the collector
 * within a bounded time, with the templates saved and what the FIFO did
 * not take counted; it used to wait for the writer's write() forever. */
Test(col_udp, binary_sigterm_with_a_stalled_fifo)
{
	static char page[1 << 16];
	uint16_t port = free_port(SOCK_DGRAM), mport = free_port(SOCK_STREAM);
	char ps[8], ms[8];
	const char *fifo = path_of("out.fifo"), *errf = path_of("stall.err"),
		   *tfile = path_of("stall.tpl");
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", ps, "--metrics-port", ms, "-w", "2",
			 "-o", (char *)fifo, "--template-file", (char *)tfile, NULL };
	uint64_t t0;
	int rd, st;
	pid_t pid;

	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(ms, sizeof(ms), "%u", mport);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
	/* A reader that never reads: the FIFO's 64 KiB fill, then nothing. */
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0, "%s", strerror(errno));
	pid = spawn(argv, errf, "WEIR_LOG=info");
	cr_assert(wait_up(pid, mport, page, sizeof(page), errf, 5000), "the collector did not come up");
	generate(port, NULL, "--protocol v9 -n 200 -f 15 -r 50000", path_of("stall-ledger.json"));
	scrape_until(mport, page, sizeof(page), "weir_records_total{protocol=\"netflow_v9\"}", 3000, 5000);
	cr_assert_eq(metric(page, "weir_records_total{protocol=\"netflow_v9\"}"), 3000);
	/* The writer is stuck once the FIFO holds what it can. */
	for (unsigned t = 0; t < 5000; t += 10) {
		cr_assert_eq(http_get(mport, "/metrics", page, sizeof(page)), 0);
		if (metric(page, "weir_output_writes_total") > 0 &&
		    metric(page, "weir_output_queue_bytes") > 0)
			break;
		sleep_ms(10);
	}
	cr_assert_gt(metric(page, "weir_output_queue_bytes"), 0, "the output is not stalled");
	t0 = now_ms();
	cr_assert_eq(kill(pid, SIGTERM), 0);
	st = wait_for(pid, 15000);
	cr_assert_neq(st, -1, "SIGTERM did not stop the collector within 15 s (killed)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert_lt(now_ms() - t0, 10000, "stopping took %llu ms",
		     (unsigned long long)(now_ms() - t0));
	cr_assert_eq(access(tfile, R_OK), 0, "the templates were not saved");
	cr_assert(file_says(errf, "lines not written", 0), "the loss is not reported: %s",
		  slurp(errf, NULL));
	cr_assert(file_says(errf, "lost at the output", 0), "%s", slurp(errf, NULL));
	close(rd);
}

/* --pcap into a FIFO whose reader stopped reading: the main thread, which
 * decodes and then closes the output, must still take SIGTERM and end. */
Test(col_udp, binary_pcap_sigterm_with_a_stalled_fifo)
{
	const char *fifo = path_of("pcap.fifo"), *errf = path_of("pcapstall.err"),
		   *pcap = path_of("stall.pcap");
	char *argv[] = { "weir-collector", "-t", "netflow", "--pcap", (char *)pcap, "-o",
			 (char *)fifo, NULL };
	uint64_t t0;
	int rd, st;
	pid_t pid;

	generate(0, pcap, "--protocol v9 -n 200 -f 15 --seed 5", path_of("pcapstall-ledger.json"));
	cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
	rd = open(fifo, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(rd, 0, "%s", strerror(errno));
	pid = spawn(argv, errf, "WEIR_LOG=info");
	cr_assert(file_says(errf, "decoding", 5000), "%s", slurp(errf, NULL));
	t0 = now_ms();
	cr_assert_eq(kill(pid, SIGTERM), 0);
	st = wait_for(pid, 15000);
	cr_assert_neq(st, -1, "SIGTERM did not stop the collector within 15 s (killed)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	cr_assert_lt(now_ms() - t0, 10000);
	cr_assert(file_says(errf, "lines not written", 0), "%s", slurp(errf, NULL));
	close(rd);
}

/* -o a FIFO nobody opened for reading: open() used to block, deaf to
 * SIGTERM. The collector says it waits, and SIGTERM stops it. */
Test(col_udp, binary_sigterm_while_a_fifo_waits_for_its_reader)
{
	uint16_t port = free_port(SOCK_DGRAM);
	char ps[8];
	const char *fifo = path_of("lonely.fifo"), *errf = path_of("lonely.err");
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", ps, "-o", (char *)fifo, NULL };
	int st;
	pid_t pid;

	snprintf(ps, sizeof(ps), "%u", port);
	cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
	pid = spawn(argv, errf, "WEIR_LOG=info");
	cr_assert(file_says(errf, "waiting for one", 5000), "no word of the wait: %s",
		  slurp(errf, NULL));
	cr_assert_eq(kill(pid, SIGTERM), 0);
	st = wait_for(pid, 5000);
	cr_assert_neq(st, -1, "SIGTERM did not stop the collector within 5 s (killed)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

/* A second weir-collector on the port of a running one must fail with a
 * clear error, not join its SO_REUSEPORT group and take part of the
 * traffic; the first keeps receiving everything. */
Test(col_udp, binary_second_collector_on_the_port_fails)
{
	static char page[1 << 16];
	uint16_t port = free_port(SOCK_DGRAM), mport = free_port(SOCK_STREAM),
		 mport2 = free_port(SOCK_STREAM);
	char ps[8], ms[8], ms2[8];
	const char *errf = path_of("first.err"), *errf2 = path_of("second.err");
	char *argv[] = { "weir-collector", "-t", "netflow", "-p", ps, "--metrics-port", ms, "-w", "2",
			 "-s", "null", NULL };
	char *argv2[] = { "weir-collector", "-t", "netflow", "-p", ps, "--metrics-port", ms2, "-w", "2",
			  "-s", "null", NULL };
	long long want;
	char *e;
	pid_t a, b;
	int st;

	snprintf(ps, sizeof(ps), "%u", port);
	snprintf(ms, sizeof(ms), "%u", mport);
	snprintf(ms2, sizeof(ms2), "%u", mport2);
	a = spawn(argv, errf, NULL);
	cr_assert(wait_up(a, mport, page, sizeof(page), errf, 5000), "the first did not come up");
	b = spawn(argv2, errf2, NULL);
	st = wait_for(b, 5000);
	cr_assert_neq(st, -1, "the second collector ran on the same port (killed after 5 s)");
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 0, "second: status %d", st);
	e = slurp(errf2, NULL);
	cr_assert_not_null(strstr(e, "in use"), "%s", e);
	cr_assert_not_null(strstr(e, "another weir-collector"), "%s", e);
	free(e);
	/* 8 exporters, 8 source ports: every one reaches the first. */
	generate(port, NULL, "--protocol v5 -n 320 -r 20000 --exporters 8", path_of("two-ledger.json"));
	want = (long long)ledger_total(path_of("two-ledger.json"), "flow_records");
	scrape_until(mport, page, sizeof(page), "weir_records_total{protocol=\"netflow_v5\"}", want, 5000);
	cr_assert_eq(metric(page, "weir_records_total{protocol=\"netflow_v5\"}"), want);
	st = term_wait(a);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "first: status %d", st);
}

Test(col_udp, binary_pcap_and_usage)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "%s/weir-generator --protocol sflow -n 40 --seed 3 --pcap-out '%s' 2>/dev/null && "
		 "%s/weir-collector -t sflow --pcap '%s' -f common -s csv -o '%s'",
		 COL_TEST_BIN, path_of("b.pcap"), COL_TEST_BIN, path_of("b.pcap"), path_of("b.csv"));
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	cr_assert_eq(file_lines(path_of("b.csv")), 1 + 400, "header and 400 flows");

	snprintf(cmd, sizeof(cmd), "%s/weir-collector -s csv 2>'%s'", COL_TEST_BIN, path_of("e"));
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d", st);
	snprintf(cmd, sizeof(cmd), "grep -q 'csv needs -f common' '%s'", path_of("e"));
	cr_assert_eq(system(cmd), 0, "the error says why");

	snprintf(cmd, sizeof(cmd), "printf 'enterprise,id,name,type\\n' > '%s'; "
		 "%s/weir-collector --ie-mapping '%s' 2>'%s'",
		 path_of("ies.csv"), COL_TEST_BIN, path_of("ies.csv"), path_of("e2"));
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d", st);
	snprintf(cmd, sizeof(cmd), "grep -q 'ies.csv:1' '%s'", path_of("e2"));
	cr_assert_eq(system(cmd), 0, "the error names file:line");

	snprintf(cmd, sizeof(cmd), "%s/weir-collector --pcap '%s' 2>/dev/null", COL_TEST_BIN,
		 path_of("missing.pcap"));
	st = system(cmd);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
}
