/* Shared by the lm subcommands that run a model (embed, classify, fill-mask, qa, tag, info):
 * common options, loading model + tokenizer, reading stdin in batches, encoding a batch into
 * padded id arrays, and JSON output helpers. Uses only lm.h. */
#ifndef LM_TOOL_MODEL_COMMON_H
#define LM_TOOL_MODEL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lm.h"

typedef struct tool_opts {
    const char *name;      /* subcommand name, for messages */
    const char *model_dir; /* --model DIR */
    size_t max_length;     /* --max-length N (0 = the model's limit) */
    size_t batch_size;     /* --batch-size N (default 32) */
    int threads;           /* --threads N (0 = all cores) */
    int pairs;             /* --pairs: text<TAB>pair lines */
    int verbose;           /* --verbose */
} tool_opts;

/* Parses the common options at argv[*i]; returns 1 if it consumed it, 0 if it is not a common
 * option, -1 on a bad value (message printed). */
int tool_common_option(tool_opts *o, int argc, char **argv, int *i);
/* Parses a positive integer option value; returns 0 and prints on error. */
int tool_parse_size(const char *name, const char *opt, const char *value, size_t *out);
void tool_common_usage(FILE *out);

/* The loaded model and its tokenizer. */
typedef struct tool_ctx {
    tool_opts o;
    lm_model_t *model;
    lm_tokenizer_t *tok;
} tool_ctx;

/* A subcommand's own options: returns 1 when it consumed argv[*i] (and its value), 0 when the
 * option is not its own, -1 on a bad value (message printed). */
typedef int (*tool_option_fn)(tool_ctx *c, int argc, char **argv, int *i, void *state);

/* Parses the command line: the common options, then `extra` (may be NULL), --pairs when
 * allow_pairs, and --help/-h (prints usage to stdout). Returns -1 to go on, or the exit code:
 * 0 after --help, 2 for a bad or unknown option (message and usage printed to stderr). */
int tool_parse_args(tool_ctx *c, int argc, char **argv, void (*usage)(FILE *), int allow_pairs,
                    tool_option_fn extra, void *state);

/* Loads model and tokenizer from o->model_dir and checks that the model has `required_head`
 * (LM_HEAD_AUTO: any), named `architecture` in the message; prints why on failure and returns 1,
 * else 0. */
int tool_load(tool_ctx *c, int need_tokenizer, int required_head, const char *architecture);
void tool_free(tool_ctx *c);

/* A batch of input lines and their padded encodings. */
typedef struct tool_batch {
    size_t n;            /* lines in the batch */
    char **lines;        /* [n] lines without the newline (owned) */
    size_t *lens;        /* [n] */
    char **pairs;        /* [n] second texts (inside lines) with --pairs, else NULL entries */
    size_t *pair_lens;
    lm_encoding_t **encs; /* [n] encodings (NULL where encoding failed) */
    int32_t *status;     /* [n] lm_status values */
    char **errors;       /* [n] error sentence where status != LM_OK (owned) */
    size_t T;            /* padded length */
    int32_t *ids, *types, *mask; /* [n * T] for the rows that encoded (others all padding) */
} tool_batch;

/* Reads up to batch_size lines from in; returns the number read (0 at end of input), -1 on
 * allocation failure. */
long tool_read_batch(tool_ctx *c, FILE *in, tool_batch *b);
/* Encodes the batch (truncation to max_length; pairs truncate `truncation`) and fills the padded
 * arrays. Returns 0, or 1 on allocation failure. */
int tool_encode_batch(tool_ctx *c, tool_batch *b, int truncation);
void tool_batch_clear(tool_batch *b);

void tool_json_string(FILE *out, const char *s, size_t len);
void tool_print_error_line(FILE *out, const char *msg);
/* Softmax of n logits into p. */
void tool_softmax(const float *logits, size_t n, float *p);

#endif
