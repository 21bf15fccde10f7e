/* liblm public API: model functions. Included by lm.h; do not include directly. */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#ifndef LM_H
#error "include <lm.h> instead of <lm/model.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * BLAS: which matrix kernel runs
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief The name of the kernel the BLAS library picked for this CPU, e.g. "SkylakeX", "Zen",
 *        "Haswell" or "Prescott".
 *
 * OpenBLAS builds older than the CPU may pick a generic kernel (often "Prescott") that is about
 * 5x slower. The fast path is chosen by setting the environment variable `OPENBLAS_CORETYPE`
 * (e.g. `OPENBLAS_CORETYPE=SKYLAKEX` on CPUs with AVX-512) before the program starts: the BLAS
 * library reads it once, when it is loaded. The `lm` tool does this by itself (it re-executes
 * itself with the variable set when it is unset and the CPU supports AVX-512).
 * @return A static string owned by the BLAS library; never NULL.
 */
LM_API const char *lm_blas_kernel(void);

/**
 * @brief The number of threads the BLAS library uses for one product.
 * @return The BLAS thread count (>= 1).
 */
LM_API int lm_blas_threads(void);

/**
 * @brief The `OPENBLAS_CORETYPE` value that would select a faster kernel on this CPU.
 * @return "SKYLAKEX" when the CPU supports AVX-512 (F, BW, VL, DQ) and the running kernel is not
 *         an AVX-512 one; NULL when the running kernel is already the right one. Static string.
 */
LM_API const char *lm_blas_suggested_coretype(void);

/**
 * @brief One line describing the BLAS in use: kernel, threads and, on the slow path, the
 *        variable to set. For logs and benchmark output.
 * @return A thread-local string owned by the library, valid until the next call on the same
 *         thread; never NULL.
 */
LM_API const char *lm_blas_info(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LM_MODEL_H */
