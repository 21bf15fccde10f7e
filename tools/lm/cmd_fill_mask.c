/* lm fill-mask: one text with [MASK] tokens per line -> {"predictions":[{"token":"...","id":n,
 * "score":p},...]} per line (lm_fill_mask: the fill-mask pipeline's top-k candidates, softmax
 * probabilities, best first); with several masks, "predictions" holds one such list per mask,
 * in order. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

typedef struct fill_state {
    int32_t top_k;          /* 0: default (5) */
    const char *mask;       /* the mask token's text */
    lm_token_score *res;    /* results of the last call */
    size_t cap, n_res;
    int32_t *masks;         /* [n] masks per text */
    size_t *first;          /* [n] index of text i's first result */
    size_t cap_masks, cap_first, per_mask;
} fill_state;

static const tool_option options[] = {
    {"--top-k", "K", "candidates per mask, 1 to 2147483647 (default 5)"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    fill_state *s = state;
    long long v;
    (void)index;
    if (tool_parse_int(cmd, "--top-k", value, 1, INT32_MAX, &v) != 0) {
        return 2;
    }
    s->top_k = (int32_t)v;
    return 0;
}

static const tool_command fill_cmd = {
    "fill-mask", "--model DIR [OPTIONS]",
    "Reads one text with one or more [MASK] tokens per line and writes\n"
    "{\"predictions\":[{\"token\":\"...\",\"id\":n,\"score\":p},...]} per line (several\n"
    "masks: one list per mask), as the fill-mask pipeline. A line without a mask\n"
    "or otherwise bad gives {\"error\":...,\"line\":N} and exit status 1.\n",
    TOOL_RUN, options, handle,
};

/* Occurrences of the mask token's text: what the results need, unless truncation drops some. */
static size_t count_masks(const char *mask, const char *s, size_t len) {
    size_t m = strlen(mask), i, n = 0;
    for (i = 0; m > 0 && i + m <= len; i++) {
        if (memcmp(s + i, mask, m) == 0) {
            n++;
            i += m - 1;
        }
    }
    return n;
}

static lm_status compute(tool_ctx *c, void *st, size_t n, const char *const *a, const size_t *alen,
                         const char *const *b, const size_t *blen) {
    fill_state *s = st;
    size_t V = lm_model_vocab_size(c->model), k, need = 0, i, masks = 0;
    lm_status r;
    (void)b, (void)blen;
    k = s->top_k <= 0 ? 5 : (size_t)s->top_k;
    k = k < V ? k : V;
    for (i = 0; i < n; i++) {
        need += count_masks(s->mask, a[i], alen[i]) * k;
    }
    if (tool_reserve((void **)&s->masks, &s->cap_masks, n, sizeof *s->masks) != LM_OK ||
        tool_reserve((void **)&s->first, &s->cap_first, n, sizeof *s->first) != LM_OK) {
        return LM_ERR_NOMEM;
    }
    for (;;) { /* a second pass only if the estimate was short */
        if (tool_reserve((void **)&s->res, &s->cap, need > 0 ? need : 1, sizeof *s->res) !=
            LM_OK) {
            return LM_ERR_NOMEM;
        }
        r = lm_fill_mask(c->model, n, a, alen, &c->to, s->res, s->cap, &s->n_res, s->masks);
        if (r != LM_ERR_BUFFER_TOO_SMALL || s->n_res <= s->cap) {
            break;
        }
        need = s->n_res;
    }
    if (r != LM_OK) {
        return r;
    }
    for (i = 0; i < n; i++) {
        masks += (size_t)s->masks[i];
    }
    s->per_mask = masks > 0 ? s->n_res / masks : 0;
    for (i = 0, k = 0; i < n; i++) {
        s->first[i] = k;
        k += (size_t)s->masks[i] * s->per_mask;
    }
    return LM_OK;
}

static void write_line(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                       size_t blen) {
    fill_state *s = st;
    FILE *f = c->out.f;
    size_t m, j, nm = (size_t)s->masks[i];
    (void)a, (void)alen, (void)b, (void)blen;
    fputs(nm > 1 ? "{\"predictions\":[" : "{\"predictions\":", f);
    for (m = 0; m < nm; m++) {
        const lm_token_score *x = s->res + s->first[i] + m * s->per_mask;
        fputs(m ? ",[" : "[", f);
        for (j = 0; j < s->per_mask; j++) {
            const char *t = lm_tokenizer_id_to_token(c->tok, x[j].token_id);
            fputs(j ? ",{\"token\":" : "{\"token\":", f);
            tool_json_string(f, t != NULL ? t : "", t != NULL ? strlen(t) : 0);
            fprintf(f, ",\"id\":%d,\"score\":", (int)x[j].token_id);
            tool_json_float(f, x[j].score, 7);
            fputc('}', f);
        }
        fputc(']', f);
    }
    fputs(nm > 1 ? "]}\n" : "}\n", f);
}

int cmd_fill_mask(int argc, char **argv) {
    tool_ctx c;
    fill_state s;
    tool_task t;
    int code, ok;
    memset(&s, 0, sizeof s);
    tool_ctx_init(&c, &fill_cmd);
    if ((code = tool_parse_args(&fill_cmd, &c.o, argc, argv, &s)) >= 0) {
        return code;
    }
    if ((code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_MASKED_LM, 1)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    s.mask = lm_tokenizer_id_to_token(c.tok, lm_tokenizer_special_id(c.tok, LM_SPECIAL_MASK));
    s.mask = s.mask != NULL ? s.mask : "[MASK]";
    c.to.top_k = s.top_k;
    memset(&t, 0, sizeof t);
    t.compute = compute;
    t.write = write_line;
    t.state = &s;
    ok = tool_run(&c, &t) == 0;
    free(s.res);
    free(s.masks);
    free(s.first);
    return tool_finish(&c, ok);
}
