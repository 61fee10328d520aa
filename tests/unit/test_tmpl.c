/* Unit tests of the template cache and per-source state (common/tmpl.c). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "tmpl.h"

union tbuf {
	struct tmpl t;
	uint8_t space[sizeof(struct tmpl) + 64 * sizeof(struct tmpl_field)];
};

static struct weir_exporter exp_v4(uint8_t last, uint16_t port)
{
	struct weir_exporter e;
	uint8_t a[4] = { 192, 0, 2, last };

	memset(&e, 0, sizeof(e));
	weir_addr_v4(&e.addr, a);
	e.port = port;
	return e;
}

/* A template of n fields: ids 1..n of 4 bytes, or as given. */
static struct tmpl *mk(union tbuf *b, uint16_t id, uint16_t n, uint16_t scope)
{
	memset(b, 0, sizeof(*b));
	b->t.id = id;
	b->t.nfields = n;
	b->t.scope_count = scope;
	b->t.proto = 10;
	for (uint16_t i = 0; i < n; i++) {
		b->t.f[i].pen = 0;
		b->t.f[i].id = (uint16_t)(i + 1);
		b->t.f[i].len = 4;
	}
	tmpl_finish(NULL, &b->t);
	return &b->t;
}

static struct tmpl_cache *cache_with(uint32_t per_exp, uint32_t total)
{
	struct tmpl_limits lim;

	tmpl_limits_default(&lim);
	if (per_exp)
		lim.max_templates_per_exporter = per_exp;
	if (total)
		lim.max_templates = total;
	return tmpl_cache_new(&lim, NULL);
}

Test(tmpl, add_find_refresh_replace)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(1, 2055);
	struct tmpl_source *s = tmpl_source_get(c, &e, 7, 1);
	union tbuf b;
	const struct tmpl *t;

	cr_assert_not_null(s);
	cr_assert_eq(tmpl_source_get(c, &e, 7, 0), s);
	cr_assert_null(tmpl_source_get(c, &e, 8, 0));
	cr_assert_null(tmpl_find(s, 256, 0));
	cr_assert_eq(tmpl_add(s, mk(&b, 256, 3, 0), 10), WEIR_OK);
	t = tmpl_find(s, 256, 11);
	cr_assert_not_null(t);
	cr_assert_eq(t->nfields, 3);
	cr_assert_eq(t->min_len, 12);
	cr_assert_eq(tmpl_add(s, mk(&b, 256, 3, 0), 20), WEIR_OK);
	cr_assert_eq(tmpl_cache_stats(c)->refreshed, 1);
	cr_assert_eq(tmpl_find(s, 256, 21)->refreshed_ns, 20);
	cr_assert_eq(tmpl_add(s, mk(&b, 256, 5, 0), 30), WEIR_OK);
	cr_assert_eq(tmpl_cache_stats(c)->replaced, 1);
	cr_assert_eq(tmpl_find(s, 256, 31)->nfields, 5);
	cr_assert_eq(tmpl_cache_stats(c)->templates, 1);
	tmpl_cache_free(c);
}

Test(tmpl, finish_marks_varlen_and_sampler_fields)
{
	union tbuf b;
	struct tmpl *t = mk(&b, 300, 4, 0);

	t->f[1].len = TMPL_VARLEN;
	t->f[2].id = 302;	/* selectorId */
	t->f[3].id = 34;	/* samplingInterval */
	tmpl_finish(NULL, t);
	cr_assert_eq(t->has_varlen, 1);
	cr_assert_eq(t->min_len, 4 + 1 + 4 + 4);
	cr_assert_eq(t->sampler_field, 2);
	cr_assert_eq(t->rate_field, 3);
}

Test(tmpl, per_exporter_bound_never_touches_another_exporter)
{
	struct tmpl_cache *c = cache_with(4, 100);
	struct weir_exporter a = exp_v4(1, 2055), bx = exp_v4(2, 2055);
	struct tmpl_source *sa = tmpl_source_get(c, &a, 0, 1);
	struct tmpl_source *sa2 = tmpl_source_get(c, &a, 1, 1);
	struct tmpl_source *sb = tmpl_source_get(c, &bx, 0, 1);
	union tbuf b;

	for (uint16_t id = 256; id < 259; id++)
		cr_assert_eq(tmpl_add(sa, mk(&b, id, 2, 0), 1), WEIR_OK);
	/* The bound is per exporter (address and port), across its domains. */
	cr_assert_eq(tmpl_add(sa2, mk(&b, 256, 2, 0), 1), WEIR_OK);
	cr_assert_eq(tmpl_add(sa2, mk(&b, 257, 2, 0), 1), WEIR_E_LIMIT);
	cr_assert_eq(tmpl_add(sa, mk(&b, 400, 2, 0), 1), WEIR_E_LIMIT);
	cr_assert_eq(tmpl_cache_stats(c)->refused, 2);
	/* Replacing an existing id is not a new template: allowed at the bound. */
	cr_assert_eq(tmpl_add(sa, mk(&b, 256, 6, 0), 2), WEIR_OK);
	for (uint16_t id = 256; id < 260; id++)
		cr_assert_eq(tmpl_add(sb, mk(&b, id, 2, 0), 1), WEIR_OK);
	for (uint16_t id = 256; id < 259; id++)
		cr_assert_not_null(tmpl_find(sa, id, 3));
	cr_assert_eq(tmpl_cache_stats(c)->templates, 8);
	tmpl_cache_free(c);
}

Test(tmpl, total_bound)
{
	struct tmpl_cache *c = cache_with(100, 5);
	union tbuf b;
	int ok = 0, refused = 0;

	for (uint8_t i = 0; i < 10; i++) {
		struct weir_exporter e = exp_v4(i, 9995);
		struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);
		int r = tmpl_add(s, mk(&b, 256, 1, 0), 1);

		if (r == WEIR_OK)
			ok++;
		else if (r == WEIR_E_LIMIT)
			refused++;
	}
	cr_assert_eq(ok, 5);
	cr_assert_eq(refused, 5);
	cr_assert_eq(tmpl_cache_stats(c)->refused, 5);
	tmpl_cache_free(c);
}

Test(tmpl, source_bounds)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e = exp_v4(9, 1), f = exp_v4(10, 1);

	tmpl_limits_default(&lim);
	lim.max_sources_per_exporter = 3;
	lim.max_sources = 4;
	c = tmpl_cache_new(&lim, NULL);
	for (uint32_t d = 0; d < 3; d++)
		cr_assert_not_null(tmpl_source_get(c, &e, d, 1));
	cr_assert_null(tmpl_source_get(c, &e, 3, 1));
	cr_assert_not_null(tmpl_source_get(c, &f, 0, 1));
	cr_assert_null(tmpl_source_get(c, &f, 1, 1));
	cr_assert_eq(tmpl_cache_stats(c)->sources_refused, 2);
	cr_assert_eq(tmpl_cache_stats(c)->sources, 4);
	tmpl_cache_free(c);
}

/* The exporters' table has the sources' bound too (hash.h): what it
 * refuses is counted with the refused sources, never lost silently. */
Test(tmpl, exporter_table_bound_counted)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;

	tmpl_limits_default(&lim);
	lim.max_sources_per_exporter = 0;	/* exporters met, no source kept */
	lim.max_sources = 2;
	c = tmpl_cache_new(&lim, NULL);
	for (uint8_t i = 0; i < 5; i++) {
		struct weir_exporter e = exp_v4((uint8_t)(20 + i), 1);

		cr_assert_null(tmpl_source_get(c, &e, 0, 1));
	}
	cr_assert_eq(tmpl_cache_stats(c)->sources_refused, 5);
	cr_assert_eq(tmpl_cache_stats(c)->sources, 0);
	tmpl_cache_free(c);
}

/* Random adds and withdrawals agree with a plain array, so the open
 * addressing (and its backward-shift delete) loses nothing. */
Test(tmpl, table_agrees_with_reference)
{
	struct tmpl_cache *c = cache_with(70000, 70000);
	struct weir_exporter e = exp_v4(3, 4739);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);
	static uint8_t ref[65536];
	union tbuf b;

	memset(ref, 0, sizeof(ref));
	srand(12345);
	for (int i = 0; i < 20000; i++) {
		/* Ids that collide a lot: a few hundred values spread wide. */
		uint16_t id = (uint16_t)(256 + (rand() % 300) * 97);

		if (rand() % 3) {
			cr_assert_eq(tmpl_add(s, mk(&b, id, (uint16_t)(1 + id % 5), 0), 1), WEIR_OK);
			ref[id] = (uint8_t)(1 + id % 5);
		} else {
			int r = tmpl_withdraw(s, id);

			cr_assert_eq(r, ref[id] ? WEIR_OK : WEIR_E_NO_TEMPLATE);
			ref[id] = 0;
		}
		if (i % 1000 == 0) {
			for (uint32_t k = 0; k < 65536; k++) {
				const struct tmpl *t = tmpl_find(s, (uint16_t)k, 1);

				if (ref[k])
					cr_assert(t && t->nfields == ref[k], "id %u", k);
				else
					cr_assert_null(t, "id %u", k);
			}
		}
	}
	tmpl_cache_free(c);
}

Test(tmpl, withdraw_all_by_kind)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(4, 4739);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);
	union tbuf b;

	for (uint16_t id = 256; id < 296; id++)
		tmpl_add(s, mk(&b, id, 3, id % 2 ? 1 : 0), 1);
	tmpl_withdraw_all(s, 1);
	for (uint16_t id = 256; id < 296; id++) {
		if (id % 2)
			cr_assert_null(tmpl_find(s, id, 1));
		else
			cr_assert_not_null(tmpl_find(s, id, 1));
	}
	tmpl_withdraw_all(s, 0);
	for (uint16_t id = 256; id < 296; id++)
		cr_assert_null(tmpl_find(s, id, 1));
	cr_assert_eq(tmpl_cache_stats(c)->withdrawn, 40);
	cr_assert_eq(tmpl_cache_stats(c)->templates, 0);
	tmpl_cache_free(c);
}

Test(tmpl, lifetime_expires)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e = exp_v4(5, 2055);
	struct tmpl_source *s;
	union tbuf b;

	tmpl_limits_default(&lim);
	lim.lifetime_ns = 1000;
	c = tmpl_cache_new(&lim, NULL);
	s = tmpl_source_get(c, &e, 0, 1);
	tmpl_add(s, mk(&b, 256, 1, 0), 5000);
	cr_assert_not_null(tmpl_find(s, 256, 5900));
	tmpl_add(s, mk(&b, 256, 1, 0), 5900);	/* a resend refreshes */
	cr_assert_not_null(tmpl_find(s, 256, 6800));
	cr_assert_null(tmpl_find(s, 256, 7000));
	cr_assert_eq(tmpl_cache_stats(c)->expired, 1);
	cr_assert_eq(tmpl_cache_stats(c)->templates, 0);
	tmpl_cache_free(c);
}

Test(tmpl, sequence_numbers)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(6, 2055);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);

	cr_assert_eq(tmpl_seq_check(s, 100, 30), 0);
	cr_assert_eq(tmpl_seq_check(s, 130, 30), 0);
	cr_assert_eq(tmpl_seq_check(s, 170, 30), 10);	/* 160..169 lost */
	cr_assert_eq(s->seq_gaps, 1);
	cr_assert_eq(s->seq_lost, 10);
	cr_assert_eq(tmpl_seq_check(s, 150, 10), 0);	/* late */
	cr_assert_eq(s->seq_reordered, 1);
	cr_assert_eq(tmpl_seq_check(s, 200, 1), 0);
	/* Wrap-around of the 32-bit counter is in order. */
	cr_assert_eq(tmpl_seq_check(s, 201, 0xFFFFFFFFu - 200), 0);
	cr_assert_eq(tmpl_seq_check(s, 0, 1), 0);
	/* A restart (far behind) resynchronizes without a loss. */
	cr_assert_eq(tmpl_seq_check(s, 0x70000000u, 1), 0x70000000u - 1);
	cr_assert_eq(tmpl_seq_check(s, 3, 1), 0);
	cr_assert_eq(tmpl_seq_check(s, 4, 1), 0);
	cr_assert_eq(s->seq_lost, 10 + 0x70000000u - 1);
	tmpl_cache_free(c);
}

/* IPFIX sequence numbers (RFC 7011 section 3.1: data records sent before
 * the message), and the conventions real exporters follow instead: each is
 * found from the numbers, counted once as a quirk, and then a real loss is
 * still a loss. */
Test(tmpl, sequence_conventions_of_records)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(6, 4739);
	struct tmpl_source *rfc = tmpl_source_get(c, &e, 1, 1);
	struct tmpl_source *sfd = tmpl_source_get(c, &e, 2, 1);
	struct tmpl_source *fl = tmpl_source_get(c, &e, 3, 1);

	/* RFC: 10 records, 5 (one of them options), 7; then a message of 3
	 * is lost. */
	cr_assert_eq(tmpl_seq_check_records(rfc, 0, 10, 10), 0);
	cr_assert_eq(tmpl_seq_check_records(rfc, 10, 5, 4), 0);
	cr_assert_eq(tmpl_seq_check_records(rfc, 15, 7, 7), 0);
	cr_assert_eq(tmpl_seq_check_records(rfc, 25, 4, 4), 0);
	cr_assert_eq(rfc->seq_gaps, 1);
	cr_assert_eq(rfc->seq_lost, 3);
	cr_assert_eq(rfc->seq_reordered, 0);

	/* softflowd (captured from softflowd -r): the number includes the
	 * message's own flow records, and its options record is not
	 * counted: 24 (24 flows + 1 options record), 56, 88, 100. */
	cr_assert_eq(tmpl_seq_check_records(sfd, 24, 25, 24), 0);
	cr_assert_eq(tmpl_seq_check_records(sfd, 56, 32, 32), 1, "the convention shows: a quirk");
	cr_assert_eq(tmpl_seq_check_records(sfd, 88, 32, 32), 0);
	cr_assert_eq(tmpl_seq_check_records(sfd, 100, 12, 12), 0);
	/* Templates again, with the options record: 5 flows, 105. */
	cr_assert_eq(tmpl_seq_check_records(sfd, 105, 6, 5), 0, "counted once");
	cr_assert_eq(sfd->seq_gaps + sfd->seq_lost + sfd->seq_reordered, 0);
	/* A message of 10 flows lost, then one of 5: 10 lost. */
	cr_assert_eq(tmpl_seq_check_records(sfd, 120, 5, 5), 0);
	cr_assert_eq(sfd->seq_gaps, 1);
	cr_assert_eq(sfd->seq_lost, 10);
	/* A late duplicate is reordered, and the expectation stays. */
	cr_assert_eq(tmpl_seq_check_records(sfd, 105, 6, 5), 0);
	cr_assert_eq(sfd->seq_reordered, 1);
	cr_assert_eq(tmpl_seq_check_records(sfd, 123, 3, 3), 0);
	cr_assert_eq(sfd->seq_gaps, 1);

	/* Records before the message, options records left out. */
	cr_assert_eq(tmpl_seq_check_records(fl, 0, 11, 10), 0);
	cr_assert_eq(tmpl_seq_check_records(fl, 10, 6, 5), 1);
	cr_assert_eq(tmpl_seq_check_records(fl, 15, 3, 3), 0);
	cr_assert_eq(fl->seq_gaps + fl->seq_lost + fl->seq_reordered, 0);
	tmpl_cache_free(c);
}

/* The source index: every source in the order it was made, readable by
 * another thread while the owner makes more (the metrics thread walks it
 * while a worker decodes). */
struct src_reader {
	const struct tmpl_cache *c;
	uint32_t want, seen_max;
	int bad;
};

static void *read_sources(void *arg)
{
	struct src_reader *r = arg;

	while (r->seen_max < r->want) {
		uint32_t n = tmpl_cache_nsources(r->c);

		for (uint32_t i = 0; i < n; i++) {
			const struct tmpl_source *s = tmpl_cache_source(r->c, i);

			if (!s || s->domain != i)
				r->bad++;
		}
		if (tmpl_cache_source(r->c, n + 1000000))
			r->bad++;
		r->seen_max = n;
	}
	return NULL;
}

Test(tmpl, source_index_while_sources_are_made)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e = exp_v4(9, 4739);
	struct src_reader r = { 0 };
	pthread_t t;

	tmpl_limits_default(&lim);
	lim.max_sources = 20000;
	lim.max_sources_per_exporter = 20000;
	c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(c);
	r.c = c;
	r.want = 20000;
	cr_assert_eq(pthread_create(&t, NULL, read_sources, &r), 0);
	for (uint32_t d = 0; d < 20000; d++)
		cr_assert_not_null(tmpl_source_get(c, &e, d, 1));
	cr_assert_null(tmpl_source_get(c, &e, 20000, 1), "the bound refuses");
	pthread_join(t, NULL);
	cr_assert_eq(r.bad, 0);
	cr_assert_eq(tmpl_cache_nsources(c), 20000);
	cr_assert_eq(tmpl_cache_source(c, 12345)->domain, 12345);
	cr_assert_null(tmpl_cache_source(c, 20000));
	tmpl_cache_free(c);
}

Test(tmpl, samplers)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(7, 2055);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);

	cr_assert_eq(tmpl_sampler_get(s, 0), 0);
	tmpl_sampler_set(s, 5, 100);
	cr_assert_eq(tmpl_sampler_get(s, 5), 100);
	cr_assert_eq(tmpl_sampler_get(s, 0), 100, "one sampler: records naming none use it");
	tmpl_sampler_set(s, 6, 1000);
	cr_assert_eq(tmpl_sampler_get(s, 0), 0, "two samplers: no guess");
	cr_assert_eq(tmpl_sampler_get(s, 6), 1000);
	tmpl_sampler_set(s, 0, 64);
	cr_assert_eq(tmpl_sampler_get(s, 9), 64, "unknown id falls back to the default");
	tmpl_sampler_set(s, 5, 200);
	cr_assert_eq(tmpl_sampler_get(s, 5), 200);
	tmpl_cache_free(c);
}

struct taken {
	int n;
	uint8_t first[8];
	char hdr[8][8];
	size_t len[8];
};

static void take_fn(void *user, const void *hdr, size_t hdr_len, const uint8_t *body, size_t len)
{
	struct taken *tk = user;

	if (tk->n < 8) {
		tk->first[tk->n] = len ? body[0] : 0;
		memcpy(tk->hdr[tk->n], hdr, hdr_len < 8 ? hdr_len : 8);
		tk->len[tk->n] = len;
	}
	tk->n++;
}

Test(tmpl, pending_held_and_rescued_in_order)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(8, 2055);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);
	uint8_t body[100];
	struct taken tk = { 0 };

	for (int i = 0; i < 5; i++) {
		memset(body, i, sizeof(body));
		cr_assert_eq(tmpl_pending_add(s, i % 2 ? 300 : 301, "hdrX", 4, body,
					      (size_t)(10 + i), 1), WEIR_OK);
	}
	cr_assert_eq(tmpl_cache_stats(c)->pending_held, 5);
	tmpl_pending_take(s, 300, 2, take_fn, &tk);
	cr_assert_eq(tk.n, 2);
	cr_assert_eq(tk.first[0], 1);
	cr_assert_eq(tk.first[1], 3);
	cr_assert_eq(tk.len[1], 13);
	cr_assert_str_eq(tk.hdr[0], "hdrX");
	cr_assert_eq(tmpl_cache_stats(c)->pending_rescued, 2);
	tk.n = 0;
	tmpl_pending_take(s, 301, 2, take_fn, &tk);
	cr_assert_eq(tk.n, 3);
	cr_assert_eq(tk.first[2], 4);
	cr_assert_eq(tmpl_cache_stats(c)->pending_bytes, 0);
	tmpl_cache_free(c);
}

Test(tmpl, pending_bounded_and_aged)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e = exp_v4(9, 2055), f = exp_v4(10, 2055);
	struct tmpl_source *s, *s2;
	uint8_t body[1000] = { 0 };
	struct taken tk = { 0 };

	tmpl_limits_default(&lim);
	lim.max_pending_per_source = 3000;
	lim.max_pending_bytes = 5000;
	lim.pending_max_age_ns = 100;
	c = tmpl_cache_new(&lim, NULL);
	s = tmpl_source_get(c, &e, 0, 1);
	s2 = tmpl_source_get(c, &f, 0, 1);
	for (int i = 0; i < 4; i++) {
		body[0] = (uint8_t)i;
		cr_assert_eq(tmpl_pending_add(s, 256, NULL, 0, body, 1000, 10), WEIR_OK);
	}
	/* Over the per-source bound: the oldest went first. */
	cr_assert_eq(tmpl_cache_stats(c)->pending_dropped, 1);
	cr_assert_eq(tmpl_pending_add(s2, 256, NULL, 0, body, 1000, 10), WEIR_OK);
	cr_assert_eq(tmpl_pending_add(s2, 256, NULL, 0, body, 1000, 10), WEIR_OK);
	/* The total is full with s's data; s2 may not evict s's. */
	cr_assert_eq(tmpl_pending_add(s2, 256, NULL, 0, body, 1000, 10), WEIR_OK);
	cr_assert(tmpl_cache_stats(c)->pending_bytes <= 5000);
	cr_assert_eq(tmpl_pending_add(s, 256, NULL, 0, body, 4000, 10), WEIR_E_LIMIT);
	tmpl_pending_take(s, 256, 50, take_fn, &tk);
	cr_assert_eq(tk.n, 3);
	cr_assert_eq(tk.first[0], 1);
	tk.n = 0;
	tmpl_pending_take(s2, 256, 500, take_fn, &tk);	/* too old by now */
	cr_assert_eq(tk.n, 0);
	cr_assert_eq(tmpl_cache_stats(c)->pending_bytes, 0);
	tmpl_cache_free(c);
}

/* Fault 13: exporters flood the cache (many addresses, each within its
 * own bound) until the total is full. A newcomer still gets its guaranteed
 * minimum, taken from the exporters that hold the most; an exporter that
 * came before the flood and holds no more than the minimum loses nothing;
 * a flooder over its minimum is refused. */
Test(tmpl, flood_leaves_room_for_a_newcomer)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter we = exp_v4(200, 4739), ne = exp_v4(201, 4739);
	struct tmpl_source *ws, *ns;
	union tbuf b;
	uint64_t now = 1;

	tmpl_limits_default(&lim);
	lim.max_templates = 1000;
	lim.max_templates_per_exporter = 100;
	lim.min_templates_per_exporter = 10;
	c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(c);
	ws = tmpl_source_get(c, &we, 0, 1);
	for (uint16_t id = 256; id < 264; id++)
		cr_assert_eq(tmpl_add(ws, mk(&b, id, 2, 0), now++), WEIR_OK);
	for (uint8_t i = 0; i < 30; i++) {
		struct weir_exporter e = exp_v4(i, 4739);
		struct tmpl_source *s = tmpl_source_get(c, &e, i, 1);

		for (uint16_t id = 256; id < 356; id++)
			(void)tmpl_add(s, mk(&b, id, 3, 0), now++);
	}
	cr_assert_eq(tmpl_cache_stats(c)->templates, 1000, "the flood filled the cache");
	cr_assert_gt(tmpl_cache_stats(c)->refused, 0);
	ns = tmpl_source_get(c, &ne, 7, 1);
	cr_assert_not_null(ns);
	for (uint16_t id = 256; id < 266; id++)
		cr_assert_eq(tmpl_add(ns, mk(&b, id, 4, 0), now++), WEIR_OK, "template %u", id);
	for (uint16_t id = 256; id < 266; id++)
		cr_assert_not_null(tmpl_find(ns, id, now));
	/* Past its minimum the newcomer is like anyone else in a full cache. */
	cr_assert_eq(tmpl_add(ns, mk(&b, 266, 4, 0), now++), WEIR_E_LIMIT);
	for (uint16_t id = 256; id < 264; id++)
		cr_assert_not_null(tmpl_find(ws, id, now), "the early exporter lost %u", id);
	/* A flooder over its minimum takes nothing from anyone. */
	{
		struct weir_exporter e = exp_v4(0, 4739);
		struct tmpl_source *s = tmpl_source_get(c, &e, 0, 0);

		cr_assert_not_null(s);
		cr_assert_eq(tmpl_add(s, mk(&b, 999, 3, 0), now++), WEIR_E_LIMIT);
	}
	cr_assert_eq(tmpl_cache_stats(c)->templates, 1000);
	cr_assert_gt(tmpl_cache_stats(c)->evicted, 0);
	tmpl_cache_free(c);
}

/* The same for held data: a newcomer under its guaranteed minimum holds its
 * data set in a full cache, dropping the oldest of the exporter holding the
 * most; the per-exporter bound keeps one exporter to its share. */
Test(tmpl, held_flood_leaves_room_for_a_newcomer)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter ne = exp_v4(201, 4739);
	struct tmpl_source *ns;
	uint8_t body[1000] = { 0 };
	struct taken tk = { 0 };

	tmpl_limits_default(&lim);
	lim.max_pending_bytes = 20000;
	lim.max_pending_per_exporter = 6000;
	lim.min_pending_per_exporter = 2000;
	lim.max_pending_per_source = 4000;
	c = tmpl_cache_new(&lim, NULL);
	cr_assert_not_null(c);
	for (uint8_t i = 0; i < 5; i++) {
		struct weir_exporter e = exp_v4(i, 4739);

		for (uint32_t d = 0; d < 3; d++) {
			struct tmpl_source *s = tmpl_source_get(c, &e, d, 1);

			for (int k = 0; k < 4; k++)
				(void)tmpl_pending_add(s, 256, NULL, 0, body, 1000, 10);
		}
	}
	cr_assert_eq(tmpl_cache_stats(c)->pending_bytes, 20000, "the flood filled it");
	ns = tmpl_source_get(c, &ne, 0, 1);
	cr_assert_eq(tmpl_pending_add(ns, 300, NULL, 0, body, 1000, 20), WEIR_OK);
	cr_assert_eq(tmpl_pending_add(ns, 300, NULL, 0, body, 1000, 20), WEIR_OK);
	cr_assert(tmpl_cache_stats(c)->pending_bytes <= 20000);
	/* Past its minimum it drops its own oldest, like anyone else. */
	cr_assert_eq(tmpl_pending_add(ns, 300, NULL, 0, body, 1000, 20), WEIR_OK);
	tmpl_pending_take(ns, 300, 30, take_fn, &tk);
	cr_assert_eq(tk.n, 2, "the newcomer's held sets were kept");
	tmpl_cache_free(c);
}

static char *tmp_path(const char *name)
{
	static char p[256];

	snprintf(p, sizeof(p), "/tmp/weir-test-%d-%s", (int)getpid(), name);
	return p;
}

Test(tmpl, save_and_load)
{
	struct tmpl_cache *c = cache_with(0, 0), *d = cache_with(0, 0);
	struct weir_exporter e = exp_v4(11, 2055), f = exp_v4(12, 4739);
	struct tmpl_source *s = tmpl_source_get(c, &e, 3, 1), *s2 = tmpl_source_get(c, &f, 0, 1);
	union tbuf b;
	const struct tmpl *t;
	char *path = tmp_path("save");

	for (uint16_t id = 256; id < 300; id++)
		tmpl_add(s, mk(&b, id, (uint16_t)(1 + id % 7), id % 3 == 0), 1);
	mk(&b, 999, 3, 1);
	b.t.f[1].pen = 9;
	b.t.f[1].len = TMPL_VARLEN;
	tmpl_finish(NULL, &b.t);
	tmpl_add(s2, &b.t, 1);
	tmpl_sampler_set(s, 4, 512);
	cr_assert_eq(tmpl_cache_save(c, path), WEIR_OK);
	cr_assert_eq(tmpl_cache_load(d, path, 77), WEIR_OK);
	cr_assert_eq(tmpl_cache_stats(d)->templates, 45);
	s = tmpl_source_get(d, &e, 3, 0);
	cr_assert_not_null(s);
	for (uint16_t id = 256; id < 300; id++) {
		t = tmpl_find(s, id, 78);
		cr_assert_not_null(t);
		cr_assert_eq(t->nfields, 1 + id % 7);
		cr_assert_eq(t->scope_count, id % 3 == 0);
		cr_assert_eq(t->refreshed_ns, 77);
	}
	cr_assert_eq(tmpl_sampler_get(s, 4), 512);
	t = tmpl_find(tmpl_source_get(d, &f, 0, 0), 999, 78);
	cr_assert_not_null(t);
	cr_assert_eq(t->f[1].pen, 9);
	cr_assert_eq(t->has_varlen, 1);
	unlink(path);
	tmpl_cache_free(c);
	tmpl_cache_free(d);
}

/* An IPFIX exporter's systemInitTimeMilliseconds comes in options data,
 * maybe minutes apart: a restart must not leave its uptimes without a base
 * until it comes again. */
Test(tmpl, time_base_saved_and_loaded)
{
	struct tmpl_cache *c = cache_with(0, 0), *d = cache_with(0, 0);
	struct weir_exporter e = exp_v4(11, 4739), f = exp_v4(12, 4739);
	struct tmpl_source *s = tmpl_source_get(c, &e, 7, 1);
	char *path = tmp_path("timebase");

	tmpl_source_get(c, &f, 0, 1);		/* a source without one */
	s->sys_init_ms = 1796600000123ull;
	cr_assert_eq(tmpl_cache_save(c, path), WEIR_OK);
	cr_assert_eq(tmpl_cache_load(d, path, 1), WEIR_OK);
	s = tmpl_source_get(d, &e, 7, 0);
	cr_assert_not_null(s, "the source came back");
	cr_assert_eq(s->sys_init_ms, 1796600000123ull);
	s = tmpl_source_get(d, &f, 0, 0);
	cr_assert(!s || s->sys_init_ms == 0, "no base where none was learnt");
	unlink(path);
	tmpl_cache_free(c);
	tmpl_cache_free(d);
}

Test(tmpl, damaged_file_adds_nothing)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter e = exp_v4(13, 2055);
	struct tmpl_source *s = tmpl_source_get(c, &e, 0, 1);
	union tbuf b;
	char *path = tmp_path("damaged");
	FILE *fp;
	long sz;
	uint8_t *buf;

	for (uint16_t id = 256; id < 260; id++)
		tmpl_add(s, mk(&b, id, 4, 0), 1);
	cr_assert_eq(tmpl_cache_save(c, path), WEIR_OK);
	fp = fopen(path, "rb");
	fseek(fp, 0, SEEK_END);
	sz = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)sz);
	cr_assert_eq(fread(buf, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	/* Every single flipped byte and every truncation is refused whole. */
	for (long i = 0; i < sz; i++) {
		struct tmpl_cache *d = cache_with(0, 0);

		buf[i] ^= 0x5a;
		fp = fopen(path, "wb");
		fwrite(buf, 1, (size_t)sz, fp);
		fclose(fp);
		cr_assert_neq(tmpl_cache_load(d, path, 1), WEIR_OK, "flip at %ld", i);
		cr_assert_eq(tmpl_cache_stats(d)->templates, 0);
		buf[i] ^= 0x5a;
		fp = fopen(path, "wb");
		fwrite(buf, 1, (size_t)i, fp);
		fclose(fp);
		cr_assert_neq(tmpl_cache_load(d, path, 1), WEIR_OK, "cut at %ld", i);
		cr_assert_eq(tmpl_cache_stats(d)->templates, 0);
		tmpl_cache_free(d);
	}
	unlink(path);
	cr_assert_eq(tmpl_cache_load(c, path, 1), WEIR_E_IO);
	free(buf);
	tmpl_cache_free(c);
}

static void noop_pending(void *user, const void *hdr, size_t hdr_len, const uint8_t *body,
			 size_t len)
{
	(void)hdr;
	(void)hdr_len;
	(void)body;
	(void)len;
	++*(int *)user;
}

/* A TCP session's end (RFC 7011 section 8): its templates, held data,
 * samplers and sequence state go; another exporter's stay; a new session
 * from the same address takes the idle source back (the index does not
 * grow) with its counters, and finds none of the old templates. */
Test(tmpl, exporter_end_drops_the_session)
{
	struct tmpl_cache *c = cache_with(0, 0);
	struct weir_exporter a = exp_v4(1, 40000), b = exp_v4(2, 40000), a2 = exp_v4(1, 40001);
	struct tmpl_source *sa = tmpl_source_get(c, &a, 1, 1), *sa9 = tmpl_source_get(c, &a, 9, 1);
	struct tmpl_source *sb = tmpl_source_get(c, &b, 1, 1), *s;
	const struct tmpl_stats *st = tmpl_cache_stats(c);
	const uint8_t body[8] = { 0 };
	union tbuf t;
	int taken = 0;

	cr_assert(sa && sa9 && sb);
	cr_assert_eq(tmpl_add(sa, mk(&t, 256, 2, 0), 1), WEIR_OK);
	cr_assert_eq(tmpl_add(sa, mk(&t, 257, 2, 0), 1), WEIR_OK);
	cr_assert_eq(tmpl_add(sa9, mk(&t, 256, 3, 0), 1), WEIR_OK);
	cr_assert_eq(tmpl_add(sb, mk(&t, 256, 2, 0), 1), WEIR_OK);
	cr_assert_eq(tmpl_pending_add(sa, 300, NULL, 0, body, sizeof(body), 1), WEIR_OK);
	cr_assert_eq(tmpl_sampler_set(sa, 0, 100), WEIR_OK);
	tmpl_seq_check(sa, 10, 5);
	tmpl_seq_check(sa, 20, 5);		/* a gap of 5 */
	cr_assert_eq(sa->seq_gaps, 1);
	cr_assert_eq(tmpl_cache_nsources(c), 3);

	cr_assert_eq(tmpl_exporter_end(c, &a), 3, "both domains' templates");
	cr_assert_eq(st->ended, 3);
	cr_assert_eq(st->templates, 1);
	cr_assert_eq(st->sources, 1);
	cr_assert_eq(st->pending_bytes, 0);
	cr_assert_eq(st->pending_dropped, 1);
	cr_assert_eq(st->sessions_ended, 1);
	cr_assert_null(tmpl_source_get(c, &a, 1, 0), "the session is gone");
	cr_assert_not_null(tmpl_find(sb, 256, 2), "another exporter keeps its own");
	cr_assert_eq(tmpl_exporter_end(c, &a), 0, "a second end finds nothing");
	cr_assert_eq(st->sessions_ended, 1);

	/* The same address from a new port: an idle source comes back. */
	s = tmpl_source_get(c, &a2, 1, 1);
	cr_assert(s == sa || s == sa9, "an idle source of the address is taken back");
	cr_assert_eq(tmpl_cache_nsources(c), 3, "the index did not grow");
	cr_assert_eq(s->exporter.port, 40001);
	cr_assert_eq(s->domain, 1);
	cr_assert_null(tmpl_find(s, 256, 2), "no template of the old session");
	cr_assert_null(tmpl_find(s, 257, 2));
	cr_assert_eq(tmpl_sampler_get(s, 0), 0);
	cr_assert_eq(s->seq_valid, 0);
	tmpl_pending_take(s, 300, 2, noop_pending, &taken);
	cr_assert_eq(taken, 0, "no held data of the old session");
	cr_assert_eq(tmpl_cache_source(c, (uint32_t)(s == sa ? 0 : 1))->exporter.port, 40001);
	cr_assert_eq(sa->seq_gaps + sa9->seq_gaps, 1, "the address's counters go on");
	cr_assert_eq(tmpl_add(s, mk(&t, 256, 4, 0), 3), WEIR_OK);
	cr_assert_eq(tmpl_find(s, 256, 3)->nfields, 4);
	/* A third source of the address: the other idle one. */
	cr_assert_not_null(tmpl_source_get(c, &a2, 2, 1));
	cr_assert_eq(tmpl_cache_nsources(c), 3);
	cr_assert_not_null(tmpl_source_get(c, &a2, 3, 1));
	cr_assert_eq(tmpl_cache_nsources(c), 4, "none idle left: a new one");
	tmpl_cache_free(c);
}

/* Idle sources count against max_sources: connections from ever new
 * addresses cannot grow the cache past its bound; what it refuses is
 * counted. */
Test(tmpl, exporter_end_idle_sources_are_bounded)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e;

	tmpl_limits_default(&lim);
	lim.max_sources = 4;
	c = tmpl_cache_new(&lim, NULL);
	for (uint8_t i = 1; i <= 4; i++) {
		e = exp_v4(i, 1000);
		cr_assert_not_null(tmpl_source_get(c, &e, 0, 1));
		tmpl_exporter_end(c, &e);
	}
	cr_assert_eq(tmpl_cache_stats(c)->sources, 0);
	e = exp_v4(5, 1000);
	cr_assert_null(tmpl_source_get(c, &e, 0, 1), "four idle sources fill the bound");
	cr_assert_eq(tmpl_cache_stats(c)->sources_refused, 1);
	e = exp_v4(3, 2000);
	cr_assert_not_null(tmpl_source_get(c, &e, 0, 1), "a known address takes its own back");
	cr_assert_eq(tmpl_cache_nsources(c), 4);
	tmpl_cache_free(c);
}

/* An ordered cache (a TCP session) holds no data for a template that
 * comes later: the template was not in force when the data was sent. */
Test(tmpl, ordered_cache_holds_nothing)
{
	struct tmpl_limits lim;
	struct tmpl_cache *c;
	struct weir_exporter e = exp_v4(1, 1000);
	struct tmpl_source *s;
	const uint8_t body[8] = { 0 };

	tmpl_limits_default(&lim);
	cr_assert_eq(lim.ordered, 0);
	lim.ordered = 1;
	c = tmpl_cache_new(&lim, NULL);
	s = tmpl_source_get(c, &e, 0, 1);
	cr_assert_eq(tmpl_pending_add(s, 256, NULL, 0, body, sizeof(body), 1), WEIR_E_NO_TEMPLATE);
	cr_assert_eq(tmpl_cache_stats(c)->pending_held, 0);
	cr_assert_eq(tmpl_cache_stats(c)->pending_dropped, 0);
	cr_assert_null(s->pend_head);
	tmpl_cache_free(c);
}
