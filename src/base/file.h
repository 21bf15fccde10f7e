/* Internal: files. Whole-file reads, read-only memory maps and atomic writes (temporary file in
 * the same folder, fsync, rename over the target, fsync of the folder). */
#ifndef LM_BASE_FILE_H
#define LM_BASE_FILE_H

#include <stddef.h>

#include "lm.h"

/* Reads the whole file into a new buffer with a NUL byte after the data (not counted in *len).
 * Files larger than max_size are refused with LM_ERR_RANGE. Free *data with lmi_free. */
lm_status lmi_file_read_all(const char *path, size_t max_size, char **data, size_t *len);

/* Reads exactly len bytes at offset; a file that ends earlier gives LM_ERR_FORMAT ("short read"). */
lm_status lmi_file_read_range(const char *path, size_t offset, size_t len, void *out);

/* A read-only map of a whole file. An empty file gives data == NULL, size == 0. */
typedef struct lmi_mapped_file {
    const void *data;
    size_t size;
} lmi_mapped_file;

lm_status lmi_file_map(const char *path, lmi_mapped_file *out);
void lmi_file_unmap(lmi_mapped_file *map);
/* Drops the pages of [p, p + bytes) (the part inside the map, widened to whole pages) from the
 * process's memory: they read again from the file at the next access (the map is read-only and
 * private, so nothing is lost). For data the process has copied elsewhere (packed weights). */
void lmi_file_map_release(const lmi_mapped_file *map, const void *p, size_t bytes);

/* Writes data to path atomically: either the old file stays whole or the new one is there whole. */
lm_status lmi_file_write_atomic(const char *path, const void *data, size_t len);

/* A streaming variant for large outputs: open, write pieces, then commit (rename into place) or
 * abort (remove the temporary). After a failed write the caller must abort. */
typedef struct lmi_atomic_file lmi_atomic_file;
lm_status lmi_atomic_file_open(const char *path, lmi_atomic_file **out);
lm_status lmi_atomic_file_write(lmi_atomic_file *f, const void *data, size_t len);
lm_status lmi_atomic_file_commit(lmi_atomic_file *f); /* frees f, success or not */
void lmi_atomic_file_abort(lmi_atomic_file *f);       /* frees f; NULL is a no-op */

/* Joins folder and name with one '/'. Returns NULL on allocation failure; free with lmi_free. */
char *lmi_path_join(const char *dir, const char *name);

/* 1 if path names an existing regular file, else 0. */
int lmi_file_exists(const char *path);

/* 1 if path names an existing folder, else 0. */
int lmi_dir_exists(const char *path);

/* Creates the folder when missing (its parent must exist). A path that exists and is not a
 * folder is LM_ERR_INVALID_ARGUMENT; other failures the errno's status, the path named. */
lm_status lmi_dir_make(const char *path);

/* fsync of a folder (after renames in it). Returns the errno's status with the path named. */
lm_status lmi_dir_sync(const char *path);

/* Removes a folder and the files in it (one level: a subfolder is removed only when empty).
 * `first`, when not NULL, names a file removed before the others (e.g. the file that marks a
 * checkpoint complete, so a removal cut short never leaves a folder that looks complete).
 * A missing folder is fine. */
lm_status lmi_dir_remove(const char *path, const char *first);

/* Copies a file to `to` atomically (read in pieces, written under a temporary name). */
lm_status lmi_file_copy_atomic(const char *from, const char *to);

#endif
