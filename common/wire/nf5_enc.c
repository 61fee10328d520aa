/* nf5_enc.c - NetFlow v5 encoder: flows -> one datagram. */
#include "nf5.h"
#include "wr.h"

#define AS_TRANS	23456u	/* RFC 6793 section 9: stands for a 4-octet AS */
#define NS_PER_MS	1000000ull

/* An address v5 can carry: IPv4-mapped, or all zero (absent). */
static int v4_of(const struct weir_addr *a, uint32_t *out)
{
	static const struct weir_addr zero;

	if (weir_addr_eq(a, &zero)) {
		*out = 0;
		return 1;
	}
	if (!weir_addr_is_v4(a))
		return 0;
	*out = (uint32_t)a->a[12] << 24 | (uint32_t)a->a[13] << 16 |
	       (uint32_t)a->a[14] << 8 | a->a[15];
	return 1;
}

/* Uptime (ms, modulo 2^32) of an absolute time, given the boot time. */
static uint32_t uptime_of(uint64_t t_ns, uint64_t boot_ms)
{
	return (uint32_t)(t_ns / NS_PER_MS - boot_ms);
}

static int nf5_put_flow(struct wr *w, const struct nf5_hdr *h, uint64_t boot_ms,
			const struct flow *f)
{
	uint32_t src, dst, nh;
	uint32_t first = h->sys_uptime_ms, last = h->sys_uptime_ms;

	if (!v4_of(&f->src_addr, &src) || !v4_of(&f->dst_addr, &dst) ||
	    !v4_of(&f->next_hop, &nh))
		return WEIR_E_INVALID;
	if (f->in_if > 0xffff || f->out_if > 0xffff ||
	    f->packets > UINT32_MAX || f->bytes > UINT32_MAX)
		return WEIR_E_INVALID;
	if (f->has & FLOW_HAS_TIME_START)
		first = uptime_of(f->time_flow_start_ns, boot_ms);
	if (f->has & FLOW_HAS_TIME_END)
		last = uptime_of(f->time_flow_end_ns, boot_ms);

	wr_u32(w, src);
	wr_u32(w, dst);
	wr_u32(w, nh);
	wr_u16(w, (uint16_t)f->in_if);
	wr_u16(w, (uint16_t)f->out_if);
	wr_u32(w, (uint32_t)f->packets);
	wr_u32(w, (uint32_t)f->bytes);
	wr_u32(w, first);
	wr_u32(w, last);
	wr_u16(w, f->src_port);
	wr_u16(w, f->dst_port);
	wr_u8(w, 0);
	wr_u8(w, (uint8_t)f->tcp_flags);
	wr_u8(w, f->proto);
	wr_u8(w, f->ip_tos);
	wr_u16(w, f->src_as > 0xffff ? AS_TRANS : (uint16_t)f->src_as);
	wr_u16(w, f->dst_as > 0xffff ? AS_TRANS : (uint16_t)f->dst_as);
	wr_u8(w, f->src_net);
	wr_u8(w, f->dst_net);
	wr_u16(w, 0);
	return w->err;
}

int nf5_encode(const struct nf5_hdr *h, const struct flow *flows, size_t n,
	       void *buf, size_t cap, size_t *len)
{
	uint64_t boot_ms;
	struct wr w;
	int err;

	if (n == 0 || n > NF5_MAX_RECORDS)
		return WEIR_E_INVALID;
	boot_ms = (uint64_t)h->unix_secs * 1000 + h->unix_nsecs / NS_PER_MS - h->sys_uptime_ms;
	wr_init(&w, buf, cap);
	wr_u16(&w, NF5_VERSION);
	wr_u16(&w, (uint16_t)n);
	wr_u32(&w, h->sys_uptime_ms);
	wr_u32(&w, h->unix_secs);
	wr_u32(&w, h->unix_nsecs);
	wr_u32(&w, h->flow_sequence);
	wr_u8(&w, h->engine_type);
	wr_u8(&w, h->engine_id);
	wr_u16(&w, (uint16_t)((h->sampling_mode & 3u) << 14 | (h->sampling_interval & 0x3fffu)));
	for (size_t i = 0; i < n; i++) {
		err = nf5_put_flow(&w, h, boot_ms, &flows[i]);
		if (err)
			return err;
	}
	if (w.err)
		return w.err;
	*len = w.off;
	return WEIR_OK;
}
