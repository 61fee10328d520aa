/* version.h - the version --version prints and the ledger records. */
#ifndef GEN_VERSION_H
#define GEN_VERSION_H

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.1.0"
#endif

#endif
