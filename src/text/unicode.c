/* Character classes and per-character normalization for the BERT pipeline (see unicode.h). The
 * rules are those of Hugging Face tokenizers' BertNormalizer and BertPreTokenizer. */
#include "unicode.h"

#include <stdlib.h>

#include <utf8proc.h>

typedef struct lmi_uni_class_override {
    uint32_t cp;
    unsigned char control;
    unsigned char punct;
} lmi_uni_class_override;

typedef struct lmi_uni_norm_override {
    uint32_t cp;
    unsigned char mode; /* 0 strip+lower, 1 lower, 2 strip */
    unsigned char n;
    uint32_t out[4];
} lmi_uni_norm_override;

#ifdef LM_NO_UNICODE_OVERRIDES
static const lmi_uni_class_override lmi_uni_class_overrides[1] = {{0xFFFFFFFFu, 0, 0}};
static const lmi_uni_norm_override lmi_uni_norm_overrides[1] = {{0xFFFFFFFFu, 0, 0, {0, 0, 0, 0}}};
#else
#include "unicode_overrides.h"
#endif

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const lmi_uni_class_override *class_override(uint32_t cp) {
    size_t lo = 0, hi = COUNT(lmi_uni_class_overrides);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lmi_uni_class_overrides[mid].cp < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < COUNT(lmi_uni_class_overrides) && lmi_uni_class_overrides[lo].cp == cp
               ? &lmi_uni_class_overrides[lo] : NULL;
}

static const lmi_uni_norm_override *norm_override(uint32_t cp, int mode) {
    size_t lo = 0, hi = COUNT(lmi_uni_norm_overrides);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (lmi_uni_norm_overrides[mid].cp < cp) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (; lo < COUNT(lmi_uni_norm_overrides) && lmi_uni_norm_overrides[lo].cp == cp; lo++) {
        if (lmi_uni_norm_overrides[lo].mode == mode) {
            return &lmi_uni_norm_overrides[lo];
        }
    }
    return NULL;
}

size_t lmi_text_decode(const unsigned char *s, size_t len, uint32_t *cp, int *valid) {
    unsigned char b = s[0];
    size_t need;
    uint32_t c;
    unsigned char lo = 0x80, hi = 0xBF;
    size_t i;
    if (b < 0x80) {
        *cp = b;
        *valid = 1;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        c = b & 0x0F;
        if (b == 0xE0) {
            lo = 0xA0;
        } else if (b == 0xED) {
            hi = 0x9F;
        }
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        c = b & 0x07;
        if (b == 0xF0) {
            lo = 0x90;
        } else if (b == 0xF4) {
            hi = 0x8F;
        }
    } else {
        *valid = 0;
        return 1;
    }
    for (i = 1; i <= need; i++) {
        unsigned char t;
        if (i >= len) {
            *valid = 0;
            return i;
        }
        t = s[i];
        if (t < lo || t > hi) {
            *valid = 0;
            return i;
        }
        lo = 0x80;
        hi = 0xBF;
        c = (c << 6) | (t & 0x3F);
    }
    *cp = c;
    *valid = 1;
    return need + 1;
}

int lmi_text_is_whitespace(uint32_t cp) {
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

int lmi_text_is_control(uint32_t cp) {
    utf8proc_category_t c;
    const lmi_uni_class_override *o;
    if (cp == '\t' || cp == '\n' || cp == '\r') {
        return 0;
    }
    if (cp >= 0x80 && (o = class_override(cp)) != NULL) {
        return o->control;
    }
    c = utf8proc_category((utf8proc_int32_t)cp);
    /* Cn (unassigned) is not included: Hugging Face keeps unassigned code points */
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CO ||
           c == UTF8PROC_CATEGORY_CS;
}

int lmi_text_is_punct(uint32_t cp) {
    utf8proc_category_t c;
    const lmi_uni_class_override *o;
    if (cp < 0x80) {
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    }
    if ((o = class_override(cp)) != NULL) {
        return o->punct;
    }
    c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

int lmi_text_is_chinese(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

size_t lmi_text_normalize_char(uint32_t cp, int strip, int lower, uint32_t out[LM_TEXT_NORM_MAX]) {
    utf8proc_int32_t buf[LM_TEXT_NORM_MAX];
    size_t n = 1;
    size_t i;
    size_t k = 0;
    const lmi_uni_norm_override *o;
    if ((strip || lower) && (o = norm_override(cp, strip && lower ? 0 : lower ? 1 : 2)) != NULL) {
        for (i = 0; i < o->n; i++) {
            out[i] = o->out[i];
        }
        return o->n;
    }
    buf[0] = (utf8proc_int32_t)cp;
    if (strip) {
        int boundclass = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, LM_TEXT_NORM_MAX,
                                                     UTF8PROC_DECOMPOSE, &boundclass);
        if (r <= 0 || r > LM_TEXT_NORM_MAX) {
            buf[0] = (utf8proc_int32_t)cp;
            r = 1;
        }
        n = (size_t)r;
    }
    for (i = 0; i < n; i++) {
        uint32_t c = (uint32_t)buf[i];
        if (strip && utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_MN) {
            continue;
        }
        if (lower) {
            if (c == 0x130) { /* the one unconditional multi-character lowercase mapping */
                if (k + 2 > LM_TEXT_NORM_MAX) {
                    break;
                }
                out[k++] = 'i';
                out[k++] = 0x307;
                continue;
            }
            c = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        }
        out[k++] = c;
    }
    return k;
}
