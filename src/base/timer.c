/* A monotonic clock. */
#define _POSIX_C_SOURCE 200809L
#include "timer.h"

#include <time.h>

uint64_t lmi_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double lmi_time_since(uint64_t start_ns) { return (double)(lmi_time_ns() - start_ns) * 1e-9; }
