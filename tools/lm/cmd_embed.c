/* lm embed: one sentence per line on stdin -> {"embedding":[...]} per line (sentence-transformers
 * pooling: mean or CLS, optional L2 normalisation; defaults from the model folder). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static void usage(FILE *out) {
    fprintf(out, "usage: lm embed --model DIR [--pooling mean|cls] [--normalize|--no-normalize]\n"
                 "                [--pairs] [common options]\n"
                 "Reads one text per line on stdin and writes {\"embedding\":[...]} per line.\n"
                 "Pooling and normalisation default to the folder's sentence-transformers modules\n"
                 "(mean, no normalisation when there are none).\n");
    tool_common_usage(out);
}

static void put_float(FILE *out, float v) {
    if (v != v || v - v != 0.0f) {
        fputs("null", out);
    } else {
        fprintf(out, "%.8g", (double)v);
    }
}

int cmd_embed(int argc, char **argv) {
    tool_ctx c;
    int i, pooling = LM_POOLING_DEFAULT, normalize = -1, failed = 0;
    memset(&c, 0, sizeof c);
    c.o.name = "embed";
    for (i = 1; i < argc; i++) {
        int r = tool_common_option(&c.o, argc, argv, &i);
        if (r < 0) {
            return 2;
        }
        if (r > 0) {
            continue;
        }
        if (strcmp(argv[i], "--pooling") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "mean") == 0) {
                pooling = LM_POOLING_MEAN;
            } else if (strcmp(argv[i], "cls") == 0) {
                pooling = LM_POOLING_CLS;
            } else {
                fprintf(stderr, "lm embed: --pooling is mean or cls, not '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--normalize") == 0) {
            normalize = 1;
        } else if (strcmp(argv[i], "--no-normalize") == 0) {
            normalize = 0;
        } else if (strcmp(argv[i], "--pairs") == 0) {
            c.o.pairs = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "lm embed: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (tool_load(&c, 1) != 0) {
        tool_free(&c);
        return 1;
    }
    for (;;) {
        tool_batch b;
        long n = tool_read_batch(&c, stdin, &b);
        size_t C = lm_model_hidden_size(c.model), r, k;
        float *emb;
        lm_status s;
        if (n <= 0) {
            tool_batch_clear(&b);
            if (n < 0) {
                fprintf(stderr, "lm embed: out of memory\n");
                failed = 1;
            }
            break;
        }
        emb = tool_encode_batch(&c, &b, LM_TRUNCATE_LONGEST_FIRST) == 0
                  ? malloc(b.n * C * sizeof *emb)
                  : NULL;
        if (emb == NULL) {
            fprintf(stderr, "lm embed: out of memory\n");
            tool_batch_clear(&b);
            failed = 1;
            break;
        }
        s = lm_model_embed(c.model, b.ids, b.types, b.mask, b.n, b.T, pooling, normalize, emb);
        for (r = 0; r < b.n; r++) {
            if (s != LM_OK || b.status[r] != LM_OK) {
                tool_print_error_line(stdout, s != LM_OK ? lm_last_error() : b.errors[r]);
                failed = 1;
                continue;
            }
            fputs("{\"embedding\":[", stdout);
            for (k = 0; k < C; k++) {
                if (k) {
                    fputc(',', stdout);
                }
                put_float(stdout, emb[r * C + k]);
            }
            fputs("]}\n", stdout);
        }
        free(emb);
        tool_batch_clear(&b);
    }
    tool_free(&c);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "lm embed: cannot write the output\n");
        return 1;
    }
    return failed;
}
