/* Internal: the training losses of the model heads, each giving the loss and the gradient of its
 * input in one pass, as PyTorch computes them (torch.nn.CrossEntropyLoss, MSELoss,
 * BCEWithLogitsLoss, all with reduction 'mean') and as transformers' BERT heads call them.
 * Sums run in double, cut into fixed blocks added in order: the loss and the gradient are the
 * same for any thread count. Gradients are ADDED into d-buffers (+=, as the tensor ops do);
 * a NULL d-buffer computes the loss only. grad_scale multiplies every gradient, not the
 * returned loss (1 normally; e.g. 1 / accumulation steps, or count / total count when several
 * micro-batches make one step). */
#ifndef LM_LOSS_LOSS_H
#define LM_LOSS_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "lm.h"

/* The ignore_index of torch's CrossEntropyLoss and of transformers' token labels. */
#define LMI_IGNORE_INDEX (-100)

/* Softmax cross-entropy of logits[N, C] against integer labels[N]:
 *   loss = mean over the counted rows of logsumexp(logits[n]) - logits[n, labels[n]]
 * Rows whose label is ignore_index are not counted. For counted rows
 *   dlogits[n, c] += (softmax(logits[n])[c] - (c == labels[n])) * grad_scale / count
 * and ignored rows get nothing. *loss gets the mean (double); *count (may be NULL) the number of
 * counted rows. Every row ignored: *loss = 0 and no gradient. (torch returns NaN, the mean over
 * no items; a batch with no labelled token would then poison the step, while 0 with no gradient
 * is what summing losses over labelled tokens gives. transformers' token classification never
 * meets it with real data: every sentence labels its first word.)
 * Returns LM_ERR_RANGE, with nothing written, when a label is neither ignore_index nor in
 * [0, C) (torch raises an error too). */
lm_status lmi_cross_entropy_loss(int threads, double *loss, size_t *count, float *dlogits,
                                 const float *logits, const int32_t *labels, size_t N, size_t C,
                                 int32_t ignore_index, double grad_scale);

/* Mean squared error: loss = mean over n of (pred - target)^2, dpred[n] += 2 (pred - target)
 * grad_scale / n. transformers' regression head (num_labels == 1) squeezes logits [B, 1] and
 * labels [B] to n = B; with num_labels > 1 it is the same over n = B * num_labels. n = 0: 0. */
double lmi_mse_loss(int threads, float *dpred, const float *pred, const float *target, size_t n,
                    double grad_scale);

/* Binary cross-entropy with logits (transformers' multi_label_classification): loss = mean over
 * n of max(x, 0) - x y + log(1 + exp(-|x|)), dx[n] += (sigmoid(x) - y) grad_scale / n.
 * n = 0: 0. */
double lmi_bce_with_logits_loss(int threads, float *dx, const float *x, const float *target,
                                size_t n, double grad_scale);

/* BertForQuestionAnswering's span loss. logits[B, T, 2]: start logit at column 0, end logit at
 * column 1, as the qa_outputs Linear(C, 2) writes them (padding positions are not masked, as in
 * transformers). start[B], end[B]: positions, clamped to [0, T]; T (so also anything beyond the
 * sequence) is ignored, as CrossEntropyLoss(ignore_index=T) after transformers' clamp does; a
 * negative position counts as 0. loss = (CE(start) + CE(end)) / 2, each CE a mean over its own
 * counted rows, so dlogits[b, t, 0] += (softmax_t - onehot) grad_scale / (2 count_start), and
 * the same for the ends. A side with every position ignored contributes 0 and no gradient
 * (torch: NaN). Returns the loss. */
double lmi_qa_loss(int threads, float *dlogits, const float *logits, const int32_t *start,
                   const int32_t *end, size_t B, size_t T, double grad_scale);

#endif
