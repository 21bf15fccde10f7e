/* Fuzz target: the vocab.txt loader on arbitrary bytes, then one encode with the result. */
#include "tokenizer_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_tokenizer_loader(lmi_tokenizer_vocab_from_memory, data, size);
}
