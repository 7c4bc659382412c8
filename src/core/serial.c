/*
 * Snapshot serializer (see include/warden/serial.h). Little-endian on every
 * host, so a snapshot moves between machines.
 */
#include <stdlib.h>
#include <string.h>

#include "warden/serial.h"

void wd_wbuf_init(struct wd_wbuf *w) { memset(w, 0, sizeof *w); }

void wd_wbuf_free(struct wd_wbuf *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

static uint8_t *reserve(struct wd_wbuf *w, size_t n)
{
    if (w->st != WD_OK) {
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t ncap = w->cap ? w->cap : 4096u;
        while (ncap < w->len + n) {
            ncap *= 2u;
        }
        uint8_t *p = realloc(w->data, ncap);
        if (p == NULL) {
            w->st = WD_ENOMEM;
            return NULL;
        }
        w->data = p;
        w->cap = ncap;
    }
    uint8_t *at = w->data + w->len;
    w->len += n;
    return at;
}

static void put_le(struct wd_wbuf *w, uint64_t v, unsigned n)
{
    uint8_t *p = reserve(w, n);
    for (unsigned i = 0; p != NULL && i < n; i++) {
        p[i] = (uint8_t)(v >> (8u * i));
    }
}

void wd_w_u8(struct wd_wbuf *w, uint8_t v) { put_le(w, v, 1); }
void wd_w_u32(struct wd_wbuf *w, uint32_t v) { put_le(w, v, 4); }
void wd_w_u64(struct wd_wbuf *w, uint64_t v) { put_le(w, v, 8); }
void wd_w_i64(struct wd_wbuf *w, int64_t v) { put_le(w, (uint64_t)v, 8); }

void wd_w_f64(struct wd_wbuf *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    put_le(w, u, 8);
}

void wd_w_bytes(struct wd_wbuf *w, const void *p, size_t n)
{
    if (n > UINT32_MAX) {
        w->st = WD_ERANGE;
        return;
    }
    wd_w_u32(w, (uint32_t)n);
    uint8_t *at = reserve(w, n);
    if (at != NULL && n > 0) {
        memcpy(at, p, n);
    }
}

void wd_rbuf_init(struct wd_rbuf *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->bad = false;
}

static uint64_t get_le(struct wd_rbuf *r, unsigned n)
{
    uint64_t v = 0;
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)r->data[r->pos + i] << (8u * i);
    }
    r->pos += n;
    return v;
}

uint8_t wd_r_u8(struct wd_rbuf *r) { return (uint8_t)get_le(r, 1); }
uint32_t wd_r_u32(struct wd_rbuf *r) { return (uint32_t)get_le(r, 4); }
uint64_t wd_r_u64(struct wd_rbuf *r) { return get_le(r, 8); }
int64_t wd_r_i64(struct wd_rbuf *r) { return (int64_t)get_le(r, 8); }

double wd_r_f64(struct wd_rbuf *r)
{
    uint64_t u = get_le(r, 8);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

const void *wd_r_bytes(struct wd_rbuf *r, size_t max, size_t *n)
{
    size_t len = wd_r_u32(r);
    if (r->bad || len > max || r->len - r->pos < len) {
        r->bad = true;
        *n = 0;
        return "";
    }
    const void *p = r->data + r->pos;
    r->pos += len;
    *n = len;
    return p;
}
