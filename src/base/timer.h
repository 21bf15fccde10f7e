/* Internal: a monotonic clock for benchmarks and progress reports. */
#ifndef LM_BASE_TIMER_H
#define LM_BASE_TIMER_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point; never goes backwards. */
uint64_t lmi_time_ns(void);
/* Seconds elapsed since a value of lmi_time_ns(). */
double lmi_time_since(uint64_t start_ns);

#endif
