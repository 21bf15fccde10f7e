/* Internal: threads and matrix products that cannot hang or end the process under an
 * address-space limit (issue 7, item 13).
 *
 * Why: OpenBLAS takes one buffer of BUFFER_SIZE bytes (32 MiB upstream, 128 MiB in Debian's
 * 0.3.21, up to 1 GiB for BUFFERSIZE=25 builds) for each thread that calls it concurrently, at
 * that thread's first call. When the allocation fails, releases before 0.3.2x retry for ever in
 * blas_memory_alloc, and process exit then waits for the spinning thread. libgomp, for its part,
 * ends the process when it cannot create a thread. Both only fail where mmap can fail: under
 * RLIMIT_AS (`ulimit -v`), RLIMIT_DATA or strict overcommit (base/memlimit.h).
 *
 * What: every forward is planned by lmi_ops_begin. With no limit in force, the plan is the
 * requested threads and the BLAS, for the cost of two getrlimit calls. Under a limit, a thread is
 * only started when its stack fits, and the BLAS is only called when one buffer per calling
 * thread fits (counting the threads of other forwards running at the time); otherwise liblm's
 * plain kernel (lmi_sgemm with blas = 0) computes the products. The buffer size is measured once
 * (the address space one 128x128x128 product maps on the first call), and only when even a
 * 1 GiB buffer would fit; until then 1 GiB is assumed. Builds whose BUFFER_SIZE exceeds 1 GiB
 * are not covered. */
#ifndef LM_TENSOR_GUARD_H
#define LM_TENSOR_GUARD_H

#include <stddef.h>

#include "tensor/ops.h"

/* Plans a forward that asks for `threads` (>= 1) threads into *ctx (threads, blas, busy).
 * Every lmi_ops_begin must be followed by lmi_ops_end on the same ctx. */
void lmi_ops_begin(lmi_ops_ctx *ctx, int threads);
void lmi_ops_end(lmi_ops_ctx *ctx);

/* Threads (1..want) for an OpenMP region that never calls the BLAS (tokenizer batches). */
int lmi_plan_threads(int want);

/* The decision itself, pure, for tests. headroom: bytes that may still be mapped (SIZE_MAX: no
 * limit); want: threads asked for; team: threads liblm's OpenMP teams already have (their stacks
 * exist); blas_busy: BLAS callers of other forwards running now; stack_bytes: one new thread;
 * caller_bytes: one BLAS caller's buffer and malloc arena. Chooses the BLAS with t threads when
 * that fits and t is at least half the threads the plain kernel could have. */
typedef struct lmi_plan_in {
    size_t headroom;
    int want;
    int team;
    int blas_busy;
    size_t stack_bytes;
    size_t caller_bytes;
} lmi_plan_in;

/* Bytes kept free for everything else a forward maps while it runs. */
#define LM_PLAN_MARGIN ((size_t)32 << 20)

void lmi_plan_decide(const lmi_plan_in *in, int *threads, int *blas);

/* C[M, N] = alpha * A[M, K] . op(B) + beta * C, row-major with leading dimensions lda, ldb, ldc;
 * op(B) = B[K, N] (trans_b = 0) or B[N, K]^T (trans_b = 1). beta = 0 ignores C's contents.
 * Single-threaded: cblas_sgemm when blas is 1, else liblm's plain kernel. */
void lmi_sgemm(int blas, int trans_b, size_t M, size_t N, size_t K, float alpha,
               const float *A /* [M, lda] */, size_t lda, const float *B /* [K|N, ldb] */,
               size_t ldb, float beta, float *C /* [M, ldc] */, size_t ldc);

#endif
