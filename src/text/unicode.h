/* Internal (text): the character classes and per-character normalization of Hugging Face's BERT
 * normalizer and pre-tokenizer, on utf8proc's Unicode data, and a UTF-8 decoder that reports
 * invalid sequences the way Python's errors="replace" splits them (maximal subparts). */
#ifndef LM_TEXT_UNICODE_H
#define LM_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s[0..len) (len > 0). Returns the bytes consumed (>= 1). *valid is 1
 * with *cp set for a well-formed sequence; 0 for an ill-formed one, whose returned length is its
 * maximal subpart (one U+FFFD in Python's decoder). */
size_t lmi_text_decode(const unsigned char *s, size_t len, uint32_t *cp, int *valid);

/* Character classes (for code points >= 0x80; ASCII uses the tables in tokenize.c). */
int lmi_text_is_control(uint32_t cp);    /* HF is_control: Cc Cf Co Cs except \t \n \r */
int lmi_text_is_whitespace(uint32_t cp); /* Unicode White_Space (Rust char::is_whitespace) */
int lmi_text_is_punct(uint32_t cp);      /* ASCII punctuation or Unicode P* */
int lmi_text_is_chinese(uint32_t cp);    /* the CJK ideograph blocks BERT splits */

/* The normalized form of one character: NFD with nonspacing marks dropped (strip), then full
 * lowercase mapping (lower). Writes at most LM_TEXT_NORM_MAX code points to out; returns count. */
#define LM_TEXT_NORM_MAX 32
size_t lmi_text_normalize_char(uint32_t cp, int strip, int lower, uint32_t out[LM_TEXT_NORM_MAX]);

#endif
