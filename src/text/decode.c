/* Decoding ids back to text as Hugging Face does for BERT: the WordPiece decoder (join "##"
 * pieces, a space before other tokens, its per-token cleanup of " ." " ," " n't" ...) and
 * nothing more: transformers 5 no longer applies clean_up_tokenization_spaces over the whole
 * string for BERT by default, and the reference fixtures follow it. */
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/error.h"
#include "tokenizer.h"

/* In-place str.replace(from, to) for every pair, in order; `to` is never longer than `from`. */
static size_t cleanup(char *s, size_t n) {
    static const char *const pairs[][2] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    size_t k;
    for (k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        const char *from = pairs[k][0];
        const char *to = pairs[k][1];
        size_t fl = strlen(from), tl = strlen(to);
        size_t r = 0, w = 0;
        while (r < n) {
            if (r + fl <= n && memcmp(s + r, from, fl) == 0) {
                memmove(s + w, to, tl);
                w += tl;
                r += fl;
            } else {
                s[w++] = s[r++];
            }
        }
        n = w;
        s[n] = '\0';
    }
    return n;
}

lm_status lmi_tokenizer_decode(const lm_tokenizer_t *tok, const int32_t *ids, size_t n,
                              int skip_special_tokens, char **text_out) {
    lmi_buf out = LMI_BUF_INIT;
    lmi_buf piece = LMI_BUF_INIT;
    size_t i;
    size_t emitted = 0;
    const lmi_vocab *v;
    if (text_out == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_tokenizer_decode: text_out is NULL");
    }
    *text_out = NULL;
    if (tok == NULL || (ids == NULL && n > 0)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_tokenizer_decode: tok or ids is NULL");
    }
    v = &tok->vocab;
    for (i = 0; i < n; i++) {
        if (ids[i] < 0 || (size_t)ids[i] >= v->n) {
            return lmi_error(LM_ERR_RANGE, "lm_tokenizer_decode: id %ld at index %zu is outside the "
                            "vocabulary of %zu", (long)ids[i], i, v->n);
        }
    }
    if (!lmi_buf_put(&out, "", 0)) {
        goto nomem;
    }
    for (i = 0; i < n; i++) {
        const char *t = v->pool + v->tok_off[ids[i]];
        size_t tl = v->tok_len[ids[i]];
        if (skip_special_tokens && tok->is_special_id[ids[i]]) {
            continue;
        }
        piece.len = 0;
        if (emitted > 0) {
            if (v->prefix_len > 0 && tl >= v->prefix_len && memcmp(t, v->prefix, v->prefix_len) == 0) {
                t += v->prefix_len;
                tl -= v->prefix_len;
            } else if (!lmi_buf_put(&piece, " ", 1)) {
                goto nomem;
            }
        }
        if (!lmi_buf_put(&piece, t, tl)) {
            goto nomem;
        }
        piece.len = cleanup(piece.p, piece.len);
        if (!lmi_buf_put(&out, piece.p, piece.len)) {
            goto nomem;
        }
        emitted++;
    }
    lmi_free(piece.p);
    *text_out = out.p;
    return LM_OK;
nomem:
    lmi_free(piece.p);
    lmi_free(out.p);
    return lmi_error(LM_ERR_NOMEM, "lm_tokenizer_decode: out of memory");
}
