/**
 * @file lm.h
 * @brief liblm: BERT-family language models in C. The only public header.
 *
 * liblm tokenizes text, runs pretrained BERT-family models and fine-tunes them on the CPU.
 * This header is its own manual: every function says what it returns, which errors it can give
 * and who owns what.
 *
 * Conventions used throughout:
 * - Every fallible function returns an ::lm_status; LM_OK (0) is success. The return code
 *   decides success; lm_last_error() only explains a failure.
 * - Constructors take an out-parameter; on failure `*out` is set to NULL and nothing leaks.
 * - Every handle has a `*_free` function that accepts NULL.
 * - Options structs start with `size_t struct_size` and are filled by their `lm_*_options_init()`
 *   function, called with the caller's own size: `lm_model_options_init(&o, sizeof o)`. The
 *   library writes and reads only the bytes the caller's `struct_size` covers (an older program
 *   with a smaller struct is never written past its end) and rejects non-zero bytes beyond the
 *   fields it knows (so a newer program's setting is never silently ignored). New fields are only
 *   ever added at the end; every field of a struct or array in the ABI has a fixed-width type.
 * - Buffers the library hands to the caller are freed with the matching `lm_*_free` function,
 *   never with free().
 * - Handles are not locked. A model may run inference from many threads at once; a tokenizer
 *   may encode from many threads at once; an encoding is read-only once made (any thread may
 *   read it); a trainer is used by one thread at a time (not necessarily always the same), and
 *   while it exists its model is used only through it. Callbacks run on the thread that made
 *   the call that invokes them, one at a time.
 */
#ifndef LM_H
#define LM_H

#include <stddef.h>
#include <stdint.h>

#include "lm/version.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a function exported from the shared library. */
#if defined(_WIN32)
#define LM_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define LM_API __attribute__((visibility("default")))
#else
#define LM_API
#endif

/**
 * The list of status codes, as an X-macro: `X(NAME, value, "description")`.
 * Values never change once released; new codes are added at the end.
 */
#define LM_STATUS_MAP(X)                                                                         \
    X(LM_OK, 0, "success")                                                                       \
    X(LM_ERR_INVALID_ARGUMENT, 1, "invalid argument")                                            \
    X(LM_ERR_NOMEM, 2, "out of memory")                                                          \
    X(LM_ERR_IO, 3, "input/output error")                                                        \
    X(LM_ERR_NOT_FOUND, 4, "file or item not found")                                             \
    X(LM_ERR_PERMISSION, 5, "permission denied")                                                 \
    X(LM_ERR_FORMAT, 6, "malformed or corrupt input")                                            \
    X(LM_ERR_UNSUPPORTED, 7, "unsupported feature or configuration")                             \
    X(LM_ERR_UTF8, 8, "invalid UTF-8")                                                           \
    X(LM_ERR_RANGE, 9, "value out of range")                                                     \
    X(LM_ERR_SHAPE, 10, "tensor shape mismatch")                                                 \
    X(LM_ERR_STATE, 11, "operation not valid in the current state")                              \
    X(LM_ERR_INTERNAL, 12, "internal error")                                                     \
    X(LM_ERR_BUFFER_TOO_SMALL, 13, "output buffer too small")                                    \
    X(LM_ERR_NUMERIC, 14, "non-finite loss or gradient")

/** Status code returned by every fallible liblm function. */
typedef enum lm_status {
/** Expands one LM_STATUS_MAP entry into an enumerator (internal to this header). */
#define LM_STATUS_ENUM_ENTRY(name, value, text) name = value,
    LM_STATUS_MAP(LM_STATUS_ENUM_ENTRY)
#undef LM_STATUS_ENUM_ENTRY
} lm_status;

/* ---------------------------------------------------------------------------------------------
 * Handles (opaque: their layout is private and may change between versions)
 * ------------------------------------------------------------------------------------------- */

/** A WordPiece tokenizer with its vocabulary. Created by the lm_tokenizer_load functions. */
typedef struct lm_tokenizer lm_tokenizer_t;
/** A BERT-family model: configuration, weights and head. Created by lm_model_load/create. */
typedef struct lm_model lm_model_t;
/** A training session over a model. */
typedef struct lm_trainer lm_trainer_t;

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief The version of the linked library as MAJOR*10000 + MINOR*100 + PATCH.
 * @return The run-time version number; compare with LM_VERSION_NUMBER to detect a mismatch
 *         between the header a program was built with and the library it runs with. Never fails.
 */
LM_API uint32_t lm_version(void);

/**
 * @brief The version of the linked library as a string, "MAJOR.MINOR.PATCH".
 * @return A static string owned by the library; never NULL, never freed by the caller.
 */
LM_API const char *lm_version_string(void);

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief The name of a status code, e.g. "LM_ERR_NOMEM".
 * @param status Any value; unknown values give "LM_ERR_UNKNOWN".
 * @return A static string owned by the library; never NULL.
 */
LM_API const char *lm_status_string(lm_status status);

/**
 * @brief A sentence describing a status code, e.g. "out of memory".
 * @param status Any value; unknown values give "unknown status".
 * @return A static string owned by the library; never NULL.
 */
LM_API const char *lm_status_description(lm_status status);

/**
 * @brief The detail of the last failure on the calling thread.
 *
 * Each failing call sets a sentence that names what failed (file, tensor, byte offset, ...).
 * Successful calls do not clear it: check the return code first, then read this.
 * @return A thread-local string owned by the library, valid until the next liblm call on the same
 *         thread; "" when nothing failed yet. Never NULL.
 */
LM_API const char *lm_last_error(void);

/**
 * @brief Clears the calling thread's last error text (lm_last_error() then returns "").
 */
LM_API void lm_clear_error(void);

/* ---------------------------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------------------------- */

/** Severity of a log message. */
typedef enum lm_log_level {
    LM_LOG_ERROR = 0, /**< Something failed. */
    LM_LOG_WARN = 1,  /**< Something is suspicious or slow (e.g. a misdetected BLAS kernel). */
    LM_LOG_INFO = 2,  /**< Progress worth showing to a user. */
    LM_LOG_DEBUG = 3  /**< Detail for developers. */
} lm_log_level;

/**
 * A log callback. `message` is a NUL-terminated sentence without a trailing newline, owned by the
 * library and valid only during the call. It may be called from any thread that calls liblm.
 */
typedef void (*lm_log_fn)(lm_log_level level, const char *message, void *user_data);

/**
 * @brief Installs the log callback for the whole process. The library never prints by itself.
 * @param fn Callback, or NULL to drop all messages (the default).
 * @param max_level Messages above this level are not formatted nor delivered.
 * @param user_data Passed to every call of `fn`; not owned by the library.
 * Safe to call from any thread at any time; a message being delivered while the callback
 * changes may still reach the previous one, so keep `user_data` valid until this returns.
 */
LM_API void lm_set_log_callback(lm_log_fn fn, lm_log_level max_level, void *user_data);

/* ---------------------------------------------------------------------------------------------
 * Allocation
 * ------------------------------------------------------------------------------------------- */

/**
 * Memory functions the library uses for all its own allocations. All three are required. They
 * receive `user_data`. `realloc_fn(NULL, n)` must behave as `malloc_fn(n)`; `free_fn(NULL)` must be
 * a no-op. Returning NULL from an allocation makes the calling liblm function fail with
 * LM_ERR_NOMEM after releasing everything it had allocated.
 */
typedef struct lm_allocator {
    size_t struct_size;                                          /**< sizeof(lm_allocator). */
    void *(*malloc_fn)(size_t size, void *user_data);            /**< Allocate `size` bytes. */
    void *(*realloc_fn)(void *ptr, size_t size, void *user_data); /**< Resize a block. */
    void (*free_fn)(void *ptr, void *user_data);                 /**< Release a block. */
    void *user_data;                                             /**< Passed to all three. */
} lm_allocator;

/**
 * @brief Replaces the allocator for the whole process.
 *
 * Call it before creating any handle, or after freeing all of them: a block must be freed by the
 * allocator that made it. Third-party libraries that liblm uses (BLAS, the JSON parser) keep their
 * own allocators.
 * @param allocator The functions to use (copied), or NULL to restore malloc/realloc/free.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT if a function pointer is NULL or `struct_size` is
 *         smaller than the three functions need.
 */
LM_API lm_status lm_set_allocator(const lm_allocator *allocator);

/**
 * @brief Frees a buffer that a liblm function documented as "free with lm_free".
 * @param ptr The buffer, or NULL (no-op).
 */
LM_API void lm_free(void *ptr);

#ifdef __cplusplus
} /* extern "C" */
#endif

#include "lm/tokenizer.h"
#include "lm/model.h"
#include "lm/text.h"
#include "lm/trainer.h"
#include "lm/fit.h"

#endif /* LM_H */
