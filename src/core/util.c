/*
 * Internal helpers shared by core modules (see util.h). Pure.
 */
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum wd_status wd__array_grow(void **arr, uint32_t *n, uint32_t need, size_t elem)
{
    if (need <= *n) {
        return WD_OK;
    }
    uint32_t ncap = *n ? *n : 16u;
    while (ncap < need) {
        ncap *= 2u;
    }
    void *p = realloc(*arr, (size_t)ncap * elem);
    if (p == NULL) {
        return WD_ENOMEM;
    }
    memset((char *)p + (size_t)*n * elem, 0, (size_t)(ncap - *n) * elem);
    *arr = p;
    *n = ncap;
    return WD_OK;
}

uint32_t wd__fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}
