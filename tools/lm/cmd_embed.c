/* lm embed: one text per line -> its sentence embedding (lm_embed_texts: sentence-transformers'
 * encode: the folder's max_seq_length, pooling and normalisation unless overridden), as JSON
 * lines {"embedding":[...]}, TSV rows, or a NumPy .npy float32 array [n, C] (--output). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

enum { FORMAT_JSONL, FORMAT_TSV, FORMAT_NPY };

/* The .npy header takes this many bytes (a multiple of 64), written first with 0 rows and again
 * at the end with the count: the shape field is padded to a fixed width. */
#define NPY_HEADER 128

typedef struct embed_state {
    int format;
    int pooling, normalize;
    size_t C;      /* hidden size */
    float *emb;    /* [n, C] of the last call */
    float *nan_row; /* [C] NaN: the row of a bad line (tsv, npy) */
    size_t cap;    /* floats in emb */
    uint64_t rows; /* rows written */
} embed_state;

static const tool_option options[] = {
    {"--format", "FORMAT",
     "jsonl (default): {\"embedding\":[...]} per line; tsv: one row of "
     "numbers per line; npy: a NumPy float32 array [lines, size] (needs --output)"},
    {"--pooling", "mean|cls", "pooling of the token states (default: the folder's, else mean)"},
    {"--normalize", NULL, "L2-normalise the embeddings"},
    {"--no-normalize", NULL, "do not (default: as the folder's sentence-transformers modules)"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const formats[] = {"jsonl", "tsv", "npy", NULL};
    static const char *const poolings[] = {"mean", "cls", NULL};
    embed_state *e = state;
    int v;
    switch (index) {
    case 0: return tool_parse_choice(cmd, "--format", value, formats, &e->format);
    case 1:
        if (tool_parse_choice(cmd, "--pooling", value, poolings, &v) != 0) {
            return 2;
        }
        e->pooling = v == 0 ? LM_POOLING_MEAN : LM_POOLING_CLS;
        return 0;
    case 2: e->normalize = 1; return 0;
    default: e->normalize = 0; return 0;
    }
}

static const tool_command embed_cmd = {
    "embed", "--model DIR [OPTIONS]",
    "Reads one text per line and writes its sentence embedding, as the\n"
    "sentence-transformers encode (the folder's max_seq_length, pooling and\n"
    "normalisation). A bad line gives {\"error\":...,\"line\":N} (tsv, npy: a row of\n"
    "NaN, the error on stderr) and exit status 1.\n",
    TOOL_RUN, options, handle,
};

static int little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* The .npy format 1.0 header: magic, version 1.0, the dictionary's length (little-endian
 * uint16), the dictionary padded with spaces and ended by '\n'. */
static void npy_header(FILE *f, uint64_t rows, size_t C) {
    char h[NPY_HEADER + 1];
    int len;
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)((NPY_HEADER - 10) & 0xFF);
    h[9] = (char)((NPY_HEADER - 10) >> 8);
    len = snprintf(h + 10, sizeof h - 10, "{'descr': '%cf4', 'fortran_order': False, "
                                          "'shape': (%llu, %zu), }",
                   little_endian() ? '<' : '>', (unsigned long long)rows, C);
    memset(h + 10 + len, ' ', NPY_HEADER - 10 - (size_t)len);
    h[NPY_HEADER - 1] = '\n';
    fwrite(h, 1, NPY_HEADER, f);
}

static lm_status compute(tool_ctx *c, void *st, size_t n, const char *const *a, const size_t *alen,
                         const char *const *b, const size_t *blen) {
    embed_state *e = st;
    (void)b, (void)blen;
    if (tool_reserve((void **)&e->emb, &e->cap, n * e->C, sizeof *e->emb) != LM_OK) {
        return LM_ERR_NOMEM;
    }
    return lm_embed_texts(c->model, n, a, alen, &c->to, e->emb, n * e->C);
}

static void write_row(tool_ctx *c, embed_state *e, const float *x) {
    FILE *f = c->out.f;
    size_t k;
    e->rows++;
    if (e->format == FORMAT_NPY) {
        fwrite(x, sizeof *x, e->C, f);
        return;
    }
    fputs(e->format == FORMAT_JSONL ? "{\"embedding\":[" : "", f);
    for (k = 0; k < e->C; k++) {
        if (k > 0) {
            fputc(e->format == FORMAT_JSONL ? ',' : '\t', f);
        }
        if (e->format == FORMAT_JSONL) {
            tool_json_float(f, x[k], 8);
        } else {
            fprintf(f, "%.8g", (double)x[k]);
        }
    }
    fputs(e->format == FORMAT_JSONL ? "]}\n" : "\n", f);
}

static void write_line(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                  size_t blen) {
    embed_state *e = st;
    (void)a, (void)alen, (void)b, (void)blen;
    write_row(c, e, e->emb + i * e->C);
}

static void write_error(tool_ctx *c, void *st, const char *msg, uint64_t line) {
    embed_state *e = st;
    if (e->format == FORMAT_JSONL) {
        tool_json_error(c->out.f, msg, line);
        return;
    }
    fprintf(stderr, "lm embed: line %llu: %s\n", (unsigned long long)line, msg);
    write_row(c, e, e->nan_row);
}

int cmd_embed(int argc, char **argv) {
    tool_ctx c;
    embed_state e;
    tool_task t;
    int code, ok;
    size_t k;
    memset(&e, 0, sizeof e);
    e.normalize = -1;
    tool_ctx_init(&c, &embed_cmd);
    if ((code = tool_parse_args(&embed_cmd, &c.o, argc, argv, &e)) >= 0) {
        return code;
    }
    if (e.format == FORMAT_NPY && (c.o.output == NULL || strcmp(c.o.output, "-") == 0)) {
        return tool_usage_error(&embed_cmd, "--format npy needs --output FILE (the row count is "
                                            "written at the end)");
    }
    if ((code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_AUTO, 1)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    e.C = lm_model_hidden_size(c.model);
    c.to.pooling = e.pooling;
    c.to.normalize = e.normalize;
    e.nan_row = malloc(e.C * sizeof *e.nan_row);
    if (e.nan_row == NULL) {
        fprintf(stderr, "lm embed: out of memory\n");
        return tool_finish(&c, 0);
    }
    for (k = 0; k < e.C; k++) {
        e.nan_row[k] = (float)NAN;
    }
    if (e.format == FORMAT_NPY) {
        npy_header(c.out.f, 0, e.C);
    }
    memset(&t, 0, sizeof t);
    t.compute = compute;
    t.write = write_line;
    t.write_error = write_error;
    t.state = &e;
    ok = tool_run(&c, &t) == 0;
    if (ok && e.format == FORMAT_NPY) {
        ok = tool_output_rewind(&c.out) == 0;
        if (ok) {
            npy_header(c.out.f, e.rows, e.C);
        }
    }
    free(e.emb);
    free(e.nan_row);
    return tool_finish(&c, ok);
}
