/* liblm public API: tokenizer functions. Included by lm.h; do not include directly. */
#ifndef LM_TOKENIZER_H
#define LM_TOKENIZER_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/tokenizer.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_TOKENIZER_H */
