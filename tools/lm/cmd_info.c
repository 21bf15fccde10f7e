/* lm info: describes a model folder as one JSON object: head, sizes, parameter count, NaN
 * parameters, embedding defaults, the BLAS kernel that runs, and the configuration. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

static const char *head_name(lm_head h) {
    switch (h) {
    case LM_HEAD_SEQUENCE_CLASSIFICATION: return "sequence-classification";
    case LM_HEAD_TOKEN_CLASSIFICATION: return "token-classification";
    case LM_HEAD_QUESTION_ANSWERING: return "question-answering";
    case LM_HEAD_MASKED_LM: return "masked-lm";
    default: return "base";
    }
}

static void usage(FILE *out) {
    fprintf(out, "usage: lm info --model DIR\nPrints the model's head, sizes, parameter count, "
                 "NaN parameters, the BLAS kernel and the configuration as JSON.\n");
    tool_common_usage(out);
}

int cmd_info(int argc, char **argv) {
    tool_ctx c;
    char *json = NULL;
    int code, i, pooling = 0, normalize = 0;
    lm_status s;
    memset(&c, 0, sizeof c);
    c.o.name = "info";
    if ((code = tool_parse_args(&c, argc, argv, usage, 0, NULL, NULL)) >= 0) {
        return code;
    }
    if (tool_load(&c, 0, LM_HEAD_AUTO, NULL) != 0) {
        tool_free(&c);
        return 1;
    }
    s = lm_model_config_json(c.model, &json);
    if (s != LM_OK) {
        fprintf(stderr, "lm info: %s\n", lm_last_error());
        tool_free(&c);
        return 1;
    }
    lm_model_embedding_defaults(c.model, &pooling, &normalize);
    printf("{\"model\":");
    tool_json_string(stdout, c.o.model_dir, strlen(c.o.model_dir));
    printf(",\"head\":\"%s\",\"hidden_size\":%zu,\"layers\":%zu,\"heads\":%zu,"
           "\"vocab_size\":%zu,\"max_length\":%zu,\"num_labels\":%zu,\"has_pooler\":%s,"
           "\"parameters\":%llu,\"nan_parameters\":%llu,\"embedding_pooling\":\"%s\","
           "\"embedding_normalize\":%s,\"blas\":",
           head_name(lm_model_head(c.model)), lm_model_hidden_size(c.model),
           lm_model_num_layers(c.model), lm_model_num_heads(c.model),
           lm_model_vocab_size(c.model), lm_model_max_length(c.model),
           lm_model_num_labels(c.model), lm_model_has_pooler(c.model) ? "true" : "false",
           (unsigned long long)lm_model_parameter_count(c.model),
           (unsigned long long)lm_model_nan_count(c.model), pooling == LM_POOLING_CLS ? "cls" : "mean",
           normalize ? "true" : "false");
    tool_json_string(stdout, lm_blas_info(), strlen(lm_blas_info()));
    printf(",\"config\":");
    for (i = 0; json[i] != '\0'; i++) { /* one line: drop the indentation (strings escape them) */
        if (json[i] != '\n' && json[i] != '\t') {
            putchar(json[i]);
        }
    }
    printf("}\n");
    lm_free(json);
    tool_free(&c);
    return fflush(stdout) != 0;
}
