/* samp.c - see samp.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "prog_val.h"
#include "samp.h"

int col_samp_parse(struct col_samp *s, const char *v, char *err, size_t errlen)
{
	const char *eq = strrchr(v, '=');
	char host[64];
	struct weir_addr a;
	uint64_t rate;
	uint8_t v4;
	size_t hl;

	if (prog_parse_u64(eq ? eq + 1 : v, 1, UINT32_MAX, &rate, NULL, err, errlen)) {
		snprintf(err, errlen, "'%s' is not [EXPORTER=]N with N in 1..4294967295", v);
		return WEIR_E_INVALID;
	}
	if (!eq) {
		s->def = (uint32_t)rate;
		return WEIR_OK;
	}
	hl = (size_t)(eq - v);
	if (hl >= sizeof(host)) {
		snprintf(err, errlen, "'%.*s' is not an IPv4 or IPv6 address", (int)hl, v);
		return WEIR_E_INVALID;
	}
	memcpy(host, v, hl);
	host[hl] = 0;
	if (prog_parse_addr(host, &a, &v4, NULL, err, errlen))
		return WEIR_E_INVALID;
	if (s->n >= COL_SAMP_MAX) {
		snprintf(err, errlen, "more than %u per-exporter rates", COL_SAMP_MAX);
		return WEIR_E_LIMIT;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap;

		if (dbuf_grow(&s->ent, &cap, (size_t)s->n + 1, sizeof(*s->ent), COL_SAMP_MAX)) {
			snprintf(err, errlen, "out of memory");
			return WEIR_E_NOMEM;
		}
		s->cap = (uint32_t)cap;
	}
	s->sorted = 0;
	s->ent[s->n].addr = a;
	s->ent[s->n].rate = (uint32_t)rate;
	s->n++;
	return WEIR_OK;
}

struct samp_sort {
	struct col_samp_ent e;
	uint32_t order;
};

static int samp_cmp(const void *x, const void *y)
{
	const struct samp_sort *a = x, *b = y;
	int c = memcmp(a->e.addr.a, b->e.addr.a, 16);

	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

void col_samp_finish(struct col_samp *s)
{
	struct samp_sort *t;
	uint32_t k = 0;

	if (s->n < 2) {
		s->sorted = 1;
		return;
	}
	t = malloc((size_t)s->n * sizeof(*t));
	if (!t)
		return;		/* unsorted: lookups fall back to a linear scan */
	for (uint32_t i = 0; i < s->n; i++) {
		t[i].e = s->ent[i];
		t[i].order = i;
	}
	qsort(t, s->n, sizeof(*t), samp_cmp);
	for (uint32_t i = 0; i < s->n; i++) {
		/* Of equal addresses the last given is the last after sorting. */
		if (i + 1 < s->n && weir_addr_eq(&t[i].e.addr, &t[i + 1].e.addr))
			continue;
		s->ent[k++] = t[i].e;
	}
	s->n = k;
	free(t);
	s->sorted = 1;
}

uint32_t col_samp_lookup(const struct col_samp *s, const struct weir_addr *a)
{
	uint32_t lo = 0, hi = s->n;

	if (!s->n)
		return 0;
	if (!s->sorted && s->n > 1) {
		uint32_t r = 0;

		for (uint32_t i = 0; i < s->n; i++)
			if (weir_addr_eq(&s->ent[i].addr, a))
				r = s->ent[i].rate;
		return r;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->ent[mid].addr.a, a->a, 16);

		if (c == 0)
			return s->ent[mid].rate;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void col_samp_free(struct col_samp *s)
{
	free(s->ent);
	memset(s, 0, sizeof(*s));
}
