/*
 * Internal helpers shared by core modules (not part of the public API):
 * growing a dense array and hashing short byte strings. Pure.
 */
#ifndef WD_CORE_UTIL_H
#define WD_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

/* Grows the zero-filled array *arr of *n elements of elem bytes to at least
 * need elements (doubling from 16); new elements are zero. *arr and *n are
 * unchanged on WD_ENOMEM. */
enum wd_status wd__array_grow(void **arr, uint32_t *n, uint32_t need, size_t elem) WD_MUST_USE;

/* FNV-1a, 32 bit: for short names and ids, not adversarial input. */
uint32_t wd__fnv1a(const char *s, size_t n);

#endif /* WD_CORE_UTIL_H */
