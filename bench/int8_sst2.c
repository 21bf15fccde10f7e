/* bench/int8_sst2: does int8 inference keep a fine-tuned classifier's accuracy? Fine-tunes
 * all-MiniLM-L6-v2 with a fresh 2-label head on the first N SST-2 training sentences with liblm's
 * trainer (AdamW 5e-5, linear schedule, warm-up 10%, batches of 32 padded to their longest,
 * max length 64, dropout on, seed 42; one epoch), saves it, loads it back in float32 and in int8
 * (lm_model_options.int8) and reports dev accuracy of both, and the cosine of the int8 sentence
 * embeddings to the float32 ones (mean pooling of the fine-tuned encoder). Public API only.
 *   int8_sst2 MODEL_DIR TRAIN_TSV DEV_TSV OUT_DIR [N_TRAIN [N_DEV [THREADS]]]
 * Prints one JSON line. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm.h"

typedef struct rows {
    char **text;
    int32_t *label;
    size_t n;
} rows;

/* sentence<TAB>label lines after a header, at most max of them */
static int read_tsv(const char *path, size_t max, rows *r) {
    FILE *f = fopen(path, "r");
    char line[8192];
    memset(r, 0, sizeof *r);
    if (f == NULL || fgets(line, sizeof line, f) == NULL) {
        return 0;
    }
    r->text = calloc(max, sizeof *r->text);
    r->label = calloc(max, sizeof *r->label);
    while (r->n < max && fgets(line, sizeof line, f) != NULL) {
        char *tab = strrchr(line, '\t');
        if (tab == NULL) {
            continue;
        }
        *tab = '\0';
        r->text[r->n] = strdup(line);
        r->label[r->n++] = atoi(tab + 1);
    }
    fclose(f);
    return 1;
}

/* ids/mask of rows [i0, i1) padded to their longest (at most 64 tokens) */
static size_t make_batch(const lm_tokenizer_t *tok, const rows *r, size_t i0, size_t i1,
                         int32_t *ids, int32_t *mask) {
    lm_encode_options eo;
    lm_encoding_t *enc[32];
    size_t T = 1, i, t;
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = 64;
    for (i = i0; i < i1; i++) {
        if (lm_tokenizer_encode(tok, r->text[i], strlen(r->text[i]), &eo, &enc[i - i0]) != LM_OK) {
            fprintf(stderr, "int8_sst2: %s\n", lm_last_error());
            exit(1);
        }
        T = lm_encoding_length(enc[i - i0]) > T ? lm_encoding_length(enc[i - i0]) : T;
    }
    for (i = i0; i < i1; i++) {
        const int32_t *e = lm_encoding_ids(enc[i - i0]);
        const size_t n = lm_encoding_length(enc[i - i0]);
        for (t = 0; t < T; t++) {
            ids[(i - i0) * T + t] = t < n ? e[t] : 0;
            mask[(i - i0) * T + t] = t < n;
        }
        lm_encoding_free(enc[i - i0]);
    }
    return T;
}

static void check(lm_status s, const char *what) {
    if (s != LM_OK) {
        fprintf(stderr, "int8_sst2: %s: %s\n", what, lm_last_error());
        exit(1);
    }
}

/* dev accuracy; emb (when not NULL) gets each row's mean-pooled embedding [n, C] */
static double accuracy(lm_model_t *m, const rows *dev, float *emb) {
    const lm_tokenizer_t *tok = lm_model_tokenizer(m);
    const size_t C = lm_model_hidden_size(m);
    int32_t ids[32 * 64], mask[32 * 64];
    float logits[64];
    size_t i0, correct = 0, i;
    for (i0 = 0; i0 < dev->n; i0 += 32) {
        const size_t i1 = i0 + 32 < dev->n ? i0 + 32 : dev->n;
        const size_t T = make_batch(tok, dev, i0, i1, ids, mask);
        check(lm_model_classify(m, ids, NULL, mask, i1 - i0, T, logits), "classify");
        for (i = i0; i < i1; i++) {
            const int pred = logits[(i - i0) * 2 + 1] > logits[(i - i0) * 2];
            correct += pred == dev->label[i];
        }
        if (emb != NULL) {
            check(lm_model_embed(m, ids, NULL, mask, i1 - i0, T, LM_POOLING_MEAN, 1,
                                 emb + i0 * C),
                  "embed");
        }
    }
    return 100.0 * (double)correct / (double)dev->n;
}

int main(int argc, char **argv) {
    const size_t n_train = argc > 5 ? (size_t)atol(argv[5]) : 4000;
    const size_t n_dev = argc > 6 ? (size_t)atol(argv[6]) : 100000;
    const int threads = argc > 7 ? atoi(argv[7]) : 0;
    rows train, dev;
    lm_model_options mo;
    lm_trainer_options to;
    lm_model_t *m = NULL, *f32 = NULL, *q8 = NULL;
    lm_trainer_t *tr = NULL;
    int32_t ids[32 * 64], mask[32 * 64];
    double acc32, acc8, cmin = 1.0, csum = 0.0, t0;
    size_t i0, i, C;
    float *e32, *e8, loss = 0.0f;
    struct timespec ts;
    if (argc < 5 || !read_tsv(argv[2], n_train, &train) || !read_tsv(argv[3], n_dev, &dev)) {
        fprintf(stderr, "usage: int8_sst2 MODEL_DIR TRAIN_TSV DEV_TSV OUT_DIR [N_TRAIN [N_DEV "
                        "[THREADS]]]\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = ts.tv_sec + 1e-9 * ts.tv_nsec;
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = threads;
    mo.head = LM_HEAD_SEQUENCE_CLASSIFICATION;
    mo.num_labels = 2;
    mo.seed = 42;
    check(lm_model_load(argv[1], &mo, &m), "load");
    lm_trainer_options_init(&to, sizeof to);
    to.learning_rate = 5e-5;
    to.weight_decay = 0.01;
    to.total_steps = (int64_t)((train.n + 31) / 32);
    to.warmup_steps = (to.total_steps + 9) / 10;
    to.seed = 42;
    check(lm_trainer_create(m, &to, &tr), "trainer");
    for (i0 = 0; i0 < train.n; i0 += 32) {
        const size_t i1 = i0 + 32 < train.n ? i0 + 32 : train.n;
        lm_batch b;
        lm_batch_init(&b, sizeof b);
        b.seq_len = make_batch(lm_model_tokenizer(m), &train, i0, i1, ids, mask);
        b.batch = i1 - i0;
        b.ids = ids;
        b.attention_mask = mask;
        b.labels = train.label + i0;
        check(lm_trainer_step(tr, &b, &loss), "step");
    }
    lm_trainer_free(tr);
    check(lm_model_save(m, argv[4]), "save");
    lm_model_free(m);
    mo.head = LM_HEAD_AUTO;
    check(lm_model_load(argv[4], &mo, &f32), "load f32");
    mo.int8 = 1;
    check(lm_model_load(argv[4], &mo, &q8), "load int8");
    C = lm_model_hidden_size(f32);
    e32 = malloc(dev.n * C * sizeof *e32);
    e8 = malloc(dev.n * C * sizeof *e8);
    acc32 = accuracy(f32, &dev, e32);
    acc8 = accuracy(q8, &dev, e8);
    for (i = 0; i < dev.n; i++) {
        double d = 0;
        size_t c;
        for (c = 0; c < C; c++) {
            d += (double)e32[i * C + c] * e8[i * C + c]; /* both normalised */
        }
        cmin = d < cmin ? d : cmin;
        csum += d;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    printf("{\"train\":%zu,\"dev\":%zu,\"last_loss\":%.4f,\"dev_accuracy_fp32\":%.2f,"
           "\"dev_accuracy_int8\":%.2f,\"loss_points\":%.2f,\"embedding_cosine_min\":%.5f,"
           "\"embedding_cosine_mean\":%.5f,\"kernels\":\"%s\",\"seconds\":%.0f}\n",
           train.n, dev.n, (double)loss, acc32, acc8, acc32 - acc8, cmin, csum / (double)dev.n,
           lm_kernel_info(), ts.tv_sec + 1e-9 * ts.tv_nsec - t0);
    lm_model_free(f32);
    lm_model_free(q8);
    free(e32);
    free(e8);
    return 0;
}
