/* Shared helpers of the model subcommands (see model_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "model_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tool_parse_size(const char *name, const char *opt, const char *value, size_t *out) {
    char *end;
    unsigned long long v;
    if (value == NULL || value[0] == '\0' || value[0] == '-') {
        fprintf(stderr, "lm %s: %s needs a positive number\n", name, opt);
        return 0;
    }
    v = strtoull(value, &end, 10);
    if (*end != '\0' || v == 0) {
        fprintf(stderr, "lm %s: %s needs a positive number, not '%s'\n", name, opt, value);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int tool_common_option(tool_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    size_t v;
    int takes_value = strcmp(a, "--model") == 0 || strcmp(a, "--max-length") == 0 ||
                      strcmp(a, "--batch-size") == 0 || strcmp(a, "--threads") == 0;
    if (takes_value && *i + 1 >= argc) {
        fprintf(stderr, "lm %s: %s needs a value\n", o->name, a);
        return -1;
    }
    if (strcmp(a, "--model") == 0) {
        o->model_dir = argv[++*i];
    } else if (strcmp(a, "--max-length") == 0) {
        if (!tool_parse_size(o->name, a, argv[++*i], &o->max_length)) {
            return -1;
        }
    } else if (strcmp(a, "--batch-size") == 0) {
        if (!tool_parse_size(o->name, a, argv[++*i], &o->batch_size)) {
            return -1;
        }
    } else if (strcmp(a, "--threads") == 0) {
        if (!tool_parse_size(o->name, a, argv[++*i], &v) || v > 4096) {
            return -1;
        }
        o->threads = (int)v;
    } else if (strcmp(a, "--verbose") == 0) {
        o->verbose = 1;
    } else {
        return 0;
    }
    return 1;
}

int tool_parse_args(tool_ctx *c, int argc, char **argv, void (*usage)(FILE *), int allow_pairs,
                    tool_option_fn extra, void *state) {
    int i;
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&c->o, argc, argv, &i);
        if (r == 0 && extra != NULL) {
            r = extra(c, argc, argv, &i, state);
        }
        if (r < 0) {
            return 2;
        }
        if (r > 0) {
            continue;
        }
        if (allow_pairs && strcmp(argv[i], "--pairs") == 0) {
            c->o.pairs = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "lm %s: unknown option '%s'\n", c->o.name, argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

void tool_common_usage(FILE *out) {
    fprintf(out, "common options:\n"
                 "  --model DIR       Hugging Face model folder (config.json, model.safetensors,\n"
                 "                    vocab.txt or tokenizer.json)\n"
                 "  --max-length N    truncate inputs to N tokens (default: the model's limit)\n"
                 "  --batch-size N    lines run together (default 32)\n"
                 "  --threads N       compute threads (default: all cores)\n"
                 "  --verbose         say which BLAS kernel runs\n");
}

int tool_load(tool_ctx *c, int need_tokenizer, int required_head, const char *architecture) {
    lm_model_options mo;
    lm_status s;
    if (c->o.model_dir == NULL) {
        fprintf(stderr, "lm %s: --model DIR is required\n", c->o.name);
        return 1;
    }
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = c->o.threads;
    s = lm_model_load(c->o.model_dir, &mo, &c->model);
    if (s != LM_OK) {
        fprintf(stderr, "lm %s: %s: %s\n", c->o.name, lm_status_string(s), lm_last_error());
        return 1;
    }
    if (required_head != LM_HEAD_AUTO && (int)lm_model_head(c->model) != required_head) {
        fprintf(stderr, "lm %s: %s is not a %s model\n", c->o.name, c->o.model_dir, architecture);
        return 1;
    }
    if (need_tokenizer) {
        s = lm_tokenizer_load_dir(c->o.model_dir, NULL, &c->tok);
        if (s != LM_OK) {
            fprintf(stderr, "lm %s: tokenizer: %s: %s\n", c->o.name, lm_status_string(s),
                    lm_last_error());
            return 1;
        }
    }
    if (c->o.max_length == 0 || c->o.max_length > lm_model_max_length(c->model)) {
        c->o.max_length = lm_model_max_length(c->model);
    }
    if (c->o.batch_size == 0) {
        c->o.batch_size = 32;
    }
    if (c->o.verbose) {
        fprintf(stderr, "lm %s: %s\n", c->o.name, lm_blas_info());
    }
    return 0;
}

void tool_free(tool_ctx *c) {
    lm_model_free(c->model);
    lm_tokenizer_free(c->tok);
    c->model = NULL;
    c->tok = NULL;
}

void tool_batch_clear(tool_batch *b) {
    size_t i;
    for (i = 0; i < b->n; i++) {
        free(b->lines[i]);
        lm_encoding_free(b->encs[i]);
        free(b->errors[i]);
    }
    free(b->lines);
    free(b->lens);
    free(b->pairs);
    free(b->pair_lens);
    free(b->encs);
    free(b->status);
    free(b->errors);
    free(b->ids);
    free(b->types);
    free(b->mask);
    memset(b, 0, sizeof *b);
}

long tool_read_batch(tool_ctx *c, FILE *in, tool_batch *b) {
    size_t cap = c->o.batch_size;
    memset(b, 0, sizeof *b);
    b->lines = calloc(cap, sizeof *b->lines);
    b->lens = calloc(cap, sizeof *b->lens);
    b->pairs = calloc(cap, sizeof *b->pairs);
    b->pair_lens = calloc(cap, sizeof *b->pair_lens);
    b->encs = calloc(cap, sizeof *b->encs);
    b->status = calloc(cap, sizeof *b->status);
    b->errors = calloc(cap, sizeof *b->errors);
    if (!b->lines || !b->lens || !b->pairs || !b->pair_lens || !b->encs || !b->status ||
        !b->errors) {
        return -1;
    }
    while (b->n < cap) {
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len = getline(&line, &lcap, in);
        size_t n;
        if (len < 0) {
            free(line);
            break;
        }
        n = (size_t)len;
        if (n > 0 && line[n - 1] == '\n') {
            n--;
        }
        if (n > 0 && line[n - 1] == '\r') {
            n--;
        }
        line[n] = '\0';
        b->lines[b->n] = line;
        b->lens[b->n] = n;
        b->n++;
    }
    return (long)b->n;
}

int tool_encode_batch(tool_ctx *c, tool_batch *b, int truncation) {
    lm_encode_options eo;
    size_t i, t;
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = c->o.max_length;
    eo.truncation = (lm_truncation)truncation;
    eo.padding = LM_PAD_NONE;
    for (i = 0; i < b->n; i++) {
        if (c->o.pairs) {
            char *tab = memchr(b->lines[i], '\t', b->lens[i]);
            if (tab == NULL) {
                b->status[i] = LM_ERR_INVALID_ARGUMENT;
                b->errors[i] = strdup("no TAB between the text and its pair");
                continue;
            }
            b->pairs[i] = tab + 1;
            b->pair_lens[i] = b->lens[i] - (size_t)(tab + 1 - b->lines[i]);
            b->status[i] = lm_tokenizer_encode_pair(c->tok, b->lines[i],
                                                    (size_t)(tab - b->lines[i]), b->pairs[i],
                                                    b->pair_lens[i], &eo, &b->encs[i]);
        } else {
            b->status[i] = lm_tokenizer_encode(c->tok, b->lines[i], b->lens[i], &eo, &b->encs[i]);
        }
        if (b->status[i] != LM_OK) {
            b->errors[i] = strdup(lm_last_error());
        }
    }
    b->T = 1;
    for (i = 0; i < b->n; i++) {
        if (b->encs[i] != NULL && lm_encoding_length(b->encs[i]) > b->T) {
            b->T = lm_encoding_length(b->encs[i]);
        }
    }
    b->ids = calloc(b->n * b->T, sizeof *b->ids);
    b->types = calloc(b->n * b->T, sizeof *b->types);
    b->mask = calloc(b->n * b->T, sizeof *b->mask);
    if (b->ids == NULL || b->types == NULL || b->mask == NULL) {
        return 1;
    }
    for (i = 0; i < b->n; i++) {
        const lm_encoding_t *e = b->encs[i];
        size_t len = e != NULL ? lm_encoding_length(e) : 0;
        for (t = 0; t < len; t++) {
            b->ids[i * b->T + t] = lm_encoding_ids(e)[t];
            b->types[i * b->T + t] = lm_encoding_type_ids(e)[t];
            b->mask[i * b->T + t] = lm_encoding_attention_mask(e)[t];
        }
        if (len == 0) {
            b->mask[i * b->T] = 1; /* a failed row: one token, result unused */
        }
    }
    return 0;
}

void tool_json_string(FILE *out, const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i;
    fputc('"', out);
    for (i = 0; i < len; i++) {
        switch (p[i]) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (p[i] < 0x20 || p[i] == 0x7F) {
                fprintf(out, "\\u%04x", p[i]);
            } else {
                fputc(p[i], out);
            }
        }
    }
    fputc('"', out);
}

void tool_print_error_line(FILE *out, const char *msg) {
    fputs("{\"error\":", out);
    tool_json_string(out, msg != NULL ? msg : "", msg != NULL ? strlen(msg) : 0);
    fputs("}\n", out);
}

void tool_softmax(const float *logits, size_t n, float *p) {
    float mx = -INFINITY;
    double sum = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        mx = logits[i] > mx ? logits[i] : mx;
    }
    for (i = 0; i < n; i++) {
        p[i] = expf(logits[i] - mx);
        sum += p[i];
    }
    for (i = 0; i < n; i++) {
        p[i] = (float)(p[i] / sum);
    }
}
