/**
 * @file trainer.h
 * @brief liblm public API: training a model (fine-tuning): optimizer, schedule, steps on batches,
 *        evaluation. Included by lm.h; do not include directly.
 *
 * A trainer is created on a model and updates that model's weights in place: the first trainer
 * copies the weights out of the read-only file map into one owned, writable block (the model
 * keeps it after the trainer is freed), then every step runs the forward pass with the activations
 * kept, the loss of the model's head, the backward pass and, every `accumulation_steps` steps, the
 * optimizer. After training, lm_model_save() writes the trained model and every forward or
 * text-level call uses the new weights. While a trainer exists, its model is used only through
 * the trainer: no other call may use the model at the same time. A trainer is used by one thread
 * at a time.
 *
 * Everything is seeded: the same seed, batches and thread count give the same losses and weights,
 * bit for bit, dropout included. After the first step a step allocates nothing (unless a batch is
 * larger than any before it, or, for a masked-LM head, labels more than a quarter of its tokens
 * and more than any before it).
 *
 * Memory: besides the weights (4 bytes each), the gradients and the optimizer state (AdamW and
 * Adam: 3 more blocks of the weights' size; SGD: 1, or 2 with momentum), a step keeps per token
 * and layer (6 hidden + 1 intermediate + heads x seq_len) floats of activations (about 21 KB for
 * all-MiniLM-L6-v2 at 128 tokens), plus one layer's scratch.
 */
#ifndef LM_TRAINER_H
#define LM_TRAINER_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/trainer.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Optimizers (as PyTorch's). */
typedef enum lm_optimizer {
    LM_OPTIMIZER_ADAMW = 0, /**< torch.optim.AdamW: decoupled weight decay (default). */
    LM_OPTIMIZER_ADAM = 1,  /**< torch.optim.Adam: weight decay added to the gradient (L2). */
    LM_OPTIMIZER_SGD = 2    /**< torch.optim.SGD with optional momentum and Nesterov. */
} lm_optimizer;

/** Learning-rate schedules (as transformers' get_*_schedule_with_warmup). */
typedef enum lm_schedule {
    LM_SCHEDULE_LINEAR = 0,  /**< Linear warm-up, then linear decay to 0 at total_steps (default). */
    LM_SCHEDULE_COSINE = 1,  /**< Linear warm-up, then half a cosine down to 0 at total_steps. */
    LM_SCHEDULE_CONSTANT = 2 /**< Linear warm-up, then constant. */
} lm_schedule;

/** Options of lm_trainer_create(). Fill with lm_trainer_options_init(); the defaults are those of
 *  transformers' TrainingArguments where it has one. */
typedef struct lm_trainer_options {
    size_t struct_size;         /**< Set by lm_trainer_options_init() to the caller's sizeof. */
    int32_t optimizer;          /**< An ::lm_optimizer (default AdamW). */
    int32_t schedule;           /**< An ::lm_schedule (default linear). */
    double learning_rate;       /**< Peak learning rate (default 5e-5). */
    double beta1;               /**< Adam's beta1 (default 0.9). */
    double beta2;               /**< Adam's beta2 (default 0.999). */
    double eps;                 /**< Adam's epsilon (default 1e-8). */
    double weight_decay;        /**< Weight decay (default 0); never applied to biases and
                                     LayerNorm weights (transformers' Trainer groups). */
    double momentum;            /**< SGD momentum (default 0). */
    int32_t nesterov;           /**< SGD: 1 for Nesterov momentum (default 0). */
    int32_t accumulation_steps; /**< Steps whose gradients add up before one optimizer update
                                     (default 1). */
    double max_grad_norm;       /**< Global gradient-norm clipping (default 1.0; 0 = none). */
    int64_t warmup_steps;       /**< Optimizer updates of linear warm-up (default 0). */
    int64_t total_steps;        /**< Optimizer updates in the whole run, for the linear and cosine
                                     schedules (required by them: lm_trainer_step() refuses 0
                                     with either, so a trainer made from the defaults alone can
                                     evaluate but not train; default 0). */
    int32_t dropout;            /**< 1 (default): dropout as the model's config says (training
                                     mode); 0: no dropout (as model.eval()). */
    int32_t threads;            /**< Compute threads; 0 (default): the model's. */
    uint64_t seed;              /**< Seed of dropout (default 42). */
} lm_trainer_options;

/**
 * @brief Fills `opts` with the defaults. Call it as `lm_trainer_options_init(&opts, sizeof opts)`.
 * @param opts Options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_trainer_options_init(lm_trainer_options *opts, size_t struct_size);

/**
 * A batch of `batch` sequences of `seq_len` tokens, as plain row-major arrays (the same arrays as
 * the forward passes of lm/model.h), plus the labels of the model's head. Fill with
 * lm_batch_init() and set the fields the head needs; the others stay NULL.
 */
typedef struct lm_batch {
    size_t struct_size;        /**< Set by lm_batch_init() to the caller's sizeof. */
    size_t batch;              /**< Number of sequences. */
    size_t seq_len;            /**< Tokens per sequence (padded). */
    const int32_t *ids;        /**< Token ids [batch * seq_len]. */
    const int32_t *type_ids;   /**< Token type ids [batch * seq_len], or NULL for all 0. */
    const int32_t *attention_mask; /**< 1 token / 0 padding [batch * seq_len], or NULL (all 1). */
    const int32_t *labels;     /**< Integer labels, -100 = ignored: sequence classification
                                    (single-label) [batch] class ids; token classification and
                                    masked LM [batch * seq_len] per-token ids. */
    const float *float_labels; /**< Sequence classification, regression or multi-label:
                                    [batch * num_labels] finite targets (multi-label: in [0, 1]).
                                    With the problem type automatic and more than one label,
                                    float labels mean multi-label (as transformers decides). */
    const int32_t *start_positions; /**< Question answering: first answer token [batch]. Any
                                         value: as transformers, positions are clamped to
                                         [0, seq_len] and seq_len (so anything beyond the
                                         sequence) is ignored. */
    const int32_t *end_positions;   /**< Question answering: last answer token [batch]. */
} lm_batch;

/**
 * @brief Fills `b` with an empty batch (every pointer NULL, sizes 0). Call it as
 *        `lm_batch_init(&b, sizeof b)`.
 * @param b The batch.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `b` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_batch_init(lm_batch *b, size_t struct_size);

/**
 * @brief Creates a trainer on `model` (see the file comment: the model's weights become
 *        writable and are updated in place by lm_trainer_step()).
 * @param model The model; it must outlive the trainer. Every head trains: sequence
 *        classification (single-label, multi-label, regression by its problem type), token
 *        classification, question answering, masked LM. A base model has no loss: LM_ERR_STATE.
 * @param opts Options, or NULL for the defaults (enough for lm_trainer_evaluate(); to train,
 *        the linear default schedule needs total_steps, or choose ::LM_SCHEDULE_CONSTANT).
 * @param[out] out The trainer, freed with lm_trainer_free(); NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT (NULL argument, bad option, named); LM_ERR_STATE (no
 *         head to train, a sequence-classification model without a pooler, or another trainer
 *         holds the model); LM_ERR_NOMEM.
 */
LM_API lm_status lm_trainer_create(lm_model_t *model, const lm_trainer_options *opts,
                                   lm_trainer_t **out);

/**
 * @brief Frees a trainer and its gradients and optimizer state. The model keeps its trained
 *        weights.
 * @param trainer The trainer, or NULL (no-op).
 */
LM_API void lm_trainer_free(lm_trainer_t *trainer);

/**
 * @brief One training step on one batch: forward (dropout on unless disabled), loss of the head,
 *        backward; every `accumulation_steps`-th call also clips the gradients and updates the
 *        weights with the optimizer at the scheduled learning rate.
 *
 * The batch is checked before any work: labels out of range, a sequence longer than the position
 * table, labels missing or of the wrong kind for the head (including labels of another head's
 * kind), and an empty batch are refused with a sentence; nothing changes. A loss or gradient norm
 * that is not finite skips the update: the weights and the optimizer state stay as they were,
 * the accumulated gradients are dropped, and the call returns LM_ERR_NUMERIC.
 *
 * The losses are transformers': cross-entropy (ignore_index -100) for single-label sequence
 * classification, token classification and masked LM (over the labelled tokens only), BCE with
 * logits for multi-label, MSE for regression, the mean of the start and end cross-entropies for
 * question answering. A batch whose labels are all -100 has loss 0 and no gradient (PyTorch's
 * mean over no item would be NaN). With accumulation, each step's gradient is scaled by
 * 1 / accumulation_steps (the loss reported is not).
 * @param trainer The trainer.
 * @param batch The batch.
 * @param[out] loss The batch's loss (mean over its labelled items, as transformers computes it),
 *             also when it is not finite; may be NULL.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_RANGE (an id, label or length out of range:
 *         row and position named); LM_ERR_NUMERIC; LM_ERR_NOMEM.
 */
LM_API lm_status lm_trainer_step(lm_trainer_t *trainer, const lm_batch *batch, float *loss);

/**
 * @brief Loss and logits of a batch without dropout and without touching the weights, the
 *        gradients or the optimizer (an evaluation step).
 * @param trainer The trainer.
 * @param batch The batch; labels may be NULL (the loss is then 0).
 * @param[out] loss The loss; may be NULL.
 * @param[out] logits The head's outputs, or NULL: sequence classification [batch * num_labels];
 *             token classification [batch * seq_len * num_labels]; question answering
 *             [batch * seq_len * 2] (start, end per token); masked LM
 *             [batch * seq_len * vocab size].
 * @param capacity Floats available in `logits`.
 * @return As lm_trainer_step() (never LM_ERR_NUMERIC); LM_ERR_BUFFER_TOO_SMALL.
 */
LM_API lm_status lm_trainer_evaluate(lm_trainer_t *trainer, const lm_batch *batch, float *loss,
                                     float *logits, size_t capacity);

/** @brief Optimizer updates done so far. @param trainer The trainer. @return The count. */
LM_API int64_t lm_trainer_steps(const lm_trainer_t *trainer);
/** @brief The learning rate the next update will use. @param trainer The trainer.
 *  @return The rate. */
LM_API double lm_trainer_learning_rate(const lm_trainer_t *trainer);
/** @brief The global gradient norm of the last update, before clipping. @param trainer The
 *  trainer. @return The norm (0 before the first update). */
LM_API double lm_trainer_grad_norm(const lm_trainer_t *trainer);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_TRAINER_H */
