/*
 * The API client on libcurl (client.h). One easy handle a request: the
 * CLI makes one request a run, so there is nothing to pool.
 */
#include "bus/client.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct sink {
    char *buf;
    size_t len, cap;
    bool over;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    struct sink *s = ctx;
    size_t n = size * nmemb;
    if (s->len + n > WD_CLIENT_BODY_MAX) {
        s->over = true;
        return 0; /* aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096u;
        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        char *b = realloc(s->buf, cap);
        if (b == NULL) {
            return 0;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

/* The length of url_base without trailing slashes. */
static size_t base_len(const char *url_base)
{
    size_t n = strlen(url_base);
    while (n > 0 && url_base[n - 1] == '/') {
        n--;
    }
    return n;
}

enum wd_status wd_client_request(const char *url_base, const char *token, const char *method,
                                 const char *path, const char *json_body, long *status,
                                 char **body, size_t *body_len, struct wd_error *err)
{
    static bool global_done;
    struct sink s = {0};
    struct curl_slist *hdr = NULL;
    char url[2048], auth[640], curl_err[CURL_ERROR_SIZE] = "";
    enum wd_status st = WD_OK;
    *status = 0;
    *body = NULL;
    *body_len = 0;
    size_t bl = base_len(url_base);
    if (strncasecmp(url_base, "http://", 7) != 0 && strncasecmp(url_base, "https://", 8) != 0) {
        return wd_error_set(err, WD_EINVAL, "URL '%.*s': expected http://HOST:PORT", (int)bl,
                            url_base);
    }
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", (int)bl, url_base, path) >= sizeof url) {
        return wd_error_set(err, WD_EINVAL, "URL too long");
    }
    if (token != NULL && (size_t)snprintf(auth, sizeof auth, "Authorization: Bearer %s", token) >=
                             sizeof auth) {
        return wd_error_set(err, WD_EINVAL, "the token is too long (over %zu bytes)",
                            sizeof auth - 30u);
    }
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return wd_error_set(err, WD_EIO, "libcurl: cannot initialise");
        }
        global_done = true;
    }
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return wd_error_set(err, WD_ENOMEM, "libcurl: out of memory");
    }
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (json_body != NULL) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    }
    if (token != NULL) {
        hdr = curl_slist_append(hdr, auth);
    }
    bool post = strcmp(method, "POST") == 0;
    bool ok = hdr != NULL &&
              curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, WD_CLIENT_CONNECT_TIMEOUT_S) ==
                  CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_TIMEOUT, WD_CLIENT_TIMEOUT_S) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                               (curl_off_t)WD_CLIENT_BODY_MAX) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_WRITEDATA, &s) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err) == CURLE_OK &&
              curl_easy_setopt(c, CURLOPT_USERAGENT, "warden-cli") == CURLE_OK;
    if (ok && post) {
        const char *b = json_body != NULL ? json_body : "";
        ok = curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_POSTFIELDS, b) == CURLE_OK &&
             curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(b)) == CURLE_OK;
    } else if (ok && strcmp(method, "GET") != 0) {
        ok = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK;
    }
    if (!ok) {
        st = wd_error_set(err, WD_ENOMEM, "libcurl: cannot set up the request");
        goto out;
    }
    CURLcode rc = curl_easy_perform(c);
    if (s.over || rc == CURLE_FILESIZE_EXCEEDED) {
        st = wd_error_set(err, WD_EFULL, "%s %.*s%s: the answer is larger than %u bytes",
                          method, (int)bl, url_base, path, WD_CLIENT_BODY_MAX);
        goto out;
    }
    if (rc != CURLE_OK) {
        /* curl's own message names the host and port, never the headers. */
        st = wd_error_set(err, WD_EIO, "%s %.*s%s: %s", method, (int)bl, url_base, path,
                          curl_err[0] ? curl_err : curl_easy_strerror(rc));
        goto out;
    }
    (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (s.buf == NULL && (s.buf = calloc(1, 1)) == NULL) {
        st = wd_error_set(err, WD_ENOMEM, "out of memory");
        goto out;
    }
    *body = s.buf;
    *body_len = s.len;
    s.buf = NULL;
out:
    free(s.buf);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    /* The Authorization header's copy of the token, not left on the stack. */
    memset(auth, 0, sizeof auth);
    return st;
}
