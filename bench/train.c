/* bench/train: liblm training-step timing for `make bench-train`. One measurement per process so
 * that the peak RSS belongs to that measurement alone. The model side uses only the public API;
 * the sgemm peak is measured in the same process (bench/peak.h: the best of liblm's GEMM and the
 * BLAS, on BERT's FFN shapes).
 *   train --model DIR | --random-base   --batch B --seq T --threads N --steps K [--peak]
 * A sequence-classification head (2 labels; fresh on all-MiniLM-L6-v2), dropout as the config
 * says, AdamW (weight decay 0.01), linear schedule, clipping at 1.0; one warm-up step, then K
 * timed steps. Prints one JSON line: median/mean ms per step, steps/s, the model FLOPs of a step,
 * GFLOP/s, the sgemm peak and the share of it, peak RSS, BLAS kernel. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
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
    "{\"architectures\":[\"BertForSequenceClassification\"],\"model_type\":\"bert\","
    "\"vocab_size\":30522,\"hidden_size\":768,\"num_hidden_layers\":12,"
    "\"num_attention_heads\":12,\"intermediate_size\":3072,\"max_position_embeddings\":512,"
    "\"type_vocab_size\":2,\"num_labels\":2}";

int main(int argc, char **argv) {
    const char *dir = NULL;
    size_t B = 32, T = 128, i, C, V, L, FF, N;
    int threads = 0, steps = 3, a;
    lm_model_options mo;
    lm_trainer_options to;
    lm_model_t *m = NULL;
    lm_trainer_t *t = NULL;
    lm_batch b;
    lm_status s;
    double t0, load_ms, *times, sum = 0, flops, peak, gflops;
    int32_t *ids, *mask, *labels;
    float loss = 0;
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
        } else if (strcmp(argv[a], "--steps") == 0 && a + 1 < argc) {
            steps = atoi(argv[++a]);
        } else {
            fprintf(stderr, "usage: train [--model DIR|--random-base] [--batch B] [--seq T] "
                            "[--threads N] [--steps K]\n");
            return 2;
        }
    }
    if (threads <= 0) {
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = threads;
    mo.head = LM_HEAD_SEQUENCE_CLASSIFICATION;
    mo.num_labels = 2;
    mo.no_tokenizer = 1;
    t0 = now_ms();
    s = dir != NULL ? lm_model_load(dir, &mo, &m)
                    : lm_model_create(base_config, strlen(base_config), 1, &mo, &m);
    load_ms = now_ms() - t0;
    if (s != LM_OK) {
        fprintf(stderr, "train: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    C = lm_model_hidden_size(m);
    V = lm_model_vocab_size(m);
    L = lm_model_num_layers(m);
    N = B * T;
    FF = 4 * C; /* BERT's intermediate size; only used for the FLOP count and the peak shape */
    {
        const bench_peak p = bench_sgemm_peak(threads, 4); /* liblm's GEMM and the BLAS */
        peak = p.gflops;
    }
    lm_trainer_options_init(&to, sizeof to);
    to.threads = threads;
    to.weight_decay = 0.01;
    to.total_steps = 1000;
    to.warmup_steps = 0;
    s = lm_trainer_create(m, &to, &t);
    if (s != LM_OK) {
        fprintf(stderr, "train: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    ids = malloc(N * sizeof *ids);
    mask = malloc(N * sizeof *mask);
    labels = malloc(B * sizeof *labels);
    times = malloc((size_t)steps * sizeof *times);
    if (ids == NULL || mask == NULL || labels == NULL || times == NULL) {
        return 1;
    }
    /* the same batch as bench/train.py */
    for (i = 0; i < N; i++) {
        ids[i] = (i % T == 0) ? 101 : (i % T == T - 1) ? 102 : (int32_t)(1000 + (i * 7919 + 13) % (V - 1000));
        mask[i] = 1;
    }
    for (i = 0; i < B; i++) {
        labels[i] = (int32_t)(i % 2);
    }
    lm_batch_init(&b, sizeof b);
    b.batch = B;
    b.seq_len = T;
    b.ids = ids;
    b.attention_mask = mask;
    b.labels = labels;
    s = lm_trainer_step(t, &b, &loss); /* warm-up: the workspace is allocated here */
    for (a = 0; a < steps && s == LM_OK; a++) {
        t0 = now_ms();
        s = lm_trainer_step(t, &b, &loss);
        times[a] = now_ms() - t0;
        sum += times[a];
    }
    if (s != LM_OK) {
        fprintf(stderr, "train: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    qsort(times, (size_t)steps, sizeof *times, cmp_double);
    /* FLOPs of a step: forward products 2 N (4 C^2 + 2 C I) per layer, attention 4 N T C per
     * layer, pooler and classifier; the backward twice the forward */
    flops = 3.0 * (2.0 * (double)N * (double)L * (4.0 * C * C + 2.0 * C * FF) +
                   4.0 * (double)N * (double)T * (double)C * (double)L + 2.0 * B * C * (C + 2));
    gflops = flops / times[steps / 2] / 1e6;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"impl\":\"liblm\",\"batch\":%zu,\"seq\":%zu,\"threads\":%d,\"load_ms\":%.1f,"
           "\"median_ms\":%.1f,\"mean_ms\":%.1f,\"steps_per_s\":%.3f,\"gflop_per_step\":%.1f,"
           "\"gflops\":%.1f,\"sgemm_peak_gflops\":%.1f,\"peak_share\":%.3f,\"loss\":%.4f,"
           "\"peak_rss_mb\":%.1f,\"blas\":\"%s\",\"kernel\":\"%s\"}\n",
           B, T, threads, load_ms, times[steps / 2], sum / steps, 1000.0 / times[steps / 2],
           flops / 1e9, gflops, peak, peak > 0 ? gflops / peak : 0.0, (double)loss,
           ru.ru_maxrss / 1024.0, lm_blas_kernel(), lm_kernel_info());
    lm_trainer_free(t);
    lm_model_free(m);
    free(ids);
    free(mask);
    free(labels);
    free(times);
    return 0;
}
