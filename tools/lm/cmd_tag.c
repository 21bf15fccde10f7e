/* lm tag: one text per line -> {"tokens":[...],"labels":[...]} per line: each word piece of the
 * text (special tokens left out) with the label of its highest logit (token classification). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm tag --model DIR [common options]\n"
                 "Reads one text per line and writes {\"tokens\":[...],\"labels\":[...]} per line.\n");
    tool_common_usage(out);
}

int cmd_tag(int argc, char **argv) {
    tool_ctx c;
    int code, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "tag";
    if ((code = tool_parse_args(&c, argc, argv, usage, 0, NULL, NULL)) >= 0) {
        return code;
    }
    if (tool_load(&c, 1, LM_HEAD_TOKEN_CLASSIFICATION, "BertForTokenClassification") != 0) {
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        size_t L = lm_model_num_labels(c.model), r, t, k;
        float *logits = NULL;
        lm_status s;
        if (n <= 0) {
            tool_batch_clear(&b);
            failed |= n < 0;
            break;
        }
        if (tool_encode_batch(&c, &b, LM_TRUNCATE_LONGEST_FIRST) == 0) {
            logits = malloc(b.n * b.T * L * sizeof *logits);
        }
        if (logits == NULL) {
            fprintf(stderr, "lm tag: out of memory\n");
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        s = lm_model_token_logits(c.model, b.ids, b.types, b.mask, b.n, b.T, logits);
        for (r = 0; r < b.n; r++) {
            const lm_encoding_t *e = b.encs[r];
            const int32_t *special;
            size_t len;
            int first = 1;
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            len = lm_encoding_length(e);
            special = lm_encoding_special_tokens_mask(e);
            fputs("{\"tokens\":[", stdout);
            for (t = 0; t < len; t++) {
                const char *tok = lm_tokenizer_id_to_token(c.tok, lm_encoding_ids(e)[t]);
                if (special[t]) {
                    continue;
                }
                if (!first) {
                    fputc(',', stdout);
                }
                first = 0;
                tool_json_string(stdout, tok != NULL ? tok : "", tok != NULL ? strlen(tok) : 0);
            }
            fputs("],\"labels\":[", stdout);
            first = 1;
            for (t = 0; t < len; t++) {
                const float *x = logits + (r * b.T + t) * L;
                const char *name;
                size_t best = 0;
                if (special[t]) {
                    continue;
                }
                for (k = 1; k < L; k++) {
                    best = x[k] > x[best] ? k : best;
                }
                name = lm_model_label_name(c.model, best);
                if (!first) {
                    fputc(',', stdout);
                }
                first = 0;
                tool_json_string(stdout, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
            }
            fputs("]}\n", stdout);
        }
        free(logits);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return failed;
}
