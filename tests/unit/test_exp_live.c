/* test_exp_live.c - the parts of the live path that need no BPF: the sum
 * of a flow's per-CPU values (wflow.h's merge rules), kernel times made
 * wall-clock, and the tc filter listing of live_tc.c on the loopback
 * (which holds no weir filter: nothing removed, no hang). The live path
 * itself runs in tests/integration/t-exporter-live. */
#include <criterion/criterion.h>
#include <net/if.h>
#include <string.h>

#include "live_int.h"
#include "prog_clock.h"

Test(exp_live, sum_cpus)
{
	struct wflow_val v[4], s;

	memset(v, 0, sizeof(v));
	/* CPU 0: nothing; 1: early, low TTL; 2: late; 3: the earliest packet */
	v[1] = (struct wflow_val){ .first_ns = 200, .last_ns = 300, .packets = 2, .octets = 100,
				   .tcp_flags = 0x02, .min_ttl = 30, .max_ttl = 40, .tos = 4 };
	v[1].flag_cnt[WFLOW_SYN] = 1;
	v[2] = (struct wflow_val){ .first_ns = 250, .last_ns = 900, .packets = 3, .octets = 1000,
				   .tcp_flags = 0x11, .min_ttl = 35, .max_ttl = 64, .tos = 8 };
	v[2].flag_cnt[WFLOW_FIN] = 1;
	v[2].flag_cnt[WFLOW_ACK] = 3;
	v[3] = (struct wflow_val){ .first_ns = 150, .last_ns = 160, .packets = 1, .octets = 60,
				   .tcp_flags = 0x10, .min_ttl = 50, .max_ttl = 50, .tos = 12 };
	v[3].flag_cnt[WFLOW_ACK] = 1;
	cr_assert_eq(live_sum_cpus(v, 4, &s), 6);
	cr_expect_eq(s.packets, 6);
	cr_expect_eq(s.octets, 1160);
	cr_expect_eq(s.first_ns, 150);
	cr_expect_eq(s.last_ns, 900);
	cr_expect_eq(s.tcp_flags, 0x13);
	cr_expect_eq(s.flag_cnt[WFLOW_SYN], 1);
	cr_expect_eq(s.flag_cnt[WFLOW_FIN], 1);
	cr_expect_eq(s.flag_cnt[WFLOW_ACK], 4);
	cr_expect_eq(s.min_ttl, 30);
	cr_expect_eq(s.max_ttl, 64);
	cr_expect_eq(s.tos, 12, "the TOS of the earliest packet's CPU");
	memset(v, 0, sizeof(v));
	cr_expect_eq(live_sum_cpus(v, 4, &s), 0);
	cr_expect_eq(s.first_ns, 0);
}

Test(exp_live, clock)
{
	struct live l;
	uint64_t real, got;

	memset(&l, 0, sizeof(l));
	live_clock(&l);
	real = prog_now_real();
	got = live_real(&l, prog_now_mono());
	cr_expect_lt(got > real ? got - real : real - got, 5000000ull,
		     "a monotonic time now is the wall clock now (%llu, %llu)",
		     (unsigned long long)got, (unsigned long long)real);
	cr_expect_eq(live_real(&l, 0), 0, "0: no time");
	live_clock(&l);
	cr_expect_eq(l.c.clock_steps, 0);
}

Test(exp_live, tc_clean_loopback)
{
	char err[256] = "";
	int lo = (int)if_nametoindex("lo");

	cr_assert_gt(lo, 0);
	cr_expect_eq(live_tc_clean(lo, "lo", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(live_tc_clean(0x7ffffff0, "nosuch", err, sizeof(err)) <= 0, 1);
}
