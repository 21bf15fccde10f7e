/* `make bench-profile`: a per-op profile of liblm's forward pass (issue 10). Runs the forward of
 * a model on a B x T batch of random tokens, with the library's profile on (src/base/profile.h),
 * and prints, per op kind and per layer, the time per forward, the GFLOP/s and their share of the
 * machine's sgemm peak measured in the same run (bench/peak.h), then the whole forward's.
 *   profile (--model DIR | --random-base) [--batch B] [--seq T] [--threads N] [--iters K]
 *           [--int8] [--lengths MIN]   (MIN: sequence lengths drawn in [MIN, T], padded to T)
 *           [--no-peak]                (skip measuring the peak: the forward alone, for perf) 
 * The model side uses the public API; the profile and the peak use internal headers. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/profile.h"
#include "lm.h"
#include "peak.h"

static const char base_config[] =
    "{\"architectures\":[\"BertModel\"],\"model_type\":\"bert\",\"vocab_size\":30522,"
    "\"hidden_size\":768,\"num_hidden_layers\":12,\"num_attention_heads\":12,"
    "\"intermediate_size\":3072,\"max_position_embeddings\":512,\"type_vocab_size\":2}";

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

static void row(const char *name, const lmi_prof_cell *c, int iters, double total, double peak) {
    const double ms = c->seconds * 1e3 / iters;
    const double gf = c->seconds > 0 ? c->flops / c->seconds / 1e9 : 0;
    printf("  %-12s %8.2f %6.1f%% %8.1f", name, ms, total > 0 ? 100.0 * c->seconds / total : 0.0,
           c->flops / iters / 1e9);
    if (c->flops > 0) {
        printf(" %8.1f %6.1f%%\n", gf, 100.0 * gf / peak);
    } else {
        printf(" %8s %7s\n", "-", "-");
    }
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    size_t B = 1, T = 128, minlen = 0, i, C, V, L;
    int threads = 0, iters = 10, a, int8 = 0, k, no_peak = 0;
    lm_model_options o;
    lm_model_t *m = NULL;
    lm_status s;
    int32_t *ids, *mask;
    float *out;
    bench_peak peak;
    double total = 0, flops = 0, t0, wall;
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
        } else if (strcmp(argv[a], "--lengths") == 0 && a + 1 < argc) {
            minlen = (size_t)atol(argv[++a]);
        } else if (strcmp(argv[a], "--int8") == 0) {
            int8 = 1;
        } else if (strcmp(argv[a], "--no-peak") == 0) {
            no_peak = 1; /* for measuring the forward alone (perf stat) */
        } else {
            fprintf(stderr, "usage: profile [--model DIR|--random-base] [--batch B] [--seq T] "
                            "[--threads N] [--iters K] [--lengths MIN] [--int8]\n");
            return 2;
        }
    }
    if (threads <= 0) {
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (iters < 1) {
        iters = 1;
    }
    lm_model_options_init(&o, sizeof o);
    o.threads = threads;
#ifdef LM_MODEL_OPTIONS_HAS_INT8
    o.int8 = int8;
#else
    if (int8) {
        fprintf(stderr, "profile: this liblm has no int8 option\n");
        return 2;
    }
#endif
    s = dir != NULL ? lm_model_load(dir, &o, &m)
                    : lm_model_create(base_config, strlen(base_config), 1, &o, &m);
    if (s != LM_OK) {
        fprintf(stderr, "profile: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    C = lm_model_hidden_size(m);
    V = lm_model_vocab_size(m);
    L = lm_model_num_layers(m);
    ids = malloc(B * T * sizeof *ids);
    mask = malloc(B * T * sizeof *mask);
    out = malloc(B * T * C * sizeof *out);
    if (ids == NULL || mask == NULL || out == NULL) {
        return 1;
    }
    srand(1);
    for (i = 0; i < B; i++) {
        size_t len = minlen > 0 && minlen < T ? minlen + (size_t)rand() % (T - minlen + 1) : T, t;
        for (t = 0; t < T; t++) {
            ids[i * T + t] = t == 0           ? 101
                             : t + 1 == len ? 102
                             : t < len      ? (int32_t)(1000 + rand() % (int)(V - 1000))
                                            : 0;
            mask[i * T + t] = t < len;
        }
    }
    if (no_peak) {
        memset(&peak, 0, sizeof peak);
        peak.gflops = 1e-9;
        snprintf(peak.kernel, sizeof peak.kernel, "%s", lmi_gemm_kernel_name());
    } else {
        peak = bench_sgemm_peak(threads, 4);
    }
    s = lm_model_hidden_states(m, ids, NULL, mask, B, T, out, NULL); /* warm-up (packs) */
    lmi_prof_reset();
    lmi_prof_enable(1);
    t0 = bench_peak_now();
    for (k = 0; k < iters && s == LM_OK; k++) {
        s = lm_model_hidden_states(m, ids, NULL, mask, B, T, out, NULL);
    }
    wall = bench_peak_now() - t0;
    lmi_prof_enable(0);
    if (s != LM_OK) {
        fprintf(stderr, "profile: %s: %s\n", lm_status_string(s), lm_last_error());
        return 1;
    }
    printf("bench-profile: %s, %zu x %zu%s, %d threads, %d forwards, load average %.2f, GEMM "
           "kernel %s%s, BLAS %s\n",
           dir != NULL ? dir : "random bert-base", B, T, minlen ? " (random lengths)" : "",
           threads, iters, load_average(), peak.kernel, int8 ? " (int8)" : "", lm_blas_info());
    printf("sgemm peak (best of liblm %.1f and BLAS %.1f GFLOP/s on 4096 x 3072 x 768 and "
           "4096 x 768 x 3072): %.1f GFLOP/s\n",
           peak.liblm, peak.blas, peak.gflops);
    for (k = 0; k < LMI_PROF_KINDS; k++) {
        lmi_prof_cell c;
        lmi_prof_get((lmi_prof_kind)k, -1, &c);
        total += c.seconds;
        flops += c.flops;
    }
    printf("per op kind (ms per forward, share of the time, GFLOP per forward, GFLOP/s, share "
           "of the peak):\n");
    for (k = 0; k < LMI_PROF_KINDS; k++) {
        lmi_prof_cell c;
        lmi_prof_get((lmi_prof_kind)k, -1, &c);
        if (c.calls > 0) {
            row(lmi_prof_kind_name((lmi_prof_kind)k), &c, iters, total, peak.gflops);
        }
    }
    printf("per layer:\n");
    for (i = 0; i < L && i < LMI_PROF_LAYERS; i++) {
        lmi_prof_cell sum = {0, 0, 0};
        char name[32];
        for (k = 0; k < LMI_PROF_KINDS; k++) {
            lmi_prof_cell c;
            lmi_prof_get((lmi_prof_kind)k, (long)i, &c);
            sum.seconds += c.seconds;
            sum.flops += c.flops;
            sum.calls += c.calls;
        }
        snprintf(name, sizeof name, "layer %zu", i);
        row(name, &sum, iters, total, peak.gflops);
    }
    printf("forward: %.2f ms (profiled ops %.2f ms), %.1f GFLOP/s = %.1f%% of the sgemm peak\n",
           wall * 1e3 / iters, total * 1e3 / iters, flops / wall / 1e9,
           100.0 * flops / wall / 1e9 / peak.gflops);
    lm_model_free(m);
    free(ids);
    free(mask);
    free(out);
    return 0;
}
