/* addr.h - addresses as 16 bytes: IPv6, or IPv4 mapped (::ffff:a.b.c.d). */
#ifndef WEIR_ADDR_H
#define WEIR_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct weir_addr {
	uint8_t a[16];
};

static const uint8_t weir_v4_prefix[12] = {0,0,0,0,0,0,0,0,0,0,0xff,0xff};

static inline void weir_addr_v4(struct weir_addr *x, const uint8_t v4[4])
{
	memcpy(x->a, weir_v4_prefix, 12);
	memcpy(x->a + 12, v4, 4);
}

static inline void weir_addr_v4u(struct weir_addr *x, uint32_t host_order)
{
	uint8_t b[4] = { host_order >> 24, host_order >> 16, host_order >> 8, host_order };

	weir_addr_v4(x, b);
}

static inline void weir_addr_v6(struct weir_addr *x, const uint8_t v6[16])
{
	memcpy(x->a, v6, 16);
}

static inline int weir_addr_is_v4(const struct weir_addr *x)
{
	return memcmp(x->a, weir_v4_prefix, 12) == 0;
}

static inline int weir_addr_eq(const struct weir_addr *x, const struct weir_addr *y)
{
	return memcmp(x->a, y->a, 16) == 0;
}

/* The exporter a message came from: its UDP source address and port. */
struct weir_exporter {
	struct weir_addr addr;
	uint16_t port;
};

#define WEIR_ADDR_STRLEN 46	/* longest text form and its NUL */

/* Text form ("192.0.2.1", "2001:db8::1", RFC 5952) into buf of len bytes
 * (46 always suffice; shorter text is cut); returns buf. */
const char *weir_addr_str(const struct weir_addr *x, char *buf, size_t len);
/* The same text at out, without a NUL; returns its length (at most 45).
 * IPv4-mapped addresses come out as IPv4. */
size_t weir_addr_fmt(const struct weir_addr *x, char *out);
/* Dotted quad of 4 bytes (7..15 characters), RFC 5952 text of 16 bytes
 * (IPv4-mapped as ::ffff:a.b.c.d); no NUL; return the length. */
size_t weir_fmt_v4(char *o, const uint8_t *a);
size_t weir_fmt_v6(char *o, const uint8_t *a);
/* Parse v4 or v6 text; 0 on success, WEIR_E_INVALID otherwise. */
int weir_addr_parse(struct weir_addr *x, const char *s);

#endif
