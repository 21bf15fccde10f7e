/* bench/infer: liblm inference timing for `make bench-infer`. One measurement per process so
 * that the peak RSS belongs to that measurement alone. The model side uses only the public API
 * (lm.h); --peak measures the machine's sgemm peak (bench/peak.h, internal headers) instead.
 *   infer --model DIR | --random-base   --batch B --seq T --threads N --iters K [--int8]
 *   infer --peak --threads N
 * Prints one JSON line: load_ms, median/best/mean ms per forward, sequences/s, the model's
 * GFLOP/s (median), peak RSS, the kernels that ran. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "lm.h"
#include "peak.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char base_config[] =
    "{\"architectures\":[\"BertModel\"],\"model_type\":\"bert\",\"vocab_size\":30522,"
    "\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,"
    "\"intermediate_size\":3072,\"max_position_embeddings\":512,\"type_vocab_size\":2}";

int main(int argc, char **argv) {
    const char *dir = NULL;
    size_t B = 1, T = 128, i, C, V;
    int threads = 0, iters = 10, a, int8 = 0, peak = 0;
    lm_model_options o;
    lm_model_t *m = NULL;
    lm_status s;
    double t0, load_ms, *times, sum = 0;
    int32_t *ids, *mask;
    float *out;
    struct rusage ru;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--model") == 0 && a + 1 < argc) {
            dir = argv[++a];
        } else if (strcmp(argv[a], "--random-base") == 0) {
            dir = NULL;
        } else if (strcmp(argv[a], "--batch") == 0 && a + 1 < argc) {
            B = (size_t)atol(argv[++a]);
        } else if (strcmp(argv[a], "--seq") == 0 && a + 1 < argc) {
            T = (size_t)atol(argv[++a]);
        } else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            threads = atoi(argv[++a]);
        } else if (strcmp(argv[a], "--iters") == 0 && a + 1 < argc) {
            iters = atoi(argv[++a]);
        } else if (strcmp(argv[a], "--int8") == 0) {
            int8 = 1;
        } else if (strcmp(argv[a], "--peak") == 0) {
            peak = 1;
        } else {
            fprintf(stderr, "usage: infer [--model DIR|--random-base] [--batch B] [--seq T] "
                            "[--threads N] [--iters K] [--int8] | --peak [--threads N]\n");
            return 2;
        }
    }
    if (threads <= 0) {
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (peak) {
        bench_peak p = bench_sgemm_peak(threads, 5);
        printf("{\"threads\":%d,\"sgemm_peak_gflops\":%.1f,\"liblm_gflops\":%.1f,"
               "\"blas_gflops\":%.1f,\"kernel\":\"%s\",\"blas\":\"%s\"}\n",
               threads, p.gflops, p.liblm, p.blas, p.kernel, lm_blas_kernel());
        return 0;
    }
    lm_model_options_init(&o, sizeof o);
    o.threads = threads;
    o.int8 = int8;
    t0 = now_ms();
    s = dir != NULL ? lm_model_load(dir, &o, &m)
                    : lm_model_create(base_config, strlen(base_config), 1, &o, &m);
    load_ms = now_ms() - t0;
    if (s != LM_OK) {
        fprintf(stderr, "infer: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    C = lm_model_hidden_size(m);
    V = lm_model_vocab_size(m);
    ids = malloc(B * T * sizeof *ids);
    mask = malloc(B * T * sizeof *mask);
    out = malloc(B * T * C * sizeof *out);
    times = malloc((size_t)iters * sizeof *times);
    if (ids == NULL || mask == NULL || out == NULL || times == NULL) {
        return 1;
    }
    srand(1);
    for (i = 0; i < B * T; i++) {
        ids[i] = (i % T == 0) ? 101 : (i % T == T - 1) ? 102 : (int32_t)(1000 + rand() % (int)(V - 1000));
        mask[i] = 1;
    }
    s = lm_model_hidden_states(m, ids, NULL, mask, B, T, out, NULL); /* warm-up */
    for (a = 0; a < iters && s == LM_OK; a++) {
        t0 = now_ms();
        s = lm_model_hidden_states(m, ids, NULL, mask, B, T, out, NULL);
        times[a] = now_ms() - t0;
        sum += times[a];
    }
    if (s != LM_OK) {
        fprintf(stderr, "infer: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    qsort(times, (size_t)iters, sizeof *times, cmp_double);
    getrusage(RUSAGE_SELF, &ru);
    { /* the model's FLOPs: the six products of each layer and the two of the attention */
        const double Cd = (double)C, N = (double)(B * T), L = (double)lm_model_num_layers(m);
        const double FF = 4.0 * Cd; /* BERT's intermediate size */
        const double flops = L * (2.0 * N * (4.0 * Cd * Cd + 2.0 * Cd * FF) + 4.0 * N * T * Cd);
        printf("{\"impl\":\"liblm%s\",\"batch\":%zu,\"seq\":%zu,\"threads\":%d,"
               "\"load_ms\":%.1f,\"median_ms\":%.2f,\"best_ms\":%.2f,\"mean_ms\":%.2f,"
               "\"seq_per_s\":%.1f,\"gflops\":%.1f,\"peak_rss_mb\":%.1f,\"kernel\":\"%s\","
               "\"blas\":\"%s\"}\n",
               int8 ? "-int8" : "", B, T, threads, load_ms, times[iters / 2], times[0],
               sum / iters, (double)B * 1000.0 / times[iters / 2],
               flops / times[iters / 2] / 1e6, ru.ru_maxrss / 1024.0, lm_kernel_info(),
               lm_blas_kernel());
    }
    lm_model_free(m);
    free(ids);
    free(mask);
    free(out);
    free(times);
    return 0;
}
