/* Internal: every allocation of the library goes through these, so a caller's allocator (and the
 * tests' failure injection) sees them all. Sizes are checked for overflow. */
#ifndef LM_BASE_ALLOC_H
#define LM_BASE_ALLOC_H

#include <stddef.h>

#include "lm.h"

/* Each returns NULL on failure without setting an error: callers report LM_ERR_NOMEM with context. */
void *lmi_malloc(size_t size);
void *lmi_calloc(size_t count, size_t size);            /* zeroed; NULL on count*size overflow */
void *lmi_realloc(void *ptr, size_t size);
void *lmi_malloc_array(size_t count, size_t size);      /* NULL on count*size overflow */
void *lmi_realloc_array(void *ptr, size_t count, size_t size);
char *lmi_strdup(const char *s);
char *lmi_strndup(const char *s, size_t n);
void lmi_free(void *ptr);                               /* NULL is a no-op */
/* Replaces the allocator (lm_set_allocator): LM_ERR_INVALID_ARGUMENT for a NULL function. */
lm_status lmi_set_allocator(const lm_allocator *allocator);

/* Aligned blocks for tensors (alignment a power of two >= sizeof(void*)); free with lmi_free_aligned. */
void *lmi_malloc_aligned(size_t size, size_t alignment);
void lmi_free_aligned(void *ptr);

/* count*size without overflow: returns 0 and leaves *out untouched on overflow. */
int lmi_size_mul(size_t count, size_t size, size_t *out);

#endif
