#include <arpa/inet.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"

const char *weir_addr_str(const struct weir_addr *x, char *buf, size_t len)
{
	const char *s;

	if (weir_addr_is_v4(x))
		s = inet_ntop(AF_INET, x->a + 12, buf, (socklen_t)len);
	else
		s = inet_ntop(AF_INET6, x->a, buf, (socklen_t)len);
	if (!s && len)
		buf[0] = '\0';
	return buf;
}

int weir_addr_parse(struct weir_addr *x, const char *s)
{
	uint8_t b[16];

	if (inet_pton(AF_INET, s, b) == 1) {
		weir_addr_v4(x, b);
		return WEIR_OK;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		weir_addr_v6(x, b);
		return WEIR_OK;
	}
	return WEIR_E_INVALID;
}
