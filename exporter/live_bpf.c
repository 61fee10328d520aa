/* live_bpf.c - the tc programs of weir-exporter: their settings, loading,
 * attaching and detaching, and the counters the kernel keeps of them.
 *
 * Attaching: a TCX link (Linux 6.6) where the kernel has it, put first in
 * the hook's list; the link belongs to the process, so the kernel removes
 * it when the process ends however it ends. Debian 12's libbpf (1.1) has no
 * TCX call, so the link is made with bpf_link_create() and the attach type
 * numbers of the kernel's uapi. Else (or --attach tc) a cls_bpf filter on
 * the clsact qdisc through libbpf's tc API, with handle = our pid and
 * priority LIVE_TC_PRIO: such a filter outlives a killed process, and the
 * next start removes it (live_tc.c).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "live_int.h"
#include "prog_log.h"
#include "weir_tc.skel.h"

/* enum bpf_attach_type and attach flags of the kernel's uapi (Linux 6.6),
 * absent from older headers. */
#define LIVE_TCX_INGRESS	46
#define LIVE_TCX_EGRESS		47
#define LIVE_F_BEFORE		(1u << 3)	/* with no relative: first of all */

/* libbpf's messages through our log: warnings and errors only. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level > LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	/* bpf_tc_hook_create on an existing clsact qdisc: expected. */
	if (strstr(line, "Exclusivity flag on"))
		return 0;
	prog_log(level == LIBBPF_WARN ? PROG_LOG_WARN : PROG_LOG_ERROR, "%s", line);
	return 0;
}

/* An address of the export into the settings' layout (wflow_key's: IPv4
 * in the first 4 bytes; a v4-mapped IPv6 address is IPv4). Returns the IP
 * version, 0 for none, and the port. */
static int own_addr(const struct sockaddr_storage *ss, uint8_t a[16], uint16_t *port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(a, 0, 16);
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;

		memcpy(a, &s->sin_addr, 4);
		*port = ntohs(s->sin_port);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;

		*port = ntohs(s->sin6_port);
		if (memcmp(&s->sin6_addr, mapped, 12) == 0) {
			memcpy(a, (const uint8_t *)&s->sin6_addr + 12, 4);
			return 4;
		}
		memcpy(a, &s->sin6_addr, 16);
		return 6;
	}
	return 0;
}

/* The export's 5-tuple into the settings. Over TCP the local port changes
 * with each connection: 0 (any); so does the local address when the
 * connection is not made yet: 0 (any). */
static void own_export(struct live *l, struct wtc_cfg *cfg, const struct xp_cfg *xc)
{
	struct sockaddr_storage loc, peer;
	uint16_t lport;
	int v;

	if (xp_sockaddrs(l->x, &loc, &peer))
		return;		/* a file: no traffic */
	v = own_addr(&peer, cfg->own_dst, &cfg->own_dport);
	if (!v)
		return;
	if (own_addr(&loc, cfg->own_src, &lport) != v) {
		memset(cfg->own_src, 0, sizeof(cfg->own_src));
		lport = 0;
	}
	cfg->own_sport = xc->transport == XP_TCP ? 0 : lport;
	cfg->own_proto = xc->transport == XP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	cfg->own_ipver = (uint8_t)v;
}

int live_bpf_load(struct live *l, const struct xp_cfg *xc, char *err, size_t errlen)
{
	struct weir_tc_bpf *s;
	int e;

	libbpf_set_print(libbpf_log);
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s", strerror(-l->ncpus));
		return -1;
	}
	s = weir_tc_bpf__open();
	if (!s) {
		snprintf(err, errlen, "cannot open the BPF programs: %s", strerror(errno));
		return -1;
	}
	l->skel = s;
	s->rodata->cfg.sampling = l->cfg->sampling;
	own_export(l, &s->rodata->cfg, xc);
	l->flows_max = l->cfg->max_flows;
	e = bpf_map__set_max_entries(s->maps.flows, l->flows_max);
	if (e) {
		snprintf(err, errlen, "--max-flows %u: %s", l->flows_max, strerror(-e));
		return -1;
	}
	e = weir_tc_bpf__load(s);
	if (e) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-e),
			 e == -EPERM ? " (the capabilities, or a locked-down kernel)" : "");
		return -1;
	}
	l->flows_fd = bpf_map__fd(s->maps.flows);
	l->stats_fd = bpf_map__fd(s->maps.stats);
	return 0;
}

static int prog_fd(const struct live *l, uint8_t dir)
{
	return bpf_program__fd(dir == WFLOW_DIR_INGRESS ? l->skel->progs.weir_ingress :
			       l->skel->progs.weir_egress);
}

/* A TCX link, first in the hook. The link fd, or -errno (EINVAL: a kernel
 * without TCX). */
static int attach_tcx(const struct live *l, const struct live_hook *h)
{
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = LIVE_F_BEFORE);
	int fd = bpf_link_create(prog_fd(l, h->dir), h->ifindex,
				 h->dir == WFLOW_DIR_INGRESS ? LIVE_TCX_INGRESS : LIVE_TCX_EGRESS,
				 &o);

	return fd < 0 ? -errno : fd;
}

static void tc_hook(const struct live_hook *h, struct bpf_tc_hook *hook)
{
	memset(hook, 0, sizeof(*hook));
	hook->sz = sizeof(*hook);
	hook->ifindex = h->ifindex;
	hook->attach_point = h->dir == WFLOW_DIR_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

/* A cls_bpf filter (direct action) on the clsact qdisc, made if absent. */
static int attach_tc(const struct live *l, const struct live_hook *h)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = (uint32_t)getpid(), .priority = LIVE_TC_PRIO,
		    .prog_fd = prog_fd(l, h->dir));
	int e;

	tc_hook(h, &hook);
	e = bpf_tc_hook_create(&hook);
	if (e && e != -EEXIST)
		return e;
	return bpf_tc_attach(&hook, &o);
}

static void detach_one(struct live_hook *h)
{
	if (h->link_fd >= 0) {
		close(h->link_fd);	/* the link's only fd: the kernel detaches */
		h->link_fd = -1;
	}
	if (h->tc) {
		struct bpf_tc_hook hook;
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = (uint32_t)getpid(),
			    .priority = LIVE_TC_PRIO);
		int e;

		tc_hook(h, &hook);
		e = bpf_tc_detach(&hook, &o);
		if (e && e != -ENOENT && e != -ENODEV)
			prog_log(PROG_LOG_WARN, "%s: the tc filter (handle %u, priority %u) could "
				 "not be removed: %s", h->ifname, (unsigned)getpid(), LIVE_TC_PRIO,
				 strerror(-e));
		h->tc = 0;
	}
}

/* One hook, the way --attach says. */
static int attach_hook(struct live *l, struct live_hook *h, char *err, size_t errlen)
{
	int how = l->cfg->attach, e;
	const char *dn = h->dir == WFLOW_DIR_INGRESS ? "ingress" : "egress";

	if (how != EXP_ATTACH_TC) {
		e = attach_tcx(l, h);
		if (e >= 0) {
			h->link_fd = e;
			return 0;
		}
		if (how == EXP_ATTACH_TCX || (e != -EINVAL && e != -EOPNOTSUPP)) {
			snprintf(err, errlen, "%s %s: cannot attach a TCX link: %s%s", h->ifname, dn,
				 strerror(-e), e == -EINVAL ? " (TCX needs Linux 6.6; "
				 "--attach tc works on older kernels)" : "");
			return -1;
		}
	}
	e = attach_tc(l, h);
	if (e) {
		snprintf(err, errlen, "%s %s: cannot attach the tc filter (priority %u): %s%s",
			 h->ifname, dn, LIVE_TC_PRIO, strerror(-e), e == -EINVAL ?
			 " (another kind of filter at that priority?)" : "");
		return -1;
	}
	h->tc = 1;
	return 0;
}

/* The programs read an Ethernet header first (weir_tc.h): Ethernet
 * interfaces and the loopback only. 0, or -1 with a sentence in err. */
static int link_ok(const char *ifname, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), t = -1;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd >= 0 && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		t = ifr.ifr_hwaddr.sa_family;
	if (fd >= 0)
		close(fd);
	if (t < 0 || t == ARPHRD_ETHER || t == ARPHRD_LOOPBACK)
		return 0;	/* unknown: the attach will say */
	snprintf(err, errlen, "-i %s: not an Ethernet interface (link type %d): the programs "
		 "read an Ethernet header first; an L3 interface (tun, WireGuard, ipip) cannot be "
		 "metered", ifname, t);
	return -1;
}

int live_bpf_attach(struct live *l, char *err, size_t errlen)
{
	const struct exp_cfg *c = l->cfg;
	char why[256];
	int n;

	l->nhooks = 0;
	for (unsigned i = 0; i < c->nifaces; i++) {
		int ifindex = (int)if_nametoindex(c->ifaces[i]);

		if (!ifindex) {
			snprintf(err, errlen, "-i %s: %s", c->ifaces[i], strerror(errno));
			goto undo;
		}
		if (link_ok(c->ifaces[i], err, errlen))
			goto undo;
		n = live_tc_clean(ifindex, c->ifaces[i], why, sizeof(why));
		if (n < 0)
			prog_log(PROG_LOG_WARN, "%s", why);
		else
			l->stale_removed += (unsigned)n;
		for (uint8_t d = 0; d < 2; d++) {
			struct live_hook *h = &l->hooks[l->nhooks];

			if (!(c->direction & (d == WFLOW_DIR_INGRESS ? EXP_DIR_INGRESS :
					      EXP_DIR_EGRESS)))
				continue;
			*h = (struct live_hook){ .ifindex = ifindex, .ifname = c->ifaces[i],
						 .dir = d, .link_fd = -1 };
			if (attach_hook(l, h, err, errlen))
				goto undo;
			l->nhooks++;
		}
	}
	return 0;
undo:
	live_bpf_detach(l);
	return -1;
}

void live_bpf_detach(struct live *l)
{
	for (unsigned i = 0; i < l->nhooks; i++)
		detach_one(&l->hooks[i]);
}

void live_bpf_close(struct live *l)
{
	weir_tc_bpf__destroy(l->skel);	/* NULL is fine */
	l->skel = NULL;
}

void live_bpf_stats(struct live *l)
{
	uint64_t v[1024];

	if (l->ncpus > 1024)
		return;
	for (uint32_t k = 0; k < WTC_ST_COUNT; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(l->stats_fd, &k, v))
			continue;
		for (int c = 0; c < l->ncpus; c++)
			sum += v[c];
		l->wtc[k] = sum;
	}
}

void live_bpf_runtime(const struct live *l, uint64_t *ns, uint64_t *cnt)
{
	*ns = *cnt = 0;
	if (!l->skel)
		return;
	for (uint8_t d = 0; d < 2; d++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(prog_fd(l, d), &info, &len) == 0) {
			*ns += info.run_time_ns;
			*cnt += info.run_cnt;
		}
	}
}
