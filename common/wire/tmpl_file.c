/* tmpl_file.c - the template file (tmpl.h: tmpl_cache_save, tmpl_cache_load):
 * templates and sampler rates kept across a restart, written atomically
 * (temporary file, fsync, rename) and checked on load (magic, checksum, a
 * validating pass before anything is applied).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "rd.h"
#include "tmpl.h"
#include "tmpl_int.h"
#include "wr.h"

#define TMPL_FILE_MAGIC		"WEIRTPL1"
#define TMPL_FILE_MAX		(256u << 20)


/* ---- persistence ----
 *
 * File: "WEIRTPL1", then entries, then a 0 byte and an FNV-1a 32-bit sum of
 * everything before it. Entry 1, a template: address[16] port:16 domain:32
 * id:16 proto:8 scope:16 nfields:16, then per field pen:32 id:16 len:16.
 * Entry 2, a sampler: address[16] port:16 domain:32 sampler:64 rate:32.
 * Entry 3, the source's time base (tmpl_source.sys_init_ms, IPFIX
 * systemInitTimeMilliseconds from options data): address[16] port:16
 * domain:32 ms:64, so that uptimes still have a base after a restart.
 * A loader that knew only 1 and 2 refuses a file with 3 whole.
 */

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void wr_source(struct wr *w, const struct tmpl_source *s)
{
	wr_bytes(w, s->exporter.addr.a, 16);
	wr_u16(w, s->exporter.port);
	wr_u32(w, s->domain);
}

static size_t save_size(const struct tmpl_cache *c)
{
	size_t sz = 8 + 1 + 4;

	const struct oah_slot *ss, *ts;
	uint32_t i = 0, j;

	while ((ss = oah_iter(&c->src, &i))) {
		const struct tmpl_source *s = (const struct tmpl_source *)(uintptr_t)ss->val;

		sz += (size_t)s->nsamplers * (1 + 22 + 12) + (s->sys_init_ms ? 1 + 22 + 8 : 0);
		for (j = 0; (ts = oah_iter(&s->tab, &j));)
			sz += 1 + 22 + 7 + (size_t)slot_tmpl(ts)->nfields * 8;
	}
	return sz;
}

int tmpl_cache_save(const struct tmpl_cache *c, const char *path)
{
	size_t sz = save_size(c), plen = strlen(path);
	uint8_t *buf = malloc(sz);
	char *tmp = malloc(plen + 8);
	const struct oah_slot *ss;
	struct wr w;
	int fd = -1, err = WEIR_OK;
	size_t off = 0;

	if (!buf || !tmp) {
		err = WEIR_E_NOMEM;
		goto out_free;
	}
	wr_init(&w, buf, sz);
	wr_bytes(&w, TMPL_FILE_MAGIC, 8);
	for (uint32_t i = 0; (ss = oah_iter(&c->src, &i));) {
		const struct tmpl_source *s = (const struct tmpl_source *)(uintptr_t)ss->val;
		const struct oah_slot *slot;
		uint32_t it = 0;

		while ((slot = oah_iter(&s->tab, &it))) {
			const struct tmpl *t = slot_tmpl(slot);

			wr_u8(&w, 1);
			wr_source(&w, s);
			wr_u16(&w, t->id);
			wr_u8(&w, t->proto);
			wr_u16(&w, t->scope_count);
			wr_u16(&w, t->nfields);
			for (uint16_t k = 0; k < t->nfields; k++) {
				wr_u32(&w, t->f[k].pen);
				wr_u16(&w, t->f[k].id);
				wr_u16(&w, t->f[k].len);
			}
		}
		for (uint32_t j = 0; j < s->nsamplers; j++) {
			wr_u8(&w, 2);
			wr_source(&w, s);
			wr_u64(&w, s->samplers[j].id);
			wr_u32(&w, s->samplers[j].rate);
		}
		if (s->sys_init_ms) {
			wr_u8(&w, 3);
			wr_source(&w, s);
			wr_u64(&w, s->sys_init_ms);
		}
	}
	wr_u8(&w, 0);
	wr_u32(&w, fnv1a(buf, w.off));
	if (w.err) {
		err = w.err;
		goto out_free;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = WEIR_E_IO;
		goto out_free;
	}
	while (off < w.off) {
		ssize_t n = write(fd, buf + off, w.off - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = WEIR_E_IO;
			goto out_unlink;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		err = WEIR_E_IO;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err = WEIR_E_IO;
		goto out_unlink;
	}
	goto out_free;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(tmp);
	free(buf);
	return err;
}

/* Walk the entries; with apply == 0 only validate. */
static int load_walk(struct tmpl_cache *c, const uint8_t *buf, size_t len, int apply,
		     uint64_t now_ns)
{
	union {
		struct tmpl t;
		uint8_t space[sizeof(struct tmpl) + TMPL_MAX_FIELDS * sizeof(struct tmpl_field)];
	} u;
	struct rd r;

	rd_init(&r, buf, len);
	rd_skip(&r, 8);
	for (;;) {
		struct weir_exporter e;
		struct tmpl_source *s = NULL;
		uint8_t kind = rd_u8(&r);
		uint32_t domain;

		if (r.err)
			return WEIR_E_PARSE;
		if (kind == 0)
			return rd_left(&r) == 0 ? WEIR_OK : WEIR_E_PARSE;
		if (kind < 1 || kind > 3)
			return WEIR_E_PARSE;
		memset(&e, 0, sizeof(e));
		rd_copy(&r, e.addr.a, 16);
		e.port = rd_u16(&r);
		domain = rd_u32(&r);
		if (apply) {
			s = tmpl_source_get(c, &e, domain, 1);
			if (!s)
				return WEIR_E_LIMIT;
		}
		if (kind == 3) {
			uint64_t ms = rd_u64(&r);

			if (s && !s->sys_init_ms)	/* one learnt since start wins */
				s->sys_init_ms = ms;
			continue;
		}
		if (kind == 2) {
			uint64_t id = rd_u64(&r);
			uint32_t rate = rd_u32(&r);

			if (s)
				tmpl_sampler_set(s, id, rate);
			continue;
		}
		memset(&u.t, 0, sizeof(u.t));
		u.t.id = rd_u16(&r);
		u.t.proto = rd_u8(&r);
		u.t.scope_count = rd_u16(&r);
		u.t.nfields = rd_u16(&r);
		if (r.err || u.t.nfields == 0 || u.t.nfields > TMPL_MAX_FIELDS ||
		    u.t.scope_count > u.t.nfields)
			return WEIR_E_PARSE;
		for (uint16_t k = 0; k < u.t.nfields; k++) {
			u.t.f[k].pen = rd_u32(&r);
			u.t.f[k].id = rd_u16(&r);
			u.t.f[k].len = rd_u16(&r);
		}
		if (r.err)
			return WEIR_E_PARSE;
		if (s) {
			tmpl_finish(c, &u.t);
			tmpl_add(s, &u.t, now_ns);	/* refusals are counted */
		}
	}
}

int tmpl_cache_load(struct tmpl_cache *c, const char *path, uint64_t now_ns)
{
	uint8_t *buf = NULL;
	struct stat st;
	size_t off = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return WEIR_E_IO;
	if (fstat(fd, &st) < 0 || st.st_size < 13 || (uint64_t)st.st_size > TMPL_FILE_MAX) {
		err = fstat(fd, &st) < 0 ? WEIR_E_IO : WEIR_E_PARSE;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		err = WEIR_E_NOMEM;
		goto out;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = WEIR_E_IO;
			goto out;
		}
		off += (size_t)n;
	}
	if (memcmp(buf, TMPL_FILE_MAGIC, 8) != 0 ||
	    fnv1a(buf, off - 4) != (uint32_t)be_uint(buf + off - 4, 4)) {
		err = WEIR_E_PARSE;
		goto out;
	}
	err = load_walk(c, buf, off - 4, 0, now_ns);
	if (!err)
		err = load_walk(c, buf, off - 4, 1, now_ns);
out:
	free(buf);
	close(fd);
	return err;
}
