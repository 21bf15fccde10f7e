/* Fuzz target: UTF-8 validation and decoding agree with each other and never read out of bounds. */
#include <stdint.h>
#include <stdlib.h>

#include "base/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    size_t bad = 0;
    size_t i = 0;
    int valid = lmi_utf8_validate(s, size, &bad);
    while (i < size) {
        uint32_t cp;
        char buf[4];
        size_t n = lmi_utf8_decode(s + i, size - i, &cp);
        if (n == 0) {
            if (valid || bad != i) {
                abort(); /* validation and decoding disagree */
            }
            return 0;
        }
        if (lmi_utf8_encode(cp, buf) != n) {
            abort(); /* decoding must be the inverse of encoding */
        }
        i += n;
    }
    if (!valid) {
        abort();
    }
    (void)lmi_utf8_length(s, size);
    return 0;
}
