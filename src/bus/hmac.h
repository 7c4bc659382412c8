/*
 * HMAC-SHA256 for intent signatures, with OpenSSL's libcrypto: the adapter
 * behind the core's wd_hmac_verify_fn (include/warden/engine.h).
 */
#ifndef WD_BUS_HMAC_H
#define WD_BUS_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true when sig_hex (64 lowercase hex digits) is HMAC-SHA256(key, msg).
 * Constant time in the signature's content. ctx is unused. */
bool wd_hmac_sha256_verify(void *ctx, const uint8_t *key, size_t key_len, const char *msg,
                           size_t msg_len, const char *sig_hex, size_t sig_len);

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
