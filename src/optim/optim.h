/* Internal: optimizer steps over flat float arrays, as PyTorch's single-tensor (CPU default)
 * paths compute them: torch.optim.AdamW, torch.optim.Adam and torch.optim.SGD. The parameters,
 * gradients and optimizer state are slabs of one layout; a list of ranges says which elements
 * to update and which of them take weight decay, so the kernels know nothing of the model.
 * Scalars are formed in double, as Python does, and rounded to float where torch rounds them;
 * each element is then updated in float in torch's order of operations. Elementwise only: the
 * result does not depend on the thread count. */
#ifndef LM_OPTIM_OPTIM_H
#define LM_OPTIM_OPTIM_H

#include <stddef.h>

/* A run of elements [offset, offset + count) of the slabs. decay 1: weight decay applies;
 * 0: it does not (biases and LayerNorm weights, transformers' no-decay group). Elements in no
 * range are not touched (frozen). Ranges must not overlap. */
typedef struct lmi_optim_range {
    size_t offset;
    size_t count;
    int decay;
} lmi_optim_range;

/* torch.optim.Adam / AdamW hyperparameters (amsgrad, maximize: not supported). */
typedef struct lmi_adam_params {
    double lr;           /* this step's learning rate (see optim/schedule.h) */
    double beta1;        /* 0.9 */
    double beta2;        /* 0.999 */
    double eps;          /* 1e-8 (transformers' Trainer: 1e-8 too) */
    double weight_decay; /* AdamW: decoupled; Adam: L2, added to the gradient */
    int decoupled;       /* 1: AdamW; 0: Adam */
} lmi_adam_params;

/* One Adam / AdamW step on param, m (exp_avg), v (exp_avg_sq), all [n], from grad[n]; step is
 * the step number t counting from 1 (torch's state["step"] after its increment); m and v start
 * at 0. Per element, with wd = weight_decay where the range decays, else 0:
 *   AdamW: p = p * (1 - lr wd)                  Adam: g = g + wd p
 *   m = m + (1 - beta1) (g - m)                 (torch's lerp_)
 *   v = v beta2 + (1 - beta2) g g
 *   p = p + (-lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - beta_i^t
 * ranges NULL (nranges ignored): every element, with decay. */
void lmi_adam_step(int threads, float *param, const float *grad, float *m, float *v, size_t n,
                   const lmi_optim_range *ranges, size_t nranges, const lmi_adam_params *hp,
                   long step);

/* torch.optim.SGD hyperparameters (maximize: not supported). */
typedef struct lmi_sgd_params {
    double lr;
    double momentum;     /* 0: plain SGD, buf unused (may be NULL) */
    double dampening;    /* usually 0 */
    double weight_decay; /* L2, added to the gradient */
    int nesterov;        /* needs momentum > 0 and dampening 0 (torch refuses otherwise) */
} lmi_sgd_params;

/* One SGD step on param[n] (and the momentum buffer buf[n]) from grad[n]; step counts from 1:
 *   g = g + wd p
 *   buf = g (step 1) or buf momentum + (1 - dampening) g
 *   g = nesterov ? g + momentum buf : buf
 *   p = p + (-lr) g
 * ranges as lmi_adam_step. */
void lmi_sgd_step(int threads, float *param, const float *grad, float *buf, size_t n,
                  const lmi_optim_range *ranges, size_t nranges, const lmi_sgd_params *hp,
                  long step);

/* x[0..n) = 0 on up to `threads` threads (the gradients before a step: zeroing them is a pass
 * over memory as long as the optimizer's, too long for one thread). */
void lmi_optim_zero(int threads, float *x, size_t n);

#endif
