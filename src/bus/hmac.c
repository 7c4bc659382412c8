/*
 * HMAC-SHA256 through OpenSSL (Debian's libssl-dev). Signatures are
 * compared with CRYPTO_memcmp so that timing reveals nothing about how much
 * of a forged signature was right.
 */
/* SHA256_Init/Update/Final: see struct cached_key. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

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

bool wd_sha256_hex(const void *msg, size_t len, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(msg, len, d, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        return false;
    }
    to_hex(d, out);
    out[64] = '\0';
    return true;
}

#define CACHE_KEYS 64
#define SHA256_BLOCK 64

/* A key's HMAC midstates: SHA-256 after the (key ^ ipad) block and after
 * the (key ^ opad) block (RFC 2104). A verification copies them (plain
 * structs: no allocation, no lock) and hashes only the message and the
 * inner digest. The low-level SHA256_* functions are deprecated since
 * OpenSSL 3.0 but still provided; EVP offers no copyable state without
 * an allocation per copy, which is what this avoids (docs/PERFORMANCE.md). */
struct cached_key {
    uint8_t *key; /* a copy: the entry is found by content, not address */
    size_t len;
    SHA256_CTX inner, outer;
};

struct wd_hmac_cache {
    struct cached_key k[CACHE_KEYS];
    size_t n;
};

struct wd_hmac_cache *wd_hmac_cache_new(void) { return calloc(1, sizeof(struct wd_hmac_cache)); }

void wd_hmac_cache_free(struct wd_hmac_cache *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        OPENSSL_clear_free(c->k[i].key, c->k[i].len);
    }
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

/* The entry for key, made on first use; NULL when the cache is full or
 * the library fails (the caller then computes one-shot). */
static const struct cached_key *cache_key(struct wd_hmac_cache *c, const uint8_t *key,
                                          size_t key_len)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->k[i].len == key_len && memcmp(c->k[i].key, key, key_len) == 0) {
            return &c->k[i];
        }
    }
    if (c->n == CACHE_KEYS || key_len == 0) {
        return NULL;
    }
    struct cached_key *k = &c->k[c->n];
    unsigned char block[SHA256_BLOCK] = {0}, ipad[SHA256_BLOCK], opad[SHA256_BLOCK];
    /* A key longer than a block is hashed first (RFC 2104). */
    if (key_len > SHA256_BLOCK) {
        if (SHA256(key, key_len, block) == NULL) {
            return NULL;
        }
    } else {
        memcpy(block, key, key_len);
    }
    for (int i = 0; i < SHA256_BLOCK; i++) {
        ipad[i] = (unsigned char)(block[i] ^ 0x36);
        opad[i] = (unsigned char)(block[i] ^ 0x5c);
    }
    bool ok = (k->key = OPENSSL_malloc(key_len)) != NULL && SHA256_Init(&k->inner) == 1 &&
              SHA256_Update(&k->inner, ipad, sizeof ipad) == 1 && SHA256_Init(&k->outer) == 1 &&
              SHA256_Update(&k->outer, opad, sizeof opad) == 1;
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
    if (!ok) {
        OPENSSL_free(k->key);
        OPENSSL_cleanse(k, sizeof *k);
        return NULL;
    }
    memcpy(k->key, key, key_len);
    k->len = key_len;
    c->n++;
    return k;
}

/* HMAC from a key's midstates. */
static bool cached_mac(const struct cached_key *k, const char *msg, size_t msg_len,
                       unsigned char out[32])
{
    unsigned char inner[32];
    SHA256_CTX w = k->inner;
    bool ok = SHA256_Update(&w, msg, msg_len) == 1 && SHA256_Final(inner, &w) == 1;
    w = k->outer;
    ok = ok && SHA256_Update(&w, inner, sizeof inner) == 1 && SHA256_Final(out, &w) == 1;
    OPENSSL_cleanse(&w, sizeof w);
    return ok;
}

/* Lowercase hex digit values plus one, 0 for anything else: a table,
 * because the digits of a signature are random and branches on them
 * mispredict. */
static const uint8_t hex_value1[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

bool wd_hmac_sha256_verify(void *ctx, const uint8_t *key, size_t key_len, const char *msg,
                           size_t msg_len, const char *sig_hex, size_t sig_len)
{
    unsigned char d[32], sig[32];
    if (sig_len != 64) {
        return false;
    }
    /* The signature as bytes (it is the sender's, not a secret). */
    unsigned bad = 0;
    for (int i = 0; i < 32; i++) {
        unsigned hi = hex_value1[(unsigned char)sig_hex[2 * i]];
        unsigned lo = hex_value1[(unsigned char)sig_hex[2 * i + 1]];
        bad |= (unsigned)(hi == 0) | (unsigned)(lo == 0);
        sig[i] = (unsigned char)((hi - 1u) << 4 | ((lo - 1u) & 15u));
    }
    if (bad != 0) {
        return false;
    }
    const struct cached_key *k = ctx != NULL ? cache_key(ctx, key, key_len) : NULL;
    if (k != NULL ? !cached_mac(k, msg, msg_len, d) : !mac(key, key_len, msg, msg_len, d)) {
        return false;
    }
    return CRYPTO_memcmp(d, sig, sizeof d) == 0;
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
