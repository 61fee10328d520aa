/* test_bpf_live.c - weir's tc programs attached for real: a veth pair in a
 * network namespace of the test's own (unshare), weir_ingress on one end's
 * clsact ingress and weir_egress on the other's egress through libbpf's tc
 * API, frames sent by AF_PACKET. What BPF_PROG_TEST_RUN cannot show: the
 * ifindex of the interface, the tag the kernel takes off an arriving frame
 * into skb->vlan_tci (skb_vlan_untag, before tc ingress), a tag that
 * stays in skb->vlan_tci from one end's egress to the other's ingress
 * (veth's tx-vlan-offload; put there by tc_aux's vlan_push, as a VLAN
 * device would), and the programs leaving the traffic as it was.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "unit/bpfframe.h"
#include "unit/bpfhelp.h"

static int ifx0, ifx1;

static void sh(const char *cmd)
{
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* A namespace of this test's process (Criterion runs each test in a
 * process of its own): veth0 <-> veth1, up, IPv6 off (no router
 * solicitations in the maps). */
static void setup(void)
{
	load_cfg("bpf_live", NULL, 0, 0, 0);
	if (unshare(CLONE_NEWNET)) {
		printf("SKIPPED: bpf_live: no network namespace (%s)\n", strerror(errno));
		cr_skip_test("unshare");
	}
	if (system("ip -V >/dev/null 2>&1")) {
		printf("SKIPPED: bpf_live: no iproute2 (ip)\n");
		cr_skip_test("ip");
	}
	sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
	sh("ip link add veth0 type veth peer name veth1 && ip link set veth0 up && "
	   "ip link set veth1 up");
	ifx0 = (int)if_nametoindex("veth0");
	ifx1 = (int)if_nametoindex("veth1");
	cr_assert(ifx0 && ifx1);
}

/* prog on the hook; the interface's clsact made by its first attach. */
static void attach(int ifindex, enum bpf_tc_attach_point where, int prog, __u32 prio)
{
	static int made[2];
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = prog, .handle = 1, .priority = prio);
	int i = ifindex == ifx1;

	if (!made[i]) {
		cr_assert_eq(bpf_tc_hook_create(&hook), 0, "clsact: %s", strerror(errno));
		made[i] = 1;
	}
	cr_assert_eq(bpf_tc_attach(&hook, &o), 0, "tc attach: %s", strerror(errno));
}

/* The frame out of the interface named ifname, by AF_PACKET (through its
 * qdisc layer: tc egress sees it). */
static void send_on(const char *ifname, const struct frame *fr)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	cr_assert_geq(fd, 0, "%s", strerror(errno));
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	cr_assert(sll.sll_ifindex);
	cr_assert_eq(sendto(fd, fr->b, fr->len, 0, (struct sockaddr *)&sll, sizeof(sll)),
		     (ssize_t)fr->len, "%s", strerror(errno));
	close(fd);
}

/* The value of k once it has n packets, waiting up to a second. */
static struct wflow_val wait_for(const struct wflow_key *k, __u64 n)
{
	struct wflow_val v;
	__u64 end = bh_mono() + 1000000000ull;

	do {
		if (!bh_get(S, k, &v) && v.packets >= n)
			return v;
		usleep(1000);
	} while (bh_mono() < end);
	cr_assert_fail("no %llu packets for the key in a second", (unsigned long long)n);
	return v;
}

Test(bpf_live, veth_ingress_egress_and_tags, .init = setup, .fini = teardown, .timeout = 30)
{
	struct fb f = { .proto = PKTB_UDP, .sp = 5000, .dp = 6000, .pay = 18 };
	struct tc_aux_bpf *aux;
	struct frame fr;
	struct wflow_key k;
	struct wflow_val v;

	attach(ifx1, BPF_TC_INGRESS, IN, 2);
	attach(ifx0, BPF_TC_EGRESS, EG, 2);

	/* untagged: out of veth0 (egress), into veth1 (ingress) */
	build(&fr, &f);
	send_on("veth0", &fr);
	send_on("veth0", &fr);
	k = key_of(&f, 0, WFLOW_DIR_INGRESS);
	k.ifindex = (__u32)ifx1;
	v = wait_for(&k, 2);
	cr_assert_eq(v.packets, 2);
	cr_assert_eq(v.octets, 2 * (20 + 8 + 18));
	k.dir = WFLOW_DIR_EGRESS;
	k.ifindex = (__u32)ifx0;
	cr_assert_eq(wait_for(&k, 2).packets, 2);

	/* an 802.1Q tag in the bytes: on veth1's ingress the kernel has taken
	 * it into vlan_tci; the key has its id either way */
	f.ntags = 1;
	f.tags[0] = 0x2000 | 42;
	f.sp = 5001;
	build(&fr, &f);
	send_on("veth0", &fr);
	k = key_of(&f, 42, WFLOW_DIR_INGRESS);
	k.ifindex = (__u32)ifx1;
	cr_assert_eq(wait_for(&k, 1).octets, 46);
	k.dir = WFLOW_DIR_EGRESS;
	k.ifindex = (__u32)ifx0;
	cr_assert_eq(wait_for(&k, 1).packets, 1);

	/* QinQ: 802.1ad 100 outside, 802.1Q 200 inside: the outer id */
	f.ntags = 2;
	f.tpid = 0x88a8;
	f.tags[0] = 100;
	f.tags[1] = 200;
	f.sp = 5002;
	build(&fr, &f);
	send_on("veth0", &fr);
	k = key_of(&f, 100, WFLOW_DIR_INGRESS);
	k.ifindex = (__u32)ifx1;
	cr_assert_eq(wait_for(&k, 1).packets, 1);

	/* a tag in vlan_tci on veth0's egress (vlan_push before weir_egress),
	 * still in vlan_tci on veth1's ingress */
	aux = bh_aux(-1);
	aux->bss->tag_proto = 0x8100;
	aux->bss->tag_tci = 7;
	attach(ifx0, BPF_TC_EGRESS, bpf_program__fd(aux->progs.vlan_push), 1);
	f.ntags = 0;
	f.tpid = 0;
	f.sp = 5003;
	build(&fr, &f);
	send_on("veth0", &fr);
	k = key_of(&f, 7, WFLOW_DIR_EGRESS);
	k.ifindex = (__u32)ifx0;
	cr_assert_eq(wait_for(&k, 1).octets, 46);
	k.dir = WFLOW_DIR_INGRESS;
	k.ifindex = (__u32)ifx1;
	cr_assert_eq(wait_for(&k, 1).packets, 1);
	cr_assert_eq(aux->bss->vlan_in_failed, 0);
	cr_assert_eq(stat(WTC_ST_MALFORMED), 0);
	tc_aux_bpf__destroy(aux);
}

/* The programs change nothing: a UDP datagram between two sockets across
 * the pair arrives whole, with both programs attached. */
Test(bpf_live, traffic_passes, .init = setup, .fini = teardown, .timeout = 30)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(7777) };
	struct timeval tmo = { .tv_sec = 5 };
	char out[1000], in[1100];
	struct wflow_key k;
	int s, r;

	/* both addresses are this namespace's: veth1 must take a packet from
	 * a local source */
	sh("ip addr add 10.9.0.1/24 dev veth0 && ip addr add 10.9.0.2/24 dev veth1 && "
	   "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.veth1.rp_filter=0 "
	   "net.ipv4.conf.veth1.accept_local=1");
	attach(ifx1, BPF_TC_INGRESS, IN, 1);
	attach(ifx0, BPF_TC_EGRESS, EG, 1);
	attach(ifx0, BPF_TC_INGRESS, IN, 1);
	attach(ifx1, BPF_TC_EGRESS, EG, 1);
	inet_pton(AF_INET, "10.9.0.2", &a.sin_addr);
	r = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(r, (struct sockaddr *)&a, sizeof(a)), 0, "%s", strerror(errno));
	cr_assert_eq(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)), 0);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	/* from veth0's address, out of veth0 (not over lo) */
	cr_assert_eq(setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "veth0", 6), 0);
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	cr_assert_eq(sendto(s, out, sizeof(out), 0, (struct sockaddr *)&a, sizeof(a)),
		     (ssize_t)sizeof(out), "%s", strerror(errno));
	cr_assert_eq(recv(r, in, sizeof(in), 0), (ssize_t)sizeof(out), "received: %s",
		     strerror(errno));
	cr_assert_arr_eq(in, out, sizeof(out));
	/* and metered on the receiving end: 1,028 IP bytes */
	memset(&k, 0, sizeof(k));
	k.src[0] = 10, k.src[1] = 9, k.src[3] = 1;
	k.dst[0] = 10, k.dst[1] = 9, k.dst[3] = 2;
	k.dst_port = 7777;
	k.proto = 17;
	k.ipver = 4;
	k.ifindex = (__u32)ifx1;
	{
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);

		cr_assert_eq(getsockname(s, (struct sockaddr *)&me, &ml), 0);
		k.src_port = ntohs(me.sin_port);
	}
	cr_assert_eq(wait_for(&k, 1).octets, 1028);
	close(s);
	close(r);
}
