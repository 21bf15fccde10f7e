/* Cross-entropy, MSE, BCE-with-logits and the question-answering span loss (see loss.h). Each
 * row or block of elements is one unit of a deterministic parallel sum (tensor/reduce.h); the
 * gradient is written by the same pass. */
#include "loss/loss.h"

#include <math.h>

#include "base/error.h"
#include "tensor/reduce.h"

/* Work below this many elements runs on the calling thread. */
#define LOSS_PAR_MIN 32768

static int loss_threads(int threads, size_t work) {
    return work >= LOSS_PAR_MIN ? threads : 1;
}

/* ---- cross-entropy over rows of strided logits ---- */

typedef struct ce_job {
    const float *logits; /* row n, class c at logits[n * rs + c * cs] */
    float *dlogits;      /* same layout, or NULL */
    const int32_t *labels;
    size_t N, C, rs, cs, rows_per_block;
    int32_t ignore;      /* labels equal to this are skipped */
    int clamp;           /* 1: labels are clamped to [0, C] first (the QA loss; ignore = C) */
    double g;            /* gradient multiplier: grad_scale / count */
} ce_job;

static int32_t ce_label(const ce_job *j, size_t n) {
    int32_t y = j->labels[n];
    if (j->clamp) {
        y = y < 0 ? 0 : y;
        y = y > (int32_t)j->C ? (int32_t)j->C : y;
    }
    return y;
}

/* logsumexp(x) - x[y] in double; dx += (softmax(x) - onehot(y)) g when dx is not NULL */
static double ce_row(const float *x, float *dx, size_t C, size_t cs, int32_t y, double g) {
    float mx = -INFINITY;
    double sum = 0.0, lse;
    size_t c;
    for (c = 0; c < C; c++) {
        mx = x[c * cs] > mx ? x[c * cs] : mx;
    }
    for (c = 0; c < C; c++) {
        sum += exp((double)x[c * cs] - (double)mx);
    }
    lse = (double)mx + log(sum);
    if (dx != NULL) {
        for (c = 0; c < C; c++) {
            double p = exp((double)x[c * cs] - (double)mx) / sum;
            dx[c * cs] += (float)((p - (c == (size_t)y ? 1.0 : 0.0)) * g);
        }
    }
    return lse - (double)x[(size_t)y * cs];
}

static double ce_block(size_t i, void *arg) {
    const ce_job *j = arg;
    size_t lo = i * j->rows_per_block, hi = lo + j->rows_per_block, n;
    double s = 0.0;
    hi = hi < j->N ? hi : j->N;
    for (n = lo; n < hi; n++) {
        int32_t y = ce_label(j, n);
        if (y != j->ignore) {
            s += ce_row(j->logits + n * j->rs, j->dlogits != NULL ? j->dlogits + n * j->rs : NULL,
                        j->C, j->cs, y, j->g);
        }
    }
    return s;
}

/* Counts the rows that take part; the labels are already known to be valid. */
static size_t ce_count(const ce_job *j) {
    size_t n, count = 0;
    for (n = 0; n < j->N; n++) {
        count += ce_label(j, n) != j->ignore;
    }
    return count;
}

/* The mean loss over the counted rows (0 when none), gradient scaled by grad_scale / count. */
static double ce_run(int threads, ce_job *j, double grad_scale, size_t *count_out) {
    size_t count = ce_count(j), nblocks;
    double sum;
    if (count_out != NULL) {
        *count_out = count;
    }
    if (count == 0 || j->C == 0) {
        return 0.0;
    }
    j->g = grad_scale / (double)count;
    j->rows_per_block = j->C >= 4096 ? 1 : 4096 / j->C;
    nblocks = (j->N + j->rows_per_block - 1) / j->rows_per_block;
    sum = lmi_sum_blocks(loss_threads(threads, j->N * j->C), nblocks, ce_block, j);
    return sum / (double)count;
}

lm_status lmi_cross_entropy_loss(int threads, double *loss, size_t *count, float *dlogits,
                                 const float *logits, const int32_t *labels, size_t N, size_t C,
                                 int32_t ignore_index, double grad_scale) {
    /* dlogits[N, C], logits[N, C], labels[N] */
    ce_job j;
    size_t n;
    for (n = 0; n < N; n++) {
        int32_t y = labels[n];
        if (y != ignore_index && (y < 0 || (size_t)y >= C)) {
            return lmi_error(LM_ERR_RANGE, "label %ld of row %zu is outside [0, %zu) and is not "
                                           "the ignore index %ld",
                             (long)y, n, C, (long)ignore_index);
        }
    }
    j.logits = logits;
    j.dlogits = dlogits;
    j.labels = labels;
    j.N = N;
    j.C = C;
    j.rs = C;
    j.cs = 1;
    j.ignore = ignore_index;
    j.clamp = 0;
    *loss = ce_run(threads, &j, grad_scale, count);
    return LM_OK;
}

double lmi_qa_loss(int threads, float *dlogits, const float *logits, const int32_t *start,
                   const int32_t *end, size_t B, size_t T, double grad_scale) {
    /* dlogits[B, T, 2], logits[B, T, 2], start[B], end[B] */
    double total = 0.0;
    int side;
    for (side = 0; side < 2; side++) {
        ce_job j;
        j.logits = logits + side;
        j.dlogits = dlogits != NULL ? dlogits + side : NULL;
        j.labels = side == 0 ? start : end;
        j.N = B;
        j.C = T;
        j.rs = 2 * T;
        j.cs = 2;
        j.ignore = (int32_t)T;
        j.clamp = 1;
        total += ce_run(threads, &j, 0.5 * grad_scale, NULL);
    }
    return total / 2.0;
}

/* ---- elementwise regression losses ---- */

typedef struct elem_job {
    const float *x, *y;
    float *dx;
    size_t n;
    double g; /* gradient multiplier: grad_scale / n */
} elem_job;

enum { ELEM_BLOCK = 4096 };

static double mse_block(size_t i, void *arg) {
    const elem_job *j = arg;
    size_t lo = i * ELEM_BLOCK, hi = lo + ELEM_BLOCK < j->n ? lo + ELEM_BLOCK : j->n, k;
    double s = 0.0;
    for (k = lo; k < hi; k++) {
        double d = (double)j->x[k] - (double)j->y[k];
        s += d * d;
        if (j->dx != NULL) {
            j->dx[k] += (float)(2.0 * d * j->g);
        }
    }
    return s;
}

static double bce_block(size_t i, void *arg) {
    const elem_job *j = arg;
    size_t lo = i * ELEM_BLOCK, hi = lo + ELEM_BLOCK < j->n ? lo + ELEM_BLOCK : j->n, k;
    double s = 0.0;
    for (k = lo; k < hi; k++) {
        double x = j->x[k], y = j->y[k];
        s += (x > 0.0 ? x : 0.0) - x * y + log1p(exp(-fabs(x)));
        if (j->dx != NULL) {
            double sig = x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
            j->dx[k] += (float)((sig - y) * j->g);
        }
    }
    return s;
}

static double elem_run(int threads, float *dx, const float *x, const float *y, size_t n,
                       double grad_scale, lmi_block_sum_fn fn) {
    elem_job j;
    if (n == 0) {
        return 0.0;
    }
    j.x = x;
    j.y = y;
    j.dx = dx;
    j.n = n;
    j.g = grad_scale / (double)n;
    return lmi_sum_blocks(loss_threads(threads, n), (n + ELEM_BLOCK - 1) / ELEM_BLOCK, fn, &j) /
           (double)n;
}

double lmi_mse_loss(int threads, float *dpred, const float *pred, const float *target, size_t n,
                    double grad_scale) {
    /* dpred[n], pred[n], target[n] */
    return elem_run(threads, dpred, pred, target, n, grad_scale, mse_block);
}

double lmi_bce_with_logits_loss(int threads, float *dx, const float *x, const float *target,
                                size_t n, double grad_scale) {
    /* dx[n], x[n], target[n] */
    return elem_run(threads, dx, x, target, n, grad_scale, bce_block);
}
