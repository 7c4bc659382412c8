/*
 * HMAC-SHA256 through OpenSSL (Debian's libssl-dev). Signatures are
 * compared with CRYPTO_memcmp so that timing reveals nothing about how much
 * of a forged signature was right.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "bus/hmac.h"

static bool mac(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                unsigned char out[32])
{
    unsigned int n = 0;
    if (key_len > (size_t)INT32_MAX) {
        return false;
    }
    return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &n) !=
               NULL &&
           n == 32;
}

/* 32 bytes as 64 lowercase hex digits (no NUL). */
static void to_hex(const unsigned char d[32], char out[64])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
}

bool wd_hmac_sha256_hex(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                        char out[65])
{
    unsigned char d[32];
    if (!mac(key, key_len, msg, msg_len, d)) {
        return false;
    }
    to_hex(d, out);
    out[64] = '\0';
    return true;
}

#define CACHE_KEYS 64

struct cached_key {
    uint8_t *key; /* a copy: the context is found by content, not address */
    size_t len;
    EVP_MAC_CTX *ctx;
};

struct wd_hmac_cache {
    EVP_MAC *mac;
    struct cached_key k[CACHE_KEYS];
    size_t n;
};

struct wd_hmac_cache *wd_hmac_cache_new(void)
{
    struct wd_hmac_cache *c = calloc(1, sizeof *c);
    if (c != NULL && (c->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        free(c);
        c = NULL;
    }
    return c;
}

void wd_hmac_cache_free(struct wd_hmac_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        EVP_MAC_CTX_free(c->k[i].ctx);
        OPENSSL_clear_free(c->k[i].key, c->k[i].len);
    }
    EVP_MAC_free(c->mac);
    free(c);
}

/* The context keyed with key, made on first use; NULL when the cache is
 * full or the library fails (the caller then computes one-shot). */
static EVP_MAC_CTX *cache_ctx(struct wd_hmac_cache *c, const uint8_t *key, size_t key_len)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->k[i].len == key_len && memcmp(c->k[i].key, key, key_len) == 0) {
            return c->k[i].ctx;
        }
    }
    if (c->n == CACHE_KEYS || key_len == 0) {
        return NULL;
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    struct cached_key *k = &c->k[c->n];
    k->key = OPENSSL_malloc(key_len);
    k->ctx = EVP_MAC_CTX_new(c->mac);
    if (k->key == NULL || k->ctx == NULL || EVP_MAC_init(k->ctx, key, key_len, params) != 1) {
        EVP_MAC_CTX_free(k->ctx);
        OPENSSL_free(k->key);
        return NULL;
    }
    memcpy(k->key, key, key_len);
    k->len = key_len;
    c->n++;
    return k->ctx;
}

/* HMAC through a kept context: re-initialised with its key, fed, done. */
static bool cached_mac(EVP_MAC_CTX *ctx, const char *msg, size_t msg_len, unsigned char out[32])
{
    size_t n = 0;
    return EVP_MAC_init(ctx, NULL, 0, NULL) == 1 &&
           EVP_MAC_update(ctx, (const unsigned char *)msg, msg_len) == 1 &&
           EVP_MAC_final(ctx, out, &n, 32) == 1 && n == 32;
}

bool wd_hmac_sha256_verify(void *ctx, const uint8_t *key, size_t key_len, const char *msg,
                           size_t msg_len, const char *sig_hex, size_t sig_len)
{
    unsigned char d[32];
    char want[64];
    if (sig_len != 64) {
        return false;
    }
    EVP_MAC_CTX *mc = ctx != NULL ? cache_ctx(ctx, key, key_len) : NULL;
    if (mc != NULL ? !cached_mac(mc, msg, msg_len, d) : !mac(key, key_len, msg, msg_len, d)) {
        return false;
    }
    to_hex(d, want);
    return CRYPTO_memcmp(want, sig_hex, 64) == 0;
}

#define HEAD_BYTES (1u << 20)
#define TAIL_BYTES (64u << 10)

/* Feeds bytes [from, from + n) of fd into the digest. */
static bool digest_range(EVP_MD_CTX *md, int fd, uint64_t from, uint64_t n)
{
    unsigned char buf[65536];
    while (n > 0) {
        size_t want = n < sizeof buf ? (size_t)n : sizeof buf;
        ssize_t got = pread(fd, buf, want, (off_t)from);
        if (got <= 0) {
            return false;
        }
        if (EVP_DigestUpdate(md, buf, (size_t)got) != 1) {
            return false;
        }
        from += (uint64_t)got;
        n -= (uint64_t)got;
    }
    return true;
}

bool wd_input_digest(const char *path, uint64_t offset, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    unsigned char off_le[8];
    bool ok = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (fd < 0 || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    for (int i = 0; i < 8; i++) {
        off_le[i] = (unsigned char)(offset >> (8 * i));
    }
    uint64_t head = offset < HEAD_BYTES ? offset : HEAD_BYTES;
    uint64_t tail = offset < TAIL_BYTES ? offset : TAIL_BYTES;
    if (EVP_DigestUpdate(md, off_le, sizeof off_le) != 1 || !digest_range(md, fd, 0, head) ||
        !digest_range(md, fd, offset - tail, tail) || EVP_DigestFinal_ex(md, d, &dn) != 1 ||
        dn != 32) {
        goto out;
    }
    to_hex(d, out);
    out[64] = '\0';
    ok = true;
out:
    EVP_MD_CTX_free(md);
    if (fd >= 0) {
        (void)close(fd);
    }
    return ok;
}
