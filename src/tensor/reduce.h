/* Internal: a parallel sum whose result does not depend on the thread count. The caller cuts its
 * work into blocks of a fixed size; each block's partial sum (a double) is computed on any
 * thread, and the partials are added in block order. Used by the losses and the gradient norm. */
#ifndef LM_TENSOR_REDUCE_H
#define LM_TENSOR_REDUCE_H

#include <stddef.h>

/* The partial sum of block i (0 <= i < nblocks); `arg` is the caller's context. */
typedef double (*lmi_block_sum_fn)(size_t i, void *arg);

/* sum over i in [0, nblocks) of fn(i, arg), added in order of i; the blocks run on up to
 * `threads` OpenMP threads (1 or fewer: the calling thread only). The same result, bit for bit,
 * for any thread count. */
double lmi_sum_blocks(int threads, size_t nblocks, lmi_block_sum_fn fn, void *arg);

#endif
