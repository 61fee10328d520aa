/* tmpl.c - template cache and per-source state (see tmpl.h for the contract).
 *
 * Sources live in an open-addressing table (hash.h) keyed by a hash of
 * (address, port, domain); exporters (address, port) in a second one that
 * counts what each exporter holds, so that one exporter's bounds never touch
 * another's templates, and a full cache takes room for a newcomer from the
 * exporter holding the most (tmpl.h, struct tmpl_limits). A source's
 * templates sit in an open-addressing table (hash.h) by template id, bounded
 * by the per-exporter template bound.
 *
 * The sequence-number tracking is in tmpl_seq.c, the template file in
 * tmpl_file.c; the structs they share in tmpl_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cnt.h"
#include "err.h"
#include "tmpl.h"
#include "tmpl_int.h"

void tmpl_limits_default(struct tmpl_limits *lim)
{
	lim->max_templates = 65536;
	lim->max_templates_per_exporter = 1024;
	lim->min_templates_per_exporter = 64;
	lim->max_sources = 65536;
	lim->max_sources_per_exporter = 64;
	lim->max_pending_bytes = 16u << 20;
	lim->max_pending_per_exporter = 2u << 20;
	lim->min_pending_per_exporter = 256u << 10;
	lim->max_pending_per_source = 256u << 10;
	lim->pending_max_age_ns = 600ull * 1000000000ull;
	lim->lifetime_ns = 0;
	lim->ordered = 0;
}


static uint64_t exp_hash(const struct weir_exporter *e)
{
	uint64_t a, b;

	memcpy(&a, e->addr.a, 8);
	memcpy(&b, e->addr.a + 8, 8);
	return oah_mix(a ^ oah_mix(b ^ ((uint64_t)e->port << 48)));
}

static int exp_eq(const struct weir_exporter *x, const struct weir_exporter *y)
{
	return x->port == y->port && weir_addr_eq(&x->addr, &y->addr);
}

struct tmpl_cache *tmpl_cache_new(const struct tmpl_limits *lim, const struct ie_registry *ies)
{
	struct tmpl_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (lim)
		c->lim = *lim;
	else
		tmpl_limits_default(&c->lim);
	c->ies = ies;
	/* An exporter has at least one source: the sources' bound holds
	 * both tables. */
	oah_init(&c->src, c->lim.max_sources);
	oah_init(&c->exps, c->lim.max_sources);
	oah_init(&c->idle, c->lim.max_sources);
	return c;
}

static void pending_free_all(struct tmpl_source *s)
{
	struct tmpl_pending *p = s->pend_head, *n;

	for (; p; p = n) {
		n = p->next;
		free(p);
	}
	s->pend_head = s->pend_tail = NULL;
	s->pend_bytes = 0;
}

static void source_free(struct tmpl_source *s)
{
	const struct oah_slot *slot;
	uint32_t i = 0;

	while ((slot = oah_iter(&s->tab, &i)))
		free(slot_tmpl(slot));
	oah_free(&s->tab);
	free(s->samplers);
	pending_free_all(s);
	free(s);
}

void tmpl_cache_free(struct tmpl_cache *c)
{
	const struct oah_slot *slot;
	uint32_t i = 0;

	if (!c)
		return;
	while ((slot = oah_iter(&c->src, &i)))
		source_free((struct tmpl_source *)(uintptr_t)slot->val);
	for (i = 0; (slot = oah_iter(&c->idle, &i));)
		source_free((struct tmpl_source *)(uintptr_t)slot->val);
	for (struct src_node *n = c->lost, *next; n; n = next) {
		next = n->xnext;
		source_free(&n->s);
	}
	for (i = 0; (slot = oah_iter(&c->exps, &i));)
		free((struct tmpl_exp *)(uintptr_t)slot->val);
	oah_free(&c->src);
	oah_free(&c->exps);
	oah_free(&c->idle);
	for (i = 0; i < SRCX_PAGES && c->srcx[i]; i++)
		free(c->srcx[i]);
	free(c);
}

const struct tmpl_stats *tmpl_cache_stats(const struct tmpl_cache *c)
{
	return &c->st;
}

const struct ie_registry *tmpl_cache_ies(const struct tmpl_cache *c)
{
	return c ? c->ies : NULL;
}

const struct ie_registry *tmpl_source_ies(const struct tmpl_source *s)
{
	return s && s->cache ? s->cache->ies : NULL;
}

/* Table keys (hash.h): the hashes, never 0; entries of equal hashes are
 * told apart by their fields. */
static uint64_t exp_key(const struct weir_exporter *e)
{
	uint64_t h = exp_hash(e);

	return h ? h : 1;
}

static uint64_t src_key(const struct weir_exporter *e, uint32_t domain)
{
	uint64_t h = oah_mix(exp_hash(e) ^ domain);

	return h ? h : 1;
}

static struct tmpl_exp *exp_get(struct tmpl_cache *c, const struct weir_exporter *e)
{
	uint64_t k = exp_key(e);
	const struct oah_slot *slot;
	struct tmpl_exp *x;

	for (slot = oah_find(&c->exps, k); slot; slot = oah_find_next(&c->exps, slot)) {
		x = (struct tmpl_exp *)(uintptr_t)slot->val;
		if (exp_eq(&x->e, e))
			return x;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->e = *e;
	if (oah_add(&c->exps, k, (uintptr_t)x)) {
		free(x);
		return NULL;
	}
	return x;
}

/* ---- what each exporter holds, and who holds the most ---- */

static uint32_t exp_amount(const struct tmpl_exp *x, int r)
{
	return r == RES_TPL ? x->ntemplates : x->pend_bytes;
}

/* Move x to the class list of its amount of resource r, after a change. */
static void exp_reclass(struct tmpl_cache *c, struct tmpl_exp *x, int r)
{
	uint32_t v = exp_amount(x, r);
	unsigned k = v ? 32u - (unsigned)__builtin_clz(v) : 0;

	if (k == x->cls[r])
		return;
	if (x->cls[r]) {
		if (x->cprev[r])
			x->cprev[r]->cnext[r] = x->cnext[r];
		else
			c->cls[r][x->cls[r]] = x->cnext[r];
		if (x->cnext[r])
			x->cnext[r]->cprev[r] = x->cprev[r];
	}
	x->cls[r] = (uint8_t)k;
	x->cprev[r] = x->cnext[r] = NULL;
	if (!k)
		return;
	x->cnext[r] = c->cls[r][k];
	if (x->cnext[r])
		x->cnext[r]->cprev[r] = x;
	c->cls[r][k] = x;
}

/* The exporter holding the most of r, to within a factor of two (the
 * first of the highest class), that may give to x: it holds more than x
 * would after taking need, and more than the guaranteed minimum. NULL when
 * none may; x itself is never its own victim. */
static struct tmpl_exp *exp_victim(struct tmpl_cache *c, const struct tmpl_exp *x, int r,
				   uint32_t need, uint32_t min)
{
	/* Class k holds amounts in [2^(k-1), 2^k): none of a class whose
	 * top is within the minimum may give, nor of any lower one. */
	for (unsigned k = EXP_CLASSES - 1; k > 0 && ((1ull << k) - 1) > min; k--) {
		for (struct tmpl_exp *v = c->cls[r][k]; v; v = v->cnext[r]) {
			uint32_t a = exp_amount(v, r);

			if (v != x && a > min && a > (uint64_t)exp_amount(x, r) + need)
				return v;
		}
	}
	return NULL;
}

/* Append s to the index; past TMPL_SRC_INDEX_MAX, or without memory for a
 * page, it is not indexed (counted: st.sources_unindexed). */
static void srcx_add(struct tmpl_cache *c, struct tmpl_source *s)
{
	uint32_t i = c->nsrcx, pg = i / SRCX_PAGE;

	if (pg >= SRCX_PAGES) {
		cnt_add(&c->st.sources_unindexed, 1);
		return;
	}
	if (!c->srcx[pg]) {
		c->srcx[pg] = malloc(SRCX_PAGE * sizeof(*c->srcx[pg]));
		if (!c->srcx[pg]) {
			cnt_add(&c->st.sources_unindexed, 1);
			return;
		}
	}
	c->srcx[pg][i % SRCX_PAGE] = s;
	((struct src_node *)s)->indexed = 1;
	__atomic_store_n(&c->nsrcx, i + 1, __ATOMIC_RELEASE);
}

/* The key of an address in the idle table: its hash with port 0. */
static uint64_t addr_key(const struct weir_addr *a)
{
	struct weir_exporter e = { .addr = *a, .port = 0 };

	return exp_key(&e);
}

/* An idle source of address a (its slot in c->idle), or NULL. */
static struct oah_slot *idle_find(struct tmpl_cache *c, const struct weir_addr *a)
{
	struct oah_slot *slot;

	for (slot = oah_find(&c->idle, addr_key(a)); slot; slot = oah_find_next(&c->idle, slot))
		if (weir_addr_eq(&((struct tmpl_source *)(uintptr_t)slot->val)->exporter.addr, a))
			return slot;
	return NULL;
}

/* Keep the emptied source of node n idle, for its address to take back;
 * one nobody can see (not indexed) is freed instead. */
static void idle_put(struct tmpl_cache *c, struct src_node *n)
{
	if (!n->indexed) {
		source_free(&n->s);
		return;
	}
	n->s.exp = NULL;
	c->nidle++;
	if (oah_add(&c->idle, addr_key(&n->s.exporter.addr), (uintptr_t)&n->s)) {
		n->xnext = c->lost;
		c->lost = n;
	}
}

struct tmpl_source *tmpl_source_get(struct tmpl_cache *c, const struct weir_exporter *e,
				    uint32_t domain, int create)
{
	uint64_t k = src_key(e, domain);
	struct oah_slot *slot, *idle;
	struct tmpl_source *s;
	struct src_node *n;
	struct tmpl_exp *x;

	for (slot = oah_find(&c->src, k); slot; slot = oah_find_next(&c->src, slot)) {
		s = (struct tmpl_source *)(uintptr_t)slot->val;
		if (s->domain == domain && exp_eq(&s->exporter, e))
			return s;
	}
	if (!create)
		return NULL;
	/* An idle source of the address takes no more room; a new one
	 * counts with the idle ones (tmpl_exporter_end). */
	idle = c->nidle ? idle_find(c, &e->addr) : NULL;
	if (!idle && c->st.sources + c->nidle >= c->lim.max_sources) {
		cnt_add(&c->st.sources_refused, 1);
		return NULL;
	}
	x = exp_get(c, e);
	if (!x) {
		if (c->exps.n >= c->exps.max)
			cnt_add(&c->st.sources_refused, 1);	/* the exporters' bound */
		return NULL;
	}
	if (x->nsources >= c->lim.max_sources_per_exporter) {
		cnt_add(&c->st.sources_refused, 1);
		return NULL;
	}
	if (idle) {
		n = (struct src_node *)(uintptr_t)idle->val;
		oah_del(&c->idle, idle);
		c->nidle--;
		/* The address is the same: a reader of the index may be
		 * reading it, so only the port is written. */
		n->s.exporter.port = e->port;
	} else {
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
		n->s.exporter = *e;
		n->s.cache = c;
	}
	n->s.domain = domain;
	n->s.exp = x;
	oah_init(&n->s.tab, c->lim.max_templates_per_exporter);
	if (oah_add(&c->src, k, (uintptr_t)&n->s)) {
		if (n->indexed)
			idle_put(c, n);
		else
			free(n);
		cnt_add(&c->st.sources_refused, 1);
		return NULL;
	}
	n->xnext = x->srcs;
	x->srcs = n;
	x->nsources++;
	cnt_add(&c->st.sources, 1);
	if (!n->indexed)
		srcx_add(c, &n->s);
	return &n->s;
}

uint32_t tmpl_cache_nsources(const struct tmpl_cache *c)
{
	return __atomic_load_n(&c->nsrcx, __ATOMIC_ACQUIRE);
}

const struct tmpl_source *tmpl_cache_source(const struct tmpl_cache *c, uint32_t i)
{
	if (i >= tmpl_cache_nsources(c))
		return NULL;
	return c->srcx[i / SRCX_PAGE][i % SRCX_PAGE];
}

/* ---- per-source template table (hash.h), keyed by template id + 1 ---- */

static inline struct oah_slot *tab_lookup(struct tmpl_source *s, uint16_t id)
{
	return oah_find(&s->tab, (uint64_t)id + 1);
}

static void tab_remove(struct tmpl_source *s, struct oah_slot *slot)
{
	free(slot_tmpl(slot));
	oah_del(&s->tab, slot);
	s->exp->ntemplates--;
	exp_reclass(s->cache, s->exp, RES_TPL);
	cnt_sub(&s->cache->st.templates, 1);
}

const struct tmpl *tmpl_find(struct tmpl_source *s, uint16_t id, uint64_t now_ns)
{
	struct oah_slot *slot = tab_lookup(s, id);
	uint64_t life = s->cache->lim.lifetime_ns;
	struct tmpl *t;

	if (!slot)
		return NULL;
	t = slot_tmpl(slot);
	if (life && now_ns > t->refreshed_ns && now_ns - t->refreshed_ns > life) {
		tab_remove(s, slot);
		cnt_add(&s->cache->st.expired, 1);
		return NULL;
	}
	return t;
}

static tmpl_ext_fn ext_build;

void tmpl_ext_register(tmpl_ext_fn build)
{
	ext_build = build;
}

void tmpl_finish(const struct tmpl_cache *c, struct tmpl *t)
{
	const struct ie_registry *ies = c ? c->ies : NULL;
	uint32_t min = 0;

	t->has_varlen = 0;
	t->sampler_field = -1;
	t->rate_field = -1;
	for (uint16_t i = 0; i < t->nfields; i++) {
		struct tmpl_field *f = &t->f[i];

		f->def = ie_find(ies, f->pen, f->id);
		if (f->len == TMPL_VARLEN) {
			t->has_varlen = 1;
			min += 1;
		} else {
			min += f->len;
		}
		if (f->pen != IE_PEN_IANA || i < t->scope_count)
			continue;
		/* samplerId (48), selectorId (302): which sampler made this
		 * record; samplingInterval (34) / samplerRandomInterval (50):
		 * a rate carried inline. */
		if ((f->id == 48 || f->id == 302) && t->sampler_field < 0)
			t->sampler_field = (int16_t)i;
		if ((f->id == 34 || f->id == 50) && t->rate_field < 0)
			t->rate_field = (int16_t)i;
	}
	t->min_len = min;
	t->ext_built = 0;
	if (ext_build)
		ext_build(t);
}

static int tmpl_same(const struct tmpl *a, const struct tmpl *b)
{
	if (a->nfields != b->nfields || a->scope_count != b->scope_count || a->proto != b->proto)
		return 0;
	for (uint16_t i = 0; i < a->nfields; i++)
		if (a->f[i].pen != b->f[i].pen || a->f[i].id != b->f[i].id ||
		    a->f[i].len != b->f[i].len)
			return 0;
	return 1;
}

static struct tmpl *tmpl_dup(const struct tmpl *t)
{
	size_t sz = sizeof(*t) + (size_t)t->nfields * sizeof(t->f[0]);
	struct tmpl *n = malloc(sz);

	if (n)
		memcpy(n, t, sz);
	return n;
}

/* The cache is full and s wants one more template: evict the least
 * recently refreshed template of the exporter holding the most, when s's
 * exporter is under its guaranteed minimum and that one may give (see
 * exp_victim). 0 when there is room now. */
static int tpl_evict_for(struct tmpl_source *s)
{
	struct tmpl_cache *c = s->cache;
	struct tmpl_exp *v;
	struct tmpl_source *vs = NULL;
	struct oah_slot *old = NULL, *slot;

	if (s->exp->ntemplates >= c->lim.min_templates_per_exporter)
		return -1;
	v = exp_victim(c, s->exp, RES_TPL, 1, c->lim.min_templates_per_exporter);
	if (!v)
		return -1;
	for (struct src_node *n = v->srcs; n; n = n->xnext)
		for (uint32_t i = 0; (slot = oah_iter(&n->s.tab, &i));)
			if (!old || slot_tmpl(slot)->refreshed_ns < slot_tmpl(old)->refreshed_ns) {
				old = slot;
				vs = &n->s;
			}
	if (!old)
		return -1;
	tab_remove(vs, old);
	cnt_add(&c->st.evicted, 1);
	return 0;
}

int tmpl_add(struct tmpl_source *s, const struct tmpl *t, uint64_t now_ns)
{
	struct tmpl_cache *c = s->cache;
	struct oah_slot *slot;
	struct tmpl *n;
	int err;

	if (t->nfields == 0 || t->nfields > TMPL_MAX_FIELDS)
		return WEIR_E_TEMPLATE;
	slot = tab_lookup(s, t->id);
	if (slot && tmpl_same(slot_tmpl(slot), t)) {
		slot_tmpl(slot)->refreshed_ns = now_ns;
		cnt_add(&c->st.refreshed, 1);
		return WEIR_OK;
	}
	n = tmpl_dup(t);
	if (!n) {
		cnt_add(&c->st.refused, 1);
		return WEIR_E_NOMEM;
	}
	n->refreshed_ns = now_ns;
	if (slot) {
		free(slot_tmpl(slot));
		slot->val = (uintptr_t)n;
		cnt_add(&c->st.replaced, 1);
		return WEIR_OK;
	}
	if (s->exp->ntemplates >= c->lim.max_templates_per_exporter ||
	    (c->st.templates >= c->lim.max_templates && tpl_evict_for(s))) {
		free(n);
		cnt_add(&c->st.refused, 1);
		return WEIR_E_LIMIT;
	}
	err = oah_add(&s->tab, (uint64_t)t->id + 1, (uintptr_t)n);
	if (err) {
		free(n);
		cnt_add(&c->st.refused, 1);
		return err;
	}
	s->exp->ntemplates++;
	exp_reclass(c, s->exp, RES_TPL);
	cnt_add(&c->st.templates, 1);
	cnt_add(&c->st.added, 1);
	return WEIR_OK;
}

int tmpl_withdraw(struct tmpl_source *s, uint16_t id)
{
	struct oah_slot *slot = tab_lookup(s, id);

	if (!slot)
		return WEIR_E_NO_TEMPLATE;
	tab_remove(s, slot);
	cnt_add(&s->cache->st.withdrawn, 1);
	return WEIR_OK;
}

int tmpl_withdraw_all(struct tmpl_source *s, int options)
{
	struct oah_slot *slot;
	uint32_t i = 0;

	while ((slot = oah_iter(&s->tab, &i))) {
		if ((slot_tmpl(slot)->scope_count > 0) == (options != 0)) {
			i = (uint32_t)(slot - s->tab.slot);
			tab_remove(s, slot);
			cnt_add(&s->cache->st.withdrawn, 1);
		}
	}
	return WEIR_OK;
}

int tmpl_sampler_set(struct tmpl_source *s, uint64_t sampler_id, uint32_t rate)
{
	struct tmpl_sampler *n;

	for (uint32_t i = 0; i < s->nsamplers; i++) {
		if (s->samplers[i].id == sampler_id) {
			s->samplers[i].rate = rate;
			return WEIR_OK;
		}
	}
	if (s->nsamplers >= TMPL_MAX_SAMPLERS)
		return WEIR_E_LIMIT;
	n = realloc(s->samplers, (s->nsamplers + 1) * sizeof(*n));
	if (!n)
		return WEIR_E_NOMEM;
	s->samplers = n;
	n[s->nsamplers].id = sampler_id;
	n[s->nsamplers].rate = rate;
	s->nsamplers++;
	return WEIR_OK;
}

uint32_t tmpl_sampler_get(const struct tmpl_source *s, uint64_t sampler_id)
{
	uint32_t dflt = 0;

	for (uint32_t i = 0; i < s->nsamplers; i++) {
		if (s->samplers[i].id == sampler_id)
			return s->samplers[i].rate;
		if (s->samplers[i].id == 0)
			dflt = s->samplers[i].rate;
	}
	/* Records that name no sampler, from an exporter that announced just
	 * one, were sampled by that one. */
	if (!dflt && sampler_id == 0 && s->nsamplers == 1)
		return s->samplers[0].rate;
	return dflt;
}

/* ---- held data ---- */

static void pending_drop_head(struct tmpl_source *s)
{
	struct tmpl_pending *p = s->pend_head;
	uint32_t sz = p->hdr_len + p->len;

	s->pend_head = p->next;
	if (!s->pend_head)
		s->pend_tail = NULL;
	s->pend_bytes -= sz;
	s->exp->pend_bytes -= sz;
	exp_reclass(s->cache, s->exp, RES_PEND);
	cnt_sub(&s->cache->st.pending_bytes, sz);
	cnt_add(&s->cache->st.pending_dropped, 1);
	free(p);
}

/* The cache's held bytes are full and s wants sz more: drop the oldest
 * held set of the exporter holding the most, when s's exporter is under
 * its guaranteed minimum and that one may give. 0 when one was dropped. */
static int pend_evict_for(struct tmpl_source *s, size_t sz)
{
	struct tmpl_cache *c = s->cache;
	struct tmpl_exp *v;
	struct tmpl_source *vs = NULL;

	if (s->exp->pend_bytes + sz > c->lim.min_pending_per_exporter)
		return -1;
	v = exp_victim(c, s->exp, RES_PEND, (uint32_t)sz, c->lim.min_pending_per_exporter);
	if (!v)
		return -1;
	for (struct src_node *n = v->srcs; n; n = n->xnext)
		if (n->s.pend_head && (!vs || n->s.pend_head->t_ns < vs->pend_head->t_ns))
			vs = &n->s;
	if (!vs)
		return -1;
	pending_drop_head(vs);
	return 0;
}

static void pending_expire(struct tmpl_source *s, uint64_t now_ns)
{
	uint64_t age = s->cache->lim.pending_max_age_ns;

	while (s->pend_head && age && now_ns > s->pend_head->t_ns &&
	       now_ns - s->pend_head->t_ns > age)
		pending_drop_head(s);
}

int tmpl_pending_add(struct tmpl_source *s, uint16_t tid, const void *hdr, size_t hdr_len,
		     const uint8_t *body, size_t len, uint64_t now_ns)
{
	struct tmpl_cache *c = s->cache;
	struct tmpl_pending *p;
	size_t sz;

	if (c->lim.ordered)
		return WEIR_E_NO_TEMPLATE;
	pending_expire(s, now_ns);
	if (hdr_len > 32 || len > 65535 || (sz = hdr_len + len) > c->lim.max_pending_per_source) {
		cnt_add(&c->st.pending_dropped, 1);
		return WEIR_E_LIMIT;
	}
	/* Room from this source's own oldest sets first for its bound and
	 * its exporter's; for the whole cache's, from the exporter holding
	 * the most while this one is under its minimum, else its own. */
	while (s->pend_head && (s->pend_bytes + sz > c->lim.max_pending_per_source ||
				s->exp->pend_bytes + sz > c->lim.max_pending_per_exporter))
		pending_drop_head(s);
	while (c->st.pending_bytes + sz > c->lim.max_pending_bytes) {
		if (!pend_evict_for(s, sz))
			continue;
		if (!s->pend_head)
			break;
		pending_drop_head(s);
	}
	if (c->st.pending_bytes + sz > c->lim.max_pending_bytes ||
	    s->exp->pend_bytes + sz > c->lim.max_pending_per_exporter) {
		cnt_add(&c->st.pending_dropped, 1);
		return WEIR_E_LIMIT;
	}
	p = malloc(sizeof(*p) + sz);
	if (!p) {
		cnt_add(&c->st.pending_dropped, 1);
		return WEIR_E_NOMEM;
	}
	p->next = NULL;
	p->t_ns = now_ns;
	p->tid = tid;
	p->hdr_len = (uint16_t)hdr_len;
	p->len = (uint32_t)len;
	if (hdr_len)
		memcpy(p->data, hdr, hdr_len);
	if (len)
		memcpy(p->data + hdr_len, body, len);
	if (s->pend_tail)
		s->pend_tail->next = p;
	else
		s->pend_head = p;
	s->pend_tail = p;
	s->pend_bytes += (uint32_t)sz;
	s->exp->pend_bytes += (uint32_t)sz;
	exp_reclass(c, s->exp, RES_PEND);
	cnt_add(&c->st.pending_bytes, sz);
	cnt_add(&c->st.pending_held, 1);
	return WEIR_OK;
}

void tmpl_pending_take(struct tmpl_source *s, uint16_t tid, uint64_t now_ns,
		       tmpl_pending_fn fn, void *user)
{
	struct tmpl_pending **pp, *p, *taken = NULL, **tail = &taken;

	pending_expire(s, now_ns);
	/* Unlink first, then hand out: fn may decode, and decoding must see a
	 * consistent list. */
	for (pp = &s->pend_head; (p = *pp);) {
		if (p->tid != tid) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		p->next = NULL;
		*tail = p;
		tail = &p->next;
		s->pend_bytes -= p->hdr_len + p->len;
		s->exp->pend_bytes -= p->hdr_len + p->len;
		cnt_sub(&s->cache->st.pending_bytes, p->hdr_len + p->len);
	}
	exp_reclass(s->cache, s->exp, RES_PEND);
	s->pend_tail = NULL;
	for (p = s->pend_head; p; p = p->next)
		s->pend_tail = p;
	while ((p = taken)) {
		taken = p->next;
		cnt_add(&s->cache->st.pending_rescued, 1);
		fn(user, p->data, p->hdr_len, p->data + p->hdr_len, p->len);
		free(p);
	}
}

/* ---- the end of a transport session ---- */

/* Empty s: templates, held data, sampler rates, time base and sequence
 * state; its seq_* counters stay. The templates dropped. */
static uint32_t source_clear(struct tmpl_source *s)
{
	struct tmpl_cache *c = s->cache;
	const struct oah_slot *slot;
	uint32_t i = 0, n = 0;

	while ((slot = oah_iter(&s->tab, &i))) {
		free(slot_tmpl(slot));
		n++;
	}
	oah_free(&s->tab);
	s->exp->ntemplates -= n;
	cnt_sub(&c->st.templates, n);
	cnt_add(&c->st.ended, n);
	while (s->pend_head)
		pending_drop_head(s);
	free(s->samplers);
	s->samplers = NULL;
	s->nsamplers = 0;
	s->seq_valid = 0;
	s->seq_next = 0;
	s->seq_mode = 0;
	s->seq_last = s->seq_last_nall = s->seq_last_nflow = 0;
	s->sys_init_ms = 0;
	return n;
}

uint32_t tmpl_exporter_end(struct tmpl_cache *c, const struct weir_exporter *e)
{
	uint64_t k = exp_key(e);
	struct oah_slot *slot;
	struct tmpl_exp *x = NULL;
	struct src_node *n, *next;
	uint32_t dropped = 0;

	for (slot = oah_find(&c->exps, k); slot; slot = oah_find_next(&c->exps, slot)) {
		x = (struct tmpl_exp *)(uintptr_t)slot->val;
		if (exp_eq(&x->e, e))
			break;
	}
	if (!slot)
		return 0;
	for (n = x->srcs; n; n = next) {
		struct oah_slot *ss;

		next = n->xnext;
		dropped += source_clear(&n->s);
		for (ss = oah_find(&c->src, src_key(e, n->s.domain)); ss;
		     ss = oah_find_next(&c->src, ss))
			if (ss->val == (uintptr_t)&n->s) {
				oah_del(&c->src, ss);
				break;
			}
		n->xnext = NULL;
		cnt_sub(&c->st.sources, 1);
		idle_put(c, n);
	}
	/* Nothing held now: out of the class lists, then out of the table. */
	x->ntemplates = 0;
	x->pend_bytes = 0;
	exp_reclass(c, x, RES_TPL);
	exp_reclass(c, x, RES_PEND);
	oah_del(&c->exps, slot);
	free(x);
	cnt_add(&c->st.sessions_ended, 1);
	return dropped;
}
