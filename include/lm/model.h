/**
 * @file lm/model.h
 * @brief liblm public API: models: loading, creating, saving, information, forward passes on token ids. Included by lm.h; do not include directly.
 */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/model.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Which matrix kernels run
 *
 * liblm multiplies with its own kernels, chosen at run time from the CPU (AVX-512, AVX2+FMA, or
 * portable C; for int8 models AVX-512 VNNI, AVX2, or C): no environment variable and no setting
 * is needed for the fast path. The BLAS library is only the reference path (LM_MATMUL=blas in
 * the environment runs the heads' and the training products on it); the lm_blas_* functions
 * describe it.
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief The matrix kernels liblm runs on this CPU, e.g. "gemm avx512-14x32, int8
 *        avx512-vnni-12x32". For logs and benchmark output.
 * @return A thread-local string owned by the library, valid until the next call on the same
 *         thread; never NULL.
 */
LM_API const char *lm_kernel_info(void);

/**
 * @brief The name of the kernel the BLAS library picked for this CPU, e.g. "SkylakeX", "Zen",
 *        "Haswell" or "Prescott".
 *
 * OpenBLAS builds older than the CPU may pick a generic kernel (often "Prescott") that is about
 * 5x slower. This only matters on the reference path (LM_MATMUL=blas): liblm's own kernels run
 * everything else. There, the fast kernel is chosen by setting the environment variable
 * `OPENBLAS_CORETYPE` (e.g. `OPENBLAS_CORETYPE=SKYLAKEX` on CPUs with AVX-512) before the
 * program starts: the BLAS library reads it once, when it is loaded.
 * @return A static string owned by the BLAS library; never NULL.
 */
LM_API const char *lm_blas_kernel(void);

/**
 * @brief The number of threads the BLAS library uses for one product on its own. Loading or
 *        creating a model sets it to 1: liblm splits its products over its own OpenMP threads.
 * @return The BLAS thread count (>= 1).
 */
LM_API int lm_blas_threads(void);

/**
 * @brief The `OPENBLAS_CORETYPE` value that would select a faster kernel on this CPU.
 *
 * When it is not NULL and the products run on the BLAS (LM_MATMUL=blas), loading or creating
 * the first model also sends one ::LM_LOG_WARN message through the log callback
 * (lm_set_log_callback()) naming the variable to set.
 * @return "SKYLAKEX" when the CPU supports AVX-512 (F, BW, VL, DQ) and the running kernel is not
 *         an AVX-512 one; "HASWELL" when the CPU has AVX2 and FMA and the kernel is an older,
 *         generic one; NULL when the running kernel is already the right one. Static string.
 */
LM_API const char *lm_blas_suggested_coretype(void);

/**
 * @brief One line describing the BLAS in use: library version, kernel and, on the slow path,
 *        the variable to set, e.g. "OpenBLAS 0.3.21, kernel Zen". For logs and benchmark output.
 * @return A thread-local string owned by the library, valid until the next call on the same
 *         thread; never NULL.
 */
LM_API const char *lm_blas_info(void);

/* ---------------------------------------------------------------------------------------------
 * Models: loading, creating, saving
 * ------------------------------------------------------------------------------------------- */

/** The task head a model runs on top of its encoder. */
typedef enum lm_head {
    LM_HEAD_AUTO = 0,                    /**< From config.json "architectures" (load/create). */
    LM_HEAD_BASE = 1,                    /**< BertModel: hidden states, pooled output. */
    LM_HEAD_SEQUENCE_CLASSIFICATION = 2, /**< BertForSequenceClassification. */
    LM_HEAD_TOKEN_CLASSIFICATION = 3,    /**< BertForTokenClassification. */
    LM_HEAD_QUESTION_ANSWERING = 4,      /**< BertForQuestionAnswering (start/end logits). */
    LM_HEAD_MASKED_LM = 5                /**< BertForMaskedLM (decoder tied to word embeddings). */
} lm_head;

/** Sentence-embedding pooling. */
typedef enum lm_pooling {
    LM_POOLING_DEFAULT = 0, /**< The model's default (sentence-transformers' modules.json; else mean). */
    LM_POOLING_MEAN = 1,    /**< Mean over the tokens whose attention mask is 1. */
    LM_POOLING_CLS = 2      /**< The first token ([CLS]). */
} lm_pooling;

/** What a sequence-classification head predicts (config.json "problem_type"). */
typedef enum lm_problem_type {
    LM_PROBLEM_AUTO = 0,         /**< From config.json; absent: regression when num_labels is 1,
                                      else single-label (as transformers infers it). */
    LM_PROBLEM_SINGLE_LABEL = 1, /**< One class per text: softmax, cross-entropy. */
    LM_PROBLEM_MULTI_LABEL = 2,  /**< Any number of classes per text: sigmoid, binary CE. */
    LM_PROBLEM_REGRESSION = 3    /**< One or more real values: no activation, mean squared error. */
} lm_problem_type;

/** Options of lm_model_load() and lm_model_create(). Fill with lm_model_options_init(). */
typedef struct lm_model_options {
    size_t struct_size; /**< Set by lm_model_options_init() to the caller's sizeof. */
    int32_t threads;    /**< Compute threads; 0 (default) = OpenMP's default (OMP_NUM_THREADS,
                             else the cores available). liblm runs every op of a forward pass on
                             one OpenMP team of this size. */
    int32_t head;       /**< An ::lm_head; LM_HEAD_AUTO (default) follows config.json. Another
                             value loads that head instead; when the checkpoint lacks its tensors
                             (a base or sentence-embedding checkpoint loaded for classification,
                             ...) the head is initialised fresh, as transformers does, from
                             `seed` (the log says so, and lm_model_has_fresh_head() returns 1). */
    /* Since 0.2. */
    int32_t num_labels; /**< A fresh classification head's label count; 0 (default) =
                             config.json's num_labels. Required with `label_names`. */
    int32_t problem_type; /**< An ::lm_problem_type stored in the config of a fresh head;
                               LM_PROBLEM_AUTO (default) keeps config.json's. */
    const char *const *label_names; /**< `num_labels` label names (config id2label) for a fresh
                                         head, or NULL (default) for "LABEL_0", "LABEL_1", ...
                                         Copied during the call. */
    uint64_t seed;      /**< Seed of a fresh head's weights (default 0). */
    int32_t no_tokenizer; /**< 1: do not load the folder's tokenizer (default 0: load it when
                               the folder has one; see lm_model_tokenizer()). */
    int32_t reserved0;  /**< Must be 0. */
    int32_t int8;       /**< 1: int8 inference: the encoder's Linear weights are quantised per
                             output channel (symmetric int8) on the first forward pass, and each
                             product quantises its input per row (uint8 with a zero point) and
                             multiplies in integers (AVX-512 VNNI, AVX2, or C). About 2-3x
                             faster than float; sentence embeddings stay within cosine 0.99 of
                             the float ones. The float weights stay for saving and training.
                             Default 0: float32 throughout. */
    int32_t reserved1;  /**< Must be 0. */
} lm_model_options;

/** Defined when lm_model_options has the `int8` field (since 0.2). */
#define LM_MODEL_OPTIONS_HAS_INT8 1

/**
 * @brief Fills `opts` with the defaults (threads 0, head ::LM_HEAD_AUTO).
 *
 * Call it as `lm_model_options_init(&opts, sizeof opts)` (see lm_tokenizer_options_init()).
 * @param opts The options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_model_options_init(lm_model_options *opts, size_t struct_size);

/**
 * @brief Loads a Hugging Face BERT model folder: `config.json` and `model.safetensors` (F32 read
 *        in place from a read-only map when aligned, F16/BF16 converted once to F32), plus the
 *        sentence-embedding defaults of a sentence-transformers folder (`modules.json`,
 *        `1_Pooling/config.json`).
 *
 * Tensors are found by their Hugging Face names with or without the `bert.` prefix; tensors the
 * head does not use are ignored; a missing pooler is allowed unless the head needs it.
 * @param dir The folder.
 * @param opts Options, or NULL for the defaults.
 * @param[out] out The new model, freed with lm_model_free(); NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT (NULL argument, bad options);
 *         LM_ERR_NOT_FOUND (no config.json / model.safetensors, or a tensor missing: named);
 *         LM_ERR_SHAPE (a tensor's shape disagrees with config.json: both named);
 *         LM_ERR_FORMAT, LM_ERR_UTF8 (corrupt files); LM_ERR_UNSUPPORTED (configuration or
 *         dtype liblm does not run, only pytorch_model.bin); LM_ERR_IO, LM_ERR_PERMISSION,
 *         LM_ERR_NOMEM.
 */
LM_API lm_status lm_model_load(const char *dir, const lm_model_options *opts, lm_model_t **out);

/**
 * @brief Creates a model with fresh weights from a config.json text, initialised as transformers
 *        does: weights and embeddings normal(0, initializer_range) (the padding token's embedding
 *        row zero), layer norms 1 and 0, biases 0.
 * @param config_json The configuration as JSON (transformers' BertConfig keys; absent keys take
 *        BertConfig's defaults), `len` bytes, need not be NUL-terminated.
 * @param len Its length in bytes.
 * @param seed Seed of the generator; the same seed gives the same weights.
 * @param opts Options, or NULL. The head is opts->head, else config's "architectures".
 * @param[out] out The new model, freed with lm_model_free(); NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_FORMAT / LM_ERR_UNSUPPORTED /
 *         LM_ERR_RANGE (configuration, field named); LM_ERR_NOMEM.
 */
LM_API lm_status lm_model_create(const char *config_json, size_t len, uint64_t seed,
                                 const lm_model_options *opts, lm_model_t **out);

/**
 * @brief Writes the model as a Hugging Face folder that transformers' from_pretrained loads:
 *        `config.json` (architectures set from the head) and `model.safetensors` (F32), plus the
 *        tokenizer files (vocab.txt, tokenizer_config.json, tokenizer.json,
 *        special_tokens_map.json) of the folder the model was loaded from. Each file is written
 *        atomically (a crash leaves the old file or the new one, whole).
 * @param model The model.
 * @param dir The folder; created when missing (its parent must exist).
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_IO, LM_ERR_PERMISSION,
 *         LM_ERR_NOT_FOUND (no parent folder); LM_ERR_NOMEM.
 */
LM_API lm_status lm_model_save(const lm_model_t *model, const char *dir);

/**
 * @brief The tokenizer loaded with the model (`tokenizer.json`, else `vocab.txt` +
 *        `tokenizer_config.json` of its folder).
 * @param model The model.
 * @return The tokenizer, owned by the model (valid until lm_model_free()), or NULL when the model
 *         was created, loaded with `no_tokenizer`, or its folder has no tokenizer files; the
 *         text-level calls then fail with LM_ERR_STATE.
 */
LM_API const lm_tokenizer_t *lm_model_tokenizer(const lm_model_t *model);

/**
 * @brief Frees a model and unmaps its weights.
 * @param model The model, or NULL (no-op). No forward call may be running on it.
 */
LM_API void lm_model_free(lm_model_t *model);

/* ---------------------------------------------------------------------------------------------
 * Models: information (never fail; `model` must not be NULL)
 * ------------------------------------------------------------------------------------------- */

/** @brief The head the model runs. @param model The model. @return An ::lm_head (never AUTO). */
LM_API lm_head lm_model_head(const lm_model_t *model);
/** @brief Hidden size C (the length of an embedding). @param model The model. @return C. */
LM_API size_t lm_model_hidden_size(const lm_model_t *model);
/** @brief Number of encoder layers. @param model The model. @return The layer count. */
LM_API size_t lm_model_num_layers(const lm_model_t *model);
/** @brief Number of attention heads. @param model The model. @return The head count. */
LM_API size_t lm_model_num_heads(const lm_model_t *model);
/** @brief Vocabulary size V (token ids are in [0, V)). @param model The model. @return V. */
LM_API size_t lm_model_vocab_size(const lm_model_t *model);
/** @brief Number of token types (segment ids are in [0, n)). @param model The model. @return n. */
LM_API size_t lm_model_type_vocab_size(const lm_model_t *model);
/** @brief Longest sequence the model accepts (max_position_embeddings). @param model The model.
 *  @return The length. */
LM_API size_t lm_model_max_length(const lm_model_t *model);
/** @brief The tokens per input the text-level calls use by default (lm/text.h,
 *  lm_text_options.max_length 0): sentence-transformers' max_seq_length, else the tokenizer's
 *  model_max_length, else lm_model_max_length(). @param model The model. @return The length. */
LM_API size_t lm_model_text_max_length(const lm_model_t *model);
/** @brief Number of labels of the classification heads (config num_labels).
 *  @param model The model. @return The label count. */
LM_API size_t lm_model_num_labels(const lm_model_t *model);
/**
 * @brief The name of a label (config.json id2label), e.g. "POSITIVE" or "LABEL_1".
 * @param model The model.
 * @param id The label id.
 * @return A string owned by the model (valid until lm_model_free), or NULL when id is out of range.
 */
LM_API const char *lm_model_label_name(const lm_model_t *model, size_t id);
/** @brief Number of parameters (tied weights counted once). @param model The model.
 *  @return The count. */
LM_API uint64_t lm_model_parameter_count(const lm_model_t *model);
/** @brief Number of NaN values among the parameters (scans them; NaN weights load fine).
 *  @param model The model. @return The count. */
LM_API uint64_t lm_model_nan_count(const lm_model_t *model);
/** @brief Whether the model has a pooler (pooler.dense). @param model The model. @return 1 or 0. */
LM_API int lm_model_has_pooler(const lm_model_t *model);
/** @brief Whether the head's weights were initialised at load because the checkpoint lacked
 *  them (see lm_model_options.head). @param model The model. @return 1 or 0. */
LM_API int lm_model_has_fresh_head(const lm_model_t *model);
/** @brief The problem type of a sequence-classification model, resolved as transformers does
 *  (never ::LM_PROBLEM_AUTO). @param model The model. @return An ::lm_problem_type. */
LM_API int32_t lm_model_problem_type(const lm_model_t *model);
/** @brief Number of tensors in the weights file that the model does not use (for example the
 *  layers beyond a config.json that lists fewer; transformers warns about them too).
 *  @param model The model. @return The count (0 for created models). */
LM_API size_t lm_model_unused_tensor_count(const lm_model_t *model);
/**
 * @brief The name of an unused tensor (see lm_model_unused_tensor_count()).
 * @param model The model.
 * @param i Index below the count.
 * @return A string owned by the model, or NULL when `i` is out of range.
 */
LM_API const char *lm_model_unused_tensor_name(const lm_model_t *model, size_t i);
/**
 * @brief The sentence-embedding defaults read at load (sentence-transformers folders).
 * @param model The model.
 * @param[out] pooling ::LM_POOLING_MEAN or ::LM_POOLING_CLS; may be NULL.
 * @param[out] normalize 1 when the folder's modules include Normalize; may be NULL.
 */
LM_API void lm_model_embedding_defaults(const lm_model_t *model, int *pooling, int *normalize);
/**
 * @brief The model's configuration as config.json text.
 * @param model The model.
 * @param[out] json_out NUL-terminated text; free with lm_free(). NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_NOMEM.
 */
LM_API lm_status lm_model_config_json(const lm_model_t *model, char **json_out);

/* ---------------------------------------------------------------------------------------------
 * Models: forward passes
 *
 * Every forward function takes a batch of `batch` sequences of `seq_len` tokens as plain
 * row-major int32 arrays of batch * seq_len values:
 *   ids       token ids in [0, vocab size);
 *   type_ids  token type (segment) ids in [0, type vocab size), or NULL for all 0;
 *   mask      attention mask, 1 for a token and 0 for padding, or NULL for all 1.
 * Results go to caller-provided float buffers of the documented size. The result for one
 * sequence does not depend on the other sequences of the batch nor on its padding (to 1e-6).
 * Each call allocates and frees its own scratch, so many threads may run forward passes on one
 * model at once. Errors: LM_ERR_INVALID_ARGUMENT (NULL pointer, batch or seq_len 0);
 * LM_ERR_RANGE (an id, type id or mask value out of range, or seq_len above
 * lm_model_max_length(): row and position named); LM_ERR_STATE (the model lacks the head);
 * LM_ERR_NOMEM. On error the output buffers hold unspecified values.
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief Runs the encoder: last hidden state and, optionally, the pooled output.
 * @param model The model.
 * @param ids Token ids [batch * seq_len].
 * @param type_ids Token type ids [batch * seq_len], or NULL.
 * @param mask Attention mask [batch * seq_len], or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence (padded).
 * @param[out] hidden [batch * seq_len * hidden size] floats.
 * @param[out] pooled [batch * hidden size] floats (tanh pooler over the first token), or NULL.
 *             LM_ERR_STATE when requested from a model without a pooler.
 * @return See the section comment.
 */
LM_API lm_status lm_model_hidden_states(const lm_model_t *model, const int32_t *ids,
                                        const int32_t *type_ids, const int32_t *mask,
                                        size_t batch, size_t seq_len, float *hidden,
                                        float *pooled);

/**
 * @brief Sentence embeddings: encoder, then mean or CLS pooling, then optional L2 normalisation
 *        (as sentence-transformers).
 * @param model The model.
 * @param ids Token ids [batch * seq_len].
 * @param type_ids Token type ids, or NULL.
 * @param mask Attention mask, or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence.
 * @param pooling An ::lm_pooling (::LM_POOLING_DEFAULT = the model's default).
 * @param normalize 1 to divide by the L2 norm, 0 not to, -1 for the model's default.
 * @param[out] embeddings [batch * hidden size] floats.
 * @return See the section comment; LM_ERR_INVALID_ARGUMENT for a bad pooling/normalize value.
 */
LM_API lm_status lm_model_embed(const lm_model_t *model, const int32_t *ids,
                                const int32_t *type_ids, const int32_t *mask, size_t batch,
                                size_t seq_len, int pooling, int normalize, float *embeddings);

/**
 * @brief Sequence-classification logits (BertForSequenceClassification; for a regression model
 *        num_labels is 1 and the logit is the predicted value).
 * @param model The model (head ::LM_HEAD_SEQUENCE_CLASSIFICATION).
 * @param ids Token ids [batch * seq_len].
 * @param type_ids Token type ids, or NULL.
 * @param mask Attention mask, or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence.
 * @param[out] logits [batch * num_labels] floats.
 * @return See the section comment.
 */
LM_API lm_status lm_model_classify(const lm_model_t *model, const int32_t *ids,
                                   const int32_t *type_ids, const int32_t *mask, size_t batch,
                                   size_t seq_len, float *logits);

/**
 * @brief Token-classification logits (BertForTokenClassification).
 * @param model The model (head ::LM_HEAD_TOKEN_CLASSIFICATION).
 * @param ids Token ids [batch * seq_len].
 * @param type_ids Token type ids, or NULL.
 * @param mask Attention mask, or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence.
 * @param[out] logits [batch * seq_len * num_labels] floats.
 * @return See the section comment.
 */
LM_API lm_status lm_model_token_logits(const lm_model_t *model, const int32_t *ids,
                                       const int32_t *type_ids, const int32_t *mask, size_t batch,
                                       size_t seq_len, float *logits);

/**
 * @brief Extractive question-answering logits (BertForQuestionAnswering).
 * @param model The model (head ::LM_HEAD_QUESTION_ANSWERING).
 * @param ids Token ids [batch * seq_len] (question and context as a pair).
 * @param type_ids Token type ids, or NULL.
 * @param mask Attention mask, or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence.
 * @param[out] start_logits [batch * seq_len] floats.
 * @param[out] end_logits [batch * seq_len] floats.
 * @return See the section comment.
 */
LM_API lm_status lm_model_qa_logits(const lm_model_t *model, const int32_t *ids,
                                    const int32_t *type_ids, const int32_t *mask, size_t batch,
                                    size_t seq_len, float *start_logits, float *end_logits);

/**
 * @brief The best answer span from one sequence's QA logits: the (start, end) with
 *        start <= end < start + max_answer_len, both allowed, that maximises
 *        start_logits[start] + end_logits[end].
 * @param start_logits [seq_len] floats.
 * @param end_logits [seq_len] floats.
 * @param allowed [seq_len] ints, nonzero where an answer may lie (the context tokens), or NULL.
 * @param seq_len Number of tokens.
 * @param max_answer_len Longest answer in tokens (0 = no limit).
 * @param[out] start First token of the span.
 * @param[out] end Last token of the span (inclusive).
 * @param[out] score The span's probability: softmax(start_logits)[start] *
 *             softmax(end_logits)[end] over the allowed tokens; may be NULL.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT (NULL pointer); LM_ERR_NOT_FOUND (no allowed token).
 */
LM_API lm_status lm_qa_best_span(const float *start_logits, const float *end_logits,
                                 const int32_t *allowed, size_t seq_len, size_t max_answer_len,
                                 size_t *start, size_t *end, float *score);

/**
 * @brief Masked-LM logits over the vocabulary for selected tokens (BertForMaskedLM).
 * @param model The model (head ::LM_HEAD_MASKED_LM).
 * @param ids Token ids [batch * seq_len].
 * @param type_ids Token type ids, or NULL.
 * @param mask Attention mask, or NULL.
 * @param batch Number of sequences.
 * @param seq_len Tokens per sequence.
 * @param positions Indexes into the batch * seq_len tokens (row * seq_len + position) whose
 *        logits are wanted, or NULL for all tokens.
 * @param n_positions Number of positions (ignored when positions is NULL).
 * @param[out] logits [n * vocab size] floats, n = n_positions or batch * seq_len.
 * @return See the section comment; LM_ERR_RANGE for a position out of range.
 */
LM_API lm_status lm_model_mlm_logits(const lm_model_t *model, const int32_t *ids,
                                     const int32_t *type_ids, const int32_t *mask, size_t batch,
                                     size_t seq_len, const size_t *positions, size_t n_positions,
                                     float *logits);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_MODEL_H */
