/* Deterministic parallel sums (see reduce.h): partials of up to 256 blocks at a time go to a
 * stack array, then are added in order. */
#include "tensor/reduce.h"

double lmi_sum_blocks(int threads, size_t nblocks, lmi_block_sum_fn fn, void *arg) {
    enum { GROUP = 256 };
    double total = 0.0;
    size_t g;
    for (g = 0; g < nblocks; g += GROUP) {
        double part[GROUP];
        const long count = (long)(nblocks - g < GROUP ? nblocks - g : GROUP);
        long i;
#pragma omp parallel for num_threads(threads > 1 ? threads : 1) schedule(static) if (threads > 1 && count > 1)
        for (i = 0; i < count; i++) {
            part[i] = fn(g + (size_t)i, arg);
        }
        for (i = 0; i < count; i++) {
            total += part[i];
        }
    }
    return total;
}
