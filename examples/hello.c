/* hello: the smallest liblm program. Prints the library version and shows how a failure reads.
 * Build: cc hello.c $(pkg-config --cflags --libs lm) */
#include <stdio.h>

#include <lm.h>

int main(void) {
    lm_allocator bad = {0};
    lm_status status;
    printf("liblm %s (built against %d.%d.%d)\n", lm_version_string(), LM_VERSION_MAJOR,
           LM_VERSION_MINOR, LM_VERSION_PATCH);
    if (lm_version() != LM_VERSION_NUMBER) {
        fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    bad.struct_size = sizeof bad;
    status = lm_set_allocator(&bad); /* all three functions missing: refused */
    printf("lm_set_allocator(empty) -> %s: %s\n", lm_status_string(status), lm_last_error());
    return status == LM_ERR_INVALID_ARGUMENT ? 0 : 1;
}
