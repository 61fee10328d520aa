/* cli.h - the command line of weir-generator (docs/generator.md).
 *
 * Every multi-word long option is accepted with dashes and with
 * underscores (--src-cidr, --src_cidr).
 */
#ifndef GEN_CLI_H
#define GEN_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "run.h"

enum cli_result {
	CLI_RUN = 0,		/* c is ready */
	CLI_DONE = 1,		/* --help or --version printed to out: exit 0 */
	CLI_USAGE = 2,		/* bad flags: err says why, exit 2 */
};

/* Fill c (defaults first) from argv. Without --seed a random seed is
 * drawn (c->seeded stays 0). --help and --version print to out. */
enum cli_result cli_parse(int argc, char **argv, struct gen_cfg *c, FILE *out,
			  char *err, size_t errlen);

#endif
