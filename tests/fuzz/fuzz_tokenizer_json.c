/* Fuzz target: the tokenizer.json loader on arbitrary bytes, then one encode with the result. */
#include <stdint.h>
#include <stdlib.h>

#include "lm.h"
#include "text/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lm_tokenizer_t *tok = NULL;
    lm_encoding_t *e = NULL;
    static const char text[] = "Hello, [MASK] world! un##aff caf\xc3\xa9 \xe4\xb8\xad";
    if (lm_tokenizer_json_from_memory((const char *)data, size, NULL, &tok) != LM_OK) {
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
