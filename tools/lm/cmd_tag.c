/* lm tag: one text per line -> {"entities":[{"entity":"B-PER","score":p,"index":t,"word":"...",
 * "start":s,"end":e},...]} per line, as the token-classification pipeline (lm_tag_texts: "O"
 * left out; with --aggregation, "entity_group" (the label without B-/I-) instead of "entity" and
 * no "index"). "word" is the span of the input text; start/end count characters. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

typedef struct tag_state {
    int aggregation;   /* an lm_aggregation */
    lm_entity *res;    /* of the last call, text order */
    size_t cap, n_res;
    size_t *first;     /* [n + 1] index of text i's first entity */
    size_t cap_first;
} tag_state;

static const tool_option options[] = {
    {"--aggregation", "HOW",
     "none|simple|first|average|max: the pipeline's aggregation_strategy "
     "(default none: one entity per token)"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const ways[] = {"none", "simple", "first", "average", "max", NULL};
    static const int values[] = {LM_AGGREGATE_NONE, LM_AGGREGATE_SIMPLE, LM_AGGREGATE_FIRST,
                                 LM_AGGREGATE_AVERAGE, LM_AGGREGATE_MAX};
    tag_state *s = state;
    int v;
    (void)index;
    if (tool_parse_choice(cmd, "--aggregation", value, ways, &v) != 0) {
        return 2;
    }
    s->aggregation = values[v];
    return 0;
}

static const tool_command tag_cmd = {
    "tag", "--model DIR [OPTIONS]",
    "Reads one text per line and writes its entities (token classification, label\n"
    "\"O\" left out) as {\"entities\":[{\"entity\":\"...\",\"score\":p,\"index\":t,\n"
    "\"word\":\"...\",\"start\":s,\"end\":e},...]} per line, as the token-classification\n"
    "pipeline; with --aggregation, \"entity_group\" and no \"index\". A bad line gives\n"
    "{\"error\":...,\"line\":N} and exit status 1.\n",
    TOOL_RUN, options, handle,
};

static lm_status compute(tool_ctx *c, void *st, size_t n, const char *const *a, const size_t *alen,
                         const char *const *b, const size_t *blen) {
    tag_state *s = st;
    size_t need = 0, i, limit = c->to.max_length > 0 ? (size_t)c->to.max_length
                                                      : lm_model_max_length(c->model);
    lm_status r;
    (void)b, (void)blen;
    for (i = 0; i < n; i++) { /* at most one entity per token, one token per byte */
        need += alen[i] < limit ? alen[i] : limit;
    }
    if (tool_reserve((void **)&s->first, &s->cap_first, n + 1, sizeof *s->first) != LM_OK) {
        return LM_ERR_NOMEM;
    }
    for (;;) {
        if (tool_reserve((void **)&s->res, &s->cap, need > 0 ? need : 1, sizeof *s->res) != LM_OK) {
            return LM_ERR_NOMEM;
        }
        r = lm_tag_texts(c->model, n, a, alen, &c->to, s->res, s->cap, &s->n_res);
        if (r != LM_ERR_BUFFER_TOO_SMALL || s->n_res <= s->cap) {
            break;
        }
        need = s->n_res;
    }
    if (r != LM_OK) {
        return r;
    }
    for (i = 0; i <= n; i++) {
        s->first[i] = s->n_res;
    }
    for (i = s->n_res; i-- > 0;) { /* in text order: the first entity of each text */
        if (s->res[i].text >= 0 && (size_t)s->res[i].text < n) {
            s->first[s->res[i].text] = i;
        }
    }
    for (i = n; i-- > 0;) { /* texts without entities start where the next one does */
        if (s->first[i] > s->first[i + 1]) {
            s->first[i] = s->first[i + 1];
        }
    }
    return LM_OK;
}

static void write_line(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                       size_t blen) {
    tag_state *s = st;
    FILE *f = c->out.f;
    size_t j;
    (void)b, (void)blen;
    fputs("{\"entities\":[", f);
    for (j = s->first[i]; j < s->first[i + 1]; j++) {
        const lm_entity *x = &s->res[j];
        const char *name = lm_model_label_name(c->model, (size_t)x->label);
        size_t nlen = name != NULL ? strlen(name) : 0;
        size_t b0 = x->byte_start >= 0 && (size_t)x->byte_start <= alen ? (size_t)x->byte_start : 0;
        size_t b1 = x->byte_end >= 0 && (size_t)x->byte_end <= alen ? (size_t)x->byte_end : b0;
        name = name != NULL ? name : "";
        if (s->aggregation != LM_AGGREGATE_NONE) {
            if (nlen > 2 && (name[0] == 'B' || name[0] == 'I') && name[1] == '-') {
                name += 2, nlen -= 2;
            }
            fputs(j > s->first[i] ? ",{\"entity_group\":" : "{\"entity_group\":", f);
        } else {
            fputs(j > s->first[i] ? ",{\"entity\":" : "{\"entity\":", f);
        }
        tool_json_string(f, name, nlen);
        fputs(",\"score\":", f);
        tool_json_float(f, x->score, 7);
        if (s->aggregation == LM_AGGREGATE_NONE) {
            fprintf(f, ",\"index\":%d", (int)x->token);
        }
        fputs(",\"word\":", f);
        tool_json_string(f, a + b0, b1 > b0 ? b1 - b0 : 0);
        fprintf(f, ",\"start\":%lld,\"end\":%lld}", (long long)x->start, (long long)x->end);
    }
    fputs("]}\n", f);
}

int cmd_tag(int argc, char **argv) {
    tool_ctx c;
    tag_state s;
    tool_task t;
    int code, ok;
    memset(&s, 0, sizeof s);
    tool_ctx_init(&c, &tag_cmd);
    if ((code = tool_parse_args(&tag_cmd, &c.o, argc, argv, &s)) >= 0) {
        return code;
    }
    if ((code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_TOKEN_CLASSIFICATION, 1)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    c.to.aggregation = s.aggregation;
    memset(&t, 0, sizeof t);
    t.compute = compute;
    t.write = write_line;
    t.state = &s;
    ok = tool_run(&c, &t) == 0;
    free(s.res);
    free(s.first);
    return tool_finish(&c, ok);
}
