/* lm fill-mask: one text with [MASK] tokens per line -> {"predictions":[{"token":"...","id":n,
 * "score":p},...]} per line (top-k over the vocabulary, softmax probabilities); with several
 * masks, "predictions" holds one such list per mask, in order. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm fill-mask --model DIR [--top-k K] [common options]\n"
                 "Reads one text with [MASK] per line and writes\n"
                 "{\"predictions\":[{\"token\":\"...\",\"id\":n,\"score\":p},...]} per line.\n");
    tool_common_usage(out);
}

static void put_top(const lm_tokenizer_t *tok, const float *logits, size_t V, size_t k,
                    float *p, size_t *top) {
    size_t i, j, n = 0;
    tool_softmax(logits, V, p);
    for (i = 0; i < V; i++) { /* insertion into a sorted top-k list */
        if (n == k && p[i] <= p[top[k - 1]]) {
            continue;
        }
        j = n < k ? n++ : k - 1;
        while (j > 0 && p[top[j - 1]] < p[i]) {
            top[j] = top[j - 1];
            j--;
        }
        top[j] = i;
    }
    fputc('[', stdout);
    for (i = 0; i < n; i++) {
        const char *t = lm_tokenizer_id_to_token(tok, (int32_t)top[i]);
        fputs(i ? ",{\"token\":" : "{\"token\":", stdout);
        tool_json_string(stdout, t != NULL ? t : "", t != NULL ? strlen(t) : 0);
        fprintf(stdout, ",\"id\":%zu,\"score\":%.7g}", top[i], (double)p[top[i]]);
    }
    fputc(']', stdout);
}

static int fill_mask_option(tool_ctx *c, int argc, char **argv, int *i, void *state) {
    (void)c;
    if (strcmp(argv[*i], "--top-k") != 0) {
        return 0;
    }
    if (*i + 1 >= argc || !tool_parse_size("fill-mask", "--top-k", argv[++*i], (size_t *)state)) {
        return -1;
    }
    return 1;
}

int cmd_fill_mask(int argc, char **argv) {
    tool_ctx c;
    size_t top_k = 5;
    int code, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "fill-mask";
    if ((code = tool_parse_args(&c, argc, argv, usage, 0, fill_mask_option, &top_k)) >= 0) {
        return code;
    }
    if (tool_load(&c, 1, LM_HEAD_MASKED_LM, "BertForMaskedLM") != 0) {
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        size_t V = lm_model_vocab_size(c.model), r, t, npos = 0, k;
        int32_t mask_id = lm_tokenizer_special_id(c.tok, LM_SPECIAL_MASK);
        size_t *pos = NULL, *top = NULL;
        float *logits = NULL, *p = NULL;
        lm_status s = LM_OK;
        if (n <= 0) {
            tool_batch_clear(&b);
            failed |= n < 0;
            break;
        }
        if (top_k > V) {
            top_k = V;
        }
        if (tool_encode_batch(&c, &b, LM_TRUNCATE_LONGEST_FIRST) == 0) {
            pos = malloc(b.n * b.T * sizeof *pos);
        }
        if (pos != NULL) {
            for (r = 0; r < b.n; r++) {
                for (t = 0; t < b.T && b.status[r] == LM_OK; t++) {
                    if (b.mask[r * b.T + t] && b.ids[r * b.T + t] == mask_id) {
                        pos[npos++] = r * b.T + t;
                    }
                }
            }
            logits = malloc((npos > 0 ? npos : 1) * V * sizeof *logits);
            p = malloc(V * sizeof *p);
            top = malloc(top_k * sizeof *top);
        }
        if (pos == NULL || logits == NULL || p == NULL || top == NULL) {
            fprintf(stderr, "lm fill-mask: out of memory\n");
            free(pos);
            free(logits);
            free(p);
            free(top);
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        if (npos > 0) {
            s = lm_model_mlm_logits(c.model, b.ids, b.types, b.mask, b.n, b.T, pos, npos, logits);
        }
        for (r = 0, k = 0; r < b.n; r++) {
            size_t first = k, count;
            while (k < npos && pos[k] / b.T == r) {
                k++;
            }
            count = k - first;
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            if (count == 0) {
                tool_print_error_line(stdout, "no [MASK] token in the input");
                failed = 1;
                continue;
            }
            fputs("{\"predictions\":", stdout);
            if (count > 1) {
                fputc('[', stdout);
            }
            for (t = first; t < k; t++) {
                if (t > first) {
                    fputc(',', stdout);
                }
                put_top(c.tok, logits + t * V, V, top_k, p, top);
            }
            fputs(count > 1 ? "]}\n" : "}\n", stdout);
        }
        free(pos);
        free(logits);
        free(p);
        free(top);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return failed;
}
