/* Internal: the global gradient norm and torch.nn.utils.clip_grad_norm_ over one flat gradient
 * slab. */
#ifndef LM_OPTIM_CLIP_H
#define LM_OPTIM_CLIP_H

#include <stddef.h>

/* The L2 norm of grad[0..n), summed in double over fixed blocks added in order: the same for any
 * thread count. Not finite when a gradient is inf or NaN (or the sum overflows). */
double lmi_grad_norm(int threads, const float *grad, size_t n);

/* torch.nn.utils.clip_grad_norm_(params, max_norm) (norm_type 2) over grad[0..n): returns the
 * total norm (lmi_grad_norm); when it is finite, clip_coef = max_norm / (total + 1e-6) and
 * grad *= clip_coef where clip_coef < 1 (torch multiplies by min(clip_coef, 1), which is the
 * same). clip_coef is formed in float as torch does: (1 / (float(total) + 1e-6f)) * max_norm.
 * A non-finite total leaves grad alone: the caller must skip the step (torch would scale every
 * gradient by 0 or NaN). max_norm > 0. */
double lmi_clip_grad_norm(int threads, float *grad, size_t n, double max_norm);

#endif
