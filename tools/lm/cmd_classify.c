/* lm classify: one text (or text<TAB>pair with --pairs) per line -> {"label":"...","label_id":k,
 * "scores":[...]} (softmax probabilities) per line; a regression model (one label) gives
 * {"label":...,"label_id":0,"scores":[value]} with the raw predicted value. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm classify --model DIR [--pairs] [common options]\n"
                 "Reads one text per line (--pairs: text<TAB>pair) and writes\n"
                 "{\"label\":\"...\",\"label_id\":k,\"scores\":[...]} per line.\n");
    tool_common_usage(out);
}

int cmd_classify(int argc, char **argv) {
    tool_ctx c;
    int code, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "classify";
    if ((code = tool_parse_args(&c, argc, argv, usage, 1, NULL, NULL)) >= 0) {
        return code;
    }
    if (tool_load(&c, 1, LM_HEAD_SEQUENCE_CLASSIFICATION, "BertForSequenceClassification") != 0) {
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        size_t L = lm_model_num_labels(c.model), r, k;
        float *logits, *p;
        lm_status s;
        if (n <= 0) {
            tool_batch_clear(&b);
            failed |= n < 0;
            break;
        }
        logits = tool_encode_batch(&c, &b, LM_TRUNCATE_LONGEST_FIRST) == 0
                     ? malloc(b.n * L * sizeof *logits)
                     : NULL;
        p = malloc(L * sizeof *p);
        if (logits == NULL || p == NULL) {
            fprintf(stderr, "lm classify: out of memory\n");
            free(logits);
            free(p);
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        s = lm_model_classify(c.model, b.ids, b.types, b.mask, b.n, b.T, logits);
        for (r = 0; r < b.n; r++) {
            size_t best = 0;
            const char *label;
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            if (L > 1) {
                tool_softmax(logits + r * L, L, p);
            } else {
                p[0] = logits[r * L];
            }
            for (k = 1; k < L; k++) {
                best = p[k] > p[best] ? k : best;
            }
            label = lm_model_label_name(c.model, best);
            fputs("{\"label\":", stdout);
            tool_json_string(stdout, label != NULL ? label : "", label != NULL ? strlen(label) : 0);
            fprintf(stdout, ",\"label_id\":%zu,\"scores\":[", best);
            for (k = 0; k < L; k++) {
                fprintf(stdout, k ? ",%.7g" : "%.7g", (double)p[k]);
            }
            fputs("]}\n", stdout);
        }
        free(logits);
        free(p);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return failed;
}
