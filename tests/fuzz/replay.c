/* Replay driver for fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput on every file
 * named on the command line (folders are walked one level deep). Used by `make check`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int i;
    int count = 0;
    int errors = 0;
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(argv[i]);
            struct dirent *e;
            if (d == NULL) {
                return 1;
            }
            while ((e = readdir(d)) != NULL) {
                char path[4096];
                if (e->d_name[0] == '.') {
                    continue;
                }
                snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                errors += run_file(path);
                count++;
            }
            closedir(d);
        } else {
            errors += run_file(argv[i]);
            count++;
        }
    }
    printf("replayed %d inputs\n", count);
    return errors != 0;
}
