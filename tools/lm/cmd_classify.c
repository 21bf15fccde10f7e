/* lm classify: one text (or text<TAB>pair with --pairs) per line -> {"label":"...","label_id":k,
 * "score":p} per line, as the text-classification pipeline (lm_classify_texts: its
 * function_to_apply rules: softmax, sigmoid for multi-label or one-output models, none for
 * regression); with --top-k K also "labels": the K best, best first. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

typedef struct classify_state {
    int32_t top_k;       /* 0: default (1), -1: all */
    int function;        /* an lm_score_function */
    lm_label_score *res; /* [n * k] of the last call */
    size_t cap, k;
} classify_state;

static const tool_option options[] = {
    {"--top-k", "K",
     "the K best labels, best first, in \"labels\": 1 to 2147483647 or -1 "
     "(or 'all') for every label (default 1: only the best, no \"labels\")"},
    {"--function-to-apply", "FN",
     "none|sigmoid|softmax: the score function (default: as the pipeline: "
     "sigmoid for multi-label and one-output models, none for regression, "
     "else softmax)"},
    {NULL, NULL, NULL},
};

/* --top-k: -1 or "all", or 1 and up (0 would silently mean the default). */
static int parse_top_k(const tool_command *cmd, const char *value, int32_t *out) {
    long long v;
    if (strcmp(value, "all") == 0) {
        *out = -1;
        return 0;
    }
    if (tool_parse_int(cmd, "--top-k", value, -1, INT32_MAX, &v) != 0) {
        return 2;
    }
    if (v == 0) {
        return tool_usage_error(cmd, "--top-k must be -1 (all) or between 1 and %d (got 0)",
                                INT32_MAX);
    }
    *out = (int32_t)v;
    return 0;
}

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const fns[] = {"none", "sigmoid", "softmax", NULL};
    static const int values[] = {LM_SCORE_NONE, LM_SCORE_SIGMOID, LM_SCORE_SOFTMAX};
    classify_state *s = state;
    int v;
    if (index == 0) {
        return parse_top_k(cmd, value, &s->top_k);
    }
    if (tool_parse_choice(cmd, "--function-to-apply", value, fns, &v) != 0) {
        return 2;
    }
    s->function = values[v];
    return 0;
}

static const tool_command classify_cmd = {
    "classify", "--model DIR [OPTIONS]",
    "Reads one text per line (--pairs: text<TAB>pair) and writes\n"
    "{\"label\":\"...\",\"label_id\":k,\"score\":p} per line, as the text-classification\n"
    "pipeline. A bad line gives {\"error\":...,\"line\":N} and exit status 1.\n",
    TOOL_RUN | TOOL_PAIRS, options, handle,
};

static lm_status compute(tool_ctx *c, void *st, size_t n, const char *const *a, const size_t *alen,
                         const char *const *b, const size_t *blen) {
    classify_state *s = st;
    size_t L = lm_model_num_labels(c->model), k, need;
    lm_status r;
    k = s->top_k < 0 || (size_t)s->top_k > L ? L : (size_t)(s->top_k > 0 ? s->top_k : 1);
    need = n * k;
    for (;;) { /* a second pass only if the library wants more room than k per text */
        if (tool_reserve((void **)&s->res, &s->cap, need, sizeof *s->res) != LM_OK) {
            return LM_ERR_NOMEM;
        }
        r = lm_classify_texts(c->model, n, a, alen, b, blen, &c->to, s->res, s->cap, &s->k);
        if (r != LM_ERR_BUFFER_TOO_SMALL || n * s->k <= need) {
            return r;
        }
        need = n * s->k;
    }
}

static void put_label(tool_ctx *c, const lm_label_score *x) {
    const char *name = lm_model_label_name(c->model, (size_t)x->label);
    fputs("\"label\":", c->out.f);
    tool_json_string(c->out.f, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
    fprintf(c->out.f, ",\"label_id\":%d,\"score\":", (int)x->label);
    tool_json_float(c->out.f, x->score, 7);
}

static void write_line(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                       size_t blen) {
    classify_state *s = st;
    const lm_label_score *x = s->res + i * s->k;
    size_t j;
    (void)a, (void)alen, (void)b, (void)blen;
    fputc('{', c->out.f);
    if (s->k > 0) {
        put_label(c, &x[0]);
    }
    if (s->k > 1 || (s->top_k != 0 && s->top_k != 1)) {
        fputs(s->k > 0 ? ",\"labels\":[" : "\"labels\":[", c->out.f);
        for (j = 0; j < s->k; j++) {
            fputs(j ? ",{" : "{", c->out.f);
            put_label(c, &x[j]);
            fputc('}', c->out.f);
        }
        fputc(']', c->out.f);
    }
    fputs("}\n", c->out.f);
}

int cmd_classify(int argc, char **argv) {
    tool_ctx c;
    classify_state s;
    tool_task t;
    int code, ok;
    memset(&s, 0, sizeof s);
    s.function = LM_SCORE_DEFAULT;
    tool_ctx_init(&c, &classify_cmd);
    if ((code = tool_parse_args(&classify_cmd, &c.o, argc, argv, &s)) >= 0) {
        return code;
    }
    code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_SEQUENCE_CLASSIFICATION, 1);
    if (code != 0) {
        tool_finish(&c, 0);
        return code;
    }
    c.to.top_k = s.top_k;
    c.to.function_to_apply = s.function;
    memset(&t, 0, sizeof t);
    t.compute = compute;
    t.write = write_line;
    t.state = &s;
    t.tab_error = c.o.pairs ? "no TAB between the text and its pair" : NULL;
    ok = tool_run(&c, &t) == 0;
    free(s.res);
    return tool_finish(&c, ok);
}
