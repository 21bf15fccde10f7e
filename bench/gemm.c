/* `make bench-gemm`: GFLOP/s of liblm's GEMM (src/tensor/gemm.h) on BERT-shaped Linear forwards,
 * out[M, N] = A[M, K] . W[N, K]^T + bias, against OpenBLAS's cblas_sgemm on the same products:
 * liblm's default kernel and its AVX2 kernel (forced) with 1 and 2 threads, OpenBLAS with the
 * kernel it detects and with OPENBLAS_CORETYPE=SKYLAKEX (when the CPU has AVX-512). OpenBLAS runs
 * in child processes (this program re-executed with --openblas), so that its threads and its
 * kernel choice, made when the library loads, do not disturb the other measurements.
 *
 * The weight is packed once, outside the timing, as the model does at load. Every figure is the
 * best of several runs taken round-robin over all the shapes and settings (the first round warms
 * up and counts too), so that a burst of other work on a shared machine spoils one run of many
 * cells rather than all runs of one cell. Prints one table and, last,
 * `bench-gemm: min ratio vs OpenBLAS(SKYLAKEX) R`: liblm's default kernel over OpenBLAS SKYLAKEX,
 * the lowest over the shapes and both thread counts. BENCH_ROUNDS (default 4) sets the rounds. */
#include <cblas.h>
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

/* The 1-minute load average (the machine may be shared), -1 when unknown. */
static double load_average(void) {
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fscanf(f, "%lf", &load) != 1) {
            load = -1;
        }
        fclose(f);
    }
    return load;
}

static int rounds(void) {
    const char *r = getenv("BENCH_ROUNDS");
    int n = r != NULL ? atoi(r) : 0;
    return n > 0 ? n : 4;
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

/* The operands of every shape, made once. */
typedef struct operands {
    shape s;
    float *a, *w, *bias, *out;
    lmi_gemm_packed *pack[2]; /* liblm: default kernel, AVX2 kernel */
} operands;

static void operands_init(operands *o, int i) {
    o->s = shape_at(i);
    o->a = random_floats(o->s.m * o->s.k, 1);
    o->w = random_floats(o->s.n * o->s.k, 2);
    o->bias = random_floats(o->s.n, 3);
    o->out = random_floats(o->s.m * o->s.n, 4);
    o->pack[0] = o->pack[1] = NULL;
}

static void operands_free(operands *o) {
    lmi_free_aligned(o->a);
    lmi_free_aligned(o->w);
    lmi_free_aligned(o->bias);
    lmi_free_aligned(o->out);
    lmi_gemm_packed_free(o->pack[0]);
    lmi_gemm_packed_free(o->pack[1]);
}

static double gflops(shape s, double seconds) {
    return 2.0 * (double)s.m * (double)s.n * (double)s.k / seconds * 1e-9;
}

static void openblas_forward(const operands *o) {
    const shape s = o->s;
    size_t i;
    for (i = 0; i < s.m; i++) { /* the bias, as liblm's Linear did it on OpenBLAS */
        memcpy(o->out + i * s.n, o->bias, s.n * sizeof(float));
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)s.m, (int)s.n, (int)s.k, 1.0f, o->a,
                (int)s.k, o->w, (int)s.k, 1.0f, o->out, (int)s.n);
}

/* best[i][t]: the shortest time of shape i on 1 + t threads. */
static void time_openblas(operands *ops, double best[NSHAPES][2]) {
    int r, i, t;
    for (r = 0; r < rounds(); r++) {
        for (i = 0; i < NSHAPES; i++) {
            for (t = 0; t < 2; t++) {
                double t0;
                openblas_set_num_threads(1 + t);
                t0 = now();
                openblas_forward(&ops[i]);
                t0 = now() - t0;
                best[i][t] = r == 0 || t0 < best[i][t] ? t0 : best[i][t];
            }
        }
    }
}

/* The same for liblm with the pack of slot `k`. */
static void time_lm(operands *ops, int k, double best[NSHAPES][2]) {
    int r, i, t;
    for (r = 0; r < rounds(); r++) {
        for (i = 0; i < NSHAPES; i++) {
            const operands *o = &ops[i];
            for (t = 0; t < 2; t++) {
                double t0 = now();
                lmi_gemm_forward(o->out, o->s.n, o->a, o->s.k, o->pack[k], o->bias, o->s.m, 0,
                                 1 + t);
                t0 = now() - t0;
                best[i][t] = r == 0 || t0 < best[i][t] ? t0 : best[i][t];
            }
        }
    }
}

/* Child: "corename" then one line "g1 g2" per shape (GFLOP/s on 1 and 2 threads). */
static int openblas_child(operands *ops) {
    static double best[NSHAPES][2];
    int i;
    time_openblas(ops, best);
    printf("%s\n", openblas_get_corename());
    for (i = 0; i < NSHAPES; i++) {
        printf("%.1f %.1f\n", gflops(ops[i].s, best[i][0]), gflops(ops[i].s, best[i][1]));
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
    static operands ops[NSHAPES];
    static double lm[NSHAPES][2], avx2[NSHAPES][2], det[NSHAPES][2], skx[NSHAPES][2];
    char det_name[64] = "", skx_name[64] = "";
    const char *kernel, *avx2_name = NULL;
    int have_skx = 0, have_det = 0, i, t, only_lm = argc > 1 && strcmp(argv[1], "--lm-only") == 0;
    double min_ratio = 1e30;
    for (i = 0; i < NSHAPES; i++) {
        operands_init(&ops[i], i);
    }
    if (argc > 1 && strcmp(argv[1], "--openblas") == 0) {
        return openblas_child(ops);
    }
    openblas_set_num_threads(1);
    kernel = lmi_gemm_kernel_name();
    for (i = 0; i < NSHAPES; i++) {
        if (lmi_gemm_pack_weight(&ops[i].pack[0], ops[i].w, ops[i].s.k, ops[i].s.n, ops[i].s.k,
                                 2) != LM_OK) {
            fprintf(stderr, "bench-gemm: cannot pack\n");
            return 1;
        }
    }
    time_lm(ops, 0, lm);
    if (lmi_gemm_isa_supported(LMI_GEMM_AVX2) && lmi_gemm_current_isa() != LMI_GEMM_AVX2) {
        lmi_gemm_set_isa(LMI_GEMM_AVX2);
        avx2_name = lmi_gemm_kernel_name();
        for (i = 0; i < NSHAPES; i++) {
            if (lmi_gemm_pack_weight(&ops[i].pack[1], ops[i].w, ops[i].s.k, ops[i].s.n,
                                     ops[i].s.k, 2) != LM_OK) {
                fprintf(stderr, "bench-gemm: cannot pack\n");
                return 1;
            }
        }
        lmi_gemm_set_isa(LMI_GEMM_AUTO);
        time_lm(ops, 1, avx2);
    }
    for (i = 0; i < NSHAPES; i++) {
        for (t = 0; t < 2; t++) {
            lm[i][t] = gflops(ops[i].s, lm[i][t]);
            avx2[i][t] = avx2_name != NULL ? gflops(ops[i].s, avx2[i][t]) : 0;
        }
        operands_free(&ops[i]); /* the children make their own */
    }
    if (!only_lm) {
        have_det = run_child(NULL, det_name, sizeof det_name, det) == 0;
        if (lmi_gemm_isa_supported(LMI_GEMM_AVX512)) {
            have_skx = run_child("SKYLAKEX", skx_name, sizeof skx_name, skx) == 0;
        }
    }
    printf("bench-gemm: GFLOP/s of out[M,N] = A[M,K] . W[N,K]^T + bias, best of %d rounds; liblm "
           "kernel %s%s%s; OpenBLAS as detected: %s; load average %.2f\n",
           rounds(), kernel, avx2_name != NULL ? ", forced " : "",
           avx2_name != NULL ? avx2_name : "", have_det ? det_name : "(not run)", load_average());
    printf("%5s %5s %5s | %-14s | %-14s | %-14s | %-14s | %s\n", "M", "N", "K", "liblm 1t/2t",
           "liblm-avx2", "OB detected", "OB SKYLAKEX", "liblm/SKX 1t/2t");
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
        printf("bench-gemm: min ratio vs OpenBLAS(SKYLAKEX) n/a (no AVX-512, or OpenBLAS not "
               "run)\n");
    }
    return 0;
}
