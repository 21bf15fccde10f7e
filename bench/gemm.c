/* `make bench-gemm`: GFLOP/s of liblm's GEMM (src/tensor/gemm.h) on BERT-shaped Linear forwards,
 * out[M, N] = A[M, K] . W[N, K]^T + bias, against OpenBLAS's cblas_sgemm on the same products:
 * liblm's default kernel and its AVX2 kernel (forced) with 1 and 2 threads, OpenBLAS with the
 * kernel it detects and with OPENBLAS_CORETYPE=SKYLAKEX (when the CPU has AVX-512). OpenBLAS runs
 * in child processes (this program re-executed with --openblas), so that its threads and its
 * kernel choice, made when the library loads, do not disturb the other measurements.
 * Each figure is the best of a few runs (at least 3, about 0.2 s); the weight is packed once,
 * outside the timing, as the model does at load. Prints one table and, last,
 * `bench-gemm: min ratio vs OpenBLAS(SKYLAKEX) R` (liblm default kernel / OpenBLAS SKYLAKEX, the
 * lowest over the shapes and both thread counts). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "tensor/gemm.h"

typedef struct shape {
    size_t m, n, k;
} shape;

static const size_t NK[][2] = {{384, 384},  {1152, 384},  {1536, 384},  {384, 1536},
                               {768, 768},  {2304, 768}, {3072, 768}, {768, 3072}};
static const size_t MS[] = {128, 4096};
#define NSHAPES 16

static shape shape_at(int i) {
    shape s;
    s.m = MS[i / 8];
    s.n = NK[i % 8][0];
    s.k = NK[i % 8][1];
    return s;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *random_floats(size_t n, unsigned seed) {
    float *x = lmi_malloc_aligned(n * sizeof(float) + 64, 64);
    size_t i;
    if (x == NULL) {
        fprintf(stderr, "bench-gemm: out of memory\n");
        exit(1);
    }
    for (i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((int)(seed >> 9) - (1 << 22)) / (float)(1 << 22);
    }
    return x;
}

typedef struct operands {
    float *a, *w, *bias, *out;
} operands;

static operands operands_new(shape s) {
    operands o;
    o.a = random_floats(s.m * s.k, 1);
    o.w = random_floats(s.n * s.k, 2);
    o.bias = random_floats(s.n, 3);
    o.out = random_floats(s.m * s.n, 4);
    return o;
}

static void operands_free(operands *o) {
    lmi_free_aligned(o->a);
    lmi_free_aligned(o->w);
    lmi_free_aligned(o->bias);
    lmi_free_aligned(o->out);
}

/* Best GFLOP/s over runs of `call`: at least 3 (the first one, which warms up, counts too) and
 * until ~0.2 s have passed. The machine may be shared: the best run is the one least disturbed. */
#define TIME_BEST(s, call)                                                                        \
    do {                                                                                          \
        double t0, best = 1e30, start = now();                                                    \
        int runs = 0;                                                                             \
        while (runs < 3 || now() - start < 0.2) {                                                 \
            t0 = now();                                                                           \
            call;                                                                                 \
            t0 = now() - t0;                                                                      \
            best = t0 < best ? t0 : best;                                                         \
            runs++;                                                                               \
        }                                                                                         \
        gflops = 2.0 * (double)(s).m * (double)(s).n * (double)(s).k / best * 1e-9;               \
    } while (0)

static double bench_lm(shape s, int threads) {
    operands o = operands_new(s);
    lmi_gemm_packed *p;
    double gflops;
    if (lmi_gemm_pack_weight(&p, o.w, s.k, s.n, s.k, 2) != LM_OK) {
        fprintf(stderr, "bench-gemm: cannot pack\n");
        exit(1);
    }
    TIME_BEST(s, lmi_gemm_forward(o.out, s.n, o.a, s.k, p, o.bias, s.m, 0, threads));
    lmi_gemm_packed_free(p);
    operands_free(&o);
    return gflops;
}

static void openblas_forward(const operands *o, shape s) {
    size_t i;
    for (i = 0; i < s.m; i++) { /* the bias, as liblm's Linear did it on OpenBLAS */
        memcpy(o->out + i * s.n, o->bias, s.n * sizeof(float));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s.m, (int)s.n, (int)s.k, 1.0f, o->a,
                (int)s.k, o->w, (int)s.k, 1.0f, o->out, (int)s.n);
}

static double bench_openblas(shape s, int threads) {
    operands o = operands_new(s);
    double gflops;
    openblas_set_num_threads(threads);
    TIME_BEST(s, openblas_forward(&o, s));
    operands_free(&o);
    return gflops;
}

/* Child: "corename" then one line "g1 g2" per shape. */
static int openblas_child(void) {
    int i;
    printf("%s\n", openblas_get_corename());
    for (i = 0; i < NSHAPES; i++) {
        shape s = shape_at(i);
        double g1 = bench_openblas(s, 1);
        double g2 = bench_openblas(s, 2);
        printf("%.1f %.1f\n", g1, g2);
        fflush(stdout);
    }
    return 0;
}

/* Runs this program with --openblas, OPENBLAS_CORETYPE set to coretype (NULL: unset). */
static int run_child(const char *coretype, char *name, size_t name_len, double g[NSHAPES][2]) {
    char cmd[4200], exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    FILE *f;
    int i;
    if (len <= 0) {
        return -1;
    }
    exe[len] = '\0';
    if (coretype != NULL) {
        snprintf(cmd, sizeof cmd, "OPENBLAS_CORETYPE=%s '%s' --openblas", coretype, exe);
    } else {
        snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE '%s' --openblas", exe);
    }
    f = popen(cmd, "r");
    if (f == NULL) {
        return -1;
    }
    if (fgets(name, (int)name_len, f) == NULL) {
        pclose(f);
        return -1;
    }
    name[strcspn(name, "\n")] = '\0';
    for (i = 0; i < NSHAPES; i++) {
        if (fscanf(f, "%lf %lf", &g[i][0], &g[i][1]) != 2) {
            pclose(f);
            return -1;
        }
    }
    return pclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    static double lm[NSHAPES][2], avx2[NSHAPES][2], det[NSHAPES][2], skx[NSHAPES][2];
    char det_name[64] = "", skx_name[64] = "";
    const char *kernel, *avx2_name = NULL;
    int has_avx2, has_avx512, have_skx = 0, have_det = 0, i, only_lm = 0;
    double min_ratio = 1e30;
    if (argc > 1 && strcmp(argv[1], "--openblas") == 0) {
        return openblas_child();
    }
    if (argc > 1 && strcmp(argv[1], "--lm-only") == 0) {
        only_lm = 1;
    }
    openblas_set_num_threads(1);
    kernel = lmi_gemm_kernel_name();
    has_avx2 = lmi_gemm_isa_supported(LMI_GEMM_AVX2);
    has_avx512 = lmi_gemm_isa_supported(LMI_GEMM_AVX512);
    for (i = 0; i < NSHAPES; i++) {
        lm[i][0] = bench_lm(shape_at(i), 1);
        lm[i][1] = bench_lm(shape_at(i), 2);
    }
    if (has_avx2 && lmi_gemm_current_isa() != LMI_GEMM_AVX2) {
        lmi_gemm_set_isa(LMI_GEMM_AVX2);
        avx2_name = lmi_gemm_kernel_name();
        for (i = 0; i < NSHAPES; i++) {
            avx2[i][0] = bench_lm(shape_at(i), 1);
            avx2[i][1] = bench_lm(shape_at(i), 2);
        }
        lmi_gemm_set_isa(LMI_GEMM_AUTO);
    }
    if (!only_lm) {
        have_det = run_child(NULL, det_name, sizeof det_name, det) == 0;
        if (has_avx512) {
            have_skx = run_child("SKYLAKEX", skx_name, sizeof skx_name, skx) == 0;
        }
    }
    printf("bench-gemm: GFLOP/s of out[M,N] = A[M,K] . W[N,K]^T + bias; liblm kernel %s%s%s; "
           "OpenBLAS kernel as detected: %s\n",
           kernel, avx2_name != NULL ? ", forced " : "", avx2_name != NULL ? avx2_name : "",
           have_det ? det_name : "(not run)");
    printf("%5s %5s %5s | %-14s | %-14s | %-14s | %-14s | %s\n", "M", "N", "K", "liblm 1t/2t",
           "liblm-avx2", "OB detected", "OB SKYLAKEX", "ratio vs SKX 1t/2t");
    for (i = 0; i < NSHAPES; i++) {
        shape s = shape_at(i);
        char r[64] = "-";
        if (have_skx) {
            double r1 = lm[i][0] / skx[i][0], r2 = lm[i][1] / skx[i][1];
            snprintf(r, sizeof r, "%.2f / %.2f", r1, r2);
            min_ratio = r1 < min_ratio ? r1 : min_ratio;
            min_ratio = r2 < min_ratio ? r2 : min_ratio;
        }
        printf("%5zu %5zu %5zu | %6.1f %6.1f  | %6.1f %6.1f  | %6.1f %6.1f  | %6.1f %6.1f  | %s\n",
               s.m, s.n, s.k, lm[i][0], lm[i][1], avx2[i][0], avx2[i][1], det[i][0], det[i][1],
               skx[i][0], skx[i][1], r);
    }
    if (have_skx) {
        printf("bench-gemm: min ratio vs OpenBLAS(SKYLAKEX) %.2f\n", min_ratio);
    } else {
        printf("bench-gemm: min ratio vs OpenBLAS(SKYLAKEX) n/a (no AVX-512 or OpenBLAS not run)\n");
    }
    return 0;
}
