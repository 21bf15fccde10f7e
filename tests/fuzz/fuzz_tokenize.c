/* Fuzz target: encode arbitrary bytes (single, pair, truncation, stride, padding, both UTF-8
 * modes, cased and uncased), then decode the ids. The first two bytes pick the options. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm.h"
#include "text/tokenizer.h"

static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n!\nun\n"
                            "##aff\n##able\ncafe\n##ing\nplay\n\xe4\xb8\xad\ni\n##\xcc\x87\n"
                            "a\n##a\n##aa\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lm_tokenizer_t *toks[4];
    lm_tokenizer_t *tok;
    lm_encode_options o;
    lm_encoding_t *e = NULL;
    uint8_t a, b;
    const char *text;
    size_t len;
    if (toks[0] == NULL) {
        int k;
        for (k = 0; k < 4; k++) {
            lm_tokenizer_options to;
            lm_tokenizer_options_init(&to, sizeof to);
            to.lower_case = k & 1;
            to.replace_invalid_utf8 = k >> 1;
            if (lmi_tokenizer_vocab_from_memory(vocab, sizeof vocab - 1, &to, &toks[k]) != LM_OK) {
                abort();
            }
        }
    }
    if (size < 2) {
        return 0;
    }
    a = data[0];
    b = data[1];
    text = (const char *)data + 2;
    len = size - 2;
    tok = toks[a & 3];
    lm_encode_options_init(&o, sizeof o);
    o.add_special_tokens = (a >> 2) & 1;
    o.max_length = b & 15;
    o.stride = (b >> 4) & 3;
    o.truncation = (lm_truncation)((a >> 3) % 3);
    o.padding = (lm_padding)((a >> 5) % 3);
    o.return_overflowing = (b >> 6) & 1;
    if ((b >> 7) & 1) {
        const char *tab = memchr(text, '\t', len);
        size_t la = tab ? (size_t)(tab - text) : len / 2;
        size_t skip = tab ? 1 : 0;
        if (lm_tokenizer_encode_pair(tok, text, la, text + la + skip, len - la - skip, &o, &e) != LM_OK) {
            return 0;
        }
    } else if (lm_tokenizer_encode(tok, text, len, &o, &e) != LM_OK) {
        return 0;
    }
    {
        size_t n = lm_encoding_length(e), i;
        const size_t *co = lm_encoding_offsets(e);
        const size_t *bo = lm_encoding_byte_offsets(e);
        char *out = NULL;
        for (i = 0; i < n; i++) {
            if (co[2 * i] > co[2 * i + 1] || bo[2 * i] > bo[2 * i + 1] || bo[2 * i + 1] > len) {
                abort();
            }
        }
        if (lm_tokenizer_decode(tok, lm_encoding_ids(e), n, a >> 7, &out) == LM_OK) {
            lm_free(out);
        }
    }
    lm_encoding_free(e);
    return 0;
}
