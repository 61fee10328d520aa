/* pktbuild.c - see pktbuild.h. */
#include <endian.h>
#include <string.h>

#include "err.h"
#include "pktbuild.h"

uint64_t pktb_sum(uint64_t sum, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t i = 0;

	/* Four words at a time: the sum is associative (RFC 1071 section
	 * 2(B)); carries are folded at the end. */
	for (; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		v = be64toh(v);
		sum += (v >> 48) + (v >> 32 & 0xffff) + (v >> 16 & 0xffff) + (v & 0xffff);
	}
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

uint16_t pktb_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void pktb_init(struct pktb *b, void *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	wr_init(&b->w, buf, cap);
}

void pktb_eth(struct pktb *b, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	wr_bytes(&b->w, dst, 6);
	wr_bytes(&b->w, src, 6);
	wr_u16(&b->w, type);
}

void pktb_vlan(struct pktb *b, uint16_t tci, uint16_t type)
{
	wr_u16(&b->w, tci);
	wr_u16(&b->w, type);
}

void pktb_ipv4(struct pktb *b, const struct pktb_ip4 *ip)
{
	if (ip->optlen % 4 || ip->optlen > 40) {
		b->w.err = WEIR_E_INVALID;
		return;
	}
	b->l3 = 4;
	b->l3_off = b->w.off;
	b->keep_l3_len = ip->total != 0;
	wr_u8(&b->w, (uint8_t)(0x40 | (5 + ip->optlen / 4)));
	wr_u8(&b->w, ip->tos);
	wr_u16(&b->w, ip->total);
	wr_u16(&b->w, ip->id);
	wr_u16(&b->w, ip->frag);
	wr_u8(&b->w, ip->ttl);
	wr_u8(&b->w, ip->proto);
	wr_u16(&b->w, 0);		/* checksum: pktb_finish */
	wr_bytes(&b->w, ip->src, 4);
	wr_bytes(&b->w, ip->dst, 4);
	for (unsigned i = 0; i < ip->optlen; i++)
		wr_u8(&b->w, 1);	/* NOP */
}

void pktb_ipv6(struct pktb *b, const struct pktb_ip6 *ip)
{
	b->l3 = 6;
	b->l3_off = b->w.off;
	b->keep_l3_len = ip->plen != 0;
	wr_u32(&b->w, 6u << 28 | (uint32_t)ip->tc << 20 | (ip->flow & 0xfffff));
	wr_u16(&b->w, ip->plen);
	wr_u8(&b->w, ip->nh);
	wr_u8(&b->w, ip->hlim);
	wr_bytes(&b->w, ip->src, 16);
	wr_bytes(&b->w, ip->dst, 16);
}

void pktb_udp(struct pktb *b, uint16_t sport, uint16_t dport, uint16_t len)
{
	b->l4 = PKTB_UDP;
	b->l4_off = b->w.off;
	b->keep_udp_len = len != 0;
	wr_u16(&b->w, sport);
	wr_u16(&b->w, dport);
	wr_u16(&b->w, len);
	wr_u16(&b->w, 0);
}

void pktb_tcp(struct pktb *b, const struct pktb_tcp *t)
{
	b->l4 = PKTB_TCP;
	b->l4_off = b->w.off;
	wr_u16(&b->w, t->sport);
	wr_u16(&b->w, t->dport);
	wr_u32(&b->w, t->seq);
	wr_u32(&b->w, t->ack);
	wr_u16(&b->w, (uint16_t)(5u << 12 | (t->flags & 0x1ff)));	/* no options */
	wr_u16(&b->w, t->window);
	wr_u16(&b->w, 0);		/* checksum */
	wr_u16(&b->w, 0);		/* urgent pointer */
}

void pktb_icmp(struct pktb *b, uint8_t type, uint8_t code, uint32_t rest)
{
	b->l4 = b->l3 == 6 ? PKTB_ICMPV6 : PKTB_ICMP;
	b->l4_off = b->w.off;
	wr_u8(&b->w, type);
	wr_u8(&b->w, code);
	wr_u16(&b->w, 0);
	wr_u32(&b->w, rest);
}

void pktb_bytes(struct pktb *b, const void *p, size_t n)
{
	wr_bytes(&b->w, p, n);
}

/* The pseudo-header's sum (RFC 768, RFC 8200 section 8.1) for an upper
 * layer of len bytes. */
static uint64_t pseudo_sum(const struct pktb *b, uint8_t proto, size_t len)
{
	const uint8_t *ip = b->w.buf + b->l3_off;

	if (b->l3 == 4)
		return pktb_sum(0, ip + 12, 8) + proto + len;
	return pktb_sum(0, ip + 8, 32) + (len >> 16) + (len & 0xffff) + proto;
}

static size_t finish(struct pktb *b, int l4_csum)
{
	uint8_t *buf = b->w.buf;
	size_t end = b->w.off, l4len;
	uint64_t sum = 0;
	uint16_t ck;
	int ck_at;

	if (b->w.err)
		return 0;
	if (b->l3 == 4 && !b->keep_l3_len) {
		if (end - b->l3_off > 0xffff)
			return 0;
		wr_put_u16(&b->w, b->l3_off + 2, (uint16_t)(end - b->l3_off));
	} else if (b->l3 == 6 && !b->keep_l3_len) {
		if (end - b->l3_off - 40 > 0xffff)
			return 0;
		wr_put_u16(&b->w, b->l3_off + 4, (uint16_t)(end - b->l3_off - 40));
	}
	if (b->l3 == 4)
		wr_put_u16(&b->w, b->l3_off + 10,
			   pktb_fold(pktb_sum(0, buf + b->l3_off, (size_t)(buf[b->l3_off] & 15) * 4)));
	if (!b->l4)
		return end;
	l4len = end - b->l4_off;
	if (b->l4 == PKTB_UDP && !b->keep_udp_len) {
		if (l4len > 0xffff)
			return 0;
		wr_put_u16(&b->w, b->l4_off + 4, (uint16_t)l4len);
	}
	if (!l4_csum)
		return b->w.err ? 0 : end;
	switch (b->l4) {
	case PKTB_UDP:
		ck_at = 6;
		break;
	case PKTB_TCP:
		ck_at = 16;
		break;
	default:
		ck_at = 2;
	}
	if (b->l4 != PKTB_ICMP) {
		if (!b->l3)
			return 0;	/* the pseudo-header needs the addresses */
		sum = pseudo_sum(b, b->l4, l4len);
	}
	ck = pktb_fold(pktb_sum(sum, buf + b->l4_off, l4len));
	/* RFC 768: a computed UDP checksum of 0 goes out as all ones (0
	 * means "none"). */
	if (b->l4 == PKTB_UDP && ck == 0)
		ck = 0xffff;
	wr_put_u16(&b->w, b->l4_off + (size_t)ck_at, ck);
	return b->w.err ? 0 : end;
}

size_t pktb_finish(struct pktb *b)
{
	return finish(b, 1);
}

size_t pktb_finish_cut(struct pktb *b)
{
	return finish(b, 0);
}
