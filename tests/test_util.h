/* Helpers shared by the cmocka tests: temporary folders, a counting allocator that can be told
 * to fail (to check that every allocation failure gives LM_ERR_NOMEM and leaks nothing). */
#ifndef LM_TEST_UTIL_H
#define LM_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lm.h"

#ifndef LM_SOURCE_DIR
#define LM_SOURCE_DIR "."
#endif

/* ---- quick mode ---- */

/* 1 when LM_TEST_QUICK is set (make check-valgrind sets it): tests over large real data check a
 * sample instead of everything, so the suite stays usable under a 50x slower runner. */
static inline int test_quick(void) {
    const char *q = getenv("LM_TEST_QUICK");
    return q != NULL && q[0] != '\0' && q[0] != '0';
}

/* ---- temporary folders ---- */

static inline char *test_make_temp_dir(void) {
    char *path = strdup("/tmp/lm-test-XXXXXX");
    assert_non_null(path);
    assert_non_null(mkdtemp(path));
    return path;
}

static inline void test_remove_tree(const char *path) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

static inline void test_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* ---- failure-injecting allocator ---- */

typedef struct test_alloc_state {
    long fail_at;     /* the allocation number (1-based) that fails; 0 = never */
    long count;       /* allocations so far */
    long live;        /* blocks currently allocated */
} test_alloc_state;

static test_alloc_state test_alloc;

static inline void *test_malloc_fn(size_t size, void *user) {
    (void)user;
    test_alloc.count++;
    if (test_alloc.fail_at != 0 && test_alloc.count >= test_alloc.fail_at) {
        return NULL;
    }
    test_alloc.live++;
    return malloc(size);
}

static inline void *test_realloc_fn(void *ptr, size_t size, void *user) {
    void *p;
    (void)user;
    test_alloc.count++;
    if (test_alloc.fail_at != 0 && test_alloc.count >= test_alloc.fail_at) {
        return NULL;
    }
    p = realloc(ptr, size);
    if (p != NULL && ptr == NULL) {
        test_alloc.live++;
    }
    return p;
}

static inline void test_free_fn(void *ptr, void *user) {
    (void)user;
    if (ptr != NULL) {
        test_alloc.live--;
        free(ptr);
    }
}

/* Installs the counting allocator; allocation number `fail_at` and all after it fail. */
static inline void test_alloc_begin(long fail_at) {
    lm_allocator a;
    memset(&a, 0, sizeof a);
    a.struct_size = sizeof a;
    a.malloc_fn = test_malloc_fn;
    a.realloc_fn = test_realloc_fn;
    a.free_fn = test_free_fn;
    test_alloc.fail_at = fail_at;
    test_alloc.count = 0;
    test_alloc.live = 0;
    assert_int_equal(lm_set_allocator(&a), LM_OK);
}

/* Restores the default allocator and returns the number of blocks still live (leaks). */
static inline long test_alloc_end(void) {
    assert_int_equal(lm_set_allocator(NULL), LM_OK);
    return test_alloc.live;
}

/* Runs `body` with allocation 1, 2, 3, ... failing until it succeeds with no failure reached.
 * Each failing run must return LM_ERR_NOMEM and leak nothing. `body` returns its status and must
 * release everything it created when it succeeds. */
#define TEST_EVERY_ALLOCATION_FAILURE(body_fn, state)                                          \
    do {                                                                                        \
        long fail_at_;                                                                          \
        for (fail_at_ = 1; fail_at_ < 100000; fail_at_++) {                                     \
            lm_status st_;                                                                      \
            test_alloc_begin(fail_at_);                                                         \
            st_ = body_fn(state);                                                               \
            {                                                                                   \
                long reached_ = test_alloc.count >= fail_at_;                                   \
                long leaked_ = test_alloc_end();                                                \
                assert_int_equal(leaked_, 0);                                                   \
                if (!reached_) {                                                                \
                    assert_int_equal(st_, LM_OK);                                               \
                    break;                                                                      \
                }                                                                               \
                if (st_ != LM_ERR_NOMEM) {                                                      \
                    print_error("allocation %ld failed but status was %s (%s)\n", fail_at_,     \
                                lm_status_string(st_), lm_last_error());                       \
                }                                                                               \
                assert_int_equal(st_, LM_ERR_NOMEM);                                            \
            }                                                                                   \
        }                                                                                       \
    } while (0)

#endif
