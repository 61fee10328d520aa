/* bench/bpf - the run time per packet of weir's tc programs
 * (bpf/weir_tc.bpf.c, the per-CPU map weir uses and the spin-lock variant)
 * against an empty counting program (tests/bpf/tc_aux.bpf.c count_only),
 * all measured in the same run on the same packets:
 *
 *  1. test run: BPF_PROG_TEST_RUN on one CPU, each of 8 frame shapes
 *     REPEAT times through each program; ns per run by the kernel's timer.
 *  2. test run, two CPUs on one flow at once: the per-CPU map against the
 *     spin lock (the lock's line moves between the CPUs).
 *  3. live: a veth pair between two network namespaces, frames of 1,024
 *     UDP flows (or one) sent by AF_PACKET from one or two CPUs; the empty
 *     program and one of weir's attached to the receiving end's tc
 *     ingress one after the other (priorities 1, 2: both see every
 *     packet); ns per packet from the kernel's BPF statistics
 *     (bpf_prog_info run_time_ns / run_cnt, enabled by BPF_ENABLE_STATS
 *     for the run). The receiver drops the frames in ip_rcv (they are for
 *     another MAC address).
 *
 * Usage: bench/bpf [SECONDS]   (root; SECONDS per live case, default 3)
 * Prints SKIPPED and exits 0 when not root or without tc BPF.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pktbuild.h"
#include "tc_aux.skel.h"
#include "weir_tc.h"	/* before its skeleton, which names struct wtc_cfg */
#include "weir_tc.skel.h"
#include "weir_tc_lock.skel.h"

#define NS_A	"weirbench_a"
#define NS_B	"weirbench_b"
#define NFLOWS	1024
#define FLEN	60
#define REPEAT	200000

enum { P_EMPTY, P_PERCPU, P_LOCK, NPROG };

static const char *const prog_name[NPROG] = { "empty (count only)", "weir, per-CPU map",
					      "weir, spin lock" };
static struct tc_aux_bpf *aux;
static struct weir_tc_bpf *wt;
static struct weir_tc_lock_bpf *wl;
static int prog_fd[NPROG];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench/bpf: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return l > LIBBPF_WARN ? 0 : vfprintf(stderr, f, ap);
}

/* ---- frames ---- */

static const uint8_t MAC_TO[6] = { 2, 0, 0, 0, 0xee, 0xee };	/* nobody's */
static const uint8_t MAC_FROM[6] = { 2, 0, 0, 0, 0, 1 };

/* A frame in buf (128 bytes), its length: shape 0 UDPv4, 1 TCPv4 ACK, 2 TCPv6 ACK, 3 UDPv6 after a hop-by-hop
 * header, 4 UDPv4 in a VLAN, 5 TCPv4 in QinQ, 6 ICMP echo, 7 a later IPv4
 * fragment; flow picks the source port (or ICMP id). */
static size_t frame(uint8_t *buf, int shape, unsigned flow)
{
	static const uint8_t hbh[8] = { 17, 0, 1, 4, 0, 0, 0, 0 };
	struct pktb_ip4 ip4 = { .src = { 10, 0, 0, 1 }, .dst = { 10, 0, 0, 2 }, .ttl = 64,
				.proto = shape == 1 || shape == 5 ? 6 : shape == 6 ? 1 : 17,
				.frag = shape == 7 ? 100 : 0x4000 };
	struct pktb_ip6 ip6 = { .src = { 0xfd, [15] = 1 }, .dst = { 0xfd, [15] = 2 }, .hlim = 64,
				.nh = shape == 2 ? 6 : shape == 3 ? 0 : 17 };
	struct pktb_tcp tcp = { .sport = (uint16_t)(10000 + flow), .dport = 443, .flags = 0x10,
				.window = 1000 };
	int v6 = shape == 2 || shape == 3;
	uint16_t l3 = v6 ? PKTB_ETH_IPV6 : PKTB_ETH_IPV4;
	struct pktb b;
	size_t len;

	memset(buf, 0, 128);
	pktb_init(&b, buf, 128);
	pktb_eth(&b, MAC_TO, MAC_FROM, shape == 4 ? PKTB_ETH_VLAN : shape == 5 ? 0x88a8 : l3);
	if (shape == 4)
		pktb_vlan(&b, 10, l3);
	if (shape == 5) {
		pktb_vlan(&b, 20, PKTB_ETH_VLAN);
		pktb_vlan(&b, 30, l3);
	}
	if (v6)
		pktb_ipv6(&b, &ip6);
	else
		pktb_ipv4(&b, &ip4);
	if (shape == 3)
		pktb_bytes(&b, hbh, sizeof(hbh));
	if (shape == 1 || shape == 2 || shape == 5)
		pktb_tcp(&b, &tcp);
	else if (shape == 6)
		pktb_icmp(&b, 8, 0, flow << 16);
	else if (shape != 7)
		pktb_udp(&b, tcp.sport, 53, 0);
	len = pktb_finish(&b);
	if (len < FLEN) {
		memset(buf + len, 0, FLEN - len);	/* Ethernet padding */
		len = FLEN;
	}
	return len;
}

/* ---- 1, 2: test runs ---- */

static double test_run(int fd, const uint8_t *f, size_t len, __u32 repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = (__u32)len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(fd, &o))
		die("test run");
	return (double)o.duration;
}

static void bench_test_run(void)
{
	static const char *const shapes[8] = { "UDPv4", "TCPv4", "TCPv6", "UDPv6 + hop-by-hop",
					       "UDPv4, VLAN", "TCPv4, QinQ", "ICMP",
					       "IPv4 later fragment" };
	double sum[NPROG] = { 0 };
	uint8_t f[128];

	printf("\n1. BPF_PROG_TEST_RUN, one CPU, %d runs of each frame (ns per run)\n\n", REPEAT);
	printf("| frame | %s | %s | %s | per-CPU / empty | lock / empty |\n|---|---|---|---|---|---|\n",
	       prog_name[0], prog_name[1], prog_name[2]);
	for (int s = 0; s < 8; s++) {
		size_t len = frame(f, s, 1);
		double ns[NPROG];

		for (int p = 0; p < NPROG; p++) {
			test_run(prog_fd[p], f, len, 1000);	/* the entry, warm caches */
			ns[p] = test_run(prog_fd[p], f, len, REPEAT);
			sum[p] += ns[p];
		}
		printf("| %s | %.1f | %.1f | %.1f | %.2f | %.2f |\n", shapes[s], ns[0], ns[1], ns[2],
		       ns[1] / ns[0], ns[2] / ns[0]);
	}
	printf("| mean | %.1f | %.1f | %.1f | %.2f | %.2f |\n", sum[0] / 8, sum[1] / 8, sum[2] / 8,
	       sum[1] / sum[0], sum[2] / sum[0]);
}

struct tr_thread {
	pthread_t t;
	int fd, cpu;
	const uint8_t *f;
	size_t len;
	double ns;
};

static void *tr_main(void *arg)
{
	struct tr_thread *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	t->ns = test_run(t->fd, t->f, t->len, 5 * REPEAT);
	return NULL;
}

static void bench_two_cpus(void)
{
	uint8_t f[128];
	size_t len = frame(f, 1, 7);

	printf("\n2. BPF_PROG_TEST_RUN, two CPUs on one TCP flow at once, %d runs each "
	       "(ns per run on each CPU)\n\n| program | CPU 0 | CPU 1 |\n|---|---|---|\n", 5 * REPEAT);
	for (int p = 0; p < NPROG; p++) {
		struct tr_thread t[2];

		for (int i = 0; i < 2; i++) {
			t[i] = (struct tr_thread){ .fd = prog_fd[p], .cpu = i, .f = f, .len = len };
			pthread_create(&t[i].t, NULL, tr_main, &t[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i].t, NULL);
		printf("| %s | %.1f | %.1f |\n", prog_name[p], t[0].ns, t[1].ns);
	}
}

/* ---- 3: live, on a veth pair ---- */

static int sh(const char *cmd)
{
	return system(cmd);
}

static void enter_ns(const char *ns)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		die(path);
	close(fd);
}

struct sender {
	pthread_t t;
	int cpu, one_flow;
	double secs;
	unsigned long long sent;
	int err;
};

/* Frames of NFLOWS flows (or one) from wb0 in NS_A, as fast as
 * sendmmsg goes, for secs. */
static void *send_main(void *arg)
{
	static uint8_t frames[2][64][128];
	struct sender *s = arg;
	struct mmsghdr m[64];
	struct iovec iov[64];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	cpu_set_t set;
	unsigned flow = (unsigned)s->cpu * 512;
	double end;
	int fd, one = 1;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	enter_ns(NS_A);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	sll.sll_ifindex = (int)if_nametoindex("wb0");
	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		s->err = errno;
		return NULL;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 64; i++) {
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	end = now() + s->secs;
	while (now() < end) {
		for (int i = 0; i < 64; i++) {
			iov[i].iov_len = frame(frames[s->cpu & 1][i], 0,
					       s->one_flow ? 0 : flow++ % NFLOWS);
			iov[i].iov_base = frames[s->cpu & 1][i];
		}
		for (int k = 0; k < 16; k++) {
			int n = sendmmsg(fd, m, 64, 0);

			if (n < 0) {
				if (errno == ENOBUFS || errno == EAGAIN)
					continue;
				s->err = errno;
				close(fd);
				return NULL;
			}
			s->sent += (unsigned)n;
		}
	}
	close(fd);
	return NULL;
}

static void prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("prog info");
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

/* One live case with the empty program and weir's variant v attached: the
 * sender's rate and each program's ns per packet (kernel statistics). */
static void live_case(const char *what, int nsend, int one_flow, double secs, int v)
{
	__u64 ns0[NPROG], c0[NPROG], ns1[NPROG], c1[NPROG];
	struct sender s[2];
	unsigned long long sent = 0;
	double t0, t1;

	for (int p = 0; p < NPROG; p++)
		prog_stats(prog_fd[p], &ns0[p], &c0[p]);
	t0 = now();
	for (int i = 0; i < nsend; i++) {
		s[i] = (struct sender){ .cpu = i, .one_flow = one_flow, .secs = secs };
		pthread_create(&s[i].t, NULL, send_main, &s[i]);
	}
	for (int i = 0; i < nsend; i++) {
		pthread_join(s[i].t, NULL);
		if (s[i].err) {
			errno = s[i].err;
			die("sender");
		}
		sent += s[i].sent;
	}
	t1 = now();
	for (int p = 0; p < NPROG; p++)
		prog_stats(prog_fd[p], &ns1[p], &c1[p]);
	printf("| %s | %s | %.2f Mpps |", what, v ? prog_name[v] : "nothing attached",
	       (double)sent / (t1 - t0) / 1e6);
	if (!v) {
		printf(" — | — | — |\n");
		return;
	}
	for (int p = 0; p < NPROG; p++) {
		__u64 c = c1[p] - c0[p];

		if (p != P_EMPTY && p != v)
			continue;
		if (c < sent || c > sent + 64)	/* the interface's own IPv6 packets */
			fprintf(stderr, "bench/bpf: %s saw %llu packets of %llu\n", prog_name[p],
				(unsigned long long)c, sent);
		printf(" %.1f |", c ? (double)(ns1[p] - ns0[p]) / (double)c : 0.0);
	}
	printf(" %.2f |\n", (double)(ns1[v] - ns0[v]) / (double)(ns1[P_EMPTY] - ns0[P_EMPTY]));
}

/* The empty program and weir's variant v on the hook, the three cases,
 * then both off again. */
static void live_variant(struct bpf_tc_hook *hook, int v, double secs)
{
	LIBBPF_OPTS(bpf_tc_opts, e, .prog_fd = prog_fd[P_EMPTY], .priority = 1, .handle = 1);
	LIBBPF_OPTS(bpf_tc_opts, w, .prog_fd = prog_fd[v], .priority = 2, .handle = 1);

	if (bpf_tc_attach(hook, &e) || bpf_tc_attach(hook, &w))
		die("tc attach");
	live_case("1,024 flows, 1 CPU", 1, 0, secs, v);
	live_case("1,024 flows, 2 CPUs", 2, 0, secs, v);
	live_case("one flow, 2 CPUs", 2, 1, secs, v);
	e.prog_fd = e.prog_id = e.flags = 0;
	w.prog_fd = w.prog_id = w.flags = 0;
	if (bpf_tc_detach(hook, &e) || bpf_tc_detach(hook, &w))
		die("tc detach");
}

static void bench_live(double secs)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	int stats_fd, self;

	sh("ip netns del " NS_A " 2>/dev/null; ip netns del " NS_B " 2>/dev/null");
	if (sh("ip netns add " NS_A " && ip netns add " NS_B " && "
	       "ip -n " NS_A " link add wb0 type veth peer name wb1 netns " NS_B " && "
	       "ip -n " NS_A " link set wb0 up && ip -n " NS_B " link set wb1 up"))
		die("veth pair (iproute2)");
	self = open("/proc/self/ns/net", O_RDONLY);
	enter_ns(NS_B);
	hook.ifindex = (int)if_nametoindex("wb1");
	if (!hook.ifindex || bpf_tc_hook_create(&hook))
		die("clsact on wb1");
	printf("\n3. live: a veth pair between two network namespaces, %d-byte UDP frames sent by "
	       "AF_PACKET; the empty program and one of weir's on the receiver's tc ingress, one "
	       "after the other; ns per packet from run_time_ns / run_cnt, %.0f s a case\n\n",
	       FLEN, secs);
	printf("| case | weir's program | sent | empty | weir | weir / empty |\n"
	       "|---|---|---|---|---|---|\n");
	live_case("1,024 flows, 1 CPU", 1, 0, secs, 0);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0)
		die("BPF_ENABLE_STATS");
	live_variant(&hook, P_PERCPU, secs);
	live_variant(&hook, P_LOCK, secs);
	close(stats_fd);
	bpf_tc_hook_destroy(&hook);
	if (setns(self, CLONE_NEWNET))
		die("back to the first namespace");
	close(self);
	sh("ip netns del " NS_A "; ip netns del " NS_B);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;

	libbpf_set_print(quiet);
	if (geteuid() != 0) {
		printf("SKIPPED: bench/bpf: needs root (BPF programs, network namespaces)\n");
		return 0;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1) {
		printf("SKIPPED: bench/bpf: the kernel has no tc BPF programs\n");
		return 0;
	}
	aux = tc_aux_bpf__open_and_load();
	wt = weir_tc_bpf__open_and_load();
	wl = weir_tc_lock_bpf__open_and_load();
	if (!aux || !wt || !wl)
		die("load");
	prog_fd[P_EMPTY] = bpf_program__fd(aux->progs.count_only);
	prog_fd[P_PERCPU] = bpf_program__fd(wt->progs.weir_ingress);
	prog_fd[P_LOCK] = bpf_program__fd(wl->progs.weir_ingress);
	printf("bench/bpf: weir's tc programs against an empty counting program, %ld CPUs online\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	bench_test_run();
	bench_two_cpus();
	bench_live(secs);
	weir_tc_lock_bpf__destroy(wl);
	weir_tc_bpf__destroy(wt);
	tc_aux_bpf__destroy(aux);
	return 0;
}
