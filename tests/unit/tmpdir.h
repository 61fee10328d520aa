/* tmpdir.h - the unit tests' temporary folders: made fresh under $TMPDIR
 * (else /tmp) with a name that says whose, removed whole at the end. One
 * helper for every suite that needs a folder. */
#ifndef TESTS_TMPDIR_H
#define TESTS_TMPDIR_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh folder "$TMPDIR/<name>.XXXXXX" into buf (n bytes); NULL when it
 * could not be made (errno set). */
static inline char *tmpdir_make(char *buf, size_t n, const char *name)
{
	const char *base = getenv("TMPDIR");

	snprintf(buf, n, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
	return mkdtemp(buf);
}

/* Remove the folder and all in it; says so on stderr when it could not. */
static inline void tmpdir_remove(const char *d)
{
	char cmd[320];

	if (!d || !*d)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", d);
}

#endif
