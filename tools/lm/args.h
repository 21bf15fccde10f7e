/* The lm tool's one argument parser: the options every subcommand may share (selected by flags),
 * each subcommand's own options as a table with a callback, --opt VALUE and --opt=VALUE, --help,
 * the usage text generated from the same tables, and range-checked numbers. Uses only lm.h. */
#ifndef LM_TOOL_ARGS_H
#define LM_TOOL_ARGS_H

#include <stdint.h>
#include <stdio.h>

/* The shared options a subcommand takes (tool_command.common). */
enum {
    TOOL_MODEL = 1 << 0,      /* --model DIR */
    TOOL_INPUT = 1 << 1,      /* --input FILE */
    TOOL_OUTPUT = 1 << 2,     /* --output FILE */
    TOOL_BATCH = 1 << 3,      /* --batch-size N */
    TOOL_THREADS = 1 << 4,    /* --threads N */
    TOOL_MAX_LENGTH = 1 << 5, /* --max-length N */
    TOOL_UTF8 = 1 << 6,       /* --replace-invalid-utf8 */
    TOOL_PAIRS = 1 << 7,      /* --pairs */
    TOOL_VERBOSE = 1 << 8,    /* --verbose */
    TOOL_INT8 = 1 << 9,       /* --int8 */
    /* The set of the model subcommands that read lines. */
    TOOL_RUN = TOOL_MODEL | TOOL_INPUT | TOOL_OUTPUT | TOOL_BATCH | TOOL_THREADS |
               TOOL_MAX_LENGTH | TOOL_UTF8 | TOOL_VERBOSE | TOOL_INT8
};

/* Values of the shared options. */
typedef struct tool_opts {
    const char *model_dir; /* --model (NULL: not given) */
    const char *input;     /* --input (NULL or "-": stdin) */
    const char *output;    /* --output (NULL or "-": stdout) */
    int32_t batch_size;    /* --batch-size, 1..INT32_MAX (0: not given, 32) */
    int32_t threads;       /* --threads, 0..TOOL_MAX_THREADS (0: all cores) */
    int32_t max_length;    /* --max-length, 0..INT32_MAX (0: the model's limit) */
    int replace_invalid_utf8, pairs, verbose;
    int int8;              /* --int8 */
} tool_opts;

#define TOOL_MAX_THREADS 1024
#define TOOL_DEFAULT_BATCH 32

/* One option of a subcommand's own table (the table ends with a NULL name). */
typedef struct tool_option {
    const char *name; /* "--top-k" */
    const char *arg;  /* the value's placeholder in the usage ("K"), or NULL for a flag */
    const char *help; /* what it does, its range and default (word-wrapped in the usage) */
} tool_option;

/* A subcommand as the parser sees it. */
typedef struct tool_command {
    const char *name;     /* "embed" */
    const char *synopsis; /* after "usage: lm NAME " */
    const char *about;    /* what it reads and writes (lines end with '\n') */
    unsigned common;      /* TOOL_* flags */
    const tool_option *own; /* its own options, or NULL */
    /* Takes own[index] with its value (NULL for a flag). Returns 0, or 2 after printing why. */
    int (*handle)(const struct tool_command *cmd, void *state, int index, const char *value);
} tool_command;

/* Parses argv[1..argc): returns -1 to go on, 0 after --help (usage printed on stdout), 2 for a
 * usage error (message printed on stderr). */
int tool_parse_args(const tool_command *cmd, tool_opts *o, int argc, char **argv, void *state);
void tool_usage(const tool_command *cmd, FILE *out);
/* Prints "lm NAME: <message>\nTry 'lm NAME --help'." on stderr; returns 2 (the usage exit code). */
int tool_usage_error(const tool_command *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The one number parser: a whole decimal number in [min, max] (strtoll, every character used,
 * overflow checked). Returns 0, or 2 after "lm NAME: OPT must be between MIN and MAX (got V)". */
int tool_parse_int(const tool_command *cmd, const char *opt, const char *value, long long min,
                   long long max, long long *out);
/* A finite decimal number in [min, max] (strtod, every character used). Returns 0, or 2 after
 * "lm NAME: OPT must be between MIN and MAX (got V)". */
int tool_parse_double(const tool_command *cmd, const char *opt, const char *value, double min,
                      double max, double *out);
/* One of `choices` (NULL-terminated): its index in *out. Returns 0, or 2 after a message. */
int tool_parse_choice(const tool_command *cmd, const char *opt, const char *value,
                      const char *const *choices, int *out);

#endif
