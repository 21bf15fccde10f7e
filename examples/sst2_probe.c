/* sst2_probe: sentiment classification with a pretrained sentence encoder, through the public API
 * only. It embeds SST-2 sentences with all-MiniLM-L6-v2 (tokenizer + encoder + mean pooling),
 * trains a logistic-regression head on the frozen embeddings, reports dev accuracy and F1, and
 * classifies a few new sentences. (Fine-tuning the whole encoder comes with the trainer.)
 *
 * usage: sst2_probe MODEL_DIR TRAIN_TSV DEV_TSV [N_TRAIN [N_DEV]] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lm.h>

typedef struct dataset {
    char **text;
    int *label;
    size_t n;
} dataset;

static int fail(const char *what, lm_status s) {
    fprintf(stderr, "sst2_probe: %s: %s: %s\n", what, lm_status_string(s), lm_last_error());
    return 1;
}

/* Reads up to max rows of "sentence<TAB>label" after a header line. */
static int read_tsv(const char *path, size_t max, dataset *d) {
    FILE *f = fopen(path, "r");
    char line[8192];
    size_t cap = 1024;
    memset(d, 0, sizeof *d);
    if (f == NULL) {
        perror(path);
        return 0;
    }
    d->text = malloc(cap * sizeof *d->text);
    d->label = malloc(cap * sizeof *d->label);
    if (fgets(line, sizeof line, f) == NULL) { /* header */
        fclose(f);
        return 0;
    }
    while (d->n < max && fgets(line, sizeof line, f) != NULL) {
        char *tab = strrchr(line, '\t');
        if (tab == NULL || (tab[1] != '0' && tab[1] != '1')) {
            continue;
        }
        *tab = '\0';
        if (d->n == cap) {
            cap *= 2;
            d->text = realloc(d->text, cap * sizeof *d->text);
            d->label = realloc(d->label, cap * sizeof *d->label);
        }
        d->text[d->n] = strdup(line);
        d->label[d->n] = tab[1] - '0';
        d->n++;
    }
    fclose(f);
    return d->n > 0;
}

static void free_dataset(dataset *d) {
    size_t i;
    for (i = 0; i < d->n; i++) {
        free(d->text[i]);
    }
    free(d->text);
    free(d->label);
}

/* Embeds n texts into out[n * dim], batch by batch, padded to the longest of each batch. */
static lm_status embed_texts(const lm_tokenizer_t *tok, const lm_model_t *model, char **text,
                             size_t n, size_t dim, float *out) {
    enum { BATCH = 32, MAX_LEN = 128 };
    lm_encode_options eo;
    size_t start;
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = MAX_LEN;
    eo.padding = LM_PAD_LONGEST;
    for (start = 0; start < n; start += BATCH) {
        size_t b = n - start < BATCH ? n - start : BATCH;
        lm_encoding_t *enc[BATCH];
        size_t lens[BATCH];
        int32_t *ids, *mask;
        size_t i, T;
        lm_status s;
        for (i = 0; i < b; i++) {
            lens[i] = strlen(text[start + i]);
        }
        s = lm_tokenizer_encode_batch(tok, b, (const char *const *)(text + start), lens, NULL,
                                      NULL, &eo, 0, enc, NULL);
        if (s != LM_OK) {
            return s;
        }
        T = lm_encoding_length(enc[0]);
        ids = malloc(b * T * sizeof *ids);
        mask = malloc(b * T * sizeof *mask);
        for (i = 0; i < b; i++) {
            memcpy(ids + i * T, lm_encoding_ids(enc[i]), T * sizeof *ids);
            memcpy(mask + i * T, lm_encoding_attention_mask(enc[i]), T * sizeof *mask);
            lm_encoding_free(enc[i]);
        }
        s = lm_model_embed(model, ids, NULL, mask, b, T, LM_POOLING_DEFAULT, -1,
                           out + start * dim);
        free(ids);
        free(mask);
        if (s != LM_OK) {
            return s;
        }
    }
    return LM_OK;
}

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Logistic regression by full-batch gradient descent with Adam and a little L2. */
static void train_head(const float *x, const int *y, size_t n, size_t dim, double *w, double *b) {
    double *g = calloc(dim + 1, sizeof *g);
    double *m = calloc(dim + 1, sizeof *m);
    double *v = calloc(dim + 1, sizeof *v);
    const double lr = 0.05, beta1 = 0.9, beta2 = 0.999, l2 = 1e-4;
    int step;
    size_t i, j;
    for (j = 0; j < dim; j++) {
        w[j] = 0.0;
    }
    *b = 0.0;
    for (step = 1; step <= 300; step++) {
        memset(g, 0, (dim + 1) * sizeof *g);
        for (i = 0; i < n; i++) {
            double z = *b;
            double err;
            for (j = 0; j < dim; j++) {
                z += w[j] * x[i * dim + j];
            }
            err = sigmoid(z) - y[i];
            for (j = 0; j < dim; j++) {
                g[j] += err * x[i * dim + j] / (double)n;
            }
            g[dim] += err / (double)n;
        }
        for (j = 0; j <= dim; j++) {
            double *p = j < dim ? &w[j] : b;
            double gj = g[j] + (j < dim ? l2 * *p : 0.0);
            m[j] = beta1 * m[j] + (1 - beta1) * gj;
            v[j] = beta2 * v[j] + (1 - beta2) * gj * gj;
            *p -= lr * (m[j] / (1 - pow(beta1, step))) / (sqrt(v[j] / (1 - pow(beta2, step))) + 1e-8);
        }
    }
    free(g);
    free(m);
    free(v);
}

static double predict(const float *x, size_t dim, const double *w, double b) {
    double z = b;
    size_t j;
    for (j = 0; j < dim; j++) {
        z += w[j] * x[j];
    }
    return sigmoid(z);
}

int main(int argc, char **argv) {
    static char *examples[] = {
        "a gorgeous , witty , seductive movie .",
        "the plot is nothing but boilerplate clichés from start to finish .",
        "an utterly charming and hilarious film that reaffirms your faith in humanity .",
        "it 's a bad sign when you 're rooting for the film to end .",
    };
    const size_t n_examples = sizeof examples / sizeof examples[0];
    size_t n_train = argc > 4 ? (size_t)atol(argv[4]) : 2000;
    size_t n_dev = argc > 5 ? (size_t)atol(argv[5]) : 1000;
    lm_tokenizer_t *tok = NULL;
    lm_model_t *model = NULL;
    dataset train, dev;
    float *xtr, *xdev, *xex;
    double *w, b;
    size_t dim, i, correct = 0, tp = 0, fp = 0, fn = 0;
    lm_status s;
    if (argc < 4) {
        fprintf(stderr, "usage: sst2_probe MODEL_DIR TRAIN_TSV DEV_TSV [N_TRAIN [N_DEV]]\n");
        return 2;
    }
    if ((s = lm_tokenizer_load_dir(argv[1], NULL, &tok)) != LM_OK) {
        return fail("loading the tokenizer", s);
    }
    if ((s = lm_model_load(argv[1], NULL, &model)) != LM_OK) {
        lm_tokenizer_free(tok);
        return fail("loading the model", s);
    }
    if (!read_tsv(argv[2], n_train, &train) || !read_tsv(argv[3], n_dev, &dev)) {
        fprintf(stderr, "sst2_probe: cannot read the data sets\n");
        return 1;
    }
    dim = lm_model_hidden_size(model);
    printf("model: %s (%zu layers, hidden %zu, %llu parameters); kernels: %s\n", argv[1],
           lm_model_num_layers(model), dim, (unsigned long long)lm_model_parameter_count(model),
           lm_kernel_info());
    xtr = malloc(train.n * dim * sizeof *xtr);
    xdev = malloc(dev.n * dim * sizeof *xdev);
    xex = malloc(n_examples * dim * sizeof *xex);
    w = malloc(dim * sizeof *w);
    printf("embedding %zu training and %zu dev sentences...\n", train.n, dev.n);
    fflush(stdout);
    if ((s = embed_texts(tok, model, train.text, train.n, dim, xtr)) != LM_OK ||
        (s = embed_texts(tok, model, dev.text, dev.n, dim, xdev)) != LM_OK ||
        (s = embed_texts(tok, model, examples, n_examples, dim, xex)) != LM_OK) {
        return fail("embedding", s);
    }
    train_head(xtr, train.label, train.n, dim, w, &b);
    for (i = 0; i < dev.n; i++) {
        int pred = predict(xdev + i * dim, dim, w, b) >= 0.5;
        correct += pred == dev.label[i];
        tp += pred && dev.label[i];
        fp += pred && !dev.label[i];
        fn += !pred && dev.label[i];
    }
    printf("dev accuracy %.4f, F1 %.4f (%zu sentences; logistic regression on frozen embeddings)\n",
           (double)correct / (double)dev.n, 2.0 * (double)tp / (double)(2 * tp + fp + fn), dev.n);
    for (i = 0; i < n_examples; i++) {
        double p = predict(xex + i * dim, dim, w, b);
        printf("  %-9s %.3f  %s\n", p >= 0.5 ? "positive" : "negative", p, examples[i]);
    }
    free(xtr);
    free(xdev);
    free(xex);
    free(w);
    free_dataset(&train);
    free_dataset(&dev);
    lm_model_free(model);
    lm_tokenizer_free(tok);
    return 0;
}
