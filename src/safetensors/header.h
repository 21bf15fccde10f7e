/* Internal: the safetensors JSON header, read by a scanner made for exactly its grammar instead of
 * a general JSON parser, so that reading a header costs time linear in its size and memory for the
 * compact tensor table only (no JSON tree: a 100 MB hostile header costs no more than a plain one).
 *
 * The grammar and its checks follow the reference reader (the safetensors Rust crate on
 * serde_json):
 *  - the header is one JSON object (anything else is refused at its first byte) with only JSON
 *    whitespace after it;
 *  - "__metadata__" (at most once) is null or an object of string values;
 *  - every other key is a tensor name whose value is an object with the fields "dtype" (a string),
 *    "shape" (an array of unsigned integers) and "data_offsets" (an array of exactly two);
 *    other fields are skipped (nesting at most 128 deep); a repeated field is an error;
 *  - "shape" and "data_offsets" entries are plain unsigned integers: digits only, below 2^64,
 *    no sign, fraction or exponent (16e0, 16.0, -0 are refused, as serde reads them as floats);
 *  - strings are JSON strings; escapes are decoded (\u surrogate pairs joined, lone surrogates
 *    refused). liblm's names are C strings, so a name, metadata key or value containing U+0000
 *    is refused with a sentence (the reference accepts it).
 * liblm's own limits on top: at most LM_ST_MAX_DIMS dimensions (LM_ERR_UNSUPPORTED), dimensions
 * below 2^63, known dtype names (LM_ERR_UNSUPPORTED), non-empty names, numel * dtype size ==
 * end - begin. Repeated tensor names and metadata keys are refused by the caller (the reference
 * keeps the last; liblm never silently drops a tensor). */
#ifndef LM_SAFETENSORS_HEADER_H
#define LM_SAFETENSORS_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "safetensors/safetensors.h"

/* One scan. Pass 1 (arrays NULL) validates and counts; pass 2 over the same text with arrays of
 * the counted sizes also fills them. */
typedef struct lmi_st_scan {
    /* counts, set by every pass */
    size_t tensors;      /* tensor entries */
    size_t dims;         /* dimensions over all tensors */
    size_t meta;         /* "__metadata__" key/value pairs */
    size_t string_bytes; /* decoded names, keys and values, each with its NUL */
    /* pass 2 destinations */
    lmi_st_tensor *t;     /* [tensors]: name, dtype, ndim, shape, numel; offset = begin and
                           * nbytes = end - begin (relative to the data section) */
    int64_t *dim_block;   /* [dims] */
    const char **meta_kv; /* [2 * meta]: key, value, ... */
    char *strings;        /* [string_bytes] */
} lmi_st_scan;

/* Scans text[0..len), which must be valid UTF-8. `what` names the file and `base` is the file
 * offset of text[0], for the error sentences. Resets the counts first. Errors: LM_ERR_FORMAT,
 * LM_ERR_UNSUPPORTED (unknown dtype, too many dimensions). */
lm_status lmi_st_header_scan(const char *text, size_t len, const char *what, size_t base,
                            lmi_st_scan *sc);

#endif
