/* run.c - see run.h. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "err.h"
#include "ledger.h"
#include "prog_cli.h"
#include "prog_clock.h"
#include "prog_log.h"
#include "pace.h"
#include "pcapw.h"
#include "run.h"
#include "send.h"

#define NS_PER_S	1000000000ull
#define GEN_RING	16	/* batches between the maker and the sender */
#define GEN_THREAD_RATE	1000	/* paced from this rate up: maker thread */

/* A batch of datagrams on its way from the maker to the sender. */
struct slot {
	unsigned n;
	uint8_t end;			/* the last batch of the stream */
	const char *why;		/* why it is the last */
	uint8_t *bufs;			/* GEN_BATCH * payload */
	struct mmsghdr mm[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	struct dg_info info[GEN_BATCH];
	int status[GEN_BATCH];
};

struct run {
	const struct gen_cfg *cfg;
	volatile sig_atomic_t *stop;
	struct model model;
	struct sim_cfg scfg;
	struct sim_exporter *xs;
	uint32_t nx;			/* exporters initialized */
	struct weir_addr *src;		/* per exporter: source address ... */
	uint16_t *sport;		/* ... and port */
	struct ledger led;
	struct udp_out udp;
	struct pcapw pcap;
	int pcap_mode;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct weir_addr dst;
	size_t payload;
	int schedule;			/* model clock is the schedule */
	uint64_t t0_ns, mono0;
	struct slot ring[GEN_RING];
	pthread_mutex_t mu;		/* guards head, tail, quit */
	pthread_cond_t cv;
	unsigned head, tail;		/* batches made / emitted */
	int quit;			/* the maker stops */
	unsigned batch;			/* datagrams per batch of the maker */
	/* the maker's */
	struct flow *flows;
	uint64_t made, data_made;
	/* the sender's: what went out, and at the last live line */
	int fatal;
	uint64_t pkts, flows_sent, bytes, errors;
	uint64_t live_next, live_at, live_pkts, live_flows, live_bytes;
	int live_shown;
};

void gen_cfg_defaults(struct gen_cfg *c)
{
	static const char *const src = "10.0.0.0/8", *const dst = "192.168.0.0/16";
	char err[128];
	unsigned n;

	memset(c, 0, sizeof(*c));
	c->host = "127.0.0.1";
	c->port = GEN_PORT_IPFIX;
	c->rate = 1000;
	c->flows_per_packet = 10;
	c->domain = 1;
	c->template_interval_s = 30;
	c->proto = GEN_IPFIX;
	c->exporters = 1;
	c->sampling_rate = 1;
	c->mtu = 1500;
	c->distribution = "uniform";
	prog_parse_cidr_list(src, c->model.src, MODEL_MAX_RANGES, &c->model.nsrc, err, sizeof(err));
	prog_parse_cidr_list(dst, c->model.dst, MODEL_MAX_RANGES, &c->model.ndst, err, sizeof(err));
	parse_protocols("6,17", c->model.protos, MODEL_MAX_PROTOS, &n, err, sizeof(err));
	c->model.nprotos = n;
	c->model.sport = (struct prog_range){ 1024, 65535 };
	c->model.dport = (struct prog_range){ 1, 1024 };
}

uint16_t gen_proto_port(enum gen_proto p)
{
	switch (p) {
	case GEN_SFLOW:
		return GEN_PORT_SFLOW;
	case GEN_V9:
	case GEN_V5:
		return GEN_PORT_NETFLOW;
	default:
		return GEN_PORT_IPFIX;
	}
}

uint64_t gen_schedule_ns(uint64_t t0_ns, uint64_t rate, uint64_t k)
{
	if (!rate)
		return t0_ns + k * GEN_NOMINAL_PERIOD_NS;
	return t0_ns + (uint64_t)((unsigned __int128)k * NS_PER_S / rate);
}

uint64_t gen_seed_epoch_ns(uint64_t seed)
{
	return (GEN_SEED_EPOCH_S + seed % 1000000u) * NS_PER_S;
}

size_t gen_payload_max(uint32_t mtu, int v6)
{
	size_t hdr = (v6 ? 40 : 20) + 8;

	return mtu > hdr ? mtu - hdr : 0;
}

/* ---- setup ---- */

_Static_assert(GEN_EXIT_USAGE == PROG_EXIT_USAGE, "exit 2 is bad usage in every program");

/* A flag combination that only the run finds impossible (IPv6 with v5,
 * records no datagram carries, a host that does not resolve) is a usage
 * error like any bad flag: said as one ("weir-generator: ...; see --help",
 * prog_cli_error) on stderr, exit 2. */
static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int refuse(const char *fmt, ...)
{
	char msg[PROG_LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return prog_cli_error(msg);
}

static int resolve(struct run *r)
{
	const struct gen_cfg *c = r->cfg;
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai;
	char port[8];
	uint16_t p;
	int e;

	snprintf(port, sizeof(port), "%u", c->port);
	e = getaddrinfo(c->host, port, &hints, &ai);
	if (e)
		return refuse("-H %s: %s", c->host, gai_strerror(e));
	memcpy(&r->ss, ai->ai_addr, ai->ai_addrlen);
	r->sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	udp_sockaddr((struct sockaddr *)&r->ss, &r->dst, &p);
	return GEN_EXIT_OK;
}

/* Flag combinations only the run can judge. */
static int check_cfg(struct run *r)
{
	const struct gen_cfg *c = r->cfg;
	uint64_t last_domain = (uint64_t)c->domain + c->exporters - 1;

	if (c->proto == GEN_V5) {
		if (model_has_family(&r->model, 1)) {
			return refuse("NetFlow v5 carries IPv4 flows only: --src-cidr and --dst-cidr "
				      "must be IPv4 ranges");
		}
		if (c->sampling_rate > 0x3fff) {
			return refuse("--sampling-rate %u: NetFlow v5 carries at most 16383",
				      c->sampling_rate);
		}
		if (last_domain > 0xffff) {
			return refuse("NetFlow v5 domains (engine type and id) are 16 bits: "
				      "--observation-domain-id + --exporters - 1 = %llu",
				      (unsigned long long)last_domain);
		}
	}
	if (last_domain > UINT32_MAX)
		return refuse("--observation-domain-id + --exporters - 1 is above 2^32 - 1");
	return GEN_EXIT_OK;
}

static int raise_nofile(uint32_t n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
		return -1;
	rl.rlim_cur = need;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int open_output(struct run *r)
{
	const struct gen_cfg *c = r->cfg;
	int v6 = !weir_addr_is_v4(&r->dst);
	char err[256];

	r->src = calloc(c->exporters, sizeof(*r->src));
	r->sport = calloc(c->exporters, sizeof(*r->sport));
	if (!r->src || !r->sport) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return GEN_EXIT_FAIL;
	}
	if (r->pcap_mode) {
		static const uint8_t lo4[4] = { 127, 0, 0, 1 };
		static const uint8_t lo6[16] = { [15] = 1 };

		if (pcapw_open(&r->pcap, c->pcap_out, &r->dst, c->port, err, sizeof(err))) {
			prog_log(PROG_LOG_ERROR, "--pcap-out %s", err);
			return GEN_EXIT_FAIL;
		}
		for (uint32_t i = 0; i < c->exporters; i++) {
			if (v6)
				weir_addr_v6(&r->src[i], lo6);
			else
				weir_addr_v4(&r->src[i], lo4);
			r->sport[i] = (uint16_t)(GEN_PCAP_SPORT + i);
		}
		return GEN_EXIT_OK;
	}
	if (raise_nofile(c->exporters)) {
		prog_log(PROG_LOG_ERROR, "--exporters %u: the open-file limit is too low (ulimit -n)",
		     c->exporters);
		return GEN_EXIT_FAIL;
	}
	if (udp_open(&r->udp, (struct sockaddr *)&r->ss, r->sl, c->exporters, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "%s", err);
		return GEN_EXIT_FAIL;
	}
	memcpy(r->src, r->udp.local, c->exporters * sizeof(*r->src));
	memcpy(r->sport, r->udp.port, c->exporters * sizeof(*r->sport));
	return GEN_EXIT_OK;
}

/* Whether -f records fit payload bytes: WEIR_OK, WEIR_E_INVALID (*max_fit
 * set), or WEIR_E_NOMEM. The agent address family decides the sFlow header
 * size; the exporters' addresses are of the collector's family. */
static int fits_in(const struct run *r, size_t payload, uint32_t *max_fit)
{
	struct weir_addr agent = r->dst;
	char err[512];

	return sim_fit_check(&r->scfg, &r->model, &agent, payload, r->cfg->flows_per_packet,
			     max_fit, err, sizeof(err));
}

/* r->payload, the UDP payload limit: what --mtu leaves; when -f records
 * need more, the least that holds them (the datagrams exceed the MTU and
 * the IP layer fragments them: said once, with how to avoid it). Refused
 * only when not even the largest UDP datagram holds them. */
static int fit_payload(struct run *r, int v6)
{
	const struct gen_cfg *c = r->cfg;
	size_t mtu_pl = gen_payload_max(c->mtu, v6), lo = mtu_pl, hdr;
	size_t hi = v6 ? GEN_UDP_MAX_V6 : GEN_UDP_MAX_V4;
	uint32_t mtu_fit, max_fit;
	char how[128];
	int e = fits_in(r, lo, &mtu_fit);

	if (e == WEIR_OK) {
		r->payload = lo;
		return GEN_EXIT_OK;
	}
	if (e == WEIR_E_INVALID)
		e = fits_in(r, hi, &max_fit);
	if (e == WEIR_E_INVALID) {
		if (c->proto == GEN_V5 && c->flows_per_packet > 30)
			snprintf(how, sizeof(how), "v5 carries at most 30");
		else
			snprintf(how, sizeof(how), "at most %u do in the largest UDP datagram, %zu bytes",
				 max_fit, hi);
		return refuse("%u %s records do not fit one datagram (%s): lower -f",
			      c->flows_per_packet, gen_proto_name(c->proto), how);
	}
	if (e) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return GEN_EXIT_FAIL;
	}
	/* lo does not fit, hi does: the least that fits, by bisection. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		e = fits_in(r, mid, &max_fit);
		if (e && e != WEIR_E_INVALID) {
			prog_log(PROG_LOG_ERROR, "out of memory");
			return GEN_EXIT_FAIL;
		}
		if (e)
			lo = mid;
		else
			hi = mid;
	}
	r->payload = hi;
	hdr = (size_t)c->mtu - mtu_pl;
	if (mtu_fit)
		snprintf(how, sizeof(how), "lower -f to %u or raise --mtu to %zu", mtu_fit, hi + hdr);
	else
		snprintf(how, sizeof(how), "raise --mtu to %zu", hi + hdr);
	/* A capture holds them whole, as taken before the IP layer splits them. */
	prog_log(PROG_LOG_WARN, "-f %u: %s datagrams of up to %zu bytes exceed the %zu-byte UDP "
		 "payload of --mtu %u and %s; to avoid it, %s", c->flows_per_packet,
		 gen_proto_name(c->proto), hi, mtu_pl, c->mtu,
		 r->pcap_mode ? "go into the capture as IP packets larger than the MTU" :
				"will be IP-fragmented", how);
	return GEN_EXIT_OK;
}

static int setup(struct run *r)
{
	const struct gen_cfg *c = r->cfg;
	struct model_cfg mc = c->model;
	char err[512];
	int ret, v6;

	mc.seed = c->seed;
	mc.sampling_rate = c->sampling_rate ? c->sampling_rate : 1;
	mc.sflow = c->proto == GEN_SFLOW;
	if (model_init(&r->model, &mc, err, sizeof(err)))
		return refuse("%s", err);
	ret = check_cfg(r);
	if (ret)
		return ret;
	ret = resolve(r);
	if (ret)
		return ret;
	v6 = !weir_addr_is_v4(&r->dst);

	r->pcap_mode = c->pcap_out != NULL;
	r->schedule = r->pcap_mode || c->seeded;
	r->t0_ns = c->seeded ? gen_seed_epoch_ns(c->seed) : prog_now_real();
	r->scfg = (struct sim_cfg){
		.proto = c->proto,
		.sampling_rate = mc.sampling_rate,
		.template_interval_ns = c->template_interval_s * NS_PER_S,
		.boot_ns = r->t0_ns - GEN_UPTIME_AT_START,
	};
	ret = fit_payload(r, v6);
	if (ret)
		return ret;
	for (int i = 0; i < GEN_RING; i++) {
		r->ring[i].bufs = malloc(GEN_BATCH * r->payload);
		if (!r->ring[i].bufs) {
			prog_log(PROG_LOG_ERROR, "out of memory");
			return GEN_EXIT_FAIL;
		}
	}
	r->flows = calloc(c->flows_per_packet, sizeof(*r->flows));
	r->xs = calloc(c->exporters, sizeof(*r->xs));
	if (!r->flows || !r->xs || ledger_init(&r->led, c->exporters)) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return GEN_EXIT_FAIL;
	}
	ret = open_output(r);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < c->exporters; i++) {
		struct ledger_exp *e = &r->led.exp[i];

		if (sim_init(&r->xs[i], &r->scfg, i, c->domain + i, &r->src[i])) {
			prog_log(PROG_LOG_ERROR, "out of memory");
			return GEN_EXIT_FAIL;
		}
		r->nx = i + 1;
		e->addr = r->src[i];
		e->port = r->sport[i];
		e->domain = c->domain + i;
	}
	return GEN_EXIT_OK;
}

static void teardown(struct run *r)
{
	for (uint32_t i = 0; i < r->nx; i++)
		sim_free(&r->xs[i]);
	free(r->xs);
	for (int i = 0; i < GEN_RING; i++)
		free(r->ring[i].bufs);
	free(r->flows);
	free(r->src);
	free(r->sport);
	udp_close(&r->udp);
	ledger_free(&r->led);
}

/* ---- the loop ----
 *
 * Below GEN_THREAD_RATE datagrams per second one thread waits for the
 * tokens of a batch, makes it and sends it, so that real-clock timestamps
 * are those of the send. From that rate up, and unpaced (-r 0, or
 * --pcap-out), a maker thread fills a ring of GEN_RING batches while this
 * thread paces and sends (or writes) them: making and sending then use two
 * cores. Paced batches hold a millisecond's worth, so real-clock timestamps
 * lead the send by a few milliseconds at most. The maker owns the model,
 * the exporters' encoders and the made counters; this thread the sockets,
 * the pcap file, the ledger and the counters of what went out. The bytes
 * are the same either way: they depend on the model clock only. */

static uint64_t model_time(const struct run *r, uint64_t mono_now)
{
	if (r->schedule)
		return gen_schedule_ns(r->t0_ns, r->cfg->rate, r->made);
	return r->t0_ns + (mono_now - r->mono0);
}

/* Make up to n datagrams into s, and say in s->end / s->why whether the
 * stream ends with them (count, pcap duration, an encoder error). */
static void make(struct run *r, struct slot *s, unsigned n, uint64_t mono_now)
{
	const struct gen_cfg *c = r->cfg;
	unsigned i;

	s->end = 0;
	s->why = NULL;
	for (i = 0; i < n; i++) {
		uint64_t t = model_time(r, mono_now);
		uint32_t e = (uint32_t)((r->data_made / GEN_RUN_LEN) % c->exporters);
		struct sim_exporter *x = &r->xs[e];
		uint8_t *buf = s->bufs + i * r->payload;
		int err;

		if (c->count && r->data_made >= c->count)
			break;
		if (r->pcap_mode && c->duration_ns && t - r->t0_ns >= c->duration_ns) {
			s->end = 1;
			s->why = "duration";
			break;
		}
		if (sim_template_due(x, t)) {
			err = sim_templates(x, t, buf, r->payload, &s->info[i]);
		} else {
			model_flows(&r->model, t, r->flows, c->flows_per_packet);
			err = sim_data(x, t, r->flows, c->flows_per_packet, buf, r->payload,
				       &s->info[i]);
			if (!err)
				r->data_made++;
		}
		if (err) {
			/* sim_fit_check ruled this out: a bug, not a flag. */
			prog_log(PROG_LOG_ERROR, "encoding a %s datagram failed: %s",
			     gen_proto_name(c->proto), weir_strerror(err));
			s->end = 1;
			s->why = "error";
			break;
		}
		r->made++;
		s->iov[i].iov_base = buf;
		s->iov[i].iov_len = s->info[i].len;
		memset(&s->mm[i], 0, sizeof(s->mm[i]));
		s->mm[i].msg_hdr.msg_iov = &s->iov[i];
		s->mm[i].msg_hdr.msg_iovlen = 1;
	}
	s->n = i;
	if (!s->end && c->count && r->data_made >= c->count) {
		s->end = 1;
		s->why = "count";
	}
}

static void *maker(void *arg)
{
	struct run *r = arg;

	for (;;) {
		struct slot *s;
		int quit;

		pthread_mutex_lock(&r->mu);
		while (r->head - r->tail == GEN_RING && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		quit = r->quit;
		pthread_mutex_unlock(&r->mu);
		if (quit)
			return NULL;
		s = &r->ring[r->head % GEN_RING];
		make(r, s, r->batch, pace_now());
		pthread_mutex_lock(&r->mu);
		r->head++;
		if (r->head - r->tail == 1 || s->end)
			pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (s->end)
			return NULL;
	}
}

/* The next batch of the maker, or NULL after 50 ms without one. */
static struct slot *next_slot(struct run *r)
{
	struct timespec ts;
	struct slot *s = NULL;
	uint64_t until = pace_now() + 50000000ull;

	ts.tv_sec = (time_t)(until / NS_PER_S);
	ts.tv_nsec = (long)(until % NS_PER_S);
	pthread_mutex_lock(&r->mu);
	while (r->head == r->tail && !*r->stop)
		if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT)
			break;
	if (r->head != r->tail)
		s = &r->ring[r->tail % GEN_RING];
	pthread_mutex_unlock(&r->mu);
	return s;
}

static void release_slot(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	r->tail++;
	if (r->head - r->tail == GEN_RING / 2)
		pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void account(struct run *r, const struct dg_info *d, int status)
{
	if (status) {
		ledger_failed(&r->led, d, status);
		r->errors++;
		if (r->errors == 1)
			prog_log(PROG_LOG_WARN, "sendmmsg: %s (datagrams that fail are counted in the "
			     "ledger's send_errors; further ones are not logged)", strerror(status));
		return;
	}
	ledger_sent(&r->led, d);
	r->pkts++;
	r->flows_sent += d->records;
	r->bytes += d->len;
}

static void emit(struct run *r, struct slot *s)
{
	if (r->pcap_mode) {
		for (unsigned i = 0; i < s->n; i++) {
			const struct dg_info *d = &s->info[i];
			int err = pcapw_write(&r->pcap, &r->src[d->exporter], r->sport[d->exporter],
					      s->iov[i].iov_base, d->len, d->time_ns);

			if (err) {
				prog_log(PROG_LOG_ERROR, "--pcap-out %s: %s", r->cfg->pcap_out,
				     err == WEIR_E_IO ? strerror(errno) : weir_strerror(err));
				r->fatal = 1;
				return;
			}
			account(r, d, 0);
		}
		return;
	}
	for (unsigned a = 0; a < s->n;) {
		uint32_t e = s->info[a].exporter;
		unsigned k = a + 1;

		while (k < s->n && s->info[k].exporter == e)
			k++;
		udp_send(&r->udp, e, s->mm + a, k - a, s->status + a);
		for (unsigned i = a; i < k; i++)
			account(r, &s->info[i], s->status[i]);
		a = k;
	}
}

static void live_tick(struct run *r, uint64_t now)
{
	double dt;

	if (!r->cfg->live || now < r->live_next)
		return;
	dt = (double)(now - r->live_at) / 1e9;
	if (dt <= 0)
		return;
	fprintf(stderr, "\r%10.0f pkt/s %11.0f flows/s %9.2f Mbit/s | %llu packets, "
		"%llu flows, %llu errors\033[K",
		(double)(r->pkts - r->live_pkts) / dt, (double)(r->flows_sent - r->live_flows) / dt,
		(double)(r->bytes - r->live_bytes) * 8 / dt / 1e6, (unsigned long long)r->pkts,
		(unsigned long long)r->flows_sent, (unsigned long long)r->errors);
	r->live_shown = 1;
	r->live_at = now;
	r->live_next = now + NS_PER_S;
	r->live_pkts = r->pkts;
	r->live_flows = r->flows_sent;
	r->live_bytes = r->bytes;
}

static int duration_over(const struct run *r, uint64_t now)
{
	return !r->pcap_mode && r->cfg->duration_ns && now - r->mono0 >= r->cfg->duration_ns;
}

/* Paced: wait for a batch worth of tokens, make the batch, send it. */
static const char *loop_paced(struct run *r)
{
	const struct gen_cfg *c = r->cfg;
	uint64_t want = pace_batch(c->rate, GEN_BATCH);
	struct slot *s = &r->ring[0];
	struct tb tb;

	tb_init(&tb, c->rate, pace_burst(c->rate, GEN_BATCH), want, r->mono0);
	for (;;) {
		uint64_t now = pace_now(), avail, need = want;

		if (*r->stop)
			return "signal";
		if (duration_over(r, now))
			return "duration";
		if (c->count && c->count - r->data_made < need)
			need = c->count - r->data_made;
		avail = tb_avail(&tb, now);
		if (avail < need) {
			uint64_t until = tb_ready_at(&tb, need);

			if (c->duration_ns && until > r->mono0 + c->duration_ns)
				until = r->mono0 + c->duration_ns;
			pace_wait(until, r->stop);
			live_tick(r, pace_now());
			continue;
		}
		make(r, s, avail < GEN_BATCH ? (unsigned)avail : GEN_BATCH, now);
		tb_take(&tb, s->n);
		emit(r, s);
		live_tick(r, now);
		if (r->fatal)
			return "error";
		if (s->end)
			return s->why;
	}
}

/* Wait until the bucket holds n tokens, and take them. 0, or 1 when a
 * signal or the end of --duration came first. */
static int wait_tokens(struct run *r, struct tb *tb, uint64_t n)
{
	const struct gen_cfg *c = r->cfg;

	for (;;) {
		uint64_t now = pace_now(), until;

		if (*r->stop || duration_over(r, now))
			return 1;
		if (tb_avail(tb, now) >= n) {
			tb_take(tb, n);
			return 0;
		}
		until = tb_ready_at(tb, n);
		if (c->duration_ns && until > r->mono0 + c->duration_ns)
			until = r->mono0 + c->duration_ns;
		pace_wait(until, r->stop);
		live_tick(r, pace_now());
	}
}

/* Send or write what the maker thread makes, paced or not. */
static const char *loop_threaded(struct run *r, int paced)
{
	const struct gen_cfg *c = r->cfg;
	struct tb tb;

	tb_init(&tb, c->rate ? c->rate : 1, pace_burst(c->rate, GEN_BATCH), r->batch, r->mono0);
	for (;;) {
		struct slot *s;
		const char *why;
		int end;

		if (*r->stop)
			return "signal";
		if (duration_over(r, pace_now()))
			return "duration";
		s = next_slot(r);
		if (!s) {
			live_tick(r, pace_now());
			continue;
		}
		if (paced && s->n && wait_tokens(r, &tb, s->n))
			continue;	/* stop or duration: checked above */
		emit(r, s);
		end = s->end;
		why = s->why;
		release_slot(r);
		live_tick(r, pace_now());
		if (r->fatal)
			return "error";
		if (end)
			return why;
	}
}

static const char *loop(struct run *r)
{
	sigset_t block, old;
	pthread_condattr_t ca;
	pthread_t tid;
	const char *why;
	int e, paced;

	r->mono0 = pace_now();
	r->live_at = r->mono0;
	r->live_next = r->mono0 + NS_PER_S;
	paced = r->cfg->rate && !r->pcap_mode;
	r->batch = paced ? (unsigned)pace_batch(r->cfg->rate, GEN_BATCH) : GEN_BATCH;
	if (paced && r->cfg->rate < GEN_THREAD_RATE)
		return loop_paced(r);

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals go to this thread: its sleeps and sends return at once. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	e = pthread_create(&tid, NULL, maker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		prog_log(PROG_LOG_ERROR, "pthread_create: %s", strerror(e));
		why = "error";
		r->fatal = 1;
	} else {
		why = loop_threaded(r, paced);
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		pthread_join(tid, NULL);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	return why;
}

static void summary(const struct run *r, double secs, const char *why)
{
	const struct gen_cfg *c = r->cfg;
	struct ledger_exp t;
	char dst[64];

	ledger_totals(&r->led, &t);
	if (r->live_shown)
		fputc('\n', stderr);
	if (c->quiet)
		return;
	if (secs <= 0)
		secs = 1e-9;
	weir_addr_str(&r->dst, dst, sizeof(dst));
	fprintf(stderr, "weir-generator: %s %s %s%s%s port %u: %llu packets (%llu of templates), "
		"%llu flow records, %llu bytes of payload in %.3f s: %.0f pkt/s, %.0f flows/s, "
		"%.2f Mbit/s; %llu send errors; stopped by %s; seed %llu\n",
		gen_proto_name(c->proto), r->pcap_mode ? "into" : "to",
		r->pcap_mode ? c->pcap_out : dst, r->pcap_mode ? " for " : "",
		r->pcap_mode ? dst : "", c->port,
		(unsigned long long)t.packets, (unsigned long long)t.template_packets,
		(unsigned long long)t.flow_records, (unsigned long long)t.payload_bytes, secs,
		(double)t.packets / secs, (double)t.flow_records / secs,
		(double)t.payload_bytes * 8 / secs / 1e6, (unsigned long long)t.send_errors, why,
		(unsigned long long)c->seed);
}

int gen_run(const struct gen_cfg *cfg, volatile sig_atomic_t *stop)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *why;
	char err[512];
	double secs;
	int ret;

	if (!r) {
		prog_log(PROG_LOG_ERROR, "out of memory");
		return GEN_EXIT_FAIL;
	}
	r->cfg = cfg;
	r->stop = stop;
	ret = setup(r);
	if (ret) {
		pcapw_close(&r->pcap);
		goto out;
	}
	prog_log(PROG_LOG_INFO, "%s to %s port %u, %u exporter(s), -r %llu, -f %u, payload limit %zu "
	     "bytes, seed %llu%s", gen_proto_name(cfg->proto), cfg->host, cfg->port,
	     cfg->exporters, (unsigned long long)cfg->rate, cfg->flows_per_packet, r->payload,
	     (unsigned long long)cfg->seed, cfg->seeded ? "" : " (random)");
	r->led.run = (struct ledger_run){
		.proto = cfg->proto,
		.host = cfg->host,
		.dst = r->dst,
		.dport = cfg->port,
		.pcap_out = cfg->pcap_out,
		.seed = cfg->seed,
		.seeded = cfg->seeded,
		.rate = cfg->rate,
		.flows_per_packet = cfg->flows_per_packet,
		.count = cfg->count,
		.sampling_rate = r->scfg.sampling_rate,
		.mtu = cfg->mtu,
		.template_interval_s = cfg->template_interval_s,
		.distribution = cfg->distribution,
		.argc = cfg->argc,
		.argv = cfg->argv,
		.start_unix_ns = prog_now_real(),
		.model_start_ns = r->t0_ns,
	};

	why = loop(r);
	if (strcmp(why, "error") == 0)
		r->fatal = 1;
	secs = (double)(pace_now() - r->mono0) / 1e9;
	if (r->pcap_mode && pcapw_close(&r->pcap)) {
		prog_log(PROG_LOG_ERROR, "--pcap-out %s: write error", cfg->pcap_out);
		r->fatal = 1;
		why = "error";
	}
	r->led.run.elapsed_s = secs;
	r->led.run.stop_reason = why;
	summary(r, secs, why);
	if (r->udp.refused)
		prog_log(PROG_LOG_INFO, "%llu sends met ECONNREFUSED (nothing listening?) and were retried",
		     (unsigned long long)r->udp.refused);
	ret = r->fatal || r->errors ? GEN_EXIT_FAIL : GEN_EXIT_OK;
	if (cfg->ledger && ledger_write(&r->led, cfg->ledger, err, sizeof(err))) {
		prog_log(PROG_LOG_ERROR, "--ledger %s", err);
		ret = GEN_EXIT_FAIL;
	}
out:
	teardown(r);
	free(r);
	return ret;
}
