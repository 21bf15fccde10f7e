/* Internal: how much more address space this process may map before mmap and malloc fail:
 * the soft limits RLIMIT_AS (`ulimit -v`) and RLIMIT_DATA (`ulimit -d`, which counts private
 * anonymous mappings since Linux 4.7) against the current use in /proc/self/statm, and the
 * system's commit limit when overcommit is strict (vm.overcommit_memory = 2). Used to keep the
 * BLAS and OpenMP from allocating where they cannot fail cleanly (see tensor/guard.h). */
#ifndef LM_BASE_MEMLIMIT_H
#define LM_BASE_MEMLIMIT_H

#include <stddef.h>

/* 1 when some limit applies (then lmi_address_headroom is worth asking), 0 when none does.
 * Costs two getrlimit calls; the overcommit mode is read once per process. */
int lmi_address_limited(void);

/* Bytes that may still be mapped: SIZE_MAX when no limit applies, 0 when a limit applies but
 * the current use cannot be read (/proc missing): callers then take the careful path. */
size_t lmi_address_headroom(void);

#endif
