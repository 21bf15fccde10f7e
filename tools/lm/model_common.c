/* Shared helpers of the model subcommands (see model_common.h). */
#define _POSIX_C_SOURCE 200809L
#include "model_common.h"

#include <stdlib.h>
#include <string.h>

void tool_ctx_init(tool_ctx *c, const tool_command *cmd) {
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    lm_text_options_init(&c->to, sizeof c->to);
}

static void log_to_stderr(lm_log_level level, const char *message, void *user_data) {
    const char *kind = level == LM_LOG_ERROR ? "error: " : level == LM_LOG_WARN ? "warning: " : "";
    fprintf(stderr, "lm %s: %s%s\n", (const char *)user_data, kind, message);
}

void tool_log_to_stderr(const tool_command *cmd, int verbose) {
    lm_set_log_callback(log_to_stderr, verbose ? LM_LOG_INFO : LM_LOG_WARN, (void *)cmd->name);
}

const char *tool_head_name(lm_head h) {
    switch (h) {
    case LM_HEAD_SEQUENCE_CLASSIFICATION: return "sequence-classification";
    case LM_HEAD_TOKEN_CLASSIFICATION: return "token-classification";
    case LM_HEAD_QUESTION_ANSWERING: return "question-answering";
    case LM_HEAD_MASKED_LM: return "masked-lm";
    default: return "base";
    }
}

int tool_start(tool_ctx *c, int head, int need, int text) {
    const char *name = c->cmd->name, *dir = c->o.model_dir;
    lm_model_options mo;
    lm_status s;
    size_t limit;
    tool_log_to_stderr(c->cmd, c->o.verbose);
    if (dir == NULL) {
        return tool_usage_error(c->cmd, "--model DIR is required");
    }
    lm_model_options_init(&mo, sizeof mo);
    mo.threads = c->o.threads;
    mo.head = head;
    s = lm_model_load(dir, &mo, &c->model);
    if (s != LM_OK) {
        fprintf(stderr, "lm %s: cannot load the model: %s\n", name, lm_last_error());
        return 1;
    }
    if (need != LM_HEAD_AUTO && (int)lm_model_head(c->model) != need) {
        fprintf(stderr, "lm %s: %s is a %s model, not a %s one\n", name, dir,
                tool_head_name(lm_model_head(c->model)), tool_head_name((lm_head)need));
        return 1;
    }
    c->tok = lm_model_tokenizer(c->model);
    if (c->tok == NULL && text) {
        fprintf(stderr, "lm %s: %s has no tokenizer (vocab.txt or tokenizer.json)\n", name, dir);
        return 1;
    }
    limit = lm_model_max_length(c->model);
    if (c->o.max_length != 0 &&
        ((size_t)c->o.max_length > limit || c->o.max_length < TOOL_MIN_MAX_LENGTH)) {
        return tool_usage_error(c->cmd,
                                "--max-length must be 0 (the model's limit) or between %d and %zu "
                                "(the model's positions) (got %d)",
                                TOOL_MIN_MAX_LENGTH, limit, (int)c->o.max_length);
    }
    if (c->o.batch_size == 0) {
        c->o.batch_size = TOOL_DEFAULT_BATCH;
    }
    c->to.max_length = c->o.max_length;
    c->to.batch_size = c->o.batch_size;
    c->to.replace_invalid_utf8 = c->o.replace_invalid_utf8;
    if (c->o.verbose) {
        fprintf(stderr, "lm %s: %s\n", name, lm_blas_info());
    }
    if ((c->cmd->common & TOOL_INPUT) && tool_input_open(&c->in, name, c->o.input) != 0) {
        return 1;
    }
    if ((c->cmd->common & TOOL_OUTPUT) && tool_output_open(&c->out, name, c->o.output) != 0) {
        return 1;
    }
    return 0;
}

int tool_finish(tool_ctx *c, int ok) {
    int rc = ok ? 0 : 1;
    if (tool_output_close(&c->out, ok) != 0) {
        rc = 1;
    }
    if (c->bad_lines) {
        rc = 1;
    }
    tool_input_close(&c->in);
    lm_model_free(c->model);
    c->model = NULL;
    c->tok = NULL;
    return rc;
}

lm_status tool_reserve(void **buf, size_t *cap, size_t n, size_t size) {
    void *p;
    size_t want = *cap ? *cap : 16;
    if (n <= *cap) {
        return LM_OK;
    }
    while (want < n) {
        want *= 2;
    }
    if (size != 0 && want > (size_t)-1 / size) {
        return LM_ERR_NOMEM;
    }
    p = realloc(*buf, want * size);
    if (p == NULL) {
        return LM_ERR_NOMEM;
    }
    *buf = p;
    *cap = want;
    return LM_OK;
}

/* A failure that belongs to one input (the others may be fine): the inputs are then run one by
 * one. Read at once after the call: an invalid option is also LM_ERR_INVALID_ARGUMENT, told
 * apart by its message, which names the lm_text_options field. */
static int per_input(lm_status s) {
    return (s == LM_ERR_UTF8 || s == LM_ERR_INVALID_ARGUMENT || s == LM_ERR_RANGE) &&
           strncmp(lm_last_error(), "lm_text_options", 15) != 0;
}

/* The library names an input by its index in the call ("text 0: invalid UTF-8 at ..."); the
 * tool's calls that fail for one input hold only that input, so the line is named instead:
 * "line 3: invalid UTF-8 at ...", "context of line 3: ...". */
static void input_message(char *buf, size_t size, const char *msg, uint64_t line) {
    size_t w = 0;
    const char *q;
    while (msg[w] >= 'a' && msg[w] <= 'z') {
        w++;
    }
    q = msg + w + 1;
    if (w > 0 && msg[w] == ' ' && *q >= '0' && *q <= '9') {
        while (*q >= '0' && *q <= '9') {
            q++;
        }
        if (*q == ':' || *q == ' ' || *q == '\0') {
            if (w == 4 && strncmp(msg, "text", 4) == 0) {
                snprintf(buf, size, "line %llu%s", (unsigned long long)line, q);
            } else {
                snprintf(buf, size, "%.*s of line %llu%s", (int)w, msg, (unsigned long long)line,
                         q);
            }
            return;
        }
    }
    snprintf(buf, size, "%s", msg);
}

static void write_error(tool_ctx *c, const tool_task *t, const char *msg, uint64_t line) {
    c->bad_lines = 1;
    if (t->write_error != NULL) {
        t->write_error(c, t->state, msg, line);
    } else {
        tool_json_error(c->out.f, msg, line);
    }
}

static int fatal(tool_ctx *c, lm_status s) {
    fprintf(stderr, "lm %s: %s: %s\n", c->cmd->name, lm_status_description(s), lm_last_error());
    return 1;
}

/* The split lines of one batch. */
typedef struct batch_view {
    const char **a, **b;
    size_t *alen, *blen, *row; /* row: the line of each valid input */
    size_t cap_a, cap_b, cap_alen, cap_blen, cap_row;
} batch_view;

static int run_batch(tool_ctx *c, const tool_task *t, const tool_lines *l, batch_view *v) {
    size_t i, nv = 0, k;
    int pairs = t->tab_error != NULL;
    const char *const *bb;
    const size_t *bl;
    lm_status s;
    if (tool_reserve((void **)&v->a, &v->cap_a, l->n, sizeof *v->a) != LM_OK ||
        tool_reserve((void **)&v->b, &v->cap_b, l->n, sizeof *v->b) != LM_OK ||
        tool_reserve((void **)&v->alen, &v->cap_alen, l->n, sizeof *v->alen) != LM_OK ||
        tool_reserve((void **)&v->blen, &v->cap_blen, l->n, sizeof *v->blen) != LM_OK ||
        tool_reserve((void **)&v->row, &v->cap_row, l->n, sizeof *v->row) != LM_OK) {
        fprintf(stderr, "lm %s: out of memory\n", c->cmd->name);
        return 1;
    }
    for (i = 0; i < l->n; i++) {
        const char *tab = pairs ? memchr(l->text[i], '\t', l->len[i]) : NULL;
        if (pairs && tab == NULL) {
            continue;
        }
        v->row[nv] = i;
        v->a[nv] = l->text[i];
        v->alen[nv] = pairs ? (size_t)(tab - l->text[i]) : l->len[i];
        v->b[nv] = pairs ? tab + 1 : NULL;
        v->blen[nv] = pairs ? l->len[i] - v->alen[nv] - 1 : 0;
        nv++;
    }
    bb = pairs ? v->b : NULL;
    bl = pairs ? v->blen : NULL;
    c->to.batch_size = (int32_t)(nv < (size_t)c->o.batch_size ? (nv > 0 ? nv : 1)
                                                                : (size_t)c->o.batch_size);
    s = nv > 0 ? t->compute(c, t->state, nv, v->a, v->alen, bb, bl) : LM_OK;
    if (s != LM_OK && !per_input(s)) {
        return fatal(c, s);
    }
    for (i = 0, k = 0; i < l->n; i++) {
        if (k >= nv || v->row[k] != i) {
            write_error(c, t, t->tab_error, l->first + i);
        } else if (s == LM_OK) {
            t->write(c, t->state, k, v->a[k], v->alen[k], pairs ? v->b[k] : NULL, v->blen[k]);
            k++;
        } else {
            lm_status s1 = s;
            if (nv > 1) { /* one of them is bad: find which, answering the others */
                c->to.batch_size = 1;
                s1 = t->compute(c, t->state, 1, v->a + k, v->alen + k, pairs ? bb + k : NULL,
                                pairs ? bl + k : NULL);
            }
            if (s1 == LM_OK) {
                t->write(c, t->state, 0, v->a[k], v->alen[k], pairs ? v->b[k] : NULL, v->blen[k]);
            } else if (per_input(s1)) {
                char msg[1024];
                input_message(msg, sizeof msg, lm_last_error(), l->first + i);
                write_error(c, t, msg, l->first + i);
            } else {
                return fatal(c, s1);
            }
            k++;
        }
        if (tool_output_line(&c->out) != 0) {
            return 1;
        }
    }
    return 0;
}

int tool_run(tool_ctx *c, const tool_task *t) {
    tool_lines l;
    batch_view v;
    int rc = 0;
    memset(&l, 0, sizeof l);
    memset(&v, 0, sizeof v);
    for (;;) {
        long n = tool_input_batch(&c->in, (size_t)c->o.batch_size, &l);
        if (n <= 0) {
            rc = n < 0;
            break;
        }
        if ((rc = run_batch(c, t, &l, &v)) != 0) {
            break;
        }
    }
    tool_lines_free(&l);
    free(v.a);
    free(v.b);
    free(v.alen);
    free(v.blen);
    free(v.row);
    return rc;
}
