/* Planning threads and BLAS use under address-space limits, and the plain kernel used when the
 * BLAS may not run (see guard.h). */
#define _POSIX_C_SOURCE 200809L
#include "tensor/guard.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

#include <cblas.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/memlimit.h"

/* One BLAS caller before its buffer size is known: the largest common BUFFER_SIZE (1 GiB) and a
 * malloc arena for a new thread (64 MiB). */
#define DEFAULT_CALLER_BYTES (((size_t)1 << 30) + ((size_t)64 << 20))
/* A measured buffer below this is no measurement (the BLAS had its buffer already). */
#define MIN_MEASURED ((size_t)16 << 20)

/* ---- the decision ---- */

static size_t sat_mul(size_t a, size_t b) {
    return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}

static size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t stacks_for(const lmi_plan_in *in, int t) {
    return sat_mul((size_t)(t > in->team ? t - in->team : 0), in->stack_bytes);
}

void lmi_plan_decide(const lmi_plan_in *in, int *threads, int *blas) {
    int want = in->want > 0 ? in->want : 1;
    int t_blas = 0;
    int t_plain = 1;
    int t;
    if (in->headroom == SIZE_MAX) {
        *threads = want;
        *blas = 1;
        return;
    }
    for (t = want; t >= 1 && t_blas == 0; t--) {
        size_t callers = (size_t)(in->blas_busy > 0 ? in->blas_busy : 0) + (size_t)t;
        size_t need = sat_add(sat_add(stacks_for(in, t), sat_mul(callers, in->caller_bytes)),
                              LM_PLAN_MARGIN);
        if (need <= in->headroom) {
            t_blas = t;
        }
    }
    for (t = want; t > 1; t--) {
        if (sat_add(stacks_for(in, t), LM_PLAN_MARGIN) <= in->headroom) {
            break;
        }
    }
    t_plain = t;
    if (t_blas > 0 && 2 * t_blas >= t_plain) {
        *threads = t_blas;
        *blas = 1;
    } else {
        *threads = t_plain;
        *blas = 0;
    }
}

/* ---- process-wide state ---- */

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static int plan_team = 1;         /* largest team liblm has planned (the caller counts) */
static int plan_busy = 0;         /* BLAS callers of forwards running now */
static int plan_measured = 0;     /* buffer size measured (or found unmeasurable) */
static size_t plan_caller = DEFAULT_CALLER_BYTES;

/* Address space one new OpenMP thread maps: its stack (OMP_STACKSIZE / GOMP_STACKSIZE, else the
 * pthread default, which is RLIMIT_STACK or 32 MiB when that is unlimited) and 1 MiB besides. */
static size_t stack_bytes(void) {
    const char *e = getenv("GOMP_STACKSIZE");
    size_t bytes = (size_t)32 << 20;
    struct rlimit r;
    if (e == NULL) {
        e = getenv("OMP_STACKSIZE");
    }
    if (e != NULL) {
        char *end;
        unsigned long long v = strtoull(e, &end, 10);
        int shift = 10; /* default unit: KiB */
        while (*end == ' ') {
            end++;
        }
        shift = (*end == 'B' || *end == 'b')   ? 0
                : (*end == 'M' || *end == 'm') ? 20
                : (*end == 'G' || *end == 'g') ? 30
                                               : shift;
        bytes = v > (1ull << 40) ? SIZE_MAX : (size_t)v << shift;
    } else if (getrlimit(RLIMIT_STACK, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
        bytes = r.rlim_cur > ((rlim_t)1 << 40) ? SIZE_MAX : (size_t)r.rlim_cur;
    }
    return sat_add(bytes, (size_t)1 << 20);
}

static size_t vm_size(void) {
    char buf[128];
    long page = sysconf(_SC_PAGESIZE);
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0 || page <= 0) {
        return 0;
    }
    buf[n] = '\0';
    return (size_t)strtoull(buf, NULL, 10) * (size_t)page;
}

/* The address space the BLAS maps for a caller's buffer: one 128x128x128 product on this thread,
 * run only when even the default estimate fits, so it cannot be the call that fails. */
static void measure_caller(void) {
    const size_t n = 128;
    float *a = lmi_malloc_array(3 * n * n, sizeof *a);
    size_t before;
    size_t after;
    size_t i;
    if (a == NULL) {
        return; /* try again next time */
    }
    for (i = 0; i < 3 * n * n; i++) {
        a[i] = 1.0f;
    }
    before = vm_size();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)n, 1.0f, a, (int)n,
                a + n * n, (int)n, 0.0f, a + 2 * n * n, (int)n);
    after = vm_size();
    lmi_free(a);
    plan_measured = 1;
    if (before != 0 && after > before && after - before >= MIN_MEASURED) {
        plan_caller = sat_add(after - before, ((size_t)64 << 20) + ((size_t)8 << 20));
    }
}

void lmi_ops_begin(lmi_ops_ctx *ctx, int threads) {
    lmi_plan_in in;
    threads = threads > 0 ? threads : 1;
    ctx->threads = threads;
    ctx->plain = 0;
    ctx->busy = 0;
    ctx->wbuf = NULL;
    ctx->wbuf_floats = 0;
    if (!lmi_address_limited()) {
        return;
    }
    pthread_mutex_lock(&plan_lock);
    in.headroom = lmi_address_headroom();
    if (!plan_measured && plan_busy == 0 &&
        in.headroom >= sat_add(DEFAULT_CALLER_BYTES, LM_PLAN_MARGIN)) {
        measure_caller();
        in.headroom = lmi_address_headroom();
    }
    in.want = threads;
    in.team = plan_team;
    in.blas_busy = plan_busy;
    in.stack_bytes = stack_bytes();
    in.caller_bytes = plan_caller;
    {
        int blas = 1;
        lmi_plan_decide(&in, &ctx->threads, &blas);
        ctx->plain = !blas;
    }
    plan_team = ctx->threads > plan_team ? ctx->threads : plan_team;
    if (!ctx->plain) {
        ctx->busy = ctx->threads;
        plan_busy += ctx->busy;
    }
    pthread_mutex_unlock(&plan_lock);
}

void lmi_ops_end(lmi_ops_ctx *ctx) {
    if (ctx->busy > 0) {
        pthread_mutex_lock(&plan_lock);
        plan_busy -= ctx->busy;
        pthread_mutex_unlock(&plan_lock);
        ctx->busy = 0;
    }
}

int lmi_plan_threads(int want) {
    lmi_plan_in in;
    int threads;
    int blas;
    want = want > 0 ? want : 1;
    if (want == 1 || !lmi_address_limited()) {
        return want;
    }
    pthread_mutex_lock(&plan_lock);
    in.headroom = lmi_address_headroom();
    in.want = want;
    in.team = plan_team;
    in.blas_busy = 0;
    in.stack_bytes = stack_bytes();
    in.caller_bytes = SIZE_MAX; /* no BLAS here: only the plain branch can fit */
    lmi_plan_decide(&in, &threads, &blas);
    plan_team = threads > plan_team ? threads : plan_team;
    pthread_mutex_unlock(&plan_lock);
    return threads;
}

/* ---- the plain kernel ---- */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define LM_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define LM_CLONES
#endif

/* C = alpha A B^T + beta C with B[N, K]: four rows of A against one row of B at a time. */
LM_CLONES static void plain_nt(size_t M, size_t N, size_t K, float alpha, const float *A,
                               size_t lda, const float *B, size_t ldb, float beta, float *C,
                               size_t ldc) {
    size_t m = 0;
    size_t n;
    size_t k;
    for (; m + 4 <= M; m += 4) {
        const float *a0 = A + m * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (n = 0; n < N; n++) {
            const float *b = B + n * ldb;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (k = 0; k < K; k++) {
                s0 += a0[k] * b[k];
                s1 += a1[k] * b[k];
                s2 += a2[k] * b[k];
                s3 += a3[k] * b[k];
            }
            {
                float *c = C + m * ldc + n;
                c[0] = alpha * s0 + (beta != 0.0f ? beta * c[0] : 0.0f);
                c[ldc] = alpha * s1 + (beta != 0.0f ? beta * c[ldc] : 0.0f);
                c[2 * ldc] = alpha * s2 + (beta != 0.0f ? beta * c[2 * ldc] : 0.0f);
                c[3 * ldc] = alpha * s3 + (beta != 0.0f ? beta * c[3 * ldc] : 0.0f);
            }
        }
    }
    for (; m < M; m++) {
        const float *a = A + m * lda;
        for (n = 0; n < N; n++) {
            const float *b = B + n * ldb;
            float s = 0.0f;
            float *c = C + m * ldc + n;
#pragma omp simd reduction(+ : s)
            for (k = 0; k < K; k++) {
                s += a[k] * b[k];
            }
            *c = alpha * s + (beta != 0.0f ? beta * *c : 0.0f);
        }
    }
}

/* C = alpha A B + beta C with B[K, N]: rows of C accumulated from rows of B. */
LM_CLONES static void plain_nn(size_t M, size_t N, size_t K, float alpha, const float *A,
                               size_t lda, const float *B, size_t ldb, float beta, float *C,
                               size_t ldc) {
    size_t m;
    size_t n;
    size_t k;
    for (m = 0; m < M; m++) {
        float *c = C + m * ldc;
        if (beta == 0.0f) {
            for (n = 0; n < N; n++) {
                c[n] = 0.0f;
            }
        } else if (beta != 1.0f) {
            for (n = 0; n < N; n++) {
                c[n] *= beta;
            }
        }
        for (k = 0; k < K; k++) {
            const float a = alpha * A[m * lda + k];
            const float *b = B + k * ldb;
#pragma omp simd
            for (n = 0; n < N; n++) {
                c[n] += a * b[n];
            }
        }
    }
}

void lmi_sgemm(int blas, int trans_b, size_t M, size_t N, size_t K, float alpha, const float *A,
               size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc) {
    if (M == 0 || N == 0) {
        return;
    }
    if (blas) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)M,
                    (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    } else if (trans_b) {
        plain_nt(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    } else {
        plain_nn(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
}
