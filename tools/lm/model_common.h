/* Shared by the lm subcommands that run a model (embed, classify, fill-mask, qa, tag, info):
 * loading the model, checking the options against it, the library's log on stderr, and the run
 * loop: read a batch of lines, one lm_* text call for the batch, one output line per input line
 * (flushed), an {"error":...,"line":N} line for a bad input while the run goes on. Uses only lm.h.
 */
#ifndef LM_TOOL_MODEL_COMMON_H
#define LM_TOOL_MODEL_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "io.h"
#include "lm.h"

typedef struct tool_ctx {
    const tool_command *cmd;
    tool_opts o;
    lm_model_t *model;
    const lm_tokenizer_t *tok; /* the model's own */
    lm_text_options to;        /* from the shared options; each command adds its own */
    tool_input in;
    tool_output out;
    int bad_lines;             /* some input line gave an error line */
} tool_ctx;

/* Fills c for cmd (its options zero, text options at their defaults). */
void tool_ctx_init(tool_ctx *c, const tool_command *cmd);

/* Sends the library's log to stderr: warnings always, notes with --verbose. */
void tool_log_to_stderr(const tool_command *cmd, int verbose);

/* The smallest --max-length of the model commands: the text-level API's (3: [CLS] A [SEP] B [SEP]
 * for pairs; a single text gets one token). */
#define TOOL_MIN_MAX_LENGTH 3

/* Loads --model with the head `head` (LM_HEAD_AUTO: the folder's; `need` then names the head the
 * command needs, or LM_HEAD_AUTO for any), checks --max-length against it, opens --input and
 * --output. `text`: the command reads text (it needs a tokenizer). Returns 0, or the exit code
 * after a message (1, or 2 for an option the model rules out). */
int tool_start(tool_ctx *c, int head, int need, int text);

/* Ends the run: closes the output (kept when ok) and frees everything. Returns the exit code:
 * 0, or 1 when !ok, when some line was an error or when the output could not be written. */
int tool_finish(tool_ctx *c, int ok);

/* A subcommand's work on a batch: `compute` answers inputs [0, n) (second texts b: NULL unless
 * the lines are pairs), `write` writes the line of answer i of the last compute. */
typedef struct tool_task {
    lm_status (*compute)(tool_ctx *c, void *st, size_t n, const char *const *a,
                         const size_t *alen, const char *const *b, const size_t *blen);
    /* Writes one output line (without checking: the runner flushes and checks it). */
    void (*write)(tool_ctx *c, void *st, size_t i, const char *a, size_t alen, const char *b,
                  size_t blen);
    /* Writes the line of a bad input; NULL: {"error":MSG,"line":N}. */
    void (*write_error)(tool_ctx *c, void *st, const char *msg, uint64_t line);
    void *state;
    const char *tab_error; /* non-NULL: lines are a<TAB>b, and this is the error without TAB */
} tool_task;

/* Lines given to one call, in batches of --batch-size: when that many are waiting, the library
 * runs them sorted by length, with less padding. */
#define TOOL_READ_AHEAD 8

/* Runs the task over the whole input: up to TOOL_READ_AHEAD batches of the lines already there
 * per call. Returns 0, or 1 after a message (fatal library error, read or write error). */
int tool_run(tool_ctx *c, const tool_task *t);

/* Capacity helper: grows *buf to hold n elements of size `size`. Returns 0 or LM_ERR_NOMEM. */
lm_status tool_reserve(void **buf, size_t *cap, size_t n, size_t size);

/* Names of label and head for output. */
const char *tool_head_name(lm_head h);

#endif
