/* Tests of the address-space guard (issue 7, item 13): the plan of threads and BLAS use for a
 * given headroom, the headroom under a soft RLIMIT_AS, and the plain kernel against the BLAS.
 * (That the tool neither hangs nor dies under `ulimit -v` is tests/sh_memlimit.sh.) */
#include <math.h>
#include <stdint.h>
#include <sys/resource.h>

#include "test_util.h"

#include "base/memlimit.h"
#include "tensor/guard.h"

#define MiB ((size_t)1 << 20)

static void plan(size_t headroom, int want, int team, int busy, size_t stack, size_t caller,
                 int *threads, int *blas) {
    lmi_plan_in in;
    in.headroom = headroom;
    in.want = want;
    in.team = team;
    in.blas_busy = busy;
    in.stack_bytes = stack;
    in.caller_bytes = caller;
    *threads = -1;
    *blas = -1;
    lmi_plan_decide(&in, threads, blas);
}

static void test_decide(void **state) {
    int t;
    int b;
    (void)state;
    /* no limit: what was asked */
    plan(SIZE_MAX, 16, 1, 40, 9 * MiB, 1088 * MiB, &t, &b);
    assert_int_equal(t, 16);
    assert_int_equal(b, 1);
    /* a 300 MB limit with unmeasured 1 GiB buffers: no BLAS, threads whose stacks fit */
    plan(300 * MiB, 4, 1, 0, 9 * MiB, 1088 * MiB, &t, &b);
    assert_int_equal(t, 4);
    assert_int_equal(b, 0);
    plan(50 * MiB, 4, 1, 0, 9 * MiB, 1088 * MiB, &t, &b); /* 32 MiB margin + 2 stacks */
    assert_int_equal(t, 3);
    assert_int_equal(b, 0);
    plan(10 * MiB, 4, 1, 0, 9 * MiB, 1088 * MiB, &t, &b); /* nothing fits: one thread, plain */
    assert_int_equal(t, 1);
    assert_int_equal(b, 0);
    plan(10 * MiB, 4, 4, 0, 9 * MiB, 1088 * MiB, &t, &b); /* the team exists: no new stacks */
    assert_int_equal(t, 1);
    plan(40 * MiB, 4, 4, 0, 9 * MiB, 1088 * MiB, &t, &b);
    assert_int_equal(t, 4);
    assert_int_equal(b, 0);
    /* measured 200 MiB callers: as many BLAS callers as fit */
    plan(3000 * MiB, 4, 1, 0, 9 * MiB, 200 * MiB, &t, &b);
    assert_int_equal(t, 4);
    assert_int_equal(b, 1);
    plan(700 * MiB, 4, 1, 0, 9 * MiB, 200 * MiB, &t, &b); /* 3 * 200 + 2 * 9 + 32 = 650 */
    assert_int_equal(t, 3);
    assert_int_equal(b, 1);
    /* callers of other forwards count: 1 BLAS thread against 4 plain ones goes plain */
    plan(1000 * MiB, 4, 1, 3, 9 * MiB, 200 * MiB, &t, &b);
    assert_int_equal(t, 4);
    assert_int_equal(b, 0);
    plan(1200 * MiB, 4, 1, 3, 9 * MiB, 200 * MiB, &t, &b); /* 2 BLAS threads: half of 4 */
    assert_int_equal(t, 2);
    assert_int_equal(b, 1);
    /* sizes that overflow saturate instead of wrapping: two new stacks of SIZE_MAX / 2 and the
     * margin do not fit (wrapped, they would), one does */
    plan(SIZE_MAX - 1, 1 << 20, 1, 1 << 30, SIZE_MAX / 2, SIZE_MAX / 3, &t, &b);
    assert_int_equal(t, 2);
    assert_int_equal(b, 0);
    plan(100 * MiB, 0, 1, 0, 9 * MiB, 200 * MiB, &t, &b); /* asking for none means one */
    assert_int_equal(t, 1);
}

/* The headroom under a soft RLIMIT_AS of the current size + 256 MiB, and the plan it gives. */
static void test_headroom_and_begin(void **state) {
    struct rlimit old;
    struct rlimit r;
    size_t head;
    lmi_ops_ctx ctx;
    (void)state;
    assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
    if (old.rlim_cur != RLIM_INFINITY) {
        skip(); /* the suite itself runs under a limit: it cannot set a known one */
    }
    head = lmi_address_headroom();
    if (lmi_address_limited()) {
        skip(); /* strict overcommit or RLIMIT_DATA: no known headroom */
    }
    assert_true(head == SIZE_MAX);
    lmi_ops_begin(&ctx, 3);
    assert_int_equal(ctx.threads, 3);
    assert_int_equal(ctx.plain, 0);
    lmi_ops_end(&ctx);
    {
        /* the current size, from a headroom under a limit far above it */
        r = old;
        r.rlim_cur = (rlim_t)1 << 46;
        if (old.rlim_max != RLIM_INFINITY && old.rlim_max < r.rlim_cur) {
            skip();
        }
        assert_int_equal(setrlimit(RLIMIT_AS, &r), 0);
        if (!lmi_address_limited()) { /* valgrind keeps the limit to itself */
            assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
            skip();
        }
        head = lmi_address_headroom();
        assert_true(head > 0 && head < ((size_t)1 << 46));
        r.rlim_cur = (rlim_t)(((size_t)1 << 46) - head) + (rlim_t)(256 * MiB);
        assert_int_equal(setrlimit(RLIMIT_AS, &r), 0);
        head = lmi_address_headroom();
        lmi_ops_begin(&ctx, 4);
        assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
        /* a few MiB of the 256 went to the test itself in between */
        assert_true(head <= 256 * MiB && head >= 200 * MiB);
        assert_int_equal(ctx.plain, 1); /* a 1 GiB buffer does not fit: the plain kernel */
        assert_true(ctx.threads >= 1 && ctx.threads <= 4);
        lmi_ops_end(&ctx);
    }
    assert_int_equal(lmi_address_limited(), 0);
    assert_int_equal(lmi_plan_threads(5), 5);
}

/* The plain kernel and the BLAS agree, for both layouts of B, strides, alpha and beta; beta = 0
 * ignores what C held (NaN here). */
static void test_plain_kernel_vs_blas(void **state) {
    enum { M = 13, N = 21, K = 37, LDA = 40, LDB = 45, LDC = 25 };
    static float a[M * LDA], bt[N * LDB], bn[K * LDB], c0[M * LDC], c1[M * LDC], c2[M * LDC];
    size_t i;
    int trans;
    int round;
    (void)state;
    for (i = 0; i < M * LDA; i++) {
        a[i] = (float)sin((double)i * 0.37);
    }
    for (i = 0; i < N * LDB; i++) {
        bt[i] = (float)cos((double)i * 0.11);
    }
    for (i = 0; i < K * LDB; i++) {
        bn[i] = (float)sin((double)i * 0.23 + 1.0);
    }
    for (round = 0; round < 3; round++) {
        const float alpha = round == 2 ? 0.5f : 1.0f;
        const float beta = round == 0 ? 0.0f : 1.0f;
        for (trans = 0; trans < 2; trans++) {
            const float *b = trans ? bt : bn;
            for (i = 0; i < M * LDC; i++) {
                c0[i] = round == 0 ? NAN : (float)i * 0.01f;
                c1[i] = c0[i];
                c2[i] = c0[i];
            }
            lmi_sgemm(1, trans, M, N, K, alpha, a, LDA, b, LDB, beta, c1, LDC);
            lmi_sgemm(0, trans, M, N, K, alpha, a, LDA, b, LDB, beta, c2, LDC);
            for (i = 0; i < M * LDC; i++) {
                if (i % LDC < N) {
                    assert_true(fabsf(c1[i] - c2[i]) <= 1e-5f);
                } else if (round != 0) {
                    assert_true(c2[i] == c0[i]); /* outside the N columns: untouched */
                }
            }
        }
    }
    lmi_sgemm(0, 1, 0, N, K, 1.0f, a, LDA, bt, LDB, 0.0f, c2, LDC); /* empty: no effect */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_headroom_and_begin),
        cmocka_unit_test(test_plain_kernel_vs_blas),
    };
    return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
