/*
 * Corpus replay driver for the libFuzzer harnesses (after sqlite's
 * test/fuzzcheck.c).
 *
 * A plain main() that feeds every file named on the command line, and
 * every regular file inside every directory named there (in name order,
 * not recursively), to LLVMFuzzerTestOneInput. Linked with a harness it
 * lets the ordinary test suite (gcc, no libFuzzer) replay the seed corpus
 * and every crash reproducer checked into it. A broken invariant aborts
 * inside the harness; this driver only reports I/O problems and the count.
 * It never writes anything.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file into a fresh heap buffer (*out, freed by the
 * caller). Returns 0 on success. */
static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    int rc = -1;
    if (buf == NULL) {
        fprintf(stderr, "replay: out of memory\n");
        goto out;
    }
    for (;;) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2u);
            if (nb == NULL) {
                fprintf(stderr, "replay: out of memory\n");
                goto out;
            }
            buf = nb;
            cap *= 2u;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "replay: %s: read error\n", path);
        goto out;
    }
    /* Exactly n bytes, so that ASan sees a read past the input. */
    uint8_t *exact = malloc(n > 0 ? n : 1u);
    if (exact == NULL) {
        fprintf(stderr, "replay: out of memory\n");
        goto out;
    }
    if (n > 0) {
        memcpy(exact, buf, n);
    }
    *out = exact;
    *len = n;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int run_file(const char *path, int verbose)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len) != 0) {
        return -1;
    }
    if (verbose) {
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    }
    (void)LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs every regular file of dir, in name order. Returns the number run,
 * or -1 on an I/O error. */
static long run_dir(const char *dir, int verbose)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    long count = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue; /* ., .., and hidden files such as .gitkeep */
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2u : 64u;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (nn == NULL) {
                fprintf(stderr, "replay: out of memory\n");
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        size_t dl = strlen(dir), fl = strlen(e->d_name);
        char *path = malloc(dl + fl + 2u);
        if (path == NULL) {
            fprintf(stderr, "replay: out of memory\n");
            goto out;
        }
        memcpy(path, dir, dl);
        path[dl] = '/';
        memcpy(path + dl + 1u, e->d_name, fl + 1u);
        names[n++] = path;
    }
    if (n > 0) {
        qsort(names, n, sizeof *names, cmp_names);
    }
    count = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(names[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", names[i], strerror(errno));
            count = -1;
            goto out;
        }
        if (!S_ISREG(sb.st_mode)) {
            continue;
        }
        if (run_file(names[i], verbose) != 0) {
            count = -1;
            goto out;
        }
        count++;
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    int verbose = 0;
    long total = 0;
    int nargs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s [-v] FILE|DIR...\n"
                   "Runs the fuzz harness once on each FILE and on every regular file\n"
                   "in each DIR (not recursive); fails on a crash or an I/O error.\n",
                   argv[0]);
            return 0;
        }
        nargs++;
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(sb.st_mode)) {
            long n = run_dir(argv[i], verbose);
            if (n < 0) {
                return 1;
            }
            total += n;
        } else {
            if (run_file(argv[i], verbose) != 0) {
                return 1;
            }
            total++;
        }
    }
    if (nargs == 0) {
        fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", argv[0]);
        return 2;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    printf("replay: %ld inputs, no crash\n", total);
    return 0;
}
