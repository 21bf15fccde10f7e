/* liblm public API: model functions. Included by lm.h; do not include directly. */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/model.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_MODEL_H */
