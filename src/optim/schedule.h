/* Internal: learning-rate schedules as transformers builds them (get_constant_schedule,
 * get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
 * get_cosine_schedule_with_warmup with num_cycles = 0.5) on torch's LambdaLR. */
#ifndef LM_OPTIM_SCHEDULE_H
#define LM_OPTIM_SCHEDULE_H

typedef enum lmi_lr_schedule {
    LMI_LR_CONSTANT,        /* lambda = 1 (warmup and total ignored) */
    LMI_LR_CONSTANT_WARMUP, /* step / max(1, warmup) during warmup, then 1 */
    LMI_LR_LINEAR,          /* warmup, then max(0, (total - step) / max(1, total - warmup)) */
    LMI_LR_COSINE           /* warmup, then max(0, 0.5 (1 + cos(pi 2 0.5 progress))),
                             * progress = (step - warmup) / max(1, total - warmup) */
} lmi_lr_schedule;

/* The learning rate of optimizer step `step`, counting from 0 (the first step):
 * base_lr * lambda(step), in double as Python computes it. With LambdaLR the lr used by the k-th
 * optimizer.step() (k from 0) is base * lambda(k): the scheduler starts at last_epoch 0 and
 * scheduler.step() after each optimizer step moves it on. So the first step of a warmup
 * schedule has lr 0, as in transformers. */
double lmi_lr_at(lmi_lr_schedule kind, double base_lr, long step, long warmup, long total);

#endif
