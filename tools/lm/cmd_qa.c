/* lm qa: question<TAB>context per line -> {"answer":"...","start":s,"end":e,"score":p} per line:
 * the best span of the context (character offsets into the context, end exclusive), its score
 * the product of the start and end probabilities (softmax over the context tokens of its window).
 * A context longer than --max-length is read in overlapping windows (as transformers' pipeline
 * with doc_stride) and the best-scoring span of all windows is the answer. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm qa --model DIR [--max-answer-length N] [--doc-stride N] [common options]\n"
                 "Reads question<TAB>context per line and writes\n"
                 "{\"answer\":\"...\",\"start\":s,\"end\":e,\"score\":p} per line (character offsets\n"
                 "into the context). A context longer than --max-length is read in overlapping\n"
                 "windows (--doc-stride tokens shared, default 128); the best span of all wins.\n");
    tool_common_usage(out);
}

/* The windows of every line of a batch, padded into one model batch. */
typedef struct qa_windows {
    const lm_encoding_t **win;
    size_t *owner; /* line of each window */
    size_t n, cap, T;
} qa_windows;

static int add_window(qa_windows *q, const lm_encoding_t *x, size_t line) {
    if (q->n == q->cap) {
        size_t nc = q->cap ? 2 * q->cap : 64;
        const lm_encoding_t **nw = realloc(q->win, nc * sizeof *nw);
        size_t *no;
        if (nw == NULL) {
            return 0;
        }
        q->win = nw;
        no = realloc(q->owner, nc * sizeof *no);
        if (no == NULL) {
            return 0;
        }
        q->owner = no;
        q->cap = nc;
    }
    q->win[q->n] = x;
    q->owner[q->n++] = line;
    q->T = lm_encoding_length(x) > q->T ? lm_encoding_length(x) : q->T;
    return 1;
}

/* Encodes line r of the batch with overflow windows; returns 0 on allocation failure. */
static int encode_line(tool_ctx *c, tool_batch *b, size_t r, size_t stride, qa_windows *q) {
    char *tab = memchr(b->lines[r], '\t', b->lens[r]);
    lm_encode_options eo;
    size_t k;
    if (tab == NULL) {
        b->status[r] = LM_ERR_INVALID_ARGUMENT;
        b->errors[r] = strdup("no TAB between the question and the context");
        return 1;
    }
    b->pairs[r] = tab + 1;
    b->pair_lens[r] = b->lens[r] - (size_t)(tab + 1 - b->lines[r]);
    lm_encode_options_init(&eo, sizeof eo);
    eo.max_length = c->o.max_length;
    eo.truncation = LM_TRUNCATE_ONLY_SECOND;
    eo.return_overflowing = 1;
    eo.stride = stride < c->o.max_length / 2 ? stride : c->o.max_length / 2;
    b->status[r] = lm_tokenizer_encode_pair(c->tok, b->lines[r], (size_t)(tab - b->lines[r]),
                                            b->pairs[r], b->pair_lens[r], &eo, &b->encs[r]);
    if (b->status[r] != LM_OK) { /* e.g. a question too long for the stride: one window */
        eo.return_overflowing = 0;
        eo.stride = 0;
        b->status[r] = lm_tokenizer_encode_pair(c->tok, b->lines[r], (size_t)(tab - b->lines[r]),
                                                b->pairs[r], b->pair_lens[r], &eo, &b->encs[r]);
    }
    if (b->status[r] != LM_OK) {
        b->errors[r] = strdup(lm_last_error());
        return 1;
    }
    for (k = 0; k <= lm_encoding_overflow_count(b->encs[r]); k++) {
        if (!add_window(q, k == 0 ? b->encs[r] : lm_encoding_overflow(b->encs[r], k - 1), r)) {
            return 0;
        }
    }
    return 1;
}

/* Runs one batch of lines; returns 0 on success, 1 if a line failed, -1 on allocation failure. */
static int run_batch(tool_ctx *c, tool_batch *b, size_t stride, size_t max_answer) {
    qa_windows q;
    int32_t *ids = NULL, *types = NULL, *mask = NULL, *allowed = NULL;
    float *start = NULL, *end = NULL;
    lm_status s = LM_OK;
    size_t r, w, t;
    int failed = 0, oom = 0;
    memset(&q, 0, sizeof q);
    q.T = 1;
    for (r = 0; r < b->n && !oom; r++) {
        oom = !encode_line(c, b, r, stride, &q);
    }
    if (!oom && q.n > 0) {
        ids = calloc(q.n * q.T, sizeof *ids);
        types = calloc(q.n * q.T, sizeof *types);
        mask = calloc(q.n * q.T, sizeof *mask);
        start = malloc(q.n * q.T * sizeof *start);
        end = malloc(q.n * q.T * sizeof *end);
        allowed = malloc(q.T * sizeof *allowed);
        oom = !ids || !types || !mask || !start || !end || !allowed;
    }
    if (!oom && q.n > 0) {
        for (w = 0; w < q.n; w++) {
            for (t = 0; t < lm_encoding_length(q.win[w]); t++) {
                ids[w * q.T + t] = lm_encoding_ids(q.win[w])[t];
                types[w * q.T + t] = lm_encoding_type_ids(q.win[w])[t];
                mask[w * q.T + t] = lm_encoding_attention_mask(q.win[w])[t];
            }
        }
        s = lm_model_qa_logits(c->model, ids, types, mask, q.n, q.T, start, end);
    }
    for (r = 0; r < b->n && !oom; r++) {
        const lm_encoding_t *best = NULL;
        size_t ba = 0, bz = 0;
        float bscore = -1.0f;
        if (s != LM_OK || b->status[r] != LM_OK) {
            tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b->errors[r]);
            failed = 1;
            continue;
        }
        for (w = 0; w < q.n; w++) { /* the best span over the line's windows */
            size_t len = lm_encoding_length(q.win[w]), a, z;
            float score;
            if (q.owner[w] != r) {
                continue;
            }
            for (t = 0; t < len; t++) {
                allowed[t] = lm_encoding_sequence_ids(q.win[w])[t] == 1;
            }
            if (lm_qa_best_span(start + w * q.T, end + w * q.T, allowed, len, max_answer, &a, &z,
                                &score) == LM_OK &&
                score > bscore) {
                best = q.win[w];
                ba = a;
                bz = z;
                bscore = score;
            }
        }
        if (best == NULL) {
            tool_print_error_line(stdout, "the context is empty");
            failed = 1;
            continue;
        }
        {
            const size_t *co = lm_encoding_offsets(best), *bo = lm_encoding_byte_offsets(best);
            size_t b0 = bo[2 * ba], b1 = bo[2 * bz + 1];
            fputs("{\"answer\":", stdout);
            tool_json_string(stdout, b->pairs[r] + b0, b1 > b0 ? b1 - b0 : 0);
            fprintf(stdout, ",\"start\":%zu,\"end\":%zu,\"score\":%.7g}\n", co[2 * ba],
                    co[2 * bz + 1], (double)bscore);
        }
    }
    free(q.win);
    free(q.owner);
    free(ids);
    free(types);
    free(mask);
    free(start);
    free(end);
    free(allowed);
    return oom ? -1 : failed;
}

/* lm qa's own options. */
typedef struct qa_opts {
    size_t max_answer; /* --max-answer-length */
    size_t stride;     /* --doc-stride */
} qa_opts;

static int qa_option(tool_ctx *c, int argc, char **argv, int *i, void *state) {
    qa_opts *qo = state;
    size_t *dst;
    (void)c;
    if (strcmp(argv[*i], "--max-answer-length") == 0) {
        dst = &qo->max_answer;
    } else if (strcmp(argv[*i], "--doc-stride") == 0) {
        dst = &qo->stride;
    } else {
        return 0;
    }
    if (*i + 1 >= argc || !tool_parse_size("qa", argv[*i], argv[*i + 1], dst)) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "lm qa: %s needs a value\n", argv[*i]);
        }
        return -1;
    }
    ++*i;
    return 1;
}

int cmd_qa(int argc, char **argv) {
    tool_ctx c;
    qa_opts qo = {30, 128};
    int code, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "qa";
    c.o.pairs = 1;
    if ((code = tool_parse_args(&c, argc, argv, usage, 0, qa_option, &qo)) >= 0) {
        return code;
    }
    if (tool_load(&c, 1, LM_HEAD_QUESTION_ANSWERING, "BertForQuestionAnswering") != 0) {
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        int r;
        if (n <= 0) {
            tool_batch_clear(&b);
            failed |= n < 0;
            break;
        }
        r = run_batch(&c, &b, qo.stride, qo.max_answer);
        tool_batch_clear(&b);
        if (r < 0) {
            fprintf(stderr, "lm qa: out of memory\n");
            failed = 1;
            break;
        }
        failed |= r;
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return failed;
}
