/**
 * @file fit.h
 * @brief liblm public API: fine-tuning end to end: a model folder and data files in, a trained
 *        model folder, checkpoints and metrics out (lm_fit()), and the scores of a model on a
 *        data file (lm_evaluate()). Included by lm.h; do not include directly.
 *
 * lm_fit() does what a fine-tuning script does with the lower-level calls of lm/trainer.h:
 *  1. picks the task (::lm_task) from the options, else from the model's head, else (a base
 *     model) from the training file: CoNLL (.conll) token classification, SQuAD v1.1 JSON (.json)
 *     question answering, plain text (.txt) masked LM, delimited files (.tsv, .csv, .jsonl)
 *     sequence classification of a text or a text pair (regression when the labels are numbers
 *     and not all integers);
 *  2. reads the data (labels sorted as transformers' run_glue / run_ner sort them; a dev file is
 *     read with the training file's labels, and a label it does not know is an error naming its
 *     line), tokenizes it as transformers' example scripts do (run_glue, run_ner with the label
 *     on each word's first sub-token, run_qa's overlapping windows of long contexts, run_mlm's
 *     lines or packed blocks with 15% of the tokens masked 80/10/10);
 *  3. loads the model with the task's head; a model without one gets a fresh head, initialised
 *     as transformers does from the trainer's seed, with the labels of the data (stored as
 *     id2label / label2id in the saved config.json);
 *  4. trains for `epochs` epochs or `max_steps` optimizer updates on seeded, shuffled batches
 *     padded to their longest row (dynamic padding), with the optimizer, schedule and clipping
 *     of the lm_trainer_options; evaluates on the dev file every `eval_every` updates and at the
 *     end of each epoch; keeps the best model; stops early after `patience` evaluations without
 *     improvement;
 *  5. writes, in `out_dir`: `checkpoint-STEP/` folders (below), `metrics.csv` (one row per logged
 *     step and per evaluation: step, epoch, loss, lr, grad_norm and the dev metrics), `best/`
 *     (the best model by the dev metric) and, at the end, the trained model itself (config.json,
 *     model.safetensors and the tokenizer files: a Hugging Face folder that transformers loads,
 *     and that lm_model_load() and the text-level calls of lm/text.h use directly).
 *
 * Checkpoints: `checkpoint-STEP/` holds the model folder, `optimizer.safetensors` (the
 * optimizer's moments) and `trainer_state.json` (step, epoch, batch within the epoch, the seeds,
 * the running loss, the best metric, the metrics history and a hash of the starting model's
 * configuration). Each is written under a temporary name, fsynced and renamed into place, so a
 * crash (even SIGKILL) while saving leaves the previous checkpoint whole and loadable. With
 * `resume_dir`, a run continues from a checkpoint and gives bit for bit the losses and weights of
 * the run that was never stopped (same options, same thread count). A checkpoint of a run from
 * another model, or from other training data, is refused.
 *
 * Progress: the callback (lm_fit_options.callback) gets an ::lm_fit_progress at each event;
 * returning non-zero from it stops the run cleanly: a checkpoint and the model so far are saved
 * and lm_fit() returns LM_OK (the ::LM_FIT_END event then has `stopped` 1).
 *
 * lm_fit() never prints; its notes go to the log callback (lm_set_log_callback()). Nothing it
 * finds on disk is lost: an output folder holding an earlier run is refused unless resuming it
 * (or `overwrite` is set), and a failed write leaves the previous files as they were.
 */
#ifndef LM_FIT_H
#define LM_FIT_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/fit.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** What lm_fit() trains and lm_evaluate() scores. */
typedef enum lm_task {
    LM_TASK_AUTO = 0,                /**< From the model's head, else from the training file
                                          (see the file comment). */
    LM_TASK_CLASSIFICATION = 1,      /**< Sequence classification of a text or a text pair
                                          (BertForSequenceClassification): single-label, or
                                          regression when the labels are real numbers. */
    LM_TASK_REGRESSION = 2,          /**< Sequence regression: num_labels 1, mean squared
                                          error. */
    LM_TASK_TOKEN_CLASSIFICATION = 3, /**< A label per word (CoNLL), on its first sub-token. */
    LM_TASK_QUESTION_ANSWERING = 4,  /**< Extractive QA on SQuAD v1.1 JSON. */
    LM_TASK_MASKED_LM = 5            /**< Masked-LM adaptation on text. */
} lm_task;

/** The events of lm_fit()'s progress callback (lm_fit_progress.event). */
typedef enum lm_fit_event {
    LM_FIT_START = 0,      /**< Data read and model loaded: totals known, nothing trained yet. */
    LM_FIT_STEP = 1,       /**< After each optimizer update: `loss` is that update's loss. */
    LM_FIT_LOG = 2,        /**< Every `log_every` updates and after the last: `loss` is the mean
                                of the updates' losses since the previous LM_FIT_LOG. */
    LM_FIT_EVAL = 3,       /**< After an evaluation on the dev file: `metrics`. */
    LM_FIT_CHECKPOINT = 4, /**< A checkpoint was written: `path`. */
    LM_FIT_END = 5         /**< The final model was written: `path`; `metrics` are those of the
                                model kept (the best, or the last evaluation), or NULL. */
} lm_fit_event;

/**
 * Scores of a model on a data set (lm_evaluate(), lm_fit()). A metric the task does not have is
 * NaN. Fill with lm_metrics_init() before passing it to liblm. When liblm hands one to a
 * callback, read a field only when `struct_size` covers it.
 */
typedef struct lm_metrics {
    size_t struct_size;  /**< The size of the struct as its writer knew it. */
    int32_t task;        /**< The ::lm_task scored. */
    int32_t num_labels;  /**< Classes of a classification or token-classification head (else 0). */
    int64_t examples;    /**< Examples scored (QA: questions; masked LM: masked tokens). */
    double loss;         /**< Mean loss of the head: per example (classification, regression),
                              per labelled token (token classification, masked LM), per window
                              (QA). */
    double accuracy;     /**< Classification: share of examples right; token classification:
                              share of labelled tokens right (seqeval's accuracy). */
    double f1;           /**< Classification: macro F1 over the classes; token classification:
                              seqeval's entity F1 (micro); QA: SQuAD F1 in percent. */
    double f1_binary;    /**< Two classes: F1 of class 1 (scikit-learn's binary F1); else NaN. */
    double precision;    /**< Token classification: entity precision. */
    double recall;       /**< Token classification: entity recall. */
    double exact_match;  /**< QA: SQuAD exact match in percent. */
    double pearson;      /**< Regression: Pearson's r. */
    double spearman;     /**< Regression: Spearman's rho. */
    double mse;          /**< Regression: mean squared error. */
    double perplexity;   /**< Masked LM: exp(total cross-entropy / masked tokens). */
    double main;         /**< The task's main metric: accuracy, pearson, entity f1, SQuAD f1,
                              or perplexity (the only one where lower is better). */
    double eval_s;       /**< Wall time of the evaluation in seconds. */
} lm_metrics;

/**
 * @brief Fills `m` with an empty result (task AUTO, counts 0, every metric NaN). Call it as
 *        `lm_metrics_init(&m, sizeof m)`.
 * @param m The struct.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `m` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_metrics_init(lm_metrics *m, size_t struct_size);

/**
 * What lm_fit() tells its callback. Owned by liblm and valid only during the call; read a field
 * only when `struct_size` covers it. Times count training only (evaluation and saving left
 * out), since the start of this process's run.
 */
typedef struct lm_fit_progress {
    size_t struct_size;      /**< The size of the struct as liblm knows it. */
    int32_t event;           /**< An ::lm_fit_event. */
    int32_t epoch;           /**< The epoch running or just ended, from 1. */
    int64_t step;            /**< Optimizer updates done. */
    int64_t total_steps;     /**< Optimizer updates of the whole run. */
    int64_t steps_per_epoch; /**< Optimizer updates per epoch. */
    int64_t train_rows;      /**< Model inputs (rows) per training epoch (QA: windows). */
    int64_t dev_rows;        /**< Rows of the dev file (0 without one). */
    int64_t first_step;      /**< The step this run started from (> 0 when resumed). */
    double epoch_float;      /**< Epochs done, with the fraction of the running one. */
    double loss;             /**< LM_FIT_STEP: the update's loss; LM_FIT_LOG: the mean since
                                  the previous log; else NaN. */
    double learning_rate;    /**< The learning rate of the last update. */
    double grad_norm;        /**< Its gradient norm before clipping. */
    double examples_per_s;   /**< Training rows per second. */
    double tokens_per_s;     /**< Real (not padding) training tokens per second. */
    double elapsed_s;        /**< Training seconds so far. */
    double eta_s;            /**< Estimated training seconds left (NaN before the first step). */
    int64_t examples;        /**< Training rows run so far. */
    int64_t tokens;          /**< Real training tokens run so far. */
    const lm_metrics *metrics; /**< LM_FIT_EVAL and LM_FIT_END: dev metrics, else NULL. */
    const char *path;        /**< LM_FIT_CHECKPOINT: the folder written; LM_FIT_END: the final
                                  folder; else NULL. */
    int32_t is_best;         /**< LM_FIT_EVAL: 1 when this evaluation is the best so far. */
    int32_t stopped;         /**< LM_FIT_END: 1 when the run stopped before its end (callback
                                  or early stopping). */
    int32_t task;            /**< The ::lm_task trained. */
    int32_t num_labels;      /**< Its label count (classification heads), else 0. */
    int32_t max_length;      /**< Tokens per row of the run (the option, or its default). */
    int32_t reserved0;       /**< 0. */
} lm_fit_progress;

/** lm_fit()'s progress callback. Return 0 to go on, non-zero to stop cleanly. */
typedef int (*lm_fit_callback)(const lm_fit_progress *progress, void *user_data);

/**
 * Options of lm_fit() and lm_evaluate() (which uses the data fields only). Fill with
 * lm_fit_options_init(); the defaults follow docs/finetune.md's recipe. The optimizer, schedule,
 * learning rate, clipping, dropout, seed and threads are the lm_trainer_options passed beside
 * them; lm_fit() sets their total_steps (and warmup_steps when warmup_ratio is set).
 */
typedef struct lm_fit_options {
    size_t struct_size;      /**< Set by lm_fit_options_init() to the caller's sizeof. */
    int32_t task;            /**< An ::lm_task (default AUTO). */
    int32_t epochs;          /**< Epochs (default 3). */
    int64_t max_steps;       /**< > 0: train this many optimizer updates (the schedule spans
                                  them), whatever `epochs` says (default 0). */
    const char *train_path;  /**< Training file (lm_fit: required). */
    const char *dev_path;    /**< Dev file, or NULL: no evaluation (lm_evaluate: the file). */
    const char *out_dir;     /**< Output folder (lm_fit: required); created when missing. */
    const char *resume_dir;  /**< NULL, or a checkpoint folder, or an output folder (its newest
                                  complete checkpoint) to continue from. */
    int32_t batch_size;      /**< Rows per training batch (default 32). */
    int32_t eval_batch_size; /**< Rows per evaluation batch (default 64). */
    int32_t max_length;      /**< Tokens per row, special tokens included; 0 (default): 128, or
                                  384 for QA, at most the model's positions. */
    int32_t doc_stride;      /**< QA: tokens shared by consecutive windows; 0 (default): 128, or
                                  max_length / 4 when that is smaller. */
    double warmup_ratio;     /**< > 0: warm-up over ceil(ratio * total updates) (default 0: the
                                  trainer options' warmup_steps). */
    int32_t shuffle;         /**< 1 (default): a new seeded order each epoch; 0: file order. */
    int32_t group_by_length; /**< k > 0: batches of similar lengths (transformers'
                                  LengthGroupedSampler over runs of k batches; default 0). */
    int64_t eval_every;      /**< Evaluate every N updates (default 0: at each epoch end only;
                                  epoch ends are always evaluated). */
    int64_t log_every;       /**< LM_FIT_LOG and a metrics.csv row every N updates (default 50). */
    int64_t save_every;      /**< A checkpoint every N updates (default 0: at each epoch end and
                                  when stopped). */
    int32_t keep_checkpoints; /**< Newest checkpoints kept (default 2; older ones are deleted). */
    int32_t patience;        /**< Early stopping after this many evaluations without a better
                                  main metric (default 0: off). */
    int32_t load_best;       /**< 1 (default): the final folder holds the best evaluated model;
                                  0: the last one. */
    int32_t overwrite;       /**< 1: out_dir may hold an earlier run, whose checkpoints are
                                  deleted (default 0: refused). */
    double mlm_probability;  /**< Masked LM: share of tokens masked (default 0.15). */
    int32_t mlm_pack;        /**< Masked LM: 1 packs the lines into blocks of max_length tokens
                                  (run_mlm's group_texts); 0 (default): one row per line. */
    int32_t reserved0;       /**< Must be 0. */
    int64_t max_train_examples; /**< > 0: only the first N training examples (file order; the
                                     labels still come from the whole file). Default 0: all. */
    int64_t max_eval_examples;  /**< > 0: only the first N dev examples. Default 0: all. */
    lm_fit_callback callback; /**< Progress callback, or NULL. */
    void *user_data;          /**< Passed to the callback. */
} lm_fit_options;

/**
 * @brief Fills `opts` with the defaults. Call it as `lm_fit_options_init(&opts, sizeof opts)`.
 * @param opts Options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_fit_options_init(lm_fit_options *opts, size_t struct_size);

/**
 * @brief Fine-tunes the model of `model_dir` on `fit->train_path` and writes the trained model
 *        to `fit->out_dir` (see the file comment for the steps, the files and checkpoints).
 * @param model_dir The starting model folder (config.json, model.safetensors, tokenizer files);
 *        a checkpoint given by `fit->resume_dir` must come from a run that started from the same
 *        configuration.
 * @param fit The run's options (required: train_path and out_dir).
 * @param train The trainer's options, or NULL for the defaults (AdamW, learning rate 5e-5,
 *        linear schedule, clipping at 1, dropout on, seed 42, all threads); total_steps is set
 *        by lm_fit().
 * @param[out] metrics The final dev metrics (the model kept), or NULL. Without a dev file every
 *        metric is NaN and `task` is set.
 * @return LM_OK (also when the callback stopped the run); LM_ERR_INVALID_ARGUMENT (a bad
 *         option, named); LM_ERR_FORMAT, LM_ERR_UTF8, LM_ERR_RANGE (bad data: "file:line: what
 *         is wrong"); LM_ERR_STATE (an output folder holding another run, a checkpoint of another
 *         model or data, a model whose labels are not the data's); LM_ERR_NUMERIC (the loss or
 *         gradient stopped being finite: the step named; the last checkpoint stays); file
 *         errors (LM_ERR_IO, LM_ERR_PERMISSION, LM_ERR_NOT_FOUND) naming the file; LM_ERR_NOMEM.
 */
LM_API lm_status lm_fit(const char *model_dir, const lm_fit_options *fit,
                        const lm_trainer_options *train, lm_metrics *metrics);

/**
 * @brief Scores `model` on the data file `opts->dev_path` with the metrics of its task (the
 *        same evaluation lm_fit() runs on its dev file).
 * @param model A model with a head, loaded with its tokenizer.
 * @param opts Options: dev_path (required), task (AUTO: from the head; LM_TASK_REGRESSION and
 *        LM_TASK_CLASSIFICATION tell a one-label model's kind), eval_batch_size, max_length,
 *        doc_stride, mlm_probability, max_eval_examples. The labels of the file must be the
 *        model's (config.json id2label); an unknown one is an error naming its line.
 * @param[out] metrics The scores, or NULL.
 * @param[out] json_out NULL, or a new NUL-terminated JSON object of the task's metrics (for
 *        classification also "labels" and "confusion", rows the gold labels); free with
 *        lm_free(). NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_STATE (no head, no tokenizer, a head the data
 *         cannot score); data errors as lm_fit(); LM_ERR_NOMEM.
 */
LM_API lm_status lm_evaluate(const lm_model_t *model, const lm_fit_options *opts,
                             lm_metrics *metrics, char **json_out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_FIT_H */
