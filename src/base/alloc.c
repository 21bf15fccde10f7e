/* The allocator hooks: every allocation of the library goes through here. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lm.h"

static void *default_malloc(size_t size, void *user_data) {
    (void)user_data;
    return malloc(size);
}
static void *default_realloc(void *ptr, size_t size, void *user_data) {
    (void)user_data;
    return realloc(ptr, size);
}
static void default_free(void *ptr, void *user_data) {
    (void)user_data;
    free(ptr);
}

static lm_allocator current = {sizeof(lm_allocator), default_malloc, default_realloc, default_free,
                               NULL};

lm_status lmi_set_allocator(const lm_allocator *allocator) {
    if (allocator == NULL) {
        current.malloc_fn = default_malloc;
        current.realloc_fn = default_realloc;
        current.free_fn = default_free;
        current.user_data = NULL;
        return LM_OK;
    }
    if (allocator->struct_size < offsetof(lm_allocator, user_data) + sizeof(void *)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "lm_set_allocator: struct_size %zu is too small",
                        allocator->struct_size);
    }
    if (allocator->malloc_fn == NULL || allocator->realloc_fn == NULL ||
        allocator->free_fn == NULL) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT,
                        "lm_set_allocator: malloc_fn, realloc_fn and free_fn are all required");
    }
    current.malloc_fn = allocator->malloc_fn;
    current.realloc_fn = allocator->realloc_fn;
    current.free_fn = allocator->free_fn;
    current.user_data = allocator->user_data;
    return LM_OK;
}

int lmi_size_mul(size_t count, size_t size, size_t *out) {
    if (size != 0 && count > SIZE_MAX / size) {
        return 0;
    }
    *out = count * size;
    return 1;
}

void *lmi_malloc(size_t size) { return current.malloc_fn(size == 0 ? 1 : size, current.user_data); }

void *lmi_calloc(size_t count, size_t size) {
    size_t total;
    void *p;
    if (!lmi_size_mul(count, size, &total)) {
        return NULL;
    }
    p = lmi_malloc(total);
    if (p != NULL) {
        memset(p, 0, total);
    }
    return p;
}

void *lmi_realloc(void *ptr, size_t size) {
    return current.realloc_fn(ptr, size == 0 ? 1 : size, current.user_data);
}

void *lmi_malloc_array(size_t count, size_t size) {
    size_t total;
    return lmi_size_mul(count, size, &total) ? lmi_malloc(total) : NULL;
}

void *lmi_realloc_array(void *ptr, size_t count, size_t size) {
    size_t total;
    return lmi_size_mul(count, size, &total) ? lmi_realloc(ptr, total) : NULL;
}

void lmi_free(void *ptr) {
    if (ptr != NULL) {
        current.free_fn(ptr, current.user_data);
    }
}

char *lmi_strndup(const char *s, size_t n) {
    char *copy = lmi_malloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

char *lmi_strdup(const char *s) { return lmi_strndup(s, strlen(s)); }

/* Aligned blocks keep the raw pointer just before the aligned address. */
void *lmi_malloc_aligned(size_t size, size_t alignment) {
    size_t total;
    uintptr_t raw;
    uintptr_t aligned;
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0 ||
        size > SIZE_MAX - alignment - sizeof(void *)) {
        return NULL;
    }
    total = size + alignment + sizeof(void *);
    raw = (uintptr_t)lmi_malloc(total);
    if (raw == 0) {
        return NULL;
    }
    aligned = (raw + sizeof(void *) + alignment - 1) & ~(uintptr_t)(alignment - 1);
    ((void **)aligned)[-1] = (void *)raw;
    return (void *)aligned;
}

void lmi_free_aligned(void *ptr) {
    if (ptr != NULL) {
        lmi_free(((void **)ptr)[-1]);
    }
}
