/* Learning-rate schedules (see schedule.h): transformers' lr lambdas, term for term. */
#include "optim/schedule.h"

#include <math.h>

static double warmup_lambda(long step, long warmup) {
    return (double)step / (double)(warmup > 1 ? warmup : 1);
}

double lmi_lr_at(lmi_lr_schedule kind, double base_lr, long step, long warmup, long total) {
    double lambda = 1.0;
    const long span = total - warmup > 1 ? total - warmup : 1;
    if (kind != LMI_LR_CONSTANT && step < warmup) {
        lambda = warmup_lambda(step, warmup);
    } else if (kind == LMI_LR_LINEAR) {
        lambda = (double)(total - step) / (double)span;
        lambda = lambda > 0.0 ? lambda : 0.0;
    } else if (kind == LMI_LR_COSINE) {
        const double progress = (double)(step - warmup) / (double)span;
        lambda = 0.5 * (1.0 + cos(3.141592653589793 * 0.5 * 2.0 * progress));
        lambda = lambda > 0.0 ? lambda : 0.0;
    }
    return base_lr * lambda;
}
