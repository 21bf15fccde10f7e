/* Address-space headroom under rlimits and strict overcommit (see memlimit.h). Linux /proc. */
#define _POSIX_C_SOURCE 200809L
#include "memlimit.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Reads a small text file (a /proc entry) into buf, NUL-terminated; returns its length or -1. */
static long read_small(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t n = 0;
    if (fd < 0) {
        return -1;
    }
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (long)n;
}

/* vm.overcommit_memory, read once: 2 = strict accounting (mmap fails past the commit limit). */
static int strict_overcommit(void) {
    static atomic_int mode = -1;
    int m = atomic_load(&mode);
    if (m < 0) {
        char buf[16];
        m = read_small("/proc/sys/vm/overcommit_memory", buf, sizeof buf) > 0 ? atoi(buf) : 0;
        atomic_store(&mode, m);
    }
    return m == 2;
}

static int finite(int resource, size_t *limit) {
    struct rlimit r;
    if (getrlimit(resource, &r) != 0 || r.rlim_cur == RLIM_INFINITY) {
        return 0;
    }
    *limit = r.rlim_cur > (rlim_t)SIZE_MAX ? SIZE_MAX : (size_t)r.rlim_cur;
    return 1;
}

int lmi_address_limited(void) {
    size_t l;
    return finite(RLIMIT_AS, &l) || finite(RLIMIT_DATA, &l) || strict_overcommit();
}

/* The value of "Key:   123 kB" in /proc/meminfo text, in bytes; 0 when absent. */
static size_t meminfo_bytes(const char *text, const char *key) {
    const char *p = strstr(text, key);
    if (p == NULL) {
        return 0;
    }
    p += strlen(key);
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    return (size_t)strtoull(p, NULL, 10) * 1024;
}

static size_t sub_or_zero(size_t a, size_t b) { return a > b ? a - b : 0; }

size_t lmi_address_headroom(void) {
    size_t as_limit = 0;
    size_t data_limit = 0;
    int has_as = finite(RLIMIT_AS, &as_limit);
    int has_data = finite(RLIMIT_DATA, &data_limit);
    size_t head = SIZE_MAX;
    if (has_as || has_data) {
        char buf[256];
        unsigned long long size = 0;
        unsigned long long data = 0;
        long page = sysconf(_SC_PAGESIZE);
        char *p;
        if (read_small("/proc/self/statm", buf, sizeof buf) <= 0 || page <= 0) {
            return 0;
        }
        /* "size resident shared text lib data dt", in pages */
        size = strtoull(buf, &p, 10);
        (void)strtoull(p, &p, 10);
        (void)strtoull(p, &p, 10);
        (void)strtoull(p, &p, 10);
        (void)strtoull(p, &p, 10);
        data = strtoull(p, &p, 10);
        if (has_as) {
            head = sub_or_zero(as_limit, (size_t)(size * (unsigned long long)page));
        }
        if (has_data) {
            size_t h = sub_or_zero(data_limit, (size_t)(data * (unsigned long long)page));
            head = h < head ? h : head;
        }
    }
    if (strict_overcommit()) {
        char buf[8192];
        size_t h;
        if (read_small("/proc/meminfo", buf, sizeof buf) <= 0) {
            return 0;
        }
        h = sub_or_zero(meminfo_bytes(buf, "CommitLimit:"), meminfo_bytes(buf, "Committed_AS:"));
        head = h < head ? h : head;
    }
    return head;
}
