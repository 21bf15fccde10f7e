/* lm: the command-line tool over liblm. Dispatches to one subcommand per file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "commands.h"
#include "io.h"
#include "lm.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"version", cmd_version, "print the liblm version"},
    {"tokenize", cmd_tokenize, "text lines to token ids (JSON lines)"},
    {"embed", cmd_embed, "sentence embeddings of text lines (JSON lines, TSV, .npy)"},
    {"classify", cmd_classify, "sequence classification of text lines (JSON lines)"},
    {"fill-mask", cmd_fill_mask, "predict the [MASK] tokens of text lines (JSON lines)"},
    {"qa", cmd_qa, "extractive question answering of question<TAB>context lines"},
    {"tag", cmd_tag, "token classification (entities) of text lines (JSON lines)"},
    {"info", cmd_info, "describe a model folder (JSON)"},
    {"serve", cmd_serve, "HTTP server: OpenAI and text-embeddings-inference endpoints"},
    {"train", cmd_train, "fine-tune a model on a data file (checkpoints, metrics, resume)"},
    {"eval", cmd_eval, "score a model on a data file (JSON metrics)"},
};

static void usage(FILE *out) {
    size_t i;
    fprintf(out, "usage: lm COMMAND [OPTIONS]\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\n'lm COMMAND --help' describes a command's options; 'man lm' all of them.\n"
                 "Exit status: 0 success, 1 a failure or a bad input line, 2 a usage error.\n");
}

static const tool_command version_cmd = {
    "version", "", "Prints the version of lm and of the liblm it runs with.\n", 0, NULL, NULL,
};

int cmd_version(int argc, char **argv) {
    tool_opts o;
    int code;
    memset(&o, 0, sizeof o);
    if ((code = tool_parse_args(&version_cmd, &o, argc, argv, NULL)) >= 0) {
        return code;
    }
    printf("lm %s (header %d.%d.%d)\n", lm_version_string(), LM_VERSION_MAJOR, LM_VERSION_MINOR,
           LM_VERSION_PATCH);
    return 0;
}

/* liblm multiplies with its own kernels, chosen from the CPU at run time, so the speed needs no
 * environment variable. OpenBLAS stays linked (the reference path, LM_MATMUL=blas) and reads its
 * environment once, when it loads: the tool starts again with OPENBLAS_NUM_THREADS=1 when it is
 * unset, because a threaded OpenBLAS starts workers at load that spin for ever when their
 * buffers cannot be mapped (under `ulimit -v`); liblm never asks OpenBLAS for threads anyway.
 * With LM_MATMUL=blas it also sets OPENBLAS_CORETYPE on a CPU whose kernel OpenBLAS misdetects
 * (AVX-512 CPUs newer than the library). `lm serve` also restarts with OMP_WAIT_POLICY=passive. */
static void blas_fast_path(char **argv) {
    const char *matmul = getenv("LM_MATMUL");
    const char *coretype =
        matmul != NULL && strcmp(matmul, "blas") == 0 ? lm_blas_suggested_coretype() : NULL;
    int verbose = 0, restart = 0, i;
    for (i = 1; argv[i] != NULL; i++) {
        verbose |= strcmp(argv[i], "--verbose") == 0;
    }
    if (getenv("LM_NO_RESTART") != NULL) { /* set below: never restart twice */
        return;
    }
    if (coretype != NULL && getenv("OPENBLAS_CORETYPE") == NULL &&
        setenv("OPENBLAS_CORETYPE", coretype, 1) == 0) {
        restart = 1;
        if (verbose) {
            fprintf(stderr, "lm: BLAS kernel %s is the slow path on this CPU; restarting with "
                            "OPENBLAS_CORETYPE=%s\n", lm_blas_kernel(), coretype);
        }
    }
    if (getenv("OPENBLAS_NUM_THREADS") == NULL && setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0) {
        restart = 1;
    }
    /* A server waits between requests: OpenMP threads that spin there take the cores from the
     * connection threads and the rest of the machine (with another process on one core, a
     * spinning team of two runs many times slower). libgomp reads the variable at load too. */
    if (argv[1] != NULL && strcmp(argv[1], "serve") == 0 && getenv("OMP_WAIT_POLICY") == NULL &&
        setenv("OMP_WAIT_POLICY", "passive", 1) == 0) {
        restart = 1;
    }
    if (!restart || setenv("LM_NO_RESTART", "1", 1) != 0) {
        return;
    }
    execv("/proc/self/exe", argv);
    if (verbose) {
        fprintf(stderr, "lm: could not restart; continuing\n");
    }
}

/* Runs the command line; main() then checks that stdout was written. */
static int run(int argc, char **argv) {
    size_t i;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return cmd_version(1, argv + 1);
    }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "lm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

int main(int argc, char **argv) {
    int code;
    blas_fast_path(argv);
    code = run(argc, argv);
    if (tool_close_stdout() != 0 && code == 0) {
        code = 1;
    }
    return code;
}
