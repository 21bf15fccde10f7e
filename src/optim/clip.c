/* Gradient norm and clipping (see clip.h). */
#include "optim/clip.h"

#include <math.h>

#include "tensor/reduce.h"

enum { NORM_BLOCK = 65536, CLIP_PAR_MIN = 32768 };

typedef struct norm_job {
    const float *g;
    size_t n;
} norm_job;

static double norm_block(size_t i, void *arg) {
    /* eight interleaved accumulators (a fixed order, so still deterministic) let the compiler
     * vectorise what one strictly ordered double sum would keep scalar */
    const norm_job *j = arg;
    size_t lo = i * NORM_BLOCK, hi = lo + NORM_BLOCK < j->n ? lo + NORM_BLOCK : j->n, k, l;
    double acc[8] = {0};
    for (k = lo; k + 8 <= hi; k += 8) {
        for (l = 0; l < 8; l++) {
            double x = j->g[k + l];
            acc[l] += x * x;
        }
    }
    for (; k < hi; k++) {
        double x = j->g[k];
        acc[0] += x * x;
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

double lmi_grad_norm(int threads, const float *grad, size_t n) {
    norm_job j;
    j.g = grad;
    j.n = n;
    return sqrt(lmi_sum_blocks(n >= CLIP_PAR_MIN ? threads : 1, (n + NORM_BLOCK - 1) / NORM_BLOCK,
                               norm_block, &j));
}

double lmi_clip_grad_norm(int threads, float *grad, size_t n, double max_norm) {
    const double total = lmi_grad_norm(threads, grad, n);
    float coef;
    long i;
    if (!isfinite(total)) {
        return total;
    }
    /* torch: clip_coef = max_norm / (total_norm + 1e-6) on a float32 tensor, i.e.
     * reciprocal(total + 1e-6) * max_norm */
    coef = (1.0f / ((float)total + 1e-6f)) * (float)max_norm;
    if (!(coef < 1.0f)) {
        return total;
    }
#pragma omp parallel for simd num_threads(threads > 1 ? threads : 1) schedule(static) if (threads > 1 && n >= CLIP_PAR_MIN)
    for (i = 0; i < (long)n; i++) {
        grad[i] *= coef;
    }
    return total;
}
