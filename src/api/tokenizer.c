/* Public API (lm/tokenizer.h): options under the caller's struct size, loaders, encoding and
 * decoding, and the lm_encoding_t accessors. The work is done in src/text/. */
#include "lm.h"

#include "api/symver.h"
#include "base/error.h"
#include "base/options.h"
#include "text/tokenizer.h"

LMI_SYMVER(lmi_api_tokenizer_options_init, "lm_tokenizer_options_init@@lm_0.2");
LM_API lm_status lmi_api_tokenizer_options_init(lm_tokenizer_options *opts, size_t struct_size) {
    lm_tokenizer_options d;
    lmi_tokenizer_options_init(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_tokenizer_options_init");
}

LMI_SYMVER(lmi_api_encode_options_init, "lm_encode_options_init@@lm_0.2");
LM_API lm_status lmi_api_encode_options_init(lm_encode_options *opts, size_t struct_size) {
    lm_encode_options d;
    lmi_encode_options_init(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_encode_options_init");
}

lm_status lm_tokenizer_load_vocab(const char *vocab_txt, const lm_tokenizer_options *opts,
                                  lm_tokenizer_t **out) {
    return lmi_tokenizer_load_vocab(vocab_txt, opts, out);
}

lm_status lm_tokenizer_load_json(const char *tokenizer_json, const lm_tokenizer_options *opts,
                                 lm_tokenizer_t **out) {
    return lmi_tokenizer_load_json(tokenizer_json, opts, out);
}

lm_status lm_tokenizer_load_dir(const char *dir, const lm_tokenizer_options *opts,
                                lm_tokenizer_t **out) {
    return lmi_tokenizer_load_dir(dir, opts, out);
}

lm_status lm_tokenizer_save_dir(const lm_tokenizer_t *tok, const char *dir) {
    return lmi_tokenizer_save_dir(tok, dir);
}

void lm_tokenizer_free(lm_tokenizer_t *tok) { lmi_tokenizer_free(tok); }

size_t lm_tokenizer_vocab_size(const lm_tokenizer_t *tok) { return lmi_tokenizer_vocab_size(tok); }

int32_t lm_tokenizer_token_to_id(const lm_tokenizer_t *tok, const char *token) {
    return lmi_tokenizer_token_to_id(tok, token);
}

const char *lm_tokenizer_id_to_token(const lm_tokenizer_t *tok, int32_t id) {
    return lmi_tokenizer_id_to_token(tok, id);
}

int32_t lm_tokenizer_special_id(const lm_tokenizer_t *tok, lm_special_token which) {
    return lmi_tokenizer_special_id(tok, which);
}

lm_status lm_tokenizer_encode(const lm_tokenizer_t *tok, const char *text, size_t text_len,
                              const lm_encode_options *opts, lm_encoding_t **out) {
    return lmi_tokenizer_encode(tok, text, text_len, opts, out);
}

lm_status lm_tokenizer_encode_pair(const lm_tokenizer_t *tok, const char *a, size_t a_len,
                                   const char *b, size_t b_len, const lm_encode_options *opts,
                                   lm_encoding_t **out) {
    return lmi_tokenizer_encode_pair(tok, a, a_len, b, b_len, opts, out);
}

lm_status lm_tokenizer_encode_batch(const lm_tokenizer_t *tok, size_t n, const char *const *texts,
                                    const size_t *lens, const char *const *pairs,
                                    const size_t *pair_lens, const lm_encode_options *opts,
                                    int threads, lm_encoding_t **encs_out, int32_t *statuses) {
    return lmi_tokenizer_encode_batch(tok, n, texts, lens, pairs, pair_lens, opts, threads,
                                      encs_out, statuses);
}

lm_status lm_tokenizer_decode(const lm_tokenizer_t *tok, const int32_t *ids, size_t n,
                              int skip_special_tokens, char **text_out) {
    return lmi_tokenizer_decode(tok, ids, n, skip_special_tokens, text_out);
}

void lm_encoding_free(lm_encoding_t *enc) { lmi_encoding_free(enc); }

size_t lm_encoding_length(const lm_encoding_t *enc) { return enc ? enc->n : 0; }

const int32_t *lm_encoding_ids(const lm_encoding_t *enc) { return enc ? enc->ids : NULL; }

const int32_t *lm_encoding_type_ids(const lm_encoding_t *enc) { return enc ? enc->type_ids : NULL; }

const int32_t *lm_encoding_attention_mask(const lm_encoding_t *enc) {
    return enc ? enc->attention : NULL;
}

const int32_t *lm_encoding_special_tokens_mask(const lm_encoding_t *enc) {
    return enc ? enc->special_mask : NULL;
}

const int32_t *lm_encoding_word_ids(const lm_encoding_t *enc) { return enc ? enc->word_ids : NULL; }

const int32_t *lm_encoding_sequence_ids(const lm_encoding_t *enc) {
    return enc ? enc->seq_ids : NULL;
}

const size_t *lm_encoding_offsets(const lm_encoding_t *enc) { return enc ? enc->offsets : NULL; }

const size_t *lm_encoding_byte_offsets(const lm_encoding_t *enc) {
    return enc ? enc->byte_offsets : NULL;
}

size_t lm_encoding_overflow_count(const lm_encoding_t *enc) { return enc ? enc->n_overflow : 0; }

const lm_encoding_t *lm_encoding_overflow(const lm_encoding_t *enc, size_t i) {
    return enc != NULL && i < enc->n_overflow ? enc->overflow[i] : NULL;
}
