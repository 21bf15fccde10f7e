/* The lm tool's argument parser and usage text (see args.h). */
#define _POSIX_C_SOURCE 200809L
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The shared options, in usage order. */
typedef struct common_option {
    unsigned flag;
    tool_option opt;
} common_option;

static const common_option common_options[] = {
    {TOOL_MODEL, {"--model", "DIR",
                  "model folder (config.json, model.safetensors, vocab.txt or tokenizer.json)"}},
    {TOOL_INPUT, {"--input", "FILE", "read the lines from FILE (default and '-': stdin)"}},
    {TOOL_OUTPUT, {"--output", "FILE",
                   "write to FILE, which appears only when the run ends, whole "
                   "(default and '-': stdout)"}},
    {TOOL_BATCH, {"--batch-size", "N",
                  "texts per forward pass, 1 to 2147483647 (default 32); up to 8 batches of "
                  "the lines already waiting are run together, sorted by length; a line is "
                  "answered as soon as it arrives when no more input is waiting"}},
    {TOOL_THREADS, {"--threads", "N", "compute threads, 0 to 1024 (default 0: all cores)"}},
    {TOOL_MAX_LENGTH, {"--max-length", "N",
                       "tokens per input, special tokens included: 0 (default: the model's "
                       "limit), else 3 up to the model's positions; longer inputs are truncated"}},
    {TOOL_UTF8, {"--replace-invalid-utf8", NULL,
                 "replace invalid UTF-8 by U+FFFD (default: the line is an error)"}},
    {TOOL_PAIRS, {"--pairs", NULL, "lines are text<TAB>pair"}},
    {TOOL_INT8, {"--int8", NULL,
                  "int8 inference: the model's Linear weights quantised per output channel, "
                  "products in integers (faster; results close to, not equal to, float32)"}},
    {TOOL_VERBOSE, {"--verbose", NULL,
                    "report the matrix kernels and the library's notes on stderr"}},
};
#define N_COMMON (sizeof common_options / sizeof common_options[0])

/* Prints one option: its name and value, then its help word-wrapped into the right column. */
static void put_option(FILE *out, const tool_option *o) {
    enum { COL = 28, WIDTH = 79 };
    char head[64];
    const char *h = o->help;
    size_t used;
    snprintf(head, sizeof head, "%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (strlen(head) > COL - 4) {
        fprintf(out, "  %s\n%*s", head, COL, "");
    } else {
        fprintf(out, "  %-*s", COL - 2, head);
    }
    used = COL;
    while (*h != '\0') {
        size_t word = strcspn(h, " \n");
        if (used > COL && used + 1 + word > WIDTH) {
            fprintf(out, "\n%*s", COL, "");
            used = COL;
        } else if (used > COL) {
            fputc(' ', out);
            used++;
        }
        fprintf(out, "%.*s", (int)word, h);
        used += word;
        h += word;
        while (*h == ' ' || *h == '\n') {
            h++;
        }
    }
    fputc('\n', out);
}

void tool_usage(const tool_command *cmd, FILE *out) {
    size_t i;
    fprintf(out, "usage: lm %s %s\n%s\noptions:\n", cmd->name, cmd->synopsis, cmd->about);
    for (i = 0; cmd->own != NULL && cmd->own[i].name != NULL; i++) {
        put_option(out, &cmd->own[i]);
    }
    for (i = 0; i < N_COMMON; i++) {
        if (cmd->common & common_options[i].flag) {
            put_option(out, &common_options[i].opt);
        }
    }
    put_option(out, &(tool_option){"--help", NULL, "print this help and exit"});
}

int tool_usage_error(const tool_command *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "lm %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'lm %s --help'.\n", cmd->name);
    return 2;
}

int tool_parse_int(const tool_command *cmd, const char *opt, const char *value, long long min,
                   long long max, long long *out) {
    char *end;
    long long v;
    const char *p = value;
    if (*p == '+' || *p == '-') {
        p++;
    }
    if (*p < '0' || *p > '9') { /* strtoll would skip spaces and take "" as 0 */
        return tool_usage_error(cmd, "%s needs a whole number between %lld and %lld, not '%s'", opt,
                                min, max, value);
    }
    errno = 0;
    v = strtoll(value, &end, 10);
    if (*end != '\0') {
        return tool_usage_error(cmd, "%s needs a whole number between %lld and %lld, not '%s'", opt,
                                min, max, value);
    }
    if (errno == ERANGE || v < min || v > max) {
        return tool_usage_error(cmd, "%s must be between %lld and %lld (got %s)", opt, min, max,
                                value);
    }
    *out = v;
    return 0;
}

int tool_parse_choice(const tool_command *cmd, const char *opt, const char *value,
                      const char *const *choices, int *out) {
    char list[256] = "";
    int i;
    for (i = 0; choices[i] != NULL; i++) {
        if (strcmp(value, choices[i]) == 0) {
            *out = i;
            return 0;
        }
        if (strlen(list) + strlen(choices[i]) + 2 < sizeof list) {
            strcat(list, i ? "|" : "");
            strcat(list, choices[i]);
        }
    }
    return tool_usage_error(cmd, "%s is one of %s, not '%s'", opt, list, value);
}

/* Stores a shared option's value. Returns 0 or 2. */
static int set_common(const tool_command *cmd, tool_opts *o, unsigned flag, const char *name,
                      const char *value) {
    long long v;
    int r = 0;
    switch (flag) {
    case TOOL_MODEL: o->model_dir = value; break;
    case TOOL_INPUT: o->input = value; break;
    case TOOL_OUTPUT: o->output = value; break;
    case TOOL_BATCH:
        if ((r = tool_parse_int(cmd, name, value, 1, INT32_MAX, &v)) == 0) {
            o->batch_size = (int32_t)v;
        }
        break;
    case TOOL_THREADS:
        if ((r = tool_parse_int(cmd, name, value, 0, TOOL_MAX_THREADS, &v)) == 0) {
            o->threads = (int32_t)v;
        }
        break;
    case TOOL_MAX_LENGTH:
        if ((r = tool_parse_int(cmd, name, value, 0, INT32_MAX, &v)) == 0) {
            o->max_length = (int32_t)v;
        }
        break;
    case TOOL_UTF8: o->replace_invalid_utf8 = 1; break;
    case TOOL_PAIRS: o->pairs = 1; break;
    case TOOL_VERBOSE: o->verbose = 1; break;
    case TOOL_INT8: o->int8 = 1; break;
    default: break;
    }
    return r;
}

int tool_parse_args(const tool_command *cmd, tool_opts *o, int argc, char **argv, void *state) {
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *eq = NULL, *value = NULL;
        const tool_option *opt = NULL;
        char name[64];
        size_t len, k;
        unsigned flag = 0;
        int own = -1, r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            tool_usage(cmd, stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            return tool_usage_error(cmd, "unexpected argument '%s' (the input is read from "
                                         "stdin or --input)", a);
        }
        eq = strchr(a, '=');
        len = eq != NULL ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name) {
            return tool_usage_error(cmd, "unknown option '%s'", a);
        }
        memcpy(name, a, len);
        name[len] = '\0';
        for (k = 0; k < N_COMMON && opt == NULL; k++) {
            if ((cmd->common & common_options[k].flag) &&
                strcmp(name, common_options[k].opt.name) == 0) {
                opt = &common_options[k].opt;
                flag = common_options[k].flag;
            }
        }
        for (k = 0; opt == NULL && cmd->own != NULL && cmd->own[k].name != NULL; k++) {
            if (strcmp(name, cmd->own[k].name) == 0) {
                opt = &cmd->own[k];
                own = (int)k;
            }
        }
        if (opt == NULL) {
            return tool_usage_error(cmd, "unknown option '%s'", name);
        }
        if (opt->arg == NULL && eq != NULL) {
            return tool_usage_error(cmd, "%s takes no value", name);
        }
        if (opt->arg != NULL) {
            if (eq != NULL) {
                value = eq + 1;
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                return tool_usage_error(cmd, "%s needs a value (%s)", name, opt->arg);
            }
        }
        r = own >= 0 ? cmd->handle(cmd, state, own, value)
                     : set_common(cmd, o, flag, opt->name, value);
        if (r != 0) {
            return 2;
        }
    }
    return -1;
}

int tool_parse_double(const tool_command *cmd, const char *opt, const char *value, double min,
                      double max, double *out) {
    char *end;
    double v;
    errno = 0;
    v = strtod(value, &end);
    if (end == value || *end != '\0' || value[0] == ' ' || errno == ERANGE || v != v) {
        return tool_usage_error(cmd, "%s needs a number between %g and %g, not '%s'", opt, min,
                                max, value);
    }
    if (v < min || v > max) {
        return tool_usage_error(cmd, "%s must be between %g and %g (got %s)", opt, min, max,
                                value);
    }
    *out = v;
    return 0;
}
