/* A model folder on disk: config.json and model.safetensors, plus the tokenizer files, so that
 * the folder loads back in liblm and in transformers with its tokenizer. Used by lm_model_save,
 * by lm_fit's final folder and by its checkpoints. */
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/file.h"
#include "text/tokenizer.h"
#include "train/fit.h"

/* Tokenizer files copied verbatim from the folder a model came from (tokenizer.json keeps what
 * vocab.txt cannot: added tokens, normalizer settings). */
static const char *const tokenizer_files[] = {"vocab.txt", "tokenizer_config.json",
                                              "tokenizer.json", "special_tokens_map.json"};

/* The tokenizer files of the folder the model was loaded from, else the tokenizer itself. */
static lm_status save_tokenizer(const lmi_bert *m, const lm_tokenizer_t *tok, const char *dir) {
    const char *src = m->source_dir;
    lm_status s = LM_OK;
    size_t i;
    int copied = 0;
    for (i = 0; src != NULL && s == LM_OK && i < sizeof tokenizer_files / sizeof *tokenizer_files;
         i++) {
        char *from = lmi_path_join(src, tokenizer_files[i]);
        char *to = lmi_path_join(dir, tokenizer_files[i]);
        if (from == NULL || to == NULL) {
            s = lmi_error(LM_ERR_NOMEM, "out of memory");
        } else if (lmi_file_exists(from)) {
            s = strcmp(from, to) == 0 ? LM_OK : lmi_file_copy_atomic(from, to);
            copied = 1;
        }
        lmi_free(from);
        lmi_free(to);
    }
    if (s == LM_OK && !copied && tok != NULL) {
        s = lmi_tokenizer_save_dir(tok, dir);
    }
    return s;
}

lm_status lmi_model_dir_save(const lmi_bert *m, const lm_tokenizer_t *tok, const char *dir) {
    lm_status s = lmi_bert_save(m, dir);
    return s == LM_OK ? save_tokenizer(m, tok, dir) : s;
}
