/* Symbols kept for programs built against liblm 0.1, whose _options_init functions took no size
 * and wrote the library's own sizeof (issue: a newer library wrote past an older caller's struct).
 * A 0.1 program binds to NAME@lm_0.1, and its structs are exactly the 0.1 layouts below, so these
 * write exactly that many bytes. New programs bind to NAME@@lm_0.2 (size passed by the caller).
 * Only the shared library carries them (symbol versions mean nothing in a static archive). */
#include "lm.h"

#include "api/symver.h"

#if defined(__ELF__)

/* The 0.1 layouts: struct_size, then the fields 0.1 had (int-sized enums). */
typedef struct options_v01_model {
    size_t struct_size;
    int threads, head;
} options_v01_model;
typedef struct options_v01_tokenizer {
    size_t struct_size;
    int lower_case, strip_accents, tokenize_chinese_chars, replace_invalid_utf8, clean_text;
} options_v01_tokenizer;
typedef struct options_v01_encode {
    size_t struct_size;
    int add_special_tokens;
    size_t max_length;
    int truncation, padding;
    size_t stride;
    int return_overflowing;
} options_v01_encode;

void lmi_compat01_model_options_init(void *opts);
void lmi_compat01_tokenizer_options_init(void *opts);
void lmi_compat01_encode_options_init(void *opts);

LMI_SYMVER(lmi_compat01_model_options_init, "lm_model_options_init@lm_0.1");
LM_API void lmi_compat01_model_options_init(void *opts) {
    if (opts != NULL) {
        (void)lmi_api_model_options_init(opts, sizeof(options_v01_model));
    }
}

LMI_SYMVER(lmi_compat01_tokenizer_options_init, "lm_tokenizer_options_init@lm_0.1");
LM_API void lmi_compat01_tokenizer_options_init(void *opts) {
    if (opts != NULL) {
        (void)lmi_api_tokenizer_options_init(opts, sizeof(options_v01_tokenizer));
    }
}

LMI_SYMVER(lmi_compat01_encode_options_init, "lm_encode_options_init@lm_0.1");
LM_API void lmi_compat01_encode_options_init(void *opts) {
    if (opts != NULL) {
        (void)lmi_api_encode_options_init(opts, sizeof(options_v01_encode));
    }
}

#endif
