/* AdamW, Adam and SGD steps over flat arrays (see optim.h). Each range is one OpenMP loop. */
#include "optim/optim.h"

#include <math.h>

/* Ranges shorter than this run on the calling thread. */
#define OPTIM_PAR_MIN 32768

/* Calls fn(lo, count, decay, arg) for each range (or for [0, n) with decay when ranges is NULL). */
typedef void (*range_fn)(size_t lo, size_t count, int decay, int threads, const void *arg);

static void for_ranges(const lmi_optim_range *ranges, size_t nranges, size_t n, int threads,
                       range_fn fn, const void *arg) {
    size_t r;
    if (ranges == NULL) {
        fn(0, n, 1, threads, arg);
        return;
    }
    for (r = 0; r < nranges; r++) {
        fn(ranges[r].offset, ranges[r].count, ranges[r].decay != 0, threads, arg);
    }
}

/* ---- Adam / AdamW ---- */

typedef struct adam_job {
    float *p, *m, *v;
    const float *g;
    float decay_mul;  /* AdamW: 1 - lr wd */
    float wd;         /* Adam: L2 coefficient */
    int decoupled;
    float one_m_b1, b2, one_m_b2, bc2_sqrt, eps, neg_step_size;
} adam_job;

static void adam_range(size_t lo, size_t count, int decay, int threads, const void *arg) {
    const adam_job *j = arg;
    float *p = j->p + lo, *m = j->m + lo, *v = j->v + lo;
    const float *gr = j->g + lo;
    const int l2 = decay && !j->decoupled && j->wd != 0.0f;
    const int dec = decay && j->decoupled && j->decay_mul != 1.0f;
    long i;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && count >= OPTIM_PAR_MIN)
    for (i = 0; i < (long)count; i++) {
        float g = gr[i], pi = p[i], denom;
        if (dec) {
            pi = pi * j->decay_mul; /* param.mul_(1 - lr * weight_decay) */
        } else if (l2) {
            g = g + j->wd * pi; /* grad.add(param, alpha=weight_decay) */
        }
        m[i] = m[i] + j->one_m_b1 * (g - m[i]); /* exp_avg.lerp_(grad, 1 - beta1) */
        v[i] = v[i] * j->b2;                    /* exp_avg_sq.mul_(beta2) */
        v[i] = v[i] + j->one_m_b2 * g * g;      /*   .addcmul_(grad, grad, value=1 - beta2) */
        denom = sqrtf(v[i]) / j->bc2_sqrt + j->eps;
        p[i] = pi + j->neg_step_size * m[i] / denom; /* param.addcdiv_(m, denom, -step_size) */
    }
}

void lmi_adam_step(int threads, float *param, const float *grad, float *m, float *v, size_t n,
                   const lmi_optim_range *ranges, size_t nranges, const lmi_adam_params *hp,
                   long step) {
    /* param[n], grad[n], m[n], v[n] */
    const double t = (double)step;
    const double bc1 = 1.0 - pow(hp->beta1, t), bc2 = 1.0 - pow(hp->beta2, t);
    adam_job j;
    j.p = param;
    j.m = m;
    j.v = v;
    j.g = grad;
    j.decoupled = hp->decoupled;
    j.decay_mul = (float)(1.0 - hp->lr * hp->weight_decay);
    j.wd = (float)hp->weight_decay;
    j.one_m_b1 = (float)(1.0 - hp->beta1);
    j.b2 = (float)hp->beta2;
    j.one_m_b2 = (float)(1.0 - hp->beta2);
    j.bc2_sqrt = (float)pow(bc2, 0.5);
    j.eps = (float)hp->eps;
    j.neg_step_size = (float)(-(hp->lr / bc1));
    for_ranges(ranges, nranges, n, threads, adam_range, &j);
}

/* ---- SGD ---- */

typedef struct sgd_job {
    float *p, *buf;
    const float *g;
    float wd, momentum, one_m_damp, neg_lr;
    int nesterov, first;
} sgd_job;

static void sgd_range(size_t lo, size_t count, int decay, int threads, const void *arg) {
    const sgd_job *j = arg;
    float *p = j->p + lo, *buf = j->buf != NULL ? j->buf + lo : NULL;
    const float *gr = j->g + lo;
    const int l2 = decay && j->wd != 0.0f;
    long i;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && count >= OPTIM_PAR_MIN)
    for (i = 0; i < (long)count; i++) {
        float g = gr[i];
        if (l2) {
            g = g + j->wd * p[i]; /* grad.add(param, alpha=weight_decay) */
        }
        if (buf != NULL) {
            if (j->first) {
                buf[i] = g; /* buf = grad.clone() */
            } else {
                buf[i] = buf[i] * j->momentum + j->one_m_damp * g; /* mul_(m).add_(g, 1 - d) */
            }
            g = j->nesterov ? g + j->momentum * buf[i] : buf[i];
        }
        p[i] = p[i] + j->neg_lr * g; /* param.add_(grad, alpha=-lr) */
    }
}

void lmi_sgd_step(int threads, float *param, const float *grad, float *buf, size_t n,
                  const lmi_optim_range *ranges, size_t nranges, const lmi_sgd_params *hp,
                  long step) {
    /* param[n], grad[n], buf[n] (or NULL when momentum is 0) */
    sgd_job j;
    j.p = param;
    j.buf = hp->momentum != 0.0 ? buf : NULL;
    j.g = grad;
    j.wd = (float)hp->weight_decay;
    j.momentum = (float)hp->momentum;
    j.one_m_damp = (float)(1.0 - hp->dampening);
    j.neg_lr = (float)(-hp->lr);
    j.nesterov = hp->nesterov;
    j.first = step <= 1;
    for_ranges(ranges, nranges, n, threads, sgd_range, &j);
}
