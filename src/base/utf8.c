/* UTF-8 decoding, encoding and validation (RFC 3629). */
#include "utf8.h"

size_t lmi_utf8_decode(const char *s, size_t len, uint32_t *cp) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t c;
    size_t need;
    size_t i;
    uint32_t min;
    if (len == 0) {
        return 0;
    }
    c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) {
        return 0; /* continuation byte or overlong 2-byte lead */
    }
    if (c < 0xE0) {
        need = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c < 0xF0) {
        need = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c < 0xF5) {
        need = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len < need) {
        return 0;
    }
    for (i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (u[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0;
    }
    *cp = c;
    return need;
}

size_t lmi_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        return 0;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

int lmi_utf8_validate(const char *s, size_t len, size_t *bad_offset) {
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        n = lmi_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            if (bad_offset != NULL) {
                *bad_offset = i;
            }
            return 0;
        }
        i += n;
    }
    return 1;
}

size_t lmi_utf8_length(const char *s, size_t len) {
    size_t count = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            count++;
        }
    }
    return count;
}
