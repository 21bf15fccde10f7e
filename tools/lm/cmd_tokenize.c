/* lm tokenize: reads UTF-8 text from stdin, one input per line (with --pairs: text<TAB>pair),
 * and writes one JSON object per line with ids, type ids, tokens and character offsets as
 * Hugging Face reports them. A line that cannot be encoded gives {"error": "..."}; the run goes
 * on and exits with 1 at the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "lm.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: lm tokenize (--vocab FILE | --tokenizer FILE | --model DIR) [--no-lower-case]\n"
            "                   [--max-length N] [--pairs] [--replace-invalid-utf8]\n"
            "Reads one text per line on stdin (--pairs: text<TAB>pair) and writes one JSON object\n"
            "per line: {\"ids\":[...],\"type_ids\":[...],\"tokens\":[...],\"offsets\":[[s,e],...]}\n"
            "(character offsets into the line, or into its own text for the pair).\n");
}

static void put_json_string(FILE *out, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20 || *p == 0x7F) {
                fprintf(out, "\\u%04x", *p);
            } else {
                fputc(*p, out);
            }
        }
    }
    fputc('"', out);
}

static void put_encoding(FILE *out, const lm_tokenizer_t *tok, const lm_encoding_t *e) {
    size_t i, n = lm_encoding_length(e);
    const int32_t *ids = lm_encoding_ids(e);
    const int32_t *types = lm_encoding_type_ids(e);
    const size_t *off = lm_encoding_offsets(e);
    fputs("{\"ids\":[", out);
    for (i = 0; i < n; i++) {
        fprintf(out, i ? ",%d" : "%d", (int)ids[i]);
    }
    fputs("],\"type_ids\":[", out);
    for (i = 0; i < n; i++) {
        fprintf(out, i ? ",%d" : "%d", (int)types[i]);
    }
    fputs("],\"tokens\":[", out);
    for (i = 0; i < n; i++) {
        const char *t = lm_tokenizer_id_to_token(tok, ids[i]);
        if (i) {
            fputc(',', out);
        }
        put_json_string(out, t ? t : "");
    }
    fputs("],\"offsets\":[", out);
    for (i = 0; i < n; i++) {
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", off[2 * i], off[2 * i + 1]);
    }
    fputs("]}\n", out);
}

int cmd_tokenize(int argc, char **argv) {
    const char *vocab = NULL, *json = NULL, *model = NULL;
    lm_tokenizer_options topts;
    lm_encode_options eopts;
    lm_tokenizer_t *tok = NULL;
    lm_status st;
    int pairs = 0, failed = 0, i;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    lm_tokenizer_options_init(&topts, sizeof topts);
    lm_encode_options_init(&eopts, sizeof eopts);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--vocab") == 0 || strcmp(a, "--tokenizer") == 0 ||
             strcmp(a, "--model") == 0 || strcmp(a, "--max-length") == 0) && i + 1 >= argc) {
            fprintf(stderr, "lm tokenize: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--vocab") == 0) {
            vocab = argv[++i];
        } else if (strcmp(a, "--tokenizer") == 0) {
            json = argv[++i];
        } else if (strcmp(a, "--model") == 0) {
            model = argv[++i];
        } else if (strcmp(a, "--no-lower-case") == 0) {
            topts.lower_case = 0;
        } else if (strcmp(a, "--replace-invalid-utf8") == 0) {
            topts.replace_invalid_utf8 = 1;
        } else if (strcmp(a, "--pairs") == 0) {
            pairs = 1;
        } else if (strcmp(a, "--max-length") == 0) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || argv[i][0] == '-' || argv[i][0] == '\0') {
                fprintf(stderr, "lm tokenize: --max-length needs a number\n");
                return 2;
            }
            eopts.max_length = (size_t)v;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "lm tokenize: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((vocab != NULL) + (json != NULL) + (model != NULL) != 1) {
        fprintf(stderr, "lm tokenize: give exactly one of --vocab, --tokenizer, --model\n");
        usage(stderr);
        return 2;
    }
    st = vocab ? lm_tokenizer_load_vocab(vocab, &topts, &tok)
         : json ? lm_tokenizer_load_json(json, &topts, &tok)
                : lm_tokenizer_load_dir(model, &topts, &tok);
    if (st != LM_OK) {
        fprintf(stderr, "lm tokenize: %s: %s\n", lm_status_string(st), lm_last_error());
        return 1;
    }
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        lm_encoding_t *e = NULL;
        size_t n = (size_t)len;
        if (n > 0 && line[n - 1] == '\n') {
            n--;
        }
        if (pairs) {
            char *tab = memchr(line, '\t', n);
            if (tab == NULL) {
                fputs("{\"error\":\"no TAB between text and pair\"}\n", stdout);
                failed = 1;
                continue;
            }
            st = lm_tokenizer_encode_pair(tok, line, (size_t)(tab - line), tab + 1,
                                          n - (size_t)(tab - line) - 1, &eopts, &e);
        } else {
            st = lm_tokenizer_encode(tok, line, n, &eopts, &e);
        }
        if (st != LM_OK) {
            fputs("{\"error\":", stdout);
            put_json_string(stdout, lm_last_error());
            fputs("}\n", stdout);
            failed = 1;
            continue;
        }
        put_encoding(stdout, tok, e);
        lm_encoding_free(e);
    }
    free(line);
    lm_tokenizer_free(tok);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "lm tokenize: cannot write the output\n");
        return 1;
    }
    return failed;
}
