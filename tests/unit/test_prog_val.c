/* Unit tests of the shared value parsers (common/prog/prog_val.c): numbers,
 * sizes, durations, addresses, address ranges, port ranges. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "prog_val.h"

static char err[256];

static struct prog_cidr cidr(const char *s)
{
	struct prog_cidr c;

	cr_assert_eq(prog_parse_cidr(s, &c, err, sizeof(err)), WEIR_OK, "%s: %s", s, err);
	return c;
}

static void expect_addr(const struct weir_addr *a, const char *text)
{
	char buf[64];

	cr_assert_str_eq(weir_addr_str(a, buf, sizeof(buf)), text);
}

Test(prog_val, cidr_ipv4)
{
	struct prog_cidr c = cidr("10.0.0.0/8");

	cr_assert_eq(c.v6, 0);
	cr_assert_eq(c.plen, 8);
	expect_addr(&c.base, "10.0.0.0");
}

Test(prog_val, cidr_clears_host_bits)
{
	struct prog_cidr c = cidr("192.168.77.130/25");

	cr_assert_eq(c.plen, 25);
	expect_addr(&c.base, "192.168.77.128");
	c = cidr("2001:db8:abcd:12ff::1/52");
	cr_assert_eq(c.v6, 1);
	cr_assert_eq(c.plen, 52);
	expect_addr(&c.base, "2001:db8:abcd:1000::");
}

Test(prog_val, cidr_bare_address_is_a_host)
{
	struct prog_cidr c = cidr("192.0.2.7");

	cr_assert_eq(c.plen, 32);
	expect_addr(&c.base, "192.0.2.7");
	c = cidr("2001:db8::7");
	cr_assert_eq(c.plen, 128);
	c = cidr("0.0.0.0/0");
	cr_assert_eq(c.plen, 0);
	expect_addr(&c.base, "0.0.0.0");
	c = cidr("::/0");
	cr_assert_eq(c.v6, 1);
	cr_assert_eq(c.plen, 0);
}

struct bad {
	char s[48];
};

ParameterizedTestParameters(prog_val, cidr_bad)
{
	static struct bad b[] = {
		{ "" }, { "/8" }, { "10.0.0.0/" }, { "10.0.0.0/33" }, { "10.0.0.0/-1" },
		{ "10.0.0.0/8x" }, { "10.0.0/8" }, { "10.0.0.256/24" }, { "host/8" },
		{ "2001:db8::/129" }, { "2001:db8:::/64" }, { "10.0.0.0/ 8" }, { " 10.0.0.0/8" },
		{ "10.0.0.0/8/8" }, { "10.0.0.0/+8" },
	};
	return cr_make_param_array(struct bad, b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad *b, prog_val, cidr_bad)
{
	struct prog_cidr c;

	err[0] = 0;
	cr_assert_eq(prog_parse_cidr(b->s, &c, err, sizeof(err)), WEIR_E_INVALID, "'%s' accepted", b->s);
	cr_assert_neq(err[0], 0, "no message for '%s'", b->s);
}

Test(prog_val, cidr_list)
{
	struct prog_cidr c[4];
	unsigned n;

	cr_assert_eq(prog_parse_cidr_list("10.0.0.0/8,2001:db8::/32,192.0.2.1", c, 4, &n, err,
				     sizeof(err)), WEIR_OK);
	cr_assert_eq(n, 3);
	cr_assert_eq(c[1].v6, 1);
	cr_assert_eq(c[2].plen, 32);
	cr_assert_eq(prog_parse_cidr_list("10.0.0.0/8,", c, 4, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_cidr_list(",10.0.0.0/8", c, 4, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_cidr_list("", c, 4, &n, err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_cidr_list("1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8", c, 4,
				     &n, err, sizeof(err)), WEIR_E_INVALID, "more than max");
}

Test(prog_val, port_range)
{
	struct prog_range r;

	cr_assert_eq(prog_parse_port_range("1024-65535", &r, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(r.lo, 1024);
	cr_assert_eq(r.hi, 65535);
	cr_assert_eq(prog_parse_port_range("80", &r, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(r.lo, 80);
	cr_assert_eq(r.hi, 80);
	cr_assert_eq(prog_parse_port_range("0-0", &r, err, sizeof(err)), WEIR_OK);
	cr_assert_eq(r.hi, 0);
	cr_assert_eq(prog_parse_port_range("7-7", &r, err, sizeof(err)), WEIR_OK);
}

ParameterizedTestParameters(prog_val, port_range_bad)
{
	static struct bad b[] = {
		{ "" }, { "-" }, { "100-50" }, { "51-50" }, { "1-65536" }, { "65536" }, { "a-b" }, { "1-" },
		{ "-5" }, { "1-2-3" }, { " 1-2" }, { "1 -2" }, { "99999999999-1" },
	};
	return cr_make_param_array(struct bad, b, sizeof(b) / sizeof(b[0]));
}

ParameterizedTest(struct bad *b, prog_val, port_range_bad)
{
	struct prog_range r;

	err[0] = 0;
	cr_assert_eq(prog_parse_port_range(b->s, &r, err, sizeof(err)), WEIR_E_INVALID, "'%s' accepted",
		     b->s);
	cr_assert_neq(err[0], 0);
}

Test(prog_val, empty_range_message_names_it)
{
	struct prog_range r;

	prog_parse_port_range("100-50", &r, err, sizeof(err));
	cr_assert_not_null(strstr(err, "empty"), "%s", err);
}

Test(prog_val, numbers)
{
	uint64_t v;

	cr_assert_eq(prog_parse_u64("0", 0, 10, &v, "-x", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(prog_parse_u64("18446744073709551615", 0, UINT64_MAX, &v, "-x", err, sizeof(err)),
		     WEIR_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(prog_parse_u64("18446744073709551616", 0, UINT64_MAX, &v, "-x", err, sizeof(err)),
		     WEIR_E_INVALID);
	cr_assert_eq(prog_parse_u64("11", 0, 10, &v, "-x", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_u64("-1", 0, 10, &v, "-x", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_u64(" 1", 0, 10, &v, "-x", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_u64("1e3", 0, 10000, &v, "-x", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_u64("", 0, 10, &v, "-x", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_not_null(strstr(err, "-x"), "the message names the flag: %s", err);
}

#define DMAX (366ull * 86400 * 1000000000ull)

static uint64_t dur(const char *s)
{
	uint64_t ns = 0;

	cr_assert_eq(prog_parse_duration(s, 1, DMAX, &ns, "--d", err, sizeof(err)), WEIR_OK,
		     "%s: %s", s, err);
	return ns;
}

Test(prog_val, durations)
{
	static const char *const bad[] = {
		"0", "-1", "s", "1x", "nan", "inf", "1e30", "1e3", "", ".", "1.2.3", " 1", "1 s",
		"+1", "1S", "1sec", "ms", "0.0000000001", "367d", "10000h",
	};
	uint64_t ns;

	cr_assert_eq(dur("10"), 10000000000ull);
	cr_assert_eq(dur("2.5s"), 2500000000ull);
	cr_assert_eq(dur("5m"), 300000000000ull);
	cr_assert_eq(dur("1h"), 3600000000000ull);
	cr_assert_eq(dur("250ms"), 250000000ull);
	cr_assert_eq(dur("1.5us"), 1500ull);
	cr_assert_eq(dur("7ns"), 7ull);
	cr_assert_eq(dur(".5"), 500000000ull);
	cr_assert_eq(dur("0.1"), 100000000ull);
	cr_assert_eq(dur("366h"), 366ull * 3600 * 1000000000ull);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_eq(prog_parse_duration(bad[i], 1, DMAX, &ns, "--d", err, sizeof(err)),
			     WEIR_E_INVALID, "'%s' accepted", bad[i]);
		cr_assert(strncmp(err, "--d: ", 5) == 0, "the message names the flag: %s", err);
	}
	/* Zero where the caller allows it ("0 = forever"). */
	cr_assert_eq(prog_parse_duration("0", 0, DMAX, &ns, "--d", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(ns, 0);
	cr_assert_eq(prog_parse_duration("0ms", 0, DMAX, &ns, "--d", err, sizeof(err)), WEIR_OK);
	/* The bounds are inclusive. */
	cr_assert_eq(prog_parse_duration("2s", 2000000000ull, 2000000000ull, &ns, "--d", err,
					 sizeof(err)), WEIR_OK);
	cr_assert_eq(prog_parse_duration("2001ms", 0, 2000000000ull, &ns, "--d", err, sizeof(err)),
		     WEIR_E_INVALID);
}

Test(prog_val, sizes)
{
	static const char *const bad[] = {
		"", "k", "1kb", "1 k", "-1", "1.5k", "4q", "1t", "17179869184g", " 1", "1023",
		"2g",
	};
	uint64_t v;

	cr_assert_eq(prog_parse_size("1024", 1024, 1u << 30, &v, "--b", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 1024);
	cr_assert_eq(prog_parse_size("4m", 1024, 1u << 30, &v, "--b", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 4u << 20);
	cr_assert_eq(prog_parse_size("4M", 1024, 1u << 30, &v, "--b", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 4u << 20);
	cr_assert_eq(prog_parse_size("8k", 1024, 1u << 30, &v, "--b", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 8192);
	cr_assert_eq(prog_parse_size("1G", 1024, 1u << 30, &v, "--b", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v, 1u << 30);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_eq(prog_parse_size(bad[i], 1024, 1u << 30, &v, "--b", err, sizeof(err)),
			     WEIR_E_INVALID, "'%s' accepted", bad[i]);
		cr_assert(strncmp(err, "--b: '", 6) == 0, "%s", err);
	}
}

Test(prog_val, addresses)
{
	static const char *const bad[] = {
		"", "[]", "[192.0.2.1]", "example.org", "192.0.2.256", "::1]", "[::1", "2001:db8:::1",
		" 192.0.2.1",
	};
	struct weir_addr a;
	uint8_t v4 = 9;

	cr_assert_eq(prog_parse_addr("192.0.2.1", &a, &v4, "--a", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v4, 1);
	expect_addr(&a, "192.0.2.1");
	cr_assert_eq(prog_parse_addr("[2001:db8::1]", &a, &v4, "--a", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v4, 0);
	expect_addr(&a, "2001:db8::1");
	cr_assert_eq(prog_parse_addr("::", &a, &v4, "--a", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v4, 0);
	/* Mapped IPv4 written as IPv6 stays IPv6. */
	cr_assert_eq(prog_parse_addr("::ffff:192.0.2.1", &a, &v4, "--a", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(v4, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_eq(prog_parse_addr(bad[i], &a, &v4, "--a", err, sizeof(err)), WEIR_E_INVALID,
			     "'%s' accepted", bad[i]);
		cr_assert_not_null(strstr(err, "is not an IPv4 or IPv6 address"), "%s", err);
	}
}

Test(prog_val, whole_seconds)
{
	static const char *const bad[] = { "1.5", "500ms", "1ns", "-1", "", "soon", "11y", "3651d" };
	uint64_t s;

	cr_assert_eq(prog_parse_seconds("1800", 0, 86400, &s, "--t", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 1800);
	cr_assert_eq(prog_parse_seconds("30m", 0, 86400, &s, "--t", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 1800);
	cr_assert_eq(prog_parse_seconds("2h", 0, 86400, &s, "--t", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 7200);
	cr_assert_eq(prog_parse_seconds("0", 0, 86400, &s, "--t", err, sizeof(err)), WEIR_OK);
	cr_assert_eq(s, 0);
	cr_assert_eq(prog_parse_seconds("1500ms", 0, 86400, &s, "--t", err, sizeof(err)),
		     WEIR_E_INVALID);
	cr_assert_not_null(strstr(err, "whole number of seconds"), "%s", err);
	cr_assert_eq(prog_parse_seconds("25h", 0, 86400, &s, "--t", err, sizeof(err)), WEIR_E_INVALID);
	cr_assert_eq(prog_parse_seconds("0", 1, 86400, &s, "--t", err, sizeof(err)), WEIR_E_INVALID);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(prog_parse_seconds(bad[i], 0, 86400, &s, "--t", err, sizeof(err)),
			     WEIR_E_INVALID, "'%s' accepted", bad[i]);
}
