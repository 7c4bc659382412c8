/*
 * Fixed-point arithmetic (scale 10^8) for prices, quantities and money.
 *
 * Parsing goes straight from JSON number text to the scaled integer with no
 * double in between, so "100.07" is exactly 10007000000. Every operation is
 * overflow-checked; rounding is half away from zero and happens once per
 * operation. Pure: no I/O, no allocation.
 */
#include <math.h>
#include <string.h>

#include "warden/fixed.h"

/* Powers of ten that fit in int64. */
static const int64_t pow10_tab[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL,
    100000000LL, 1000000000LL, 10000000000LL, 100000000000LL,
    1000000000000LL, 10000000000000LL, 100000000000000LL,
    1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL};

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The general parser: any JSON number, 128-bit mantissa. */
static enum wd_status parse_general(const char *s, size_t len, wd_fix *out);

/* The common case, in 64 bits: [-]digits[.digits] with at most 8 fraction
 * digits and at most 18 digits in all (every realistic price and size).
 * Anything else goes to the general parser. */
enum wd_status wd_fix_parse(const char *s, size_t len, wd_fix *out)
{
    size_t i = 0, digits = 0;
    uint64_t mant = 0;
    unsigned frac = 0;
    int neg = len > 0 && s[0] == '-';
    i = (size_t)neg;
    if (i >= len || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < len && s[i + 1] >= '0' &&
                                                  s[i + 1] <= '9')) {
        return parse_general(s, len, out);
    }
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        mant = mant * 10u + (unsigned)(s[i] - '0');
        digits++;
    }
    if (i < len && s[i] == '.') {
        size_t j = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            mant = mant * 10u + (unsigned)(s[i] - '0');
            digits++;
        }
        frac = (unsigned)(i - j);
        if (frac == 0) {
            return WD_EINVAL;
        }
    }
    if (i != len || digits > 18 || frac > WD_FIX_DECIMALS) {
        return parse_general(s, len, out);
    }
    uint64_t scale = (uint64_t)pow10_tab[WD_FIX_DECIMALS - frac];
    if (mant > (uint64_t)WD_FIX_INPUT_MAX / scale) {
        return WD_ERANGE;
    }
    wd_fix v = (wd_fix)(mant * scale);
    *out = neg ? -v : v;
    return WD_OK;
}

static enum wd_status parse_general(const char *s, size_t len, wd_fix *out)
{
    size_t i = 0;
    int neg = 0;
    /* Significant digits as an integer mantissa and a decimal exponent:
     * value = mant * 10^exp10. Only the first 30 significant digits are
     * kept, far more than int64 at scale 10^8 can hold. */
    wd_u128 mant = 0;
    int ndig = 0;          /* significant digits accumulated */
    int exp10 = 0;
    int any_frac = 0;

    if (len == 0) {
        return WD_EINVAL;
    }
    if (s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= len || !is_digit(s[i])) {
        return WD_EINVAL;
    }
    /* JSON forbids leading zeros ("01"). */
    if (s[i] == '0' && i + 1 < len && is_digit(s[i + 1])) {
        return WD_EINVAL;
    }
    for (; i < len && is_digit(s[i]); i++) {
        if (ndig < 30) {
            mant = mant * 10u + (unsigned)(s[i] - '0');
            if (mant != 0) {
                ndig++;
            }
        } else {
            exp10++; /* digit dropped: only its magnitude matters */
        }
    }
    if (i < len && s[i] == '.') {
        i++;
        for (; i < len && is_digit(s[i]); i++) {
            any_frac = 1;
            if (ndig < 30) {
                mant = mant * 10u + (unsigned)(s[i] - '0');
                if (mant != 0) {
                    ndig++;
                }
                exp10--;
            }
        }
        if (!any_frac) {
            return WD_EINVAL;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        long e = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= len || !is_digit(s[i])) {
            return WD_EINVAL;
        }
        for (; i < len && is_digit(s[i]); i++) {
            if (e < 100000) {
                e = e * 10 + (s[i] - '0');
            }
        }
        exp10 += (int)(eneg ? -e : e);
    }
    if (i != len) {
        return WD_EINVAL;
    }
    if (mant == 0) {
        *out = 0;
        return WD_OK;
    }
    /* Scale to 10^-8 units: value * 10^8 = mant * 10^(exp10 + 8). */
    int shift = exp10 + WD_FIX_DECIMALS;
    wd_u128 q;
    if (shift >= 0) {
        if (shift > 18) {
            return WD_ERANGE;
        }
        q = mant * (wd_u128)(uint64_t)pow10_tab[shift];
        if (q / (wd_u128)(uint64_t)pow10_tab[shift] != mant) {
            return WD_ERANGE;
        }
    } else {
        int down = -shift;
        if (down > 38) {
            q = 0; /* far below half a unit */
        } else {
            wd_u128 div = 1;
            for (int k = 0; k < down; k++) {
                div *= 10u;
            }
            q = mant / div;
            wd_u128 rem = mant % div;
            /* Half away from zero (digits past the 30th significant one
             * cannot change a decision at this scale). */
            if (rem * 2u >= div) {
                q += 1u;
            }
        }
    }
    if (q > (wd_u128)WD_FIX_INPUT_MAX) {
        return WD_ERANGE;
    }
    *out = neg ? -(wd_fix)q : (wd_fix)q;
    return WD_OK;
}

/* Rounds n / d half away from zero, d > 0. */
static wd_i128 div_round(wd_i128 n, wd_i128 d)
{
    wd_i128 q = n / d;
    wd_i128 r = n % d;
    if (r < 0) {
        r = -r;
    }
    if (r * 2 >= d) {
        q += n < 0 ? -1 : 1;
    }
    return q;
}

static enum wd_status narrow(wd_i128 v, int64_t *out)
{
    if (v > INT64_MAX || v < INT64_MIN) {
        return WD_ERANGE;
    }
    *out = (int64_t)v;
    return WD_OK;
}

enum wd_status wd_fix_mul(wd_fix a, wd_fix b, wd_fix *out)
{
    return narrow(div_round((wd_i128)a * b, WD_FIX_SCALE), out);
}

enum wd_status wd_fix_muldiv(int64_t a, int64_t b, int64_t c, int64_t *out)
{
    wd_i128 n = (wd_i128)a * b;
    wd_i128 d = c;
    if (c == 0) {
        return WD_ERANGE;
    }
    if (d < 0) {
        d = -d;
        n = -n;
    }
    return narrow(div_round(n, d), out);
}

enum wd_status wd_fix_add(wd_fix a, wd_fix b, wd_fix *out)
{
    return __builtin_add_overflow(a, b, out) ? WD_ERANGE : WD_OK;
}

double wd_fix_to_double(wd_fix v)
{
    /* Split to keep full precision for large magnitudes. */
    int64_t ip = v / WD_FIX_SCALE;
    int64_t fp = v % WD_FIX_SCALE;
    return (double)ip + (double)fp / (double)WD_FIX_SCALE;
}

enum wd_status wd_fix_from_double(double d, wd_fix *out)
{
    if (!isfinite(d)) {
        return WD_ERANGE;
    }
    double scaled = round(d * (double)WD_FIX_SCALE);
    if (scaled >= 9.2e18 || scaled <= -9.2e18) {
        return WD_ERANGE;
    }
    *out = (wd_fix)scaled;
    return WD_OK;
}

/* Writes the decimal digits of u (most significant first) into tmp from the
 * end; returns the start index. */
static size_t utoa_rev(uint64_t u, char *tmp, size_t cap)
{
    size_t p = cap;
    do {
        tmp[--p] = (char)('0' + (u % 10u));
        u /= 10u;
    } while (u != 0);
    return p;
}

/* Formats sign, integer part ip and a fraction of exactly ndec digits
 * (frac < 10^ndec) into buf. */
static size_t format_parts(int neg, uint64_t ip, uint64_t frac, unsigned ndec, char *buf,
                           size_t cap)
{
    char tmp[48];
    char digs[24];
    size_t n = 0;
    if (neg && (ip != 0 || frac != 0)) {
        tmp[n++] = '-';
    }
    size_t p = utoa_rev(ip, digs, sizeof digs);
    memcpy(tmp + n, digs + p, sizeof digs - p);
    n += sizeof digs - p;
    if (ndec > 0) {
        tmp[n++] = '.';
        for (unsigned k = ndec; k > 0; k--) {
            tmp[n + k - 1] = (char)('0' + (frac % 10u));
            frac /= 10u;
        }
        n += ndec;
    }
    if (cap == 0) {
        return 0;
    }
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

static uint64_t magnitude(wd_fix v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

size_t wd_fix_format(wd_fix v, unsigned min_decimals, char *buf, size_t cap)
{
    uint64_t mag = magnitude(v);
    uint64_t fp = mag % (uint64_t)WD_FIX_SCALE;
    unsigned ndec = WD_FIX_DECIMALS;
    if (min_decimals > WD_FIX_DECIMALS) {
        min_decimals = WD_FIX_DECIMALS;
    }
    /* Trim trailing zeros down to min_decimals. */
    while (ndec > min_decimals && fp % 10u == 0) {
        fp /= 10u;
        ndec--;
    }
    return format_parts(v < 0, mag / (uint64_t)WD_FIX_SCALE, fp, ndec, buf, cap);
}

size_t wd_fix_format_round(wd_fix v, unsigned decimals, char *buf, size_t cap)
{
    if (decimals > WD_FIX_DECIMALS) {
        decimals = WD_FIX_DECIMALS;
    }
    /* Round the magnitude's fraction half away from zero; a carry moves
     * into the integer part, which cannot overflow (|v| / 10^8 < 2^37). */
    uint64_t mag = magnitude(v);
    uint64_t ip = mag / (uint64_t)WD_FIX_SCALE;
    uint64_t unit = (uint64_t)pow10_tab[WD_FIX_DECIMALS - decimals];
    uint64_t frac = (mag % (uint64_t)WD_FIX_SCALE + unit / 2u) / unit;
    if (frac == (uint64_t)pow10_tab[decimals]) {
        ip++;
        frac = 0;
    }
    return format_parts(v < 0, ip, frac, decimals, buf, cap);
}
