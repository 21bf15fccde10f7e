/* Public API (lm/text.h): text in, answers out. Placeholder until the pipeline layer lands. */
#include "lm.h"

#include "api/symver.h"
#include "base/error.h"
#include "base/options.h"

#include <string.h>

static void default_text_options(lm_text_options *o) {
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->normalize = -1;
}

lm_status lm_text_options_init(lm_text_options *opts, size_t struct_size) {
    lm_text_options d;
    default_text_options(&d);
    return lmi_options_init_caller(opts, struct_size, &d, sizeof d, "lm_text_options_init");
}

#define NOT_YET(fn) return lmi_error(LM_ERR_UNSUPPORTED, fn ": not implemented yet")

lm_status lm_embed_texts(const lm_model_t *model, size_t n, const char *const *texts,
                         const size_t *lens, const lm_text_options *opts, float *embeddings,
                         size_t capacity) {
    (void)model, (void)n, (void)texts, (void)lens, (void)opts, (void)embeddings, (void)capacity;
    NOT_YET("lm_embed_texts");
}

lm_status lm_classify_texts(const lm_model_t *model, size_t n, const char *const *texts,
                            const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                            const lm_text_options *opts, lm_label_score *results, size_t capacity,
                            size_t *k_out) {
    (void)model, (void)n, (void)texts, (void)lens, (void)pairs, (void)pair_lens, (void)opts;
    (void)results, (void)capacity, (void)k_out;
    NOT_YET("lm_classify_texts");
}

lm_status lm_fill_mask(const lm_model_t *model, size_t n, const char *const *texts,
                       const size_t *lens, const lm_text_options *opts, lm_token_score *results,
                       size_t capacity, size_t *n_results, int32_t *masks_per_text) {
    (void)model, (void)n, (void)texts, (void)lens, (void)opts, (void)results, (void)capacity;
    (void)n_results, (void)masks_per_text;
    NOT_YET("lm_fill_mask");
}

lm_status lm_answer_questions(const lm_model_t *model, size_t n, const char *const *questions,
                              const size_t *question_lens, const char *const *contexts,
                              const size_t *context_lens, const lm_text_options *opts,
                              lm_answer *answers, size_t capacity) {
    (void)model, (void)n, (void)questions, (void)question_lens, (void)contexts;
    (void)context_lens, (void)opts, (void)answers, (void)capacity;
    NOT_YET("lm_answer_questions");
}

lm_status lm_tag_texts(const lm_model_t *model, size_t n, const char *const *texts,
                       const size_t *lens, const lm_text_options *opts, lm_entity *entities,
                       size_t capacity, size_t *n_entities) {
    (void)model, (void)n, (void)texts, (void)lens, (void)opts, (void)entities, (void)capacity;
    (void)n_entities;
    NOT_YET("lm_tag_texts");
}
