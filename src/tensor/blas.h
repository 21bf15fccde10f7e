/* Internal: BLAS threading control (the public lm_blas_* queries are declared in lm/model.h). */
#ifndef LM_TENSOR_BLAS_H
#define LM_TENSOR_BLAS_H

/* Sets the BLAS library's thread count (process-wide); values < 1 are ignored. */
void lmi_blas_set_threads(int threads);

#endif
