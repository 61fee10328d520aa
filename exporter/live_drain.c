/* live_drain.c - the kernel's flows into the meter.
 *
 * `flows` is drained a generation at a time (weir_tc.h): the programs
 * write skel->bss->wtc_gen into every key's pad[0]; to drain, user space
 * flips it, waits until no program still runs with the old value (the
 * update of an ARRAY_OF_MAPS element returns after an RCU grace period,
 * and every tc program runs inside one), then reads every entry of the old
 * generation (lookup batches, or key by key where the kernel has no batch
 * operations for the map), merges the sum of its per-CPU values into the
 * meter and deletes it. No program writes an old key any more, so no
 * increment is lost between the read and the delete, as one would be with
 * lookup-and-delete on a key still in use.
 *
 * The spill ring holds one record per packet the full map could not
 * take: merged as read. The events ring says a direction saw its first FIN
 * or RST: it asks for a drain soon (LIVE_EVENT_GAP_NS), so that the flow's
 * counts, FIN and all, reach the meter, whose FIN-both-ways and RST rules
 * then end the flow (after its linger) within a fraction of a second.
 *
 * Kernel times are CLOCK_MONOTONIC (bpf_ktime_get_ns); records carry
 * wall-clock time: offset = CLOCK_REALTIME - CLOCK_MONOTONIC, measured
 * again every LIVE_CLOCK_NS so that a clock set by NTP is followed.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_int.h"
#include "prog_clock.h"
#include "prog_log.h"
#include "weir_tc.skel.h"

/* ---- time ---- */

void live_clock(struct live *l)
{
	int64_t best_w = INT64_MAX, off = 0;

	/* The narrowest of three real-mono-real readings. */
	for (int i = 0; i < 3; i++) {
		uint64_t r1 = prog_now_real(), m = prog_now_mono(), r2 = prog_now_real();
		int64_t w = (int64_t)(r2 - r1);

		if (w < best_w) {
			best_w = w;
			off = (int64_t)(r1 + (r2 - r1) / 2) - (int64_t)m;
		}
	}
	if (l->clock_at && (off - l->mono_to_real > 1000000 || l->mono_to_real - off > 1000000))
		l->c.clock_steps++;
	l->mono_to_real = off;
	l->clock_at = prog_now_mono();
}

uint64_t live_real(const struct live *l, uint64_t mono_ns)
{
	return mono_ns ? (uint64_t)((int64_t)mono_ns + l->mono_to_real) : 0;
}

/* ---- values ---- */

uint64_t live_sum_cpus(const struct wflow_val *v, int ncpus, struct wflow_val *out)
{
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++) {
		const struct wflow_val *s = &v[c];

		if (!s->packets)
			continue;
		if (!out->packets || s->first_ns < out->first_ns) {
			out->first_ns = s->first_ns;
			out->tos = s->tos;
		}
		if (!out->packets || s->min_ttl < out->min_ttl)
			out->min_ttl = s->min_ttl;
		if (s->max_ttl > out->max_ttl)
			out->max_ttl = s->max_ttl;
		if (s->last_ns > out->last_ns)
			out->last_ns = s->last_ns;
		out->packets += s->packets;
		out->octets += s->octets;
		out->tcp_flags |= s->tcp_flags;
		for (int f = 0; f < WFLOW_NFLAGS; f++)
			out->flag_cnt[f] += s->flag_cnt[f];
	}
	return out->packets;
}

/* One direction's aggregate into the meter, times made wall-clock. */
static void merge(struct live *l, const struct wflow_key *k, struct wflow_val *v)
{
	v->first_ns = live_real(l, v->first_ns);
	v->last_ns = live_real(l, v->last_ns);
	l->c.merged_packets += v->packets;
	l->c.merged_octets += v->octets;
	meter_merge(l->m, k, v);
}

/* ---- the map ---- */

int live_drain_init(struct live *l, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	l->keys = calloc(LIVE_BATCH, sizeof(*l->keys));
	l->vals = calloc((size_t)LIVE_BATCH * (size_t)l->ncpus, sizeof(*l->vals));
	l->old = calloc(l->flows_max, sizeof(*l->old));
	if (!l->keys || !l->vals || !l->old) {
		snprintf(err, errlen, "out of memory for --max-flows %u", l->flows_max);
		return -1;
	}
	l->sync_inner_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "weir_sync_in", 4, 4, 1, NULL);
	if (l->sync_inner_fd < 0) {
		snprintf(err, errlen, "cannot create a BPF array: %s", strerror(-l->sync_inner_fd));
		return -1;
	}
	o.inner_map_fd = l->sync_inner_fd;
	l->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "weir_sync", 4, 4, 1, &o);
	if (l->sync_fd < 0) {
		snprintf(err, errlen, "cannot create a BPF array of maps (Linux 4.12): %s",
			 strerror(-l->sync_fd));
		return -1;
	}
	l->batch_ok = -1;
	live_clock(l);
	return 0;
}

void live_drain_free(struct live *l)
{
	free(l->keys);
	free(l->vals);
	free(l->old);
	l->keys = l->old = NULL;
	l->vals = NULL;
	if (l->sync_fd >= 0)
		close(l->sync_fd);
	if (l->sync_inner_fd >= 0)
		close(l->sync_inner_fd);
	l->sync_fd = l->sync_inner_fd = -1;
}

/* Entries [0, n) of keys/vals just read: those of generation gen merged,
 * their keys kept for the delete. */
static void take(struct live *l, uint32_t n, uint8_t gen, uint32_t *nold)
{
	struct wflow_val sum;

	for (uint32_t i = 0; i < n; i++) {
		if (l->keys[i].pad[0] != gen)
			continue;
		if (*nold < l->flows_max)
			l->old[(*nold)++] = l->keys[i];
		if (live_sum_cpus(&l->vals[(size_t)i * (size_t)l->ncpus], l->ncpus, &sum)) {
			l->c.entries++;
			merge(l, &l->keys[i], &sum);
		}
	}
}

/* Every entry by lookup batches. 0, or -errno when batches do not work
 * here (nothing taken then). */
static int read_batches(struct live *l, uint8_t gen, uint32_t *nold)
{
	uint8_t token[sizeof(struct wflow_key)];	/* the kernel's cursor (a bucket) */
	int first = 1;

	for (;;) {
		uint32_t n = LIVE_BATCH;
		int e = bpf_map_lookup_batch(l->flows_fd, first ? NULL : token, token, l->keys,
					     l->vals, &n, NULL);

		if (e && e != -ENOENT) {
			if (first && (e == -EINVAL || e == -EOPNOTSUPP || e == -ENOTSUP))
				return e;
			l->c.read_errors++;
			return 0;
		}
		l->c.fill += n;
		take(l, n, gen, nold);
		if (e == -ENOENT)
			return 0;
		first = 0;
	}
}

/* Every entry key by key (kernels without batch operations on this map). */
static void read_keys(struct live *l, uint8_t gen, uint32_t *nold)
{
	struct wflow_key cur, next;
	int first = 1;

	while (bpf_map_get_next_key(l->flows_fd, first ? NULL : &cur, &next) == 0) {
		first = 0;
		cur = next;
		if (next.pad[0] == gen) {
			if (bpf_map_lookup_elem(l->flows_fd, &next, l->vals)) {
				l->c.read_errors++;
				continue;
			}
			l->keys[0] = next;
			take(l, 1, gen, nold);
		}
		l->c.fill++;
	}
}

static void delete_old(struct live *l, uint32_t nold)
{
	uint32_t done = 0;

	while (l->batch_ok && done < nold) {
		uint32_t n = nold - done;
		int e = bpf_map_delete_batch(l->flows_fd, l->old + done, &n, NULL);

		done += n;
		if (!e)
			return;
		if (e == -ENOENT) {
			done++;		/* gone already: on with the next */
			continue;
		}
		break;
	}
	for (; done < nold; done++)
		if (bpf_map_delete_elem(l->flows_fd, &l->old[done]) && errno != ENOENT)
			l->c.read_errors++;
}

void live_drain(struct live *l)
{
	uint64_t t0 = prog_now_mono(), t1;
	uint8_t old = l->skel->bss->wtc_gen & 1;
	uint32_t zero = 0, nold = 0;

	__atomic_store_n(&l->skel->bss->wtc_gen, (uint8_t)(old ^ 1), __ATOMIC_SEQ_CST);
	if (bpf_map_update_elem(l->sync_fd, &zero, &l->sync_inner_fd, BPF_ANY))
		l->c.read_errors++;	/* no grace period waited for: a packet may race */
	t1 = prog_now_mono();
	l->c.fill = 0;
	if (l->batch_ok) {
		int e = read_batches(l, old, &nold);

		if (e) {
			prog_log(PROG_LOG_INFO, "the kernel has no batch operations on `flows` "
				 "(%s): read key by key", strerror(-e));
			l->batch_ok = 0;
		} else {
			l->batch_ok = 1;
		}
	}
	if (!l->batch_ok) {
		read_keys(l, old, &nold);
		l->c.batch_fallback++;
	}
	delete_old(l, nold);
	if (l->c.fill > l->c.fill_max)
		l->c.fill_max = l->c.fill;
	l->c.drains++;
	l->event_pending = 0;
	l->last_drain = prog_now_mono();
	l->c.sync_ns += t1 - t0;
	l->c.drain_ns += l->last_drain - t0;
}

/* ---- the rings ---- */

static int on_spill(void *ctx, void *data, size_t size)
{
	struct live *l = ctx;
	struct wtc_spill s;

	if (size < sizeof(s)) {
		l->c.read_errors++;
		return 0;
	}
	memcpy(&s, data, sizeof(s));
	l->c.spill_records++;
	merge(l, &s.key, &s.val);
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct live *l = ctx;

	(void)data;
	if (size < sizeof(struct wtc_event)) {
		l->c.read_errors++;
		return 0;
	}
	l->c.events++;
	l->event_pending = 1;
	return 0;
}

int live_rings_open(struct live *l, char *err, size_t errlen)
{
	int e;

	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.spill), on_spill, l, NULL);
	if (!l->rb) {
		snprintf(err, errlen, "cannot open the spill ring buffer: %s", strerror(errno));
		return -1;
	}
	e = ring_buffer__add(l->rb, bpf_map__fd(l->skel->maps.events), on_event, l);
	if (e) {
		snprintf(err, errlen, "cannot open the events ring buffer: %s", strerror(-e));
		return -1;
	}
	return 0;
}

void live_rings(struct live *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		l->c.read_errors++;
}
