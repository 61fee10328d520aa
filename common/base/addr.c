#include <arpa/inet.h>
#include <stdio.h>

#include "addr.h"
#include "err.h"
#include "txt.h"

/* Text of each byte value and its length, so that a dotted quad is four
 * fixed-size copies without a branch on the value: addresses in flows are
 * random enough that branches on their magnitude mispredict often. */
static const struct { char c[3]; uint8_t n; } v4byte[256] = {
	{"0", 1}, {"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}, {"6", 1}, {"7", 1},
	{"8", 1}, {"9", 1}, {"10", 2}, {"11", 2}, {"12", 2}, {"13", 2}, {"14", 2}, {"15", 2},
	{"16", 2}, {"17", 2}, {"18", 2}, {"19", 2}, {"20", 2}, {"21", 2}, {"22", 2}, {"23", 2},
	{"24", 2}, {"25", 2}, {"26", 2}, {"27", 2}, {"28", 2}, {"29", 2}, {"30", 2}, {"31", 2},
	{"32", 2}, {"33", 2}, {"34", 2}, {"35", 2}, {"36", 2}, {"37", 2}, {"38", 2}, {"39", 2},
	{"40", 2}, {"41", 2}, {"42", 2}, {"43", 2}, {"44", 2}, {"45", 2}, {"46", 2}, {"47", 2},
	{"48", 2}, {"49", 2}, {"50", 2}, {"51", 2}, {"52", 2}, {"53", 2}, {"54", 2}, {"55", 2},
	{"56", 2}, {"57", 2}, {"58", 2}, {"59", 2}, {"60", 2}, {"61", 2}, {"62", 2}, {"63", 2},
	{"64", 2}, {"65", 2}, {"66", 2}, {"67", 2}, {"68", 2}, {"69", 2}, {"70", 2}, {"71", 2},
	{"72", 2}, {"73", 2}, {"74", 2}, {"75", 2}, {"76", 2}, {"77", 2}, {"78", 2}, {"79", 2},
	{"80", 2}, {"81", 2}, {"82", 2}, {"83", 2}, {"84", 2}, {"85", 2}, {"86", 2}, {"87", 2},
	{"88", 2}, {"89", 2}, {"90", 2}, {"91", 2}, {"92", 2}, {"93", 2}, {"94", 2}, {"95", 2},
	{"96", 2}, {"97", 2}, {"98", 2}, {"99", 2}, {"100", 3}, {"101", 3}, {"102", 3}, {"103", 3},
	{"104", 3}, {"105", 3}, {"106", 3}, {"107", 3}, {"108", 3}, {"109", 3}, {"110", 3}, {"111", 3},
	{"112", 3}, {"113", 3}, {"114", 3}, {"115", 3}, {"116", 3}, {"117", 3}, {"118", 3}, {"119", 3},
	{"120", 3}, {"121", 3}, {"122", 3}, {"123", 3}, {"124", 3}, {"125", 3}, {"126", 3}, {"127", 3},
	{"128", 3}, {"129", 3}, {"130", 3}, {"131", 3}, {"132", 3}, {"133", 3}, {"134", 3}, {"135", 3},
	{"136", 3}, {"137", 3}, {"138", 3}, {"139", 3}, {"140", 3}, {"141", 3}, {"142", 3}, {"143", 3},
	{"144", 3}, {"145", 3}, {"146", 3}, {"147", 3}, {"148", 3}, {"149", 3}, {"150", 3}, {"151", 3},
	{"152", 3}, {"153", 3}, {"154", 3}, {"155", 3}, {"156", 3}, {"157", 3}, {"158", 3}, {"159", 3},
	{"160", 3}, {"161", 3}, {"162", 3}, {"163", 3}, {"164", 3}, {"165", 3}, {"166", 3}, {"167", 3},
	{"168", 3}, {"169", 3}, {"170", 3}, {"171", 3}, {"172", 3}, {"173", 3}, {"174", 3}, {"175", 3},
	{"176", 3}, {"177", 3}, {"178", 3}, {"179", 3}, {"180", 3}, {"181", 3}, {"182", 3}, {"183", 3},
	{"184", 3}, {"185", 3}, {"186", 3}, {"187", 3}, {"188", 3}, {"189", 3}, {"190", 3}, {"191", 3},
	{"192", 3}, {"193", 3}, {"194", 3}, {"195", 3}, {"196", 3}, {"197", 3}, {"198", 3}, {"199", 3},
	{"200", 3}, {"201", 3}, {"202", 3}, {"203", 3}, {"204", 3}, {"205", 3}, {"206", 3}, {"207", 3},
	{"208", 3}, {"209", 3}, {"210", 3}, {"211", 3}, {"212", 3}, {"213", 3}, {"214", 3}, {"215", 3},
	{"216", 3}, {"217", 3}, {"218", 3}, {"219", 3}, {"220", 3}, {"221", 3}, {"222", 3}, {"223", 3},
	{"224", 3}, {"225", 3}, {"226", 3}, {"227", 3}, {"228", 3}, {"229", 3}, {"230", 3}, {"231", 3},
	{"232", 3}, {"233", 3}, {"234", 3}, {"235", 3}, {"236", 3}, {"237", 3}, {"238", 3}, {"239", 3},
	{"240", 3}, {"241", 3}, {"242", 3}, {"243", 3}, {"244", 3}, {"245", 3}, {"246", 3}, {"247", 3},
	{"248", 3}, {"249", 3}, {"250", 3}, {"251", 3}, {"252", 3}, {"253", 3}, {"254", 3}, {"255", 3},
};

/* Dotted quad at o; returns its length (7..15). Writes at most 15 bytes
 * (past the length only within them). */
size_t weir_fmt_v4(char *o, const uint8_t *a)
{
	char *s = o;

	/* Each copy writes 3 bytes and advances by the digits it holds; the
	 * next write lands on the slack, so nothing goes past the 15 bytes
	 * of the longest quad. */
	for (int i = 0; i < 3; i++) {
		memcpy(o, v4byte[a[i]].c, 3);
		o += v4byte[a[i]].n;
		*o++ = '.';
	}
	memcpy(o, v4byte[a[3]].c, 3);
	o += v4byte[a[3]].n;
	return (size_t)(o - s);
}

/* RFC 5952 text of a 16-byte address at o (at most 45 bytes): lower case,
 * no leading zeros, the longest run of two or more zero groups (the first
 * of equal runs) as "::", IPv4-mapped addresses as ::ffff:a.b.c.d. */
size_t weir_fmt_v6(char *o, const uint8_t *a)
{
	char *s = o;
	int bs = -1, bl = 0, cs = -1, cl = 0;
	uint16_t g[8];

	if (memcmp(a, weir_v4_prefix, 12) == 0) {
		memcpy(o, "::ffff:", 7);
		return 7 + weir_fmt_v4(o + 7, a + 12);
	}
	for (int i = 0; i < 8; i++) {
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
		if (g[i] == 0) {
			if (cs < 0) {
				cs = i;
				cl = 0;
			}
			if (++cl > bl && cl >= 2) {
				bs = cs;
				bl = cl;
			}
		} else {
			cs = -1;
		}
	}
	for (int i = 0; i < 8;) {
		unsigned v = g[i];
		int started = 0;

		if (i == bs) {
			*o++ = ':';
			*o++ = ':';
			i += bl;
			continue;
		}
		if (i > 0 && i != bs + bl)
			*o++ = ':';
		for (int sh = 12; sh >= 0; sh -= 4) {
			unsigned d = (v >> sh) & 15;

			if (d || started || sh == 0) {
				*o++ = weir_hexd[d];
				started = 1;
			}
		}
		i++;
	}
	return (size_t)(o - s);
}

size_t weir_addr_fmt(const struct weir_addr *x, char *out)
{
	if (weir_addr_is_v4(x))
		return weir_fmt_v4(out, x->a + 12);
	return weir_fmt_v6(out, x->a);
}

/* Written by hand, not with inet_ntop(): that one goes through sprintf and
 * was half the cost of writing a common JSON line. */
const char *weir_addr_str(const struct weir_addr *x, char *buf, size_t len)
{
	char tmp[WEIR_ADDR_STRLEN];
	size_t n = weir_addr_fmt(x, tmp);

	if (len == 0)
		return buf;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
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
