/* lm: the command-line tool over liblm. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "lm.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"version", cmd_version, "print the liblm version"},
    {"tokenize", cmd_tokenize, "text lines on stdin to token ids (JSON lines)"},
};

static void usage(FILE *out) {
    size_t i;
    fprintf(out, "usage: lm COMMAND [OPTIONS]\n\ncommands:\n");
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\n'lm COMMAND --help' describes a command's options.\n");
}

int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("lm %s (header %d.%d.%d)\n", lm_version_string(), LM_VERSION_MAJOR, LM_VERSION_MINOR,
           LM_VERSION_PATCH);
    return 0;
}

int main(int argc, char **argv) {
    size_t i;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return cmd_version(0, NULL);
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
