/* AdamW, Adam and SGD steps over flat arrays (see optim.h). Each range is one OpenMP loop. */
#include "optim/optim.h"

#include <math.h>
#include <string.h>

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
    /* the job's scalars are copied to locals: stores through float pointers could otherwise
     * alias them, which forces reloads and stops the vectoriser */
    const adam_job *j = arg;
    float *restrict p = j->p + lo, *restrict m = j->m + lo, *restrict v = j->v + lo;
    const float *restrict gr = j->g + lo;
    const float wd = decay && !j->decoupled ? j->wd : 0.0f;
    const float decay_mul = decay && j->decoupled ? j->decay_mul : 1.0f;
    const float one_m_b1 = j->one_m_b1, b2 = j->b2, one_m_b2 = j->one_m_b2;
    const float bc2_sqrt = j->bc2_sqrt, eps = j->eps, neg_step_size = j->neg_step_size;
    long i;
#pragma omp parallel for simd num_threads(threads) schedule(static) if (threads > 1 && count >= OPTIM_PAR_MIN)
    for (i = 0; i < (long)count; i++) {
        /* Adam: grad.add(param, alpha=weight_decay); AdamW: param.mul_(1 - lr * weight_decay)
         * (wd = 0 and decay_mul = 1 leave the values exactly as they are) */
        const float g = gr[i] + wd * p[i];
        const float pi = p[i] * decay_mul;
        float mi = m[i], vi = v[i];
        mi = mi + one_m_b1 * (g - mi);  /* exp_avg.lerp_(grad, 1 - beta1) */
        vi = vi * b2;                   /* exp_avg_sq.mul_(beta2) */
        vi = vi + one_m_b2 * g * g;     /*   .addcmul_(grad, grad, value=1 - beta2) */
        m[i] = mi;
        v[i] = vi;
        /* param.addcdiv_(exp_avg, sqrt(v) / sqrt(bc2) + eps, value=-step_size) */
        p[i] = pi + neg_step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
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
    float *restrict p = j->p + lo;
    float *restrict buf = j->buf != NULL ? j->buf + lo : NULL;
    const float *restrict gr = j->g + lo;
    const float wd = decay ? j->wd : 0.0f, momentum = j->momentum, one_m_damp = j->one_m_damp;
    const float neg_lr = j->neg_lr;
    const int nesterov = j->nesterov, first = j->first;
    long i;
    if (buf == NULL) {
#pragma omp parallel for simd num_threads(threads) schedule(static) if (threads > 1 && count >= OPTIM_PAR_MIN)
        for (i = 0; i < (long)count; i++) {
            const float g = gr[i] + wd * p[i]; /* grad.add(param, alpha=weight_decay) */
            p[i] = p[i] + neg_lr * g;         /* param.add_(grad, alpha=-lr) */
        }
        return;
    }
#pragma omp parallel for simd num_threads(threads) schedule(static) if (threads > 1 && count >= OPTIM_PAR_MIN)
    for (i = 0; i < (long)count; i++) {
        const float g = gr[i] + wd * p[i];
        /* buf = grad.clone() on the first step, then buf.mul_(momentum).add_(grad, 1 - damp) */
        const float b = first ? g : buf[i] * momentum + one_m_damp * g;
        buf[i] = b;
        p[i] = p[i] + neg_lr * (nesterov ? g + momentum * b : b);
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

void lmi_optim_zero(int threads, float *x, size_t n) {
    const size_t chunk = 1u << 16; /* floats per piece: 256 KiB */
    const long pieces = (long)((n + chunk - 1) / chunk);
    long i;
#pragma omp parallel for num_threads(threads > 1 ? threads : 1) schedule(static) if (threads > 1 && pieces > 1)
    for (i = 0; i < pieces; i++) {
        const size_t lo = (size_t)i * chunk;
        memset(x + lo, 0, (n - lo < chunk ? n - lo : chunk) * sizeof(float));
    }
}
