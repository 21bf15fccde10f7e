/* Internal (text): the tokenizer handle and the encoding result, shared by the loaders
 * (load.c), the pipeline (tokenize.c), the post-processor (encode.c) and decode.c. */
#ifndef LM_TEXT_TOKENIZER_H
#define LM_TEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "vocab.h"

/* A never-split token matched in the raw text (the special tokens, and added tokens of a
 * tokenizer.json). */
typedef struct lmi_added_token {
    const char *text; /* in the vocabulary pool or the tokenizer's own copy */
    size_t len;
    int32_t id;
    int special;
} lmi_added_token;

struct lm_tokenizer {
    lmi_vocab vocab;
    int lower;
    int strip;
    int chinese;
    int clean;
    int replace_invalid;
    size_t max_input_chars; /* words longer than this (in characters) become [UNK] */
    int32_t special[5];     /* indexed by lm_special_token; -1 when absent */
    lmi_added_token *added;
    size_t n_added;
    char *added_pool;       /* texts of added tokens not in the vocabulary pool */
    unsigned char added_first[256]; /* 1 when some added token starts with this byte */
    unsigned char *is_special_id;   /* [vocab.n] 1 for ids that decode(skip) leaves out */
};

struct lm_encoding {
    size_t n;
    int32_t *ids;
    int32_t *type_ids;
    int32_t *attention;
    int32_t *special_mask;
    int32_t *word_ids;
    int32_t *seq_ids;
    size_t *offsets;      /* [2n] characters */
    size_t *byte_offsets; /* [2n] bytes */
    size_t n_overflow;
    struct lm_encoding **overflow;
};

/* One token of one sequence, before post-processing. */
typedef struct lmi_token {
    int32_t id;
    int32_t word;
    size_t b0, b1; /* bytes */
    size_t c0, c1; /* characters */
} lmi_token;

typedef struct lmi_token_list {
    lmi_token *t;
    size_t n;
    size_t cap;
} lmi_token_list;

/* Loaders from memory (for the fuzz targets and embedders): vocab.txt bytes, tokenizer.json text. */
lm_status lmi_tokenizer_vocab_from_memory(const char *data, size_t len,
                                         const lm_tokenizer_options *opts, lm_tokenizer_t **out);
lm_status lmi_tokenizer_json_from_memory(const char *data, size_t len,
                                        const lm_tokenizer_options *opts, lm_tokenizer_t **out);

/* The implementations behind the public tokenizer functions of lm/tokenizer.h (same contracts;
 * src/api/tokenizer.c is the public face). The _options_init functions fill the library's own
 * full-size struct. */
void lmi_tokenizer_options_init(lm_tokenizer_options *opts);
void lmi_encode_options_init(lm_encode_options *opts);
lm_status lmi_tokenizer_load_vocab(const char *vocab_txt, const lm_tokenizer_options *opts,
                                   lm_tokenizer_t **out);
lm_status lmi_tokenizer_load_json(const char *tokenizer_json, const lm_tokenizer_options *opts,
                                  lm_tokenizer_t **out);
lm_status lmi_tokenizer_load_dir(const char *dir, const lm_tokenizer_options *opts,
                                 lm_tokenizer_t **out);
lm_status lmi_tokenizer_save_dir(const lm_tokenizer_t *tok, const char *dir);
void lmi_tokenizer_free(lm_tokenizer_t *tok);
size_t lmi_tokenizer_vocab_size(const lm_tokenizer_t *tok);
int32_t lmi_tokenizer_token_to_id(const lm_tokenizer_t *tok, const char *token);
const char *lmi_tokenizer_id_to_token(const lm_tokenizer_t *tok, int32_t id);
int32_t lmi_tokenizer_special_id(const lm_tokenizer_t *tok, lm_special_token which);
lm_status lmi_tokenizer_encode(const lm_tokenizer_t *tok, const char *text, size_t text_len,
                               const lm_encode_options *opts, lm_encoding_t **out);
lm_status lmi_tokenizer_encode_pair(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                                    const char *b, size_t b_len, const lm_encode_options *opts,
                                    lm_encoding_t **out);
lm_status lmi_tokenizer_encode_batch(const lm_tokenizer_t *tok, size_t n,
                                     const char *const *texts, const size_t *lens,
                                     const char *const *pairs, const size_t *pair_lens,
                                     const lm_encode_options *opts, int threads,
                                     lm_encoding_t **encs_out, int32_t *statuses);
lm_status lmi_tokenizer_decode(const lm_tokenizer_t *tok, const int32_t *ids, size_t n,
                               int skip_special_tokens, char **text_out);
void lmi_encoding_free(lm_encoding_t *enc);

/* Runs normalizer, pre-tokenizer and WordPiece over text[0..len), appending to out. */
lm_status lmi_text_tokenize(const lm_tokenizer_t *tok, const char *text, size_t len,
                           lmi_token_list *out);

/* The post-processor alone, on token lists from lmi_text_tokenize: the encoding (template,
 * truncation, overflow windows, padding) that lmi_tokenizer_encode (b NULL) or
 * lmi_tokenizer_encode_pair would build from the texts those lists came from. Callers may shorten
 * a list first (question answering keeps at most max_question_len question tokens). */
lm_status lmi_encode_token_lists(const lm_tokenizer_t *tok, const lmi_token_list *a,
                                const lmi_token_list *b, const lm_encode_options *opts,
                                lm_encoding_t **out);

/* Allocates an encoding of n tokens (all arrays, zeroed). NULL on allocation failure. */
lm_encoding_t *lmi_encoding_alloc(size_t n);

/* Pads enc (and its overflow windows) to `length` tokens with pad_id. */
lm_status lmi_encoding_pad(lm_encoding_t *enc, size_t length, int32_t pad_id);

#endif
