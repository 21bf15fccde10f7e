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
    mo.int8 = c->o.int8;
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
        fprintf(stderr, "lm %s: kernels: %s; BLAS (reference path): %s\n", name,
                lm_kernel_info(), lm_blas_info());
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

/* A failure that belongs to one input (the others may be fine): the inputs are then run in
 * halves. Read at once after the call: an invalid option is also LM_ERR_INVALID_ARGUMENT, told
 * apart by its message, which names the lm_text_options field ("lm_tag_texts: lm_text_options.
 * aggregation is 9 ..."). */
static int per_input(lm_status s) {
    return (s == LM_ERR_UTF8 || s == LM_ERR_INVALID_ARGUMENT || s == LM_ERR_RANGE) &&
           strstr(lm_last_error(), "lm_text_options") == NULL;
}

/* The library names the function and the input by its index in the call ("lm_embed_texts: text
 * 0: invalid UTF-8 at ..."); the tool's calls that fail for one input hold only that input, so
 * the line is named instead: "line 3: invalid UTF-8 at ...", "context of line 3 is empty". */
static void input_message(char *buf, size_t size, const char *msg, uint64_t line) {
    size_t w = 0;
    const char *q;
    if (strncmp(msg, "lm_", 3) == 0) {
        while (msg[w] == '_' || (msg[w] >= 'a' && msg[w] <= 'z')) {
            w++;
        }
        if (msg[w] == ':' && msg[w + 1] == ' ') {
            msg += w + 2;
        }
        w = 0;
    }
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

/* The lines of one batch, split into the inputs of the calls. */
typedef struct batch_view {
    const tool_task *t;
    const tool_lines *l;
    const char **a, **b;
    size_t *alen, *blen, *row; /* row: the line of each valid input */
    size_t cap_a, cap_b, cap_alen, cap_blen, cap_row;
    size_t next;               /* the next line to write */
    int pairs;
} batch_view;

/* Writes the lines before `row` not yet written: those without the TAB they need. */
static int write_skipped(tool_ctx *c, batch_view *v, size_t row) {
    for (; v->next < row; v->next++) {
        write_error(c, v->t, v->t->tab_error, v->l->first + v->next);
        if (tool_output_line(&c->out) != 0) {
            return 1;
        }
    }
    return 0;
}

/* Answers inputs [lo, hi) with one call and writes their lines; when an input is bad, halves
 * the range until the bad inputs stand alone, so that the others are still answered (in order).
 * `known`: the status of a call on this range already made (LM_OK: none made). Returns 0, or
 * 1 after a message. */
static int solve(tool_ctx *c, batch_view *v, size_t lo, size_t hi, lm_status known) {
    const tool_task *t = v->t;
    lm_status s = known;
    char msg[1024];
    size_t k, mid;
    if (s == LM_OK) {
        size_t n = hi - lo, batch = (size_t)c->o.batch_size;
        c->to.batch_size = (int32_t)(n < batch ? n : batch);
        s = t->compute(c, t->state, n, v->a + lo, v->alen + lo, v->pairs ? v->b + lo : NULL,
                       v->pairs ? v->blen + lo : NULL);
        if (s != LM_OK && !per_input(s)) {
            return fatal(c, s);
        }
        if (s == LM_OK) {
            for (k = lo; k < hi; k++) {
                if (write_skipped(c, v, v->row[k]) != 0) {
                    return 1;
                }
                t->write(c, t->state, k - lo, v->a[k], v->alen[k], v->b[k], v->blen[k]);
                v->next = v->row[k] + 1;
                if (tool_output_line(&c->out) != 0) {
                    return 1;
                }
            }
            return 0;
        }
    }
    if (hi - lo == 1) {
        input_message(msg, sizeof msg, lm_last_error(), v->l->first + v->row[lo]);
        if (write_skipped(c, v, v->row[lo]) != 0) {
            return 1;
        }
        write_error(c, t, msg, v->l->first + v->row[lo]);
        v->next = v->row[lo] + 1;
        return tool_output_line(&c->out);
    }
    mid = lo + (hi - lo) / 2;
    return solve(c, v, lo, mid, LM_OK) != 0 || solve(c, v, mid, hi, LM_OK) != 0;
}

static int run_batch(tool_ctx *c, const tool_task *t, const tool_lines *l, batch_view *v) {
    size_t i, nv = 0;
    v->t = t;
    v->l = l;
    v->next = 0;
    v->pairs = t->tab_error != NULL;
    if (tool_reserve((void **)&v->a, &v->cap_a, l->n, sizeof *v->a) != LM_OK ||
        tool_reserve((void **)&v->b, &v->cap_b, l->n, sizeof *v->b) != LM_OK ||
        tool_reserve((void **)&v->alen, &v->cap_alen, l->n, sizeof *v->alen) != LM_OK ||
        tool_reserve((void **)&v->blen, &v->cap_blen, l->n, sizeof *v->blen) != LM_OK ||
        tool_reserve((void **)&v->row, &v->cap_row, l->n, sizeof *v->row) != LM_OK) {
        fprintf(stderr, "lm %s: out of memory\n", c->cmd->name);
        return 1;
    }
    for (i = 0; i < l->n; i++) {
        const char *tab = v->pairs ? memchr(l->text[i], '\t', l->len[i]) : NULL;
        if (v->pairs && tab == NULL) {
            continue;
        }
        v->row[nv] = i;
        v->a[nv] = l->text[i];
        v->alen[nv] = v->pairs ? (size_t)(tab - l->text[i]) : l->len[i];
        v->b[nv] = v->pairs ? tab + 1 : NULL;
        v->blen[nv] = v->pairs ? l->len[i] - v->alen[nv] - 1 : 0;
        nv++;
    }
    if (nv > 0 && solve(c, v, 0, nv, LM_OK) != 0) {
        return 1;
    }
    return write_skipped(c, v, l->n);
}

int tool_run(tool_ctx *c, const tool_task *t) {
    tool_lines l;
    batch_view v;
    int rc = 0;
    size_t batch = (size_t)c->o.batch_size;
    size_t read_ahead = batch <= (size_t)-1 / TOOL_READ_AHEAD ? batch * TOOL_READ_AHEAD : batch;
    memset(&l, 0, sizeof l);
    memset(&v, 0, sizeof v);
    for (;;) {
        long n = tool_input_batch(&c->in, read_ahead, &l);
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
