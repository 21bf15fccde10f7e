/* Internal: UTF-8 decoding, encoding and validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF). */
#ifndef LM_BASE_UTF8_H
#define LM_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s[0..len). Returns the number of bytes used (1..4) and stores the
 * code point, or returns 0 for an invalid or truncated sequence (nothing stored). len must be > 0. */
size_t lmi_utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Encodes cp into out (room for 4 bytes). Returns bytes written, or 0 for an invalid code point. */
size_t lmi_utf8_encode(uint32_t cp, char out[4]);

/* Returns 1 if s[0..len) is valid UTF-8; otherwise 0 and the byte offset of the first bad
 * sequence in *bad_offset (when not NULL). */
int lmi_utf8_validate(const char *s, size_t len, size_t *bad_offset);

/* Number of code points in valid UTF-8 s[0..len). */
size_t lmi_utf8_length(const char *s, size_t len);

#endif
