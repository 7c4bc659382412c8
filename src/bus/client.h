/*
 * The HTTP client of the API (issue 6, point 5): one JSON request to a
 * running warden over libcurl, for the CLI's --url / WARDEN_URL mode.
 * Timeouts (connect 5 s, total 30 s), `Authorization: Bearer`, JSON in and
 * out, a bounded response. Error messages name the URL, never the token.
 */
#ifndef WD_BUS_CLIENT_H
#define WD_BUS_CLIENT_H

#include <stddef.h>

#include "warden/status.h"

#define WD_CLIENT_CONNECT_TIMEOUT_S 5L
#define WD_CLIENT_TIMEOUT_S 30L
/* Larger responses are refused (WD_EFULL). */
#define WD_CLIENT_BODY_MAX (8u * 1024u * 1024u)

/* Sends method ("GET"/"POST") to url_base + path (url_base such as
 * "http://127.0.0.1:3000", a trailing '/' ignored; path "/api/v1/status")
 * with token as the bearer token (NULL: no Authorization header) and
 * json_body (NULL: none; a POST then sends an empty body). On WD_OK,
 * *status is the HTTP status (any: 4xx/5xx are the caller's to read) and
 * *body the response from malloc, NUL-terminated (*body_len bytes);
 * free it. WD_EIO: no answer (connection refused, timeout, ...), the
 * message naming the URL; WD_EFULL: an answer over WD_CLIENT_BODY_MAX;
 * WD_EINVAL: a URL that is not http(s)://. */
enum wd_status wd_client_request(const char *url_base, const char *token, const char *method,
                                 const char *path, const char *json_body, long *status,
                                 char **body, size_t *body_len, struct wd_error *err);

#endif /* WD_BUS_CLIENT_H */
