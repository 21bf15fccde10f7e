/* Tokenizer benchmark driver (bench/tokenizer.sh builds and runs it): loads the vocabulary
 * (reports the median load time), reads the first column of a TSV file repeated to at least
 * MIN_MB megabytes, and encodes every line with lm_tokenizer_encode_batch in chunks on the given
 * numbers of threads. Prints one "liblm threads=N MB/s=..." line per thread count. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double process_cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *vocab, *tsv;
    double min_mb;
    FILE *f;
    char *line = NULL;
    size_t cap = 0, n = 0, ncap = 1 << 16, bytes = 0, i, base_n;
    ssize_t len;
    const char **texts;
    size_t *lens;
    lm_tokenizer_t *tok = NULL;
    double loads[21], cpu[21];
    int a;
    if (argc < 5) {
        fprintf(stderr, "usage: bench_tokenizer VOCAB TSV MIN_MB THREADS...\n");
        return 2;
    }
    vocab = argv[1];
    tsv = argv[2];
    min_mb = atof(argv[3]);
    for (i = 0; i < 21; i++) {
        double t0 = now(), c0 = cpu_now();
        if (lm_tokenizer_load_vocab(vocab, NULL, &tok) != LM_OK) {
            fprintf(stderr, "load: %s\n", lm_last_error());
            return 1;
        }
        loads[i] = now() - t0;
        cpu[i] = cpu_now() - c0;
        if (i < 20) {
            lm_tokenizer_free(tok);
        }
    }
    qsort(loads, 21, sizeof loads[0], cmp_double);
    qsort(cpu, 21, sizeof cpu[0], cmp_double);
    printf("liblm vocab load: %.2f ms wall, %.2f ms CPU (medians of 21; %zu tokens)\n",
           loads[10] * 1e3, cpu[10] * 1e3, lm_tokenizer_vocab_size(tok));
    texts = malloc(ncap * sizeof *texts);
    lens = malloc(ncap * sizeof *lens);
    f = fopen(tsv, "r");
    if (f == NULL || texts == NULL || lens == NULL) {
        perror(tsv);
        return 1;
    }
    for (i = 0; (len = getline(&line, &cap, f)) >= 0; i++) {
        char *tab;
        if (i == 0) {
            continue; /* header */
        }
        tab = memchr(line, '\t', (size_t)len);
        if (tab == NULL) {
            continue;
        }
        if (n == ncap) {
            ncap *= 2;
            texts = realloc(texts, ncap * sizeof *texts);
            lens = realloc(lens, ncap * sizeof *lens);
        }
        lens[n] = (size_t)(tab - line);
        texts[n] = strndup(line, lens[n]);
        bytes += lens[n];
        n++;
    }
    fclose(f);
    free(line);
    base_n = n;
    while ((double)bytes < min_mb * 1e6) {
        for (i = 0; i < base_n; i++) {
            if (n == ncap) {
                ncap *= 2;
                texts = realloc(texts, ncap * sizeof *texts);
                lens = realloc(lens, ncap * sizeof *lens);
            }
            texts[n] = texts[i];
            lens[n] = lens[i];
            bytes += lens[i];
            n++;
        }
    }
    printf("input: %zu lines, %.1f MB\n", n, (double)bytes / 1e6);
    for (a = 4; a < argc; a++) {
        int threads = atoi(argv[a]);
        enum { CHUNK = 10000 };
        lm_encoding_t **encs = malloc(CHUNK * sizeof *encs);
        size_t tokens = 0;
        double t0 = now(), c0 = process_cpu_now(), dt, dc;
        for (i = 0; i < n; i += CHUNK) {
            size_t m = n - i < CHUNK ? n - i : CHUNK, j;
            if (lm_tokenizer_encode_batch(tok, m, texts + i, lens + i, NULL, NULL, NULL, threads,
                                          encs, NULL) != LM_OK) {
                fprintf(stderr, "encode: %s\n", lm_last_error());
                return 1;
            }
            for (j = 0; j < m; j++) {
                tokens += lm_encoding_length(encs[j]);
                lm_encoding_free(encs[j]);
            }
        }
        dt = now() - t0;
        dc = process_cpu_now() - c0;
        printf("liblm threads=%d MB/s=%.2f (%.2f s wall, %.2f s CPU = %.2f MB per CPU-second, "
               "%zu tokens)\n", threads, (double)bytes / 1e6 / dt, dt, dc, (double)bytes / 1e6 / dc,
               tokens);
        free(encs);
    }
    lm_tokenizer_free(tok);
    return 0;
}
