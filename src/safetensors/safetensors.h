/* Internal: the safetensors file format (https://github.com/huggingface/safetensors): a validating
 * reader over a read-only memory map (or a borrowed buffer, for fuzzing) and an atomic writer.
 *
 * File layout: 8-byte little-endian unsigned N, then N bytes of UTF-8 JSON (an object mapping
 * tensor names to {"dtype", "shape", "data_offsets": [begin, end]}, plus an optional
 * "__metadata__" object of string -> string), then the data section. Offsets are relative to the
 * start of the data section.
 *
 * Checks made by lmi_safetensors_open (every failure is LM_ERR_FORMAT / LM_ERR_UNSUPPORTED /
 * LM_ERR_UTF8 with a sentence naming the file, the tensor and the byte offset):
 *  - the file holds at least 8 bytes; N <= LM_ST_MAX_HEADER (100 MB) and N <= file size - 8
 *    (so N = 2^63 fails cleanly);
 *  - the header is valid UTF-8 and a JSON object (read by the scanner of header.h, which
 *    follows the reference reader's grammar exactly and builds no JSON tree: memory is a small
 *    multiple of the header size, time linear in it); each entry other than "__metadata__" is an
 *    object with a known dtype name (LM_ERR_UNSUPPORTED for unknown ones), a shape of at most 8
 *    plain unsigned integers (digits only: no sign, fraction or exponent), data_offsets of two
 *    such integers begin <= end;
 *  - numel * dtype size == end - begin, computed without overflow;
 *  - sorted by begin, the tensors are contiguous, do not overlap and together cover the data
 *    section exactly (as the format requires);
 *  - names are non-empty, unique and hold no U+0000; "__metadata__" values are strings, its keys
 *    unique (the reference keeps the last of repeated names or keys: liblm refuses them).
 *
 * Alignment and zero copy: the map starts on a page boundary, so a tensor's data pointer is
 * base + 8 + N + begin. Writers that pad the header to a multiple of 8 (the reference Rust/Python
 * writers do, and so does lmi_safetensors_write) make every tensor whose begin is a multiple of its
 * element size naturally aligned. The format itself does not guarantee this: lmi_st_tensor.data
 * may be unaligned, and lmi_st_tensor_is_aligned() says whether it can be read in place as an
 * array of its element type. lmi_tensor_to_f32() works for any alignment (it copies with memcpy).
 */
#ifndef LM_SAFETENSORS_H
#define LM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

/* Largest accepted JSON header, in bytes (the Rust implementation uses the same limit). */
#define LM_ST_MAX_HEADER ((uint64_t)100000000)
/* Largest number of dimensions of a tensor. */
#define LM_ST_MAX_DIMS 8

typedef enum lmi_dtype {
    LM_DTYPE_F32,
    LM_DTYPE_F16,
    LM_DTYPE_BF16,
    LM_DTYPE_F64,
    LM_DTYPE_I64,
    LM_DTYPE_I32,
    LM_DTYPE_I16,
    LM_DTYPE_I8,
    LM_DTYPE_U8,
    LM_DTYPE_BOOL,
    LM_DTYPE_U16,
    LM_DTYPE_U32,
    LM_DTYPE_U64,
    LM_DTYPE_F8_E4M3, /* "F8_E4M3": read and written as raw bytes only */
    LM_DTYPE_F8_E5M2, /* "F8_E5M2": read and written as raw bytes only */
    LM_DTYPE_COUNT
} lmi_dtype;

/* Bytes per element (1, 2, 4 or 8); 0 for a value outside the enum. */
size_t lmi_dtype_size(lmi_dtype dtype);
/* The safetensors name ("F32", "BF16", ...); "?" for a value outside the enum. */
const char *lmi_dtype_name(lmi_dtype dtype);
/* Looks up a safetensors dtype name (case-sensitive). Returns 1 and stores it, or 0. */
int lmi_dtype_from_name(const char *name, lmi_dtype *out);

/* One tensor of an open file. Everything points into the lmi_safetensors that owns it and stays
 * valid until lmi_safetensors_close. numel is the product of the shape (1 for ndim == 0). The
 * shape is a pointer (into one block of every tensor's dimensions) to keep the table compact:
 * a header of a million tensors costs about 90 bytes a tensor. */
typedef struct lmi_st_tensor {
    const char *name;
    lmi_dtype dtype;
    size_t ndim;
    const int64_t *shape; /* [ndim] */
    size_t numel;
    const void *data; /* may be unaligned, see above; NULL-or-anything when nbytes == 0 */
    size_t nbytes;
    size_t offset; /* byte offset of data from the start of the file (for error messages) */
} lmi_st_tensor;

/* An open, validated file. Owns its map (lmi_safetensors_open) or borrows the caller's buffer
 * (lmi_safetensors_open_memory). Tensors are kept in the order of their data offsets. */
typedef struct lmi_safetensors lmi_safetensors;

/* Maps `path` read-only and validates it. On failure *out is NULL and nothing leaks.
 * Errors: LM_ERR_NOT_FOUND / LM_ERR_PERMISSION / LM_ERR_IO for the file, LM_ERR_FORMAT,
 * LM_ERR_UNSUPPORTED (unknown dtype), LM_ERR_UTF8 (header), LM_ERR_NOMEM. */
lm_status lmi_safetensors_open(const char *path, lmi_safetensors **out);

/* Same checks over a caller's buffer, which must outlive the returned handle (borrowed, never
 * written). `what` names the input in error messages (NULL gives "<memory>"). */
lm_status lmi_safetensors_open_memory(const void *data, size_t size, const char *what,
                                     lmi_safetensors **out);

/* Unmaps and frees; NULL is a no-op. */
void lmi_safetensors_close(lmi_safetensors *st);
/* Drops the file's pages under [p, p + bytes) from memory (they read again from the file when
 * touched); nothing for memory outside the file's map (a borrowed buffer). */
void lmi_safetensors_release(const lmi_safetensors *st, const void *p, size_t bytes);

/* The name given at open (path or `what`). */
const char *lmi_safetensors_path(const lmi_safetensors *st);

size_t lmi_safetensors_count(const lmi_safetensors *st);
/* The i-th tensor in data order; NULL when i >= count. */
const lmi_st_tensor *lmi_safetensors_at(const lmi_safetensors *st, size_t i);
/* The tensor called `name`, or NULL (no error text set). */
const lmi_st_tensor *lmi_safetensors_find(const lmi_safetensors *st, const char *name);
/* The "__metadata__" value for `key`, or NULL when absent. */
const char *lmi_safetensors_metadata(const lmi_safetensors *st, const char *key);

/* Finds `name` and checks that its shape is shape[0..ndim). Returns LM_OK and stores the tensor;
 * LM_ERR_NOT_FOUND or LM_ERR_SHAPE with a sentence naming the file, the tensor, the expected and
 * the actual shape (*out NULL). For loaders: "wrong shapes" in a checkpoint end here. */
lm_status lmi_safetensors_expect(const lmi_safetensors *st, const char *name, size_t ndim,
                                const int64_t *shape, const lmi_st_tensor **out);

/* 1 when t->data is aligned for its element type (can be read in place as float* etc.). */
/* Writes a shape as "[d0, d1, ...]" into buf (cap bytes, always NUL-terminated; cut short when
 * it does not fit). */
void lmi_shape_text(char *buf, size_t cap, size_t ndim, const int64_t *shape);

int lmi_st_tensor_is_aligned(const lmi_st_tensor *t);

/* Converts to float32 into out[0..t->numel): F32 copies (any alignment), F16 and BF16 convert
 * exactly (NaN and Inf kept). Other dtypes: LM_ERR_UNSUPPORTED naming the tensor. */
lm_status lmi_tensor_to_f32(const lmi_st_tensor *t, float *out);

/* Conversions used by the writer and by tests: float32 -> F16 / BF16 with round-to-nearest-even
 * (as PyTorch's .half() / .bfloat16()), and back. */
uint16_t lmi_f32_to_f16(float f);
uint16_t lmi_f32_to_bf16(float f);
float lmi_f16_to_f32(uint16_t h);
float lmi_bf16_to_f32(uint16_t h);

/* One tensor to write: numel * lmi_dtype_size(dtype) bytes of little-endian data. */
typedef struct lmi_st_write {
    const char *name;
    lmi_dtype dtype;
    size_t ndim;
    int64_t shape[LM_ST_MAX_DIMS];
    const void *data;
} lmi_st_write;

/* Writes a safetensors file atomically (temporary file, fsync, rename). The header is padded with
 * spaces to a multiple of 8 and the tensors are laid out by element size, largest first (stable,
 * otherwise in the given order, like the reference writer), so every tensor's data is naturally
 * aligned in a page-aligned map. meta_kv is NULL or a NULL-terminated list key, value, key,
 * value, ..., NULL written as "__metadata__". Errors: LM_ERR_INVALID_ARGUMENT (NULL/empty name,
 * duplicate name, "__metadata__" as a name, bad dtype, ndim > 8, negative dim, NULL data for a
 * non-empty tensor, size overflow, odd meta_kv), LM_ERR_NOMEM, file errors. */
lm_status lmi_safetensors_write(const char *path, const lmi_st_write *tensors, size_t n,
                               const char *const *meta_kv);

#endif
