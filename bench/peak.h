/* bench/peak.h: the machine's sgemm peak, measured in the running benchmark (issue 10): the best
 * GFLOP/s of liblm's GEMM (src/tensor/gemm.h) and of the BLAS as loaded (cblas_sgemm, with
 * OPENBLAS_CORETYPE when the caller set it) on BERT's FFN products out[M, N] = A[M, K] . W^T,
 * M = 4096 tokens, (N, K) = (4C, C) and (C, 4C) for C = 768, on `threads` threads. Each figure
 * is the best of several runs taken round-robin, so that a burst of other work on a shared
 * machine spoils one run rather than the figure. Header-only: benchmarks include it once. */
#ifndef LM_BENCH_PEAK_H
#define LM_BENCH_PEAK_H

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tensor/gemm.h"

typedef struct bench_peak {
    double gflops;        /* the peak: the best of the two */
    double liblm, blas;   /* each one's best */
    char kernel[64];      /* liblm's kernel */
} bench_peak;

static double bench_peak_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bench_peak bench_sgemm_peak(int threads, int rounds) {
    static const size_t shapes[2][2] = {{3072, 768}, {768, 3072}};
    const size_t M = 4096;
    bench_peak r = {0, 0, 0, ""};
    float *a = malloc(M * 3072 * sizeof *a), *w = malloc(3072 * 768 * sizeof *w);
    float *c = malloc(M * 3072 * sizeof *c);
    lmi_gemm_packed *p[2] = {NULL, NULL};
    size_t i;
    int k, s;
    snprintf(r.kernel, sizeof r.kernel, "%s", lmi_gemm_kernel_name());
    if (a == NULL || w == NULL || c == NULL) {
        free(a), free(w), free(c);
        return r;
    }
    for (i = 0; i < M * 3072; i++) {
        a[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    }
    for (i = 0; i < 3072 * 768; i++) {
        w[i] = (float)((i * 53) % 97) / 97.0f - 0.5f;
    }
    for (s = 0; s < 2; s++) {
        if (lmi_gemm_pack_weight(&p[s], w, shapes[s][1], shapes[s][0], shapes[s][1], threads) !=
            LM_OK) {
            p[s] = NULL;
        }
    }
    openblas_set_num_threads(threads);
    for (k = 0; k < rounds; k++) {
        for (s = 0; s < 2; s++) {
            const size_t N = shapes[s][0], K = shapes[s][1];
            const double fl = 2.0 * (double)M * (double)N * (double)K;
            double t0 = bench_peak_now(), g;
            if (p[s] != NULL) {
                lmi_gemm_forward(c, N, a, K, p[s], NULL, M, 0, threads);
                g = fl / (bench_peak_now() - t0) / 1e9;
                r.liblm = g > r.liblm ? g : r.liblm;
            }
            t0 = bench_peak_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, a,
                        (int)K, w, (int)K, 0.0f, c, (int)N);
            g = fl / (bench_peak_now() - t0) / 1e9;
            r.blas = g > r.blas ? g : r.blas;
        }
    }
    openblas_set_num_threads(1);
    r.gflops = r.liblm > r.blas ? r.liblm : r.blas;
    lmi_gemm_packed_free(p[0]);
    lmi_gemm_packed_free(p[1]);
    free(a);
    free(w);
    free(c);
    return r;
}

#endif
