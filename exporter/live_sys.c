/* live_sys.c - the live path's privileges: the capabilities it needs,
 * checked before anything and all others dropped once the programs are
 * loaded and attached (capget/capset and prctl directly: libcap is one
 * dependency more for twenty lines); and the interface's promiscuous flag.
 */
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "live_int.h"

/* Capability numbers newer than some libc headers. */
#define CAP_PERFMON_	38
#define CAP_BPF_	39

struct caps {
	uint64_t eff, perm, inh;
};

static int caps_get(struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int caps_set(const struct caps *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)c->eff, (uint32_t)c->perm, (uint32_t)c->inh },
		{ (uint32_t)(c->eff >> 32), (uint32_t)(c->perm >> 32), (uint32_t)(c->inh >> 32) },
	};

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int has(uint64_t set, int cap)
{
	return (int)(set >> cap & 1);
}

/* The highest capability the kernel knows (CAP_BPF: Linux 5.8). */
static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

int live_caps_check(char *err, size_t errlen)
{
	struct caps c;
	char miss[96] = "";
	int e = caps_get(&c), sys;

	if (e) {
		snprintf(err, errlen, "cannot read the process's capabilities: %s", strerror(-e));
		return -1;
	}
	if (cap_last() >= 0 && cap_last() < CAP_BPF_) {
		snprintf(err, errlen, "this kernel has no CAP_BPF: metering an interface needs "
			 "Linux 5.8 or later (BPF ring buffers)");
		return -1;
	}
	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON in the kernel. */
	sys = has(c.eff, CAP_SYS_ADMIN);
	if (!has(c.eff, CAP_BPF_) && !sys)
		strcat(miss, ", CAP_BPF");
	if (!has(c.eff, CAP_NET_ADMIN))
		strcat(miss, ", CAP_NET_ADMIN");
	if (!has(c.eff, CAP_PERFMON_) && !sys)
		strcat(miss, ", CAP_PERFMON");
	if (!miss[0])
		return 0;
	snprintf(err, errlen, "metering an interface needs the capabilities CAP_BPF, "
		 "CAP_NET_ADMIN and CAP_PERFMON; this process lacks %s: run it as root or grant "
		 "them (docs/exporter.md, \"Capabilities\"), or meter a capture with --pcap",
		 miss + 2);
	return -1;
}

int live_caps_drop(char *err, size_t errlen)
{
	struct caps c, keep;
	uint64_t want = 1ull << CAP_BPF_ | 1ull << CAP_NET_ADMIN | 1ull << CAP_PERFMON_;
	int e = caps_get(&c), last = cap_last();

	if (e) {
		snprintf(err, errlen, "cannot read the process's capabilities: %s", strerror(-e));
		return -1;
	}
	if (!has(c.perm, CAP_BPF_))
		want |= 1ull << CAP_SYS_ADMIN;	/* what let it load (weir-exporter
						 * reads the maps with it) */
	/* The bounding set first: dropping from it takes CAP_SETPCAP, which
	 * goes with the rest below. A failure there (no CAP_SETPCAP) leaves
	 * the bounding set as it is: the sets themselves still shrink. */
	for (int cap = 0; cap <= (last > 0 ? last : 63); cap++)
		if (!(want >> cap & 1) && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	keep.eff = c.eff & want;
	keep.perm = c.perm & want;
	keep.inh = 0;
	e = caps_set(&keep);
	if (e) {
		snprintf(err, errlen, "cannot drop capabilities: %s", strerror(-e));
		return -1;
	}
	return 0;
}

int live_promisc(const char *ifname, int on, int *was, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0) {
		snprintf(err, errlen, "--promiscuous: socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		e = errno;
	} else {
		if (was)
			*was = !!(ifr.ifr_flags & IFF_PROMISC);
		if (!!(ifr.ifr_flags & IFF_PROMISC) != !!on) {
			ifr.ifr_flags = (short)(on ? ifr.ifr_flags | IFF_PROMISC :
					 ifr.ifr_flags & ~IFF_PROMISC);
			if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
				e = errno;
		}
	}
	close(fd);
	if (e) {
		snprintf(err, errlen, "--promiscuous: %s: %s", ifname, strerror(e));
		return -1;
	}
	return 0;
}
