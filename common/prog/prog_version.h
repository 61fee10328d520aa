/* prog_version.h - the one version of the weir programs: what --version
 * prints and the generator's ledger records. */
#ifndef PROG_VERSION_H
#define PROG_VERSION_H

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.1.0"
#endif

#endif
