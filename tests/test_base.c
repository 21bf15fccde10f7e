/* Tests of status codes, error text, version, log callback, allocator hooks and options reading. */
#include <pthread.h>

#include "test_util.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/options.h"

static void test_status_strings(void **state) {
    (void)state;
    assert_string_equal(lm_status_string(LM_OK), "LM_OK");
    assert_string_equal(lm_status_string(LM_ERR_NOMEM), "LM_ERR_NOMEM");
    assert_string_equal(lm_status_string(LM_ERR_INTERNAL), "LM_ERR_INTERNAL");
    assert_string_equal(lm_status_string((lm_status)9999), "LM_ERR_UNKNOWN");
    assert_string_equal(lm_status_description(LM_ERR_UTF8), "invalid UTF-8");
    assert_string_equal(lm_status_description((lm_status)-5), "unknown status");
    /* Released values never change. */
    assert_int_equal(LM_OK, 0);
    assert_int_equal(LM_ERR_INVALID_ARGUMENT, 1);
    assert_int_equal(LM_ERR_NOMEM, 2);
    assert_int_equal(LM_ERR_INTERNAL, 12);
}

static void test_last_error(void **state) {
    (void)state;
    lm_clear_error();
    assert_string_equal(lm_last_error(), "");
    assert_int_equal(lmi_error(LM_ERR_IO, "cannot read %s at byte %d", "x.bin", 42), LM_ERR_IO);
    assert_string_equal(lm_last_error(), "cannot read x.bin at byte 42");
    assert_int_equal(lmi_error_prefix(LM_ERR_IO, "model %s", "m"), LM_ERR_IO);
    assert_string_equal(lm_last_error(), "model m: cannot read x.bin at byte 42");
    lm_clear_error();
    assert_string_equal(lm_last_error(), "");
}

static void *thread_sets_error(void *arg) {
    (void)arg;
    lmi_error(LM_ERR_RANGE, "other thread");
    return NULL;
}

static void test_last_error_is_thread_local(void **state) {
    pthread_t t;
    (void)state;
    lmi_error(LM_ERR_IO, "main thread");
    assert_int_equal(pthread_create(&t, NULL, thread_sets_error, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(lm_last_error(), "main thread");
}

static void test_long_error_is_truncated(void **state) {
    char big[5000];
    (void)state;
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    lmi_error(LM_ERR_FORMAT, "%s", big);
    assert_true(strlen(lm_last_error()) < sizeof big);
    assert_true(strlen(lm_last_error()) > 500);
}

static void test_version(void **state) {
    char expect[32];
    (void)state;
    assert_int_equal(lm_version(), LM_VERSION_NUMBER);
    snprintf(expect, sizeof expect, "%d.%d.%d", LM_VERSION_MAJOR, LM_VERSION_MINOR,
             LM_VERSION_PATCH);
    assert_string_equal(lm_version_string(), expect);
}

static int log_calls;
static char log_last[256];
static void log_collect(lm_log_level level, const char *message, void *user) {
    (void)level;
    assert_ptr_equal(user, &log_calls);
    log_calls++;
    snprintf(log_last, sizeof log_last, "%s", message);
}

static void test_log_callback(void **state) {
    (void)state;
    log_calls = 0;
    lmi_log(LM_LOG_WARN, "dropped: no callback");
    assert_int_equal(log_calls, 0);
    lm_set_log_callback(log_collect, LM_LOG_WARN, &log_calls);
    lmi_log(LM_LOG_WARN, "kernel %s", "Prescott");
    assert_int_equal(log_calls, 1);
    assert_string_equal(log_last, "kernel Prescott");
    lmi_log(LM_LOG_DEBUG, "too detailed");
    assert_int_equal(log_calls, 1);
    lm_set_log_callback(NULL, LM_LOG_ERROR, NULL);
    lmi_log(LM_LOG_ERROR, "dropped again");
    assert_int_equal(log_calls, 1);
}

static void test_allocator_hooks(void **state) {
    lm_allocator bad;
    char *s;
    (void)state;
    memset(&bad, 0, sizeof bad);
    bad.struct_size = sizeof bad;
    assert_int_equal(lm_set_allocator(&bad), LM_ERR_INVALID_ARGUMENT);
    bad.struct_size = 4;
    assert_int_equal(lm_set_allocator(&bad), LM_ERR_INVALID_ARGUMENT);

    test_alloc_begin(0);
    s = lmi_strdup("hello");
    assert_string_equal(s, "hello");
    assert_int_equal(test_alloc.live, 1);
    lm_free(s);
    lm_free(NULL);
    assert_int_equal(test_alloc_end(), 0);

    test_alloc_begin(1);
    assert_null(lmi_malloc(10));
    assert_null(lmi_strdup("x"));
    assert_int_equal(test_alloc_end(), 0);
}

static void test_allocation_overflow(void **state) {
    size_t out = 7;
    void *p;
    (void)state;
    assert_null(lmi_malloc_array(SIZE_MAX / 2, 4));
    assert_null(lmi_calloc(SIZE_MAX / 8, 16));
    assert_false(lmi_size_mul(SIZE_MAX, 2, &out));
    assert_int_equal(out, 7);
    assert_true(lmi_size_mul(3, 5, &out));
    assert_int_equal(out, 15);
    p = lmi_malloc_aligned(1000, 64);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    memset(p, 1, 1000);
    lmi_free_aligned(p);
    assert_null(lmi_malloc_aligned(10, 3));
    lmi_free_aligned(NULL);
}

/* An options struct as a library version knows it, and a newer caller's bigger one. */
typedef struct demo_options_v1 {
    size_t struct_size;
    int threads;
} demo_options_v1;
typedef struct demo_options_v2 {
    size_t struct_size;
    int threads;
    int64_t extra;
} demo_options_v2;

static void test_options_read(void **state) {
    demo_options_v1 lib = {sizeof(demo_options_v1), 4};
    demo_options_v2 newer;
    size_t tiny = 2;
    (void)state;
    assert_int_equal(lmi_options_read(&lib, sizeof lib, NULL, sizeof lib, "demo"), LM_OK);
    assert_int_equal(lib.threads, 4);

    memset(&newer, 0, sizeof newer);
    newer.struct_size = sizeof newer;
    newer.threads = 2;
    assert_int_equal(lmi_options_read(&lib, sizeof lib, &newer, sizeof lib, "demo"), LM_OK);
    assert_int_equal(lib.threads, 2);
    assert_int_equal(lib.struct_size, sizeof lib);

    newer.extra = 1; /* a field this library does not know is set: refuse, don't ignore */
    assert_int_equal(lmi_options_read(&lib, sizeof lib, &newer, sizeof lib, "demo"),
                     LM_ERR_UNSUPPORTED);
    assert_non_null(strstr(lm_last_error(), "demo"));

    assert_int_equal(lmi_options_read(&lib, sizeof lib, &tiny, sizeof lib, "demo"),
                     LM_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),     cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_last_error_is_thread_local),
        cmocka_unit_test(test_long_error_is_truncated),
        cmocka_unit_test(test_version),            cmocka_unit_test(test_log_callback),
        cmocka_unit_test(test_allocator_hooks),    cmocka_unit_test(test_allocation_overflow),
        cmocka_unit_test(test_options_read),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
