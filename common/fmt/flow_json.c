/* flow_json.c - struct flow -> JSON line. See flow_json.h. */
#include <string.h>

#include "flow_json.h"
#include "txt.h"
#include "wr.h"

/* The text writers below use the bounded writer of wr.h: a value that does
 * not fit sets its sticky error and the caller returns 0. */
static void put_str(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s));
}

/* ,"k": in one bounded write (keys are literals: strlen folds away). */
static inline __attribute__((always_inline)) void put_key(struct wr *w, const char *k)
{
	size_t n = strlen(k);

	if (!wr_room(w, n + 4))
		return;
	w->buf[w->off] = ',';
	w->buf[w->off + 1] = '"';
	memcpy(w->buf + w->off + 2, k, n);
	w->buf[w->off + 2 + n] = '"';
	w->buf[w->off + 3 + n] = ':';
	w->off += n + 4;
}

static inline __attribute__((always_inline)) void put_num(struct wr *w, const char *k, uint64_t v)
{
	put_key(w, k);
	wr_dec_u64(w, v);
}

static inline __attribute__((always_inline)) void put_addr(struct wr *w, const char *k, const struct weir_addr *a)
{
	char tmp[WEIR_ADDR_STRLEN + 2];
	size_t n;

	put_key(w, k);
	tmp[0] = '"';
	n = weir_addr_fmt(a, tmp + 1);
	tmp[n + 1] = '"';
	wr_bytes(w, tmp, n + 2);
}

static void put_mac(struct wr *w, const char *k, const uint8_t *m)
{
	char tmp[WEIR_MAC_STRLEN + 2];

	tmp[0] = '"';
	weir_mac_fmt(tmp + 1, m);
	tmp[WEIR_MAC_STRLEN + 1] = '"';
	put_key(w, k);
	wr_bytes(w, tmp, sizeof(tmp));
}

/* The members shared by the records of one message. */
static void put_head(struct wr *w, const struct flow *f)
{
	put_str(w, "{\"type\":\"");
	put_str(w, flow_type_name(f->type));
	wr_u8(w, '"');
	put_num(w, "time_received_ns", f->time_received_ns);
	put_num(w, "sequence_num", f->sequence_num);
	put_num(w, "sampling_rate", f->sampling_rate);
	if (f->has & FLOW_HAS_SAMPLER)
		put_addr(w, "sampler_address", &f->sampler_address);
	put_num(w, "observation_domain_id", f->observation_domain_id);
}

static void put_body(struct wr *w, const struct flow *f)
{
	uint64_t h = f->has;

	if (h & FLOW_HAS_TIME_START)
		put_num(w, "time_flow_start_ns", f->time_flow_start_ns);
	if (h & FLOW_HAS_TIME_END)
		put_num(w, "time_flow_end_ns", f->time_flow_end_ns);
	if (h & FLOW_HAS_BYTES)
		put_num(w, "bytes", f->bytes);
	if (h & FLOW_HAS_PACKETS)
		put_num(w, "packets", f->packets);
	if (h & FLOW_HAS_SRC_ADDR)
		put_addr(w, "src_addr", &f->src_addr);
	if (h & FLOW_HAS_DST_ADDR)
		put_addr(w, "dst_addr", &f->dst_addr);
	if (h & FLOW_HAS_ETYPE)
		put_num(w, "etype", f->etype);
	if (h & FLOW_HAS_PROTO)
		put_num(w, "proto", f->proto);
	if (h & FLOW_HAS_SRC_PORT)
		put_num(w, "src_port", f->src_port);
	if (h & FLOW_HAS_DST_PORT)
		put_num(w, "dst_port", f->dst_port);
	if (h & FLOW_HAS_IN_IF)
		put_num(w, "in_if", f->in_if);
	if (h & FLOW_HAS_OUT_IF)
		put_num(w, "out_if", f->out_if);
	if (h & FLOW_HAS_SRC_MAC)
		put_mac(w, "src_mac", f->src_mac);
	if (h & FLOW_HAS_DST_MAC)
		put_mac(w, "dst_mac", f->dst_mac);
	if (h & FLOW_HAS_VLAN)
		put_num(w, "vlan_id", f->vlan_id);
	if (h & FLOW_HAS_DST_VLAN)
		put_num(w, "dst_vlan_id", f->dst_vlan_id);
	if (h & FLOW_HAS_TOS)
		put_num(w, "ip_tos", f->ip_tos);
	if (h & FLOW_HAS_TTL)
		put_num(w, "ip_ttl", f->ip_ttl);
	if (h & FLOW_HAS_TCP_FLAGS)
		put_num(w, "tcp_flags", f->tcp_flags);
	if (h & FLOW_HAS_ICMP) {
		put_num(w, "icmp_type", f->icmp_type);
		put_num(w, "icmp_code", f->icmp_code);
	}
	if (h & FLOW_HAS_SRC_AS)
		put_num(w, "src_as", f->src_as);
	if (h & FLOW_HAS_DST_AS)
		put_num(w, "dst_as", f->dst_as);
	if (h & FLOW_HAS_NEXT_HOP)
		put_addr(w, "next_hop", &f->next_hop);
	if (h & FLOW_HAS_BGP_NEXT_HOP)
		put_addr(w, "bgp_next_hop", &f->bgp_next_hop);
	if (h & FLOW_HAS_SRC_NET)
		put_num(w, "src_net", f->src_net);
	if (h & FLOW_HAS_DST_NET)
		put_num(w, "dst_net", f->dst_net);
	if (h & FLOW_HAS_DIRECTION)
		put_num(w, "flow_direction", f->flow_direction);
	if (h & FLOW_HAS_FLOW_LABEL)
		put_num(w, "ipv6_flow_label", f->ipv6_flow_label);
	if (h & FLOW_HAS_FRAG) {
		put_num(w, "fragment_offset", f->fragment_offset);
		put_num(w, "ip_flags", f->ip_flags);
	}
}

/* The caller's members (x may be NULL), then the end of the object. */
static inline __attribute__((always_inline)) void put_end(struct wr *w, const struct flow_extra *x)
{
	if (x && !w->err) {
		size_t n = x->fn(x->arg, (char *)w->buf + w->off, w->cap - w->off);

		if (n == SIZE_MAX)
			w->err = WEIR_E_NOSPACE;
		else
			w->off += n;
	}
	put_str(w, "}\n");
}

size_t flow_json(const struct flow *f, char *buf, size_t cap)
{
	struct wr w;

	wr_init(&w, buf, cap);
	put_head(&w, f);
	put_body(&w, f);
	put_end(&w, NULL);
	return w.err ? 0 : w.off;
}

static int head_matches(const struct flow_json_cache *c, const struct flow *f)
{
	return c->len && c->time_received_ns == f->time_received_ns &&
	       c->sequence_num == f->sequence_num && c->sampling_rate == f->sampling_rate &&
	       c->observation_domain_id == f->observation_domain_id && c->type == f->type &&
	       c->has_sampler == !!(f->has & FLOW_HAS_SAMPLER) &&
	       (!c->has_sampler || weir_addr_eq(&c->sampler_address, &f->sampler_address));
}

static inline __attribute__((always_inline)) size_t
json_cached(const struct flow *f, char *buf, size_t cap, struct flow_json_cache *c,
	    const struct flow_extra *x)
{
	struct wr w;

	if (!head_matches(c, f)) {
		wr_init(&w, c->text, sizeof(c->text));
		put_head(&w, f);
		if (w.err) {
			c->len = 0;
			wr_init(&w, buf, cap);
			put_head(&w, f);
			put_body(&w, f);
			put_end(&w, x);
			return w.err ? 0 : w.off;
		}
		c->len = (uint16_t)w.off;
		c->time_received_ns = f->time_received_ns;
		c->sequence_num = f->sequence_num;
		c->sampling_rate = f->sampling_rate;
		c->observation_domain_id = f->observation_domain_id;
		c->type = f->type;
		c->has_sampler = !!(f->has & FLOW_HAS_SAMPLER);
		c->sampler_address = f->sampler_address;
	}
	wr_init(&w, buf, cap);
	wr_bytes(&w, c->text, c->len);
	put_body(&w, f);
	put_end(&w, x);
	return w.err ? 0 : w.off;
}

size_t flow_json_cached(const struct flow *f, char *buf, size_t cap, struct flow_json_cache *c)
{
	return json_cached(f, buf, cap, c, NULL);
}

size_t flow_json_cached_x(const struct flow *f, char *buf, size_t cap, struct flow_json_cache *c,
			  const struct flow_extra *x)
{
	return json_cached(f, buf, cap, c, x);
}
