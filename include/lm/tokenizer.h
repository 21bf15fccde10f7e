/**
 * @file lm/tokenizer.h
 * @brief liblm public API: tokenizers: loading, encoding with offsets, decoding. Included by lm.h; do not include directly.
 */
#ifndef LM_TOKENIZER_H
#define LM_TOKENIZER_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/tokenizer.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Tokenizer: BERT WordPiece, identical to Hugging Face BertTokenizerFast (ids, type ids, offsets)
 * ------------------------------------------------------------------------------------------- */

/** The result of encoding one text or text pair. Opaque; read it with the lm_encoding_* accessors. */
typedef struct lm_encoding lm_encoding_t;

/**
 * Options for loading a tokenizer. Fill with lm_tokenizer_options_init(), then change fields.
 * A value of -1 means "take it from the files" (tokenizer.json / tokenizer_config.json), and for a
 * bare vocab.txt the Hugging Face default.
 */
typedef struct lm_tokenizer_options {
    size_t struct_size;          /**< Set by lm_tokenizer_options_init() to the caller's sizeof. */
    int32_t lower_case;              /**< 1 lower-case, 0 keep case, -1 from files (vocab.txt: 1). */
    int32_t strip_accents;           /**< 1 strip (NFD, drop Mn), 0 keep, -1 follow lower_case. */
    int32_t tokenize_chinese_chars;  /**< 1 split CJK ideographs into words (default), 0 no, -1 files. */
    int32_t replace_invalid_utf8;    /**< 0 (default): invalid UTF-8 is LM_ERR_UTF8 with the byte
                                      offset; 1: each bad sequence counts as one U+FFFD, as Python's
                                      errors="replace" (which BERT's cleaning then drops). */
    int32_t clean_text;              /**< 1 drop controls, map spaces (default), 0 no, -1 files. */
} lm_tokenizer_options;

/**
 * @brief Fills `opts` with the defaults (all "from files" except replace_invalid_utf8 = 0).
 *
 * Call it as `lm_tokenizer_options_init(&opts, sizeof opts)`: the library writes exactly
 * `struct_size` bytes (the fields it knows, zero beyond them) and stores `struct_size` in the
 * first field, so a program built against an older or newer header stays safe.
 * @param opts Options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is smaller than
 *         a `size_t`.
 */
LM_API lm_status lm_tokenizer_options_init(lm_tokenizer_options *opts, size_t struct_size);

/**
 * @brief Loads a tokenizer from a WordPiece `vocab.txt` (one token a line; id = line number - 1).
 *
 * Lines end with LF or CRLF (a trailing CR is dropped); a blank line is an (empty) token; for a
 * token that appears twice, text maps to the later id, as in Hugging Face. `[UNK]` must be present;
 * `[CLS]`, `[SEP]`, `[PAD]`, `[MASK]` are special tokens when present (never split).
 * @param vocab_txt Path of the vocabulary file.
 * @param opts Options, or NULL for the defaults.
 * @param out Receives the tokenizer; free with lm_tokenizer_free(). NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_NOT_FOUND / LM_ERR_IO / LM_ERR_PERMISSION
 *         for the file; LM_ERR_FORMAT for a file that is not a vocabulary (no `[UNK]`, a NUL
 *         byte, more than 2^31 tokens); LM_ERR_UTF8 with the byte offset; LM_ERR_NOMEM.
 */
LM_API lm_status lm_tokenizer_load_vocab(const char *vocab_txt, const lm_tokenizer_options *opts,
                                         lm_tokenizer_t **out);

/**
 * @brief Loads a Hugging Face `tokenizer.json` of the BERT kind (BertNormalizer, BertPreTokenizer,
 * WordPiece model, TemplateProcessing or BertProcessing post-processor).
 * @param tokenizer_json Path of the file. Options set to -1 follow the file.
 * @param opts Options, or NULL for the defaults.
 * @param out Receives the tokenizer; free with lm_tokenizer_free(). NULL on failure.
 * @return LM_OK; file errors as lm_tokenizer_load_vocab(); LM_ERR_FORMAT for malformed JSON or
 *         a missing field; LM_ERR_UNSUPPORTED for a tokenizer that is not of the BERT kind.
 */
LM_API lm_status lm_tokenizer_load_json(const char *tokenizer_json,
                                        const lm_tokenizer_options *opts, lm_tokenizer_t **out);

/**
 * @brief Loads the tokenizer of a model folder: `tokenizer.json` when present, else `vocab.txt`
 * with `tokenizer_config.json` (do_lower_case, strip_accents, tokenize_chinese_chars) if present.
 * @param dir The folder.
 * @param opts Options, or NULL for the defaults; fields other than -1 override the files.
 * @param out Receives the tokenizer; free with lm_tokenizer_free(). NULL on failure.
 * @return As lm_tokenizer_load_json() / lm_tokenizer_load_vocab(); LM_ERR_NOT_FOUND when the
 *         folder has neither file.
 */
LM_API lm_status lm_tokenizer_load_dir(const char *dir, const lm_tokenizer_options *opts,
                                       lm_tokenizer_t **out);

/**
 * @brief Writes `vocab.txt` and `tokenizer_config.json` into folder `dir` (which must exist), so
 * that Hugging Face transformers loads the same tokenizer. Each file is written atomically.
 * @param tok The tokenizer.
 * @param dir An existing folder.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_IO / LM_ERR_PERMISSION / LM_ERR_NOT_FOUND
 *         from the file system; LM_ERR_NOMEM.
 */
LM_API lm_status lm_tokenizer_save_dir(const lm_tokenizer_t *tok, const char *dir);

/**
 * @brief Frees a tokenizer.
 * @param tok The tokenizer, or NULL (no-op). Encodings made from it stay valid.
 */
LM_API void lm_tokenizer_free(lm_tokenizer_t *tok);

/**
 * @brief The number of token ids (the largest id + 1).
 * @param tok The tokenizer (NULL gives 0).
 * @return The count.
 */
LM_API size_t lm_tokenizer_vocab_size(const lm_tokenizer_t *tok);

/**
 * @brief The id of a token (exact text, e.g. "##ing").
 * @param tok The tokenizer.
 * @param token The token text, NUL-terminated.
 * @return The id, or -1 when the token is not in the vocabulary or an argument is NULL.
 */
LM_API int32_t lm_tokenizer_token_to_id(const lm_tokenizer_t *tok, const char *token);

/**
 * @brief The text of a token id.
 * @param tok The tokenizer.
 * @param id The id.
 * @return A NUL-terminated string owned by the tokenizer (valid until lm_tokenizer_free()), or
 *         NULL when `id` is out of range.
 */
LM_API const char *lm_tokenizer_id_to_token(const lm_tokenizer_t *tok, int32_t id);

/** The special tokens of a BERT tokenizer. */
typedef enum lm_special_token {
    LM_SPECIAL_CLS = 0,  /**< `[CLS]`: first token of every input. */
    LM_SPECIAL_SEP = 1,  /**< `[SEP]`: ends each sequence. */
    LM_SPECIAL_PAD = 2,  /**< `[PAD]`: padding. */
    LM_SPECIAL_UNK = 3,  /**< `[UNK]`: unknown word. */
    LM_SPECIAL_MASK = 4  /**< `[MASK]`: masked-language-model target. */
} lm_special_token;

/**
 * @brief The id of a special token.
 * @param tok The tokenizer.
 * @param which One of ::lm_special_token.
 * @return The id, or -1 when the vocabulary has no such token (or an argument is invalid).
 */
LM_API int32_t lm_tokenizer_special_id(const lm_tokenizer_t *tok, lm_special_token which);

/** How to shorten inputs longer than max_length (names as in Hugging Face). */
typedef enum lm_truncation {
    LM_TRUNCATE_LONGEST_FIRST = 0, /**< Take tokens from the longer sequence first (default). */
    LM_TRUNCATE_ONLY_FIRST = 1,    /**< Shorten only the first sequence. */
    LM_TRUNCATE_ONLY_SECOND = 2    /**< Shorten only the second sequence (question answering). */
} lm_truncation;

/** How to pad encodings. */
typedef enum lm_padding {
    LM_PAD_NONE = 0,       /**< No padding (default). */
    LM_PAD_LONGEST = 1,    /**< Pad to the longest encoding of the batch. */
    LM_PAD_MAX_LENGTH = 2  /**< Pad to max_length. */
} lm_padding;

/** Options for encoding. Fill with lm_encode_options_init(), then change fields. */
typedef struct lm_encode_options {
    size_t struct_size;      /**< Set by lm_encode_options_init() to the caller's sizeof. */
    int32_t add_special_tokens;  /**< 1 (default): `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]`. */
    size_t max_length;       /**< Truncate to this many tokens, specials included; 0 = no limit. */
    int32_t truncation;      /**< An ::lm_truncation: strategy when max_length is exceeded. */
    int32_t padding;         /**< An ::lm_padding (with `[PAD]`, attention mask 0). */
    size_t stride;           /**< Tokens that consecutive overflow windows share (< max_length
                                  minus the special tokens). */
    int32_t return_overflowing;  /**< 1: keep what truncation removed as overflow windows. */
} lm_encode_options;

/**
 * @brief Fills `opts` with the defaults: special tokens added, no truncation, no padding.
 *
 * Call it as `lm_encode_options_init(&opts, sizeof opts)` (see lm_tokenizer_options_init()).
 * @param opts Options to fill.
 * @param struct_size `sizeof` of the caller's struct.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT when `opts` is NULL or `struct_size` is too small.
 */
LM_API lm_status lm_encode_options_init(lm_encode_options *opts, size_t struct_size);

/**
 * @brief Encodes one text.
 * @param tok The tokenizer (read-only: many threads may encode with it at once).
 * @param text UTF-8 text of `text_len` bytes (need not be NUL-terminated; NUL bytes are dropped
 *        as BERT's cleaning does).
 * @param text_len Length in bytes.
 * @param opts Options, or NULL for the defaults.
 * @param out Receives the encoding; free with lm_encoding_free(). NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_UTF8 with the byte offset (unless the
 *         tokenizer replaces invalid UTF-8); LM_ERR_UNSUPPORTED when special tokens are asked for
 *         and the vocabulary lacks `[CLS]`/`[SEP]` (or padding lacks `[PAD]`); LM_ERR_NOMEM.
 */
LM_API lm_status lm_tokenizer_encode(const lm_tokenizer_t *tok, const char *text, size_t text_len,
                                     const lm_encode_options *opts, lm_encoding_t **out);

/**
 * @brief Encodes a text pair: `[CLS] A [SEP] B [SEP]`, type ids 0 for A and 1 for B.
 * @param tok The tokenizer.
 * @param a First text (UTF-8, `a_len` bytes).
 * @param a_len Its length in bytes.
 * @param b Second text (UTF-8, `b_len` bytes).
 * @param b_len Its length in bytes.
 * @param opts Options, or NULL for the defaults.
 * @param out Receives the encoding; free with lm_encoding_free(). NULL on failure.
 * @return As lm_tokenizer_encode(); LM_ERR_RANGE when only_first/only_second truncation cannot
 *         reach max_length (that sequence is too short), as Hugging Face refuses it too.
 */
LM_API lm_status lm_tokenizer_encode_pair(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                                          const char *b, size_t b_len,
                                          const lm_encode_options *opts, lm_encoding_t **out);

/**
 * @brief Encodes `n` texts (or pairs) on `threads` threads.
 * @param tok The tokenizer.
 * @param n Number of inputs.
 * @param texts `n` texts.
 * @param lens `n` lengths in bytes.
 * @param pairs `n` second texts, or NULL for single texts.
 * @param pair_lens `n` lengths of the second texts, or NULL with `pairs`.
 * @param opts Options, or NULL; ::LM_PAD_LONGEST pads to the longest encoding of the batch.
 * @param threads Threads to use; 0 = OpenMP's default (OMP_NUM_THREADS, else the cores).
 * @param encs_out Caller's array of `n` pointers; each receives an encoding (free each with
 *        lm_encoding_free()) or NULL where that input failed.
 * @param statuses Caller's array of `n` statuses (::lm_status values as int32_t), or NULL.
 * @return LM_OK when every input was encoded; otherwise the status of the first failing input
 *         (lm_last_error() names its index) while the others are still encoded.
 */
LM_API lm_status lm_tokenizer_encode_batch(const lm_tokenizer_t *tok, size_t n,
                                           const char *const *texts, const size_t *lens,
                                           const char *const *pairs, const size_t *pair_lens,
                                           const lm_encode_options *opts, int threads,
                                           lm_encoding_t **encs_out, int32_t *statuses);

/**
 * @brief Turns ids back into text, as Hugging Face decode(): `##` pieces joined, a space between
 * words, clean_up_tokenization_spaces (" ." -> ".", " n't" -> "n't", ...).
 * @param tok The tokenizer.
 * @param ids The ids.
 * @param n Number of ids.
 * @param skip_special_tokens 1 to leave out `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]`, `[MASK]`.
 * @param text_out Receives a NUL-terminated UTF-8 string; free with lm_free(). NULL on failure.
 * @return LM_OK; LM_ERR_INVALID_ARGUMENT; LM_ERR_RANGE for an id outside the vocabulary;
 *         LM_ERR_NOMEM.
 */
LM_API lm_status lm_tokenizer_decode(const lm_tokenizer_t *tok, const int32_t *ids, size_t n,
                                     int skip_special_tokens, char **text_out);

/**
 * @brief Frees an encoding and its overflow windows.
 * @param enc The encoding, or NULL (no-op).
 */
LM_API void lm_encoding_free(lm_encoding_t *enc);

/** @brief Number of tokens (the length of every array below). @param enc Encoding.
 *  @return The count; 0 for NULL. */
LM_API size_t lm_encoding_length(const lm_encoding_t *enc);
/** @brief Token ids. @param enc Encoding. @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_ids(const lm_encoding_t *enc);
/** @brief Type (segment) ids: 0 for the first sequence, 1 for the second. @param enc Encoding.
 *  @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_type_ids(const lm_encoding_t *enc);
/** @brief Attention mask: 1 for tokens, 0 for padding. @param enc Encoding.
 *  @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_attention_mask(const lm_encoding_t *enc);
/** @brief 1 for tokens added by the template ([CLS], [SEP]) and padding, else 0.
 *  @param enc Encoding. @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_special_tokens_mask(const lm_encoding_t *enc);
/** @brief Index of the word each token comes from within its sequence; -1 for special/padding.
 *  @param enc Encoding. @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_word_ids(const lm_encoding_t *enc);
/** @brief Sequence of each token: 0 or 1; -1 for special/padding. @param enc Encoding.
 *  @return Array owned by `enc`. */
LM_API const int32_t *lm_encoding_sequence_ids(const lm_encoding_t *enc);
/** @brief Character (code point) offsets: 2*length values, [start, end) of each token in the text
 *  of its sequence, as Hugging Face reports them; (0, 0) for special/padding.
 *  @param enc Encoding. @return Array owned by `enc`. */
LM_API const size_t *lm_encoding_offsets(const lm_encoding_t *enc);
/** @brief The same offsets in bytes. @param enc Encoding. @return Array owned by `enc`. */
LM_API const size_t *lm_encoding_byte_offsets(const lm_encoding_t *enc);
/** @brief Number of overflow windows (when return_overflowing was set). @param enc Encoding.
 *  @return The count. */
LM_API size_t lm_encoding_overflow_count(const lm_encoding_t *enc);
/**
 * @brief An overflow window, itself an encoding.
 * @param enc Encoding.
 * @param i Index below lm_encoding_overflow_count().
 * @return The window, owned by `enc` (do not free it), or NULL when `i` is out of range.
 */
LM_API const lm_encoding_t *lm_encoding_overflow(const lm_encoding_t *enc, size_t i);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_TOKENIZER_H */
