/* liblm version: the one place the version number is written (the Makefile reads it from here). */
#ifndef LM_VERSION_H
#define LM_VERSION_H

/** Major version: changes when the ABI breaks. */
#define LM_VERSION_MAJOR 0
/** Minor version: changes when features are added compatibly. */
#define LM_VERSION_MINOR 1
/** Patch version: changes for fixes only. */
#define LM_VERSION_PATCH 0

/** The version as one integer, MAJOR*10000 + MINOR*100 + PATCH, for compile-time checks. */
#define LM_VERSION_NUMBER (LM_VERSION_MAJOR * 10000 + LM_VERSION_MINOR * 100 + LM_VERSION_PATCH)

#endif /* LM_VERSION_H */
