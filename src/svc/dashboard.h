/*
 * The incident dashboard (issue 6, point 6): one self-contained HTML page
 * (its CSS and script inline, no external reference) served at /incidents
 * and /incidents/{id} by the API's server. The page needs no token to load:
 * it asks for one, keeps it in the browser's sessionStorage and calls the
 * JSON API (/api/v1/) with it, so every read and action is checked there.
 * The page's source is src/svc/dashboard.html, embedded at build time
 * (scripts/embed.cmake). docs/RUN.md, "Dashboard".
 */
#ifndef WD_SVC_DASHBOARD_H
#define WD_SVC_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>

/* Whether method and path (with an optional query) ask for the dashboard:
 * GET or HEAD of /incidents, /incidents/ or /incidents/{id}. */
bool wd_dashboard_match(const char *method, const char *path);

/* The page: static, NUL-terminated; *len its length without the NUL. */
const char *wd_dashboard_page(size_t *len);

/* The Content-Type to send with it. */
#define WD_DASHBOARD_CONTENT_TYPE "text/html; charset=utf-8"

#endif /* WD_SVC_DASHBOARD_H */
