/* lm eval: scores a model with a head on a data file (lm_evaluate, lm/fit.h) and prints one JSON
 * object with the task's metrics (classification: accuracy, f1, loss, the labels and the
 * confusion matrix, rows the gold labels). */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_common.h"

enum { E_DATA, E_TASK, E_BATCH, E_MAX_LENGTH, E_DOC_STRIDE, E_MAX_EXAMPLES };

static const tool_option options[] = {
    [E_DATA] = {"--data", "FILE",
                "the data to score, in lm train's formats (.tsv/.csv/.jsonl, .conll, .json "
                "SQuAD, .txt); required"},
    [E_TASK] = {"--task", "T",
                "auto (default: the model's head), classification, regression, "
                "token-classification (tokens), question-answering (qa) or masked-lm (mlm)"},
    [E_BATCH] = {"--batch-size", "N", "rows per forward pass (default 64)"},
    [E_MAX_LENGTH] = {"--max-length", "N",
                      "tokens per row (default 128, QA 384, at most the model's positions)"},
    [E_DOC_STRIDE] = {"--doc-stride", "N", "QA: tokens shared by consecutive windows (default "
                                           "128, or max-length / 3 when smaller)"},
    [E_MAX_EXAMPLES] = {"--max-examples", "N", "only the first N examples (default: all)"},
    {NULL, NULL, NULL},
};

static int handle(const tool_command *cmd, void *state, int index, const char *value) {
    static const char *const names[] = {"auto", "classification", "regression",
                                        "token-classification", "question-answering",
                                        "masked-lm", "tokens", "qa", "mlm", NULL};
    static const int32_t tasks[] = {LM_TASK_AUTO, LM_TASK_CLASSIFICATION, LM_TASK_REGRESSION,
                                    LM_TASK_TOKEN_CLASSIFICATION, LM_TASK_QUESTION_ANSWERING,
                                    LM_TASK_MASKED_LM, LM_TASK_TOKEN_CLASSIFICATION,
                                    LM_TASK_QUESTION_ANSWERING, LM_TASK_MASKED_LM};
    lm_fit_options *o = state;
    long long v;
    int k;
    switch (index) {
    case E_DATA:
        o->dev_path = value;
        return 0;
    case E_TASK:
        if (tool_parse_choice(cmd, "--task", value, names, &k) != 0) {
            return 2;
        }
        o->task = tasks[k];
        return 0;
    default:
        break;
    }
    if (tool_parse_int(cmd, options[index].name, value, index == E_BATCH ? 1 : 0,
                       index == E_MAX_EXAMPLES ? INT64_MAX : 1 << 20, &v) != 0) {
        return 2;
    }
    switch (index) {
    case E_BATCH: o->eval_batch_size = (int32_t)v; break;
    case E_MAX_LENGTH: o->max_length = (int32_t)v; break;
    case E_DOC_STRIDE: o->doc_stride = (int32_t)v; break;
    default: o->max_eval_examples = v; break;
    }
    return 0;
}

static const tool_command eval_cmd = {
    "eval", "--model DIR --data FILE [OPTIONS]",
    "Scores the model (with its head and labels) on the data file and prints one\n"
    "JSON object of the task's metrics: classification accuracy, f1 (macro),\n"
    "f1_binary (two labels), loss, labels and confusion (rows: gold); regression\n"
    "pearson, spearman, mse; token classification entity precision, recall, f1 and\n"
    "accuracy; QA exact_match and f1 (SQuAD, percent); masked LM perplexity.\n",
    TOOL_MODEL | TOOL_OUTPUT | TOOL_THREADS | TOOL_VERBOSE | TOOL_INT8, options, handle,
};

int cmd_eval(int argc, char **argv) {
    tool_ctx c;
    lm_fit_options o;
    char *json = NULL;
    lm_status s;
    int code;
    lm_fit_options_init(&o, sizeof o);
    tool_ctx_init(&c, &eval_cmd);
    if ((code = tool_parse_args(&eval_cmd, &c.o, argc, argv, &o)) >= 0) {
        return code;
    }
    if (o.dev_path == NULL && c.o.model_dir != NULL) {
        return tool_usage_error(&eval_cmd, "--data FILE is required");
    }
    code = tool_start(&c, LM_HEAD_AUTO, LM_HEAD_AUTO, 1);
    if (code != 0) {
        tool_finish(&c, 0);
        return code;
    }
    s = lm_evaluate(c.model, &o, NULL, &json);
    if (s != LM_OK) {
        fprintf(stderr, "lm eval: %s\n", lm_last_error());
        tool_finish(&c, 0);
        return 1;
    }
    fprintf(c.out.f, "%s\n", json);
    lm_free(json);
    return tool_finish(&c, tool_output_line(&c.out) == 0);
}
