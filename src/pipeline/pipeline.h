/* Internal: the text pipelines behind lm/text.h. Each takes texts, tokenizes them with the
 * model's tokenizer, truncates, runs them through the encoder in length-sorted padded batches and
 * turns the head's outputs into the answers of the reference tools: sentence-transformers
 * `encode` (embed.c), transformers' text-classification (classify.c), fill-mask (fill_mask.c),
 * question-answering (qa.c) and token-classification (tag.c) pipelines. src/api/text.c checks the
 * handles and reads the caller's options; everything else, the option values included, is checked
 * here. Every function: `m` a model, `tok` its tokenizer (not NULL), `o` the caller's options in
 * the library's full struct (defaults filled in, not NULL). Errors as lm/text.h says; the caller
 * prefixes the public function's name. */
#ifndef LM_PIPELINE_PIPELINE_H
#define LM_PIPELINE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"
#include "model/bert.h"

lm_status lmi_pipe_embed(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                         size_t n, const char *const *texts, const size_t *lens,
                         float *out /* [n, C] */, size_t capacity);

lm_status lmi_pipe_classify(const lmi_bert *m, const lm_tokenizer_t *tok,
                            const lm_text_options *o, size_t n, const char *const *texts,
                            const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                            lm_label_score *out /* [n, k] */, size_t capacity, size_t *k_out);

lm_status lmi_pipe_fill_mask(const lmi_bert *m, const lm_tokenizer_t *tok,
                             const lm_text_options *o, size_t n, const char *const *texts,
                             const size_t *lens, lm_token_score *out, size_t capacity,
                             size_t *n_out, int32_t *masks_per_text /* [n] or NULL */);

lm_status lmi_pipe_answer(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                          size_t n, const char *const *questions, const size_t *question_lens,
                          const char *const *contexts, const size_t *context_lens,
                          lm_answer *out /* [n, top_k] */, size_t capacity);

lm_status lmi_pipe_tag(const lmi_bert *m, const lm_tokenizer_t *tok, const lm_text_options *o,
                       size_t n, const char *const *texts, const size_t *lens, lm_entity *out,
                       size_t capacity, size_t *n_out);

#endif
