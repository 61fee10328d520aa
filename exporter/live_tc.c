/* live_tc.c - the tc filters a dead weir-exporter left attached.
 *
 * A tc filter outlives the process that made it (a TCX link does not).
 * weir's filters are recognised by three marks together: priority
 * LIVE_TC_PRIO, kind "bpf", and a program named weir_ingress or
 * weir_egress (libbpf names the filter "<program>:[<id>]"); the handle is
 * the pid of the weir-exporter that attached it. Such a filter is stale
 * when that pid is ours (we have attached nothing yet), is no process, is a
 * process whose name is not weir-exporter, or is one that holds no file
 * descriptor of the filter's program (when /proc lets us look). Only stale
 * filters are removed: another tool's filters never match all three marks,
 * and a running weir-exporter's (on the same interface) is left alone.
 *
 * libbpf can query a filter by handle and priority but not list them, so
 * the list is an RTM_GETTFILTER dump on a netlink socket of our own, read
 * with the bounds-checked reader.
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "live_int.h"
#include "prog_log.h"
#include "rd.h"

#define NL_BUF		(64u << 10)
#define MAX_FOUND	64	/* weir filters looked at per hook */

struct found {
	uint32_t handle;
	uint32_t prog_id;
};

/* Netlink is host-endian: copied out, never overlaid. */
static uint16_t h16(struct rd *r)
{
	uint16_t v = 0;

	rd_copy(r, &v, 2);
	return v;
}

static uint32_t h32(struct rd *r)
{
	uint32_t v = 0;

	rd_copy(r, &v, 4);
	return v;
}

/* Past the padding to 4 bytes after an item of len bytes (the last one
 * of a message may have none). */
static void pad(struct rd *r, uint32_t len)
{
	size_t n = ((len + 3u) & ~3u) - len;

	rd_skip(r, n < rd_left(r) ? n : rd_left(r));
}

/* TCA_OPTIONS of a bpf filter: whether it names a weir program, and its
 * program id. */
static int weir_options(struct rd *r, uint32_t *prog_id)
{
	int named = 0;

	while (rd_left(r) >= 4 && !r->err) {
		struct rd a;
		uint16_t len = h16(r), type = h16(r) & NLA_TYPE_MASK;

		if (len < 4 || !rd_sub(r, len - 4u, &a))
			return 0;
		pad(r, len);
		if (type == TCA_BPF_NAME) {
			const char *s = (const char *)rd_ptr(&a);
			size_t n = rd_left(&a);

			named = (n > sizeof(LIVE_PROG_IN) &&
				 memcmp(s, LIVE_PROG_IN ":", sizeof(LIVE_PROG_IN)) == 0) ||
				(n > sizeof(LIVE_PROG_EG) &&
				 memcmp(s, LIVE_PROG_EG ":", sizeof(LIVE_PROG_EG)) == 0);
		} else if (type == TCA_BPF_ID && rd_left(&a) >= 4) {
			*prog_id = h32(&a);
		}
	}
	return named;
}

/* One RTM_NEWTFILTER message (after its nlmsghdr): a weir filter into f. */
static int weir_filter(struct rd *r, struct found *f)
{
	struct tcmsg tm = { 0 };
	int kind_bpf = 0, named = 0;

	if (!rd_copy(r, &tm, sizeof(tm)))
		return 0;
	if (TC_H_MAJ(tm.tcm_info) >> 16 != LIVE_TC_PRIO || !tm.tcm_handle)
		return 0;
	f->handle = tm.tcm_handle;
	f->prog_id = 0;
	while (rd_left(r) >= 4 && !r->err) {
		struct rd a;
		uint16_t len = h16(r), type = h16(r) & NLA_TYPE_MASK;

		if (len < 4 || !rd_sub(r, len - 4u, &a))
			return 0;
		pad(r, len);
		if (type == TCA_KIND)
			kind_bpf = rd_left(&a) >= 4 && memcmp(rd_ptr(&a), "bpf", 4) == 0;
		else if (type == TCA_OPTIONS)
			named = weir_options(&a, &f->prog_id);
	}
	return kind_bpf && named;
}

/* Dump the filters of (ifindex, parent); the weir ones into f[]. The
 * count, or -errno. */
static int dump(int ifindex, uint32_t parent, struct found *f, int max, uint8_t *buf)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tm;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), n = 0, done = 0;
	uint32_t seq = (uint32_t)getpid() ^ (uint32_t)ifindex;

	struct timeval tv = { .tv_sec = 2 };	/* the kernel answers at once: never hang */

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = seq;
	req.tm.tcm_family = AF_UNSPEC;
	req.tm.tcm_ifindex = ifindex;
	req.tm.tcm_parent = parent;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		n = -errno;
		goto out;
	}
	while (!done) {
		ssize_t got = recv(fd, buf, NL_BUF, 0);
		struct rd r;

		if (got < 0) {
			n = errno == EINTR ? n : -errno;
			if (errno == EINTR)
				continue;
			goto out;
		}
		rd_init(&r, buf, (size_t)got);
		while (rd_left(&r) >= sizeof(struct nlmsghdr) && !r.err) {
			struct nlmsghdr nh;
			struct rd m;

			rd_copy(&r, &nh, sizeof(nh));
			if (nh.nlmsg_len < sizeof(nh) || !rd_sub(&r, nh.nlmsg_len - sizeof(nh), &m))
				break;
			pad(&r, nh.nlmsg_len);
			if (nh.nlmsg_seq != seq)
				continue;
			if (nh.nlmsg_type == NLMSG_DONE) {
				done = 1;
			} else if (nh.nlmsg_type == NLMSG_ERROR) {
				int32_t e = 0;

				rd_copy(&m, &e, 4);
				n = e ? e : n;	/* EINVAL: no clsact qdisc, nothing there */
				done = 1;
			} else if (nh.nlmsg_type == RTM_NEWTFILTER && n < max &&
				   weir_filter(&m, &f[n])) {
				n++;
			}
		}
		if (got == 0)
			break;
	}
out:
	close(fd);
	return n;
}

/* Whether process pid holds a file descriptor of BPF program prog_id: 1,
 * 0, or -1 when /proc does not let us see. */
static int holds_prog(pid_t pid, uint32_t prog_id)
{
	char path[64], line[128];
	struct dirent *d;
	DIR *dir;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (!found && (d = readdir(dir))) {
		FILE *f;
		unsigned id;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.16s", (int)pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %u", &id) == 1 && id == prog_id) {
				found = 1;
				break;
			}
		fclose(f);
	}
	closedir(dir);
	return found;
}

/* The handle's pid is a running weir-exporter that holds the program. */
static int owner_alive(uint32_t handle, uint32_t prog_id)
{
	pid_t pid = (pid_t)handle;
	char path[64], comm[32] = "";
	FILE *f;

	if (handle > 0x3fffffff || pid == getpid())
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
	}
	comm[strcspn(comm, "\n")] = 0;
	if (strcmp(comm, "weir-exporter") != 0)
		return 0;
	return prog_id ? holds_prog(pid, prog_id) != 0 : 1;
}

int live_tc_clean(int ifindex, const char *ifname, char *err, size_t errlen)
{
	static const uint32_t parents[2] = { TC_H_MIN_INGRESS, TC_H_MIN_EGRESS };
	struct found f[MAX_FOUND];
	uint8_t *buf = malloc(NL_BUF);
	int removed = 0;

	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", ifname);
		return -1;
	}
	for (int d = 0; d < 2; d++) {
		int n = dump(ifindex, TC_H_MAKE(TC_H_CLSACT, parents[d]), f, MAX_FOUND, buf);

		if (n < 0) {
			if (n == -EINVAL || n == -ENOENT)
				continue;	/* no clsact qdisc: no filter */
			snprintf(err, errlen, "%s: cannot list the tc filters: %s", ifname,
				 strerror(-n));
			free(buf);
			return -1;
		}
		for (int i = 0; i < n; i++) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = d ? BPF_TC_EGRESS : BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, o, .handle = f[i].handle, .priority = LIVE_TC_PRIO);
			int e;

			if (owner_alive(f[i].handle, f[i].prog_id)) {
				prog_log(PROG_LOG_INFO, "%s %s: the tc filter of weir-exporter pid %u "
					 "is running: left alone", ifname, d ? "egress" : "ingress",
					 f[i].handle);
				continue;
			}
			e = bpf_tc_detach(&hook, &o);
			if (e) {
				prog_log(PROG_LOG_WARN, "%s %s: cannot remove the tc filter a dead "
					 "weir-exporter (pid %u) left: %s", ifname,
					 d ? "egress" : "ingress", f[i].handle, strerror(-e));
				continue;
			}
			prog_log(PROG_LOG_INFO, "%s %s: removed the tc filter a dead weir-exporter "
				 "(pid %u) left (program id %u)", ifname, d ? "egress" : "ingress",
				 f[i].handle, f[i].prog_id);
			removed++;
		}
	}
	free(buf);
	return removed;
}
