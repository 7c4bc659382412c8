/*
 * Exact fixed-point numbers for prices, quantities and money.
 *
 * Every price, quantity and amount of money in warden is an int64_t holding
 * the value times WD_FIX_SCALE (10^8): eight decimal places, enough for
 * crypto quantities and sub-cent prices, and a range of +/-92 billion, enough
 * for one firm's equity. Products and quotients go through __int128 and are
 * rounded half away from zero once, at the end. See docs/internals/NUMBERS.md.
 */
#ifndef WD_CORE_FIXED_H
#define WD_CORE_FIXED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

#define WD_FIX_SCALE 100000000LL
#define WD_FIX_DECIMALS 8
#define WD_FIX_ONE WD_FIX_SCALE
/* Largest magnitude accepted from input: 10^10 units (10^18 raw), so that
 * sums of a few inputs cannot overflow int64; products are checked. */
#define WD_FIX_INPUT_MAX (10000000000LL * WD_FIX_SCALE)

typedef int64_t wd_fix;

/* 128-bit intermediates (GCC and clang; __extension__ keeps -Wpedantic quiet). */
__extension__ typedef __int128 wd_i128;
__extension__ typedef unsigned __int128 wd_u128;

/* Parses a JSON number (optional '-', digits, optional fraction, optional
 * exponent) into *out, rounding half away from zero past 8 decimals.
 * WD_EINVAL: not a JSON number. WD_ERANGE: |value| > WD_FIX_INPUT_MAX.
 * Reads exactly len bytes; s need not be NUL-terminated. */
enum wd_status wd_fix_parse(const char *s, size_t len, wd_fix *out) WD_MUST_USE;

/* a * b, both scaled: round(a * b / SCALE). WD_ERANGE on overflow. */
enum wd_status wd_fix_mul(wd_fix a, wd_fix b, wd_fix *out) WD_MUST_USE;

/* round(a * b / c) with a 128-bit intermediate; c != 0. WD_ERANGE on overflow. */
enum wd_status wd_fix_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out) WD_MUST_USE;

/* Checked a + b. */
enum wd_status wd_fix_add(wd_fix a, wd_fix b, wd_fix *out) WD_MUST_USE;

/* From an integer number of units (e.g. 1000000 -> 1000000.0). */
static inline wd_fix wd_fix_from_int(int64_t units) { return units * WD_FIX_SCALE; }

double wd_fix_to_double(wd_fix v);

/* Converts a finite double to the nearest fixed value; WD_ERANGE if out of
 * range or not finite. For configuration values, never for money in flight. */
enum wd_status wd_fix_from_double(double d, wd_fix *out) WD_MUST_USE;

/* Writes v as a decimal with at least min_decimals and at most 8 decimals
 * (trailing zeros beyond min_decimals trimmed) into buf, NUL-terminated.
 * Returns the length written (excluding NUL); needs at most 32 bytes. */
size_t wd_fix_format(wd_fix v, unsigned min_decimals, char *buf, size_t cap);

/* Like wd_fix_format but rounds to exactly `decimals` decimals (<= 8). */
size_t wd_fix_format_round(wd_fix v, unsigned decimals, char *buf, size_t cap);

#endif /* WD_CORE_FIXED_H */
