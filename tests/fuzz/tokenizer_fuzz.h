/* Shared body of the tokenizer-loader fuzz targets: load a tokenizer from the fuzzer's bytes with
 * the given in-memory loader, then encode one fixed text with it. A failed load must leave no
 * tokenizer behind. */
#ifndef LM_TOKENIZER_FUZZ_H
#define LM_TOKENIZER_FUZZ_H

#include <stdint.h>
#include <stdlib.h>

#include "lm.h"
#include "text/tokenizer.h"

typedef lm_status (*tokenizer_loader_fn)(const char *data, size_t size,
                                         const lm_tokenizer_options *opts, lm_tokenizer_t **out);

static inline int fuzz_tokenizer_loader(tokenizer_loader_fn load, const uint8_t *data,
                                        size_t size) {
    lm_tokenizer_t *tok = NULL;
    lm_encoding_t *e = NULL;
    static const char text[] = "Hello, [MASK] world! un##aff caf\xc3\xa9 \xe4\xb8\xad";
    if (load((const char *)data, size, NULL, &tok) != LM_OK) {
        if (tok != NULL) {
            abort();
        }
        return 0;
    }
    if (lm_tokenizer_encode(tok, text, sizeof text - 1, NULL, &e) == LM_OK) {
        lm_encoding_free(e);
    }
    lm_tokenizer_free(tok);
    return 0;
}

#endif
