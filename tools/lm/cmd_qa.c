/* lm qa: question<TAB>context per line -> {"answer":"...","start":s,"end":e,"score":p} per line,
 * as the question-answering pipeline (lm_answer_questions: a context of any length read in
 * overlapping windows; character offsets into the context, end exclusive); with --top-k K also
 * "answers": the K best, best first (fewer when the context has fewer candidate spans; none at
 * all: "answer" null). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

typedef struct qa_state {
    int32_t top_k, doc_stride, max_answer, max_question, impossible;
    lm_answer *res; /* [n * k] of the last call */
    size_t cap, k;
} qa_state;

static const tool_option options[] = {
    {"--top-k", "K", "answers per question, 1 to 2147483647 (default 1: no \"answers\")"},
    {"--doc-stride", "N",
     "tokens shared by consecutive windows of a long context, 1 to 2147483647 (default: "
     "half of --max-length, at most 128; less when a long question leaves less room)"},
    {"--max-answer-length", "N", "longest answer in tokens, 1 to 2147483647 (default 15)"},
    {"--max-question-length", "N", "question tokens kept, 1 to 2147483647 (default 64)"},
    {"--handle-impossible-answer", NULL, "let the empty answer win (default: never)"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    qa_state *s = state;
    int32_t *dst[] = {&s->top_k, &s->doc_stride, &s->max_answer, &s->max_question};
    long long v;
    if (index == 4) {
        s->impossible = 1;
        return 0;
    }
    if (tool_parse_int(cmd, options[index].name, value, 1, INT32_MAX, &v) != 0) {
        return 2;
    }
    *dst[index] = (int32_t)v;
    return 0;
}

static const tool_command qa_cmd = {
    "qa", "--model DIR [OPTIONS]",
    "Reads question<TAB>context per line and writes\n"
    "{\"answer\":\"...\",\"start\":s,\"end\":e,\"score\":p} per line (character offsets\n"
    "into the context, end exclusive), as the question-answering pipeline. A\n"
    "context longer than --max-length (default: the model's limit, at most 384) is\n"
    "read in overlapping windows. A bad line gives {\"error\":...,\"line\":N} and exit\n"
    "status 1.\n",
    TOOL_RUN, options, handle,
};

static lm_status compute(tool_ctx *c, void *st, size_t n, const char *const *a, const size_t *alen,
                         const char *const *b, const size_t *blen) {
    qa_state *s = st;
    s->k = s->top_k > 0 ? (size_t)s->top_k : 1;
    if (tool_reserve((void **)&s->res, &s->cap, n * s->k, sizeof *s->res) != LM_OK) {
        return LM_ERR_NOMEM;
    }
    return lm_answer_questions(c->model, n, a, alen, b, blen, &c->to, s->res, n * s->k);
}

/* One answer's fields; a missing one (the context has fewer candidate spans) has null ones. */
static void put_answer(FILE *f, const lm_answer *x, const char *ctx, size_t len) {
    size_t b0 = x->byte_start >= 0 && (size_t)x->byte_start <= len ? (size_t)x->byte_start : 0;
    size_t b1 = x->byte_end >= 0 && (size_t)x->byte_end <= len ? (size_t)x->byte_end : b0;
    if (x->start < 0) {
        fputs("\"answer\":null,\"start\":null,\"end\":null,\"score\":0", f);
        return;
    }
    fputs("\"answer\":", f);
    tool_json_string(f, ctx + b0, b1 > b0 ? b1 - b0 : 0);
    fprintf(f, ",\"start\":%lld,\"end\":%lld,\"score\":", (long long)x->start,
            (long long)x->end);
    tool_json_float(f, x->score, 7);
}

static void write_line(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                       size_t blen) {
    qa_state *s = st;
    const lm_answer *x = s->res + i * s->k;
    FILE *f = c->out.f;
    size_t j;
    (void)a, (void)alen;
    fputc('{', f);
    put_answer(f, &x[0], b, blen);
    if (s->top_k > 1) {
        fputs(",\"answers\":[", f);
        for (j = 0; j < s->k && (j == 0 || x[j].start >= 0); j++) { /* the answers there are */
            fputs(j ? ",{" : "{", f);
            put_answer(f, &x[j], b, blen);
            fputc('}', f);
        }
        fputc(']', f);
    }
    fputs("}\n", f);
}

int cmd_qa(int argc, char **argv) {
    tool_ctx c;
    qa_state s;
    tool_task t;
    int code, ok;
    memset(&s, 0, sizeof s);
    tool_ctx_init(&c, &qa_cmd);
    if ((code = tool_parse_args(&qa_cmd, &c.o, argc, argv, &s)) >= 0) {
        return code;
    }
    if ((code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_QUESTION_ANSWERING, 1)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    c.to.top_k = s.top_k;
    c.to.doc_stride = s.doc_stride;
    c.to.max_answer_length = s.max_answer;
    c.to.max_question_length = s.max_question;
    c.to.handle_impossible_answer = s.impossible;
    memset(&t, 0, sizeof t);
    t.compute = compute;
    t.write = write_line;
    t.state = &s;
    t.tab_error = "no TAB between the question and the context";
    ok = tool_run(&c, &t) == 0;
    free(s.res);
    return tool_finish(&c, ok);
}
