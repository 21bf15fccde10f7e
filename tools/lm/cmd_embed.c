/* lm embed: one sentence per line on stdin -> {"embedding":[...]} per line (sentence-transformers
 * pooling: mean or CLS, optional L2 normalisation; defaults from the model folder). Reads 8
 * batches at a time and runs them sorted by length, so that little of a batch is padding. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm embed --model DIR [--pooling mean|cls] [--normalize|--no-normalize]\n"
                 "                [--pairs] [common options]\n"
                 "Reads one text per line on stdin and writes {\"embedding\":[...]} per line.\n"
                 "Pooling and normalisation default to the folder's sentence-transformers modules\n"
                 "(mean, no normalisation when there are none).\n");
    tool_common_usage(out);
}

static void put_float(FILE *out, float v) {
    if (v != v || v - v != 0.0f) {
        fputs("null", out);
    } else {
        fprintf(out, "%.8g", (double)v);
    }
}

static const tool_batch *sort_batch; /* for cmp_length (qsort has no context argument) */

static int cmp_length(const void *x, const void *y) {
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    size_t la = sort_batch->encs[a] ? lm_encoding_length(sort_batch->encs[a]) : 1;
    size_t lb = sort_batch->encs[b] ? lm_encoding_length(sort_batch->encs[b]) : 1;
    return la != lb ? (la < lb ? -1 : 1) : (a < b ? -1 : a > b);
}

/* Embeds the lines of b in runs of `run` lines of similar length (less padding; a sentence's
 * embedding does not depend on its batch), into emb[b->n, C] in input order. */
static lm_status embed_sorted(tool_ctx *c, const tool_batch *b, size_t run, int pooling,
                              int normalize, float *emb) {
    size_t C = lm_model_hidden_size(c->model), *order = malloc(b->n * sizeof *order), i, j, t;
    int32_t *ids = malloc(run * b->T * sizeof *ids), *types = malloc(run * b->T * sizeof *types);
    int32_t *mask = malloc(run * b->T * sizeof *mask);
    float *out = malloc(run * C * sizeof *out);
    lm_status s = LM_OK;
    if (order == NULL || ids == NULL || types == NULL || mask == NULL || out == NULL) {
        s = LM_ERR_NOMEM;
    }
    for (i = 0; s == LM_OK && i < b->n; i++) {
        order[i] = i;
    }
    if (s == LM_OK) {
        sort_batch = b;
        qsort(order, b->n, sizeof *order, cmp_length);
    }
    for (i = 0; s == LM_OK && i < b->n; i += run) {
        size_t cn = b->n - i < run ? b->n - i : run, T = 1;
        for (j = 0; j < cn; j++) {
            const lm_encoding_t *e = b->encs[order[i + j]];
            T = e != NULL && lm_encoding_length(e) > T ? lm_encoding_length(e) : T;
        }
        for (j = 0; j < cn; j++) {
            for (t = 0; t < T; t++) {
                ids[j * T + t] = b->ids[order[i + j] * b->T + t];
                types[j * T + t] = b->types[order[i + j] * b->T + t];
                mask[j * T + t] = b->mask[order[i + j] * b->T + t];
            }
        }
        s = lm_model_embed(c->model, ids, types, mask, cn, T, pooling, normalize, out);
        for (j = 0; s == LM_OK && j < cn; j++) {
            memcpy(emb + order[i + j] * C, out + j * C, C * sizeof *out);
        }
    }
    free(order);
    free(ids);
    free(types);
    free(mask);
    free(out);
    return s;
}

/* lm embed's own options. */
typedef struct embed_opts {
    int pooling;   /* an lm_pooling */
    int normalize; /* 1, 0, or -1 for the model's default */
} embed_opts;

static int embed_option(tool_ctx *c, int argc, char **argv, int *i, void *state) {
    embed_opts *eo = state;
    (void)c;
    if (strcmp(argv[*i], "--pooling") == 0) {
        const char *v = *i + 1 < argc ? argv[++*i] : "";
        if (strcmp(v, "mean") == 0) {
            eo->pooling = LM_POOLING_MEAN;
        } else if (strcmp(v, "cls") == 0) {
            eo->pooling = LM_POOLING_CLS;
        } else {
            fprintf(stderr, "lm embed: --pooling is mean or cls, not '%s'\n", v);
            return -1;
        }
    } else if (strcmp(argv[*i], "--normalize") == 0) {
        eo->normalize = 1;
    } else if (strcmp(argv[*i], "--no-normalize") == 0) {
        eo->normalize = 0;
    } else {
        return 0;
    }
    return 1;
}

int cmd_embed(int argc, char **argv) {
    tool_ctx c;
    embed_opts eo = {LM_POOLING_DEFAULT, -1};
    int code, failed = 0;
    size_t run;
    memset(&c, 0, sizeof c);
    c.o.name = "embed";
    if ((code = tool_parse_args(&c, argc, argv, usage, 1, embed_option, &eo)) >= 0) {
        return code;
    }
    if (tool_load(&c, 1, LM_HEAD_AUTO, NULL) != 0) {
        tool_free(&c);
        return 1;
    }
    run = c.o.batch_size;
    c.o.batch_size = run * 8; /* read 8 batches at once, run them sorted by length */
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        size_t C = lm_model_hidden_size(c.model), r, k;
        float *emb;
        lm_status s;
        if (n <= 0) {
            tool_batch_clear(&b);
            if (n < 0) {
                fprintf(stderr, "lm embed: out of memory\n");
                failed = 1;
            }
            break;
        }
        emb = tool_encode_batch(&c, &b, LM_TRUNCATE_LONGEST_FIRST) == 0
                  ? malloc(b.n * C * sizeof *emb)
                  : NULL;
        if (emb == NULL) {
            fprintf(stderr, "lm embed: out of memory\n");
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        s = embed_sorted(&c, &b, run, eo.pooling, eo.normalize, emb);
        if (s == LM_ERR_NOMEM) {
            fprintf(stderr, "lm embed: out of memory\n");
            free(emb);
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        for (r = 0; r < b.n; r++) {
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            fputs("{\"embedding\":[", stdout);
            for (k = 0; k < C; k++) {
                if (k) {
                    fputc(',', stdout);
                }
                put_float(stdout, emb[r * C + k]);
            }
            fputs("]}\n", stdout);
        }
        free(emb);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "lm embed: cannot write the output\n");
        return 1;
    }
    return failed;
}
