/* tsave.c - see tsave.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "prog_log.h"
#include "tsave.h"

int col_tsave_check(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + 8;
	struct stat st;
	char *tmp;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is a directory", path);
		return WEIR_E_IO;
	}
	/* What a save creates first: tmpl_cache_save() writes PATH.tmp and
	 * renames it; the workers' parts are PATH.w<N>, in the same folder. */
	tmp = malloc(n);
	if (!tmp) {
		snprintf(err, errlen, "out of memory");
		return WEIR_E_NOMEM;
	}
	snprintf(tmp, n, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		free(tmp);
		return WEIR_E_IO;
	}
	close(fd);
	unlink(tmp);
	free(tmp);
	return WEIR_OK;
}

int col_tsave_load(struct col_shared *sh, uint64_t now_ns)
{
	const char *path = sh->cfg->template_file;
	int err = WEIR_OK;

	if (!path)
		return WEIR_OK;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		prog_log(PROG_LOG_INFO, "template file %s does not exist yet", path);
		return WEIR_OK;
	}
	for (unsigned i = 0; i < col_nudp(sh); i++) {
		err = tmpl_cache_load(sh->w[i]->ctx.cache, path, now_ns);
		if (err == WEIR_E_PARSE || err == WEIR_E_IO)
			break;		/* the same for every worker */
	}
	if (err && err != WEIR_E_LIMIT) {
		prog_log(PROG_LOG_WARN, "template file %s: %s; starting without its templates",
			path, weir_strerror(err));
		return err;
	}
	if (err == WEIR_E_LIMIT)
		prog_log(PROG_LOG_WARN, "template file %s: a cache bound refused part of it", path);
	prog_log(PROG_LOG_INFO, "template file %s: %llu templates loaded", path,
		(unsigned long long)tmpl_cache_stats(sh->w[0]->ctx.cache)->templates);
	return err;
}

static char *part_path(const struct col_shared *sh, unsigned i)
{
	const char *path = sh->cfg->template_file;
	size_t n = strlen(path) + 16;
	char *p = malloc(n);

	if (!p)
		return NULL;
	if (col_nudp(sh) == 1)
		snprintf(p, n, "%s", path);
	else
		snprintf(p, n, "%s.w%u", path, i);
	return p;
}

static int save_part(struct col_worker *w)
{
	char *p = part_path(w->sh, w->id);
	int err;

	if (!p)
		return WEIR_E_NOMEM;
	err = tmpl_cache_save(w->ctx.cache, p);
	free(p);
	return err;
}

void col_tsave_poll(struct col_worker *w)
{
	uint64_t g = __atomic_load_n(&w->sh->save_gen, __ATOMIC_ACQUIRE);

	if (g == w->save_done)
		return;
	w->save_err = save_part(w);
	__atomic_store_n(&w->save_done, g, __ATOMIC_RELEASE);
}

static int merge(struct col_shared *sh)
{
	struct tmpl_limits lim;
	struct tmpl_cache *m;
	int err = WEIR_OK, e;

	tmpl_limits_default(&lim);
	lim.max_templates = UINT32_MAX;
	lim.max_templates_per_exporter = UINT32_MAX;
	lim.max_sources = UINT32_MAX;
	lim.max_sources_per_exporter = UINT32_MAX;
	m = tmpl_cache_new(&lim, sh->ies);
	if (!m)
		return WEIR_E_NOMEM;
	for (unsigned i = 0; i < col_nudp(sh); i++) {
		char *p = part_path(sh, i);

		if (!p) {
			err = WEIR_E_NOMEM;
			break;
		}
		e = tmpl_cache_load(m, p, 0);
		unlink(p);
		free(p);
		if (e && !err)
			err = e;
	}
	if (!err)
		err = tmpl_cache_save(m, sh->cfg->template_file);
	tmpl_cache_free(m);
	return err;
}

static void unlink_parts(const struct col_shared *sh)
{
	for (unsigned i = 0; i < col_nudp(sh); i++) {
		char *p = part_path(sh, i);

		if (p)
			unlink(p);
		free(p);
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int col_tsave_save(struct col_shared *sh, int running)
{
	const char *path = sh->cfg->template_file;
	uint64_t g;
	int err = WEIR_OK;

	if (!path)
		return WEIR_OK;
	if (running) {
		unsigned waited = 0, done;

		g = __atomic_add_fetch(&sh->save_gen, 1, __ATOMIC_ACQ_REL);
		for (;;) {
			done = 0;
			for (unsigned i = 0; i < col_nudp(sh); i++)
				done += __atomic_load_n(&sh->w[i]->save_done, __ATOMIC_ACQUIRE) == g;
			if (done == col_nudp(sh) || waited >= COL_TSAVE_WAIT_MS)
				break;
			sleep_ms(10);
			waited += 10;
		}
		if (done != col_nudp(sh)) {
			prog_log(PROG_LOG_WARN, "template save: %u of %u workers did not answer",
				col_nudp(sh) - done, col_nudp(sh));
			err = WEIR_E_IO;
		}
	} else {
		g = ++sh->save_gen;
		for (unsigned i = 0; i < col_nudp(sh); i++) {
			sh->w[i]->save_err = save_part(sh->w[i]);
			sh->w[i]->save_done = g;
		}
	}
	for (unsigned i = 0; !err && i < col_nudp(sh); i++)
		err = sh->w[i]->save_err;
	if (!err && col_nudp(sh) > 1)
		err = merge(sh);
	else if (err && col_nudp(sh) > 1)
		unlink_parts(sh);
	if (err) {
		char why[512];

		/* The library says only "I/O error": name the cause when the
		 * file system refuses the file now. */
		if (err != WEIR_E_IO || col_tsave_check(path, why, sizeof(why)) == WEIR_OK)
			snprintf(why, sizeof(why), "%s", weir_strerror(err));
		prog_log(PROG_LOG_ERROR, "template file %s: save failed: %s", path, why);
		__atomic_add_fetch(&sh->tsave_err, 1, __ATOMIC_RELAXED);
	} else {
		prog_log(PROG_LOG_DEBUG, "template file %s saved", path);
		__atomic_add_fetch(&sh->tsave_ok, 1, __ATOMIC_RELAXED);
	}
	return err;
}
