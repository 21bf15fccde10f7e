/* Internal (api): the layout of the model handle, shared by the api files that take one
 * (model.c creates it; text.c hands its parts to the pipelines). */
#ifndef LM_API_HANDLE_H
#define LM_API_HANDLE_H

#include "lm.h"
#include "model/bert.h"

struct lm_model {
    lmi_bert *bert;
    lm_tokenizer_t *tok; /* the folder's tokenizer, or NULL */
};

#endif
