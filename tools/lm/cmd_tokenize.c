/* lm tokenize: reads UTF-8 text, one input per line (with --pairs: text<TAB>pair), and writes one
 * JSON object per line with ids, type ids, tokens and character offsets as Hugging Face reports
 * them, each line answered as soon as it is read. A line that cannot be encoded gives
 * {"error":...,"line":N}; the run goes on and exits with 1 at the end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "io.h"
#include "lm.h"

/* Lines read at once when more are waiting (each is answered on its own). */
#define TOKENIZE_BATCH 256

typedef struct tokenize_state {
    const char *vocab, *json;
    int no_lower_case;
    int32_t max_length;
} tokenize_state;

static const tool_option options[] = {
    {"--vocab", "FILE", "a vocab.txt"},
    {"--tokenizer", "FILE", "a tokenizer.json"},
    {"--no-lower-case", NULL, "keep the case (default: as the tokenizer files say)"},
    {"--max-length", "N",
     "truncate to N tokens, special tokens included: 0 (default: no limit), else 2 (3 with "
     "--pairs) to 2147483647"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    tokenize_state *s = state;
    long long v;
    if (index == 0) {
        s->vocab = value;
    } else if (index == 1) {
        s->json = value;
    } else if (index == 2) {
        s->no_lower_case = 1;
    } else {
        if (tool_parse_int(cmd, "--max-length", value, 0, INT32_MAX, &v) != 0) {
            return 2;
        }
        s->max_length = (int32_t)v;
    }
    return 0;
}

static const tool_command tokenize_cmd = {
    "tokenize", "(--vocab FILE | --tokenizer FILE | --model DIR) [OPTIONS]",
    "Reads one text per line (--pairs: text<TAB>pair) and writes one JSON object per\n"
    "line: {\"ids\":[...],\"type_ids\":[...],\"tokens\":[...],\"offsets\":[[s,e],...]}\n"
    "(character offsets into the line, or into its own text for the pair).\n"
    "A bad line gives {\"error\":...,\"line\":N} and exit status 1.\n",
    TOOL_MODEL | TOOL_INPUT | TOOL_OUTPUT | TOOL_UTF8 | TOOL_PAIRS, options,
    handle,
};

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
        tool_json_string(out, t ? t : "", t ? strlen(t) : 0);
    }
    fputs("],\"offsets\":[", out);
    for (i = 0; i < n; i++) {
        fprintf(out, i ? ",[%zu,%zu]" : "[%zu,%zu]", off[2 * i], off[2 * i + 1]);
    }
    fputs("]}\n", out);
}

/* Answers one line. Returns 1 when it was an error line. */
static int tokenize_line(const lm_tokenizer_t *tok, const lm_encode_options *eo, int pairs,
                         FILE *out, const char *line, size_t n, uint64_t number) {
    lm_encoding_t *e = NULL;
    lm_status st;
    if (pairs) {
        const char *tab = memchr(line, '\t', n);
        if (tab == NULL) {
            tool_json_error(out, "no TAB between the text and its pair", number);
            return 1;
        }
        st = lm_tokenizer_encode_pair(tok, line, (size_t)(tab - line), tab + 1,
                                      n - (size_t)(tab - line) - 1, eo, &e);
    } else {
        st = lm_tokenizer_encode(tok, line, n, eo, &e);
    }
    if (st != LM_OK) {
        tool_json_error(out, lm_last_error(), number);
        return 1;
    }
    put_encoding(out, tok, e);
    lm_encoding_free(e);
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    tokenize_state s;
    tool_opts o;
    lm_tokenizer_options topts;
    lm_encode_options eopts;
    lm_tokenizer_t *tok = NULL;
    tool_input in;
    tool_output out;
    tool_lines lines;
    lm_status st;
    int code, failed = 0, ok = 1, specials;
    long n;
    memset(&s, 0, sizeof s);
    memset(&o, 0, sizeof o);
    if ((code = tool_parse_args(&tokenize_cmd, &o, argc, argv, &s)) >= 0) {
        return code;
    }
    if ((s.vocab != NULL) + (s.json != NULL) + (o.model_dir != NULL) != 1) {
        return tool_usage_error(&tokenize_cmd, "give exactly one of --vocab, --tokenizer, --model");
    }
    specials = o.pairs ? 3 : 2;
    if (s.max_length != 0 && s.max_length < specials) {
        return tool_usage_error(&tokenize_cmd,
                                "--max-length must be 0 (no limit) or at least %d, the special "
                                "tokens every input gets (got %d)",
                                specials, (int)s.max_length);
    }
    lm_tokenizer_options_init(&topts, sizeof topts);
    lm_encode_options_init(&eopts, sizeof eopts);
    topts.replace_invalid_utf8 = o.replace_invalid_utf8;
    if (s.no_lower_case) {
        topts.lower_case = 0;
    }
    eopts.max_length = (size_t)s.max_length;
    st = s.vocab ? lm_tokenizer_load_vocab(s.vocab, &topts, &tok)
         : s.json ? lm_tokenizer_load_json(s.json, &topts, &tok)
                  : lm_tokenizer_load_dir(o.model_dir, &topts, &tok);
    if (st != LM_OK) {
        fprintf(stderr, "lm tokenize: %s\n", lm_last_error());
        return 1;
    }
    if (tool_input_open(&in, "tokenize", o.input) != 0) {
        lm_tokenizer_free(tok);
        return 1;
    }
    if (tool_output_open(&out, "tokenize", o.output) != 0) {
        tool_input_close(&in);
        lm_tokenizer_free(tok);
        return 1;
    }
    memset(&lines, 0, sizeof lines);
    while (ok && (n = tool_input_batch(&in, TOKENIZE_BATCH, &lines)) != 0) {
        size_t i;
        if (n < 0) {
            ok = 0;
            break;
        }
        for (i = 0; ok && i < lines.n; i++) {
            failed |= tokenize_line(tok, &eopts, o.pairs, out.f, lines.text[i], lines.len[i],
                                    lines.first + i);
            ok = tool_output_line(&out) == 0;
        }
    }
    tool_lines_free(&lines);
    tool_input_close(&in);
    lm_tokenizer_free(tok);
    if (tool_output_close(&out, ok) != 0) {
        ok = 0;
    }
    return !ok || failed;
}
