/* Internal: BLAS threading control and the kernel queries behind the public lm_blas_* functions. */
#ifndef LM_TENSOR_BLAS_H
#define LM_TENSOR_BLAS_H

/* Sets the BLAS library's thread count (process-wide); values < 1 are ignored. */
void lmi_blas_set_threads(int threads);

/* The queries behind the public lm_blas_* functions (see lm/model.h). */
const char *lmi_blas_kernel(void);
int lmi_blas_threads(void);
const char *lmi_blas_suggested_coretype(void);
const char *lmi_blas_info(void);

#endif
