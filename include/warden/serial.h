/*
 * A tiny binary serializer for snapshots: little-endian fixed-width
 * integers and length-prefixed byte strings, into a growable buffer, and a
 * bounds-checked reader. Errors are sticky: after the first failure every
 * call is a no-op and the status says what went wrong, so callers check
 * once at the end. Pure.
 */
#ifndef WD_CORE_SERIAL_H
#define WD_CORE_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warden/status.h"

struct wd_wbuf {
    uint8_t *data; /* from malloc; the caller frees with wd_wbuf_free */
    size_t len, cap;
    enum wd_status st;
};

void wd_wbuf_init(struct wd_wbuf *w);
void wd_wbuf_free(struct wd_wbuf *w);
void wd_w_u8(struct wd_wbuf *w, uint8_t v);
void wd_w_u32(struct wd_wbuf *w, uint32_t v);
void wd_w_u64(struct wd_wbuf *w, uint64_t v);
void wd_w_i64(struct wd_wbuf *w, int64_t v);
void wd_w_f64(struct wd_wbuf *w, double v);
void wd_w_bytes(struct wd_wbuf *w, const void *p, size_t n); /* u32 length + bytes */

struct wd_rbuf {
    const uint8_t *data; /* borrowed */
    size_t len, pos;
    bool bad;            /* ran past the end or met an impossible length */
};

void wd_rbuf_init(struct wd_rbuf *r, const void *data, size_t len);
uint8_t wd_r_u8(struct wd_rbuf *r);
uint32_t wd_r_u32(struct wd_rbuf *r);
uint64_t wd_r_u64(struct wd_rbuf *r);
int64_t wd_r_i64(struct wd_rbuf *r);
double wd_r_f64(struct wd_rbuf *r);
/* Reads a length-prefixed string into a view of the buffer; *n <= max or
 * the reader goes bad. */
const void *wd_r_bytes(struct wd_rbuf *r, size_t max, size_t *n);

#endif /* WD_CORE_SERIAL_H */
