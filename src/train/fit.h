/* Internal: fine-tuning end to end behind lm/fit.h. The pieces, one file each:
 *
 *   save.c        a model folder: weights, config and the tokenizer files (lm_model_save, final
 *                 folders, checkpoints)
 *   task_data.c   the task of a run (from the options, the head or the training file), reading a
 *                 data file for it, the label map shared with the model, the features
 *   evaluate.c    the evaluation of a model on features: the inference forward per batch, the
 *                 head's loss and the task's metrics (src/data/metrics.h), as lm_metrics and JSON
 *   checkpoint.c  checkpoint folders: the model, optimizer.safetensors and trainer_state.json,
 *                 written under a temporary name and renamed; finding and reading the newest
 *   fit.c         the run: options, output folder, model with its head, the loop (steps, logs,
 *                 evaluations, best model, early stopping, checkpoints), metrics.csv, the end
 *
 * src/api/fit.c checks the handles and reads the caller's structs; everything here gets full-size
 * structs with the defaults filled in. */
#ifndef LM_TRAIN_FIT_H
#define LM_TRAIN_FIT_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/features.h"
#include "lm.h"
#include "model/bert.h"

/* ---- save.c ---- */

/* Writes the model folder: config.json and model.safetensors (lmi_bert_save), then the tokenizer
 * files of the folder the model was loaded from (copied), else those of `tok` (may be NULL).
 * Each file is written atomically. */
lm_status lmi_model_dir_save(const lmi_bert *m, const lm_tokenizer_t *tok, const char *dir);

/* ---- task_data.c ---- */

/* The head of a task (LM_BERT_HEAD_*). */
int lmi_task_head(int task);
/* "classification", "regression", "token-classification", "question-answering", "masked-lm". */
const char *lmi_task_name(int task);
/* The task a model's head trains (AUTO for a base model; a one-label sequence model whose
 * problem type is regression: REGRESSION). */
int lmi_task_of_model(const lmi_bert_config *cfg, int head);
/* The task of a training file for a base model, from its name (AUTO when unknown). */
int lmi_task_of_file(const char *path);

/* Reads a data file for `task` (never AUTO; CLASSIFICATION may turn into REGRESSION when the
 * labels are real numbers and `task_fixed` is 0: *task is updated). labels: the map to read
 * class labels with (dev files, a model's labels), or NULL to build one. max_examples > 0 keeps
 * the first examples. The file must hold what the task needs (labels, a CoNLL tag column,
 * SQuAD answers): otherwise LM_ERR_FORMAT naming the file. */
lm_status lmi_task_data_load(const char *path, int *task, int task_fixed,
                             const lmi_label_map *labels, int64_t max_examples,
                             lmi_dataset **out);

/* Tokenizes a data set for its task with fit's options (max_length, doc_stride, mlm). */
lm_status lmi_task_features(const lmi_dataset *ds, const lm_tokenizer_t *tok, int task,
                            size_t max_length, size_t doc_stride, int mlm_pack, int threads,
                            lmi_features **out);

/* max_length and doc_stride of a run from the options and the model (0: the defaults). */
lm_status lmi_task_lengths(int task, int32_t max_length, int32_t doc_stride,
                           const lmi_bert_config *cfg, size_t *len_out, size_t *stride_out);

/* ---- evaluate.c ---- */

/* Evaluates model m (with its head) on features f of data set ds (the task's labels), in
 * batches of batch_size rows, longest first. mlm_probability and seed fix the masked-LM dev
 * masking. Fills *out (every field; NaN where the task has no such metric); json_out, when not
 * NULL, gets a new JSON object (lmi_free) with the task's metrics, and for classification the
 * labels and the confusion matrix. */
lm_status lmi_evaluate(const lmi_bert *m, const lm_tokenizer_t *tok, int task,
                       const lmi_dataset *ds, const lmi_features *f, size_t batch_size,
                       double mlm_probability, uint64_t seed, lm_metrics *out, char **json_out);

/* Sets every metric of m to NaN, the counts to 0, task to `task`. */
void lmi_metrics_clear(lm_metrics *m, int task);

/* ---- fit.c ---- */

lm_status lmi_fit(const char *model_dir, const lm_fit_options *fo, const lm_trainer_options *to,
                  lm_metrics *out);

/* The library's defaults (full size). */
void lmi_fit_defaults(lm_fit_options *o);

#endif
