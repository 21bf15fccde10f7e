/* Internal (api): binding a function to a versioned public name (GNU symbol versioning).
 * LMI_SYMVER(impl, "lm_name@@lm_0.2") makes `impl` the default lm_name of node lm_0.2 (what new
 * programs, and static links, bind to); "lm_name@lm_0.1" keeps an old meaning for programs built
 * against 0.1. Both names must also be listed in lm.map under their nodes. */
#ifndef LM_API_SYMVER_H
#define LM_API_SYMVER_H

#define LMI_SYMVER(impl, versioned) __asm__(".symver " #impl ", " versioned)

#include "lm.h"

/* The 0.2 definitions of the options initialisers (default versions of the public names). */
lm_status lmi_api_model_options_init(lm_model_options *opts, size_t struct_size);
lm_status lmi_api_tokenizer_options_init(lm_tokenizer_options *opts, size_t struct_size);
lm_status lmi_api_encode_options_init(lm_encode_options *opts, size_t struct_size);

#endif
