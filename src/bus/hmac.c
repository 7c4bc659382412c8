/*
 * HMAC-SHA256 through OpenSSL (Debian's libssl-dev). Signatures are
 * compared with CRYPTO_memcmp so that timing reveals nothing about how much
 * of a forged signature was right.
 */
#include <fcntl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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

bool wd_hmac_sha256_hex(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                        char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[32];
    if (!mac(key, key_len, msg, msg_len, d)) {
        return false;
    }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    return true;
}

bool wd_hmac_sha256_verify(void *ctx, const uint8_t *key, size_t key_len, const char *msg,
                           size_t msg_len, const char *sig_hex, size_t sig_len)
{
    char want[65];
    (void)ctx;
    if (sig_len != 64 || !wd_hmac_sha256_hex(key, key_len, msg, msg_len, want)) {
        return false;
    }
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
    static const char hex[] = "0123456789abcdef";
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
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
    ok = true;
out:
    EVP_MD_CTX_free(md);
    if (fd >= 0) {
        (void)close(fd);
    }
    return ok;
}
