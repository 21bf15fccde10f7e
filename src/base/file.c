/* Files: whole-file reads, read-only maps and atomic writes. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"

static lm_status errno_error(int err, const char *action, const char *path) {
    return lmi_error(lmi_status_from_errno(err), "cannot %s %s: %s", action, path, strerror(err));
}

static lm_status open_regular(const char *path, int *fd_out, size_t *size_out) {
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno_error(errno, "open", path);
    }
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return errno_error(err, "stat", path);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "cannot read %s: it is a folder", path);
    }
    *fd_out = fd;
    *size_out = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
    return LM_OK;
}

lm_status lmi_file_read_all(const char *path, size_t max_size, char **data, size_t *len) {
    int fd;
    size_t size_hint;
    size_t cap;
    size_t used = 0;
    char *buf;
    lm_status st;
    *data = NULL;
    *len = 0;
    st = open_regular(path, &fd, &size_hint);
    if (st != LM_OK) {
        return st;
    }
    if (size_hint > max_size) {
        close(fd);
        return lmi_error(LM_ERR_RANGE, "%s is %zu bytes, more than the limit of %zu", path,
                        size_hint, max_size);
    }
    /* Files may change size between stat and read (and /proc files report 0): grow as needed. */
    cap = size_hint + 1 < 4096 ? 4096 : size_hint + 1;
    buf = lmi_malloc(cap);
    if (buf == NULL) {
        close(fd);
        return lmi_error(LM_ERR_NOMEM, "cannot allocate %zu bytes to read %s", cap, path);
    }
    for (;;) {
        ssize_t n;
        if (used + 1 >= cap) {
            size_t new_cap = cap * 2;
            char *grown;
            if (cap > max_size) {
                lmi_free(buf);
                close(fd);
                return lmi_error(LM_ERR_RANGE, "%s is larger than the limit of %zu bytes", path,
                                max_size);
            }
            grown = lmi_realloc(buf, new_cap);
            if (grown == NULL) {
                lmi_free(buf);
                close(fd);
                return lmi_error(LM_ERR_NOMEM, "cannot allocate %zu bytes to read %s", new_cap,
                                path);
            }
            buf = grown;
            cap = new_cap;
        }
        n = read(fd, buf + used, cap - 1 - used);
        if (n < 0) {
            int err = errno;
            if (err == EINTR) {
                continue;
            }
            lmi_free(buf);
            close(fd);
            return errno_error(err, "read", path);
        }
        if (n == 0) {
            break;
        }
        used += (size_t)n;
    }
    close(fd);
    if (used > max_size) {
        lmi_free(buf);
        return lmi_error(LM_ERR_RANGE, "%s is %zu bytes, more than the limit of %zu", path, used,
                        max_size);
    }
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return LM_OK;
}

lm_status lmi_file_read_range(const char *path, size_t offset, size_t len, void *out) {
    int fd;
    size_t size;
    size_t done = 0;
    lm_status st = open_regular(path, &fd, &size);
    if (st != LM_OK) {
        return st;
    }
    while (done < len) {
        ssize_t n = pread(fd, (char *)out + done, len - done, (off_t)(offset + done));
        if (n < 0) {
            int err = errno;
            if (err == EINTR) {
                continue;
            }
            close(fd);
            return errno_error(err, "read", path);
        }
        if (n == 0) {
            close(fd);
            return lmi_error(LM_ERR_FORMAT,
                            "short read from %s: wanted %zu bytes at offset %zu, the file ends "
                            "after %zu",
                            path, len, offset, offset + done);
        }
        done += (size_t)n;
    }
    close(fd);
    return LM_OK;
}

lm_status lmi_file_map(const char *path, lmi_mapped_file *out) {
    int fd;
    size_t size;
    void *p;
    lm_status st;
    out->data = NULL;
    out->size = 0;
    st = open_regular(path, &fd, &size);
    if (st != LM_OK) {
        return st;
    }
    if (size == 0) {
        close(fd);
        return LM_OK;
    }
    p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        return errno_error(errno, "map", path);
    }
    out->data = p;
    out->size = size;
    return LM_OK;
}

void lmi_file_unmap(lmi_mapped_file *map) {
    if (map != NULL && map->data != NULL) {
        munmap((void *)map->data, map->size);
        map->data = NULL;
        map->size = 0;
    }
}

void lmi_file_map_release(const lmi_mapped_file *map, const void *p, size_t bytes) {
    const uintptr_t start = (uintptr_t)map->data, end = start + map->size;
    const long page = sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    if (map->data == NULL || page <= 0 || lo >= end || hi <= start) {
        return;
    }
    lo = lo < start ? start : lo;
    hi = hi > end ? end : hi;
    lo &= ~(uintptr_t)(page - 1); /* the map starts on a page */
    hi = (hi + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
#ifdef MADV_DONTNEED
    (void)madvise((void *)lo, hi - lo, MADV_DONTNEED); /* a hint: failure changes nothing */
#endif
}

int lmi_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *lmi_path_join(const char *dir, const char *name) {
    size_t dl = strlen(dir);
    size_t nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *p = lmi_malloc(dl + (size_t)slash + nl + 1);
    if (p != NULL) {
        memcpy(p, dir, dl);
        if (slash) {
            p[dl] = '/';
        }
        memcpy(p + dl + (size_t)slash, name, nl + 1);
    }
    return p;
}

struct lmi_atomic_file {
    int fd;
    char *path;
    char *tmp_path;
    char *dir_path; /* the folder to fsync after the rename */
};

/* The folder part of a path ("." when there is none). NULL on allocation failure. */
static char *parent_folder(const char *path) {
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        return lmi_strdup(".");
    }
    if (slash == path) {
        return lmi_strdup("/");
    }
    return lmi_strndup(path, (size_t)(slash - path));
}

static void atomic_file_release(lmi_atomic_file *f) {
    lmi_free(f->path);
    lmi_free(f->tmp_path);
    lmi_free(f->dir_path);
    lmi_free(f);
}

lm_status lmi_atomic_file_open(const char *path, lmi_atomic_file **out) {
    lmi_atomic_file *f;
    size_t pl = strlen(path);
    *out = NULL;
    f = lmi_calloc(1, sizeof *f);
    if (f == NULL) {
        return lmi_error(LM_ERR_NOMEM, "cannot allocate a writer for %s", path);
    }
    f->path = lmi_strdup(path);
    f->tmp_path = lmi_malloc(pl + 16);
    f->dir_path = parent_folder(path);
    if (f->path == NULL || f->tmp_path == NULL || f->dir_path == NULL) {
        atomic_file_release(f);
        return lmi_error(LM_ERR_NOMEM, "cannot allocate a writer for %s", path);
    }
    memcpy(f->tmp_path, path, pl);
    memcpy(f->tmp_path + pl, ".tmp.XXXXXX", 12);
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) {
        lm_status st = errno_error(errno, "create a temporary file beside", path);
        atomic_file_release(f);
        return st;
    }
    /* mkstemp creates 0600; give the file the usual permissions (subject to the umask). */
    {
        mode_t mask = umask(0);
        umask(mask);
        (void)fchmod(f->fd, 0666 & ~mask);
    }
    *out = f;
    return LM_OK;
}

lm_status lmi_atomic_file_write(lmi_atomic_file *f, const void *data, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(f->fd, (const char *)data + done, len - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno_error(errno, "write", f->tmp_path);
        }
        done += (size_t)n;
    }
    return LM_OK;
}

void lmi_atomic_file_abort(lmi_atomic_file *f) {
    if (f == NULL) {
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    unlink(f->tmp_path);
    atomic_file_release(f);
}

static void fsync_folder(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: the rename itself already happened */
        close(fd);
    }
}

lm_status lmi_atomic_file_commit(lmi_atomic_file *f) {
    int fd = f->fd;
    f->fd = -1;
    if (fsync(fd) != 0) {
        int err = errno;
        close(fd);
        lm_status st = errno_error(err, "flush", f->tmp_path);
        lmi_atomic_file_abort(f);
        return st;
    }
    if (close(fd) != 0) {
        lm_status st = errno_error(errno, "close", f->tmp_path);
        lmi_atomic_file_abort(f);
        return st;
    }
    if (rename(f->tmp_path, f->path) != 0) {
        lm_status st = errno_error(errno, "rename the temporary file to", f->path);
        lmi_atomic_file_abort(f);
        return st;
    }
    fsync_folder(f->dir_path);
    atomic_file_release(f);
    return LM_OK;
}

lm_status lmi_file_write_atomic(const char *path, const void *data, size_t len) {
    lmi_atomic_file *f;
    lm_status st = lmi_atomic_file_open(path, &f);
    if (st != LM_OK) {
        return st;
    }
    st = lmi_atomic_file_write(f, data, len);
    if (st != LM_OK) {
        lmi_atomic_file_abort(f);
        return st;
    }
    return lmi_atomic_file_commit(f);
}

int lmi_dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

lm_status lmi_dir_make(const char *path) {
    struct stat st;
    if (mkdir(path, 0777) == 0) {
        return LM_OK;
    }
    if (errno != EEXIST) {
        return errno_error(errno, "create the folder", path);
    }
    if (stat(path, &st) != 0) {
        return errno_error(errno, "stat", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        return lmi_error(LM_ERR_INVALID_ARGUMENT, "%s exists and is not a folder", path);
    }
    return LM_OK;
}

lm_status lmi_dir_sync(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno_error(errno, "open the folder", path);
    }
    if (fsync(fd) != 0 && errno != EINVAL) { /* some file systems cannot sync a folder */
        int err = errno;
        close(fd);
        return errno_error(err, "flush the folder", path);
    }
    close(fd);
    return LM_OK;
}

lm_status lmi_dir_remove(const char *path, const char *first) {
    DIR *d;
    struct dirent *e;
    lm_status st = LM_OK;
    if (first != NULL) {
        char *p = lmi_path_join(path, first);
        if (p == NULL) {
            return lmi_error(LM_ERR_NOMEM, "out of memory");
        }
        if (unlink(p) != 0 && errno != ENOENT && errno != ENOTDIR) {
            st = errno_error(errno, "remove", p);
        }
        lmi_free(p);
        if (st != LM_OK) {
            return st;
        }
    }
    d = opendir(path);
    if (d == NULL) {
        return errno == ENOENT ? LM_OK : errno_error(errno, "open the folder", path);
    }
    while (st == LM_OK && (e = readdir(d)) != NULL) {
        char *p;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        p = lmi_path_join(path, e->d_name);
        if (p == NULL) {
            st = lmi_error(LM_ERR_NOMEM, "out of memory");
        } else if (unlink(p) != 0 && errno != ENOENT) {
            if ((errno == EISDIR || errno == EPERM) && rmdir(p) == 0) {
                /* an empty subfolder */
            } else {
                st = errno_error(errno, "remove", p);
            }
        }
        lmi_free(p);
    }
    closedir(d);
    if (st == LM_OK && rmdir(path) != 0 && errno != ENOENT) {
        st = errno_error(errno, "remove the folder", path);
    }
    return st;
}

lm_status lmi_file_copy_atomic(const char *from, const char *to) {
    enum { PIECE = 1 << 20 };
    lmi_atomic_file *f = NULL;
    char *buf;
    lm_status st;
    int fd = open(from, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno_error(errno, "open", from);
    }
    buf = lmi_malloc(PIECE);
    if (buf == NULL) {
        close(fd);
        return lmi_error(LM_ERR_NOMEM, "out of memory copying %s", from);
    }
    st = lmi_atomic_file_open(to, &f);
    while (st == LM_OK) {
        ssize_t n = read(fd, buf, PIECE);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            st = errno_error(errno, "read", from);
        } else if (n == 0) {
            break;
        } else {
            st = lmi_atomic_file_write(f, buf, (size_t)n);
        }
    }
    close(fd);
    lmi_free(buf);
    if (st != LM_OK) {
        lmi_atomic_file_abort(f);
        return st;
    }
    return lmi_atomic_file_commit(f);
}
