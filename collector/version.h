/* version.h - the version weir-collector --version prints. */
#ifndef COL_VERSION_H
#define COL_VERSION_H

#ifndef WEIR_VERSION
#define WEIR_VERSION "0.1.0"
#endif

#endif
