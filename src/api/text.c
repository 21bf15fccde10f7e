/* Public API (lm/text.h): text in, answers out. Argument checks and the caller's options here; the
 * pipelines themselves are in src/pipeline/. */
#include <stddef.h>
#include <string.h>

#include "api/handle.h"
#include "base/error.h"
#include "base/options.h"
#include "lm.h"
#include "pipeline/pipeline.h"

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

/* The checks every call shares: the model and its tokenizer, the inputs (may be NULL only when
 * n is 0), the output, then the caller's options into `o`. */
static lm_status begin(const char *fn, const lm_model_t *model, size_t n, const void *in1,
                       const void *in2, int need_in2, const void *out, size_t capacity,
                       const lm_text_options *opts, lm_text_options *o) {
    lm_status s;
    if (model == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
    }
    if (n > 0 && (in1 == NULL || (need_in2 && in2 == NULL))) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the %s are NULL", fn,
                         in1 == NULL ? "texts" : "second texts");
    }
    if (out == NULL && capacity > 0) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s: the output buffer is NULL", fn);
    }
    default_text_options(o);
    s = lmi_options_read(o, sizeof *o, opts,
                         offsetof(lm_text_options, handle_impossible_answer) + sizeof(int32_t),
                         "lm_text_options"); /* the fields of 0.2 */
    if (s != LM_OK) {
        return lmi_error_prefix(s, "%s", fn);
    }
    if (model->tok == NULL) {
        return lmi_error(LM_ERR_STATE, "%s: the model has no tokenizer (load it from a folder "
                                       "with vocab.txt or tokenizer.json)", fn);
    }
    return LM_OK;
}

static lm_status end(const char *fn, lm_status s) {
    return s == LM_OK ? s : lmi_error_prefix(s, "%s", fn);
}

lm_status lm_embed_texts(const lm_model_t *model, size_t n, const char *const *texts,
                         const size_t *lens, const lm_text_options *opts, float *embeddings,
                         size_t capacity) {
    static const char fn[] = "lm_embed_texts";
    lm_text_options o;
    lm_status s = begin(fn, model, n, texts, NULL, 0, embeddings, capacity, opts, &o);
    if (s != LM_OK) {
        return s;
    }
    return end(fn, lmi_pipe_embed(model->bert, model->tok, &o, n, texts, lens, embeddings,
                                  capacity));
}

lm_status lm_classify_texts(const lm_model_t *model, size_t n, const char *const *texts,
                            const size_t *lens, const char *const *pairs, const size_t *pair_lens,
                            const lm_text_options *opts, lm_label_score *results, size_t capacity,
                            size_t *k_out) {
    static const char fn[] = "lm_classify_texts";
    lm_text_options o;
    lm_status s;
    if (k_out != NULL) {
        *k_out = 0;
    }
    s = begin(fn, model, n, texts, pairs, 0, results, capacity, opts, &o);
    if (s != LM_OK) {
        return s;
    }
    return end(fn, lmi_pipe_classify(model->bert, model->tok, &o, n, texts, lens, pairs,
                                     pair_lens, results, capacity, k_out));
}

lm_status lm_fill_mask(const lm_model_t *model, size_t n, const char *const *texts,
                       const size_t *lens, const lm_text_options *opts, lm_token_score *results,
                       size_t capacity, size_t *n_results, int32_t *masks_per_text) {
    static const char fn[] = "lm_fill_mask";
    lm_text_options o;
    lm_status s;
    if (n_results != NULL) {
        *n_results = 0;
    }
    s = begin(fn, model, n, texts, NULL, 0, results, capacity, opts, &o);
    if (s != LM_OK) {
        return s;
    }
    return end(fn, lmi_pipe_fill_mask(model->bert, model->tok, &o, n, texts, lens, results,
                                      capacity, n_results, masks_per_text));
}

lm_status lm_answer_questions(const lm_model_t *model, size_t n, const char *const *questions,
                              const size_t *question_lens, const char *const *contexts,
                              const size_t *context_lens, const lm_text_options *opts,
                              lm_answer *answers, size_t capacity) {
    static const char fn[] = "lm_answer_questions";
    lm_text_options o;
    lm_status s = begin(fn, model, n, questions, contexts, 1, answers, capacity, opts, &o);
    if (s != LM_OK) {
        return s;
    }
    return end(fn, lmi_pipe_answer(model->bert, model->tok, &o, n, questions, question_lens,
                                   contexts, context_lens, answers, capacity));
}

lm_status lm_tag_texts(const lm_model_t *model, size_t n, const char *const *texts,
                       const size_t *lens, const lm_text_options *opts, lm_entity *entities,
                       size_t capacity, size_t *n_entities) {
    static const char fn[] = "lm_tag_texts";
    lm_text_options o;
    lm_status s;
    if (n_entities != NULL) {
        *n_entities = 0;
    }
    s = begin(fn, model, n, texts, NULL, 0, entities, capacity, opts, &o);
    if (s != LM_OK) {
        return s;
    }
    return end(fn, lmi_pipe_tag(model->bert, model->tok, &o, n, texts, lens, entities, capacity,
                                n_entities));
}
