/*
 * HMAC-SHA256 for intent signatures, with OpenSSL's libcrypto: the adapter
 * behind the core's wd_hmac_verify_fn (include/warden/engine.h).
 */
#ifndef WD_BUS_HMAC_H
#define WD_BUS_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keyed HMAC contexts kept across calls, one per key (a handful: one per
 * signing source). Keyed once, each verification re-uses its context,
 * which costs a fifth of a one-shot HMAC. Not thread-safe: one per engine. */
struct wd_hmac_cache;

struct wd_hmac_cache *wd_hmac_cache_new(void);
void wd_hmac_cache_free(struct wd_hmac_cache *c);

/* true when sig_hex (64 lowercase hex digits) is HMAC-SHA256(key, msg).
 * Constant time in the signature's content. ctx: a struct wd_hmac_cache,
 * or NULL for a one-shot computation. */
bool wd_hmac_sha256_verify(void *ctx, const uint8_t *key, size_t key_len, const char *msg,
                           size_t msg_len, const char *sig_hex, size_t sig_len);

/* Writes SHA-256(msg) as 64 lowercase hex digits and a NUL into out (as
 * sha256sum prints it). Returns false on a library failure. */
bool wd_sha256_hex(const void *msg, size_t len, char out[65]);

/* Writes HMAC-SHA256(key, msg) as 64 lowercase hex digits and a NUL into
 * out (at least 65 bytes). Returns false on a library failure. */
bool wd_hmac_sha256_hex(const uint8_t *key, size_t key_len, const char *msg, size_t msg_len,
                        char out[65]);

/* Identity of the first `offset` bytes of the file at path: hex SHA-256
 * over the offset itself, the first min(offset, 1 MiB) bytes and the last
 * min(offset, 64 KiB) bytes before offset. Cheap enough to compute at
 * every snapshot, strong enough to tell a different or rewritten input.
 * Returns false if the file cannot be read that far. */
bool wd_input_digest(const char *path, uint64_t offset, char out[65]);
#endif /* WD_BUS_HMAC_H */
