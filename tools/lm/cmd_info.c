/* lm info: describes a model folder as one JSON object: head (and whether it was initialised
 * fresh), sizes, parameter count, NaN parameters, the tensors of the file the model does not use,
 * embedding defaults, the matrix kernels that run (and the BLAS, the reference path), and the
 * configuration. */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

/* Unused tensors named in the output (all are counted). */
#define UNUSED_NAMES 10

static const tool_option options[] = {
    {"--head", "HEAD",
     "the head to load: auto (default: the one config.json names), base, "
     "sequence-classification, token-classification, question-answering or masked-lm; one "
     "the checkpoint lacks is initialised fresh (random), as transformers does"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const heads[] = {"auto", "base", "sequence-classification",
                                        "token-classification", "question-answering",
                                        "masked-lm", NULL};
    (void)index;
    return tool_parse_choice(cmd, "--head", value, heads, state); /* index == lm_head value */
}

static const tool_command info_cmd = {
    "info", "--model DIR [OPTIONS]",
    "Prints the model's head, sizes, parameter count, NaN parameters, the tensors\n"
    "of the file it does not use (config.json may describe another model than the\n"
    "weights), the embedding defaults, the matrix kernels (and the BLAS, the\n"
    "reference path) and the configuration as one JSON object.\n",
    TOOL_MODEL | TOOL_OUTPUT | TOOL_VERBOSE, options, handle,
};

static const char *problem_name(int32_t p) {
    switch (p) {
    case LM_PROBLEM_SINGLE_LABEL: return "single_label_classification";
    case LM_PROBLEM_MULTI_LABEL: return "multi_label_classification";
    case LM_PROBLEM_REGRESSION: return "regression";
    default: return "auto";
    }
}

static void put_info(tool_ctx *c, const char *json) {
    FILE *f = c->out.f;
    lm_model_t *m = c->model;
    int pooling = 0, normalize = 0;
    size_t i, n_unused = lm_model_unused_tensor_count(m), L = lm_model_num_labels(m);
    lm_model_embedding_defaults(m, &pooling, &normalize);
    fputs("{\"model\":", f);
    tool_json_string(f, c->o.model_dir, strlen(c->o.model_dir));
    fprintf(f,
            ",\"head\":\"%s\",\"fresh_head\":%s,\"hidden_size\":%zu,\"layers\":%zu,\"heads\":%zu,"
            "\"vocab_size\":%zu,\"max_length\":%zu,\"num_labels\":%zu,\"labels\":[",
            tool_head_name(lm_model_head(m)), lm_model_has_fresh_head(m) ? "true" : "false",
            lm_model_hidden_size(m), lm_model_num_layers(m), lm_model_num_heads(m),
            lm_model_vocab_size(m), lm_model_max_length(m), L);
    for (i = 0; i < L; i++) {
        const char *name = lm_model_label_name(m, i);
        fputs(i ? "," : "", f);
        tool_json_string(f, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
    }
    fprintf(f,
            "],\"problem_type\":\"%s\",\"has_pooler\":%s,\"has_tokenizer\":%s,"
            "\"parameters\":%llu,\"nan_parameters\":%llu,\"unused_tensors\":%zu,"
            "\"unused_tensor_names\":[",
            problem_name(lm_model_problem_type(m)), lm_model_has_pooler(m) ? "true" : "false",
            lm_model_tokenizer(m) != NULL ? "true" : "false",
            (unsigned long long)lm_model_parameter_count(m),
            (unsigned long long)lm_model_nan_count(m), n_unused);
    for (i = 0; i < n_unused && i < UNUSED_NAMES; i++) {
        const char *name = lm_model_unused_tensor_name(m, i);
        fputs(i ? "," : "", f);
        tool_json_string(f, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
    }
    fprintf(f, "],\"embedding_pooling\":\"%s\",\"embedding_normalize\":%s,\"kernels\":",
            pooling == LM_POOLING_CLS ? "cls" : "mean", normalize ? "true" : "false");
    tool_json_string(f, lm_kernel_info(), strlen(lm_kernel_info()));
    fputs(",\"blas\":", f);
    tool_json_string(f, lm_blas_info(), strlen(lm_blas_info()));
    fputs(",\"config\":", f);
    for (i = 0; json[i] != '\0'; i++) { /* one line: drop the indentation (strings escape them) */
        if (json[i] != '\n' && json[i] != '\t') {
            fputc(json[i], f);
        }
    }
    fputs("}\n", f);
}

int cmd_info(int argc, char **argv) {
    tool_ctx c;
    char *json = NULL;
    int code, head = LM_HEAD_AUTO, ok;
    tool_ctx_init(&c, &info_cmd);
    if ((code = tool_parse_args(&info_cmd, &c.o, argc, argv, &head)) >= 0) {
        return code;
    }
    if ((code = tool_start(&c, head, LM_HEAD_AUTO, 0)) != 0) {
        tool_finish(&c, 0);
        return code;
    }
    if (lm_model_config_json(c.model, &json) != LM_OK) {
        fprintf(stderr, "lm info: %s\n", lm_last_error());
        return tool_finish(&c, 0);
    }
    if (lm_model_has_fresh_head(c.model)) {
        fprintf(stderr, "lm info: warning: the checkpoint has no %s head: it was initialised "
                        "fresh (random); train it before using its predictions\n",
                tool_head_name(lm_model_head(c.model)));
    }
    put_info(&c, json);
    lm_free(json);
    ok = tool_output_line(&c.out) == 0;
    return tool_finish(&c, ok);
}
