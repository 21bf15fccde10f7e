/* liblm version: the one place the version number is written (the Makefile reads it from here). */
#ifndef LM_VERSION_H
#define LM_VERSION_H

/** Major version: changes when the ABI breaks. */
#define LM_VERSION_MAJOR 0
/** Minor version: changes when features are added compatibly. */
#define LM_VERSION_MINOR 2
/** Patch version: changes for fixes only. */
#define LM_VERSION_PATCH 0

/** The version as one integer, MAJOR*10000 + MINOR*100 + PATCH, for compile-time checks. */
#define LM_VERSION_NUMBER (LM_VERSION_MAJOR * 10000 + LM_VERSION_MINOR * 100 + LM_VERSION_PATCH)

/** Turns a macro's value into a string literal (internal to this header). */
#define LM_VERSION_STR_(x) #x
/** Expands a macro, then turns it into a string literal (internal to this header). */
#define LM_VERSION_STR(x) LM_VERSION_STR_(x)
/** The version as a string literal, "MAJOR.MINOR.PATCH". */
#define LM_VERSION_STRING                                                                         \
    LM_VERSION_STR(LM_VERSION_MAJOR) "." LM_VERSION_STR(LM_VERSION_MINOR) "." LM_VERSION_STR(    \
        LM_VERSION_PATCH)

#endif /* LM_VERSION_H */
