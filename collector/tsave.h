/* tsave.h - --template-file: templates (and sampler rates) kept across a
 * restart. The UDP workers' only: the TCP input's templates end with their
 * connection (tcp.h).
 *
 * At start the file is loaded into every worker's cache: the kernel may hand
 * an exporter to any worker. A save merges what every worker knows into one
 * file, written atomically (temporary file, fsync, rename): each worker
 * saves its own cache to FILE.w<N> in its own thread (the caches are
 * single-threaded), then the main thread loads those parts into one merge
 * cache, saves that to FILE and removes the parts. With one worker it saves
 * to FILE directly.
 */
#ifndef COL_TSAVE_H
#define COL_TSAVE_H

#include <stddef.h>
#include <stdint.h>

#include "worker.h"

#define COL_TSAVE_INTERVAL_S	60
#define COL_TSAVE_WAIT_MS	5000	/* how long a save waits for the workers */

/* Whether a save to path can work: it is no directory and its folder
 * takes a new file (one is created and removed). WEIR_OK, or an error with
 * a sentence naming the cause in err. Run at start, so that a path that
 * cannot be written stops the program before it receives anything. */
int col_tsave_check(const char *path, char *err, size_t errlen);

/* Load the file into every worker (a missing file is no error). WEIR_OK, or
 * the error of the load (WEIR_E_PARSE: damaged, nothing loaded). */
int col_tsave_load(struct col_shared *sh, uint64_t now_ns);

/* Save now. running: the worker threads are running (they are asked to save
 * their parts and the call waits for them); else the caller saves the parts
 * itself. Counted in sh->tsave_ok / tsave_err. */
int col_tsave_save(struct col_shared *sh, int running);

/* Called by a worker thread in its loop: saves its part when asked. */
void col_tsave_poll(struct col_worker *w);

#endif
