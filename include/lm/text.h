/**
 * @file text.h
 * @brief liblm public API: text in, answers out. Included by lm.h; do not include directly.
 *
 * Each call takes N texts (or pairs), tokenizes them with the model's own tokenizer
 * (lm_model_tokenizer()), truncates, pads and batches them internally, runs the model and writes
 * the answers into caller buffers whose capacity is passed in. The results are those of the
 * reference Python tools: sentence-transformers `encode` for embeddings, and the transformers
 * pipelines (`text-classification`, `fill-mask`, `question-answering`, `token-classification`)
 * for the rest, with the same defaults.
 *
 * Common rules:
 * - Texts are UTF-8; `lens[i]` is the length of `texts[i]` in bytes, or `lens` is NULL when every
 *   text is NUL-terminated. Invalid UTF-8 is LM_ERR_UTF8 naming the input and the byte offset,
 *   unless lm_text_options.replace_invalid_utf8 is set.
 * - Character offsets count Unicode code points of the input text, as Python's str indexes do;
 *   byte offsets count bytes. Spans are half-open: [start, end).
 * - A buffer smaller than the results is LM_ERR_BUFFER_TOO_SMALL; lm_last_error() names the size
 *   needed, and calls with a count out-parameter write it there too. Nothing useful is written.
 * - Errors: LM_ERR_INVALID_ARGUMENT (NULL pointer, bad option); LM_ERR_STATE (the model has no
 *   tokenizer, or lacks the head the call needs); LM_ERR_UTF8; LM_ERR_BUFFER_TOO_SMALL;
 *   LM_ERR_NOMEM. On error the output buffers hold unspecified values.
 * - Like the forward passes, these calls may run on one model from many threads at once.
 */
#ifndef LM_TEXT_H
#define LM_TEXT_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/text.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Score function of lm_classify_texts() (the text-classification pipeline's function_to_apply). */
typedef enum lm_score_function {
    LM_SCORE_DEFAULT = 0, /**< As the pipeline: sigmoid for multi-label models and for models with
                               one output, none for regression, softmax otherwise. */
    LM_SCORE_NONE = 1,    /**< The raw logits. */
    LM_SCORE_SIGMOID = 2, /**< 1 / (1 + exp(-logit)) per label. */
    LM_SCORE_SOFTMAX = 3  /**< Softmax over the labels. */
} lm_score_function;

/** Grouping of token-classification results (the token-classification pipeline's
 *  aggregation_strategy). */
typedef enum lm_aggregation {
    LM_AGGREGATE_NONE = 0,    /**< One result per token (tokens labelled "O" left out). */
    LM_AGGREGATE_SIMPLE = 1,  /**< Adjacent tokens with the same entity type (B-/I- tags)
                                   grouped; score the mean of their scores. */
    LM_AGGREGATE_FIRST = 2,   /**< Words first: a word takes the label of its first token. */
    LM_AGGREGATE_AVERAGE = 3, /**< Words first: scores averaged over the word's tokens. */
    LM_AGGREGATE_MAX = 4      /**< Words first: the label of the word's best-scoring token. */
} lm_aggregation;

/** Options of the text-level calls. Fill with lm_text_options_init(). Fields a call does not use
 *  are ignored by it. */
typedef struct lm_text_options {
    size_t struct_size;        /**< Set by lm_text_options_init() to the caller's sizeof. */
    int32_t max_length;        /**< Tokens per model input, special tokens included; 0 (default):
                                    the model's own limit (sentence-transformers max_seq_length,
                                    else the tokenizer's model_max_length, else the position
                                    table; question answering: at most 384, as its pipeline).
                                    Longer inputs are truncated (embeddings, classification,
                                    fill-mask, tagging) or cut into overlapping windows
                                    (question answering). Otherwise at least 3 (room for the
                                    special tokens and one token of text), at most the position
                                    table: LM_ERR_INVALID_ARGUMENT. */
    int32_t batch_size;        /**< Inputs per forward pass; 0 (default): 32. */
    int32_t replace_invalid_utf8; /**< 1: invalid UTF-8 is replaced (as Python's
                                       errors="replace"); 0 (default): LM_ERR_UTF8. */
    int32_t pooling;           /**< Embeddings: an ::lm_pooling; 0 (default): the model's. */
    int32_t normalize;         /**< Embeddings: 1 L2-normalise, 0 not, -1 (default): the model's. */
    int32_t function_to_apply; /**< Classification: an ::lm_score_function (default
                                    LM_SCORE_DEFAULT). */
    int32_t top_k;             /**< Results per text (classification: labels, default 1, -1 all;
                                    fill-mask: tokens per mask, default 5; question answering:
                                    answers per question, default 1); 0 = the default. */
    int32_t aggregation;       /**< Token classification: an ::lm_aggregation (default NONE). */
    int32_t doc_stride;        /**< Question answering: tokens shared by consecutive windows of a
                                    long context; 0 (default): min(max_length / 2, 128), as the
                                    pipeline (less when a long question leaves less room). */
    int32_t max_answer_length; /**< Question answering: longest answer in tokens; 0 (default): 15. */
    int32_t max_question_length; /**< Question answering: question tokens kept; 0 (default): 64. */
    int32_t handle_impossible_answer; /**< Question answering: 1 lets the empty answer win
                                           (score of [CLS]); 0 (default) never. */
} lm_text_options;

/**
 * @brief Fills `opts` with the defaults. Call it as `lm_text_options_init(&opts, sizeof opts)`.
 * @param opts Options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_text_options_init(lm_text_options *opts, size_t struct_size);

/**
 * @brief Sentence embeddings of `n` texts, as sentence-transformers' `encode`: truncation to the
 *        model's max_seq_length, the folder's pooling and normalisation.
 * @param model A model with a tokenizer (any head: the encoder's last hidden state is pooled).
 * @param n Number of texts.
 * @param texts The texts.
 * @param lens Their lengths in bytes, or NULL for NUL-terminated texts.
 * @param opts Options, or NULL.
 * @param[out] embeddings `n * lm_model_hidden_size()` floats, row i for text i.
 * @param capacity Floats available in `embeddings`.
 * @return See the file comment.
 */
LM_API lm_status lm_embed_texts(const lm_model_t *model, size_t n, const char *const *texts,
                                const size_t *lens, const lm_text_options *opts,
                                float *embeddings, size_t capacity);

/** One label and its score. */
typedef struct lm_label_score {
    int32_t label; /**< Label id (name: lm_model_label_name()). */
    float score;   /**< Its score after the score function. */
} lm_label_score;

/**
 * @brief Classifies `n` texts or text pairs, as the text-classification pipeline does (its
 *        function_to_apply rules, its top_k ordering: best first).
 * @param model A sequence-classification model with a tokenizer.
 * @param n Number of inputs.
 * @param texts The (first) texts.
 * @param lens Their lengths, or NULL.
 * @param pairs The second texts of pairs, or NULL for single texts. An empty second text
 *        makes that input a single text, as in the pipeline.
 * @param pair_lens Their lengths, or NULL (NUL-terminated or no pairs).
 * @param opts Options, or NULL.
 * @param[out] results `n * k` entries, k = top_k (clipped to the label count; all labels for
 *             -1): the k best labels of text i, best first, at [i * k, (i + 1) * k).
 * @param capacity Entries available in `results`.
 * @param[out] k_out Receives k; may be NULL.
 * @return See the file comment.
 */
LM_API lm_status lm_classify_texts(const lm_model_t *model, size_t n, const char *const *texts,
                                   const size_t *lens, const char *const *pairs,
                                   const size_t *pair_lens, const lm_text_options *opts,
                                   lm_label_score *results, size_t capacity, size_t *k_out);

/** One candidate token for a masked position and its probability. */
typedef struct lm_token_score {
    int32_t token_id; /**< Token id (text: lm_tokenizer_id_to_token(), lm_tokenizer_decode()). */
    float score;      /**< Softmax probability over the vocabulary. */
} lm_token_score;

/**
 * @brief Fills the `[MASK]` tokens of `n` texts, as the fill-mask pipeline does.
 * @param model A masked-LM model with a tokenizer.
 * @param n Number of texts; each holds one or more mask tokens (none is LM_ERR_INVALID_ARGUMENT
 *        naming the text, as the pipeline refuses it).
 * @param texts The texts.
 * @param lens Their lengths, or NULL.
 * @param opts Options, or NULL (top_k: candidates per mask, default 5).
 * @param[out] results For each text in order, for each of its masks in order, top_k candidates,
 *             best first.
 * @param capacity Entries available in `results`.
 * @param[out] n_results Receives the number of entries written (or needed); may be NULL.
 * @param[out] masks_per_text `n` counts of masks, or NULL.
 * @return See the file comment.
 */
LM_API lm_status lm_fill_mask(const lm_model_t *model, size_t n, const char *const *texts,
                              const size_t *lens, const lm_text_options *opts,
                              lm_token_score *results, size_t capacity, size_t *n_results,
                              int32_t *masks_per_text);

/** An extractive answer: a span of the context. */
typedef struct lm_answer {
    float score;        /**< As the question-answering pipeline computes it. */
    int32_t reserved;   /**< 0. */
    int64_t start;      /**< First character of the answer in the context. */
    int64_t end;        /**< One past its last character (start == end: the empty answer;
                             start == end == -1 with score 0: no answer, when the context has
                             fewer than top_k candidate spans). */
    int64_t byte_start; /**< The same span in bytes. */
    int64_t byte_end;   /**< One past its last byte. */
} lm_answer;

/**
 * @brief Answers `n` questions, each about its own context of any length (cut into overlapping
 *        windows of max_length tokens with doc_stride shared), as the question-answering pipeline.
 * @param model A question-answering model with a tokenizer.
 * @param n Number of questions.
 * @param questions The questions.
 * @param question_lens Their lengths, or NULL.
 * @param contexts The contexts.
 * @param context_lens Their lengths, or NULL.
 * @param opts Options, or NULL.
 * @param[out] answers `n * top_k` answers, best first for each question.
 * @param capacity Entries available in `answers`.
 * @return See the file comment.
 */
LM_API lm_status lm_answer_questions(const lm_model_t *model, size_t n,
                                     const char *const *questions, const size_t *question_lens,
                                     const char *const *contexts, const size_t *context_lens,
                                     const lm_text_options *opts, lm_answer *answers,
                                     size_t capacity);

/** One entity (or, without aggregation, one token) found by token classification. */
typedef struct lm_entity {
    int32_t text;       /**< Index of the input text. */
    int32_t label;      /**< Label id; with aggregation, the id of the entity type's B- (else I-,
                             else the bare) label. lm_model_label_name() names it; the pipeline's
                             "entity_group" is that name without its "B-"/"I-" prefix. */
    float score;        /**< As the pipeline computes it. */
    int32_t token;      /**< Without aggregation: the token's index in the encoding (the
                             pipeline's "index"); -1 with aggregation. */
    int64_t start;      /**< First character in the text. */
    int64_t end;        /**< One past the last character. */
    int64_t byte_start; /**< The same span in bytes. */
    int64_t byte_end;   /**< One past its last byte. */
} lm_entity;

/**
 * @brief Token classification of `n` texts (named entities and other tags), as the
 *        token-classification pipeline with its ignore_labels ["O"] and the chosen aggregation.
 * @param model A token-classification model with a tokenizer.
 * @param n Number of texts.
 * @param texts The texts.
 * @param lens Their lengths, or NULL.
 * @param opts Options, or NULL.
 * @param[out] entities The results in text order, then in position order.
 * @param capacity Entries available. At most one per token is ever needed, so n times the
 *        max_length in use (lm_model_text_max_length() by default) always suffices; the size is
 *        checked after the forward pass, so a smaller guess that proves short costs a second run.
 * @param[out] n_entities Receives the number written (or needed); may be NULL.
 * @return See the file comment.
 */
LM_API lm_status lm_tag_texts(const lm_model_t *model, size_t n, const char *const *texts,
                              const size_t *lens, const lm_text_options *opts,
                              lm_entity *entities, size_t capacity, size_t *n_entities);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_TEXT_H */
