/* lm qa: question<TAB>context per line -> {"answer":"...","start":s,"end":e,"score":p} per line:
 * the best span of the context (character offsets into the context, end exclusive), its score
 * the product of the start and end probabilities (softmax over the context tokens). The context
 * is truncated to fit --max-length (no sliding windows). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm qa --model DIR [--max-answer-length N] [common options]\n"
                 "Reads question<TAB>context per line and writes\n"
                 "{\"answer\":\"...\",\"start\":s,\"end\":e,\"score\":p} per line (character offsets\n"
                 "into the context).\n");
    tool_common_usage(out);
}

int cmd_qa(int argc, char **argv) {
    tool_ctx c;
    size_t max_answer = 30;
    int i, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "qa";
    c.o.pairs = 1;
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&c.o, argc, argv, &i);
        if (r < 0) {
            return 2;
        }
        if (r > 0) {
            continue;
        }
        if (strcmp(argv[i], "--max-answer-length") == 0) {
            if (i + 1 >= argc ||
                !tool_parse_size("qa", "--max-answer-length", argv[++i], &max_answer)) {
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "lm qa: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (tool_load(&c, 1) != 0) {
        tool_free(&c);
        return 1;
    }
    if (lm_model_head(c.model) != LM_HEAD_QUESTION_ANSWERING) {
        fprintf(stderr, "lm qa: %s is not a question-answering model (BertForQuestionAnswering)\n",
                c.o.model_dir);
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        float *start = NULL, *end = NULL;
        int32_t *allowed = NULL;
        size_t r, t;
        lm_status s;
        if (n <= 0) {
            tool_batch_clear(&b);
            failed |= n < 0;
            break;
        }
        if (tool_encode_batch(&c, &b, LM_TRUNCATE_ONLY_SECOND) == 0) {
            start = malloc(b.n * b.T * sizeof *start);
            end = malloc(b.n * b.T * sizeof *end);
            allowed = malloc(b.T * sizeof *allowed);
        }
        if (start == NULL || end == NULL || allowed == NULL) {
            fprintf(stderr, "lm qa: out of memory\n");
            free(start);
            free(end);
            free(allowed);
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        s = lm_model_qa_logits(c.model, b.ids, b.types, b.mask, b.n, b.T, start, end);
        for (r = 0; r < b.n; r++) {
            const lm_encoding_t *e = b.encs[r];
            size_t len, a, z;
            float score;
            lm_status s2;
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            len = lm_encoding_length(e);
            for (t = 0; t < len; t++) {
                allowed[t] = lm_encoding_sequence_ids(e)[t] == 1;
            }
            s2 = lm_qa_best_span(start + r * b.T, end + r * b.T, allowed, len, max_answer, &a, &z,
                                 &score);
            if (s2 != LM_OK) {
                tool_print_error_line(stdout, "the context is empty after truncation");
                failed = 1;
                continue;
            }
            {
                const size_t *co = lm_encoding_offsets(e), *bo = lm_encoding_byte_offsets(e);
                size_t b0 = bo[2 * a], b1 = bo[2 * z + 1];
                fputs("{\"answer\":", stdout);
                tool_json_string(stdout, b.pairs[r] + b0, b1 > b0 ? b1 - b0 : 0);
                fprintf(stdout, ",\"start\":%zu,\"end\":%zu,\"score\":%.7g}\n", co[2 * a],
                        co[2 * z + 1], (double)score);
            }
        }
        free(start);
        free(end);
        free(allowed);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        return 1;
    }
    return failed;
}
