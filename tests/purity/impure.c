/*
 * A deliberately impure "core" for the purity check's own test: it reads a
 * clock and opens a file, and tests/check_core_symbols.sh must name both.
 */
#include <stdio.h>
#include <time.h>

int wd__impure_example(void);

int wd__impure_example(void)
{
    struct timespec ts;
    FILE *f = fopen("/dev/null", "r");
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (f != NULL) {
        fclose(f);
    }
    return (int)ts.tv_nsec;
}
